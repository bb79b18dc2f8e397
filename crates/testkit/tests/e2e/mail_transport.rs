//! The email channel's transports against real peers: STARTTLS on the SMTP listener (Python's smtplib as the
//! sending server), replies through a relay that demands TLS and AUTH (aiosmtpd: STARTTLS on a submission
//! port, and implicit TLS), and mail taken from an IMAP mailbox (Dovecot, over STARTTLS and over implicit
//! TLS). Certificates come from a throw-away CA made with openssl for each test.

use lifebuoy_app::mail_imap::{ImapPoller, ImapUrl};
use lifebuoy_testkit::{Backend, Dovecot, PeerTls, SmtpPeer, TestApp, TestCerts, spawn_app_configured};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;

const SUPPORT: &str = "support@desk.example";

async fn app_with(smtp: Option<String>, ca: Option<&TestCerts>) -> TestApp {
    let ca = ca.map(|c| std::fs::read(&c.ca).unwrap());
    spawn_app_configured(Backend::Sqlite, |c| {
        c.smtp = smtp.map(|u| (u, format!("Lifebuoy Support <{SUPPORT}>")));
        c.support_address = Some(SUPPORT.into());
        c.tls_ca = ca;
    })
    .await
}

fn raw_mail(from: &str, message_id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

/// Python's smtplib against the listener: with `cafile`, STARTTLS must be offered and is used (then the mail
/// goes over TLS); without, the script reports whether STARTTLS was offered and sends in clear. Prints what
/// happened.
fn smtplib(port: u16, cafile: Option<&std::path::Path>, raw: &str) -> String {
    let script = r#"
import smtplib, ssl, sys
port, cafile, raw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    s.ehlo("client.example")
    offered = s.has_extn("starttls")
    print("OFFERED", offered)
    if cafile:
        s.starttls(context=ssl.create_default_context(cafile=cafile))
        s.ehlo("client.example")
        print("AFTER", s.has_extn("starttls"))
        print("TLS", s.sock.version())
    s.sendmail("customer@example.com", ["support@desk.example"], raw.encode())
    print("SENT")
"#;
    let ca = cafile.map(|p| p.display().to_string()).unwrap_or_default();
    let out = std::process::Command::new("python3")
        .args(["-c", script, &port.to_string(), &ca, raw])
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "smtplib failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn wait_known(app: &TestApp, message_id: &str) -> String {
    for _ in 0..200 {
        if let Some(r) = app.store.mail_known(message_id).await.unwrap() {
            return r.conversation_id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the mail {message_id} was not taken in");
}

async fn email_cases(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.http.get(app.url("/api/v1/tickets")).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["items"].as_array().cloned().unwrap_or_default().into_iter().filter(|t| t["kind"] == "email").collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smtp_listener_offers_starttls_with_a_certificate_and_takes_mail_over_it() {
    let certs = TestCerts::generate();
    let app = app_with(None, None).await;
    let tls = lifebuoy_app::tls::server_config(&certs.cert, &certs.key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(lifebuoy_app::mail_in::serve_smtp_tls(app.app.clone(), listener, Some(tls)));

    let raw = raw_mail("Wang Wu <wang.wu@example.com>", "tls-1@example.com", "withdrawal stuck tls-1", "提币卡住了");
    let ca = certs.ca.clone();
    let out = tokio::task::spawn_blocking(move || smtplib(port, Some(&ca), &raw)).await.unwrap();
    assert!(out.contains("OFFERED True"), "STARTTLS is advertised in EHLO: {out}");
    assert!(out.contains("AFTER False"), "not offered again inside TLS: {out}");
    assert!(out.contains("TLS TLSv1.3") || out.contains("TLS TLSv1.2"), "{out}");
    assert!(out.contains("SENT"), "{out}");
    let id = wait_known(&app, "tls-1@example.com").await;
    let items = app.store.timeline(&id, true).await.unwrap();
    assert!(format!("{items:?}").contains("提币卡住了"), "the mail sent over TLS is the case's first message");

    // A sender that cannot do TLS still delivers in clear (RFC 3207: an MX must not insist).
    let raw = raw_mail("old.mta@example.com", "clear-1@example.com", "clear text clear-1", "no TLS here");
    let out = tokio::task::spawn_blocking(move || smtplib(port, None, &raw)).await.unwrap();
    assert!(out.contains("OFFERED True") && out.contains("SENT"), "{out}");
    wait_known(&app, "clear-1@example.com").await;

    // Commands pipelined after STARTTLS were sent in clear: the listener hangs up instead of taking them as
    // if they had come over TLS.
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut s = tokio::io::BufReader::new(s);
    let mut line = String::new();
    s.read_line(&mut line).await.unwrap();
    s.get_mut().write_all(b"EHLO evil.example\r\n").await.unwrap();
    loop {
        line.clear();
        s.read_line(&mut line).await.unwrap();
        if line.starts_with("250 ") {
            break;
        }
    }
    s.get_mut().write_all(b"STARTTLS\r\nMAIL FROM:<injected@example.com>\r\n").await.unwrap();
    line.clear();
    s.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("220"), "{line}");
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest)).await.expect("hung up").unwrap();
    assert_eq!(n, 0, "nothing answered to the injected command: {:?}", String::from_utf8_lossy(&rest));
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_certificate_the_listener_does_not_offer_starttls() {
    let app = app_with(None, None).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(lifebuoy_app::mail_in::serve_smtp(app.app.clone(), listener));
    let raw = raw_mail("plain@example.com", "plain-1@example.com", "plain-1", "hello");
    let out = tokio::task::spawn_blocking(move || smtplib(port, None, &raw)).await.unwrap();
    assert!(out.contains("OFFERED False") && out.contains("SENT"), "{out}");
    wait_known(&app, "plain-1@example.com").await;
    app.cleanup().await;
}

/// An email case made by the mail use case, and an agent-side reply through the API; returns the reply's
/// stored message id.
async fn case_and_reply(app: &TestApp, token: &str, tag: &str) -> String {
    let raw = raw_mail("Li Lei <li.lei@example.com>", &format!("{tag}@example.com"), &format!("case {tag}"), "help");
    lifebuoy_app::mail_in::receive(&app.app, raw.as_bytes()).await.unwrap();
    let id = wait_known(app, &format!("{tag}@example.com")).await;
    let r = app
        .http
        .post(app.url(&format!("/api/v1/tickets/{id}/messages")))
        .bearer_auth(token)
        .json(&json!({"body": format!("answer to {tag}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    v["message"]["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_go_out_through_a_relay_demanding_starttls_and_auth_and_a_wrong_password_is_retried() {
    let certs = TestCerts::generate();
    let (user, password) = ("desk@desk.example", "p@ss w/rd");
    let relay = SmtpPeer::start_secure(PeerTls::StartTls, &certs, user, password).await;
    let port = relay.url.rsplit(':').next().unwrap().to_string();
    let url = format!("smtp://desk%40desk.example:p%40ss%20w%2Frd@127.0.0.1:{port}?tls=starttls");
    let app = app_with(Some(url), Some(&certs)).await;
    let jobs = app.app.start_jobs().await.unwrap();
    let token = app.integration_token().await;
    case_and_reply(&app, &token, "auth-ok-1").await;
    let got = relay.wait_for("answer to auth-ok-1").await;
    assert!(got.contains("AUTH PLAIN ok") || got.contains("AUTH LOGIN ok"), "authenticated: {got}");
    assert!(got.contains("In-Reply-To: <auth-ok-1@example.com>"), "{got}");
    jobs.shutdown().await;
    app.cleanup().await;

    // The same relay with a wrong password: the relay refuses, the job is kept for a retry, not lost or dead.
    let bad = format!("smtp://desk%40desk.example:wrong@127.0.0.1:{port}?tls=starttls");
    let app = app_with(Some(bad), Some(&certs)).await;
    let jobs = app.app.start_jobs().await.unwrap();
    let token = app.integration_token().await;
    let message = case_and_reply(&app, &token, "auth-bad-1").await;
    let key = format!("reply-{message}");
    let mut job = None;
    for _ in 0..100 {
        let j = app.store.job_by_key(lifebuoy_app::mail_out::REPLY, &key).await.unwrap().expect("the reply's job");
        // `failed`: waiting for its retry (`dead` would be the end).
        if j.attempts >= 1 && j.state == "failed" {
            job = Some(j);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let job = job.expect("the job ran once and was put back");
    assert!(job.run_at > lifebuoy_store::now_ms(), "retried later, after a backoff: {job:?}");
    assert!(job.last_error.as_deref().unwrap_or("").contains("relay"), "{job:?}");
    assert!(relay.received().contains("refused"), "the relay saw the wrong password");
    assert!(!relay.received().contains("answer to auth-bad-1"), "nothing was mailed");
    jobs.shutdown().await;
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_go_out_over_implicit_tls() {
    let certs = TestCerts::generate();
    let relay = SmtpPeer::start_secure(PeerTls::Implicit, &certs, "desk", "s3cret").await;
    let port = relay.url.rsplit(':').next().unwrap().to_string();
    let app = app_with(Some(format!("smtps://desk:s3cret@127.0.0.1:{port}")), Some(&certs)).await;
    let jobs = app.app.start_jobs().await.unwrap();
    let token = app.integration_token().await;
    case_and_reply(&app, &token, "implicit-1").await;
    relay.wait_for("answer to implicit-1").await;
    jobs.shutdown().await;
    app.cleanup().await;
}

fn imap_tls(certs: &TestCerts) -> std::sync::Arc<lifebuoy_app::tls::rustls::ClientConfig> {
    lifebuoy_app::tls::client_config(&lifebuoy_app::tls::load_certs(&certs.ca).unwrap()).unwrap()
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen in 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_mail_becomes_a_case_is_marked_seen_and_is_taken_once() {
    let certs = TestCerts::generate();
    let dove = Dovecot::start(Some(&certs)).await;
    let first =
        raw_mail("Zhao Liu <zhao.liu@example.com>", "imap-1@example.com", "KYC pending imap-1", "KYC 审核很久了");
    dove.append("INBOX", &first);
    let app = app_with(None, None).await;
    let token = app.integration_token().await;
    let url = format!("imap://{}:{}@127.0.0.1:{}/INBOX?tls=starttls", Dovecot::USER, Dovecot::PASSWORD, dove.port);
    let poller = ImapPoller::start(app.app.clone(), ImapUrl::parse(&url).unwrap(), imap_tls(&certs));
    let case = wait_known(&app, "imap-1@example.com").await;
    wait_until("the mail is marked seen", || {
        dove.flags("INBOX").iter().any(|(id, f)| id.contains("imap-1@") && f.contains("\\Seen"))
    })
    .await;

    // The same mail delivered again (a forwarder retrying) and a new one: the new one is a second case, the
    // same one is not doubled, and both are marked seen.
    dove.append("INBOX", &first);
    dove.append("INBOX", &raw_mail("zhao.liu@example.com", "imap-2@example.com", "second imap-2", "another"));
    wait_known(&app, "imap-2@example.com").await;
    wait_until("three mails taken", || poller.stats().taken.load(Ordering::Relaxed) >= 3).await;
    wait_until("every mail seen", || {
        let f = dove.flags("INBOX");
        f.len() == 3 && f.iter().all(|(_, f)| f.contains("\\Seen"))
    })
    .await;
    assert_eq!(app.store.timeline(&case, true).await.unwrap().len(), 1, "the resent mail added nothing");
    assert_eq!(email_cases(&app, &token).await.len(), 2);
    poller.shutdown().await;

    // A restarted poller finds nothing unseen: nothing is taken twice.
    let again = ImapPoller::start(app.app.clone(), ImapUrl::parse(&url).unwrap(), imap_tls(&certs));
    wait_until("a full round", || again.stats().rounds.load(Ordering::Relaxed) >= 1).await;
    assert_eq!(again.stats().taken.load(Ordering::Relaxed), 0);
    again.shutdown().await;
    assert_eq!(email_cases(&app, &token).await.len(), 2);
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_over_implicit_tls_moves_each_mail_taken_in() {
    let certs = TestCerts::generate();
    let dove = Dovecot::start(Some(&certs)).await;
    let app = app_with(None, None).await;
    let url = format!(
        "imaps://{}:{}@127.0.0.1:{}/INBOX?move=Processed",
        Dovecot::USER,
        Dovecot::PASSWORD,
        dove.tls_port.unwrap()
    );
    let poller = ImapPoller::start(app.app.clone(), ImapUrl::parse(&url).unwrap(), imap_tls(&certs));
    wait_until("a first round on an empty mailbox", || poller.stats().rounds.load(Ordering::Relaxed) >= 1).await;
    // Delivered while the poller waits: IDLE wakes it.
    dove.append("INBOX", &raw_mail("sun.qi@example.com", "move-1@example.com", "moved move-1", "hello"));
    wait_known(&app, "move-1@example.com").await;
    wait_until("the mail moved to Processed, seen", || {
        dove.flags("Processed").iter().any(|(id, f)| id.contains("move-1@") && f.contains("\\Seen"))
            && dove.flags("INBOX").is_empty()
    })
    .await;
    poller.shutdown().await;
    app.cleanup().await;
}
