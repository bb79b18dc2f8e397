//! `lifebuoy bench mail`: the email channel end to end on a fresh database, over real sockets.
//!
//! 1. **Inbound**: N mails, each from its own customer, sent by C concurrent SMTP client connections into the
//!    app's SMTP listener (`mail_in::serve_smtp`). A mail counts when the listener answered `250`, which it
//!    does only after the case is committed; the database is then checked for every mail's case. The job runner
//!    runs meanwhile and mails each sender the "received" notification; the bench waits until all are mailed
//!    (`acknowledgements`, `acknowledged_s`) before (2).
//! 2. **Outbound**: one agent reply on each of those cases, posted by C tasks through the use case
//!    (`tickets::reply`): each commit writes a `mail.reply` job, which the job runner sends through the pooled
//!    SMTP transport to a local sink. Timed until the sink has every reply; each arrival is counted by its
//!    Message-ID, so a reply never mailed (lost) or mailed twice (duplicate) is seen.
//!
//! The sink is a minimal SMTP responder written for this bench (no TLS, no storage; it only reads each mail's
//! Message-ID), so the figure is the desk's cost, not a mail server's. Ends with one JSON line:
//! `{"inbound", "inbound_per_s", "outbound", "outbound_per_s", "lost", "duplicates", "acknowledgements", ...}`.

use lifebuoy_domain::{AgentNo, Lang, Role};
use lifebuoy_store::{NewAgent, Store, StoreOptions};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SUPPORT: &str = "support@bench.lifebuoy.dev";

pub struct MailBench {
    pub database: Option<String>,
    pub mails: usize,
    pub connections: usize,
    pub sqlite_sync_full: bool,
}

pub async fn run(b: MailBench) -> anyhow::Result<()> {
    anyhow::ensure!(b.mails > 0 && b.connections > 0, "--mails and --connections must be at least 1");
    let tmp = crate::bench::tempdir()?;
    let (url, admin) = crate::bench::fresh_database(b.database.clone(), &tmp).await?;
    let backend = crate::bench::backend_name(&url);
    let result = measure(&b, &url, backend, &tmp).await;
    crate::bench::drop_database(admin).await;
    let _ = std::fs::remove_dir_all(&tmp);
    let line = result?;
    println!("{line}");
    let (lost, duplicates) = (line["lost"].as_u64().unwrap_or(0), line["duplicates"].as_u64().unwrap_or(0));
    anyhow::ensure!(lost == 0 && duplicates == 0, "{lost} mails were lost and {duplicates} doubled");
    Ok(())
}

/// Every mail the sink was handed, by Message-ID, with how many times.
type Arrivals = Arc<Mutex<HashMap<String, u32>>>;

async fn measure(b: &MailBench, url: &str, backend: &str, tmp: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let n = b.mails;
    let arrivals: Arrivals = Arc::default();
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sink_url = format!("smtp://{}", sink.local_addr()?);
    tokio::spawn(sink_serve(sink, arrivals.clone()));

    let mut opts = StoreOptions::new(url);
    opts.sqlite_sync_full = b.sqlite_sync_full;
    let store = Store::open(&opts).await?;
    let config = lifebuoy_web::WebConfig {
        smtp: Some((sink_url, format!("Bench Support <{SUPPORT}>"))),
        support_address: Some(SUPPORT.into()),
        ..Default::default()
    };
    let state = crate::build_state_with(store.clone(), tmp, config);
    let app = state.app.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let smtp_addr = listener.local_addr()?;
    tokio::spawn(lifebuoy_app::mail_in::serve_smtp(app.clone(), listener));

    // The job runner runs throughout, as on a desk: each mail taken in is acknowledged to its sender by a
    // "received" notification, mailed while the rest still come in.
    let jobs = app.start_jobs().await?;

    // (a) Inbound.
    eprintln!("bench mail: {n} mails into the SMTP listener over {} connections, on {backend}", b.connections);
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..b.connections {
        let mine: Vec<usize> = (c..n).step_by(b.connections).collect();
        clients.push(tokio::spawn(async move { send_mails(smtp_addr, &mine).await }));
    }
    let mut accepted = 0usize;
    for c in clients {
        accepted += c.await??;
    }
    let inbound_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(accepted == n, "the listener accepted {accepted} of {n} mails");
    // Every mail acknowledged must be a case now, one case per mail.
    let mut cases = Vec::with_capacity(n);
    let mut in_lost = 0usize;
    for i in 0..n {
        match store.mail_known(&format!("in-{i}@bench.example")).await? {
            Some(r) => cases.push(r.conversation_id),
            None => in_lost += 1,
        }
    }
    let email_cases = count_email_cases(url).await?;
    let in_dup = email_cases.saturating_sub(cases.len());
    let inbound_per_s = n as f64 / inbound_s;
    eprintln!(
        "inbound: {n} mails acknowledged in {inbound_s:.2} s: {inbound_per_s:.0} mails/s; {email_cases} email cases, \
         lost {in_lost}, doubled {in_dup}"
    );

    // Every acknowledgement mailed (the inbound mails' "received" notifications) before replies start, so that
    // the outbound figure is the replies' alone.
    let acks_deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let c = store.job_counts().await?;
        if (c.due == 0 && c.running == 0) || Instant::now() > acks_deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let acked_s = started.elapsed().as_secs_f64();
    let acks = arrivals.lock().map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "acknowledgements: {acks} mailed {acked_s:.2} s after the first mail came in: {:.0} mails/s",
        acks as f64 / acked_s
    );

    // (b) Outbound.
    let agent = store
        .create_agent(&NewAgent {
            email: "bench.agent@bench.lifebuoy.dev".into(),
            display_name: "Bench Agent".into(),
            agent_no: AgentNo::parse("A9001")?,
            role: Role::Admin,
            languages: vec![Lang::En, Lang::ZhHans],
            departments: vec!["support".into()],
            // Never signs in: any string that is no valid hash.
            password_hash: "!".into(),
        })
        .await?;
    let actor = lifebuoy_app::Actor::Agent(agent);
    let started = Instant::now();
    let cases = Arc::new(cases);
    let mut writers = Vec::new();
    let stride = b.connections;
    for w in 0..stride {
        let (app, actor, cases) = (app.clone(), actor.clone(), cases.clone());
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for cid in cases.iter().skip(w).step_by(stride) {
                let c = app.store.conversation(cid).await?.ok_or_else(|| anyhow::anyhow!("case {cid} is gone"))?;
                let m = lifebuoy_app::tickets::NewMessage {
                    body: "Thanks for writing. The deposit is credited now.".into(),
                    internal: false,
                    attachment_ids: vec![],
                    status: None,
                };
                let out = lifebuoy_app::tickets::reply(&app, &actor, &c, m, None).await?;
                let (lifebuoy_store::ReplyOutcome::Added { message, .. }
                | lifebuoy_store::ReplyOutcome::FollowUp { message, .. }) = out;
                ids.push(lifebuoy_app::mail_out::message_id_of(&app, &message.id));
            }
            anyhow::Ok(ids)
        }));
    }
    let mut expected = Vec::with_capacity(cases.len());
    for w in writers {
        expected.extend(w.await??);
    }
    let committed_s = started.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(60).max(Duration::from_millis(n as u64 * 10));
    let arrived =
        |a: &Arrivals| a.lock().map(|m| expected.iter().filter(|id| m.contains_key(*id)).count()).unwrap_or(0);
    // Every 10 ms (each look walks the expected ids: looking more often takes CPU from what is measured).
    while arrived(&arrivals) < expected.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let outbound_s = started.elapsed().as_secs_f64();
    // Give a second sending every chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    jobs.shutdown().await;
    let (out_lost, out_dup, total_sunk) = {
        let m = arrivals.lock().map_err(|_| anyhow::anyhow!("sink lock"))?;
        let lost = expected.iter().filter(|id| !m.contains_key(*id)).count();
        let dup: u64 = m.values().map(|c| u64::from(c.saturating_sub(1))).sum();
        (lost, dup, m.len())
    };
    let outbound = expected.len();
    let outbound_per_s = outbound as f64 / outbound_s;
    eprintln!(
        "outbound: {outbound} replies committed in {committed_s:.2} s, all mailed after {outbound_s:.2} s: \
         {outbound_per_s:.0} mails/s; sink got {total_sunk} distinct mails, lost {out_lost}, doubled {out_dup}"
    );
    store.close().await;
    let r1 = |x: f64| (x * 10.0).round() / 10.0;
    Ok(json!({
        "bench": "mail",
        "backend": backend,
        "inbound": n,
        "inbound_per_s": r1(inbound_per_s),
        "outbound": outbound,
        "outbound_per_s": r1(outbound_per_s),
        "lost": in_lost + out_lost,
        "duplicates": in_dup as u64 + out_dup,
        "connections": b.connections,
        "inbound_s": (inbound_s * 1000.0).round() / 1000.0,
        "acknowledgements": acks,
        "acknowledged_s": (acked_s * 1000.0).round() / 1000.0,
        "outbound_s": (outbound_s * 1000.0).round() / 1000.0,
    }))
}

async fn count_email_cases(url: &str) -> anyhow::Result<usize> {
    use sqlx::Connection;
    let sql = "SELECT COUNT(*) FROM conversations WHERE kind = 'email'";
    let n: i64 = if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await?;
        sqlx::query_scalar(sql).fetch_one(&mut c).await?
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query_scalar(sql).fetch_one(&mut c).await?
    };
    Ok(n as usize)
}

/// One SMTP client connection sending the mails numbered `which`, each in its own transaction; answers how
/// many were accepted with `250`.
async fn send_mails(addr: std::net::SocketAddr, which: &[usize]) -> anyhow::Result<usize> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    expect(&mut r, 220).await?;
    w.write_all(b"EHLO bench.example\r\n").await?;
    expect(&mut r, 250).await?;
    let mut ok = 0;
    for &i in which {
        let mail = format!(
            "From: Customer {i} <c{i}@bench.example>\r\nTo: {SUPPORT}\r\nSubject: Deposit {i} not credited\r\n\
             Message-ID: <in-{i}@bench.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             My deposit of 0.5 BTC (tx {i:064x}) has not arrived after 12 confirmations.\r\nPlease check.\r\n.\r\n"
        );
        w.write_all(format!("MAIL FROM:<c{i}@bench.example>\r\n").as_bytes()).await?;
        expect(&mut r, 250).await?;
        w.write_all(format!("RCPT TO:<{SUPPORT}>\r\n").as_bytes()).await?;
        expect(&mut r, 250).await?;
        w.write_all(b"DATA\r\n").await?;
        expect(&mut r, 354).await?;
        w.write_all(mail.as_bytes()).await?;
        if expect(&mut r, 250).await.is_ok() {
            ok += 1;
        }
    }
    w.write_all(b"QUIT\r\n").await?;
    Ok(ok)
}

/// Reads one (possibly multi-line) SMTP reply and checks its code.
async fn expect<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R, code: u16) -> anyhow::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        anyhow::ensure!(r.read_line(&mut line).await? > 0, "the listener hung up");
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    anyhow::ensure!(line.starts_with(&code.to_string()), "expected {code}, got {line:?}");
    Ok(())
}

/// The sink: accepts SMTP, answers every command with success, and counts each mail by its Message-ID.
async fn sink_serve(listener: tokio::net::TcpListener, arrivals: Arrivals) {
    while let Ok((stream, _)) = listener.accept().await {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let _ = sink_connection(stream, arrivals).await;
        });
    }
}

async fn sink_connection(stream: tokio::net::TcpStream, arrivals: Arrivals) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                w.write_all(b"354 go on\r\n").await?;
                let mut id = None;
                let mut headers = true;
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    if headers {
                        if line == "\r\n" || line == "\n" {
                            headers = false;
                        } else if line.len() > 11 && line[..11].eq_ignore_ascii_case("message-id:") {
                            id = Some(line[11..].trim().trim_matches(['<', '>']).to_string());
                        }
                    }
                }
                if let Some(id) = id
                    && let Ok(mut m) = arrivals.lock()
                {
                    *m.entry(id).or_insert(0) += 1;
                }
                w.write_all(b"250 queued\r\n").await?;
            }
            "QUIT" => {
                w.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => w.write_all(b"250 ok\r\n").await?,
        }
    }
}
