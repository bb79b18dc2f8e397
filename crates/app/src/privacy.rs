//! Retention and privacy (issue 12): each channel's retention policy (admins), the purge's rules and log, the
//! supervisors' list of deleted conversations, and the customers' data requests (a copy of their data, a
//! correction of a profile field, erasure), each due 30 days after filing. Holds, deletion, restoration and
//! erasure of one conversation are [`crate::records`]; the purge job that runs these rules is
//! [`crate::records::purge`].

use crate::{Actor, App, AppError, AppResult, records};
use lifebuoy_domain::{Email, Lang, Role};
use lifebuoy_store::{DataRequest, DeletedRow, DeletionState, LegalHold, PurgeLogRow, now_ms};
use serde::Serialize;

/// The channels a retention policy is set for (conversation kinds).
pub const CHANNELS: [&str; 3] = ["chat", "ticket", "email"];
/// The longest retention that can be set (a hundred years); longer is "keep forever".
pub const MAX_KEEP_DAYS: i64 = 36_500;
/// A data request is due this many days after it was filed.
pub const REQUEST_DUE_DAYS: i64 = 30;
/// How many conversations one rule erases in one run of the purge (the rest wait for the next run).
pub const PURGE_BATCH: i64 = 500;
const DAY_MS: i64 = 86_400_000;

/// Admins (and the exchange's backend, which manages accounts as admins do). Answers who, for the records.
pub(crate) fn require_admin(actor: &Actor) -> AppResult<String> {
    match actor {
        Actor::Agent(a) if a.role == Role::Admin => Ok(format!("agent:{}", a.agent_no)),
        Actor::Integration { name, .. } => Ok(format!("integration:{name}")),
        _ => Err(AppError::forbidden("admins only")),
    }
}

/// A channel's name as policies know it; anything else is invalid.
pub fn channel(s: &str) -> AppResult<&'static str> {
    CHANNELS
        .iter()
        .find(|c| **c == s.trim())
        .copied()
        .ok_or_else(|| AppError::invalid("channel", "the channel must be chat, ticket or email"))
}

/// A retention in days: `None` keeps forever; otherwise 1 to [`MAX_KEEP_DAYS`].
pub fn keep_days(days: Option<i64>) -> AppResult<Option<i64>> {
    match days {
        Some(d) if !(1..=MAX_KEEP_DAYS).contains(&d) => {
            Err(AppError::invalid("keep_days", format!("between 1 and {MAX_KEEP_DAYS} days, or none to keep forever")))
        }
        d => Ok(d),
    }
}

/// One channel's policy as shown: `keep_days` `None` keeps forever.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    pub channel: &'static str,
    pub keep_days: Option<i64>,
    pub updated_by: Option<String>,
    pub updated_at: Option<i64>,
}

/// Sets how long a channel keeps its solved and closed conversations after their last activity (admins).
pub async fn set_retention(app: &App, actor: &Actor, ch: &str, days: Option<i64>) -> AppResult<PolicyView> {
    let by = require_admin(actor)?;
    let (ch, days) = (channel(ch)?, keep_days(days)?);
    app.store.set_retention_policy(ch, days, &by).await?;
    records::audit(app, actor, "retention_set", None, None, &format!("retention:{ch}")).await?;
    Ok(PolicyView { channel: ch, keep_days: days, updated_by: Some(by), updated_at: Some(now_ms()) })
}

/// Every channel's policy (one per channel, unset ones kept forever) and the purge's latest log
/// (supervisors, admins and the exchange's backend).
pub async fn retention_overview(app: &App, actor: &Actor) -> AppResult<(Vec<PolicyView>, Vec<PurgeLogRow>)> {
    records::require_supervisor(actor)?;
    let set = app.store.retention_policies().await?;
    let policies = CHANNELS
        .iter()
        .map(|ch| {
            let p = set.iter().find(|p| p.channel == *ch);
            PolicyView {
                channel: ch,
                keep_days: p.and_then(|p| p.keep_days),
                updated_by: p.map(|p| p.updated_by.clone()),
                updated_at: p.map(|p| p.updated_at),
            }
        })
        .collect();
    Ok((policies, app.store.purge_log(100).await?))
}

/// The purge's name for a retention rule, as its log says it.
pub fn retention_rule(channel: &str, days: i64) -> String {
    format!("retention:{channel}:{days}d")
}

/// Erases, for each channel with a retention, its solved and closed conversations whose last activity is older
/// than the retention, at most [`PURGE_BATCH`] each; those a legal hold covers are left and reported. Each rule
/// that erased or left something is logged. Called by the purge job.
pub async fn purge_by_retention(app: &App, now: i64, batch: i64) -> AppResult<Vec<PurgeLogRow>> {
    let system = Actor::system(records::PURGE_JOB);
    let mut logged = Vec::new();
    for p in app.store.retention_policies().await? {
        let Some(days) = p.keep_days else { continue };
        let before = now - days * DAY_MS;
        let rule = retention_rule(&p.channel, days);
        let mut held = app.store.due_for_retention(&p.channel, before, true, 100).await?;
        let (mut erased, hide_by) = (Vec::new(), format!("system:{rule}"));
        for id in app.store.due_for_retention(&p.channel, before, false, batch).await? {
            match records::erase_as(app, &system, &id, Some(hide_by.as_str())).await {
                Ok(_) => erased.push(id),
                // A hold placed since the look.
                Err(AppError::Conflict { code: "legal_hold", .. }) => held.push(id),
                Err(e) => return Err(e),
            }
        }
        if !erased.is_empty() || !held.is_empty() {
            tracing::info!(rule, erased = erased.len(), held = held.len(), "records purge by retention");
            logged.push(app.store.log_purge(&rule, &erased, &held).await?);
        }
    }
    Ok(logged)
}

/// A deleted conversation as supervisors see it, with the time the purge will erase it.
#[derive(Debug, Clone, Serialize)]
pub struct DeletedView {
    #[serde(flatten)]
    pub row: DeletedRow,
    pub purge_at: i64,
}

/// Deleted conversations not yet erased, the first to be purged first (supervisors).
pub async fn deleted(app: &App, actor: &Actor) -> AppResult<Vec<DeletedView>> {
    records::require_supervisor(actor)?;
    let rows = app.store.deleted_conversations(500).await?;
    Ok(rows
        .into_iter()
        .map(|row| DeletedView { purge_at: row.deleted_at + records::RECOVERY_DAYS * DAY_MS, row })
        .collect())
}

/// Where a conversation stands for the case page: deleted or erased, when the purge will erase it, the live
/// holds on it or its customer. Staff who see the conversation.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRetention {
    #[serde(flatten)]
    pub state: DeletionState,
    pub purge_at: Option<i64>,
    pub holds: Vec<LegalHold>,
}

pub async fn case_retention(app: &App, actor: &Actor, conversation_id: &str) -> AppResult<CaseRetention> {
    actor.require_staff()?;
    let state = app.store.deletion_state(conversation_id).await?;
    let holds = app.store.holds_of_conversation(conversation_id).await?;
    let purge_at = state.deleted_at.filter(|_| state.erased_at.is_none()).map(|d| d + records::RECOVERY_DAYS * DAY_MS);
    Ok(CaseRetention { state, purge_at, holds })
}

/// The live holds on a customer and on their conversations (staff).
pub async fn customer_holds(app: &App, actor: &Actor, customer_id: &str) -> AppResult<Vec<LegalHold>> {
    actor.require_staff()?;
    Ok(app.store.holds_of_customer(customer_id).await?)
}

// ---------------------------------------------------------------------------------------------------------
// Data requests

/// What a customer asks for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewRequest {
    /// `access`, `correction` or `erasure`.
    pub kind: String,
    /// A correction's field: `name`, `email` or `lang`.
    pub field: Option<String>,
    /// A correction's new value.
    pub value: Option<String>,
    /// Anything the customer adds.
    pub note: Option<String>,
}

/// A request as shown, with whether it is past its due date while still open.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub request: DataRequest,
    pub overdue: bool,
}

impl RequestView {
    fn at(request: DataRequest, now: i64) -> RequestView {
        RequestView { overdue: request.status == "open" && request.due_at < now, request }
    }
}

/// A request's checked content: kind, and for a correction the field and its value in canonical form.
pub fn check_request(r: &NewRequest) -> AppResult<(&'static str, Option<&'static str>, Option<String>)> {
    let kind = match r.kind.trim() {
        "access" => "access",
        "correction" => "correction",
        "erasure" => "erasure",
        _ => return Err(AppError::invalid("kind", "the request must be access, correction or erasure")),
    };
    if kind != "correction" {
        return Ok((kind, None, None));
    }
    let value = r.value.as_deref().unwrap_or("").trim();
    let (field, value) = match r.field.as_deref().map(str::trim) {
        Some("name") => ("name", crate::tickets::text_field("value", value, 100)?),
        Some("email") => ("email", Email::parse(value)?.as_str().to_string()),
        Some("lang") => (
            "lang",
            Lang::parse(value).map_err(|_| AppError::invalid("value", "zh-Hans, zh-Hant or en"))?.as_str().to_string(),
        ),
        _ => return Err(AppError::invalid("field", "the field to correct must be name, email or lang")),
    };
    Ok((kind, Some(field), Some(value)))
}

/// A customer files a request about their own data; due in [`REQUEST_DUE_DAYS`]. One open request of each
/// kind at a time. Written to the access log.
pub async fn file_request(app: &App, actor: &Actor, r: &NewRequest) -> AppResult<RequestView> {
    let Actor::Customer(me) = actor else {
        return Err(AppError::forbidden("customers file requests about their own data"));
    };
    let (kind, field, value) = check_request(r)?;
    let note = match r.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some(crate::tickets::text_field("note", n, 1000)?),
        None => None,
    };
    let mine = app.store.data_requests_of(&me.id).await?;
    if mine.iter().any(|q| q.kind == kind && q.status == "open") {
        return Err(AppError::conflict("request_open", "a request of this kind is already open"));
    }
    let now = now_ms();
    let req = DataRequest {
        id: lifebuoy_store::new_id(),
        customer_id: me.id.clone(),
        kind: kind.into(),
        field: field.map(str::to_owned),
        value,
        note,
        status: "open".into(),
        filed_at: now,
        due_at: now + REQUEST_DUE_DAYS * DAY_MS,
        resolved_at: None,
        resolved_by: None,
        outcome: None,
    };
    app.store.file_data_request(&req).await?;
    log_request(app, actor, &req, "data_request_filed").await?;
    Ok(RequestView::at(req, now))
}

/// The customer's own requests, newest first.
pub async fn my_requests(app: &App, actor: &Actor) -> AppResult<Vec<RequestView>> {
    let Actor::Customer(me) = actor else { return Err(AppError::forbidden("a customer's own requests")) };
    let now = now_ms();
    Ok(app.store.data_requests_of(&me.id).await?.into_iter().map(|r| RequestView::at(r, now)).collect())
}

/// One request: the customer's own (anyone else's is not found), or any for supervisors.
pub async fn request(app: &App, actor: &Actor, id: &str) -> AppResult<RequestView> {
    let r = app.store.data_request(id).await?.ok_or(AppError::NotFound)?;
    match actor {
        Actor::Customer(me) if me.id == r.customer_id => {}
        Actor::Customer(_) => return Err(AppError::NotFound),
        _ => {
            records::require_supervisor(actor)?;
        }
    }
    Ok(RequestView::at(r, now_ms()))
}

/// Every open request, the first due first, overdue ones marked (supervisors).
pub async fn open_requests(app: &App, actor: &Actor) -> AppResult<Vec<RequestView>> {
    records::require_supervisor(actor)?;
    let now = now_ms();
    Ok(app.store.open_data_requests(1000).await?.into_iter().map(|r| RequestView::at(r, now)).collect())
}

/// Carries out an open request (supervisors): access — the customer is told where to download their signed
/// records; correction — the field is changed; erasure — every conversation of the customer no hold covers is
/// erased (digests kept: older exports still verify) and their name, email and anti-phishing code blanked.
/// A legal hold on the customer refuses erasure (`customer_on_hold`, its reason as the message). The customer is notified; the access log notes it.
pub async fn complete_request(app: &App, actor: &Actor, id: &str) -> AppResult<RequestView> {
    let by = records::require_supervisor(actor)?;
    let r = open_request(app, id).await?;
    let outcome = match r.kind.as_str() {
        "access" => "the customer downloads their signed records from the portal".to_string(),
        "correction" => {
            let (field, value) = (r.field.as_deref().unwrap_or(""), r.value.as_deref().unwrap_or(""));
            app.store.correct_customer(&r.customer_id, field, value).await?;
            format!("{field} corrected")
        }
        _ => erase_customer(app, actor, &r.customer_id).await?,
    };
    resolve(app, actor, r, "done", &by, &outcome).await
}

/// Refuses an open request with a reason the customer reads (supervisors).
pub async fn refuse_request(app: &App, actor: &Actor, id: &str, reason: &str) -> AppResult<RequestView> {
    let by = records::require_supervisor(actor)?;
    let reason = crate::tickets::text_field("reason", reason, 500)?;
    let r = open_request(app, id).await?;
    resolve(app, actor, r, "refused", &by, &reason).await
}

async fn open_request(app: &App, id: &str) -> AppResult<DataRequest> {
    let r = app.store.data_request(id).await?.ok_or(AppError::NotFound)?;
    if r.status != "open" {
        return Err(AppError::conflict("request_closed", "this request is already done or refused"));
    }
    Ok(r)
}

/// Closes the request, notes it in the access log and tells the customer.
async fn resolve(
    app: &App,
    actor: &Actor,
    mut r: DataRequest,
    status: &str,
    by: &str,
    outcome: &str,
) -> AppResult<RequestView> {
    if !app.store.resolve_data_request(&r.id, status, by, outcome).await? {
        return Err(AppError::conflict("request_closed", "this request is already done or refused"));
    }
    let now = now_ms();
    (r.status, r.resolved_by, r.resolved_at, r.outcome) =
        (status.into(), Some(by.into()), Some(now), Some(outcome.into()));
    log_request(app, actor, &r, if status == "done" { "data_request_done" } else { "data_request_refused" }).await?;
    notify_customer(app, &r).await?;
    Ok(RequestView::at(r, now))
}

/// Erasure on request: refused under a hold on the customer; else each conversation not erased yet and not
/// held is erased and hidden, then the profile's personal fields are blanked. Answers what was done.
async fn erase_customer(app: &App, actor: &Actor, customer_id: &str) -> AppResult<String> {
    let holds = app.store.holds_of_customer(customer_id).await?;
    if let Some(h) = holds.iter().find(|h| h.customer_id.as_deref() == Some(customer_id)) {
        // The message is the hold's reason as the supervisor who placed it wrote it: the console says the rest.
        return Err(AppError::conflict("customer_on_hold", h.reason.clone()));
    }
    let by = format!("{}:erasure", actor.key());
    let (mut erased, mut kept) = (0, 0);
    for cid in app.store.unerased_conversations_of(customer_id).await? {
        match records::erase_as(app, actor, &cid, Some(by.as_str())).await {
            Ok(_) => erased += 1,
            Err(AppError::Conflict { code: "legal_hold", .. }) => kept += 1,
            Err(e) => return Err(e),
        }
    }
    let exchange_user = app.store.customer(customer_id).await?.and_then(|c| c.external_id);
    app.store.blank_customer(customer_id).await?;
    // What the exchange pushed about them (tier, flags) goes with them; the exchange keeps its own.
    if let Some(x) = exchange_user {
        app.store.forget_exchange_user_profile(&x).await?;
    }
    // What agents kept about them (tags and notes) is their personal data too.
    app.store.forget_customer_notes(customer_id).await?;
    Ok(format!(
        "{erased} conversations erased, {kept} kept under a legal hold; name, email and anti-phishing code blanked; agents' tags and notes removed"
    ))
}

/// The access log's note of a request filed or closed.
async fn log_request(app: &App, actor: &Actor, r: &DataRequest, what: &str) -> AppResult<()> {
    let screen = format!("data_request:{}:{}", r.kind, r.id);
    match actor {
        Actor::Customer(me) => {
            app.store
                .log_access(&lifebuoy_store::NewAccess {
                    actor_kind: "customer".into(),
                    actor_id: Some(me.id.clone()),
                    actor_label: me.name.clone().or(me.email.clone()).unwrap_or_else(|| "customer".into()),
                    customer_id: Some(r.customer_id.clone()),
                    conversation_id: None,
                    what: what.into(),
                    screen,
                })
                .await?;
            Ok(())
        }
        _ => records::audit(app, actor, what, Some(&r.customer_id), None, &screen).await,
    }
}

/// Tells the customer in their inbox (站内信) that their request was done or refused.
async fn notify_customer(app: &App, r: &DataRequest) -> AppResult<()> {
    let k = app.store.customer(&r.customer_id).await?.ok_or(AppError::NotFound)?;
    let lang = k.lang.as_deref().and_then(Lang::from_tag).unwrap_or(Lang::ZhHans);
    let (title, body) = notice_text(lang, r);
    app.store
        .put_notification(&lifebuoy_store::NewNotification {
            id: lifebuoy_store::new_id(),
            customer_id: k.id,
            conversation_id: None,
            kind: "status_changed".into(),
            cause: format!("data_request:{}", r.id),
            lang: lang.as_str().into(),
            title,
            body,
            link: Some(format!("/portal/privacy/{}", r.id)),
            // In the inbox only: an erased customer has no address, and the portal shows the rest.
            email: Some("none".into()),
        })
        .await?;
    Ok(())
}

/// The notice's title and text in the customer's language.
pub fn notice_text(lang: Lang, r: &DataRequest) -> (String, String) {
    let field = |f: &str| -> &str {
        match (lang, f) {
            (Lang::ZhHans, "name") => "姓名",
            (Lang::ZhHans, "email") => "邮箱",
            (Lang::ZhHans, _) => "语言",
            (Lang::ZhHant, "name") => "姓名",
            (Lang::ZhHant, "email") => "電子郵件",
            (Lang::ZhHant, _) => "語言",
            (Lang::En, "name") => "name",
            (Lang::En, "email") => "email address",
            (Lang::En, _) => "language",
        }
    };
    let f = field(r.field.as_deref().unwrap_or(""));
    let reason = r.outcome.as_deref().unwrap_or("");
    let s = |a: &str| a.to_string();
    match (lang, r.status.as_str(), r.kind.as_str()) {
        (Lang::ZhHans, "refused", _) => {
            (s("您的数据请求未能办理"), format!("很抱歉，您的请求未能办理。原因：{reason}"))
        }
        (Lang::ZhHans, _, "access") => (
            s("您的数据请求已办理"),
            s(
                "您申请获取个人数据的请求已办理。您可以在“咨询历史”页面下载全部沟通记录（PDF、可打印版本或可核验的 JSON 文件）。",
            ),
        ),
        (Lang::ZhHans, _, "correction") => (s("您的数据请求已办理"), format!("您申请更正的{f}已更新。")),
        (Lang::ZhHans, _, _) => (
            s("您的数据请求已办理"),
            s("您申请删除个人数据的请求已办理：您的对话内容和个人资料已被清除，受法律保留约束的记录除外。"),
        ),
        (Lang::ZhHant, "refused", _) => {
            (s("您的資料請求未能辦理"), format!("很抱歉，您的請求未能辦理。原因：{reason}"))
        }
        (Lang::ZhHant, _, "access") => (
            s("您的資料請求已辦理"),
            s(
                "您申請取得個人資料的請求已辦理。您可以在「諮詢紀錄」頁面下載全部溝通紀錄（PDF、可列印版本或可驗證的 JSON 檔案）。",
            ),
        ),
        (Lang::ZhHant, _, "correction") => (s("您的資料請求已辦理"), format!("您申請更正的{f}已更新。")),
        (Lang::ZhHant, _, _) => (
            s("您的資料請求已辦理"),
            s("您申請刪除個人資料的請求已辦理：您的對話內容與個人資料已被清除，受法律保全約束的紀錄除外。"),
        ),
        (Lang::En, "refused", _) => (
            s("Your data request was refused"),
            format!("We are sorry: we could not carry out your request. Reason: {reason}"),
        ),
        (Lang::En, _, "access") => (
            s("Your data request is done"),
            s(
                "Your request for a copy of your data is done. Download all your support records (PDF, printable page or verifiable JSON) from your support history.",
            ),
        ),
        (Lang::En, _, "correction") => (s("Your data request is done"), format!("Your {f} has been corrected.")),
        (Lang::En, _, _) => (
            s("Your data request is done"),
            s(
                "Your request for erasure is done: your conversations and profile details have been erased, except records under a legal hold.",
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(kind: &str, field: Option<&str>, value: Option<&str>) -> NewRequest {
        NewRequest { kind: kind.into(), field: field.map(Into::into), value: value.map(Into::into), note: None }
    }

    #[test]
    fn channels_and_retention_days() {
        assert_eq!(channel("chat").unwrap(), "chat");
        assert_eq!(channel(" email ").unwrap(), "email");
        assert_eq!(channel("appeal").unwrap_err().code(), "invalid");
        assert_eq!(channel("sms").unwrap_err().code(), "invalid");
        assert_eq!(keep_days(None).unwrap(), None);
        assert_eq!(keep_days(Some(1)).unwrap(), Some(1));
        assert_eq!(keep_days(Some(MAX_KEEP_DAYS)).unwrap(), Some(MAX_KEEP_DAYS));
        assert!(
            keep_days(Some(0)).is_err() && keep_days(Some(-3)).is_err() && keep_days(Some(MAX_KEEP_DAYS + 1)).is_err()
        );
        assert_eq!(retention_rule("ticket", 90), "retention:ticket:90d");
    }

    #[test]
    fn requests_are_checked() {
        assert_eq!(check_request(&req("access", Some("name"), Some("x"))).unwrap(), ("access", None, None));
        assert_eq!(check_request(&req("erasure", None, None)).unwrap(), ("erasure", None, None));
        assert_eq!(
            check_request(&req("correction", Some("email"), Some(" Li@Example.com "))).unwrap().1,
            Some("email")
        );
        assert_eq!(
            check_request(&req("correction", Some("lang"), Some("zh-Hant"))).unwrap().2.as_deref(),
            Some("zh-Hant")
        );
        assert_eq!(
            check_request(&req("correction", Some("name"), Some("  李雷 "))).unwrap().2.as_deref(),
            Some("李雷")
        );
        for bad in [
            req("delete_all", None, None),
            req("correction", Some("external_id"), Some("x")),
            req("correction", Some("email"), Some("not an address")),
            req("correction", Some("lang"), Some("fr")),
            req("correction", Some("name"), Some("  ")),
            req("correction", None, Some("x")),
        ] {
            assert_eq!(check_request(&bad).unwrap_err().code(), "invalid", "{bad:?}");
        }
    }

    #[test]
    fn overdue_only_while_open() {
        let r = DataRequest {
            id: "r".into(),
            customer_id: "k".into(),
            kind: "access".into(),
            field: None,
            value: None,
            note: None,
            status: "open".into(),
            filed_at: 0,
            due_at: 100,
            resolved_at: None,
            resolved_by: None,
            outcome: None,
        };
        assert!(!RequestView::at(r.clone(), 100).overdue);
        assert!(RequestView::at(r.clone(), 101).overdue);
        assert!(!RequestView::at(DataRequest { status: "done".into(), ..r.clone() }, 101).overdue);
        let refused = DataRequest { status: "refused".into(), outcome: Some("法律保留".into()), ..r };
        for l in Lang::ALL {
            let (title, body) = notice_text(*l, &refused);
            assert!(!title.is_empty() && body.contains("法律保留"), "{l:?}: {body}");
        }
    }
}
