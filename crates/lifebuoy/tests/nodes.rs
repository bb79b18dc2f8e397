//! The `lifebuoy` binary as operators run it, in separate processes: a server killed with SIGKILL in the middle
//! of a conversation and started again loses and doubles nothing that it acknowledged; two servers on one
//! PostgreSQL joined by NATS carry a conversation between a customer on one and an agent on the other, and keep
//! their ticket indexes in step, across a restart of one of them too.

use lifebuoy_testkit::{SECRET, WsClient, identity_token, pg_admin_url};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DEMO_PASSWORD: &str = "demo1234";
const AGENT: &str = "li.na@demo.lifebuoy.dev";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A `lifebuoy serve` process.
struct Node {
    child: Child,
    base: String,
    addr: String,
}

impl Node {
    async fn start(port: u16, data: &Path, extra: &[&str]) -> Node {
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(data.with_extension(format!("{port}.log"))).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_lifebuoy"))
            .args(["serve", "--listen", &addr, "--data"])
            .arg(data)
            .args(["--identity-secret", SECRET])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("lifebuoy starts");
        let node = Node { child, base: format!("http://{addr}"), addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", node.base)).await
                && r.status().is_success()
            {
                return node;
            }
            assert!(Instant::now() < deadline, "lifebuoy on {} did not become healthy in 60 s", node.addr);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown hooks, no flushing, as a power cut looks to the process.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    async fn customer(&self, token: &str, resume: Option<(&str, i64)>) -> (WsClient, Value) {
        let mut ws = WsClient::connect(&format!("ws://{}/ws/chat", self.addr), &[]).await;
        let mut hello = json!({"type": "hello", "token": token});
        if let Some((cid, seq)) = resume {
            hello["conversation_id"] = cid.into();
            hello["last_seq"] = seq.into();
        }
        ws.send(hello).await;
        let welcome = ws.recv_type("welcome").await;
        (ws, welcome)
    }

    async fn session(&self, sub: &str) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/chat/session", self.base))
            .json(&json!({"identity_token": identity_token(sub, "zh-Hans", 3600)}))
            .send()
            .await
            .expect("chat session");
        assert_eq!(r.status(), 201, "chat session");
        r.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_string()
    }

    async fn agent(&self, email: &str) -> WsClient {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let r = http
            .post(format!("{}/console/login", self.base))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "login of {email}");
        let cookie = r.headers()["set-cookie"].to_str().expect("ascii").split(';').next().expect("cookie").to_string();
        let mut ws = WsClient::connect(
            &format!("ws://{}/ws/console", self.addr),
            &[("cookie", &cookie), ("origin", &self.base)],
        )
        .await;
        ws.send(json!({"type": "hello", "resume": {}})).await;
        ws.recv_type("welcome").await;
        ws
    }
}

impl Node {
    /// An HTTP client signed in to the console as `email` (the API takes the session cookie).
    async fn agent_http(&self, email: &str) -> reqwest::Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let r = http
            .post(format!("{}/console/login", self.base))
            .header("origin", &self.base)
            .form(&[("email", email), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), 303, "login of {email}");
        http
    }

    /// The ids an agent's queue search returns.
    async fn search(&self, agent: &reqwest::Client, q: &str) -> Vec<String> {
        let r = agent
            .get(format!("{}/api/v1/tickets", self.base))
            .query(&[("q", q), ("status", "all")])
            .send()
            .await
            .expect("search");
        assert_eq!(r.status(), 200, "search {q:?}");
        let v: Value = r.json().await.expect("json");
        v["items"].as_array().expect("items").iter().map(|t| t["id"].as_str().unwrap_or_default().to_string()).collect()
    }

    /// Waits (up to 10 s) until an agent's search on this node returns `want`.
    async fn search_until(&self, agent: &reqwest::Client, q: &str, want: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.search(agent, q).await;
            if got == want {
                return;
            }
            assert!(Instant::now() < deadline, "search {q:?} on {} gave {got:?}, not {want:?}", self.addr);
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

/// Every customer message of a conversation, replayed from the start: client id → how often it is there.
async fn stored_client_ids(node: &Node, token: &str, cid: &str) -> HashMap<String, usize> {
    let (mut ws, _) = node.customer(token, Some((cid, 0))).await;
    let mut seqs = vec![];
    let mut out: HashMap<String, usize> = HashMap::new();
    for f in ws.drain(1500).await {
        if f["type"] == "msg" && f["conversation_id"] == cid {
            seqs.push(f["seq"].as_i64().expect("seq"));
            if let Some(c) = f["client_id"].as_str() {
                *out.entry(c.to_string()).or_default() += 1;
            }
        }
    }
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seqs, sorted, "a replay comes in sequence order, each sequence number once");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_conversation_loses_and_doubles_nothing() {
    let dir = std::env::temp_dir().join(format!("lb-kill-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = dir.join("data");
    let port = free_port();
    let mut node = Node::start(port, &data, &["--demo"]).await;

    // A customer reaches an agent.
    let token = node.session("kill-test-customer").await;
    let (mut cust, _) = node.customer(&token, None).await;
    let mut agent = node.agent(AGENT).await;
    agent.send(json!({"type": "presence", "status": "online", "capacity": 5})).await;
    cust.send(json!({"type": "send", "client_id": "first", "body": "转人工"})).await;
    let ack = cust.recv_type("ack").await;
    let cid = ack["conversation_id"].as_str().expect("conversation").to_string();
    agent
        .recv_until("the chat assigned to the agent", |f| f["type"] == "assigned" && f["conversation_id"] == cid)
        .await;

    // Both sides write; the server dies with 40 customer messages sent, some acknowledged, some in flight.
    agent.send(json!({"type": "send", "conversation_id": cid, "client_id": "agent-1", "body": "您好，请问有什么可以帮您？"})).await;
    let all: Vec<String> = (0..40).map(|i| format!("m-{i}")).collect();
    let mut acked: HashSet<String> = HashSet::new();
    for (i, c) in all.iter().enumerate() {
        cust.send(json!({"type": "send", "client_id": c, "body": format!("第 {i} 条：提币还没到账")})).await;
        if i == 25 {
            // Let some acknowledgements arrive, then pull the plug while the rest are in flight.
            while let Some(f) = cust.recv_within(300).await {
                if f["type"] == "ack" {
                    acked.insert(f["client_id"].as_str().unwrap_or_default().to_string());
                }
                if acked.len() >= 10 {
                    break;
                }
            }
        }
    }
    node.kill();
    while let Some(f) = cust.recv_within(200).await {
        if f["type"] == "ack" {
            acked.insert(f["client_id"].as_str().unwrap_or_default().to_string());
        }
    }
    assert!(acked.len() >= 10, "some messages were acknowledged before the kill ({})", acked.len());

    // Restart on the same data; the customer reconnects and resends everything not acknowledged, with the same
    // client ids (as the widget's outbox does).
    let node = Node::start(port, &data, &[]).await;
    let (mut cust, welcome) = node.customer(&token, Some((&cid, 0))).await;
    assert_eq!(welcome["chat"]["conversation_id"], cid.as_str(), "the open chat survives the restart");
    let unacked: Vec<&String> = all.iter().filter(|c| !acked.contains(*c)).collect();
    for c in &unacked {
        cust.send(json!({"type": "send", "client_id": c, "body": "重发"})).await;
    }
    // Also resend two that were acknowledged, as a client that missed their acks would.
    let again: Vec<String> = acked.iter().filter(|c| c.starts_with("m-")).take(2).cloned().collect();
    for c in &again {
        cust.send(json!({"type": "send", "client_id": c, "body": "重发"})).await;
    }
    let mut pending: HashSet<String> = unacked.iter().map(|c| c.to_string()).chain(again.iter().cloned()).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !pending.is_empty() && Instant::now() < deadline {
        if let Some(f) = cust.recv_within(500).await
            && f["type"] == "ack"
        {
            let c = f["client_id"].as_str().unwrap_or_default();
            if again.iter().any(|a| a == c) {
                assert_eq!(f["duplicate"], true, "a resent, already stored message is answered as a duplicate");
            }
            pending.remove(c);
        }
    }
    assert!(pending.is_empty(), "every resent message is acknowledged after the restart: {pending:?}");

    let stored = stored_client_ids(&node, &token, &cid).await;
    for c in all.iter().chain(["first".to_string()].iter()) {
        assert_eq!(stored.get(c).copied().unwrap_or(0), 1, "message {c} is stored exactly once");
    }
    // The agent, reconnecting, sees their own reply and every customer message once.
    let mut agent = node.agent(AGENT).await;
    agent.send(json!({"type": "open", "conversation_id": cid, "last_seq": 0})).await;
    let frames = agent.drain(1500).await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for f in frames.iter().filter(|f| f["type"] == "msg" && f["conversation_id"] == cid.as_str()) {
        *seen.entry(f["client_id"].as_str().unwrap_or("-").to_string()).or_default() += 1;
    }
    assert_eq!(seen.get("agent-1"), Some(&1), "the agent's reply survived");
    assert!(all.iter().all(|c| seen.get(c) == Some(&1)), "the agent sees each customer message once: {seen:?}");
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What one customer sent during a round of load, and what the server acknowledged before it died.
#[derive(Default)]
struct Sent {
    /// Client id → body, in the order sent.
    bodies: Vec<(String, String)>,
    /// Client id → acknowledged sequence number.
    acks: HashMap<String, i64>,
}

/// One customer writing at a steady rate (a message every `every`) until `stop`, reading acknowledgements as
/// they come. At `stop` it sends a last burst of messages at once, counts itself in `burst_sent` (the kill
/// comes when every writer has), then reads until the connection ends (the server was killed).
async fn write_steadily(
    mut ws: WsClient,
    tag: String,
    every: Duration,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    burst_sent: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Sent {
    use std::sync::atomic::Ordering;
    const BURST: usize = 20;
    let mut out = Sent::default();
    let mut next = Instant::now();
    let mut k = 0;
    let mut burst = false;
    loop {
        let stopped = stop.load(Ordering::SeqCst);
        let due = if stopped && !burst { BURST } else { usize::from(!stopped && Instant::now() >= next) };
        for _ in 0..due {
            let (cid, body) = (format!("{tag}-{k}"), format!("{tag} 第 {k} 条：提币还没到账"));
            ws.send(json!({"type": "send", "client_id": cid, "body": body})).await;
            out.bodies.push((cid, body));
            k += 1;
            next += every;
        }
        if stopped && !burst {
            burst = true;
            burst_sent.fetch_add(1, Ordering::SeqCst);
        }
        let wait =
            if stopped { 3000 } else { next.saturating_duration_since(Instant::now()).as_millis().max(1) as u64 };
        match ws.recv_within(wait).await {
            Some(f) if f["type"] == "ack" => {
                out.acks.insert(f["client_id"].as_str().unwrap_or_default().into(), f["seq"].as_i64().unwrap_or(-1));
            }
            Some(_) => {}
            None if stopped => return out,
            None => {}
        }
    }
}

/// Many chats written to at a steady rate; the server is SIGKILLed three times with messages in flight and
/// restarted on the same database. Every acknowledgement must match exactly one stored row, with the
/// acknowledged sequence number and the original body; what was not acknowledged is resent (same client id,
/// same body, as the widget's outbox does) and stored once; each chat's sequence stays gapless.
async fn kills_under_load(db: Option<&str>) {
    const CUSTOMERS: usize = 6;
    const ROUNDS: usize = 3;
    let every = Duration::from_millis(10);
    let dir = std::env::temp_dir().join(format!("lb-kill-load-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = dir.join("data");
    let url = db.map(str::to_string).unwrap_or_else(|| format!("sqlite://{}", data.join("lifebuoy.db").display()));
    let mut args = vec!["--demo".to_string()];
    if let Some(d) = db {
        args.extend(["--database".to_string(), d.to_string()]);
    }
    let port = free_port();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut node = Node::start(port, &data, &argv).await;

    // Each customer's chat, handed to the (absent) humans so that no bot turn follows each message.
    let mut chats = vec![];
    for i in 0..CUSTOMERS {
        let token = node.session(&format!("load-{i}")).await;
        let (mut ws, _) = node.customer(&token, None).await;
        ws.send(json!({"type": "send", "client_id": format!("start-{i}"), "body": "转人工"})).await;
        let cid = ws.recv_type("ack").await["conversation_id"].as_str().expect("conversation").to_string();
        ws.close().await;
        chats.push((token, cid));
    }
    // Client id → (conversation, body, acknowledged seq if any), over every round.
    let mut expected: HashMap<String, (String, String, Option<i64>)> = HashMap::new();
    for round in 0..ROUNDS {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let burst_sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = vec![];
        for (i, (token, cid)) in chats.iter().enumerate() {
            let (ws, welcome) = node.customer(token, Some((cid, 0))).await;
            assert_eq!(welcome["chat"]["conversation_id"], cid.as_str(), "round {round}: the chat is open");
            let tag = format!("r{round}-u{i}");
            tasks.push(tokio::spawn(write_steadily(ws, tag, every, stop.clone(), burst_sent.clone())));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // The kill comes the moment every writer has put its last burst on the wire: messages are in flight.
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(10);
        while burst_sent.load(std::sync::atomic::Ordering::SeqCst) < CUSTOMERS {
            assert!(Instant::now() < deadline, "round {round}: the writers did not send their last burst");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        node.kill();
        let mut unacked = vec![];
        for ((_, cid), t) in chats.iter().zip(tasks) {
            let sent = t.await.expect("writer");
            for (c, body) in sent.bodies {
                let ack = sent.acks.get(&c).copied();
                if ack.is_none() {
                    unacked.push((cid.clone(), c.clone(), body.clone()));
                }
                expected.insert(c, (cid.clone(), body, ack));
            }
        }
        assert!(!unacked.is_empty(), "round {round}: every message was acknowledged before the kill: not under load");
        eprintln!("round {round}: killed with {} of {} messages unacknowledged", unacked.len(), expected.len());

        // Restart; each customer resends what it has no acknowledgement for, and one it has.
        node = Node::start(port, &data, &argv).await;
        for (i, (token, cid)) in chats.iter().enumerate() {
            let (mut ws, _) = node.customer(token, Some((cid, 0))).await;
            let mine: Vec<&(String, String, String)> = unacked.iter().filter(|(c, _, _)| c == cid).collect();
            let again = expected
                .iter()
                .find(|(c, (conv, _, ack))| conv == cid && ack.is_some() && c.starts_with(&format!("r{round}-u{i}-")));
            let mut pending: HashMap<String, Option<i64>> = HashMap::new();
            for (_, c, body) in &mine {
                ws.send(json!({"type": "send", "client_id": c, "body": body})).await;
                pending.insert(c.clone(), None);
            }
            if let Some((c, (_, body, ack))) = again {
                ws.send(json!({"type": "send", "client_id": c, "body": body})).await;
                pending.insert(c.clone(), *ack);
            }
            let deadline = Instant::now() + Duration::from_secs(20);
            while !pending.is_empty() {
                assert!(Instant::now() < deadline, "round {round}: resent messages not acknowledged: {pending:?}");
                let Some(f) = ws.recv_within(500).await else { continue };
                if f["type"] != "ack" {
                    continue;
                }
                let c = f["client_id"].as_str().unwrap_or_default().to_string();
                if let Some(before) = pending.remove(&c) {
                    let seq = f["seq"].as_i64().expect("seq");
                    if let Some(b) = before {
                        assert_eq!((seq, &f["duplicate"]), (b, &json!(true)), "{c}: a resend of a stored message");
                    }
                    expected.get_mut(&c).expect("sent").2 = Some(seq);
                }
            }
            ws.close().await;
        }

        // The database, read directly: every client id once, at its acknowledged seq, with its body; no gaps.
        let store = lifebuoy_store::Store::open(&lifebuoy_store::StoreOptions::new(url.clone())).await.expect("open");
        for (_, cid) in &chats {
            let items = store.timeline(cid, true).await.expect("timeline");
            let seqs: Vec<i64> = items.iter().map(|i| i.seq()).collect();
            assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "round {round}: gapless in {cid}");
            let mut stored: HashMap<String, (i64, String)> = HashMap::new();
            for i in &items {
                if let lifebuoy_store::TimelineItem::Message { message, .. } = i
                    && let Some(c) = &message.client_id
                    && c.starts_with('r')
                {
                    let twice = stored.insert(c.clone(), (message.seq, message.body.clone()));
                    assert!(twice.is_none(), "round {round}: {c} stored twice in {cid}");
                }
            }
            let mine: HashMap<String, (i64, String)> = expected
                .iter()
                .filter(|(_, (conv, _, _))| conv == cid)
                .map(|(c, (_, body, ack))| (c.clone(), (ack.expect("acknowledged by now"), body.clone())))
                .collect();
            assert_eq!(stored.len(), mine.len(), "round {round}: stored and acknowledged client ids in {cid}");
            assert!(stored == mine, "round {round}: a stored row differs from its acknowledgement in {cid}");
        }
        store.close().await;
    }
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_sqlite() {
    kills_under_load(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_postgres() {
    use sqlx::Connection;
    let admin = pg_admin_url();
    let name = format!("lb_kill_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL for the kill test");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.expect("create database");
    let db = format!("{}/{name}", admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin));
    kills_under_load(Some(&db)).await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await;
}

/// `lifebuoy bench chat` against a `lifebuoy serve --demo`: its JSON line counts what the run sent, every message
/// acknowledged and delivered once, and it exits 0 (it exits non-zero when a message is lost or doubled, so a
/// regression in delivery fails here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_chat_counts_every_message_once() {
    let dir = std::env::temp_dir().join(format!("lb-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let node = Node::start(free_port(), &dir.join("data"), &["--demo"]).await;
    let (connections, agents, rate, duration) = (20u64, 2u64, 40u64, 2u64);
    let args: Vec<String> = vec![
        "bench".into(),
        "chat".into(),
        "--url".into(),
        node.base.clone(),
        "--connections".into(),
        connections.to_string(),
        "--agents".into(),
        agents.to_string(),
        "--rate".into(),
        rate.to_string(),
        "--duration".into(),
        duration.to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_lifebuoy")).args(&args).env("RUST_LOG", "warn").output()
    })
    .await
    .expect("join")
    .expect("run lifebuoy bench chat");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "bench chat failed ({}):\n{stdout}\n{stderr}", out.status);
    let last: Value = serde_json::from_str(stdout.lines().last().expect("output")).expect("a JSON last line");
    let sent = rate * duration;
    assert_eq!(
        (&last["connections"], &last["agents"], &last["sent"]),
        (&json!(connections), &json!(agents), &json!(sent)),
        "{last}"
    );
    assert_eq!((&last["acknowledged"], &last["delivered"]), (&json!(sent), &json!(sent)), "{last}");
    assert_eq!(
        (&last["lost"], &last["duplicated"], &last["not_acknowledged"]),
        (&json!(0), &json!(0), &json!(0)),
        "{last}"
    );
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The NATS server for the two-node test: `LIFEBUOY_TEST_NATS`, default the local one (scripts/test.sh starts
/// one when the machine has none).
fn nats_url() -> String {
    std::env::var("LIFEBUOY_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_and_nats_carry_one_conversation() {
    use sqlx::Connection;
    let nats = nats_url();
    let hostport = nats.trim_start_matches("nats://").to_string();
    assert!(
        tokio::net::TcpStream::connect(&hostport).await.is_ok(),
        "NATS is needed at {nats} (set LIFEBUOY_TEST_NATS; scripts/test.sh starts one)"
    );
    let admin = pg_admin_url();
    let name = format!("lb_nodes_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL for the two-node test");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.expect("create database");
    let db = format!("{}/{name}", admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin));
    let dir = std::env::temp_dir().join(format!("lb-nodes-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let a = Node::start(free_port(), &dir.join("a"), &["--demo", "--database", &db, "--nats", &nats]).await;
    let b = Node::start(free_port(), &dir.join("b"), &["--database", &db, "--nats", &nats]).await;

    // The agent is on node B, the customer on node A.
    let mut agent = b.agent(AGENT).await;
    agent.send(json!({"type": "presence", "status": "online", "capacity": 5})).await;
    let token = a.session("two-node-customer").await;
    let (mut cust, _) = a.customer(&token, None).await;
    cust.send(json!({"type": "send", "client_id": "c-1", "body": "转人工"})).await;
    let cid = cust.recv_type("ack").await["conversation_id"].as_str().expect("conversation").to_string();
    agent.recv_until("assignment across nodes", |f| f["type"] == "assigned" && f["conversation_id"] == cid).await;
    cust.recv_until("the customer sees the agent join", |f| f["type"] == "chat" && f["chat"]["state"] == "active")
        .await;

    for i in 0..5 {
        let t0 = Instant::now();
        cust.send(json!({"type": "send", "client_id": format!("c-q{i}"), "body": format!("问题 {i}")})).await;
        agent
            .recv_until("the customer's message on the other node", |f| {
                f["type"] == "msg" && f["client_id"] == format!("c-q{i}").as_str()
            })
            .await;
        agent
            .send(json!({"type": "send", "conversation_id": cid, "client_id": format!("a-{i}"), "body": format!("回复 {i}")}))
            .await;
        cust.recv_until("the agent's reply on the other node", |f| {
            f["type"] == "msg" && f["author"]["kind"] == "agent" && f["body"] == format!("回复 {i}").as_str()
        })
        .await;
        eprintln!("two nodes: round trip {i} in {:?}", t0.elapsed());
    }
    // Typing crosses nodes too (a hint, not stored).
    agent.send(json!({"type": "typing", "conversation_id": cid, "on": true})).await;
    cust.recv_until("typing from the other node", |f| f["type"] == "typing" && f["from"] == "agent").await;

    // Each node keeps its own ticket index in step: a ticket filed and answered on node A is found on node B.
    let customer = identity_token("two-node-ticket", "zh-Hant", 3600);
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/tickets", a.base))
        .bearer_auth(&customer)
        .json(&json!({"subject": "提幣一直沒到帳", "body": "已經三小時了，單號 ZQ778", "category": "withdrawal"}))
        .send()
        .await
        .expect("file a ticket");
    assert_eq!(r.status(), 201);
    let ticket = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_string();
    let on_b = b.agent_http(AGENT).await;
    b.search_until(&on_b, "出金 zq778", &[&ticket]).await;
    let r = http
        .post(format!("{}/api/v1/tickets/{ticket}/messages", a.base))
        .bearer_auth(&customer)
        .json(&json!({"body": "TxID 在 Arbitrum 上查不到"}))
        .send()
        .await
        .expect("reply");
    assert_eq!(r.status(), 201);
    b.search_until(&on_b, "arbitrum", &[&ticket]).await;

    // Node B stops; a change is made on A meanwhile. B, started again on its data directory, serves search from
    // the index it kept and takes in the change from the database's change log: no rebuild.
    let b_data = dir.join("b");
    let b_port: u16 = b.addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).expect("port");
    drop(b);
    let r = http
        .post(format!("{}/api/v1/tickets/{ticket}/messages", a.base))
        .bearer_auth(&customer)
        .json(&json!({"body": "polygonscan shows it confirmed"}))
        .send()
        .await
        .expect("reply while B is down");
    assert_eq!(r.status(), 201);
    // And an article published by a supervisor on A.
    let admin_on_a = a.agent_http("admin@demo.lifebuoy.dev").await;
    let r = admin_on_a
        .post(format!("{}/api/v1/kb/articles", a.base))
        .header("origin", &a.base)
        .json(&json!({"slug": "restart-kb-check", "category": "withdrawal", "status": "published",
            "translations": [{"lang": "en", "title": "Whitelisting a withdrawal address", "body": "Add the address under zebrawhitelist settings.", "keywords": []}]}))
        .send()
        .await
        .expect("publish an article");
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let t0 = Instant::now();
    let b = Node::start(b_port, &b_data, &["--database", &db, "--nats", &nats, "--metrics-allow", "127.0.0.1"]).await;
    let on_b = b.agent_http(AGENT).await;
    b.search_until(&on_b, "polygonscan", &[&ticket]).await;
    eprintln!("two nodes: B restarted found the change made while it was down {:?} after start", t0.elapsed());
    b.search_until(&on_b, "arbitrum", &[&ticket]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = reqwest::get(format!("{}/api/v1/kb/search?q=zebrawhitelist", b.base)).await.expect("kb search");
        let v: Value = r.json().await.expect("json");
        if v.to_string().contains("restart-kb-check") {
            break;
        }
        assert!(Instant::now() < deadline, "the article published while B was down is not found on B: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = reqwest::get(format!("{}/metrics", b.base)).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("lifebuoy_ticket_index_rebuilds_total 0"), "B rebuilt its ticket index:\n{metrics}");
    assert!(metrics.contains("lifebuoy_kb_index_rebuilds_total 0"), "B rebuilt its knowledge-base index");
    assert!(metrics.contains("lifebuoy_ticket_index_ready 1"));

    drop(a);
    drop(b);
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await;
    let _ = std::fs::remove_dir_all(&dir);
}
