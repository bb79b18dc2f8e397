//! Outgoing mail over SMTP (lettre). Configured with `LIFEBUOY_SMTP_URL` (the relay, [`SmtpUrl`])
//! and `LIFEBUOY_MAIL_FROM` (or `--support-address`); without them, mails are written to the server log so a
//! laptop demo still works. Replies to cases go out through durable jobs ([`crate::mail_out`]); the sign-in
//! codes below are sent at once.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends mail.
#[derive(Clone, Default)]
pub struct Mailer {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    /// The address customers write to (`--support-address`): replies come from it, and mail from it is never
    /// taken in (a loop).
    support: Option<Mailbox>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.smtp.is_some() { "Mailer(smtp)" } else { "Mailer(log)" })
    }
}

impl Mailer {
    /// A mailer over SMTP to the relay of `url` (see [`SmtpUrl`]) trusting the system's roots.
    pub fn smtp(url: &str, from: &str) -> Result<Self, String> {
        Self::smtp_trusting(url, from, None)
    }

    /// [`Mailer::smtp`], also trusting the PEM certificates in `ca` (a private relay with its own CA).
    ///
    /// Connections to the relay are pooled (up to [`SMTP_POOL`] open at once, kept a minute when idle): a new
    /// connection costs a TCP handshake, EHLO, perhaps TLS and AUTH, several round trips that a reused one
    /// skips, and replies are sent by as many jobs at once as the runner runs.
    pub fn smtp_trusting(url: &str, from: &str, ca: Option<&[u8]>) -> Result<Self, String> {
        use lettre::transport::smtp::PoolConfig;
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
        let u = SmtpUrl::parse(url)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(u.host.clone())
            .port(u.port)
            .timeout(Some(std::time::Duration::from_secs(60)))
            .pool_config(PoolConfig::new().max_size(SMTP_POOL));
        if u.security != Security::None {
            let mut params = TlsParameters::builder(u.host.clone());
            if let Some(pem) = ca {
                let cert = Certificate::from_pem(pem).map_err(|e| format!("trusted certificates: {e}"))?;
                params = params.add_root_certificate(cert);
            }
            let params = params.build_rustls().map_err(|e| format!("SMTP URL {}: TLS: {e}", u.redacted()))?;
            builder = builder.tls(match u.security {
                Security::Implicit => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        if let Some((user, pass)) = u.credentials.clone() {
            builder = builder.credentials(Credentials::new(user, pass));
        }
        let from: Mailbox = from.parse().map_err(|e| format!("mail from {from:?}: {e}"))?;
        tracing::info!(relay = %u.redacted(), "outgoing mail through an SMTP relay");
        Ok(Mailer { smtp: Some((builder.build(), from)), support: None })
    }

    /// The support address: customers' mail to it becomes cases, and replies are sent from it.
    pub fn with_support_address(mut self, address: &str) -> Result<Self, String> {
        let mb: Mailbox = address.parse().map_err(|e| format!("support address {address:?}: {e}"))?;
        self.support = Some(mb);
        Ok(self)
    }

    /// Who replies come from: the support address, else the configured sender.
    pub fn reply_from(&self) -> Option<Mailbox> {
        self.support.clone().or_else(|| self.smtp.as_ref().map(|(_, f)| f.clone()))
    }

    /// The support address (lower case), if one is set.
    pub fn support_address(&self) -> Option<String> {
        self.reply_from().map(|m| m.email.to_string().to_lowercase())
    }

    /// The domain of this desk's Message-IDs.
    pub fn message_id_domain(&self) -> String {
        self.reply_from().map(|m| m.email.domain().to_string()).unwrap_or_else(|| "lifebuoy.localhost".into())
    }

    /// Sends one built message and waits for the relay's answer. Without SMTP, logs it and answers `Ok` (the
    /// demo's mails are in the log).
    pub async fn send_now(&self, msg: Message) -> Result<(), String> {
        let Some((transport, _)) = &self.smtp else {
            let text = String::from_utf8_lossy(&msg.formatted()).into_owned();
            tracing::info!(mail = %text, "mail (no SMTP configured: logged instead of mailed)");
            return Ok(());
        };
        transport.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
    }

    /// A guest's one-time sign-in code, in the three languages (the guest has no profile language yet).
    pub fn send_guest_code(&self, to: &str, code: &str) {
        let body = format!(
            "您的 Lifebuoy 客服中心验证码：{code}（15 分钟内有效）\n您的 Lifebuoy 客服中心驗證碼：{code}（15 分鐘內有效）\n\
             Your Lifebuoy support sign-in code: {code} (valid for 15 minutes)\n\n\
             客服人员绝不会向您索要此验证码。Support staff will never ask you for this code.\n"
        );
        self.deliver(to, format!("验证码 / 驗證碼 / Sign-in code: {code}"), body, "guest sign-in code");
    }

    /// Tells the owner of an address that guest sign-in to it was locked after wrong codes (someone may be
    /// trying to get in), in the three languages.
    pub fn send_guest_locked(&self, to: &str, minutes: i64) {
        let body = format!(
            "有人连续输错了您邮箱的 Lifebuoy 客服中心验证码，登录已暂停 {minutes} 分钟。如果不是您本人操作，请忽略验证码请求，切勿把验证码告诉任何人。\n\
             有人連續輸錯了您信箱的 Lifebuoy 客服中心驗證碼，登入已暫停 {minutes} 分鐘。如果不是您本人操作，請忽略驗證碼請求，切勿把驗證碼告訴任何人。\n\
             Someone typed wrong Lifebuoy support sign-in codes for this address; sign-in is paused for {minutes} minutes. \
             If this was not you, ignore any code requests and never share a code with anyone.\n"
        );
        self.deliver(to, "登录已暂停 / 登入已暫停 / Sign-in paused".into(), body, "guest lockout notice");
    }

    /// Sends one plain-text mail in the background (or logs it without SMTP); failures are logged.
    fn deliver(&self, to: &str, subject: String, body: String, what: &'static str) {
        let Some((transport, from)) = self.smtp.clone() else {
            tracing::info!(to, subject, body, "{what} (no SMTP configured: logged instead of mailed)");
            return;
        };
        let to_owned = to.to_string();
        tokio::spawn(async move {
            let msg = to_owned.parse::<Mailbox>().map_err(|e| e.to_string()).and_then(|rcpt| {
                Message::builder()
                    .from(from)
                    .to(rcpt)
                    .subject(subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(body)
                    .map_err(|e| e.to_string())
            });
            let res = match msg {
                Ok(m) => transport.send(m).await.map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            if let Err(e) = res {
                tracing::error!(to = %to_owned, error = %e, "could not send the {what}");
            }
        });
    }
}

/// Relay connections open at once at most: the job runner's default concurrency, so that no reply waits for a
/// connection while another sits idle.
pub const SMTP_POOL: u32 = 32;

/// How a mail connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`smtps://`, `imaps://`).
    Implicit,
    /// Plain at first, then STARTTLS, which must succeed (`?tls=starttls`, or `required`).
    StartTls,
    /// No TLS: a relay on this host or a private network that does the TLS towards the world.
    None,
}

/// Where outgoing mail goes (`--smtp-url`):
///
/// - `smtp://host:port`: plain SMTP (port 25 by default) to a local or private relay;
/// - `smtp://user:pass@host:587?tls=starttls` (or `tls=required`): STARTTLS, which must succeed, then AUTH;
/// - `smtps://user:pass@host:465`: TLS from the first byte (implicit TLS, "submissions"), then AUTH.
///
/// The user and password are URL-decoded (`%40` for `@`). A password over plain SMTP is refused unless the
/// relay is on this host: it would cross the network in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl SmtpUrl {
    pub fn parse(url: &str) -> Result<SmtpUrl, String> {
        let p = MailUrl::parse(url, &["smtp", "smtps"])?;
        let security = match (p.scheme.as_str(), p.tls.as_deref()) {
            ("smtps", None | Some("implicit")) => Security::Implicit,
            ("smtp", None | Some("none")) => Security::None,
            ("smtp", Some("starttls" | "required")) => Security::StartTls,
            (_, Some(t)) => {
                return Err(format!("{}: tls={t} is not one of starttls, required, none", p.redacted));
            }
            _ => unreachable!("the scheme was checked"),
        };
        let port = p.port.unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTls => 587,
            Security::None => 25,
        });
        if let Some(k) = p.other_params.first() {
            return Err(format!("{}: unknown parameter {k:?} (only tls=)", p.redacted));
        }
        if !p.path.is_empty() {
            return Err(format!("{}: an SMTP URL has no path", p.redacted));
        }
        let u = SmtpUrl { host: p.host, port, security, credentials: p.credentials };
        if u.credentials.is_some() && u.security == Security::None && !is_loopback(&u.host) {
            return Err(format!(
                "{}: a password over plain SMTP would cross the network in clear; use smtps:// or ?tls=starttls",
                u.redacted()
            ));
        }
        Ok(u)
    }

    /// The URL without its password, for logs and errors.
    pub fn redacted(&self) -> String {
        let scheme = if self.security == Security::Implicit { "smtps" } else { "smtp" };
        let user = self.credentials.as_ref().map(|(u, _)| format!("{u}:***@")).unwrap_or_default();
        let tls = if self.security == Security::StartTls { "?tls=starttls" } else { "" };
        format!("{scheme}://{user}{}:{}{tls}", self.host, self.port)
    }
}

/// Whether a host name or address is this machine.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
}

/// The parts of a mail server URL (`smtp`, `smtps`, `imap`, `imaps`) shared by [`SmtpUrl`] and the IMAP
/// poller's URL.
#[derive(Debug, Clone)]
pub(crate) struct MailUrl {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    pub credentials: Option<(String, String)>,
    /// The path without its leading `/`, URL-decoded.
    pub path: String,
    pub tls: Option<String>,
    /// Query parameters other than `tls`, in order.
    pub params: Vec<(String, String)>,
    /// Names of the parameters the caller did not ask for (filled by the caller's check).
    pub other_params: Vec<String>,
    /// The URL with its password replaced by `***`.
    pub redacted: String,
}

impl MailUrl {
    pub(crate) fn parse(url: &str, schemes: &[&str]) -> Result<MailUrl, String> {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8().map(|c| c.into_owned());
        let parsed = url::Url::parse(url.trim()).map_err(|e| format!("mail server URL: {e}"))?;
        let mut shown = parsed.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        let redacted = shown.to_string();
        let scheme = parsed.scheme().to_ascii_lowercase();
        if !schemes.contains(&scheme.as_str()) {
            return Err(format!("{redacted}: expected {}", schemes.join("://, ") + "://"));
        }
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("{redacted}: no host"))?;
        let user = decode(parsed.username()).map_err(|_| format!("{redacted}: the user is not UTF-8"))?;
        let pass =
            parsed.password().map(decode).transpose().map_err(|_| format!("{redacted}: the password is not UTF-8"))?;
        let credentials = match (user.is_empty(), pass) {
            (true, None) => None,
            (false, Some(p)) => Some((user, p)),
            _ => return Err(format!("{redacted}: give both a user and a password, or neither")),
        };
        let path = decode(parsed.path().trim_start_matches('/')).map_err(|_| format!("{redacted}: path"))?;
        let mut tls = None;
        let mut params = Vec::new();
        for (k, v) in parsed.query_pairs() {
            if k == "tls" {
                tls = Some(v.to_ascii_lowercase());
            } else {
                params.push((k.into_owned(), v.into_owned()));
            }
        }
        let other_params = params.iter().map(|(k, _)| k.clone()).collect();
        Ok(MailUrl {
            scheme,
            host: host.to_string(),
            port: parsed.port(),
            credentials,
            path,
            tls,
            params,
            other_params,
            redacted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_name_their_security_port_and_decoded_credentials() {
        let plain = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((plain.security, plain.port, plain.credentials), (Security::None, 2525, None));
        assert_eq!(SmtpUrl::parse("smtp://relay.internal").unwrap().port, 25);
        let implicit = SmtpUrl::parse("smtps://desk%40example.com:p%40ss%2Fw@mail.example.com").unwrap();
        assert_eq!(implicit.security, Security::Implicit);
        assert_eq!(implicit.port, 465);
        assert_eq!(implicit.credentials, Some(("desk@example.com".into(), "p@ss/w".into())));
        assert!(!format!("{implicit:?}").contains("p@ss"), "the password is not shown: {implicit:?}");
        let start = SmtpUrl::parse("smtp://u:p@mail.example.com?tls=starttls").unwrap();
        assert_eq!((start.security, start.port), (Security::StartTls, 587));
        assert_eq!(SmtpUrl::parse("smtp://u:p@mail.example.com:2587?tls=required").unwrap().port, 2587);
    }

    #[test]
    fn smtp_urls_that_would_leak_or_are_mistyped_are_refused() {
        let clear = SmtpUrl::parse("smtp://u:secret@mail.example.com:25").unwrap_err();
        assert!(clear.contains("in clear") && !clear.contains("secret"), "{clear}");
        assert!(SmtpUrl::parse("smtp://u:p@127.0.0.1:25").is_ok(), "a relay on this host may take a password");
        assert!(SmtpUrl::parse("smtp://mail.example.com?tls=startls").unwrap_err().contains("startls"));
        assert!(SmtpUrl::parse("smtp://mail.example.com?tsl=starttls").unwrap_err().contains("tsl"));
        assert!(SmtpUrl::parse("http://mail.example.com").is_err());
        assert!(SmtpUrl::parse("smtp://u@mail.example.com?tls=starttls").is_err(), "a user without a password");
    }
}
