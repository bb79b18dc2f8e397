//! Replies by mail. A case that came by mail (kind `email`) is answered by mail: the store's outbox rule
//! ([`outbox_rule`]) turns every public staff message on such a case into a `mail.reply` job, written in the
//! transaction that stores the message, so a reply is never stored without its mail nor mailed without being
//! stored. The job ([`send_reply`]) builds the mail and sends it: retried with backoff while the relay fails,
//! and threaded in the customer's mail client (`In-Reply-To` the customer's latest mail, `References` the whole
//! thread, each known by its Message-ID in `mail_messages`). Its own Message-ID is made from the message's id,
//! so a job that runs again after a crash sends the very same mail, which the receiving side recognises.

use crate::App;
use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob};
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lifebuoy_domain::Lang;
use lifebuoy_store::{Conversation, Entry};
use serde::Deserialize;
use serde_json::json;

/// The job kind of a reply to be mailed.
pub const REPLY: &str = "mail.reply";

/// The outbox rule: a public message by staff (an agent, the exchange's integration, the system) on a case
/// that came by mail is mailed to the customer.
pub fn outbox_rule(c: &Conversation, entries: &[Entry]) -> Vec<NewJob> {
    if c.kind != "email" {
        return Vec::new();
    }
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Message { id, internal: false, author, .. } if *author != "customer" => {
                Some(NewJob::new(REPLY, &json!({"message": id, "conversation": c.id})).key(format!("reply-{id}")))
            }
            _ => None,
        })
        .collect()
}

#[derive(Deserialize)]
struct ReplyJob {
    message: String,
    /// The case (jobs enqueued before it was written name only the message).
    #[serde(default)]
    conversation: Option<String>,
}

/// The Message-ID (without brackets) of the mail that carries a stored message.
pub fn message_id_of(app: &App, message_id: &str) -> String {
    format!("lb-{message_id}@{}", app.mailer.message_id_domain())
}

/// Sends the mail of one reply (the `mail.reply` job).
pub async fn send_reply(app: &App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: ReplyJob = job.payload_as()?;
    let cid = match args.conversation {
        Some(c) => c,
        None => app.store.message(&args.message).await?.conversation_id,
    };
    let ctx = app
        .store
        .mail_context(&cid, Some(&args.message))
        .await?
        .ok_or_else(|| JobFailure::permanent("the case or its customer is gone"))?;
    let m = ctx.message.ok_or_else(|| JobFailure::permanent("the message is gone"))?;
    let (c, customer, thread) = (ctx.conversation, ctx.customer, ctx.thread);
    let Some(to) = customer.email.clone() else {
        return Ok(JobOutcome::done().record(json!({"skipped": "the customer has no email address"})));
    };
    let to: Mailbox = match customer.name.as_deref() {
        Some(n) => format!("{n} <{to}>").parse().or_else(|_| to.parse()),
        None => to.parse(),
    }
    .map_err(|e| JobFailure::permanent(format!("the customer's address does not parse: {e}")))?;
    let from = app.mailer.reply_from().ok_or_else(|| JobFailure::retry("no sender address configured"))?;
    let own = message_id_of(app, &m.id);
    let refs: Vec<String> =
        thread.iter().filter(|r| r.message_id != own).map(|r| format!("<{}>", r.message_id)).collect();
    let in_reply_to = thread.iter().rev().find(|r| r.direction == "in").map(|r| format!("<{}>", r.message_id));
    let lang = Lang::parse(&c.lang).unwrap_or(Lang::En);
    let case = c.case_number.clone().unwrap_or_default();
    let subject =
        if c.subject.contains(&case) { format!("Re: {}", c.subject) } else { format!("Re: {} [{case}]", c.subject) };
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{own}>")))
        .header(ContentType::TEXT_PLAIN);
    if let Some(r) = in_reply_to {
        b = b.in_reply_to(r);
    }
    if !refs.is_empty() {
        b = b.references(refs.join(" "));
    }
    let mail = b
        .body(with_footer(lang, ctx.anti_phishing_code.as_deref(), &case, &m.body))
        .map_err(|e| JobFailure::permanent(format!("the mail does not build: {e}")))?;
    app.mailer.send_now(mail).await.map_err(|e| JobFailure::retry(format!("the relay refused the mail: {e}")))?;
    app.store.record_mail(&own, &c.id, "out", Some(&m.id)).await?;
    Ok(JobOutcome::done().record(json!({"message_id": own})))
}

/// A mail's text with the customer's anti-phishing code above it (the phrase the customer chose on the
/// exchange: a phishing copy cannot know it) and, below, the case number, how to answer and what support never
/// asks for.
pub fn with_footer(lang: Lang, anti_phishing_code: Option<&str>, case: &str, body: &str) -> String {
    let code = anti_phishing_code.map(|c| match lang {
        Lang::ZhHans => format!("防钓鱼码：{c}\n（只有来自官方的邮件才会显示您设置的防钓鱼码）\n\n"),
        Lang::ZhHant => format!("防釣魚碼：{c}\n（只有來自官方的郵件才會顯示您設定的防釣魚碼）\n\n"),
        Lang::En => format!("Anti-phishing code: {c}\n(only genuine mail from us shows the code you set)\n\n"),
    });
    let footer = match lang {
        Lang::ZhHans => {
            format!("工单编号：{case}\n直接回复本邮件即可补充信息。客服绝不会向您索要密码、验证码、助记词或私钥。")
        }
        Lang::ZhHant => {
            format!("工單編號：{case}\n直接回覆本郵件即可補充資訊。客服絕不會向您索取密碼、驗證碼、助記詞或私鑰。")
        }
        Lang::En => format!(
            "Case {case}\nReply to this email to add anything. Support will never ask for your password, a \
             verification code, your recovery phrase or a private key."
        ),
    };
    format!("{}{body}\n\n--\n{footer}\n", code.unwrap_or_default())
}
