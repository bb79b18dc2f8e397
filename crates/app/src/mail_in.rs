//! Mail in: a customer's mail to the support address becomes a case (kind `email`), or joins the case it
//! answers. [`receive`] is the use case, called as the system (the SMTP listener below, an IMAP poller later):
//!
//! 1. parsed with `mail-parser` (MIME, RFC 2047 words, quoted-printable and base64, GBK, GB18030, Big5,
//!    ISO-2022-JP...); an unreadable mail is refused with that reason;
//! 2. no loops and no floods: auto-replies (`Auto-Submitted`, `X-Autoreply`, `X-Autorespond`), bulk and list
//!    mail (`Precedence`), delivery reports (`multipart/report`), bounces (`MAILER-DAEMON`, `postmaster`) and
//!    mail from the support address itself are refused, each noted with its reason (`mail_rejections`);
//! 3. the same Message-ID twice is stored once;
//! 4. threaded by `In-Reply-To`/`References` (any mail of the thread, in or out), else by the case number in the
//!    subject (a case of the same sender); otherwise a new case;
//! 5. the sender becomes a customer by address (the guest of that address: signing in to the portal with a code
//!    sent there shows the same cases).
//!
//! The listener answers `250` only after the case is committed, so a mail acknowledged to the sending server
//! is never lost; a storage failure answers `451` and the sender retries.

use crate::{App, AppResult};
use lifebuoy_domain::{CaseNumber, Category, ConversationKind, Lang, Priority};
use lifebuoy_store::{Actor as Author, NewTicket, ReplyOutcome};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// The longest body a case takes from a mail, in characters (the rest is cut, and the cut is said).
pub const MAX_BODY_CHARS: usize = 20_000;
/// The largest mail the listener takes, in bytes.
pub const MAX_MAIL_BYTES: usize = 30 * 1024 * 1024;

/// What became of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new case.
    Opened { conversation_id: String, case_number: Option<String> },
    /// Added to an existing case (or to a follow-up of a closed one).
    Added { conversation_id: String },
    /// The same Message-ID was taken before.
    Duplicate { conversation_id: String },
    /// Refused, with the reason (noted in `mail_rejections`).
    Rejected { reason: String },
}

/// Takes in one mail (its raw bytes as received).
pub async fn receive(app: &App, raw: &[u8]) -> AppResult<Received> {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return reject(app, None, None, None, "unreadable: not a mail message").await;
    };
    let message_id = msg.message_id().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| {
        use sha2::{Digest, Sha256};
        format!("no-id-{}@lifebuoy", hex::encode(&Sha256::digest(raw)[..16]))
    });
    let subject = msg.subject().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let from = msg.from().and_then(|a| a.first());
    let sender = from.and_then(|a| a.address()).map(|a| a.trim().to_lowercase());
    let name = from.and_then(|a| a.name()).map(str::to_string);
    let why = if sender.is_none() {
        Some("no sender address".to_string())
    } else if let Some(v) = header_text(&msg, "Auto-Submitted").filter(|v| !v.eq_ignore_ascii_case("no")) {
        Some(format!("automatic mail (Auto-Submitted: {v})"))
    } else if header_text(&msg, "X-Autoreply").is_some() || header_text(&msg, "X-Autorespond").is_some() {
        Some("automatic reply (X-Autoreply)".to_string())
    } else if let Some(v) = header_text(&msg, "Precedence")
        .filter(|v| ["bulk", "junk", "list", "auto_reply"].contains(&v.to_ascii_lowercase().as_str()))
    {
        Some(format!("bulk mail (Precedence: {v})"))
    } else if msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        Some("delivery status report".to_string())
    } else if sender.as_deref().is_some_and(|s| {
        let local = s.split('@').next().unwrap_or_default();
        local.eq_ignore_ascii_case("mailer-daemon") || local.eq_ignore_ascii_case("postmaster")
    }) {
        Some("bounce (from the mail system)".to_string())
    } else if sender.is_some() && sender == app.mailer.support_address() {
        Some("from the support address itself (a loop)".to_string())
    } else if lifebuoy_domain::Email::parse(sender.as_deref().unwrap_or_default()).is_err() {
        Some("the sender's address is not valid".to_string())
    } else {
        None
    };
    if let Some(reason) = why {
        return reject(app, Some(&message_id), sender.as_deref(), subject.as_deref(), &reason).await;
    }
    let sender = sender.unwrap_or_default();
    if let Some(known) = app.store.mail_known(&message_id).await? {
        return Ok(Received::Duplicate { conversation_id: known.conversation_id });
    }
    let text = msg.body_text(0).map(|t| t.trim().to_string()).unwrap_or_default();
    let mut body = if text.is_empty() { "(no text)".to_string() } else { text };
    if body.chars().count() > MAX_BODY_CHARS {
        body = body.chars().take(MAX_BODY_CHARS).collect::<String>() + "\n\n[…]";
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
    if let Some(cid) = thread {
        let out = app.store.reply(&cid, &author, &body, false, &[], None, idem).await?;
        let (ReplyOutcome::Added { message, conversation } | ReplyOutcome::FollowUp { message, conversation }) = out;
        app.store.record_mail(&message_id, &conversation.id, "in", Some(&message.id)).await?;
        return Ok(Received::Added { conversation_id: conversation.id });
    }
    let subject: String = subject.unwrap_or_else(|| body.lines().next().unwrap_or("(no subject)").to_string());
    let subject: String = subject.chars().take(200).collect();
    let lang = Lang::parse(lifebuoy_search::detect_lang(&format!("{subject}\n{body}"))).unwrap_or(Lang::ZhHans);
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
        tags: vec!["email".into()],
        attachment_ids: vec![],
    };
    let (c, created) = app.store.create_ticket(&t, &author, idem).await?;
    app.store.record_mail(&message_id, &c.id, "in", None).await?;
    Ok(if created {
        Received::Opened { conversation_id: c.id, case_number: c.case_number }
    } else {
        Received::Duplicate { conversation_id: c.id }
    })
}

async fn reject(
    app: &App,
    message_id: Option<&str>,
    sender: Option<&str>,
    subject: Option<&str>,
    reason: &str,
) -> AppResult<Received> {
    tracing::info!(message_id, sender, reason, "mail refused");
    app.store.record_mail_rejection(message_id, sender, subject, reason).await?;
    Ok(Received::Rejected { reason: reason.to_string() })
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
/// the sending server hears `250` only once the mail is stored (`451` when storage failed, so it tries again;
/// `552` over [`MAX_MAIL_BYTES`]). The protocol's state machine is the `mailin` crate's; this is its socket.
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
