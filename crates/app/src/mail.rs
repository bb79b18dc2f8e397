//! Outgoing mail over SMTP (lettre). Configured with `LIFEBUOY_SMTP_URL` (`smtp://host:port` of a relay)
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
    /// A mailer over SMTP to a relay at `smtp://host:port` (plain SMTP to a local or private relay, which
    /// does the TLS and authentication towards the world).
    pub fn smtp(url: &str, from: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("smtp://").ok_or_else(|| format!("SMTP URL {url:?}: expected smtp://host:port"))?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse::<u16>().map_err(|_| format!("SMTP URL {url:?}: bad port"))?),
            None => (rest.trim_end_matches('/').to_string(), 25),
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).build();
        let from: Mailbox = from.parse().map_err(|e| format!("mail from {from:?}: {e}"))?;
        Ok(Mailer { smtp: Some((transport, from)), support: None })
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
