//! `lifebuoy bench restart --tickets N [--database URL]`: how soon a restarted node serves correct ticket search
//! from the index it kept on disk, and how soon it takes in changes made while it was down.
//!
//! 1. N tickets are loaded into a fresh database; a node builds its ticket index (on disk) and stops.
//! 2. **ready**: the node starts again; the time until a search for a word of one ticket finds it through the
//!    index (not the subject `LIKE` of a node still building).
//! 3. The node stops; `--changes` replies (10,000) are written to as many tickets, each with a word of its own,
//!    through the reply use case, while no index runs.
//! 4. **catch-up**: the node starts again; the time until the word of the last change is found, every change
//!    having been read from the change log (none is lost: a sample of words is searched too).
//!
//! Each node runs in a runtime of its own, dropped at its stop, as a process would end: its index directory's
//! lock is released and the next start takes the directory it left. The figures: `ready_ms` (2), `catch_up_ms`
//! (4, start to last change found), `full_rebuild` (whether any start after the first rebuilt the index).

use anyhow::Context;
use lifebuoy_app::ticket_search::IndexState;
use lifebuoy_domain::{ConversationKind, Status};
use lifebuoy_store::{Conversation, QueueFilter, QueueSort, Scope, Store, StoreOptions};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub struct RestartBench {
    pub database: Option<String>,
    pub tickets: usize,
    pub changes: usize,
}

/// A word no other ticket holds, letters only (one token for the analyser), and far (in typos) from the words
/// of other tickets: a base-26 number of k scrambled by a bijection, so neighbours share no letters in place.
fn mark(prefix: &str, k: usize) -> String {
    let mut s = String::from(prefix);
    let mut n = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D;
    for _ in 0..10 {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    s
}

const WORDS: &[&str] = &[
    "USDT",
    "提币",
    "未到账",
    "充值",
    "TRC20",
    "ERC20",
    "冻结",
    "账户",
    "KYC",
    "审核",
    "withdrawal",
    "deposit",
    "pending",
    "network",
    "手续费",
    "地址",
    "memo",
    "标签",
    "C2C",
    "申诉",
    "退款",
    "login",
    "2FA",
    "谷歌验证",
];

fn subject(k: usize) -> String {
    let mut x = k.wrapping_mul(2654435761) ^ 0x5bd1e995;
    let mut words = Vec::new();
    for _ in 0..6 {
        words.push(WORDS[x % WORDS.len()]);
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) >> 7;
    }
    format!("{} #{k} {}", words.join(" "), mark("tk", k))
}

pub async fn run(b: RestartBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        b.tickets >= 100 && b.changes >= 1 && b.changes <= b.tickets,
        "--tickets ≥ 100, 1 ≤ --changes ≤ --tickets"
    );
    let tmp = crate::bench::tempdir()?;
    let (url, admin) = crate::bench::fresh_database(b.database.clone(), &tmp).await?;
    let backend = crate::bench::backend_name(&url);
    let result = measure(&b, &url, backend, &tmp).await;
    crate::bench::drop_database(admin).await;
    let _ = std::fs::remove_dir_all(&tmp);
    println!("{}", result?);
    Ok(())
}

/// Runs `f` in a runtime of its own on a thread of its own, as one run of a process: whatever it started ends
/// with it.
async fn as_process<T, F, Fut>(f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let out = rt.block_on(f());
        rt.shutdown_timeout(Duration::from_secs(5));
        out
    })
    .await?
}

async fn open(url: &str) -> anyhow::Result<Store> {
    let mut opts = StoreOptions::new(url);
    opts.sqlite_sync_full = false;
    Ok(Store::open(&opts).await?)
}

/// A node: the store and its application with the ticket index kept under `data/index`, started.
async fn start_node(url: &str, data: &Path) -> anyhow::Result<lifebuoy_app::App> {
    let store = open(url).await?;
    let app = lifebuoy_app::App::new(
        store,
        lifebuoy_store::FileStore::new(data.join("files")),
        lifebuoy_app::mail::Mailer::default(),
    )
    .with_ticket_index_in(&data.join("index"))?;
    app.load_tickets();
    Ok(app)
}

/// Searches the whole desk for `word`: the ids found, and whether the index answered (not the `LIKE` of a node
/// still building).
async fn search(app: &lifebuoy_app::App, word: &str) -> anyhow::Result<(Vec<String>, bool)> {
    let indexed = app.tickets.is_ready();
    let f = QueueFilter { text: Some(word.to_string()), ..Default::default() };
    let page = app.list_conversations(&Scope::All, &f, QueueSort::UpdatedDesc, None, 50).await?;
    Ok((page.items.into_iter().map(|c| c.id).collect(), indexed))
}

/// Waits until a search for `word` finds `id` through the index; answers when.
async fn until_found(app: &lifebuoy_app::App, word: &str, id: &str, since: Instant) -> anyhow::Result<Duration> {
    let deadline = since + Duration::from_secs(600);
    loop {
        let (ids, indexed) = search(app, word).await?;
        if indexed && ids.iter().any(|i| i == id) {
            return Ok(since.elapsed());
        }
        anyhow::ensure!(Instant::now() < deadline, "{word} not found within 10 minutes");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn measure(b: &RestartBench, url: &str, backend: &str, tmp: &Path) -> anyhow::Result<serde_json::Value> {
    let n = b.tickets;
    let data: PathBuf = tmp.join("node");
    // (1) Load, then a first start that builds the index.
    let t0 = Instant::now();
    let ids: Vec<String> = {
        let store = open(url).await?;
        let customer = store.upsert_exchange_customer("restart-bench", None, None, None).await?.id;
        let now = chrono::Utc::now().timestamp_millis();
        let mut ids = Vec::with_capacity(n);
        let mut i = 0;
        while i < n {
            let rows: Vec<Conversation> = (i..(i + 5_000).min(n))
                .map(|k| {
                    let created = now - (n - k) as i64 * 1000;
                    Conversation {
                        appended: Vec::new(),
                        enqueued: false,
                        id: format!("{created:016x}{k:016x}"),
                        kind: ConversationKind::Ticket.as_str().into(),
                        case_number: Some(format!("LB-RST-{k:08}")),
                        customer_id: customer.clone(),
                        subject: subject(k),
                        status: Status::Open.as_str().into(),
                        priority: "normal".into(),
                        category: "withdrawal".into(),
                        department_id: "support".into(),
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
                        updated_at: created,
                        solved_at: None,
                        closed_at: None,
                        sla_due_at: lifebuoy_store::NO_CLOCK,
                    }
                })
                .collect();
            ids.extend(rows.iter().map(|c| c.id.clone()));
            store.bulk_insert_conversations(&rows).await?;
            i += 5_000;
        }
        store.analyze().await?;
        store.close().await;
        ids
    };
    let load_s = t0.elapsed().as_secs_f64();
    eprintln!("restart: {n} tickets loaded into {backend} in {load_s:.1} s");
    let probe = n / 2;
    let (probe_word, probe_id) = (mark("tk", probe), ids[probe].clone());
    let (u, d, w, id) = (url.to_string(), data.clone(), probe_word.clone(), probe_id.clone());
    let build_ms = as_process(move || async move {
        let t = Instant::now();
        let app = start_node(&u, &d).await?;
        until_found(&app, &w, &id, t).await?;
        anyhow::ensure!(app.tickets.rebuilds() == 1, "the first start builds the index once");
        Ok(t.elapsed().as_millis() as u64)
    })
    .await
    .context("first start")?;
    let index_bytes = dir_bytes(&data.join("index"));
    eprintln!("restart: first start built the index in {build_ms} ms ({} MB on disk)", index_bytes / 1_000_000);

    // (2) Restart with nothing changed.
    let (u, d, w, id) = (url.to_string(), data.clone(), probe_word.clone(), probe_id.clone());
    let (ready_ms, rebuilt_ready) = as_process(move || async move {
        let t = Instant::now();
        let app = start_node(&u, &d).await?;
        let ready = until_found(&app, &w, &id, t).await?;
        Ok((ready.as_millis() as u64, app.tickets.rebuilds()))
    })
    .await
    .context("second start")?;
    eprintln!("restart: serving search {ready_ms} ms after start (rebuilds: {rebuilt_ready})");

    // (3) Changes while no node runs: a reply with a word of its own to `changes` tickets, spread over the desk.
    let t3 = Instant::now();
    let step = (n / b.changes).max(1);
    let changed: Vec<(String, String)> =
        (0..b.changes).map(|c| (ids[(c * step) % n].clone(), mark("chg", c))).collect();
    {
        let store = open(url).await?;
        let app = lifebuoy_app::App::new(
            store.clone(),
            lifebuoy_store::FileStore::new(data.join("files")),
            lifebuoy_app::mail::Mailer::default(),
        );
        let actor = lifebuoy_app::Actor::system("bench.restart");
        let writes = futures::stream::iter(changed.iter().map(|(id, word)| {
            let (app, actor) = (app.clone(), actor.clone());
            async move {
                let t = app.store.conversation(id).await?.context("a loaded ticket")?;
                let msg = lifebuoy_app::tickets::NewMessage {
                    body: format!("补充说明 {word}：链上已确认"),
                    internal: true,
                    attachment_ids: vec![],
                    status: None,
                };
                lifebuoy_app::tickets::reply(&app, &actor, &t, msg, None).await?;
                anyhow::Ok(())
            }
        }));
        use futures::StreamExt;
        let results: Vec<anyhow::Result<()>> = writes.buffer_unordered(16).collect().await;
        results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        store.close().await;
    }
    eprintln!("restart: {} changes written while down in {:.1} s", b.changes, t3.elapsed().as_secs_f64());

    // (4) Restart and catch up.
    let (u, d, changed2) = (url.to_string(), data.clone(), changed.clone());
    let (ready2_ms, catch_up_ms, rebuilt_catch, behind_at_start, sample_found) = as_process(move || async move {
        let t = Instant::now();
        let app = start_node(&u, &d).await?;
        // Serving at once (the probe word did not change) while it catches up.
        let (w, id) = (mark("tk", probe), ids[probe].clone());
        let ready = until_found(&app, &w, &id, t).await?;
        let behind = match app.tickets.state() {
            IndexState::CatchingUp { behind } => behind,
            _ => 0,
        };
        let (last_id, last_word) = changed2.last().cloned().context("changes")?;
        until_found(&app, &last_word, &last_id, t).await?;
        let caught = t.elapsed();
        // None lost: a sample of the changes is found too.
        let mut found = 0;
        let sample: Vec<&(String, String)> = changed2.iter().step_by((changed2.len() / 50).max(1)).collect();
        for (id, word) in &sample {
            let (ids, _) = search(&app, word).await?;
            if ids.contains(id) {
                found += 1;
            } else {
                eprintln!("restart: change {word} on {id} not found (search gave {ids:?})");
            }
        }
        anyhow::ensure!(found == sample.len(), "{found} of {} sampled changes found after catching up", sample.len());
        Ok((ready.as_millis() as u64, caught.as_millis() as u64, app.tickets.rebuilds(), behind, found))
    })
    .await
    .context("third start")?;
    eprintln!(
        "restart: serving {ready2_ms} ms after start ({behind_at_start} changes behind), caught up {catch_up_ms} ms after start; {sample_found} sampled changes found"
    );
    Ok(json!({
        "bench": "restart", "backend": backend, "tickets": n, "changes": b.changes,
        "load_s": (load_s * 10.0).round() / 10.0, "build_ms": build_ms, "index_mb": index_bytes / 1_000_000,
        "ready_ms": ready_ms, "ready_with_changes_ms": ready2_ms, "behind_at_start": behind_at_start,
        "catch_up_ms": catch_up_ms, "full_rebuild": rebuilt_ready + rebuilt_catch > 0,
    }))
}
