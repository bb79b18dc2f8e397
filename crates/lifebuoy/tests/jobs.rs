//! Durable jobs with the `lifebuoy` binary itself, on SQLite and on PostgreSQL: a job scheduled for a few
//! seconds later survives the server being SIGKILLed and runs exactly once after the restart; a job a killed
//! node was in the middle of is run by the restarted server once its lease has ended; SIGTERM stops the server
//! cleanly.
//!
//! A reply by mail committed while the relay is down survives a SIGKILL of the server before it was sent, and
//! reaches the relay exactly once after the restart.
//!
//! The job is the built-in `system.heartbeat`, whose run writes a `job_runs` row in the same transaction that
//! completes it; `attempts` counts every run that was started, so "exactly once" is checked on both.

use lifebuoy_store::{Job, NewJob, Store, StoreOptions, now_ms};
use lifebuoy_testkit::pg_admin_url;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HEARTBEAT: &str = "system.heartbeat";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A `lifebuoy serve` process.
struct Node {
    child: Child,
    log: std::path::PathBuf,
    addr: String,
}

impl Node {
    async fn start(data: &Path, extra: &[&str]) -> Node {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let log = data.with_extension(format!("{port}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_lifebuoy"))
            .args(["serve", "--listen", &addr, "--data"])
            .arg(data)
            .args(extra)
            .env("LIFEBUOY_LOG", "info,sqlx=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("lifebuoy starts");
        let node = Node { child, log, addr: addr.clone() };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("http://{addr}/healthz")).await
                && r.status().is_success()
            {
                return node;
            }
            assert!(
                Instant::now() < deadline,
                "lifebuoy on {addr} did not become healthy in 60 s: {}",
                node.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no shutdown hooks, nothing flushed, as a power cut looks to the process.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status (within 30 s).
    async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM").success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(Instant::now() < deadline, "no exit 30 s after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn job(s: &Store, id: &str) -> Job {
    s.job(id).await.expect("read job").expect("job exists")
}

async fn wait_done(s: &Store, id: &str, node: &Node) -> Job {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let j = job(s, id).await;
        if j.state == "done" {
            return j;
        }
        assert!(Instant::now() < deadline, "job {id} not done after 30 s: {j:?}\n{}", node.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sigkill_then_restart(database: Option<String>) {
    let dir = std::env::temp_dir().join(format!("lb-jobs-bin-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let url = database.clone().unwrap_or_else(|| format!("sqlite://{}", data.join("lifebuoy.db").display()));
    let extra: Vec<&str> = match &database {
        Some(u) => vec!["--database", u.as_str()],
        None => vec![],
    };
    let mut first = Node::start(&data, &extra).await;
    // The test speaks to the same database as the server, as another process would.
    let store = Store::open(&StoreOptions::new(url.clone())).await.expect("open the server's database");
    let beat = NewJob::new(HEARTBEAT, &json!({})).after(Duration::from_secs(3));
    assert!(store.enqueue_job(&beat).await.unwrap());
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.kill();
    let j = job(&store, &beat.id).await;
    assert_eq!((j.state.as_str(), j.attempts), ("queued", 0), "killed before the job was due");

    // While the server is down, a node that will die claims a job: this test plays that node, which never
    // reports back. Its lease ends 2 s from now.
    let orphan = NewJob::new(HEARTBEAT, &json!({}));
    store.enqueue_job(&orphan).await.unwrap();
    let lease = Duration::from_secs(2);
    let claimed = store.claim_jobs("killed-node", &[HEARTBEAT.to_string()], 1, lease).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [orphan.id.as_str()]);
    let lease_end = now_ms() + lease.as_millis() as i64;

    let mut second = Node::start(&data, &extra).await;
    let beat_done = wait_done(&store, &beat.id, &second).await;
    let orphan_done = wait_done(&store, &orphan.id, &second).await;
    assert!(beat_done.finished_at.unwrap() >= beat.run_at);
    assert!(orphan_done.finished_at.unwrap() >= lease_end - 10, "the orphan ran before its lease ended");

    // Give a second run every chance to happen, then count.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let beat_after = job(&store, &beat.id).await;
    assert_eq!((beat_after.state.as_str(), beat_after.attempts), ("done", 1), "the scheduled job ran exactly once");
    let orphan_after = job(&store, &orphan.id).await;
    assert_eq!(
        (orphan_after.state.as_str(), orphan_after.attempts),
        ("done", 2),
        "the orphan's interrupted run and one run on the restarted server"
    );
    let beat_run = store.job_run(&beat.id).await.unwrap().expect("the heartbeat's run is recorded");
    let orphan_run = store.job_run(&orphan.id).await.unwrap().expect("the orphan's run is recorded");
    assert_eq!(beat_run.attempt, 1);
    assert_eq!(orphan_run.attempt, 2);
    assert_ne!(orphan_run.node, "killed-node");
    assert_eq!(beat_run.node, orphan_run.node, "both ran on the restarted server");
    assert_eq!(beat_after.locked_by.as_deref(), Some(beat_run.node.as_str()));

    // The server started the built-in chains: the next heartbeat and purge wait for their slots.
    let queued: Vec<String> = store.list_jobs("queued", None, 10).await.unwrap().into_iter().map(|j| j.kind).collect();
    assert!(queued.contains(&HEARTBEAT.to_string()) && queued.contains(&"jobs.purge".to_string()), "{queued:?}");

    let status = second.terminate().await;
    assert!(status.success(), "SIGTERM should stop the server cleanly: {status:?}\n{}", second.log_text());
    assert!(second.log_text().contains("job runner stopped"), "{}", second.log_text());
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_job_survives_sigkill_and_runs_exactly_once_on_sqlite() {
    sigkill_then_restart(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_job_survives_sigkill_and_runs_exactly_once_on_postgresql() {
    use sqlx::Connection;
    let admin = pg_admin_url();
    let name = format!("lb_test_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL for this test");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    sigkill_then_restart(Some(url)).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.unwrap();
}

/// Sends one mail to an SMTP listener with Python's smtplib.
fn send_mail(port: u16, raw: &str) {
    let script = "import smtplib, sys\nwith smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10) as s:\n    \
                  s.sendmail('ma.li@example.com', ['support@desk.example'], sys.argv[2].encode())\n";
    let out = Command::new("python3").args(["-c", script, &port.to_string(), raw]).output().expect("python3 runs");
    assert!(out.status.success(), "smtplib: {}", String::from_utf8_lossy(&out.stderr));
}

async fn reply_mail_survives_sigkill(database: Option<String>) {
    let dir = std::env::temp_dir().join(format!("lb-mail-kill-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let url = database.clone().unwrap_or_else(|| format!("sqlite://{}", data.join("lifebuoy.db").display()));
    // The relay's port stays closed until the first server is dead.
    let relay_port = free_port();
    let listen_port = free_port();
    let (relay_url, listen) = (format!("smtp://127.0.0.1:{relay_port}"), format!("127.0.0.1:{listen_port}"));
    let mut extra: Vec<&str> =
        vec!["--smtp-url", &relay_url, "--smtp-listen", &listen, "--support-address", "support@desk.example"];
    if let Some(u) = &database {
        extra.extend(["--database", u.as_str()]);
    }
    let mut first = Node::start(&data, &extra).await;
    let store = Store::open(&StoreOptions::new(url.clone())).await.expect("open the server's database");
    let token = store.create_api_token("kill-test").await.unwrap();
    let raw = "From: Ma Li <ma.li@example.com>\r\nTo: support@desk.example\r\nSubject: deposit kill-1\r\n\
               Message-ID: <kill-1@example.com>\r\n\r\nWhere is my deposit?\r\n";
    tokio::task::spawn_blocking(move || send_mail(listen_port, raw)).await.unwrap();
    let case = store.mail_known("kill-1@example.com").await.unwrap().expect("the mail is a case").conversation_id;

    // The agent's reply commits with its mail job; the relay is down, so the first run fails.
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/v1/tickets/{case}/messages", first.addr))
        .bearer_auth(&token)
        .json(&json!({"body": "Credited now, sorry for the wait."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    let key = format!("reply-{}", v["message"]["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let j = store.job_by_key("mail.reply", &key).await.unwrap().expect("the reply's job was committed with it");
        // `failed`: waiting for its retry.
        if j.attempts >= 1 && j.state == "failed" {
            break;
        }
        assert!(Instant::now() < deadline, "the first send did not fail in time: {j:?}\n{}", first.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill();

    let relay = lifebuoy_testkit::SmtpPeer::start_on(relay_port).await;
    let mut second = Node::start(&data, &extra).await;
    relay.wait_for("Credited now").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let job = loop {
        let j = store.job_by_key("mail.reply", &key).await.unwrap().unwrap();
        if j.state == "done" {
            break j;
        }
        assert!(Instant::now() < deadline, "job not done: {j:?}\n{}", second.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Give a second sending every chance to happen, then count.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let got = relay.received();
    assert_eq!(got.matches("Credited now").count(), 1, "the reply was mailed exactly once: {got}");
    assert_eq!(job.attempts, 2, "one failed run before the kill, one after: {job:?}");
    assert!(got.contains("In-Reply-To: <kill-1@example.com>"), "{got}");
    let status = second.terminate().await;
    assert!(status.success(), "{}", second.log_text());
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_mail_committed_before_a_sigkill_is_sent_exactly_once_on_sqlite() {
    reply_mail_survives_sigkill(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_mail_committed_before_a_sigkill_is_sent_exactly_once_on_postgresql() {
    use sqlx::Connection;
    let admin = pg_admin_url();
    let name = format!("lb_test_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL for this test");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    reply_mail_survives_sigkill(Some(url)).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await.unwrap();
}
