//! Mail in: a customer's mail to the support address becomes a case (kind `email`), or joins the case it
//! answers. [`receive`] is the use case, called as the system (the SMTP listener below, an IMAP poller later):
//!
//! 1. parsed with `mail-parser` (MIME, RFC 2047 words, quoted-printable and base64, GBK, GB18030, Big5,
//!    ISO-2022-JP...); an unreadable mail is refused with that reason;
//! 2. no loops and no floods: auto-replies (`Auto-Submitted`, `X-Autoreply`, `X-Autorespond`), bulk and list
//!    mail (`Precedence`), delivery reports (`multipart/report`), bounces (`MAILER-DAEMON`, `postmaster`) and
//!    mail from the support address itself are refused, each noted with its reason (`mail_rejections`);
//! 3. senders an admin blocked (an address or a whole `@domain`, [`crate::mail_admin`]) are refused for good
//!    (`550 5.7.1`);
//! 4. the same Message-ID twice is stored once;
//! 5. the sender becomes a customer by address: the exchange customer whose address the exchange vouched for,
//!    else the guest of that address (see `Store::mail_customer`);
//! 6. threaded by `In-Reply-To`/`References` (any mail of the thread, in or out), else by the case number in the
//!    subject (a case of the same sender); otherwise a new case;
//! 7. a sender may open [`NEW_CASES_PER_HOUR`] cases and send [`MAILS_PER_HOUR`] mails an hour; past that the
//!    mail is refused for now (`451 4.7.1`: a real mail server queues it and tries again later, so nothing is
//!    lost, while a flood costs the desk nothing);
//! 8. attachments (inline `cid:` images too) go through the same checks as portal uploads
//!    ([`App::accept_attachment`]); a file that fails them is named in a line added to the message, in the
//!    case's language, and noted in `mail_rejections`;
//! 9. HTML is sanitised ([`crate::mail_text`]) and kept beside the text, which stays the body that is searched.
//!
//! The listener answers `250` only after the case is committed, so a mail acknowledged to the sending server
//! is never lost; a storage failure answers `451` and the sender retries.

use crate::mail_text;
use crate::{Actor, App, AppError, AppResult};
use lifebuoy_domain::{CaseNumber, Category, ConversationKind, Lang, Priority};
use lifebuoy_store::{Actor as Author, InboundMail, NewTicket, RefusalReason, ReplyOutcome, ReplyParts};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use std::collections::HashMap;

/// The longest body a case takes from a mail, in characters (the rest is cut, and the cut is said).
pub const MAX_BODY_CHARS: usize = 20_000;
/// The largest mail the listener takes, in bytes.
pub const MAX_MAIL_BYTES: usize = 30 * 1024 * 1024;
/// The most HTML taken from one mail, in bytes (before sanitising; the sanitiser closes what the cut opened).
pub const MAX_HTML_BYTES: usize = 512 * 1024;
/// The most attachments taken from one mail (the rest are named as not taken).
pub const MAX_ATTACHMENTS: usize = 20;
/// New cases one sender address may open by mail in an hour.
pub const NEW_CASES_PER_HOUR: i64 = 20;
/// Mails one sender address may send in an hour, replies to their cases included.
pub const MAILS_PER_HOUR: i64 = 60;

/// What became of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new case.
    Opened { conversation_id: String, case_number: Option<String> },
    /// Added to an existing case (or to a follow-up of a closed one).
    Added { conversation_id: String },
    /// The same Message-ID was taken before.
    Duplicate { conversation_id: String },
    /// Refused, with the reason (noted in `mail_rejections`) and what the sending server is told.
    Rejected { reason: String, refusal: Refusal },
}

/// How a refused mail is answered over SMTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `250`: taken and set aside. Auto-replies, bounces, bulk mail and loops: refusing them would only send
    /// a bounce to a robot (or back to ourselves).
    SetAside,
    /// `451 4.7.1`: not now; the sending server keeps the mail and tries again later (the rate limit).
    Later,
    /// `550 5.7.1`: never (a blocked sender); the sending server tells its user.
    Never,
}

impl Refusal {
    /// As stored in `mail_rejections.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::SetAside => "accepted",
            Refusal::Later => "temporary",
            Refusal::Never => "permanent",
        }
    }
}

/// Takes in one mail (its raw bytes as received).
pub async fn receive(app: &App, raw: &[u8]) -> AppResult<Received> {
    let Some(msg) = MessageParser::default().parse(raw) else {
        let why = Why::new("unreadable", None, "unreadable: not a mail message".into());
        return reject(app, None, None, None, &why, Refusal::SetAside).await;
    };
    let message_id = msg.message_id().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| {
        use sha2::{Digest, Sha256};
        format!("no-id-{}@lifebuoy", hex::encode(&Sha256::digest(raw)[..16]))
    });
    let subject = msg.subject().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    // A subject whose encoded words were cut inside a character: decoded again with the words joined.
    let subject = match subject {
        Some(s) if s.contains('\u{FFFD}') => Some(
            msg.header_raw("Subject")
                .and_then(mail_text::decode_header_words)
                .filter(|d| !d.contains('\u{FFFD}'))
                .unwrap_or(s),
        ),
        other => other,
    };
    let from = msg.from().and_then(|a| a.first());
    let sender = from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase());
    let name = from.and_then(|a| a.name()).map(str::to_string);
    let why = if sender.is_none() {
        Some(Why::new("no_sender", None, "no sender address".into()))
    } else if let Some(v) = header_text(&msg, "Auto-Submitted").filter(|v| !v.eq_ignore_ascii_case("no")) {
        let text = format!("automatic mail (Auto-Submitted: {v})");
        Some(Why::new("auto_submitted", Some(v), text))
    } else if header_text(&msg, "X-Autoreply").is_some() || header_text(&msg, "X-Autorespond").is_some() {
        Some(Why::new("auto_reply", None, "automatic reply (X-Autoreply)".into()))
    } else if let Some(v) = header_text(&msg, "Precedence")
        .filter(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.to_ascii_lowercase().as_str()))
    {
        let text = format!("bulk mail (Precedence: {v})");
        Some(Why::new("bulk", Some(v), text))
    } else if msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        Some(Why::new("report", None, "delivery status report".into()))
    } else if sender.as_deref().is_some_and(|s| {
        let local = s.split('@').next().unwrap_or_default();
        local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
    }) {
        Some(Why::new("bounce", None, "bounce (from the mail system)".into()))
    } else if sender.is_some() && sender == app.mailer.support_address() {
        Some(Why::new("loop", None, "from the support address itself (a loop)".into()))
    } else if lifebuoy_domain::Email::parse(sender.as_deref().unwrap_or_default()).is_err() {
        Some(Why::new("invalid_sender", None, "the sender's address is not valid".into()))
    } else {
        None
    };
    if let Some(why) = why {
        return reject(app, Some(&message_id), sender.as_deref(), subject.as_deref(), &why, Refusal::SetAside).await;
    }
    let sender = sender.unwrap_or_default();
    if let Some(pattern) = app.store.blocked_by(&sender).await? {
        let why = Why::new("blocked", Some(pattern.clone()), format!("blocked sender ({pattern})"));
        return reject(app, Some(&message_id), Some(&sender), subject.as_deref(), &why, Refusal::Never).await;
    }
    if let Some(known) = app.store.mail_known(&message_id).await? {
        return Ok(Received::Duplicate { conversation_id: known.conversation_id });
    }
    let customer = app.store.mail_customer(&sender, name.as_deref()).await?;
    let author = Author::Customer(customer.id.clone());
    let idem = Some(("mail", message_id.as_str(), message_id.as_str()));

    // The case it answers: by the thread's Message-IDs, else by the case number in the subject.
    let mut refs: Vec<String> = Vec::new();
    for h in [msg.in_reply_to(), msg.references()] {
        match h {
            HeaderValue::Text(t) => refs.push(t.to_string()),
            HeaderValue::TextList(l) => refs.extend(l.iter().map(|t| t.to_string())),
            _ => {}
        }
    }
    let mut thread = app.store.mail_thread(&refs).await?;
    if thread.is_none()
        && let Some(case) = subject.as_deref().and_then(case_number_in)
        && let Some(c) = app.store.conversation_by_case(&case).await?
        && c.customer_id == customer.id
    {
        thread = Some(c.id);
    }

    // The sender's rate: new cases, and all mail.
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    let (opened, total) = app.store.mail_sender_counts(&sender, hour_ago).await?;
    let limit = if total >= MAILS_PER_HOUR {
        let text = format!("rate limit: more than {MAILS_PER_HOUR} mails from this sender in an hour");
        Some(Why::new("rate_mails", Some(MAILS_PER_HOUR.to_string()), text))
    } else if thread.is_none() && opened >= NEW_CASES_PER_HOUR {
        let text = format!("rate limit: more than {NEW_CASES_PER_HOUR} new cases from this sender in an hour");
        Some(Why::new("rate_cases", Some(NEW_CASES_PER_HOUR.to_string()), text))
    } else {
        None
    };
    if let Some(why) = limit {
        return reject(app, Some(&message_id), Some(&sender), subject.as_deref(), &why, Refusal::Later).await;
    }

    let mut body = mail_text_of(&msg);
    if body.chars().count() > MAX_BODY_CHARS {
        body = body.chars().take(MAX_BODY_CHARS).collect::<String>() + "\n\n[…]";
    }
    let lang = match &thread {
        Some(cid) => app.store.conversation(cid).await?.and_then(|c| Lang::parse(&c.lang).ok()).unwrap_or(Lang::ZhHans),
        None => Lang::parse(lifebuoy_search::detect_lang(&format!("{}\n{body}", subject.as_deref().unwrap_or(""))))
            .unwrap_or(Lang::ZhHans),
    };
    let files = take_attachments(app, &Actor::Customer(customer.clone()), &msg, lang).await?;
    if !files.forwarded.is_empty() {
        body = format!("{body}\n\n{}", files.forwarded.join("\n\n"));
        if body.chars().count() > MAX_BODY_CHARS {
            body = body.chars().take(MAX_BODY_CHARS).collect::<String>() + "\n\n[…]";
        }
    }
    if !files.refused.is_empty() {
        let notes: Vec<String> = files.refused.iter().map(|(name, code)| refusal_line(lang, name, code)).collect();
        body = format!("{body}\n\n{}", notes.join("\n"));
    }
    // The secret guard: a mail holding a recovery phrase, a key or a password is stored redacted, and then
    // without its HTML (which would carry the secret again).
    let guarded = crate::trust::guard(&body, lang);
    let body = guarded.text;
    let mut hidden = guarded.kinds;
    let html =
        if hidden.is_empty() { mail_html_of(&msg).map(|h| mail_text::stored_html(&h, &files.inline)) } else { None };

    // The mail is noted in the transaction that stores its message: a crash leaves both or neither, and the
    // acknowledgement the new case sets off finds the mail to thread under.
    let noted = InboundMail { message_id: message_id.clone(), sender: sender.clone(), html };
    let outcome = if let Some(cid) = thread {
        let parts = ReplyParts {
            body: &body,
            internal: false,
            attachment_ids: &files.ids,
            client_id: None,
            status: None,
            mail: Some(&noted),
        };
        let out = app.store.reply_with_status(&cid, &author, &parts, idem).await?;
        let (ReplyOutcome::Added { conversation, message } | ReplyOutcome::FollowUp { conversation, message }) = out;
        crate::trust::flag(app, &message.conversation_id, message.seq, &hidden).await?;
        Received::Added { conversation_id: conversation.id }
    } else {
        let subject: String =
            subject.clone().unwrap_or_else(|| body.lines().next().unwrap_or("(no subject)").to_string());
        let subject: String = subject.chars().take(200).collect();
        let subject = crate::trust::guard(&subject, lang);
        hidden.extend(subject.kinds);
        hidden.sort();
        hidden.dedup();
        let subject = subject.text;
        let t = NewTicket {
            kind: ConversationKind::Email,
            customer_id: customer.id.clone(),
            subject,
            body,
            category: Category::Other,
            priority: Priority::Normal,
            department: None,
            lang,
            order_id: None,
            tx_hash: None,
            asset: None,
            amount: None,
            tags: if hidden.is_empty() {
                vec!["email".into()]
            } else {
                vec!["email".into(), crate::trust::SECRET_TAG.into()]
            },
            attachment_ids: files.ids.clone(),
        };
        let (c, created) = app.store.create_ticket_from_mail(&t, &author, idem, &noted).await?;
        if created {
            crate::trust::flag(app, &c.id, 1, &hidden).await?;
        }
        if created {
            Received::Opened { conversation_id: c.id, case_number: c.case_number }
        } else {
            Received::Duplicate { conversation_id: c.id }
        }
    };
    for (name, code) in &files.refused {
        let reason = format!("attachment {name:?} not taken ({code}), noted in the case");
        tracing::info!(%message_id, %sender, %reason, "mail attachment refused");
        // The file's own code (`file_too_large`, `mislabelled_file`, …), with its name.
        let why = RefusalReason { code, detail: Some(name), text: &reason };
        app.store.record_mail_refusal(Some(&message_id), Some(&sender), subject.as_deref(), &why, "note").await?;
    }
    Ok(outcome)
}

/// The text of a mail: every text body part, in order (an HTML-only mail's text is taken from its HTML).
fn mail_text_of(msg: &mail_parser::Message<'_>) -> String {
    let parts: Vec<String> = (0..msg.text_body_count())
        .filter_map(|i| msg.body_text(i))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let text = parts.join("\n\n");
    if text.is_empty() { "(no text)".to_string() } else { text }
}

/// The HTML of a mail, if it has any of its own (mail-parser also offers plain text dressed as HTML).
fn mail_html_of(msg: &mail_parser::Message<'_>) -> Option<String> {
    let real = (0..msg.html_body_count()).any(|i| msg.html_part(i as u32).is_some_and(|p| p.is_text_html()));
    if !real {
        return None;
    }
    let mut html = String::new();
    for i in 0..msg.html_body_count() {
        if let Some(h) = msg.body_html(i) {
            html.push_str(&h);
        }
        if html.len() > MAX_HTML_BYTES {
            let mut cut = MAX_HTML_BYTES;
            while !html.is_char_boundary(cut) {
                cut -= 1;
            }
            html.truncate(cut);
            break;
        }
    }
    Some(html)
}

/// A mail's files, checked.
struct Files {
    /// The attachments taken, for the message.
    ids: Vec<String>,
    /// `Content-ID` → the attachment's URL, for inline images in the HTML.
    inline: HashMap<String, String>,
    /// (file name, why) of each file not taken.
    refused: Vec<(String, &'static str)>,
    /// Each mail forwarded as an attachment (`message/rfc822`): its sender, date, subject and text, in the
    /// case's language, for the message; its own files are taken with the rest.
    forwarded: Vec<String>,
}

/// Runs every attachment of a mail (inline images included) through the portal's checks. A file that fails
/// them is listed, not dropped silently; a storage failure fails the whole mail (the sender retries).
async fn take_attachments(app: &App, actor: &Actor, msg: &mail_parser::Message<'_>, lang: Lang) -> AppResult<Files> {
    let mut files = Files { ids: vec![], inline: HashMap::new(), refused: vec![], forwarded: vec![] };
    let mut n = 0;
    // The mail's parts, then those of each mail forwarded inside it (two levels at most: a forward of a forward).
    let mut parts: Vec<(&mail_parser::MessagePart<'_>, u8)> = msg.attachments().map(|p| (p, 0)).collect();
    let mut i = 0;
    while let Some(&(part, depth)) = parts.get(i) {
        i += 1;
        if let Some(inner) = part.message()
            && depth < 2
        {
            files.forwarded.push(forwarded_text(lang, inner));
            parts.extend(inner.attachments().map(|p| (p, depth + 1)));
            continue;
        }
        let name = part.attachment_name().map(str::to_string);
        let declared = part.content_type().map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        });
        // A text or HTML part without a name that is not marked as an attachment is a piece of the body that
        // mail-parser did not use as the body (an alternative beyond the first): its words are in the text.
        let is_file_disposition =
            part.content_disposition().is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"));
        if (part.is_text() || part.is_text_html()) && name.is_none() && !is_file_disposition {
            continue;
        }
        n += 1;
        let name = name.unwrap_or_else(|| format!("attachment-{n}"));
        if n > MAX_ATTACHMENTS {
            files.refused.push((name, "too_many_attachments"));
            continue;
        }
        let bytes = part.contents();
        let declared = declared.filter(|d| d.contains('/') && !d.starts_with("message/"));
        match app.accept_attachment(actor, &name, declared.as_deref(), bytes).await {
            Ok(meta) => {
                if let Some(cid) = part.content_id() {
                    let cid = cid.trim().trim_matches(|c| c == '<' || c == '>').to_string();
                    files.inline.insert(cid, format!("/api/v1/attachments/{}", meta.id));
                }
                files.ids.push(meta.id);
            }
            Err(AppError::File { code, .. }) => files.refused.push((name, code)),
            Err(AppError::Invalid { .. }) => files.refused.push((name, "empty_file")),
            Err(e) => return Err(e),
        }
    }
    Ok(files)
}

/// A forwarded mail as the agent reads it in the case: a heading, its sender, date and subject, and its text,
/// labelled in the case's language as mail clients label a forward.
fn forwarded_text(lang: Lang, m: &mail_parser::Message<'_>) -> String {
    let from = m
        .from()
        .and_then(|a| a.first())
        .map(|a| match (a.name(), a.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (None, Some(e)) => e.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let date = m.date().map(|d| d.to_rfc3339()).unwrap_or_default();
    let subject = m.subject().unwrap_or_default();
    let (title, f, d, s, sep) = match lang {
        Lang::ZhHans => ("转发的邮件", "发件人", "日期", "主题", "："),
        Lang::ZhHant => ("轉寄的郵件", "寄件者", "日期", "主旨", "："),
        Lang::En => ("Forwarded message", "From", "Date", "Subject", ": "),
    };
    format!("---------- {title} ----------\n{f}{sep}{from}\n{d}{sep}{date}\n{s}{sep}{subject}\n\n{}", mail_text_of(m))
}

/// The line that tells, in the case's language, that a file of the mail was not taken, and why.
pub fn refusal_line(lang: Lang, name: &str, code: &str) -> String {
    let mb = crate::attachments::MAX_ATTACHMENT_BYTES / 1024 / 1024;
    let max = MAX_ATTACHMENTS;
    match lang {
        Lang::ZhHans => {
            let why = match code {
                "file_too_large" => format!("文件超过 {mb} MB 的大小上限"),
                "mislabelled_file" => "文件内容与文件名或类型不符".to_string(),
                "empty_file" => "文件是空的".to_string(),
                "too_many_attachments" => format!("一封邮件最多接收 {max} 个附件"),
                _ => "只接收 PNG、JPEG、GIF、WebP 图片和 PDF 文件".to_string(),
            };
            format!("【附件未接收】“{name}”：{why}。")
        }
        Lang::ZhHant => {
            let why = match code {
                "file_too_large" => format!("檔案超過 {mb} MB 的大小上限"),
                "mislabelled_file" => "檔案內容與檔名或類型不符".to_string(),
                "empty_file" => "檔案是空的".to_string(),
                "too_many_attachments" => format!("一封郵件最多接收 {max} 個附件"),
                _ => "只接收 PNG、JPEG、GIF、WebP 圖片和 PDF 檔案".to_string(),
            };
            format!("【附件未接收】「{name}」：{why}。")
        }
        Lang::En => {
            let why = match code {
                "file_too_large" => format!("it is larger than the {mb} MB limit"),
                "mislabelled_file" => "its content does not match its name or type".to_string(),
                "empty_file" => "the file is empty".to_string(),
                "too_many_attachments" => format!("a mail may carry at most {max} attachments"),
                _ => "only PNG, JPEG, GIF and WebP images and PDF files are accepted".to_string(),
            };
            format!("[Attachment not accepted] \"{name}\": {why}.")
        }
    }
}

async fn reject(
    app: &App,
    message_id: Option<&str>,
    sender: Option<&str>,
    subject: Option<&str>,
    why: &Why,
    refusal: Refusal,
) -> AppResult<Received> {
    tracing::info!(message_id, sender, reason = why.text, outcome = refusal.as_str(), "mail refused");
    app.store.record_mail_refusal(message_id, sender, subject, &why.as_reason(), refusal.as_str()).await?;
    Ok(Received::Rejected { reason: why.text.clone(), refusal })
}

/// Why a mail is refused: a stable code the console translates (`mail.reason.<code>`), what the mail said that
/// the reason names, and the sentence in English for logs.
#[derive(Debug, Clone)]
pub struct Why {
    pub code: &'static str,
    pub detail: Option<String>,
    pub text: String,
}

impl Why {
    pub fn new(code: &'static str, detail: Option<String>, text: String) -> Why {
        Why { code, detail, text }
    }

    pub fn as_reason(&self) -> RefusalReason<'_> {
        RefusalReason { code: self.code, detail: self.detail.as_deref(), text: &self.text }
    }
}

fn header_text(msg: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    msg.header(name).and_then(|h| h.as_text()).map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// The first case number (`LB-YYMMDD-NNNN`) in a subject.
pub fn case_number_in(subject: &str) -> Option<CaseNumber> {
    let upper = subject.to_ascii_uppercase();
    let mut from = 0;
    while let Some(i) = upper[from..].find("LB-") {
        let start = from + i;
        let end = upper[start..]
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
            .map_or(upper.len(), |(j, _)| start + j);
        if let Ok(c) = CaseNumber::parse(&upper[start..end]) {
            return Some(c);
        }
        from = start + 3;
    }
    None
}

// ---------------------------------------------------------------------------------------------------------
// The SMTP listener

/// How long a sending server may stay silent before the listener hangs up.
const IDLE: std::time::Duration = std::time::Duration::from_secs(300);
/// The longest command or text line taken (RFC 5321 allows 1,000 octets; generous for broken senders).
const MAX_LINE: usize = 64 * 1024;

/// Serves SMTP on `listener` for a support address whose MX points here: every mail goes to [`receive`], and
/// the sending server hears `250` only once the mail is stored or set aside (`451` when storage failed or the
/// sender is over its rate, so it tries again later; `550 5.7.1` for a blocked sender; `552` over
/// [`MAX_MAIL_BYTES`]). The protocol's state machine is the `mailin` crate's; this is its socket.
pub async fn serve_smtp(app: App, listener: tokio::net::TcpListener) {
    serve_smtp_tls(app, listener, None).await
}

/// [`serve_smtp`] offering STARTTLS with `tls` (a certificate and key, [`crate::tls::server_config`]).
///
/// STARTTLS is offered, not required: RFC 3207 forbids a publicly referenced MX to insist on it, since a
/// sender that cannot do TLS would then bounce its mail instead of sending it in clear. What TLS buys is that
/// a passive listener on the path reads nothing, and sending servers that do insist (MTA-STS, DANE) can
/// deliver.
pub async fn serve_smtp_tls(
    app: App,
    listener: tokio::net::TcpListener,
    tls: Option<std::sync::Arc<crate::tls::rustls::ServerConfig>>,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let app = app.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Err(e) = smtp_connection(app, stream, peer, acceptor).await {
                        tracing::debug!(error = %e, %peer, "SMTP connection ended");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "SMTP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// The handler `mailin` calls: collects one mail's lines; the connection takes the finished mail.
struct Collector {
    slot: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>,
    buf: Vec<u8>,
    too_big: bool,
}

impl mailin::Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> mailin::Response {
        self.buf.clear();
        self.too_big = false;
        mailin::response::OK
    }

    fn data(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.buf.len() + line.len() > MAX_MAIL_BYTES {
            self.too_big = true;
        } else if !self.too_big {
            self.buf.extend_from_slice(line);
        }
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        if self.too_big {
            self.buf = Vec::new();
            return mailin::response::NO_STORAGE;
        }
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::mem::take(&mut self.buf));
        mailin::response::OK
    }
}

async fn smtp_connection(
    app: App,
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncWriteExt, BufReader};
    let _ = stream.set_nodelay(true);
    let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
    let collector = Collector { slot: slot.clone(), buf: Vec::new(), too_big: false };
    let mut builder = mailin::SessionBuilder::new("lifebuoy");
    if tls.is_some() {
        builder.enable_start_tls();
    }
    let mut session = builder.build(peer.ip(), collector);
    let mut plain = BufReader::new(stream);
    plain.write_all(&session.greeting().buffer()?).await?;
    if !converse(&app, &mut session, &slot, &mut plain, peer).await? {
        return Ok(());
    }
    // STARTTLS was answered `220`. Anything the client sent after the command, before the handshake, was
    // sent in clear and would be taken as if it came over TLS (command injection, CVE-2011-0411): hang up.
    if !plain.buffer().is_empty() {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "data pipelined after STARTTLS"));
    }
    let Some(acceptor) = tls else {
        return Err(std::io::Error::other("STARTTLS accepted without a certificate"));
    };
    let secure = tokio::time::timeout(IDLE, acceptor.accept(plain.into_inner()))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake"))??;
    session.tls_active();
    let mut secure = BufReader::new(secure);
    if converse(&app, &mut session, &slot, &mut secure, peer).await? {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "STARTTLS inside TLS"));
    }
    let _ = secure.into_inner().shutdown().await;
    Ok(())
}

/// Reads commands and mail lines from `io` and answers them until the client leaves (`false`) or the session
/// asks for the TLS upgrade after a `220` to STARTTLS (`true`).
async fn converse<S>(
    app: &App,
    session: &mut mailin::Session<Collector>,
    slot: &std::sync::Mutex<Option<Vec<u8>>>,
    io: &mut tokio::io::BufReader<S>,
    peer: std::net::SocketAddr,
) -> std::io::Result<bool>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let n = tokio::time::timeout(IDLE, (&mut *io).take(MAX_LINE as u64).read_until(b'\n', &mut line))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
        if n == 0 {
            return Ok(false);
        }
        // Bare LF from careless senders is taken as CRLF.
        if !line.ends_with(b"\r\n") && line.ends_with(b"\n") {
            line.pop();
            line.extend_from_slice(b"\r\n");
        }
        let mut response = session.process(&line);
        let finished = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(raw) = finished {
            match receive(app, &raw).await {
                Ok(Received::Rejected { refusal: Refusal::Later, .. }) => {
                    response =
                        mailin::Response::custom(451, "4.7.1 Too much mail from this sender; try again later".into());
                }
                Ok(Received::Rejected { refusal: Refusal::Never, .. }) => {
                    response = mailin::Response::custom(550, "5.7.1 Mail from this sender is not accepted".into());
                }
                Ok(r) => tracing::info!(outcome = ?r, %peer, "mail taken in"),
                Err(e) => {
                    tracing::warn!(error = %e, %peer, "a mail could not be stored; the sender will retry");
                    response = mailin::response::INTERNAL_ERROR;
                }
            }
        }
        match response.action {
            mailin::Action::NoReply => {}
            mailin::Action::Close => {
                io.write_all(&response.buffer()?).await?;
                io.flush().await?;
                return Ok(false);
            }
            mailin::Action::UpgradeTls => {
                io.write_all(&response.buffer()?).await?;
                io.flush().await?;
                return Ok(true);
            }
            _ => {
                io.write_all(&response.buffer()?).await?;
                // A TLS stream holds what is written until flushed.
                io.flush().await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::case_number_in;

    #[test]
    fn case_numbers_are_found_in_subjects() {
        assert_eq!(
            case_number_in("Re: 提币未到账 [LB-261129-0042]").map(|c| c.to_string()),
            Some("LB-261129-0042".into())
        );
        assert_eq!(
            case_number_in("re: lb-261129-0007 still waiting").map(|c| c.to_string()),
            Some("LB-261129-0007".into())
        );
        assert_eq!(case_number_in("LB- nothing here LB-99"), None);
        assert_eq!(case_number_in("no case"), None);
    }
}
