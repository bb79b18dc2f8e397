//! `lifebuoy bench appeals`: N open appeals made through the use cases (an order registered, paid, appealed by
//! its buyer) on a fresh database, with a webhook endpoint that wants `appeal.opened`; then the arbiters' queue
//! page timed Q times, and the N signed deliveries sent by the job runner to a local HTTP receiver. Prints human
//! figures, then one JSON line: `{"appeals", "queue_p50_ms", "queue_p99_ms", "deliveries_per_s", ...}`. A run
//! that delivers fewer than N, or one twice, fails.

use lifebuoy_app::c2c::{self, OpenAppeal, OrderEventInput, RegisterOrder};
use lifebuoy_app::jobs::{Registry, Runner, RunnerOptions};
use lifebuoy_app::webhooks::{self, NewEndpoint};
use lifebuoy_app::{Actor, App};
use lifebuoy_domain::{AgentNo, AppealReason, Lang, Role};
use lifebuoy_store::{FileStore, NewAgent, Store, StoreOptions};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct AppealsBench {
    pub database: Option<String>,
    pub appeals: usize,
    pub queries: usize,
    /// Seeding writers at once.
    pub writers: usize,
}

pub async fn run(b: AppealsBench) -> anyhow::Result<()> {
    anyhow::ensure!(b.appeals > 0 && b.queries > 0, "--appeals and --queries must be at least 1");
    let tmp = crate::bench::tempdir()?;
    let (url, admin) = crate::bench::fresh_database(b.database.clone(), &tmp).await?;
    let result = measure(&b, &url, &tmp).await;
    crate::bench::drop_database(admin).await;
    let _ = std::fs::remove_dir_all(&tmp);
    let line = result?;
    println!("{line}");
    let (n, got, twice) = (b.appeals as u64, line["delivered"].as_u64(), line["received_twice"].as_u64());
    anyhow::ensure!(got == Some(n) && twice == Some(0), "delivered {got:?} of {n}, {twice:?} twice");
    Ok(())
}

/// A local receiver that answers 200 to every POST and notes each body's event id.
async fn receiver() -> anyhow::Result<(String, Arc<Mutex<(u64, HashSet<String>)>>)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    let seen: Arc<Mutex<(u64, HashSet<String>)>> = Default::default();
    let noted = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let noted = noted.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Ok(k) = s.read(&mut chunk).await else { return };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok()))
                        .unwrap_or(0);
                    if buf.len() < p + 4 + len {
                        continue;
                    }
                    let body: serde_json::Value = serde_json::from_slice(&buf[p + 4..p + 4 + len]).unwrap_or_default();
                    if let Some(id) = body["id"].as_str() {
                        let mut g = noted.lock().unwrap_or_else(|e| e.into_inner());
                        if !g.1.insert(id.to_string()) {
                            g.0 += 1;
                        }
                    }
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                    return;
                }
            });
        }
    });
    Ok((url, seen))
}

async fn measure(b: &AppealsBench, url: &str, tmp: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let backend = crate::bench::backend_name(url);
    let mut opts = StoreOptions::new(url);
    opts.max_connections = 32;
    let store = Store::open(&opts).await?;
    let app = App::new(store.clone(), FileStore::new(tmp.join("files")), Default::default());
    let exchange = Actor::Integration { token_id: "bench".into(), name: "bench".into() };
    let (hook_url, seen) = receiver().await?;
    webhooks::register(
        &app,
        &exchange,
        NewEndpoint { url: hook_url, events: vec!["appeal.opened".into()], secret: "bench-webhook-secret".into() },
    )
    .await?;
    let arbiter = store
        .create_agent(&NewAgent {
            email: "arbiter@bench.example".into(),
            display_name: "Arbiter".into(),
            agent_no: AgentNo::parse("R1")?,
            role: Role::AgentL2,
            languages: vec![Lang::ZhHans],
            departments: vec!["risk".into()],
            password_hash: "x".into(),
        })
        .await?;
    store.set_agent_permission(&arbiter.id, c2c::ARBITER, true).await?;
    let arbiter = Actor::Agent(arbiter);

    eprintln!("bench appeals: {} orders paid and appealed through the use cases on {backend}", b.appeals);
    let seeded = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..b.writers.max(1) {
        let (app, exchange, next, n) = (app.clone(), exchange.clone(), next.clone(), b.appeals);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                let (id, buyer) = (format!("B-{i:06}"), format!("buyer-{i}"));
                let o: RegisterOrder = serde_json::from_value(json!({
                    "id": id, "buyer": buyer, "seller": format!("seller-{}", i % 997), "asset": "USDT",
                    "amount": format!("{}", 100 + i % 900), "fiat_amount": format!("{}.50", 720 + i % 6000),
                    "fiat_currency": "CNY", "payment_method": "bank_transfer"
                }))?;
                c2c::register_order(&app, &exchange, o).await?;
                c2c::order_event(&app, &exchange, &id, OrderEventInput { event: "paid".into(), at: None }).await?;
                let k = app.store.upsert_exchange_customer(&buyer, None, None, Some("zh-Hans")).await?;
                let input = OpenAppeal {
                    reason: AppealReason::PaidNotReleased,
                    body: "我已付款，卖家超过30分钟未放币".into(),
                    attachment_ids: vec![],
                };
                c2c::open_appeal(&app, &Actor::Customer(k), &id, input).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let seed_s = seeded.elapsed().as_secs_f64();
    eprintln!("seeded in {seed_s:.1} s ({:.0} appeals/s)", b.appeals as f64 / seed_s);

    // The arbiters' queue: the first page (50), least time left first, as the console asks for it.
    let mut times = Vec::with_capacity(b.queries);
    for _ in 0..b.queries {
        let t = Instant::now();
        let page = c2c::queue(&app, &arbiter, 50).await?;
        times.push(t.elapsed());
        anyhow::ensure!(page.len() == 50.min(b.appeals), "the queue page has {} rows", page.len());
    }
    times.sort();
    let pct = |p: f64| {
        let i = ((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1;
        (times[i].as_secs_f64() * 100_000.0).round() / 100.0
    };
    let (p50, p99) = (pct(0.5), pct(0.99));
    eprintln!("arbiter queue (first 50 of {} open): p50 {p50} ms, p99 {p99} ms over {} reads", b.appeals, b.queries);

    // The deliveries: the fan-outs were written with the appeals; a runner of the webhook kinds sends them.
    let mut registry = Registry::new();
    let a = app.clone();
    registry.register(webhooks::FANOUT_JOB, move |job, ctx| {
        let a = a.clone();
        async move { webhooks::run_fanout(&a, job, ctx).await }
    })?;
    let a = app.clone();
    registry.register(webhooks::DELIVER_JOB, move |job, ctx| {
        let a = a.clone();
        async move { webhooks::run_deliver(&a, job, ctx).await }
    })?;
    let sent = Instant::now();
    let runner = Runner::start(
        store.clone(),
        registry,
        RunnerOptions { concurrency: 64, batch: 64, poll: Duration::from_millis(100), ..RunnerOptions::default() },
    )?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let got = seen.lock().unwrap_or_else(|e| e.into_inner()).1.len();
        if got >= b.appeals || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deliver_s = sent.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = runner.shutdown().await;
    let (twice, delivered) = {
        let g = seen.lock().unwrap_or_else(|e| e.into_inner());
        (g.0, g.1.len())
    };
    let per_s = delivered as f64 / deliver_s;
    eprintln!(
        "webhooks: {delivered} signed deliveries (fan-out included) in {deliver_s:.2} s: {per_s:.0}/s; {twice} received twice"
    );
    store.close().await;
    Ok(json!({
        "bench": "appeals",
        "backend": backend,
        "appeals": b.appeals,
        "seed_s": (seed_s * 10.0).round() / 10.0,
        "queue_p50_ms": p50,
        "queue_p99_ms": p99,
        "queries": b.queries,
        "delivered": delivered,
        "received_twice": twice,
        "deliveries_per_s": per_s.round(),
    }))
}
