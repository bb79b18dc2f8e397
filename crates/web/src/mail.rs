//! Outgoing mail. Until the email channel lands, messages are written to the server log, where an operator
//! (or the demo) can read them; the email issue replaces this with SMTP delivery through an outbox.

/// Sends the few mails the foundation needs.
#[derive(Debug, Clone, Default)]
pub struct Mailer;

impl Mailer {
    /// A guest's one-time sign-in code.
    pub fn send_guest_code(&self, to: &str, code: &str) {
        tracing::info!(to, code, "guest sign-in code (no SMTP configured: logged instead of mailed)");
    }
}
