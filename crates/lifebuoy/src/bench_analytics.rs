//! `lifebuoy bench analytics`: the dashboards over N conversations. Seeds a fresh database's rollups with the
//! parts of N generated conversations spread over the last 365 days (channels, categories, their departments,
//! 24 agents, answer and resolution times, SLA outcomes, ratings, bot-only chats), written through the fold's
//! own `Store::analytics_apply` in steps of 2,000 conversations, as the fold writes them. Then times every
//! chart's read Q times over the last 30 and 90 days (by day) and the whole year (by month), and the whole
//! dashboard use case.
//! Prints human figures, then one JSON line: `{"conversations", "apply_per_s", "charts": {name: {"p50_ms",
//! "p99_ms"}}, ...}`. The rollups' total must equal N (a lost or doubled part fails the run).

use hdrhistogram::Histogram;
use lifebuoy_app::analytics::{self, DashQuery};
use lifebuoy_app::{Actor, App};
use lifebuoy_store::analytics::{FRT_BOUNDS_MS, RES_BOUNDS_MS, metric};
use lifebuoy_store::{FileStore, GroupBy, METRIC_COUNT, Part, RollupFilter, RollupKey, Store, StoreOptions, now_ms};
use serde_json::json;
use std::time::Instant;

pub struct AnalyticsBench {
    pub database: Option<String>,
    pub conversations: usize,
    pub queries: usize,
}

const HOUR_MS: i64 = 3_600_000;
const STEP: usize = 2_000;

/// xorshift64*: the same conversations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// One generated conversation's parts, as `analytics::parts_of` would give them.
fn conversation(r: &mut Rng, now: i64) -> Vec<Part> {
    const CATEGORIES: [(&str, &str); 9] = [
        ("account", "support"),
        ("kyc", "risk"),
        ("deposit", "finance"),
        ("withdrawal", "finance"),
        ("trading", "support"),
        ("c2c", "risk"),
        ("security", "risk"),
        ("api", "tech"),
        ("other", "support"),
    ];
    let kind = match r.below(100) {
        0..50 => "chat",
        50..85 => "ticket",
        85..95 => "email",
        _ => "appeal",
    };
    let (category, department) = CATEGORIES[r.below(CATEGORIES.len() as u64) as usize];
    // Agents work in one department: six each.
    let dept_no = ["support", "tech", "finance", "risk"].iter().position(|d| *d == department).unwrap_or(0) as u64;
    let agent = if r.chance(92) { format!("bench-agent-{}", dept_no * 6 + r.below(6)) } else { String::new() };
    let created = now - r.below(365 * 24 * HOUR_MS as u64) as i64;
    let mut parts: std::collections::BTreeMap<i64, [i64; METRIC_COUNT]> = Default::default();
    let mut at = |ms: i64, name: &str, v: i64| {
        if ms <= now {
            parts.entry(ms.div_euclid(HOUR_MS)).or_insert([0; METRIC_COUNT])[metric(name)] += v;
        }
    };
    at(created, "opened", 1);
    let bot_alone = kind == "chat" && r.chance(40);
    if kind == "chat" {
        at(created, "bot_chats", 1);
    }
    let first = if kind == "chat" { r.below(6 * 60_000) as i64 } else { r.below(36 * HOUR_MS as u64) as i64 };
    let target = match (kind, category) {
        ("chat", _) => 2 * 60_000,
        (_, "withdrawal" | "deposit" | "security") => 30 * 60_000,
        (_, "c2c") => HOUR_MS,
        _ => 24 * HOUR_MS,
    };
    if !bot_alone {
        at(created + first, "responded", 1);
        at(created + first, "frt_ms", first);
        at(created + first, &format!("frt_b{}", FRT_BOUNDS_MS.iter().position(|b| first < *b).unwrap_or(6)), 1);
    }
    if r.chance(85) {
        let took =
            if kind == "chat" { first + r.below(40 * 60_000) as i64 } else { r.below(10 * 24 * HOUR_MS as u64) as i64 };
        let done = created + took;
        at(done, "resolved", 1);
        at(done, "res_ms", took);
        at(done, &format!("res_b{}", RES_BOUNDS_MS.iter().position(|b| took < *b).unwrap_or(5)), 1);
        if bot_alone {
            at(done, "bot_solved", 1);
        } else if kind != "appeal" {
            at(done, if first <= target { "sla_met" } else { "sla_breached" }, 1);
        }
        if r.chance(30) {
            let score = [5, 5, 5, 4, 4, 3, 2, 1][r.below(8) as usize];
            at(done + 60_000, "csat_n", 1);
            at(done + 60_000, "csat_sum", score);
            at(done + 60_000, "csat_good", i64::from(score >= 4));
        }
    }
    parts
        .into_iter()
        .map(|(hour, m)| Part {
            key: RollupKey {
                hour,
                kind: kind.into(),
                category: category.into(),
                department: department.into(),
                agent: agent.clone(),
            },
            m,
        })
        .collect()
}

pub async fn run(b: AnalyticsBench) -> anyhow::Result<()> {
    anyhow::ensure!(b.conversations > 0 && b.queries > 0, "--conversations and --queries must be at least 1");
    let tmp = crate::bench::tempdir()?;
    let (url, admin) = crate::bench::fresh_database(b.database.clone(), &tmp).await?;
    let result = measure(&b, &url, &tmp).await;
    crate::bench::drop_database(admin).await;
    let _ = std::fs::remove_dir_all(&tmp);
    let line = result?;
    println!("{line}");
    Ok(())
}

fn ms(us: u64) -> f64 {
    (us as f64 / 10.0).round() / 100.0
}

async fn measure(b: &AnalyticsBench, url: &str, tmp: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let backend = crate::bench::backend_name(url);
    let store = Store::open(&StoreOptions::new(url)).await?;
    let app = App::new(store.clone(), FileStore::new(tmp.join("files")), Default::default());
    let now = now_ms();
    eprintln!("bench analytics: rollups of {} generated conversations over 365 days on {backend}", b.conversations);
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut i = 0;
    while i < b.conversations {
        let n = STEP.min(b.conversations - i);
        let facts: Vec<(String, Vec<Part>)> =
            (i..i + n).map(|k| (format!("bench-{k:08}"), conversation(&mut r, now))).collect();
        let st = store.analytics_state().await?;
        let next = lifebuoy_store::FoldState { rebuilt: true, ..st.clone() };
        anyhow::ensure!(store.analytics_apply(st.version, &next, &facts).await?, "a fold step was overtaken");
        i += n;
        if i % 100_000 < STEP {
            eprintln!("  {i} conversations folded in {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    let seed_s = started.elapsed().as_secs_f64();
    let today = now.div_euclid(86_400_000);
    let year = RollupFilter { from_day: today - 400, to_day: today + 1, ..Default::default() };
    let all = store.analytics_sums(&year, GroupBy::All).await?;
    let opened = all.first().map(|(_, m)| m[metric("opened")]).unwrap_or(0);
    anyhow::ensure!(
        opened == b.conversations as i64,
        "the rollups count {opened} conversations, not {}",
        b.conversations
    );

    let mut charts = serde_json::Map::new();
    let system = Actor::System { job: "bench".into() };
    for (range, days) in [("30d", 30), ("90d", 90), ("365d", 365)] {
        let f = RollupFilter { from_day: today + 1 - days, to_day: today + 1, ..Default::default() };
        let finance = RollupFilter { department: Some("finance".into()), ..f.clone() };
        // Longer ranges are charted by month, as the dashboard does.
        let monthly = days > analytics::MONTHLY_AFTER_DAYS;
        type Read<'a> = Box<dyn Fn() -> futures::future::BoxFuture<'a, anyhow::Result<()>> + 'a>;
        let (s, fa, ff) = (&store, &f, &finance);
        let reads: Vec<(&str, Read)> = vec![
            (
                "volume_by_channel",
                Box::new(move || {
                    Box::pin(async move {
                        s.analytics_sums(fa, if monthly { GroupBy::KindMonth } else { GroupBy::KindDay }).await?;
                        Ok(())
                    })
                }),
            ),
            (
                "per_bucket_response_resolution_backlog_bot",
                Box::new(move || {
                    Box::pin(async move {
                        s.analytics_sums(fa, if monthly { GroupBy::Month } else { GroupBy::Day }).await?;
                        s.analytics_backlog_before(fa).await?;
                        Ok(())
                    })
                }),
            ),
            (
                "by_category",
                Box::new(move || {
                    Box::pin(
                        async move { s.analytics_sums(fa, GroupBy::Category).await.map(|_| ()).map_err(Into::into) },
                    )
                }),
            ),
            (
                "by_hour",
                Box::new(move || {
                    Box::pin(async move { s.analytics_by_hour(fa, 8).await.map(|_| ()).map_err(Into::into) })
                }),
            ),
            (
                "sla_csat_by_department",
                Box::new(move || {
                    Box::pin(
                        async move { s.analytics_sums(fa, GroupBy::Department).await.map(|_| ()).map_err(Into::into) },
                    )
                }),
            ),
            (
                "sla_csat_by_agent",
                Box::new(move || {
                    Box::pin(async move { s.analytics_sums(fa, GroupBy::Agent).await.map(|_| ()).map_err(Into::into) })
                }),
            ),
            (
                "by_agent_in_finance",
                Box::new(move || {
                    Box::pin(async move { s.analytics_sums(ff, GroupBy::Agent).await.map(|_| ()).map_err(Into::into) })
                }),
            ),
        ];
        for (name, read) in &reads {
            let mut h = Histogram::<u64>::new(3)?;
            for _ in 0..b.queries {
                let t = Instant::now();
                read().await?;
                h.record(t.elapsed().as_micros() as u64)?;
            }
            eprintln!(
                "  {range} {name}: p50 {:.2} ms, p99 {:.2} ms",
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.99))
            );
            charts.insert(
                format!("{range}.{name}"),
                json!({"p50_ms": ms(h.value_at_quantile(0.5)), "p99_ms": ms(h.value_at_quantile(0.99))}),
            );
        }
        let mut h = Histogram::<u64>::new(3)?;
        for _ in 0..b.queries {
            let q = DashQuery { offset_hours: 8, ..DashQuery::last_days(days, now) };
            let t = Instant::now();
            analytics::dashboard(&app, &system, q, "zh-Hans").await?;
            h.record(t.elapsed().as_micros() as u64)?;
        }
        eprintln!(
            "  {range} whole dashboard (every chart): p50 {:.2} ms, p99 {:.2} ms",
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99))
        );
        charts.insert(
            format!("{range}.dashboard"),
            json!({"p50_ms": ms(h.value_at_quantile(0.5)), "p99_ms": ms(h.value_at_quantile(0.99))}),
        );
    }
    let rows = store.analytics_rollup_rows().await?;
    store.close().await;
    Ok(json!({
        "bench": "analytics", "backend": backend, "conversations": b.conversations,
        "apply_s": (seed_s * 10.0).round() / 10.0,
        "apply_per_s": (b.conversations as f64 / seed_s).round(),
        "rollup_rows": rows, "queries": b.queries, "charts": charts,
    }))
}
