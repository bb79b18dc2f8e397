//! What supervisors do with jobs (the console's `/console/jobs`): see the queue (queued, running, failed and
//! dead jobs, the backlog, the latest heartbeat) and retry a failed or dead job. Supervisors and admins only,
//! and the system itself; other agents, customers and integration tokens are refused.

use super::builtin::HEARTBEAT;
use crate::{Actor, AppError, AppResult};
use lifebuoy_store::{Job, JobCounts, JobRun, Store};

/// The states the console lists.
pub const LISTED_STATES: &[&str] = &["queued", "running", "failed", "dead"];

/// The queue at a glance.
#[derive(Debug, Clone)]
pub struct JobsOverview {
    pub counts: JobCounts,
    /// The latest recorded `system.heartbeat`: when the job system last ran a job of its own, and how late.
    pub last_heartbeat: Option<JobRun>,
}

fn require_supervisor(actor: &Actor) -> AppResult<()> {
    match actor {
        Actor::Agent(a) if a.role.sees_all() => Ok(()),
        Actor::System { .. } => Ok(()),
        _ => Err(AppError::forbidden("only supervisors and admins see and retry background jobs")),
    }
}

pub async fn overview(store: &Store, actor: &Actor) -> AppResult<JobsOverview> {
    require_supervisor(actor)?;
    let counts = store.job_counts().await?;
    let last_heartbeat = store.recent_job_runs(HEARTBEAT, 1).await?.into_iter().next();
    Ok(JobsOverview { counts, last_heartbeat })
}

/// A page of jobs in `state` (one of [`LISTED_STATES`]) after `cursor` (see [`cursor_of`]).
pub async fn list(store: &Store, actor: &Actor, state: &str, cursor: Option<&str>, limit: i64) -> AppResult<Vec<Job>> {
    require_supervisor(actor)?;
    if !LISTED_STATES.contains(&state) {
        return Err(AppError::invalid("state", "one of queued, running, failed, dead"));
    }
    let after = match cursor.filter(|c| !c.is_empty()) {
        Some(c) => Some(parse_cursor(c).ok_or_else(|| AppError::invalid("after", "not a cursor of this list"))?),
        None => None,
    };
    Ok(store.list_jobs(state, after.as_ref().map(|(t, id)| (*t, id.as_str())), limit).await?)
}

/// A supervisor's retry: the job is queued again, due now, with all its attempts.
pub async fn retry(store: &Store, actor: &Actor, id: &str) -> AppResult<Job> {
    require_supervisor(actor)?;
    let job = store.retry_job(id).await?;
    tracing::info!(job = %job.id, kind = %job.kind, by = %actor.key(), "job retried by a supervisor");
    Ok(job)
}

/// The cursor that continues a list after `job`.
pub fn cursor_of(job: &Job) -> String {
    format!("{}.{}", job.run_at, job.id)
}

fn parse_cursor(c: &str) -> Option<(i64, String)> {
    let (t, id) = c.split_once('.')?;
    let t = t.parse().ok()?;
    (!id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then(|| (t, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let j = Job {
            id: "01a2b3".into(),
            kind: "k".into(),
            payload: "{}".into(),
            state: "dead".into(),
            attempts: 5,
            max_attempts: 5,
            run_at: -12,
            due_at: None,
            locked_by: None,
            locked_until: None,
            last_error: None,
            idem_key: None,
            created_at: 0,
            updated_at: 0,
            finished_at: None,
        };
        assert_eq!(parse_cursor(&cursor_of(&j)), Some((-12, "01a2b3".into())));
        for bad in ["", "12", "x.abc", "12.", "12.a'b", "12.a.b"] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }
}
