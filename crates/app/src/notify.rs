//! Notifications: a message to the customer on every change of their case that they did not make themselves —
//! the case received, an agent's reply, more information needed, a status change, the case solved (with a
//! satisfaction link), and a chat's transcript when it ends. Each is shown in the customer's inbox (站内信:
//! portal, widget, and `GET /api/v1/notifications` for the exchange's app) and, unless the customer turned that
//! kind off, mailed to a verified address.
//!
//! The chain: the store's outbox rule ([`outbox_rule`]) sees what a write appended and, in the same transaction,
//! enqueues one `notify` job per write that should tell the customer something; the job ([`run`]) renders the
//! template in the customer's language (admins edit them in the console; the built-in texts are below), writes
//! the notification once per cause, then mails it. A job that runs again after a crash finds the notification
//! written and sends the same mail (the same Message-ID), so the customer's mail client shows it once.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob};
use crate::{Actor, App, AppError, AppResult};
use lettre::Message as Mail;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lifebuoy_domain::{AppealStatus, Event, Lang, Party, Priority, Role, Status};
use lifebuoy_store::{Conversation, Entry, NewNotification, Notification};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The job kind that writes and mails one notification.
pub const JOB: &str = "notify";

lifebuoy_domain::wire_enum! {
    /// What a notification tells.
    Kind, "notification kind" {
        Received = "received", Replied = "replied", MoreInfo = "more_info", StatusChanged = "status_changed",
        Solved = "solved", Transcript = "transcript", Appeal = "appeal"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct NotifyJob {
    conversation: String,
    /// The last sequence number of the write: with the conversation, the notification's cause.
    seq: i64,
    kind: Kind,
    /// The staff message the write carried (a reply), if any.
    #[serde(default)]
    message: Option<String>,
    /// The status the write moved the case to, if it did.
    #[serde(default)]
    status: Option<Status>,
    /// An appeal's notice: the party it is for (each gets one), the appeal's status after the write, and what
    /// to tell beside it (the reason, the decision and its rationale).
    #[serde(default)]
    party: Option<Party>,
    #[serde(default)]
    appeal_status: Option<AppealStatus>,
    #[serde(default)]
    note: Option<String>,
}

/// The outbox rule: at most one notification per write, for changes the customer did not make. A reply that
/// also moves the case (to pending or solved) is one notification of that status, carrying the reply; a status
/// a reply moved on the way (new → open) is not news beyond the reply.
pub fn outbox_rule(c: &Conversation, entries: &[Entry]) -> Vec<NewJob> {
    // An order's conversation has two parties: its notices are the appeal's, one to each.
    if c.kind == "appeal" {
        return appeal_jobs(c, entries);
    }
    let Some(last) = entries.iter().map(Entry::seq).max() else { return Vec::new() };
    // A new case's first entry is its first message, at sequence 1 (no `created` event is written).
    let created = entries.iter().any(|e| e.seq() == 1);
    let mut reply: Option<&str> = None;
    let mut status: Option<(Status, bool)> = None;
    let mut merged = false;
    let mut chat_ended = false;
    for e in entries {
        match e {
            Entry::Message { id, internal: false, author, .. } if !matches!(*author, "customer" | "bot") => {
                reply = Some(id)
            }
            Entry::Event { event, by, internal: false, .. } => match event {
                lifebuoy_domain::Event::StatusChanged { to, by_reply, .. } if *by != "customer" => {
                    status = Some((*to, by_reply.unwrap_or(false)))
                }
                lifebuoy_domain::Event::MergedInto { .. } if *by != "customer" => merged = true,
                lifebuoy_domain::Event::ChatEnded => chat_ended = true,
                _ => {}
            },
            _ => {}
        }
    }
    let kind = if c.kind == "chat" {
        if !chat_ended {
            return Vec::new();
        }
        Kind::Transcript
    } else if created {
        Kind::Received
    } else {
        match (status, reply) {
            (Some((Status::Pending, _)), _) => Kind::MoreInfo,
            (Some((Status::Solved, _)), _) => Kind::Solved,
            // Moved by the reply itself (new → open when an agent answers): the reply is the news.
            (Some((_, true)), Some(_)) => Kind::Replied,
            (Some(_), _) => Kind::StatusChanged,
            (None, Some(_)) => Kind::Replied,
            (None, None) if merged => Kind::StatusChanged,
            (None, None) => return Vec::new(),
        }
    };
    let job = NotifyJob {
        conversation: c.id.clone(),
        seq: last,
        kind,
        message: reply.map(str::to_string),
        status: status.map(|s| s.0),
        party: None,
        appeal_status: None,
        note: None,
    };
    match serde_json::to_value(&job) {
        Ok(payload) => vec![NewJob::new(JOB, &payload).key(format!("notify-{}-{last}", c.id))],
        Err(e) => {
            tracing::error!(error = %e, "a notify job does not serialise");
            Vec::new()
        }
    }
}

/// An appeal's notices: one for each party when a write moved the appeal in a way both must know (opened,
/// evidence asked for, decided, carried out, closed, withdrawn). Moves back to review and proposals awaiting a
/// second arbiter are the desk's business.
fn appeal_jobs(c: &Conversation, entries: &[Entry]) -> Vec<NewJob> {
    let Some(last) = entries.iter().map(Entry::seq).max() else { return Vec::new() };
    let mut found: Option<(AppealStatus, Option<String>)> = None;
    let mut message = None;
    for e in entries {
        match e {
            Entry::Message { id, internal: false, author: "agent", .. } => message = Some(id.clone()),
            Entry::Event { event, internal: false, .. } => match event {
                Event::AppealOpened { reason, .. } => {
                    found = Some((AppealStatus::Submitted, Some(reason.as_str().into())))
                }
                Event::AppealStatusChanged { to, .. }
                    if matches!(
                        to,
                        AppealStatus::AwaitingEvidence
                            | AppealStatus::Executed
                            | AppealStatus::Closed
                            | AppealStatus::Withdrawn
                    ) && found.as_ref().is_none_or(|f| f.0 != AppealStatus::Decided) =>
                {
                    found = Some((*to, None))
                }
                Event::AppealDecided { decision, rationale, .. } => {
                    found = Some((AppealStatus::Decided, Some(format!("{}\n{rationale}", decision.as_str()))))
                }
                _ => {}
            },
            _ => {}
        }
    }
    let Some((appeal_status, note)) = found else { return Vec::new() };
    [Party::Buyer, Party::Seller]
        .into_iter()
        .filter_map(|party| {
            let job = NotifyJob {
                conversation: c.id.clone(),
                seq: last,
                kind: Kind::Appeal,
                message: message.clone(),
                status: None,
                party: Some(party),
                appeal_status: Some(appeal_status),
                note: note.clone(),
            };
            let payload = serde_json::to_value(&job).ok()?;
            Some(NewJob::new(JOB, &payload).key(format!("notify-{}-{last}-{party}", c.id)))
        })
        .collect()
}

/// An appeal's status as its parties read it (a proposal awaiting approval is still "in review" to them).
pub fn appeal_status_label(lang: Lang, s: AppealStatus) -> &'static str {
    use AppealStatus::*;
    match (lang, s) {
        (Lang::ZhHans, Submitted) | (Lang::ZhHant, Submitted) => "已提交",
        (Lang::ZhHans, InReview | AwaitingApproval) | (Lang::ZhHant, InReview | AwaitingApproval) => "仲裁中",
        (Lang::ZhHans, AwaitingEvidence) => "待补充证据",
        (Lang::ZhHant, AwaitingEvidence) => "待補充證據",
        (Lang::ZhHans, Decided) => "已裁决",
        (Lang::ZhHant, Decided) => "已裁決",
        (Lang::ZhHans, Executed) => "已执行",
        (Lang::ZhHant, Executed) => "已執行",
        (Lang::ZhHans, Closed) => "已结案",
        (Lang::ZhHant, Closed) => "已結案",
        (Lang::ZhHans, Withdrawn) => "已撤销",
        (Lang::ZhHant, Withdrawn) => "已撤銷",
        (Lang::En, Submitted) => "Submitted",
        (Lang::En, InReview | AwaitingApproval) => "In review",
        (Lang::En, AwaitingEvidence) => "Evidence requested",
        (Lang::En, Decided) => "Decided",
        (Lang::En, Executed) => "Carried out",
        (Lang::En, Closed) => "Closed",
        (Lang::En, Withdrawn) => "Withdrawn",
    }
}

/// A decision or an appeal reason in the parties' words.
pub fn appeal_word(lang: Lang, word: &str) -> &str {
    match (lang, word) {
        (Lang::ZhHans, "release_to_buyer") => "裁决：放币给买家",
        (Lang::ZhHant, "release_to_buyer") => "裁決：放幣給買家",
        (Lang::En, "release_to_buyer") => "Decision: the coins are released to the buyer",
        (Lang::ZhHans, "return_to_seller") => "裁决：币退回卖家",
        (Lang::ZhHant, "return_to_seller") => "裁決：幣退回賣家",
        (Lang::En, "return_to_seller") => "Decision: the coins go back to the seller",
        (Lang::ZhHans, "cancel") => "裁决：取消交易",
        (Lang::ZhHant, "cancel") => "裁決：取消交易",
        (Lang::En, "cancel") => "Decision: the trade is cancelled",
        (Lang::ZhHans, "paid_not_released") => "申诉原因：已付款，卖家未放币",
        (Lang::ZhHant, "paid_not_released") => "申訴原因：已付款，賣家未放幣",
        (Lang::En, "paid_not_released") => "Reason: paid, but the seller has not released",
        (Lang::ZhHans, "released_not_paid") => "申诉原因：已放币，未收到付款",
        (Lang::ZhHant, "released_not_paid") => "申訴原因：已放幣，未收到付款",
        (Lang::En, "released_not_paid") => "Reason: released, but the payment never came",
        (Lang::ZhHans, "wrong_amount") => "申诉原因：付款金额不符",
        (Lang::ZhHant, "wrong_amount") => "申訴原因：付款金額不符",
        (Lang::En, "wrong_amount") => "Reason: the amount paid is wrong",
        (Lang::ZhHans, "third_party_payment") => "申诉原因：第三方账户付款",
        (Lang::ZhHant, "third_party_payment") => "申訴原因：第三方帳戶付款",
        (Lang::En, "third_party_payment") => "Reason: paid from a third party's account",
        (Lang::ZhHans, "account_frozen") => "申诉原因：银行账户被冻结",
        (Lang::ZhHant, "account_frozen") => "申訴原因：銀行帳戶遭凍結",
        (Lang::En, "account_frozen") => "Reason: a bank account was frozen",
        (Lang::ZhHans, "other") => "申诉原因：其他",
        (Lang::ZhHant, "other") => "申訴原因：其他",
        (Lang::En, "other") => "Reason: other",
        (_, w) => w,
    }
}

/// What a template may use.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateVars {
    pub customer_name: Option<String>,
    pub case_number: String,
    pub subject: String,
    /// The case's status, as the customer's language says it.
    pub status: String,
    /// The agent's reply, if the change carried one.
    pub reply: Option<String>,
    /// How soon support answers a new case, as the customer's language says it.
    pub expected_response: String,
    /// Where the customer sees the case.
    pub link: String,
    /// One-click satisfaction links (solved cases): `{score, label, url}`.
    pub rating: Vec<Value>,
    /// A chat's transcript (chat ended).
    pub transcript: Option<String>,
}

/// A template's text: subject and body, both minijinja.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    pub kind: Kind,
    pub lang: Lang,
    pub subject: String,
    pub body: String,
    /// Whether an admin edited it (else the built-in text).
    pub edited: bool,
    pub updated_by: Option<String>,
    pub updated_at: Option<i64>,
}

/// The customer-facing name of a status (as the portal shows it).
pub fn status_label(lang: Lang, s: Status) -> &'static str {
    match (lang, s) {
        (Lang::ZhHans, Status::New) | (Lang::ZhHant, Status::New) => "已提交",
        (Lang::ZhHans, Status::Open) => "处理中",
        (Lang::ZhHans, Status::Pending) => "待您回复",
        (Lang::ZhHans, Status::OnHold) => "等待其他部门",
        (Lang::ZhHans, Status::Solved) => "已解决",
        (Lang::ZhHans, Status::Closed) => "已关闭",
        (Lang::ZhHant, Status::Open) => "處理中",
        (Lang::ZhHant, Status::Pending) => "待您回覆",
        (Lang::ZhHant, Status::OnHold) => "等待其他部門",
        (Lang::ZhHant, Status::Solved) => "已解決",
        (Lang::ZhHant, Status::Closed) => "已關閉",
        (Lang::En, Status::New) => "New",
        (Lang::En, Status::Open) => "Open",
        (Lang::En, Status::Pending) => "Awaiting your reply",
        (Lang::En, Status::OnHold) => "On hold",
        (Lang::En, Status::Solved) => "Solved",
        (Lang::En, Status::Closed) => "Closed",
    }
}

/// How soon support answers a case of this priority (until SLA policies say otherwise), in words.
pub fn expected_response(lang: Lang, p: Priority) -> &'static str {
    match (lang, p) {
        (Lang::ZhHans, Priority::Urgent) | (Lang::ZhHant, Priority::Urgent) => "1 小时",
        (Lang::ZhHans, Priority::High) => "4 小时",
        (Lang::ZhHant, Priority::High) => "4 小時",
        (Lang::ZhHans, Priority::Normal) => "24 小时",
        (Lang::ZhHant, Priority::Normal) => "24 小時",
        (Lang::ZhHans, Priority::Low) | (Lang::ZhHant, Priority::Low) => "2 个工作日",
        (Lang::En, Priority::Urgent) => "1 hour",
        (Lang::En, Priority::High) => "4 hours",
        (Lang::En, Priority::Normal) => "24 hours",
        (Lang::En, Priority::Low) => "2 business days",
    }
}

/// The built-in texts (subject, body) of each kind and language.
pub fn builtin(kind: Kind, lang: Lang) -> (&'static str, &'static str) {
    use Kind::*;
    use Lang::*;
    match (kind, lang) {
        (Received, ZhHans) => (
            "[{{ case_number }}] 我们已收到您的工单：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n我们已收到您的工单，工单编号为 {{ case_number }}。\n\
             主题：{{ subject }}\n\n客服将在 {{ expected_response }}内回复您。如需补充信息或截图，直接回复本邮件即可，也可以在客服中心查看进度：\n{{ link }}",
        ),
        (Received, ZhHant) => (
            "[{{ case_number }}] 我們已收到您的工單：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n我們已收到您的工單，工單編號為 {{ case_number }}。\n\
             主旨：{{ subject }}\n\n客服將在 {{ expected_response }}內回覆您。如需補充資訊或截圖，直接回覆本郵件即可，也可以在客服中心查看進度：\n{{ link }}",
        ),
        (Received, En) => (
            "[{{ case_number }}] We have received your request: {{ subject }}",
            "Hello{% if customer_name %} {{ customer_name }}{% endif %},\n\nWe have received your request. Your case number is \
             {{ case_number }}.\nSubject: {{ subject }}\n\nOur support team will reply within {{ expected_response }}. To add \
             details or screenshots, simply reply to this email, or follow your case here:\n{{ link }}",
        ),
        (Replied, ZhHans) => (
            "[{{ case_number }}] 客服回复了您的工单：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n客服回复了您的工单 {{ case_number }}：\n\n{{ reply }}\n\n\
             直接回复本邮件即可继续沟通，也可以在客服中心查看完整记录：\n{{ link }}",
        ),
        (Replied, ZhHant) => (
            "[{{ case_number }}] 客服回覆了您的工單：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n客服回覆了您的工單 {{ case_number }}：\n\n{{ reply }}\n\n\
             直接回覆本郵件即可繼續溝通，也可以在客服中心查看完整紀錄：\n{{ link }}",
        ),
        (Replied, En) => (
            "[{{ case_number }}] Support replied to your request: {{ subject }}",
            "Hello{% if customer_name %} {{ customer_name }}{% endif %},\n\nSupport replied to your case {{ case_number }}:\n\n\
             {{ reply }}\n\nReply to this email to continue, or see the whole conversation here:\n{{ link }}",
        ),
        (MoreInfo, ZhHans) => (
            "[{{ case_number }}] 需要您补充信息：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n为了继续处理您的工单 {{ case_number }}，我们需要您补充一些信息。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n请直接回复本邮件，或在客服中心补充：\n{{ link }}",
        ),
        (MoreInfo, ZhHant) => (
            "[{{ case_number }}] 需要您補充資訊：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n為了繼續處理您的工單 {{ case_number }}，我們需要您補充一些資訊。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n請直接回覆本郵件，或至客服中心補充：\n{{ link }}",
        ),
        (MoreInfo, En) => (
            "[{{ case_number }}] We need more information: {{ subject }}",
            "Hello{% if customer_name %} {{ customer_name }}{% endif %},\n\nTo continue with your case {{ case_number }}, we need \
             a little more information from you.{% if reply %}\n\n{{ reply }}{% endif %}\n\nPlease reply to this email, or add \
             it here:\n{{ link }}",
        ),
        (StatusChanged, ZhHans) => (
            "[{{ case_number }}] 工单状态更新为「{{ status }}」：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n您的工单 {{ case_number }}（{{ subject }}）状态已更新为「{{ status }}」。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n查看详情：\n{{ link }}",
        ),
        (StatusChanged, ZhHant) => (
            "[{{ case_number }}] 工單狀態更新為「{{ status }}」：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n您的工單 {{ case_number }}（{{ subject }}）狀態已更新為「{{ status }}」。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n查看詳情：\n{{ link }}",
        ),
        (StatusChanged, En) => (
            "[{{ case_number }}] Your request is now \u{201c}{{ status }}\u{201d}: {{ subject }}",
            "Hello{% if customer_name %} {{ customer_name }}{% endif %},\n\nThe status of your case {{ case_number }} \
             ({{ subject }}) is now \u{201c}{{ status }}\u{201d}.{% if reply %}\n\n{{ reply }}{% endif %}\n\nSee the details here:\n{{ link }}",
        ),
        (Solved, ZhHans) => (
            "[{{ case_number }}] 您的工单已解决：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n您的工单 {{ case_number }} 已处理完毕，状态为「已解决」。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n您对本次服务满意吗？点击下面的分数即可评价：\n\
             {% for r in rating %}{{ r.label }}：{{ r.url }}\n{% endfor %}\n如果问题仍未解决，直接回复本邮件，工单会重新打开。",
        ),
        (Solved, ZhHant) => (
            "[{{ case_number }}] 您的工單已解決：{{ subject }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n您的工單 {{ case_number }} 已處理完畢，狀態為「已解決」。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n您對本次服務滿意嗎？點選下方的分數即可評價：\n\
             {% for r in rating %}{{ r.label }}：{{ r.url }}\n{% endfor %}\n如果問題仍未解決，直接回覆本郵件，工單會重新開啟。",
        ),
        (Solved, En) => (
            "[{{ case_number }}] Your request has been solved: {{ subject }}",
            "Hello{% if customer_name %} {{ customer_name }}{% endif %},\n\nYour case {{ case_number }} has been solved.\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\nHow did we do? Click a score to rate our support:\n\
             {% for r in rating %}{{ r.label }}: {{ r.url }}\n{% endfor %}\nIf your problem is not solved, reply to this email \
             and the case will reopen.",
        ),
        (Transcript, ZhHans) => (
            "在线咨询 {{ case_number }} 的聊天记录",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n感谢您联系我们。以下是本次在线咨询的聊天记录，请妥善保存，\
             日后如有争议可作为凭证。\n\n{{ transcript }}\n如需继续咨询，请访问：\n{{ link }}",
        ),
        (Transcript, ZhHant) => (
            "線上諮詢 {{ case_number }} 的聊天紀錄",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n感謝您聯絡我們。以下是本次線上諮詢的聊天紀錄，請妥善保存，\
             日後如有爭議可作為憑證。\n\n{{ transcript }}\n如需繼續諮詢，請造訪：\n{{ link }}",
        ),
        (Appeal, ZhHans) => (
            "[{{ case_number }}] C2C 订单申诉：{{ status }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n{{ subject }} 的申诉进度更新为「{{ status }}」。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n请只在平台内沟通和提交凭证，查看详情：\n{{ link }}",
        ),
        (Appeal, ZhHant) => (
            "[{{ case_number }}] C2C 訂單申訴：{{ status }}",
            "{% if customer_name %}{{ customer_name }}，{% endif %}您好：\n\n{{ subject }} 的申訴進度更新為「{{ status }}」。\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\n請只在平台內溝通並提交憑證，查看詳情：\n{{ link }}",
        ),
        (Appeal, En) => (
            "[{{ case_number }}] C2C order appeal: {{ status }}",
            "Hello{% if customer_name %} {{ customer_name }}{% endif %},\n\nThe appeal on {{ subject }} is now \u{201c}{{ status }}\u{201d}.\
             {% if reply %}\n\n{{ reply }}{% endif %}\n\nKeep the conversation and your proof on the platform. See the details here:\n{{ link }}",
        ),
        (Transcript, En) => (
            "Transcript of your chat {{ case_number }}",
            "Hello{% if customer_name %} {{ customer_name }}{% endif %},\n\nThank you for contacting us. Here is the transcript \
             of your chat; keep it, it is your record should anything be disputed later.\n\n{{ transcript }}\nTo continue, visit:\n{{ link }}",
        ),
    }
}

/// The labels of the five scores of a rating link.
fn score_label(lang: Lang, score: u8) -> &'static str {
    match (lang, score) {
        (Lang::ZhHans, 5) => "★★★★★ 非常满意",
        (Lang::ZhHans, 4) => "★★★★ 满意",
        (Lang::ZhHans, 3) => "★★★ 一般",
        (Lang::ZhHans, 2) => "★★ 不满意",
        (Lang::ZhHans, _) => "★ 非常不满意",
        (Lang::ZhHant, 5) => "★★★★★ 非常滿意",
        (Lang::ZhHant, 4) => "★★★★ 滿意",
        (Lang::ZhHant, 3) => "★★★ 普通",
        (Lang::ZhHant, 2) => "★★ 不滿意",
        (Lang::ZhHant, _) => "★ 非常不滿意",
        (Lang::En, 5) => "★★★★★ Very satisfied",
        (Lang::En, 4) => "★★★★ Satisfied",
        (Lang::En, 3) => "★★★ Neutral",
        (Lang::En, 2) => "★★ Unsatisfied",
        (Lang::En, _) => "★ Very unsatisfied",
    }
}

/// The rating links of a notification (its id is the token: 122 random bits, good for rating one case).
pub fn rating_links(app: &App, lang: Lang, notification_id: &str) -> Vec<Value> {
    (1..=5u8)
        .rev()
        .map(|s| {
            json!({"score": s, "label": score_label(lang, s),
                   "url": format!("{}/portal/rate/{notification_id}?score={s}", app.public_url())})
        })
        .collect()
}

/// Sample data for previews in the console.
pub fn sample_vars(app: &App, lang: Lang) -> TemplateVars {
    let (name, subject, reply) = match lang {
        Lang::ZhHans => ("张三", "提现三小时未到账", "您好，您的提现已由风控审核通过，预计 30 分钟内到账。"),
        Lang::ZhHant => ("陳小明", "提領三小時未到帳", "您好，您的提領已通過風控審核，預計 30 分鐘內到帳。"),
        Lang::En => (
            "Alex",
            "Withdrawal pending for three hours",
            "Your withdrawal passed the risk review and will arrive within 30 minutes.",
        ),
    };
    TemplateVars {
        customer_name: Some(name.into()),
        case_number: "LB-20261130-0042".into(),
        subject: subject.into(),
        status: status_label(lang, Status::Open).into(),
        reply: Some(reply.into()),
        expected_response: expected_response(lang, Priority::Normal).into(),
        link: format!("{}/portal/tickets/sample", app.public_url()),
        rating: rating_links(app, lang, "sample"),
        transcript: Some(format!(
            "[2026-11-30 08:01:02 UTC] {name}: …\n[2026-11-30 08:01:40 UTC] 客服 Lily 1024: {reply}\n"
        )),
    }
}

/// The longest template text an admin may save, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 10_000;

/// Renders a template's subject and body with `vars`. A template that does not parse or render is an
/// [`AppError::Invalid`] naming the field and the line.
pub fn render(subject: &str, body: &str, vars: &TemplateVars) -> AppResult<(String, String)> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    let one = |field: &str, src: &str| -> AppResult<String> {
        let why = |e: minijinja::Error| {
            let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
            AppError::invalid(field, format!("{}{line}", e.detail().unwrap_or(&e.kind().to_string())))
        };
        let t = env.template_from_str(src).map_err(why)?;
        t.render(vars).map_err(why)
    };
    let subject = one("subject", subject)?.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let body = one("body", body)?;
    Ok((subject.trim().to_string(), body.trim_end().to_string()))
}

/// The template of a kind and language: the admin's, else the built-in one.
pub async fn template(app: &App, kind: Kind, lang: Lang) -> AppResult<Template> {
    Ok(match app.store.notification_template(kind.as_str(), lang.as_str()).await? {
        Some(t) => Template {
            kind,
            lang,
            subject: t.subject,
            body: t.body,
            edited: true,
            updated_by: t.updated_by,
            updated_at: Some(t.updated_at),
        },
        None => {
            let (subject, body) = builtin(kind, lang);
            Template {
                kind,
                lang,
                subject: subject.into(),
                body: body.into(),
                edited: false,
                updated_by: None,
                updated_at: None,
            }
        }
    })
}

fn require_admin(actor: &Actor) -> AppResult<&lifebuoy_store::Agent> {
    match actor {
        Actor::Agent(a) if a.role == Role::Admin => Ok(a),
        _ => Err(AppError::forbidden("admins only")),
    }
}

/// Every template (kind × language), for the console. Admins only.
pub async fn templates(app: &App, actor: &Actor) -> AppResult<Vec<Template>> {
    require_admin(actor)?;
    let mut out = Vec::new();
    for &kind in Kind::ALL {
        for lang in [Lang::ZhHans, Lang::ZhHant, Lang::En] {
            out.push(template(app, kind, lang).await?);
        }
    }
    Ok(out)
}

fn check_size(subject: &str, body: &str) -> AppResult<()> {
    if subject.trim().is_empty() {
        return Err(AppError::invalid("subject", "a subject is needed"));
    }
    if body.trim().is_empty() {
        return Err(AppError::invalid("body", "a body is needed"));
    }
    if subject.chars().count() > 500 || body.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(AppError::invalid("body", format!("at most {MAX_TEMPLATE_CHARS} characters")));
    }
    Ok(())
}

/// Renders an edited (unsaved) template with sample data. Admins only.
pub fn preview(app: &App, actor: &Actor, lang: Lang, subject: &str, body: &str) -> AppResult<(String, String)> {
    require_admin(actor)?;
    check_size(subject, body)?;
    render(subject, body, &sample_vars(app, lang))
}

/// Saves an edited template, once it renders with sample data. Admins only.
pub async fn save_template(
    app: &App,
    actor: &Actor,
    kind: Kind,
    lang: Lang,
    subject: &str,
    body: &str,
) -> AppResult<()> {
    let admin = require_admin(actor)?;
    check_size(subject, body)?;
    render(subject, body, &sample_vars(app, lang))?;
    app.store.put_notification_template(kind.as_str(), lang.as_str(), subject, body, &admin.id).await?;
    Ok(())
}

/// Puts a template back to its built-in text. Admins only.
pub async fn reset_template(app: &App, actor: &Actor, kind: Kind, lang: Lang) -> AppResult<bool> {
    require_admin(actor)?;
    Ok(app.store.delete_notification_template(kind.as_str(), lang.as_str()).await?)
}

/// The customer a notification use case is for: the customer acting, or — for the exchange's backend — the
/// customer it names by its own user id.
pub async fn for_customer(app: &App, actor: &Actor, external_id: Option<&str>) -> AppResult<lifebuoy_store::Customer> {
    match (actor, external_id) {
        (Actor::Customer(c), _) => Ok(c.clone()),
        (Actor::Integration { .. }, Some(ext)) => {
            app.store.exchange_customer(ext.trim()).await?.ok_or(AppError::NotFound)
        }
        (Actor::Integration { .. }, None) => {
            Err(AppError::invalid("customer", "name the customer (?customer=<user id>)"))
        }
        _ => Err(AppError::forbidden("a customer's own notifications")),
    }
}

/// A customer's inbox: notifications newest first, and the unread count.
pub async fn inbox(
    app: &App,
    customer: &lifebuoy_store::Customer,
    before: Option<i64>,
    limit: i64,
) -> AppResult<(Vec<Notification>, i64)> {
    Ok(app.store.notifications(&customer.id, before, limit).await?)
}

/// Marks notifications read (`None`: all of them). Returns how many changed, and how many are still unread.
pub async fn mark_read(
    app: &App,
    customer: &lifebuoy_store::Customer,
    ids: Option<&[String]>,
) -> AppResult<(u64, i64)> {
    let n = app.store.read_notifications(&customer.id, ids).await?;
    Ok((n, app.store.unread_notifications(&customer.id).await?))
}

/// Opens one of the customer's notifications: marks it read and returns it (another's answers not found).
pub async fn open(app: &App, customer: &lifebuoy_store::Customer, id: &str) -> AppResult<Notification> {
    let n = app.store.notification(id).await?.filter(|n| n.customer_id == customer.id).ok_or(AppError::NotFound)?;
    app.store.read_notifications(&customer.id, Some(std::slice::from_ref(&n.id))).await?;
    Ok(n)
}

/// What the rating page of a solved notification shows: the case number and the rating given so far.
pub async fn rating(app: &App, notification_id: &str) -> AppResult<(Conversation, Option<lifebuoy_store::CaseRating>)> {
    let n = app.store.notification(notification_id).await?.ok_or(AppError::NotFound)?;
    let Some(cid) = n.conversation_id.as_deref().filter(|_| n.kind == Kind::Solved.as_str()) else {
        return Err(AppError::NotFound);
    };
    let c = app.store.conversation(cid).await?.ok_or(AppError::NotFound)?;
    let rated = app.store.case_rating(cid).await?;
    Ok((c, rated))
}

/// Whether each kind also goes by mail, for a customer.
pub async fn prefs(app: &App, customer: &lifebuoy_store::Customer) -> AppResult<Vec<(Kind, bool)>> {
    let off = app.store.notification_prefs(&customer.id).await?;
    Ok(Kind::ALL
        .iter()
        .map(|k| (*k, off.iter().find(|(kind, _)| kind == k.as_str()).map(|(_, e)| *e).unwrap_or(true)))
        .collect())
}

/// Sets whether a kind also goes by mail.
pub async fn set_pref(app: &App, customer: &lifebuoy_store::Customer, kind: Kind, email: bool) -> AppResult<()> {
    Ok(app.store.set_notification_pref(&customer.id, kind.as_str(), email).await?)
}

/// Rates a solved case from the link of its notification (the notification's id is the token); returns what
/// [`rating`] returns, after the rating.
pub async fn rate(
    app: &App,
    notification_id: &str,
    score: i64,
    comment: Option<&str>,
) -> AppResult<(Conversation, Option<lifebuoy_store::CaseRating>)> {
    let (c, _) = rating(app, notification_id).await?;
    app.store.rate_case(&c.id, &c.customer_id, score, comment).await?;
    rating(app, notification_id).await
}

/// Runs one `notify` job: writes the notification (once per cause) and mails it.
pub async fn run(app: &App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: NotifyJob = job.payload_as()?;
    // The case, its customer, its mails and the reply, for one pool checkout.
    let ctx = app
        .store
        .mail_context(&args.conversation, args.message.as_deref())
        .await?
        .ok_or_else(|| JobFailure::permanent("the case or its customer is gone"))?;
    if args.message.is_some() && ctx.message.is_none() {
        return Err(JobFailure::permanent("the message is gone"));
    }
    let mut ctx = ctx;
    // An appeal's notice goes to the party it names (the order's conversation is the buyer's).
    let mut order_link = None;
    if let Some(party) = args.party {
        let order = app
            .store
            .order_of_conversation(&args.conversation)
            .await?
            .ok_or_else(|| JobFailure::permanent("the order is gone"))?;
        let ext = match party {
            Party::Buyer => &order.buyer,
            Party::Seller => &order.seller,
        };
        ctx.customer =
            app.store.exchange_customer(ext).await?.ok_or_else(|| JobFailure::permanent("the party is unknown"))?;
        ctx.anti_phishing_code = app.store.anti_phishing_code(&ctx.customer.id).await?;
        order_link = Some(format!("{}/portal/orders/{}", app.public_url(), order.id));
    }
    let ctx = ctx;
    let (c, k) = (&ctx.conversation, &ctx.customer);
    let lang =
        k.lang.as_deref().and_then(|l| Lang::parse(l).ok()).or_else(|| Lang::parse(&c.lang).ok()).unwrap_or(Lang::En);
    let mut reply = ctx.message.as_ref().map(|m| m.body.clone());
    if let Some(note) = &args.note {
        // The reason or the decision in the party's words; a rationale follows on the next line.
        let (word, rest) = note.split_once('\n').unwrap_or((note.as_str(), ""));
        let said = appeal_word(lang, word).to_string();
        let text = if rest.is_empty() { said } else { format!("{said}\n{rest}") };
        reply = Some(match reply {
            Some(r) => format!("{text}\n\n{r}"),
            None => text,
        });
    }
    let case = c.case_number.clone().unwrap_or_else(|| c.id.clone());
    let id = uuid::Uuid::new_v4().to_string();
    let (link, transcript) = if let Some(l) = order_link {
        (l, None)
    } else if args.kind == Kind::Transcript {
        let items = app.store.timeline(&c.id, false).await?;
        (format!("{}/portal", app.public_url()), Some(crate::chat::service::transcript_text(lang, &case, &items)))
    } else {
        (format!("{}/portal/tickets/{}", app.public_url(), c.id), None)
    };
    let vars = TemplateVars {
        customer_name: k.name.clone().filter(|n| !n.trim().is_empty()),
        case_number: case.clone(),
        subject: c.subject.clone(),
        status: match args.appeal_status {
            Some(a) => appeal_status_label(lang, a).into(),
            None => status_label(lang, args.status.unwrap_or_else(|| c.status())).into(),
        },
        reply,
        expected_response: expected_response(lang, c.priority()).into(),
        link: link.clone(),
        rating: if args.kind == Kind::Solved { rating_links(app, lang, &id) } else { Vec::new() },
        transcript,
    };
    let t = template(app, args.kind, lang).await.map_err(|e| JobFailure::retry(e.to_string()))?;
    // An admin's template that stopped rendering must not silence the customer: fall back to the built-in text.
    let (title, body) = render(&t.subject, &t.body, &vars).or_else(|e| {
        tracing::error!(kind = %args.kind, lang = %lang, error = %e, "a notification template failed; the built-in text was used");
        let (s, b) = builtin(args.kind, lang);
        render(s, b, &vars)
    })
    .map_err(|e| JobFailure::permanent(format!("the built-in template failed: {e}")))?;
    // Whether it goes by mail is decided before it is written, so that a notification that is not mailed
    // costs one write; one that is costs a second, after the relay took it.
    let email = mail_decision(app, c, k, args.kind).await?;
    let (n, _new) = app
        .store
        .put_notification(&NewNotification {
            id,
            customer_id: k.id.clone(),
            conversation_id: Some(c.id.clone()),
            kind: args.kind.as_str().into(),
            cause: match args.party {
                Some(p) => format!("{}:{}:{p}", c.id, args.seq),
                None => format!("{}:{}", c.id, args.seq),
            },
            lang: lang.as_str().into(),
            title,
            body,
            link: Some(link),
            email: (email != "send").then(|| email.to_owned()),
        })
        .await?;
    // Written before (a job run again): its first run's decision stands; a mail not yet sent is sent now.
    match n.email.as_deref() {
        None => {
            send_mail(app, &ctx, &n, lang).await?;
            app.store.set_notification_email(&n.id, "sent").await?;
            Ok(JobOutcome::done().record(json!({"notification": n.id, "email": "sent"})))
        }
        Some(done) => Ok(JobOutcome::done().record(json!({"notification": n.id, "email": done}))),
    }
}

/// Whether a notification goes by mail: `send`, or why not (`none`, `off`, `thread`).
async fn mail_decision(
    app: &App,
    c: &Conversation,
    k: &lifebuoy_store::Customer,
    kind: Kind,
) -> Result<&'static str, JobFailure> {
    // Visitors typed an address nobody verified: mailing it would let anyone send mail in the exchange's name
    // to any address. Exchange customers (the exchange vouches) and guests and mail senders (they showed they
    // read that address) are mailed.
    if k.email.is_none() || k.kind == "visitor" {
        return Ok("none");
    }
    // A desk with no sender address configured (the demo, a laptop) sends no mail: the inbox carries it, and
    // the job does not retry a mail that cannot go until it dies.
    if app.mailer.reply_from().is_none() {
        return Ok("none");
    }
    // On a case that came by mail, the reply itself goes out as the thread's mail (mail_out).
    if kind == Kind::Replied && c.kind == "email" {
        return Ok("thread");
    }
    let off = app.store.notification_prefs(&k.id).await?;
    if off.iter().any(|(kd, e)| kd == kind.as_str() && !*e) {
        return Ok("off");
    }
    Ok("send")
}

/// Mails a notification: from the support address, threaded with the case's other mails (so that the
/// customer's answer lands on the case), with the anti-phishing code and the safety footer.
async fn send_mail(
    app: &App,
    ctx: &lifebuoy_store::MailContext,
    n: &Notification,
    lang: Lang,
) -> Result<(), JobFailure> {
    let (c, k) = (&ctx.conversation, &ctx.customer);
    let to = k.email.clone().unwrap_or_default();
    let to: Mailbox = match k.name.as_deref() {
        Some(name) => format!("{name} <{to}>").parse().or_else(|_| to.parse()),
        None => to.parse(),
    }
    .map_err(|e| JobFailure::permanent(format!("the customer's address does not parse: {e}")))?;
    let from = app.mailer.reply_from().ok_or_else(|| JobFailure::retry("no sender address configured"))?;
    let own = format!("lb-n-{}@{}", n.id, app.mailer.message_id_domain());
    // A case opened by mail noted its first mail in the transaction that opened it: the thread is whole.
    let thread = &ctx.thread;
    let refs: Vec<String> =
        thread.iter().filter(|r| r.message_id != own).map(|r| format!("<{}>", r.message_id)).collect();
    let text = crate::mail_out::with_footer(
        lang,
        ctx.anti_phishing_code.as_deref(),
        c.case_number.as_deref().unwrap_or(&c.id),
        &n.body,
    );
    let mut b = Mail::builder().from(from).to(to).subject(n.title.clone()).message_id(Some(format!("<{own}>")));
    if let Some(last) = refs.last() {
        b = b.in_reply_to(last.clone()).references(refs.join(" "));
    }
    if n.kind != Kind::Replied.as_str() && n.kind != Kind::MoreInfo.as_str() {
        // Machine-made: auto-responders must not answer it (RFC 3834). Replies carry a person's words.
        b = b.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()));
    }
    let mail = b
        .header(ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| JobFailure::permanent(format!("the mail does not build: {e}")))?;
    app.mailer.send_now(mail).await.map_err(|e| JobFailure::retry(format!("the relay refused the mail: {e}")))?;
    app.store.record_mail(&own, &c.id, "out", None).await?;
    Ok(())
}
