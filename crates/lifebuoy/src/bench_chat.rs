//! `lifebuoy bench chat`: drives a running server over the live-chat protocol. It adds M agents (as the demo
//! admin), brings them online, opens N customer connections whose chats are handed to those agents, then sends
//! customer messages at R per second for the duration and measures, per message, the time from the customer's
//! `send` to the agent's receipt of the `msg` frame (which the server only sends after storing it). At the end
//! it waits for stragglers and counts what was acknowledged but never delivered (lost) and what arrived twice
//! (duplicated). Ends with one line of JSON, and exits non-zero when anything was lost or duplicated.

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMsg;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub struct ChatBench {
    pub url: String,
    /// Where the agents connect (another node); default `url`.
    pub agent_url: Option<String>,
    pub connections: usize,
    pub agents: usize,
    pub rate: u64,
    pub duration: u64,
    pub admin_email: String,
    pub admin_password: String,
}

#[derive(Default)]
struct Tally {
    /// client id → when it was sent.
    sent_at: Mutex<HashMap<String, Instant>>,
    acked: Mutex<HashSet<String>>,
    delivered: Mutex<HashSet<String>>,
    duplicated: AtomicU64,
    errors: AtomicU64,
    latency: Mutex<Option<Histogram<u64>>>,
    /// The chats that reached an agent: told by an "assigned" frame, or by an "inbox" frame (which an agent
    /// connection gets instead after it lagged).
    assigned: Mutex<HashSet<String>>,
}

fn ws_url(base: &str, path: &str) -> String {
    let b = base.trim_end_matches('/');
    let b =
        b.strip_prefix("https://").map(|r| format!("wss://{r}")).unwrap_or_else(|| b.replacen("http://", "ws://", 1));
    format!("{b}{path}")
}

async fn login(http: &reqwest::Client, base: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let r = http
        .post(format!("{base}/console/login"))
        .header("origin", base)
        .form(&[("email", email), ("password", password)])
        .send()
        .await?;
    if r.status().as_u16() != 303 {
        bail!(
            "login as {email} failed ({}); bench chat needs a server started with --demo, or --admin-email/--admin-password",
            r.status()
        );
    }
    let c = r.headers().get("set-cookie").context("no session cookie")?.to_str()?.to_string();
    Ok(c.split(';').next().unwrap_or_default().to_string())
}

/// Resident memory of the server, from its `/metrics` (read as the admin: metrics are not public).
async fn server_rss(http: &reqwest::Client, base: &str, admin: &str) -> Option<u64> {
    let t = http.get(format!("{base}/metrics")).header("cookie", admin).send().await.ok()?.text().await.ok()?;
    t.lines().find_map(|l| l.strip_prefix("process_resident_memory_bytes ")).and_then(|v| v.trim().parse().ok())
}

pub async fn run(b: ChatBench) -> anyhow::Result<()> {
    let base = b.url.trim_end_matches('/').to_string();
    let agent_base = b.agent_url.as_deref().unwrap_or(&b.url).trim_end_matches('/').to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let run_id: String = uuid::Uuid::new_v4().simple().to_string()[..6].to_uppercase();
    let tally = Arc::new(Tally { latency: Mutex::new(Some(Histogram::new(3)?)), ..Default::default() });
    let capacity = (b.connections.div_ceil(b.agents.max(1)) + 10).min(1000) as i64;

    // 1. Agents: created by the admin, signed in, online with room for their share of the chats.
    eprintln!("bench chat: adding {} agents (run {run_id})", b.agents);
    let admin = login(&http, &base, &b.admin_email, &b.admin_password).await?;
    let password = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let mut agent_tasks = vec![];
    let mut agent_ready = vec![];
    for i in 0..b.agents {
        let email = format!("bench-{}-{i}@bench.invalid", run_id.to_lowercase());
        let r = http
            .post(format!("{base}/api/v1/agents"))
            .header("cookie", &admin)
            .header("origin", &base)
            .json(&json!({"email": email, "display_name": format!("Bench {i}"), "agent_no": format!("B{run_id}{i:03}"),
                "role": "agent_l1", "languages": ["zh-Hans", "zh-Hant", "en"], "departments": ["support"], "password": password}))
            .send()
            .await?;
        if r.status().as_u16() != 201 {
            bail!("creating a bench agent failed: {} {}", r.status(), r.text().await.unwrap_or_default());
        }
        let cookie = login(&http, &agent_base, &email, &password).await?;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        agent_ready.push(ready_rx);
        agent_tasks.push(tokio::spawn(agent_conn(
            ws_url(&agent_base, "/ws/console"),
            agent_base.clone(),
            cookie,
            capacity,
            tally.clone(),
            ready_tx,
        )));
    }
    for r in agent_ready {
        r.await.context("an agent connection failed to start")??;
    }

    // 2. Customers: a visitor session each, a connection each, and a chat handed to a human.
    eprintln!("bench chat: opening {} customer connections", b.connections);
    let started = Instant::now();
    let mut senders: Vec<mpsc::Sender<String>> = Vec::with_capacity(b.connections);
    let (up_tx, mut up_rx) = mpsc::channel::<anyhow::Result<()>>(b.connections.max(1));
    let sem = Arc::new(tokio::sync::Semaphore::new(128));
    let mut customer_tasks = Vec::with_capacity(b.connections);
    for i in 0..b.connections {
        let (tx, rx) = mpsc::channel::<String>(64);
        senders.push(tx);
        let (http, base, tally, up_tx, sem, admin) =
            (http.clone(), base.clone(), tally.clone(), up_tx.clone(), sem.clone(), admin.clone());
        customer_tasks.push(tokio::spawn(async move {
            let permit = sem.acquire_owned().await.ok();
            let r = customer_conn(i, &http, &base, &admin, tally, rx, permit).await;
            if let Err(e) = r {
                let _ = up_tx.send(Err(e)).await;
            }
        }));
    }
    drop(up_tx);
    // Wait until every chat is with an agent (or a connection failed).
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(Some(Err(e))) = tokio::time::timeout(Duration::from_millis(200), up_rx.recv()).await {
            bail!("a customer connection failed: {e:#}");
        }
        let n = tally.assigned.lock().expect("lock").len();
        if n >= b.connections {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {n} of {} chats reached an agent in 10 minutes", b.connections);
        }
    }
    eprintln!(
        "bench chat: {} chats with {} agents after {:.1} s; sending {} msg/s for {} s",
        b.connections,
        b.agents,
        started.elapsed().as_secs_f64(),
        b.rate,
        b.duration
    );
    let rss_before = server_rss(&http, &base, &admin).await;

    // 3. Load: R messages a second, round-robin over the customers.
    let t0 = Instant::now();
    let total = b.rate * b.duration;
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while sent < total {
        tick.tick().await;
        let due = ((t0.elapsed().as_secs_f64() * b.rate as f64) as u64).min(total);
        while sent < due {
            let i = (sent as usize) % senders.len();
            let cid = format!("b-{run_id}-{sent}");
            tally.sent_at.lock().expect("lock").insert(cid.clone(), Instant::now());
            if senders[i].try_send(cid.clone()).is_err() {
                tally.sent_at.lock().expect("lock").remove(&cid);
                tally.errors.fetch_add(1, Ordering::Relaxed);
            }
            sent += 1;
        }
    }
    let send_secs = t0.elapsed().as_secs_f64();
    let rss_peak = server_rss(&http, &base, &admin).await;
    // 4. Stragglers: wait until everything acknowledged is delivered, or 10 s of nothing.
    let mut last = usize::MAX;
    let mut quiet = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let acked = tally.acked.lock().expect("lock").len();
        let delivered = tally.delivered.lock().expect("lock").len();
        if delivered >= acked && acked as u64 + tally.errors.load(Ordering::Relaxed) >= sent {
            break;
        }
        if delivered != last {
            last = delivered;
            quiet = Instant::now();
        } else if quiet.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let acked = tally.acked.lock().expect("lock").clone();
    let delivered = tally.delivered.lock().expect("lock").clone();
    let lost = acked.difference(&delivered).count() as u64;
    let unacked = sent - acked.len() as u64;
    let dup = tally.duplicated.load(Ordering::Relaxed);
    let h = tally.latency.lock().expect("lock").take().expect("histogram");
    let ms = |v: u64| v as f64 / 1000.0;
    for t in customer_tasks.iter().chain(agent_tasks.iter()) {
        t.abort();
    }
    println!(
        "connections {} (+{} agents), rate {}/s for {} s: sent {}, acknowledged {}, delivered {} ({:.0}/s), lost {}, duplicated {}, not acknowledged {}",
        b.connections,
        b.agents,
        b.rate,
        b.duration,
        sent,
        acked.len(),
        delivered.len(),
        delivered.len() as f64 / elapsed.max(send_secs),
        lost,
        dup,
        unacked
    );
    println!(
        "latency send→agent: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; server RSS {} MB idle, {} MB under load",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max()),
        rss_before.map(|r| r / 1_048_576).map_or("?".into(), |v| v.to_string()),
        rss_peak.map(|r| r / 1_048_576).map_or("?".into(), |v| v.to_string()),
    );
    println!(
        "{}",
        json!({"bench": "chat", "nodes": if agent_base == base { 1 } else { 2 }, "connections": b.connections, "agents": b.agents, "rate": b.rate, "duration_s": b.duration,
            "sent": sent, "acknowledged": acked.len(), "delivered": delivered.len(),
            "delivered_per_s": (delivered.len() as f64 / send_secs).round(),
            "p50_ms": ms(h.value_at_quantile(0.5)), "p99_ms": ms(h.value_at_quantile(0.99)), "max_ms": ms(h.max()),
            "lost": lost, "duplicated": dup, "not_acknowledged": unacked,
            "server_rss_mb": rss_peak.map(|r| r / 1_048_576), "server_rss_idle_mb": rss_before.map(|r| r / 1_048_576)})
    );
    // The figures are printed either way; a run that lost or doubled a message fails.
    if lost > 0 || dup > 0 {
        bail!("{lost} acknowledged messages were never delivered and {dup} were delivered twice");
    }
    Ok(())
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, headers: &[(&str, &str)]) -> anyhow::Result<Ws> {
    let mut req = url.into_client_request()?;
    for (k, v) in headers {
        req.headers_mut()
            .insert(tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes())?, v.parse()?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(ws)
}

async fn send_json(ws: &mut Ws, v: Value) -> anyhow::Result<()> {
    ws.send(WsMsg::Text(v.to_string().into())).await?;
    Ok(())
}

/// One agent: online with room, counts every customer message it receives once, and when.
async fn agent_conn(
    url: String,
    origin: String,
    cookie: String,
    capacity: i64,
    tally: Arc<Tally>,
    ready: tokio::sync::oneshot::Sender<anyhow::Result<()>>,
) {
    let mut ws = match connect(&url, &[("cookie", &cookie), ("origin", &origin)]).await {
        Ok(ws) => ws,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if let Err(e) = async {
        send_json(&mut ws, json!({"type": "hello", "resume": {}})).await?;
        send_json(&mut ws, json!({"type": "presence", "status": "online", "capacity": capacity})).await
    }
    .await
    {
        let _ = ready.send(Err(e));
        return;
    }
    let _ = ready.send(Ok(()));
    let mut me: Option<String> = None;
    while let Some(Ok(m)) = ws.next().await {
        let WsMsg::Text(t) = m else { continue };
        let now = Instant::now();
        let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else { continue };
        match v["type"].as_str() {
            Some("welcome") => me = v["agent"]["id"].as_str().map(str::to_string),
            Some("inbox") => {
                let mut a = tally.assigned.lock().expect("lock");
                for it in v["items"].as_array().into_iter().flatten() {
                    if it["state"] == "active"
                        && it["assignee_id"].as_str().is_some()
                        && it["assignee_id"].as_str() == me.as_deref()
                        && let Some(c) = it["conversation_id"].as_str()
                    {
                        a.insert(c.to_string());
                    }
                }
            }
            Some("assigned") => {
                if let Some(c) = v["conversation_id"].as_str() {
                    tally.assigned.lock().expect("lock").insert(c.to_string());
                }
            }
            Some("msg") if v["author"]["kind"] == "customer" => {
                let Some(cid) = v["client_id"].as_str().filter(|c| c.starts_with("b-")) else { continue };
                let sent = tally.sent_at.lock().expect("lock").get(cid).copied();
                let fresh = tally.delivered.lock().expect("lock").insert(cid.to_string());
                if !fresh {
                    tally.duplicated.fetch_add(1, Ordering::Relaxed);
                } else if let Some(s) = sent {
                    let us = now.duration_since(s).as_micros() as u64;
                    if let Some(h) = tally.latency.lock().expect("lock").as_mut() {
                        let _ = h.record(us.max(1));
                    }
                }
            }
            _ => {}
        }
    }
}

/// One customer: a visitor session, a connection, "转人工" to reach an agent, then whatever the driver asks it
/// to send (resending, with the same client id, anything not acknowledged if the connection drops). The
/// sessions are asked for with the admin's cookie: signed-in staff are not held to the per-address limit on
/// new sessions, which ten thousand visitors from one machine would otherwise exceed.
async fn customer_conn(
    i: usize,
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    tally: Arc<Tally>,
    mut rx: mpsc::Receiver<String>,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
) -> anyhow::Result<()> {
    let r = http
        .post(format!("{base}/api/v1/chat/session"))
        .header("cookie", admin)
        .json(&json!({"email": format!("visitor{i}@bench.invalid"), "lang": "zh-Hans", "topic": "deposit"}))
        .send()
        .await?;
    if r.status().as_u16() != 201 {
        bail!("chat session: {}", r.status());
    }
    let token = r.json::<Value>().await?["token"].as_str().context("token")?.to_string();
    let mut ws = connect(&ws_url(base, "/ws/chat"), &[]).await?;
    send_json(&mut ws, json!({"type": "hello", "token": token})).await?;
    send_json(&mut ws, json!({"type": "send", "client_id": format!("h-{i}"), "body": "转人工"})).await?;
    drop(permit);
    let mut pending: HashMap<String, ()> = HashMap::new();
    loop {
        tokio::select! {
            cid = rx.recv() => {
                let Some(cid) = cid else { return Ok(()) };
                pending.insert(cid.clone(), ());
                send_json(&mut ws, json!({"type": "send", "client_id": cid, "body": format!("bench message {cid}: 充值还没到账")})).await?;
            }
            m = ws.next() => {
                let Some(Ok(WsMsg::Text(t))) = m else {
                    if m.is_none() { bail!("server closed a customer connection"); }
                    continue;
                };
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else { continue };
                match v["type"].as_str() {
                    Some("ack") => {
                        if let Some(cid) = v["client_id"].as_str().filter(|c| c.starts_with("b-")) {
                            pending.remove(cid);
                            tally.acked.lock().expect("lock").insert(cid.to_string());
                        }
                    }
                    Some("error") => {
                        tally.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("server refused a frame: {v}");
                    }
                    _ => {}
                }
            }
        }
    }
}
