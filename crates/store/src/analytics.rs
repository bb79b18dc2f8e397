//! Supervisors' analytics (migration `0025_analytics.sql`): rollup tables that the `analytics.fold` job keeps
//! from the change log, and the sums the dashboards read from them.
//!
//! A conversation adds [`Part`]s to the rollups: a key (the UTC hour something happened, and the case's
//! channel, category, department and agent) and its metrics (opened, answered and how fast, resolved and how
//! fast, SLA met or breached, rated, answered by the bot alone). `analytics_facts` keeps each conversation's
//! parts as last folded; folding it again ([`Store::analytics_apply`]) takes the old parts out of the rollups and
//! puts the new ones in, in one transaction with the fold's new position. So a conversation folded twice counts
//! once, a reopened case leaves the resolved count, and the rollups are always the sum of the facts.

use crate::{LogPos, Result, Store, StoreError, now_ms, on_read, on_write};
use serde_json::{Map, Value};
use sqlx::Row;
use std::collections::BTreeMap;

/// The rollups' metric columns, in order: the index of a name here is its index in [`Metrics`].
pub const METRICS: [&str; METRIC_COUNT] = [
    "opened",
    "responded",
    "frt_ms",
    "frt_b0",
    "frt_b1",
    "frt_b2",
    "frt_b3",
    "frt_b4",
    "frt_b5",
    "frt_b6",
    "resolved",
    "res_ms",
    "res_b0",
    "res_b1",
    "res_b2",
    "res_b3",
    "res_b4",
    "res_b5",
    "sla_met",
    "sla_breached",
    "csat_n",
    "csat_sum",
    "csat_good",
    "bot_chats",
    "bot_solved",
];

/// How many metric columns the table has.
pub const METRIC_COUNT: usize = 25;

/// One row's metrics, by [`METRICS`] index.
pub type Metrics = [i64; METRIC_COUNT];

/// The index of a metric by name.
pub fn metric(name: &str) -> usize {
    METRICS.iter().position(|m| *m == name).unwrap_or_else(|| panic!("no metric {name}"))
}

/// Upper bounds of the first-response histogram's buckets (`frt_b0`..`frt_b5`; `frt_b6` is the rest), in ms.
pub const FRT_BOUNDS_MS: [i64; 6] = [60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000];
/// Upper bounds of the resolution histogram's buckets (`res_b0`..`res_b4`; `res_b5` is the rest), in ms.
pub const RES_BOUNDS_MS: [i64; 5] = [3_600_000, 14_400_000, 86_400_000, 259_200_000, 604_800_000];

/// Where a part counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// UTC hours since the epoch.
    pub hour: i64,
    pub kind: String,
    pub category: String,
    pub department: String,
    /// The agent holding the case, or empty.
    pub agent: String,
}

/// What one conversation adds at one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub key: RollupKey,
    pub m: Metrics,
}

impl Part {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        for (i, v) in self.m.iter().enumerate().filter(|(_, v)| **v != 0) {
            m.insert(METRICS[i].to_string(), Value::from(*v));
        }
        serde_json::json!({
            "h": self.key.hour, "k": self.key.kind, "c": self.key.category, "d": self.key.department,
            "a": self.key.agent, "m": m,
        })
    }

    fn from_json(v: &Value) -> Option<Part> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let key = RollupKey {
            hour: v.get("h")?.as_i64()?,
            kind: s("k")?,
            category: s("c")?,
            department: s("d")?,
            agent: s("a")?,
        };
        let mut m = [0; METRIC_COUNT];
        for (name, n) in v.get("m")?.as_object()? {
            if let Some(i) = METRICS.iter().position(|x| x == name) {
                m[i] = n.as_i64()?;
            }
        }
        Some(Part { key, m })
    }
}

/// Parts as stored in `analytics_facts.parts`.
pub fn parts_to_json(parts: &[Part]) -> String {
    Value::Array(parts.iter().map(Part::to_json).collect()).to_string()
}

/// Parts read back (a row that does not parse counts as no parts).
pub fn parts_from_json(s: &str) -> Vec<Part> {
    match serde_json::from_str::<Value>(s) {
        Ok(Value::Array(a)) => a.iter().filter_map(Part::from_json).collect(),
        _ => Vec::new(),
    }
}

/// Where the fold stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldState {
    /// Goes up with every step; a step commits only over the version it read.
    pub version: i64,
    /// The change log read up to.
    pub pos: LogPos,
    /// The first full pass over every conversation is done.
    pub rebuilt: bool,
    /// While it runs: the last conversation id it took.
    pub rebuild_after: String,
    pub folded_at: i64,
}

/// Which rows a dashboard sums.
#[derive(Debug, Clone, Default)]
pub struct RollupFilter {
    /// UTC days since the epoch, `to_day` excluded.
    pub from_day: i64,
    pub to_day: i64,
    pub kind: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub agent: Option<String>,
}

/// How a dashboard groups the rows it sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Kind,
    Category,
    Department,
    Agent,
    /// By month (keyed by the day number of its first day).
    Month,
    /// By channel and day (`kind|day`).
    KindDay,
    /// By channel and month (`kind|month`).
    KindMonth,
    /// One row, the whole range.
    All,
}

impl GroupBy {
    fn expr(self) -> &'static str {
        match self {
            GroupBy::Day | GroupBy::Month | GroupBy::KindDay | GroupBy::KindMonth => "CAST(day AS TEXT)",
            GroupBy::Kind => "kind",
            GroupBy::Category => "category",
            GroupBy::Department => "department_id",
            GroupBy::Agent => "agent_id",
            GroupBy::All => "''",
        }
    }
}

/// Adds `b` to `a`, `sign` times.
fn add(a: &mut Metrics, b: &Metrics, sign: i64) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += sign * y;
    }
}

/// The `n`th bind parameter (`$n` numbers parameters on both backends).
fn placeholder(n: usize) -> String {
    format!("${n}")
}

/// `rows` tuples of `width` bind parameters, numbered on from `$1`: `($1, $2), ($3, $4)`.
fn value_rows(rows: usize, width: usize) -> String {
    let row = |r: usize| {
        let marks: Vec<String> = (1..=width).map(|c| placeholder(r * width + c)).collect();
        format!("({})", marks.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

impl Store {
    /// Where the fold stands.
    pub async fn analytics_state(&self) -> Result<FoldState> {
        let r: (i64, i64, i64, bool, String, i64) = on_read!(self, |pool| sqlx::query_as(
            "SELECT version, xid, seq, rebuilt, rebuild_after, folded_at FROM analytics_state WHERE id = 1"
        )
        .fetch_one(pool)
        .await)?;
        Ok(FoldState {
            version: r.0,
            pos: LogPos { xid: r.1, seq: r.2 },
            rebuilt: r.3,
            rebuild_after: r.4,
            folded_at: r.5,
        })
    }

    /// Conversation ids after `after`, in id order (the fold's full pass).
    pub async fn conversation_ids_after(&self, after: &str, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            on_read!(self, |pool| sqlx::query_as("SELECT id FROM conversations WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await)?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// One fold step: replaces the parts of the conversations in `facts` (an empty list removes a
    /// conversation's), moves the rollups by the difference and the state to `next`, in one transaction, if
    /// the state is still at `expect_version`. Answers false (nothing written) when another step came first.
    pub async fn analytics_apply(
        &self,
        expect_version: i64,
        next: &FoldState,
        facts: &[(String, Vec<Part>)],
    ) -> Result<bool> {
        let ids: Vec<&str> = facts.iter().map(|(id, _)| id.as_str()).collect();
        let now = now_ms();
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE analytics_state SET version = version + 1, xid = $2, seq = $3, rebuilt = $4, \
                 rebuild_after = $5, folded_at = $6 WHERE id = 1 AND version = $1",
            )
            .bind(expect_version)
            .bind(next.pos.xid)
            .bind(next.pos.seq)
            .bind(next.rebuilt)
            .bind(&next.rebuild_after)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            // The parts as last folded.
            let mut old: Vec<(String, String)> = Vec::new();
            for chunk in ids.chunks(500) {
                let marks: Vec<String> = (1..=chunk.len()).map(placeholder).collect();
                let sql = format!(
                    "SELECT conversation_id, parts FROM analytics_facts WHERE conversation_id IN ({})",
                    marks.join(", ")
                );
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                old.extend(q.fetch_all(&mut *tx).await?);
            }
            let mut daily: BTreeMap<(i64, String, String, String, String), Metrics> = BTreeMap::new();
            let mut hourly: BTreeMap<(i64, String, String), i64> = BTreeMap::new();
            let opened = metric("opened");
            let mut fold = |parts: &[Part], sign: i64| {
                for p in parts {
                    let k = &p.key;
                    let day = k.hour.div_euclid(24);
                    let d = daily
                        .entry((day, k.kind.clone(), k.category.clone(), k.department.clone(), k.agent.clone()))
                        .or_insert([0; METRIC_COUNT]);
                    add(d, &p.m, sign);
                    if p.m[opened] != 0 {
                        *hourly.entry((k.hour, k.kind.clone(), k.department.clone())).or_insert(0) +=
                            sign * p.m[opened];
                    }
                }
            };
            for (_, parts) in &old {
                fold(&parts_from_json(parts), -1);
            }
            for (_, parts) in facts {
                fold(parts, 1);
            }
            daily.retain(|_, m| m.iter().any(|v| *v != 0));
            hourly.retain(|_, v| *v != 0);

            // The same by month, and the hour-of-day profile by month.
            let mut monthly: BTreeMap<(i64, String, String, String, String), Metrics> = BTreeMap::new();
            for ((day, kind, category, department, agent), m) in &daily {
                let key = (month_of(*day), kind.clone(), category.clone(), department.clone(), agent.clone());
                add(monthly.entry(key).or_insert([0; METRIC_COUNT]), m, 1);
            }
            monthly.retain(|_, m| m.iter().any(|v| *v != 0));
            let mut by_hod: BTreeMap<(i64, i64, String, String), i64> = BTreeMap::new();
            for ((hour, kind, department), v) in &hourly {
                let key = (month_of(hour.div_euclid(24)), hour.rem_euclid(24), kind.clone(), department.clone());
                *by_hod.entry(key).or_insert(0) += v;
            }
            by_hod.retain(|_, v| *v != 0);

            let cols = METRICS.join(", ");
            let width = 5 + METRIC_COUNT;
            for (table, col, rows) in [
                ("analytics_daily", "day", daily.into_iter().collect::<Vec<_>>()),
                ("analytics_monthly", "month", monthly.into_iter().collect::<Vec<_>>()),
            ] {
                let sets: Vec<String> = METRICS.iter().map(|m| format!("{m} = {table}.{m} + excluded.{m}")).collect();
                for chunk in rows.chunks(30) {
                    let values = value_rows(chunk.len(), width);
                    let sql = format!(
                        "INSERT INTO {table} ({col}, kind, category, department_id, agent_id, {cols}) VALUES {} \
                         ON CONFLICT ({col}, kind, category, department_id, agent_id) DO UPDATE SET {}",
                        values,
                        sets.join(", ")
                    );
                    let mut q = sqlx::query(&sql);
                    for ((at, kind, category, department, agent), m) in chunk {
                        q = q.bind(*at).bind(kind.as_str()).bind(category.as_str()).bind(department.as_str());
                        q = q.bind(agent.as_str());
                        for v in m {
                            q = q.bind(*v);
                        }
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            let rows: Vec<_> = hourly.into_iter().collect();
            for chunk in rows.chunks(200) {
                let values = value_rows(chunk.len(), 4);
                let sql = format!(
                    "INSERT INTO analytics_hourly (hour, kind, department_id, opened) VALUES {} \
                     ON CONFLICT (hour, kind, department_id) DO UPDATE SET opened = analytics_hourly.opened + excluded.opened",
                    values
                );
                let mut q = sqlx::query(&sql);
                for ((hour, kind, department), v) in chunk {
                    q = q.bind(*hour).bind(kind.as_str()).bind(department.as_str()).bind(*v);
                }
                q.execute(&mut *tx).await?;
            }
            let rows: Vec<_> = by_hod.into_iter().collect();
            for chunk in rows.chunks(150) {
                let values = value_rows(chunk.len(), 5);
                let sql = format!(
                    "INSERT INTO analytics_hour_month (month, hod, kind, department_id, opened) VALUES {} \
                     ON CONFLICT (month, hod, kind, department_id) DO UPDATE SET \
                     opened = analytics_hour_month.opened + excluded.opened",
                    values
                );
                let mut q = sqlx::query(&sql);
                for ((month, hod, kind, department), v) in chunk {
                    q = q.bind(*month).bind(*hod).bind(kind.as_str()).bind(department.as_str()).bind(*v);
                }
                q.execute(&mut *tx).await?;
            }
            // The facts as now folded.
            for chunk in facts.chunks(300) {
                let values = value_rows(chunk.len(), 2);
                let sql = format!(
                    "INSERT INTO analytics_facts (conversation_id, parts) VALUES {} \
                     ON CONFLICT (conversation_id) DO UPDATE SET parts = excluded.parts",
                    values
                );
                let mut q = sqlx::query(&sql);
                for (id, parts) in chunk {
                    q = q.bind(id.as_str()).bind(parts_to_json(parts));
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(true)
        })
    }

    /// Sums of the rollups in a filter's range, grouped; keys in order (days and months as their day number).
    /// Whole months are read from the monthly rollup, the days at either end from the daily one, so a range of a
    /// year sums a few thousand rows. `GroupBy::Month` keys each row by the first day of its month.
    pub async fn analytics_sums(&self, f: &RollupFilter, by: GroupBy) -> Result<Vec<(String, Metrics)>> {
        let mut out: BTreeMap<String, Metrics> = BTreeMap::new();
        // Grouped by day, every row must be a day's: the daily rollup alone.
        let by_day = matches!(by, GroupBy::Day | GroupBy::KindDay);
        let parts = if by_day { vec![(Level::Day, f.from_day, f.to_day)] } else { segments(f.from_day, f.to_day) };
        for (level, from, to) in parts {
            let part = RollupFilter { from_day: from, to_day: to, ..f.clone() };
            for (key, m) in self.sums_in(level, &part, by).await? {
                let key = match (by, level) {
                    (GroupBy::Month, Level::Day) => key.parse::<i64>().map(|d| month_of(d).to_string()).unwrap_or(key),
                    (GroupBy::KindMonth, Level::Day) => match key.split_once('|') {
                        Some((kind, d)) => d.parse::<i64>().map(|d| format!("{kind}|{}", month_of(d))).unwrap_or(key),
                        None => key,
                    },
                    _ => key,
                };
                add(out.entry(key).or_insert([0; METRIC_COUNT]), &m, 1);
            }
        }
        if by == GroupBy::All && out.is_empty() {
            out.insert(String::new(), [0; METRIC_COUNT]);
        }
        let mut rows: Vec<(String, Metrics)> = out.into_iter().collect();
        if matches!(by, GroupBy::Day | GroupBy::Month) {
            rows.sort_by_key(|(k, _)| k.parse::<i64>().unwrap_or(i64::MAX));
        }
        Ok(rows)
    }

    /// One table's sums (the daily table for `Level::Day`, the monthly one for `Level::Month`).
    async fn sums_in(&self, level: Level, f: &RollupFilter, by: GroupBy) -> Result<Vec<(String, Metrics)>> {
        let (table, col) = match level {
            Level::Day => ("analytics_daily", "day"),
            Level::Month => ("analytics_monthly", "month"),
        };
        let sums: Vec<String> = METRICS.iter().map(|m| format!("CAST(COALESCE(SUM({m}), 0) AS BIGINT)")).collect();
        let (wh, args) = where_of(f, col);
        let expr = match by {
            GroupBy::Day | GroupBy::Month => format!("CAST({col} AS TEXT)"),
            GroupBy::KindDay | GroupBy::KindMonth => format!("kind || '|' || CAST({col} AS TEXT)"),
            other => other.expr().to_string(),
        };
        let sql = if by == GroupBy::All {
            format!("SELECT '', {} FROM {table} WHERE {wh}", sums.join(", "))
        } else {
            format!("SELECT {expr}, {} FROM {table} WHERE {wh} GROUP BY 1", sums.join(", "))
        };
        let rows = on_read!(self, |pool| {
            let mut q = sqlx::query(&sql).bind(f.from_day).bind(f.to_day);
            for a in &args {
                q = q.bind(a.as_str());
            }
            let rows = q.fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let mut m = [0; METRIC_COUNT];
                    for (i, v) in m.iter_mut().enumerate() {
                        *v = r.try_get::<i64, _>(i + 1)?;
                    }
                    Ok((r.try_get::<String, _>(0)?, m))
                })
                .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
        })?;
        Ok(rows)
    }

    /// New conversations per hour of the day (0–23, at `offset_hours` from UTC) in a filter's range (its
    /// channel and department; the hourly rollups have no category or agent): whole months from the monthly
    /// hour-of-day profile, the days at either end from the hourly rollup.
    pub async fn analytics_by_hour(&self, f: &RollupFilter, offset_hours: i64) -> Result<[i64; 24]> {
        let mut out = [0; 24];
        for (level, from, to) in segments(f.from_day, f.to_day) {
            let (table, hod, lo, hi) = match level {
                Level::Day => ("analytics_hourly", "hour", from * 24, to * 24),
                Level::Month => ("analytics_hour_month", "hod", from, to),
            };
            let range = if level == Level::Day { "hour >= $1 AND hour < $2" } else { "month >= $1 AND month < $2" };
            let mut wh = String::from(range);
            let mut args = Vec::new();
            for (col, v) in [("kind", &f.kind), ("department_id", &f.department)] {
                if let Some(v) = v {
                    args.push(v.clone());
                    wh.push_str(&format!(" AND {col} = ${}", args.len() + 3));
                }
            }
            let sql = format!(
                "SELECT CAST((({hod} + $3) % 24 + 24) % 24 AS BIGINT), CAST(SUM(opened) AS BIGINT) FROM {table} \
                 WHERE {wh} GROUP BY 1"
            );
            let rows: Vec<(i64, i64)> = on_read!(self, |pool| {
                let mut q = sqlx::query_as(&sql).bind(lo).bind(hi).bind(offset_hours);
                for a in &args {
                    q = q.bind(a.as_str());
                }
                q.fetch_all(pool).await
            })?;
            for (h, n) in rows {
                if let Some(slot) = usize::try_from(h).ok().and_then(|h| out.get_mut(h)) {
                    *slot += n;
                }
            }
        }
        Ok(out)
    }

    /// For demos: moves a conversation made just now into the past, as if it had happened from `created_at` on,
    /// one timeline entry every `step_ms` (the chat's handover at the second step, its agent at the third), its
    /// end and rating after its last entry; and logs it for the fold. Only for data a demo made.
    pub async fn demo_retime(&self, id: &str, created_at: i64, step_ms: i64) -> Result<()> {
        let step = step_ms.max(1);
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            for table in ["messages", "events"] {
                sqlx::query(&format!("UPDATE {table} SET created_at = $2 + (seq - 1) * $3 WHERE conversation_id = $1"))
                    .bind(id)
                    .bind(created_at)
                    .bind(step)
                    .execute(&mut *tx)
                    .await?;
            }
            let end = "$2 + (CASE WHEN last_seq > 0 THEN last_seq - 1 ELSE 0 END) * $3";
            sqlx::query(&format!(
                "UPDATE conversations SET created_at = $2, updated_at = {end}, \
                 solved_at = CASE WHEN solved_at IS NULL THEN NULL ELSE {end} END, \
                 closed_at = CASE WHEN closed_at IS NULL THEN NULL ELSE {end} END WHERE id = $1"
            ))
            .bind(id)
            .bind(created_at)
            .bind(step)
            .execute(&mut *tx)
            .await?;
            let (last, kind): (i64, String) = sqlx::query_as("SELECT last_seq, kind FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let end = created_at + (last - 1).max(0) * step;
            sqlx::query(
                "UPDATE chats SET queued_at = CASE WHEN queued_at IS NULL THEN NULL ELSE $2 END, \
                 assigned_at = CASE WHEN assigned_at IS NULL THEN NULL ELSE $3 END, \
                 ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE $4 END, \
                 csat_at = CASE WHEN csat_at IS NULL THEN NULL ELSE $5 END WHERE conversation_id = $1",
            )
            .bind(id)
            .bind(created_at + step)
            .bind(created_at + 2 * step)
            .bind(end)
            .bind(end + step)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE case_ratings SET rated_at = $2 WHERE conversation_id = $1")
                .bind(id)
                .bind(end + step)
                .execute(&mut *tx)
                .await?;
            let entity = if kind == "chat" { crate::Indexed::Chat } else { crate::Indexed::Ticket };
            crate::index_log::log_changes(&mut *tx, entity, &[id]).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// How many rows the daily rollup holds (the benchmark reports it).
    pub async fn analytics_rollup_rows(&self) -> Result<i64> {
        let r: (i64,) =
            on_read!(self, |pool| sqlx::query_as("SELECT COUNT(*) FROM analytics_daily").fetch_one(pool).await)?;
        Ok(r.0)
    }

    /// Open cases (not chats) per agent holding them.
    pub async fn open_case_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT assignee_id, COUNT(*) FROM conversations WHERE assignee_id IS NOT NULL AND kind <> 'chat' \
             AND status <> 'solved' AND status <> 'closed' GROUP BY assignee_id"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// Cases opened before the filter's range and not resolved before it (the backlog the range starts with):
    /// the months before it from the monthly rollup, the days of its first month before it from the daily one.
    pub async fn analytics_backlog_before(&self, f: &RollupFilter) -> Result<i64> {
        let first = month_of(f.from_day);
        let mut open = 0;
        for (level, from, to) in [(Level::Month, i64::MIN / 4, first), (Level::Day, first, f.from_day)] {
            if from >= to {
                continue;
            }
            let part = RollupFilter { from_day: from, to_day: to, ..f.clone() };
            for (_, m) in self.sums_in(level, &part, GroupBy::All).await? {
                open += m[metric("opened")] - m[metric("resolved")];
            }
        }
        Ok(open)
    }
}

/// Which rollup a segment of a range reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Day,
    Month,
}

/// The day number of the first day of the UTC month a day falls in.
pub fn month_of(day: i64) -> i64 {
    use chrono::Datelike;
    let Some(d) = chrono::DateTime::from_timestamp(day * 86_400, 0) else { return day };
    day - i64::from(d.day0())
}

/// The day number of the first day of the month after the one `month` (a first day) starts.
fn next_month(month: i64) -> i64 {
    month_of(month + 31)
}

/// A range of days cut into what to read where: the days before its first whole month, its whole months, the
/// days after its last whole month.
fn segments(from: i64, to: i64) -> Vec<(Level, i64, i64)> {
    if from >= to {
        return Vec::new();
    }
    let first_whole = if month_of(from) == from { from } else { next_month(month_of(from)) };
    let end_whole = month_of(to);
    if first_whole >= end_whole {
        return vec![(Level::Day, from, to)];
    }
    let mut out = Vec::new();
    if from < first_whole {
        out.push((Level::Day, from, first_whole));
    }
    out.push((Level::Month, first_whole, end_whole));
    if end_whole < to {
        out.push((Level::Day, end_whole, to));
    }
    out
}

/// The WHERE of a filter over a rollup whose time column is `col`: `$1`, `$2` are the bounds, then the
/// dimension values in order.
fn where_of(f: &RollupFilter, col: &str) -> (String, Vec<String>) {
    let mut wh = format!("{col} >= $1 AND {col} < $2");
    let mut args = Vec::new();
    for (col, v) in
        [("kind", &f.kind), ("category", &f.category), ("department_id", &f.department), ("agent_id", &f.agent)]
    {
        if let Some(v) = v {
            args.push(v.clone());
            wh.push_str(&format!(" AND {col} = ${}", args.len() + 2));
        }
    }
    (wh, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_match_the_count_and_parts_round_trip() {
        assert!(METRICS.iter().all(|m| !m.is_empty()));
        assert_eq!(metric("bot_solved"), METRIC_COUNT - 1);
        let mut m = [0; METRIC_COUNT];
        m[metric("opened")] = 1;
        m[metric("csat_sum")] = 5;
        let p = Part {
            key: RollupKey {
                hour: 490_000,
                kind: "ticket".into(),
                category: "withdrawal".into(),
                department: "d1".into(),
                agent: "".into(),
            },
            m,
        };
        let json = parts_to_json(std::slice::from_ref(&p));
        assert!(json.contains("\"opened\":1") && !json.contains("responded"), "only non-zero metrics: {json}");
        assert_eq!(parts_from_json(&json), vec![p]);
        assert!(parts_from_json("not json").is_empty());
        assert_eq!(value_rows(2, 2), "($1, $2), ($3, $4)");
    }

    fn day(y: i32, m: u32, d: u32) -> i64 {
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() / 86_400
    }

    #[test]
    fn a_range_reads_whole_months_from_the_monthly_rollup_and_its_ends_by_day() {
        assert_eq!(month_of(day(2026, 2, 28)), day(2026, 2, 1));
        assert_eq!(month_of(day(2026, 3, 1)), day(2026, 3, 1));
        assert_eq!(month_of(day(1969, 12, 31)), day(1969, 12, 1), "before the epoch too");
        assert_eq!(next_month(day(2026, 12, 1)), day(2027, 1, 1));
        let s = segments(day(2025, 12, 15), day(2026, 3, 10));
        assert_eq!(
            s,
            vec![
                (Level::Day, day(2025, 12, 15), day(2026, 1, 1)),
                (Level::Month, day(2026, 1, 1), day(2026, 3, 1)),
                (Level::Day, day(2026, 3, 1), day(2026, 3, 10)),
            ]
        );
        assert_eq!(segments(day(2026, 1, 1), day(2026, 2, 1)), vec![(Level::Month, day(2026, 1, 1), day(2026, 2, 1))]);
        assert_eq!(segments(day(2026, 1, 5), day(2026, 2, 3)), vec![(Level::Day, day(2026, 1, 5), day(2026, 2, 3))]);
        assert!(segments(5, 5).is_empty());
        // Every day of a range is read exactly once.
        for (from, to) in [(day(2025, 1, 31), day(2026, 7, 2)), (day(2026, 2, 1), day(2026, 2, 2))] {
            let covered: i64 = segments(from, to).iter().map(|(_, a, b)| b - a).sum();
            assert_eq!(covered, to - from);
        }
    }
}
