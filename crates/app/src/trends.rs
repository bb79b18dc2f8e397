//! Trend alerts (issue 13): when conversations about one topic (a category, and the asset where the case names
//! one: "withdrawal · USDT") come in far above their usual rate, the supervisors get an alert with the latest
//! examples and a one-click draft announcement (an incident notice stops the next hundred customers asking).
//!
//! The `trends.scan` job runs every [`SCAN_EVERY_S`]: it counts each topic's conversations in the last hour and
//! in the week before it, and calls a spike what [`spikes`] says. One alert per topic and supervisor every
//! [`QUIET_H`] hours at most (the cause carries the period), so a long incident is not a flood of alerts.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob, builtin::next_in_chain};
use crate::{App, AppResult};
use lifebuoy_domain::Role;
use lifebuoy_store::{NewAlert, TopicCount, now_ms};
use serde::Deserialize;
use serde_json::json;

pub const SCAN_JOB: &str = "trends.scan";
pub const SCAN_EVERY_S: i64 = 600;
const HOUR_MS: i64 = 3_600_000;
/// The usual rate is read from this many hours before the last one.
pub const BASELINE_H: i64 = 7 * 24;
/// At least this many in the last hour (a quiet desk's 1 → 3 is no incident).
pub const MIN_COUNT: i64 = 5;
/// And this many times the usual hourly rate (plus one, so a topic never seen needs `MIN_COUNT` and more).
pub const FACTOR: f64 = 4.0;
/// Hours between two alerts about the same topic.
pub const QUIET_H: i64 = 6;

/// A topic running far above its usual rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    pub category: String,
    pub asset: String,
    /// Conversations in the last hour.
    pub count: i64,
    /// The usual conversations per hour (over the baseline).
    pub usual: f64,
}

/// The spikes among this hour's counts, against the baseline's counts over `baseline_h` hours: at least
/// [`MIN_COUNT`] and more than [`FACTOR`] × (usual + 1). Biggest jump first.
pub fn spikes(recent: &[TopicCount], baseline: &[TopicCount], baseline_h: i64) -> Vec<Spike> {
    let mut out: Vec<Spike> = recent
        .iter()
        .filter_map(|r| {
            let before = baseline.iter().find(|b| b.category == r.category && b.asset == r.asset).map_or(0, |b| b.n);
            let usual = before as f64 / baseline_h.max(1) as f64;
            (r.n >= MIN_COUNT && r.n as f64 > FACTOR * (usual + 1.0)).then(|| Spike {
                category: r.category.clone(),
                asset: r.asset.clone(),
                count: r.n,
                usual,
            })
        })
        .collect();
    out.sort_by(|a, b| (b.count as f64 / (b.usual + 1.0)).total_cmp(&(a.count as f64 / (a.usual + 1.0))));
    out
}

/// Looks for spikes at `now` and alerts every active supervisor about each. Returns the spikes.
pub async fn scan(app: &App, now: i64) -> AppResult<Vec<Spike>> {
    let since = now - HOUR_MS;
    let recent = app.store.topic_counts(since, now).await?;
    if !recent.iter().any(|r| r.n >= MIN_COUNT) {
        return Ok(Vec::new());
    }
    let baseline = app.store.topic_counts(since - BASELINE_H * HOUR_MS, since).await?;
    let found = spikes(&recent, &baseline, BASELINE_H);
    if found.is_empty() {
        return Ok(found);
    }
    let sups: Vec<_> =
        app.store.agents().await?.into_iter().filter(|a| a.active && a.role == Role::Supervisor).collect();
    let period = now / (QUIET_H * HOUR_MS);
    let mut alerts = Vec::new();
    for s in &found {
        let examples = app.store.topic_examples(&s.category, &s.asset, since, 5).await?;
        let data = json!({"category": s.category, "asset": s.asset, "count": s.count,
            "usual_per_hour": (s.usual * 10.0).round() / 10.0, "examples": examples})
        .to_string();
        let cause = format!("trend:{}:{}:{period}", s.category, s.asset);
        for a in &sups {
            alerts.push(NewAlert {
                agent_id: a.id.clone(),
                kind: "trend".into(),
                cause: cause.clone(),
                conversation_id: None,
                data: data.clone(),
            });
        }
    }
    let added = app.store.add_staff_alerts(&alerts).await?;
    if added > 0 {
        let mail = NewJob::new(crate::alerts::MAIL_JOB, &json!({})).key(format!("alerts-mail-trend-{now}"));
        app.store.enqueue_jobs(&[mail]).await?;
        tracing::warn!(spikes = found.len(), "conversations on a topic far above their usual rate");
    }
    Ok(found)
}

#[derive(Deserialize)]
struct Every {
    every_s: Option<i64>,
}

/// The `trends.scan` job.
pub async fn run_scan(app: &App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: Every = job.payload_as()?;
    let found = scan(app, now_ms()).await.map_err(JobFailure::retry)?;
    let mut out = JobOutcome::done().record(json!({"spikes": found.len()}));
    if let Some(every) = args.every_s.filter(|s| *s > 0) {
        out = out.then(next_in_chain(SCAN_JOB, json!({"every_s": every}), every, now_ms()));
    }
    Ok(out)
}

/// The first link of the scan's chain.
pub fn first_link() -> NewJob {
    next_in_chain(SCAN_JOB, json!({"every_s": SCAN_EVERY_S}), SCAN_EVERY_S, now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(category: &str, asset: &str, n: i64) -> TopicCount {
        TopicCount { category: category.into(), asset: asset.into(), n }
    }

    #[test]
    fn a_spike_is_many_and_far_above_usual() {
        let baseline = [t("withdrawal", "USDT", 168), t("deposit", "", 168 * 6), t("kyc", "", 0)];
        let recent = [
            // Usually 1 an hour; 12 now: a spike.
            t("withdrawal", "USDT", 12),
            // Usually 6 an hour; 20 now: under 4 × 7.
            t("deposit", "", 20),
            // Never seen before, but only 4: too few.
            t("kyc", "", 4),
            // Never seen before, and 7: a spike.
            t("c2c", "", 7),
        ];
        let s = spikes(&recent, &baseline, 168);
        let got: Vec<(&str, &str, i64)> = s.iter().map(|s| (s.category.as_str(), s.asset.as_str(), s.count)).collect();
        assert_eq!(got, vec![("c2c", "", 7), ("withdrawal", "USDT", 12)], "biggest jump first");
        assert!((s[1].usual - 1.0).abs() < 1e-9);
        assert!(spikes(&[t("withdrawal", "USDT", 8)], &baseline, 168).is_empty(), "8 is not over 4 × (1 + 1)");
    }
}
