//! `lifebuoy bench records`: communication records at scale, on a fresh database.
//!
//! Loads `--conversations` cases (default 1,000,000) among 20,000 customers, each with an order id and a tx
//! hash, and one customer with `--entries` messages (default 10,000, ten per case) written through the
//! reply use case (so every one is hash-chained as in production). Then times, each `--iterations` times:
//! the customer's history, first page; customer lookup by order id and by tx hash, exact and by prefix; then the
//! customer's signed export of every entry as JSON and as PDF, and the verification of that export. Ends with
//! one JSON line: `{"history_p99_ms", "order_p99_ms", "tx_p99_ms", "export_json_ms", "export_pdf_ms",
//! "verify_entries_per_s", ...}`.

use crate::bench::Lcg;
use lifebuoy_domain::{ConversationKind, Status};
use lifebuoy_store::{Conversation, HistoryFilter, Store, StoreOptions};
use serde_json::json;
use std::time::{Duration, Instant};

pub struct RecordsBench {
    pub database: Option<String>,
    pub conversations: usize,
    pub entries: usize,
    pub iterations: usize,
}

fn p99_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    let i = ((v.len() as f64) * 0.99).ceil() as usize;
    let d = v[i.saturating_sub(1).min(v.len() - 1)];
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

fn tx_of(k: usize) -> String {
    // 64 hex digits that look like a hash and differ early (as real ones do).
    let a = (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("0x{a:016x}{:016x}{:016x}{:016x}", a.rotate_left(17), a ^ 0xDEAD_BEEF, k)
}

pub async fn run(b: RecordsBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        b.conversations >= 1000 && b.entries >= 10 && b.iterations > 0,
        "--conversations ≥ 1000, --entries ≥ 10"
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

async fn measure(
    b: &RecordsBench,
    url: &str,
    backend: &str,
    tmp: &std::path::Path,
) -> anyhow::Result<serde_json::Value> {
    let mut opts = StoreOptions::new(url);
    opts.sqlite_sync_full = false;
    let store = Store::open(&opts).await?;
    let state = crate::build_state_with(store.clone(), tmp, Default::default());
    let app = state.app.clone();

    // (1) The haystack: cases among 20,000 customers, each with an order id and a tx hash.
    let t0 = Instant::now();
    let customers: Vec<String> = futures::future::try_join_all((0..20_000).map(|i| {
        let s = store.clone();
        async move { s.upsert_exchange_customer(&format!("rec-bench-{i:05}"), None, None, None).await.map(|c| c.id) }
    }))
    .await?;
    let now = chrono::Utc::now().timestamp_millis();
    let mut rng = Lcg(7);
    let mut i = 0;
    while i < b.conversations {
        let rows: Vec<Conversation> = (i..(i + 5_000).min(b.conversations))
            .map(|k| {
                let created = now - (rng.next() % (730 * 86_400_000)) as i64;
                Conversation {
                    appended: Vec::new(),
                    enqueued: false,
                    id: format!("{created:016x}{k:016x}"),
                    kind: if k % 3 == 0 { ConversationKind::Chat } else { ConversationKind::Ticket }.as_str().into(),
                    case_number: Some(format!("LB-REC-{k:08}")),
                    customer_id: customers[(rng.next() % customers.len() as u64) as usize].clone(),
                    subject: format!("bench case {k}"),
                    status: Status::Closed.as_str().into(),
                    priority: "normal".into(),
                    category: "deposit".into(),
                    department_id: "support".into(),
                    assignee_id: None,
                    tier: "l1".into(),
                    lang: "zh-Hans".into(),
                    order_id: Some(format!("ORD{k:010}")),
                    tx_hash: Some(tx_of(k)),
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
        store.bulk_insert_conversations(&rows).await?;
        i += 5_000;
    }
    store.analyze().await?;
    eprintln!("records: {} cases loaded in {:.1} s", b.conversations, t0.elapsed().as_secs_f64());

    // (2) The customer with a long history: `entries` messages, ten per case, through the reply use case.
    let t1 = Instant::now();
    let who = store.upsert_exchange_customer("rec-bench-target", None, Some("目标客户"), Some("zh-Hans")).await?;
    let actor = lifebuoy_app::Actor::Customer(who.clone());
    let cases = b.entries.div_ceil(10);
    let mut written = 0;
    for c in 0..cases {
        let (t, _) = lifebuoy_app::tickets::create(
            &app,
            &actor,
            lifebuoy_app::tickets::CreateTicket {
                subject: format!("第 {c} 次咨询：充值未到账"),
                body: format!("我的 USDT 充值（订单 TGT{c:06}）还没到账，请帮忙查一下。"),
                category: lifebuoy_domain::Category::Deposit,
                priority: None,
                department: None,
                lang: None,
                order_id: Some(format!("TGT{c:06}")),
                tx_hash: None,
                asset: None,
                amount: None,
                tags: vec![],
                attachment_ids: vec![],
                customer: None,
            },
            None,
        )
        .await?;
        written += 1;
        for m in 1..10 {
            if written >= b.entries {
                break;
            }
            let msg = lifebuoy_app::tickets::NewMessage {
                body: format!("补充第 {m} 条：链上已确认 {m} 次，交易哈希 {}", tx_of(c * 10 + m)),
                internal: false,
                attachment_ids: vec![],
                status: None,
            };
            lifebuoy_app::tickets::reply(&app, &actor, &t, msg, None).await?;
            written += 1;
        }
    }
    eprintln!("records: {written} entries for one customer in {cases} cases in {:.1} s", t1.elapsed().as_secs_f64());

    // (3) History, first page.
    let mut hist = Vec::with_capacity(b.iterations);
    for _ in 0..b.iterations {
        let t = Instant::now();
        let page = store.customer_history(&who.id, &HistoryFilter::default(), 50).await?;
        hist.push(t.elapsed());
        anyhow::ensure!(page.len() == 50.min(cases), "the first page holds {} cases", page.len());
    }
    // (4) Lookups by order id and tx hash, exact and prefix, on random cases of the haystack.
    let (mut order, mut tx) = (Vec::new(), Vec::new());
    let mut rng = Lcg(99);
    for n in 0..b.iterations {
        let k = (rng.next() % b.conversations as u64) as usize;
        let (o, h) = (format!("ORD{k:010}"), tx_of(k));
        let (o, h) = if n % 2 == 0 { (o, h) } else { (o[..10].to_string(), h[..18].to_string()) };
        let t = Instant::now();
        let hits = store.find_customers(&o, 50).await?;
        order.push(t.elapsed());
        anyhow::ensure!(!hits.is_empty(), "order {o} found nobody");
        let t = Instant::now();
        let hits = store.find_customers(&h, 50).await?;
        tx.push(t.elapsed());
        anyhow::ensure!(!hits.is_empty(), "tx {h} found nobody");
    }
    // (5) The export, JSON and PDF, and its verification.
    let req = lifebuoy_app::records::ExportRequest::default();
    let t = Instant::now();
    let doc = lifebuoy_app::records::export_document(&app, &actor, &req, lifebuoy_app::records::Format::Json).await?;
    let export_json_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let pdf = lifebuoy_app::records::export_document(&app, &actor, &req, lifebuoy_app::records::Format::Pdf).await;
    let export_pdf_ms = t.elapsed().as_secs_f64() * 1000.0;
    let pdf_bytes = match &pdf {
        Ok(d) => d.bytes.len(),
        Err(e) => {
            eprintln!("records: no PDF: {e}");
            0
        }
    };
    let text = String::from_utf8(doc.bytes)?;
    let t = Instant::now();
    let mut verified = 0;
    let rounds = 5;
    for _ in 0..rounds {
        verified += lifebuoy_records::verify_json(&text, None).map_err(|e| anyhow::anyhow!("{e}"))?.entries;
    }
    let verify_s = t.elapsed().as_secs_f64();
    store.close().await;
    let r1 = |x: f64| (x * 10.0).round() / 10.0;
    Ok(json!({
        "bench": "records",
        "backend": backend,
        "conversations": b.conversations,
        "entries": written,
        "history_p99_ms": p99_ms(hist),
        "order_p99_ms": p99_ms(order),
        "tx_p99_ms": p99_ms(tx),
        "export_json_ms": r1(export_json_ms),
        "export_json_bytes": text.len(),
        "export_pdf_ms": r1(export_pdf_ms),
        "export_pdf_bytes": pdf_bytes,
        "verify_entries_per_s": (verified as f64 / verify_s).round(),
        "iterations": b.iterations,
    }))
}
