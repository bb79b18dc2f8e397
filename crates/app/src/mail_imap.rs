//! Mail in by IMAP: for a support mailbox hosted elsewhere (a provider's mailbox, an existing mail server), a
//! background task logs in, takes every unseen mail of the mailbox through [`crate::mail_in::receive`] (the
//! same use case as the SMTP listener: the same threading, duplicate and loop rules) and only then marks it
//! `\Seen`, or moves it to a folder (`?move=Processed`).
//!
//! Why in that order: a mail is fetched with `BODY.PEEK[]`, which leaves it unseen, and is marked only after
//! `receive` answered (a case committed, a duplicate, or a refusal noted with its reason). A crash or a lost
//! connection between the two leaves it unseen, so it is taken again on the next round, and `receive` knows
//! its Message-ID: stored once. A storage failure leaves it unseen too, and the round ends; the task tries
//! again after a backoff.
//!
//! Between rounds the task waits in IDLE when the server offers it (renewed every few minutes, and a round runs
//! at each renewal in case a notification was missed), else it polls every `?poll=` seconds (default 30). A
//! dropped connection or a refused login is retried with a backoff of 1 s doubling to a minute. The task stops
//! at shutdown ([`ImapPoller::shutdown`]) after the mail in hand, never halfway through one.

use crate::mail::{MailUrl, Security, is_loopback};
use crate::mail_in::{MAX_MAIL_BYTES, Received, Refusal, receive};
use crate::{App, tls};
use async_imap::Session;
use futures::TryStreamExt;
use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// How long one IDLE lasts before the task renews it and looks at the mailbox once more (RFC 2177: servers
/// may drop an IDLE after 30 minutes; NATs drop quiet connections far sooner).
const IDLE_RENEW: Duration = Duration::from_secs(5 * 60);
/// Connecting, TLS, login, select, and every command's answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Which mailbox to read (`--imap`):
///
/// - `imaps://user:pass@host:993/INBOX`: TLS from the first byte (port 993 by default);
/// - `imap://user:pass@host:143/INBOX?tls=starttls`: STARTTLS, which must succeed;
/// - `imap://user:pass@127.0.0.1:143/INBOX?tls=none`: no TLS, only to a server on this host.
///
/// The path is the mailbox (default `INBOX`). `?move=Folder` moves each mail taken in to that folder (created
/// if missing) instead of only marking it seen; `?poll=N` polls every N seconds when the server has no IDLE.
/// User and password are URL-decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapUrl {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub password: String,
    pub mailbox: String,
    pub move_to: Option<String>,
    pub poll: Duration,
}

impl Debug for ImapUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl ImapUrl {
    pub fn parse(url: &str) -> Result<ImapUrl, String> {
        let p = MailUrl::parse(url, &["imap", "imaps"])?;
        let security = match (p.scheme.as_str(), p.tls.as_deref()) {
            ("imaps", None | Some("implicit")) => Security::Implicit,
            ("imap", Some("starttls" | "required")) => Security::StartTls,
            ("imap", Some("none")) => Security::None,
            ("imap", None) => {
                return Err(format!(
                    "{}: say how to protect the connection: imaps://, or imap://...?tls=starttls (or tls=none to a \
                     server on this host)",
                    p.redacted
                ));
            }
            (_, Some(t)) => return Err(format!("{}: tls={t} is not one of starttls, none", p.redacted)),
            _ => return Err(format!("{}: expected imap:// or imaps://", p.redacted)),
        };
        let (user, password) = p.credentials.ok_or_else(|| format!("{}: no user and password", p.redacted))?;
        if security == Security::None && !is_loopback(&p.host) {
            return Err(format!("{}: tls=none would send the password in clear over the network", p.redacted));
        }
        let mut move_to = None;
        let mut poll = Duration::from_secs(30);
        for (k, v) in &p.params {
            match k.as_str() {
                "move" if !v.trim().is_empty() => move_to = Some(v.trim().to_string()),
                "poll" => {
                    let s: u64 =
                        v.parse().map_err(|_| format!("{}: poll={v} is not a number of seconds", p.redacted))?;
                    poll = Duration::from_secs(s.clamp(1, 3600));
                }
                other => return Err(format!("{}: unknown parameter {other:?} (tls, move, poll)", p.redacted)),
            }
        }
        let mailbox = if p.path.trim().is_empty() { "INBOX".to_string() } else { p.path.trim().to_string() };
        let port = p.port.unwrap_or(if security == Security::Implicit { 993 } else { 143 });
        Ok(ImapUrl { host: p.host, port, security, user, password, mailbox, move_to, poll })
    }

    /// The URL without its password, for logs.
    pub fn redacted(&self) -> String {
        let (scheme, tls) = match self.security {
            Security::Implicit => ("imaps", ""),
            Security::StartTls => ("imap", "?tls=starttls"),
            Security::None => ("imap", "?tls=none"),
        };
        format!("{scheme}://{}:***@{}:{}/{}{tls}", self.user, self.host, self.port, self.mailbox)
    }
}

/// The running poller: stop it with [`ImapPoller::shutdown`].
pub struct ImapPoller {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    stats: Arc<ImapStats>,
}

/// What the poller has done so far (for the logs' neighbours: tests and `/metrics` later).
#[derive(Debug, Default)]
pub struct ImapStats {
    /// Rounds that looked at the mailbox to the end (all unseen mail taken in).
    pub rounds: AtomicU64,
    /// Mails handed to `receive` and marked afterwards.
    pub taken: AtomicU64,
    /// Sessions that ended in an error (each followed by a reconnection).
    pub errors: AtomicU64,
}

impl ImapPoller {
    /// Starts polling `url` in the background. `tls` is the client configuration for `imaps://` and STARTTLS
    /// ([`tls::client_config`]).
    pub fn start(app: App, url: ImapUrl, tls: Arc<tls::rustls::ClientConfig>) -> ImapPoller {
        let (stop, rx) = watch::channel(false);
        let stats = Arc::new(ImapStats::default());
        let task = tokio::spawn(supervise(app, url, tls, rx, stats.clone()));
        ImapPoller { stop, task, stats }
    }

    pub fn stats(&self) -> &ImapStats {
        &self.stats
    }

    /// Stops after the mail in hand (if any) is taken in and marked, logs out, and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the IMAP poller ended badly");
        }
    }
}

/// Keeps one session going: reconnects after any failure, waiting 1 s, 2 s, 4 s... up to a minute (reset after a
/// session that lasted a minute).
async fn supervise(
    app: App,
    url: ImapUrl,
    tls: Arc<tls::rustls::ClientConfig>,
    mut stop: watch::Receiver<bool>,
    stats: Arc<ImapStats>,
) {
    tracing::info!(mailbox = %url.redacted(), "taking in mail from an IMAP mailbox");
    let mut failures: u32 = 0;
    loop {
        if *stop.borrow() {
            return;
        }
        let started = std::time::Instant::now();
        match session(&app, &url, &tls, &mut stop, &stats).await {
            Ok(()) => return,
            Err(e) => {
                stats.errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, mailbox = %url.redacted(), "IMAP session ended; reconnecting");
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            failures = 0;
        }
        failures = failures.saturating_add(1);
        let wait = Duration::from_secs(1u64 << failures.clamp(1, 7).saturating_sub(1)).min(MAX_BACKOFF);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn timed<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer in {} s", COMMAND_TIMEOUT.as_secs())),
    }
}

/// Connects, logs in and serves the mailbox until stopped (`Ok`) or an error (`Err`, to reconnect).
async fn session(
    app: &App,
    url: &ImapUrl,
    tls: &Arc<tls::rustls::ClientConfig>,
    stop: &mut watch::Receiver<bool>,
    stats: &ImapStats,
) -> Result<(), String> {
    let tcp = timed("connect", tokio::net::TcpStream::connect((url.host.as_str(), url.port))).await?;
    let _ = tcp.set_nodelay(true);
    let name = tls::rustls::pki_types::ServerName::try_from(url.host.clone())
        .map_err(|e| format!("server name {:?}: {e}", url.host))?;
    let connector = tokio_rustls::TlsConnector::from(tls.clone());
    match url.security {
        Security::Implicit => {
            let stream = timed("TLS", connector.connect(name, tcp)).await?;
            let mut client = async_imap::Client::new(stream);
            greeting(&mut client).await?;
            serve(app, url, login(client, url).await?, stop, stats).await
        }
        Security::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client).await?;
            timed("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
            let stream = timed("TLS", connector.connect(name, client.into_inner())).await?;
            let client = async_imap::Client::new(stream);
            serve(app, url, login(client, url).await?, stop, stats).await
        }
        Security::None => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client).await?;
            serve(app, url, login(client, url).await?, stop, stats).await
        }
    }
}

async fn greeting<T: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    client: &mut async_imap::Client<T>,
) -> Result<(), String> {
    match timed("greeting", client.read_response()).await? {
        Some(_) => Ok(()),
        None => Err("the server closed the connection before greeting".into()),
    }
}

async fn login<T: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    client: async_imap::Client<T>,
    url: &ImapUrl,
) -> Result<Session<T>, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, client.login(&url.user, &url.password)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err((e, _))) => Err(format!("login as {}: {e}", url.user)),
        Err(_) => Err("login: no answer".into()),
    }
}

/// One logged-in session: select, take in what is unseen, wait (IDLE or poll), again.
async fn serve<T: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    app: &App,
    url: &ImapUrl,
    mut s: Session<T>,
    stop: &mut watch::Receiver<bool>,
    stats: &ImapStats,
) -> Result<(), String> {
    let caps = timed("CAPABILITY", s.capabilities()).await?;
    let (idle, can_move) = (caps.has_str("IDLE"), caps.has_str("MOVE"));
    let uidplus = caps.has_str("UIDPLUS");
    drop(caps);
    if let Some(folder) = &url.move_to {
        // Already there is the usual answer; a real failure shows at the first move.
        let _ = timed("CREATE", s.create(folder)).await;
    }
    timed("SELECT", s.select(&url.mailbox)).await?;
    tracing::info!(mailbox = %url.redacted(), idle, "IMAP mailbox selected");
    loop {
        while s.unsolicited_responses.try_recv().is_ok() {}
        take_unseen(app, url, &mut s, stop, stats, can_move, uidplus).await?;
        stats.rounds.fetch_add(1, Ordering::Relaxed);
        if *stop.borrow() {
            let _ = tokio::time::timeout(Duration::from_secs(5), s.logout()).await;
            return Ok(());
        }
        if idle {
            let mut handle = s.idle();
            timed("IDLE", handle.init()).await?;
            let stopped = {
                let (wait, _interrupt) = handle.wait_with_timeout(IDLE_RENEW);
                tokio::select! {
                    r = wait => { r.map_err(|e| format!("IDLE: {e}"))?; false }
                    _ = stop.changed() => true,
                }
            };
            s = timed("DONE", handle.done()).await?;
            if stopped {
                let _ = tokio::time::timeout(Duration::from_secs(5), s.logout()).await;
                return Ok(());
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(url.poll) => {}
                _ = stop.changed() => {
                    let _ = tokio::time::timeout(Duration::from_secs(5), s.logout()).await;
                    return Ok(());
                }
            }
        }
    }
}

/// Takes in every unseen mail of the selected mailbox, oldest first; each is marked (or moved) only after
/// `receive` answered. Returns early, leaving the rest unseen, when asked to stop.
async fn take_unseen<T: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    app: &App,
    url: &ImapUrl,
    s: &mut Session<T>,
    stop: &watch::Receiver<bool>,
    stats: &ImapStats,
    can_move: bool,
    uidplus: bool,
) -> Result<(), String> {
    let mut uids: Vec<u32> = timed("SEARCH", s.uid_search("UNSEEN")).await?.into_iter().collect();
    uids.sort_unstable();
    for uid in uids {
        if *stop.borrow() {
            return Ok(());
        }
        let raw = {
            let fetches = timed("FETCH", s.uid_fetch(uid.to_string(), "(UID RFC822.SIZE BODY.PEEK[])")).await?;
            let all: Vec<_> = timed("FETCH", fetches.try_collect::<Vec<_>>()).await?;
            all.iter().find(|f| f.uid == Some(uid)).and_then(|f| f.body().map(<[u8]>::to_vec))
        };
        // Gone meanwhile (another client expunged it): nothing to take in.
        let Some(raw) = raw else { continue };
        let outcome = if raw.len() > MAX_MAIL_BYTES {
            let reason = format!("too large ({} bytes, at most {MAX_MAIL_BYTES})", raw.len());
            let size = raw.len().to_string();
            let why = lifebuoy_store::RefusalReason { code: "too_large", detail: Some(&size), text: &reason };
            app.store
                .record_mail_refusal(None, None, None, &why, Refusal::Never.as_str())
                .await
                .map_err(|e| format!("noting a refused mail: {e}"))?;
            Received::Rejected { reason, refusal: Refusal::Never }
        } else {
            // A storage failure leaves the mail unseen: the round ends here and the next session takes it.
            receive(app, &raw).await.map_err(|e| format!("mail UID {uid} could not be stored: {e}"))?
        };
        tracing::info!(uid, outcome = ?outcome, mailbox = %url.mailbox, "mail taken in from IMAP");
        if matches!(outcome, Received::Rejected { refusal: Refusal::Later, .. }) {
            // Over the sender's rate limit: left unseen, taken on a later round (as an SMTP sender would retry).
            continue;
        }
        mark_taken(s, url, uid, can_move, uidplus).await?;
        stats.taken.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// Marks one mail `\Seen`, and moves it when the URL asks: MOVE where the server has it, else COPY, then
/// `\Deleted` and an expunge of that UID alone (UIDPLUS) or of the mailbox.
async fn mark_taken<T: AsyncRead + AsyncWrite + Unpin + Debug + Send>(
    s: &mut Session<T>,
    url: &ImapUrl,
    uid: u32,
    can_move: bool,
    uidplus: bool,
) -> Result<(), String> {
    let set = uid.to_string();
    {
        let st = timed("STORE", s.uid_store(&set, "+FLAGS.SILENT (\\Seen)")).await?;
        timed("STORE", st.try_collect::<Vec<_>>()).await?;
    }
    let Some(folder) = &url.move_to else { return Ok(()) };
    if can_move {
        return timed("MOVE", s.uid_mv(&set, folder)).await;
    }
    timed("COPY", s.uid_copy(&set, folder)).await?;
    {
        let st = timed("STORE", s.uid_store(&set, "+FLAGS.SILENT (\\Deleted)")).await?;
        timed("STORE", st.try_collect::<Vec<_>>()).await?;
    }
    if uidplus {
        let ex = timed("EXPUNGE", s.uid_expunge(&set)).await?;
        timed("EXPUNGE", ex.try_collect::<Vec<_>>()).await?;
    } else {
        let ex = timed("EXPUNGE", s.expunge()).await?;
        timed("EXPUNGE", ex.try_collect::<Vec<_>>()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_urls_name_mailbox_security_and_options() {
        let u =
            ImapUrl::parse("imaps://desk%40example.com:p%40ss@mail.example.com/Support%20In?move=Processed").unwrap();
        assert_eq!((u.security, u.port, u.user.as_str()), (Security::Implicit, 993, "desk@example.com"));
        assert_eq!((u.password.as_str(), u.mailbox.as_str()), ("p@ss", "Support In"));
        assert_eq!(u.move_to.as_deref(), Some("Processed"));
        assert!(!format!("{u:?}").contains("p@ss"));
        let s = ImapUrl::parse("imap://u:p@mail.example.com?tls=starttls&poll=5").unwrap();
        assert_eq!(
            (s.security, s.port, s.mailbox.as_str(), s.poll),
            (Security::StartTls, 143, "INBOX", Duration::from_secs(5))
        );
        assert_eq!(ImapUrl::parse("imap://u:p@127.0.0.1:1143/INBOX?tls=none").unwrap().security, Security::None);
    }

    #[test]
    fn imap_urls_that_would_leak_or_are_mistyped_are_refused() {
        assert!(ImapUrl::parse("imap://u:p@mail.example.com/INBOX").is_err(), "no silent plain text");
        assert!(ImapUrl::parse("imap://u:p@mail.example.com/INBOX?tls=none").is_err(), "password in clear");
        assert!(ImapUrl::parse("imaps://mail.example.com/INBOX").is_err(), "no credentials");
        assert!(ImapUrl::parse("imaps://u:p@mail.example.com/INBOX?mvoe=X").unwrap_err().contains("mvoe"));
    }
}
