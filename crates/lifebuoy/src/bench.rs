//! `lifebuoy bench ...`: workloads that print their figures and end with one JSON line.
//!
//! - `bench tickets`: files tickets over HTTP at a concurrency, against `--url` or a server it starts itself
//!   on a fresh database, and reports tickets/s and latency percentiles.
//! - `bench queue`: loads N tickets into a fresh database and times the agent-queue page queries.
//! - `bench jobs`: runs N no-op jobs through the durable job queue (`bench_jobs.rs`).
//! - `bench mail`: mails into the SMTP listener and replies out through the job runner (`bench_mail.rs`).
//! - `bench restart`: search after a restart, from the index kept on disk (`bench_restart.rs`).
//! - `bench appeals`: open C2C appeals, the arbiters' queue, and signed webhook deliveries (`bench_appeals.rs`).
//! - `bench analytics`: every dashboard chart's read over the rollups of N conversations (`bench_analytics.rs`).

use clap::Subcommand;
use hdrhistogram::Histogram;
use lifebuoy_domain::{ConversationKind, Status};
use lifebuoy_store::{Conversation, QueueFilter, QueueSort, Scope, Store, StoreOptions};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Create tickets over HTTP and report throughput and latency.
    Tickets {
        /// A running server; without it, one is started in-process on a fresh database.
        #[arg(long)]
        url: Option<String>,
        /// With --url: the server's identity secret, to sign customer tokens.
        #[arg(long, env = "LIFEBUOY_IDENTITY_SECRET", default_value = "bench-secret")]
        identity_secret: String,
        /// Without --url: the database to start on (`postgres://.../postgres` gets a fresh database created on that server).
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// SQLite sync mode of the in-process server.
        #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
        sqlite_sync: String,
    },
    /// Knowledge-base search: index generated articles (zh-Hans, zh-Hant, en) in memory, then time searches
    /// and answer-engine questions; one JSON line per size.
    Kb {
        /// Article versions to index, comma-separated.
        #[arg(long, default_value = "10000,100000", value_delimiter = ',')]
        articles: Vec<usize>,
        /// Timed searches per size.
        #[arg(long, default_value_t = 3000)]
        queries: usize,
    },
    /// Drive a running server's live chat: N customer connections, M agents, R messages a second; prints
    /// end-to-end latency, delivery, losses and doubles, and the server's memory.
    Chat {
        /// The running server (started with --demo, or give the admin's login).
        #[arg(long)]
        url: String,
        /// Another node of the same deployment for the agents (two nodes over NATS: customers on --url,
        /// agents here). Default: --url.
        #[arg(long)]
        agent_url: Option<String>,
        #[arg(long, default_value_t = 1000)]
        connections: usize,
        #[arg(long, default_value_t = 10)]
        agents: usize,
        /// Customer messages per second, in all.
        #[arg(long, default_value_t = 500)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        duration: u64,
        #[arg(long, default_value = "admin@demo.lifebuoy.dev")]
        admin_email: String,
        #[arg(long, default_value = "demo1234", env = "LIFEBUOY_BENCH_ADMIN_PASSWORD", hide_env_values = true)]
        admin_password: String,
    },
    /// Run N no-op jobs through the durable job queue on a fresh database: throughput, lag, doubles, losses.
    Jobs {
        /// `postgres://.../postgres` gets a fresh database on that server; default a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 20_000)]
        jobs: usize,
        /// Jobs running at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Jobs claimed per statement at most.
        #[arg(long, default_value_t = 256)]
        batch: usize,
        /// Jobs per enqueueing transaction.
        #[arg(long, default_value_t = 500)]
        enqueue_batch: usize,
        #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
        sqlite_sync: String,
    },
    /// C2C appeals: N orders paid and appealed through the use cases, the arbiters' queue page timed, and the N
    /// signed `appeal.opened` webhooks delivered by the job runner to a local receiver.
    Appeals {
        /// `postgres://.../postgres` gets a fresh database on that server; default a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 10_000)]
        appeals: usize,
        /// Reads of the queue's first page to time.
        #[arg(long, default_value_t = 500)]
        queries: usize,
        /// Seeding writers at once.
        #[arg(long, default_value_t = 16)]
        writers: usize,
    },
    /// Supervisors' dashboards: the rollups of N generated conversations over a year, written by the fold's own
    /// step, then every chart's read timed Q times over 30 and 365 days.
    Analytics {
        /// `postgres://.../postgres` gets a fresh database on that server; default a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 1_000_000)]
        conversations: usize,
        /// Reads of each chart to time.
        #[arg(long, default_value_t = 100)]
        queries: usize,
    },
    /// The email channel: N mails into the SMTP listener over C connections until committed as cases, then a
    /// reply on each, mailed by the job runner to a local SMTP sink; throughput both ways, losses and doubles.
    Mail {
        /// `postgres://.../postgres` gets a fresh database on that server; default a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 2000)]
        mails: usize,
        /// Concurrent SMTP client connections inbound, and concurrent repliers outbound.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
        sqlite_sync: String,
    },
    /// Communication records at scale: a customer's history and customer lookups among N cases, the export of
    /// a long history as JSON and PDF, and verification speed; one JSON line.
    Records {
        /// `postgres://.../postgres` gets a fresh database on that server; default a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 1_000_000)]
        conversations: usize,
        /// Messages of the one customer whose history is read and exported.
        #[arg(long, default_value_t = 10_000)]
        entries: usize,
        /// Timed queries per measured kind.
        #[arg(long, default_value_t = 500)]
        iterations: usize,
    },
    /// Search after a restart: N tickets indexed, the node restarted (time to serve correct search), then
    /// `--changes` made while it was down (time to take them in); one JSON line.
    Restart {
        #[arg(long, default_value_t = 200_000)]
        tickets: usize,
        /// Changes written while the node is down.
        #[arg(long, default_value_t = 10_000)]
        changes: usize,
        /// `postgres://.../postgres` gets a fresh database on that server; default a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
    },
    /// Load N tickets and time the agent queue's page queries.
    Queue {
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        /// `postgres://.../postgres` gets a fresh database on that server; default a temporary SQLite file.
        #[arg(long)]
        database: Option<String>,
        /// Queries per measured query shape.
        #[arg(long, default_value_t = 300)]
        iterations: usize,
    },
}

pub async fn run(cmd: BenchCmd) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Tickets { url, identity_secret, database, concurrency, duration, sqlite_sync } => {
            tickets(url, identity_secret, database, concurrency, duration, sqlite_sync == "full").await
        }
        BenchCmd::Queue { tickets, database, iterations } => queue(tickets, database, iterations).await,
        BenchCmd::Restart { tickets, changes, database } => {
            crate::bench_restart::run(crate::bench_restart::RestartBench { database, tickets, changes }).await
        }
        BenchCmd::Records { database, conversations, entries, iterations } => {
            crate::bench_records::run(crate::bench_records::RecordsBench {
                database,
                conversations,
                entries,
                iterations,
            })
            .await
        }
        BenchCmd::Mail { database, mails, connections, sqlite_sync } => {
            crate::bench_mail::run(crate::bench_mail::MailBench {
                database,
                mails,
                connections,
                sqlite_sync_full: sqlite_sync == "full",
            })
            .await
        }
        BenchCmd::Jobs { database, jobs, concurrency, batch, enqueue_batch, sqlite_sync } => {
            crate::bench_jobs::run(crate::bench_jobs::JobsBench {
                database,
                jobs,
                concurrency,
                batch,
                enqueue_batch,
                sqlite_sync_full: sqlite_sync == "full",
            })
            .await
        }
        BenchCmd::Appeals { database, appeals, queries, writers } => {
            crate::bench_appeals::run(crate::bench_appeals::AppealsBench { database, appeals, queries, writers }).await
        }
        BenchCmd::Analytics { database, conversations, queries } => {
            crate::bench_analytics::run(crate::bench_analytics::AnalyticsBench { database, conversations, queries })
                .await
        }
        BenchCmd::Kb { articles, queries } => {
            for n in articles {
                eprintln!("bench kb: indexing {n} generated articles");
                let r = tokio::task::spawn_blocking(move || lifebuoy_search::bench::run(n, queries)).await??;
                eprintln!("{}", r.line());
                println!("{}", r.json());
            }
            Ok(())
        }
        BenchCmd::Chat { url, agent_url, connections, agents, rate, duration, admin_email, admin_password } => {
            crate::bench_chat::run(crate::bench_chat::ChatBench {
                url,
                agent_url,
                connections,
                agents,
                rate,
                duration,
                admin_email,
                admin_password,
            })
            .await
        }
    }
}

/// A fresh database for a bench: a temp SQLite file, or a new database on the given PostgreSQL server.
/// Returns the URL and what to drop afterwards.
pub(crate) async fn fresh_database(
    database: Option<String>,
    dir: &std::path::Path,
) -> anyhow::Result<(String, Option<(String, String)>)> {
    match database {
        Some(url) if url.starts_with("postgres") => {
            use sqlx::Connection;
            let name = format!("lb_bench_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&url).await?;
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await?;
            let base = url.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(url.clone());
            Ok((format!("{base}/{name}"), Some((url, name))))
        }
        Some(url) => Ok((url, None)),
        None => Ok((format!("sqlite://{}", dir.join("bench.db").display()), None)),
    }
}

pub(crate) async fn drop_database(admin: Option<(String, String)>) {
    if let Some((url, name)) = admin {
        use sqlx::Connection;
        if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c).await;
        }
    }
}

pub(crate) fn backend_name(url: &str) -> &'static str {
    if url.starts_with("postgres") { "postgres" } else { "sqlite" }
}

async fn tickets(
    url: Option<String>,
    secret: String,
    database: Option<String>,
    concurrency: usize,
    duration: u64,
    sync_full: bool,
) -> anyhow::Result<()> {
    let tmp = tempdir()?;
    let mut admin = None;
    let mut backend = "remote";
    let base = match url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let (db_url, adm) = fresh_database(database, &tmp).await?;
            admin = adm;
            backend = backend_name(&db_url);
            let mut opts = StoreOptions::new(db_url);
            opts.sqlite_sync_full = sync_full;
            let store = Store::open(&opts).await?;
            let state = crate::build_state(store, &tmp, false, Some(secret.clone()), false, None);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let app = lifebuoy_web::app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
            tokio::spawn(async move { axum::serve(listener, app).await });
            format!("http://{addr}")
        }
    };
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let exp = chrono::Utc::now().timestamp() + 3600;
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..concurrency)
            .map(|i| {
                lifebuoy_web::auth::sign_identity(
                    &secret,
                    &lifebuoy_web::auth::IdentityClaims {
                        sub: format!("bench-{i}"),
                        email: Some(format!("bench{i}@example.com")),
                        name: Some(format!("Bench {i}")),
                        lang: Some("zh-CN".into()),
                        exp,
                        anti_phishing_code: None,
                    },
                )
            })
            .collect(),
    );
    let body = json!({"subject": "充值未到账 deposit missing", "body": "I sent 100 USDT on TRC20 two hours ago, tx 0x1234, still not credited.", "category": "deposit"}).to_string();
    let deadline = Instant::now() + Duration::from_secs(duration);
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..concurrency {
        let (client, tokens, body, errors, base) =
            (client.clone(), tokens.clone(), body.clone(), errors.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let r = client
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&tokens[i])
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        h.saturating_record(t0.elapsed().as_micros() as u64);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            h
        }));
    }
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for t in tasks {
        all.add(t.await?)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = all.len();
    let out = json!({
        "bench": "tickets", "backend": backend, "concurrency": concurrency, "duration_s": round(secs),
        "tickets": n, "errors": errors.load(Ordering::Relaxed), "tickets_per_s": round(n as f64 / secs),
        "p50_ms": ms(all.value_at_quantile(0.5)), "p99_ms": ms(all.value_at_quantile(0.99)), "max_ms": ms(all.max()),
        "sqlite_sync": if sync_full { "full" } else { "normal" },
    });
    println!("created {n} tickets in {secs:.1} s at concurrency {concurrency} on {backend}");
    println!("{out}");
    drop_database(admin).await;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// Rows per queue page, as the console asks for them.
const PAGE: usize = 50;

async fn queue(n: usize, database: Option<String>, iterations: usize) -> anyhow::Result<()> {
    let tmp = tempdir()?;
    let (db_url, admin) = fresh_database(database, &tmp).await?;
    let backend = backend_name(&db_url);
    let mut opts = StoreOptions::new(db_url);
    opts.sqlite_sync_full = false;
    let store = Store::open(&opts).await?;
    let customers: Vec<String> = futures::future::try_join_all((0..200).map(|i| {
        let s = store.clone();
        async move { s.upsert_exchange_customer(&format!("queue-bench-{i}"), None, None, None).await.map(|c| c.id) }
    }))
    .await?;
    let t0 = Instant::now();
    let now = chrono::Utc::now().timestamp_millis();
    let span = 730 * 24 * 3600 * 1000i64; // two years of history
    let mut rng = Lcg(42);
    let batch = 5_000;
    let mut i = 0;
    while i < n {
        let rows: Vec<Conversation> = (i..(i + batch).min(n))
            .map(|k| {
                // Older cases are mostly closed; the newest few percent are still being worked.
                let age = (rng.next() % span as u64) as i64;
                let created = now - age;
                let active = age < span / 50 || rng.next().is_multiple_of(100);
                let status = if active {
                    [Status::New, Status::Open, Status::Pending, Status::OnHold][(rng.next() % 4) as usize]
                } else if rng.next().is_multiple_of(5) {
                    Status::Solved
                } else {
                    Status::Closed
                };
                let dept = ["support", "support", "support", "finance", "tech", "risk"][(rng.next() % 6) as usize];
                let prio = ["low", "normal", "normal", "normal", "high", "urgent"][(rng.next() % 6) as usize];
                Conversation {
                    appended: Vec::new(),
                    enqueued: false,
                    id: format!("{:016x}{:016x}", created, k),
                    kind: ConversationKind::Ticket.as_str().into(),
                    case_number: Some(format!("LB-BENCH-{k:08}")),
                    customer_id: customers[(rng.next() % customers.len() as u64) as usize].clone(),
                    subject: format!("bench ticket {k}"),
                    status: status.as_str().into(),
                    priority: prio.into(),
                    category: "deposit".into(),
                    department_id: dept.into(),
                    assignee_id: None,
                    tier: "l1".into(),
                    lang: "zh-Hans".into(),
                    order_id: None,
                    tx_hash: None,
                    asset: None,
                    amount: None,
                    merged_into: None,
                    follow_up_of: None,
                    last_seq: 0,
                    created_at: created,
                    updated_at: created + (rng.next() % 86_400_000) as i64,
                    solved_at: None,
                    closed_at: None,
                    // An open case's clock runs out 30 minutes to a day after it was filed.
                    sla_due_at: if active {
                        created + 1_800_000 + (rng.next() % 84_600_000) as i64
                    } else {
                        lifebuoy_store::NO_CLOCK
                    },
                }
            })
            .collect();
        store.bulk_insert_conversations(&rows).await?;
        i += batch;
    }
    store.analyze().await?;
    let load_s = t0.elapsed().as_secs_f64();
    println!("loaded {n} tickets into {backend} in {load_s:.1} s");
    let agent = Scope::Agent { id: "nobody".into(), departments: vec!["support".into()] };
    let active =
        QueueFilter { statuses: Status::ACTIVE.to_vec(), kind: Some(ConversationKind::Ticket), ..Default::default() };
    let shapes: Vec<(&str, Scope, QueueFilter, QueueSort, usize)> = vec![
        ("agent_active_updated", agent.clone(), active.clone(), QueueSort::UpdatedDesc, 0),
        ("agent_active_updated_page5", agent.clone(), active.clone(), QueueSort::UpdatedDesc, 4),
        ("supervisor_active_priority", Scope::All, active.clone(), QueueSort::PriorityDesc, 0),
        ("agent_active_time_left", agent.clone(), active.clone(), QueueSort::DueAsc, 0),
        ("agent_active_time_left_page5", agent.clone(), active.clone(), QueueSort::DueAsc, 4),
        (
            "supervisor_all_oldest",
            Scope::All,
            QueueFilter { kind: Some(ConversationKind::Ticket), ..Default::default() },
            QueueSort::CreatedAsc,
            0,
        ),
        (
            "agent_unassigned_new",
            agent.clone(),
            QueueFilter {
                statuses: vec![Status::New],
                assignee: Some(None),
                kind: Some(ConversationKind::Ticket),
                ..Default::default()
            },
            QueueSort::UpdatedDesc,
            0,
        ),
        (
            "customer_my_tickets",
            Scope::Customer(customers[7].clone()),
            QueueFilter::default(),
            QueueSort::UpdatedDesc,
            0,
        ),
    ];
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut per_shape = serde_json::Map::new();
    for (name, scope, f, sort, skip) in &shapes {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
        // The cursor `skip` pages deep, so a deep page is measured by itself.
        let mut cursor = None;
        for _ in 0..*skip {
            let p = store.list_conversations(scope, f, *sort, cursor.as_ref(), PAGE).await?;
            cursor = p.next_cursor.map(|c| lifebuoy_store::Cursor::decode(&c)).transpose()?;
        }
        for _ in 0..iterations {
            let t = Instant::now();
            let p = store.list_conversations(scope, f, *sort, cursor.as_ref(), PAGE).await?;
            h.saturating_record(t.elapsed().as_micros() as u64);
            std::hint::black_box(p);
        }
        println!(
            "  {name:<30} p50 {:>7.2} ms  p99 {:>7.2} ms",
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99))
        );
        per_shape.insert(
            name.to_string(),
            json!({"p50_ms": ms(h.value_at_quantile(0.5)), "p99_ms": ms(h.value_at_quantile(0.99))}),
        );
        all.add(&h)?;
    }
    store.close().await;
    drop_database(admin).await;
    let _ = std::fs::remove_dir_all(&tmp);
    println!(
        "{}",
        json!({"bench": "queue", "backend": backend, "tickets": n, "load_s": round(load_s), "page_size": PAGE,
        "p50_ms": ms(all.value_at_quantile(0.5)), "p99_ms": ms(all.value_at_quantile(0.99)), "max_ms": ms(all.max()), "shapes": per_shape})
    );
    Ok(())
}

fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(crate) fn tempdir() -> anyhow::Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!("lifebuoy-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// A tiny deterministic generator, so every run loads the same data.
pub(crate) struct Lcg(pub(crate) u64);
impl Lcg {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}
