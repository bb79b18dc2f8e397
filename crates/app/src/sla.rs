//! SLA clocks on tickets (issue 13): the policy a case falls under, its clocks read from its timeline (created,
//! the desk's first public answer, the spans it waited on the customer, when it was solved), and the durable
//! check that escalates a case whose clock ran out.
//!
//! A clock is never stored: it is `lifebuoy_domain::sla::clock` over the timeline, so it cannot drift from what
//! happened. What must happen at a deadline is a job: every change that moves a clock (the case created, a
//! status change, an answer) writes an `sla.check` job in its own transaction (the outbox rule [`outbox_rule`]);
//! the check reads the clock and, until the case is met or breached, schedules itself at the next deadline
//! (one job per deadline: the key holds it). When it finds a clock run out it raises the case to urgent, moves
//! it from L1 to L2, and writes an internal `sla_breached` event, in that order, each step a no-op when done
//! already, so a check run twice, or after a crash, escalates once.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob};
use crate::{App, AppResult};
use lifebuoy_domain::sla::{self, Calendar, Clock, Facts, SlaState, Targets};
use lifebuoy_domain::{Event, Priority, Status, Tier};
use lifebuoy_store::{Conversation, Entry, SlaPolicy, TicketChange, TimelineItem};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const CHECK_JOB: &str = "sla.check";

/// The kinds of case that carry clocks here (chats have their own queue; appeals their arbiter's clock).
const KINDS: &[&str] = &["ticket", "email"];

/// A case's clocks as the API and the pages show them (`sla` in `GET /api/v1/tickets/{id}`).
#[derive(Debug, Clone, Serialize)]
pub struct SlaView {
    pub policy: String,
    /// RFC 3339.
    pub first_response_due_at: String,
    pub resolution_due_at: String,
    /// `ok`, `warning`, `breached`, `met` or `paused`.
    pub state: SlaState,
    /// The deadline that matters now, in ms (for the pages' countdown).
    pub next_due_ms: i64,
    pub first_response_min: i64,
}

fn list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

/// The first active policy whose lists all match the case.
pub fn policy_for<'a>(policies: &'a [SlaPolicy], c: &Conversation) -> Option<&'a SlaPolicy> {
    policies.iter().find(|p| {
        let ok = |l: &str, v: &str| {
            let l = list(l);
            l.is_empty() || l.iter().any(|x| x == v)
        };
        ok(&p.kinds, &c.kind) && ok(&p.categories, &c.category) && ok(&p.priorities, &c.priority)
    })
}

#[derive(Deserialize)]
struct CalendarJson {
    offset_min: i32,
    days: Vec<Option<(u16, u16)>>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    holidays: Vec<String>,
}

/// A policy's calendar: `always`, or its JSON (a malformed one counts every minute, logged).
pub fn calendar_of(p: &SlaPolicy) -> Calendar {
    if p.calendar.trim() == "always" {
        return Calendar::always();
    }
    match serde_json::from_str::<CalendarJson>(&p.calendar) {
        Ok(c) if c.days.len() == 7 => {
            let mut hours = [None; 7];
            for (i, d) in c.days.into_iter().enumerate() {
                hours[i] = d;
            }
            let holidays =
                c.holidays.iter().filter_map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).collect();
            Calendar { offset_min: c.offset_min, hours: Some(hours), holidays }
        }
        _ => {
            tracing::warn!(policy = %p.id, "an SLA calendar that does not parse counts every minute");
            Calendar::always()
        }
    }
}

/// What the clocks read from a case's timeline.
pub fn facts(c: &Conversation, timeline: &[TimelineItem]) -> Facts {
    let mut f = Facts { created_at: c.created_at, ..Default::default() };
    let mut solved_at = None;
    for item in timeline {
        match item {
            TimelineItem::Message { message, .. } => {
                if f.first_response_at.is_none() && message.author_kind == "agent" && !message.internal {
                    f.first_response_at = Some(message.created_at);
                }
            }
            TimelineItem::Event(e) => {
                let Some(Event::StatusChanged { from, to, .. }) = e.event() else { continue };
                if to == Status::Pending {
                    f.pauses.push((e.created_at, None));
                } else if from == Status::Pending
                    && let Some(last) = f.pauses.last_mut()
                    && last.1.is_none()
                {
                    last.1 = Some(e.created_at);
                }
                match to {
                    Status::Solved => solved_at = Some(e.created_at),
                    Status::Closed => solved_at = solved_at.or(Some(e.created_at)),
                    _ => solved_at = None,
                }
            }
        }
    }
    if matches!(c.status(), Status::Solved | Status::Closed) {
        f.resolved_at = solved_at.or(Some(c.updated_at));
    }
    f
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Each node's copy of the policies, read again after [`POLICIES_FOR`] (they change rarely; a new case's clock
/// is read on every ticket created).
#[derive(Default)]
pub struct PolicyCache(std::sync::Mutex<Option<(std::time::Instant, Vec<SlaPolicy>)>>);

const POLICIES_FOR: std::time::Duration = std::time::Duration::from_secs(10);

async fn policies(app: &App) -> AppResult<Vec<SlaPolicy>> {
    if let Some((at, p)) = app.sla_policies.0.lock().expect("policy cache").as_ref()
        && at.elapsed() < POLICIES_FOR
    {
        return Ok(p.clone());
    }
    let p = app.store.sla_policies().await?;
    *app.sla_policies.0.lock().expect("policy cache") = Some((std::time::Instant::now(), p.clone()));
    Ok(p)
}

/// A case's clock at `now`, with its policy; `None` for a case without clocks. `timeline`: the case's
/// timeline when the caller has read it already (either visibility: the clocks read only public entries), or
/// `Some(&[])` for a case just created; `None` reads it.
async fn clock_at(
    app: &App,
    c: &Conversation,
    now: i64,
    timeline: Option<&[TimelineItem]>,
) -> AppResult<Option<(SlaPolicy, Clock)>> {
    if !KINDS.contains(&c.kind.as_str()) {
        return Ok(None);
    }
    let policies = policies(app).await?;
    let Some(p) = policy_for(&policies, c).cloned() else { return Ok(None) };
    let read;
    let timeline = match timeline {
        Some(t) => t,
        None => {
            read = app.store.timeline(&c.id, true).await?;
            &read[..]
        }
    };
    let t = Targets { first_response_min: p.first_response_min, resolution_min: p.resolution_min };
    let k = sla::clock(&calendar_of(&p), t, &facts(c, timeline), now);
    Ok(Some((p, k)))
}

/// A case's clock at `now`, with its policy; `None` for a case without clocks.
pub async fn clock_of(app: &App, c: &Conversation, now: i64) -> AppResult<Option<(SlaPolicy, Clock)>> {
    clock_at(app, c, now, None).await
}

/// The clocks as shown. `timeline` as for [`clock_of`]'s reading: the one the caller holds, `Some(&[])` for a
/// case just created, `None` to read it.
pub async fn view(app: &App, c: &Conversation, timeline: Option<&[TimelineItem]>) -> AppResult<Option<SlaView>> {
    Ok(clock_at(app, c, lifebuoy_store::now_ms(), timeline).await?.map(|(p, k)| SlaView {
        policy: p.name,
        first_response_due_at: rfc3339(k.first_response_due_at),
        resolution_due_at: rfc3339(k.resolution_due_at),
        state: k.state,
        next_due_ms: k.next_due_at,
        first_response_min: p.first_response_min,
    }))
}

/// The outbox rule: a change that moves a ticket's clocks (created, a status change, a public message) checks
/// them, in the change's transaction.
pub fn outbox_rule(c: &Conversation, entries: &[Entry]) -> Vec<NewJob> {
    if !KINDS.contains(&c.kind.as_str()) {
        return Vec::new();
    }
    let moves = entries.iter().any(|e| match e {
        Entry::Message { internal, .. } => !internal,
        Entry::Event { event, .. } => matches!(event, Event::Created { .. } | Event::StatusChanged { .. }),
    });
    if !moves {
        return Vec::new();
    }
    // One check a minute at most per case, a minute on: it reads the case as it is then, so the changes of
    // that minute are all in it, and a burst of new cases costs one row each (written with the case).
    let now = lifebuoy_store::now_ms();
    let job = NewJob::new(CHECK_JOB, &json!({"conversation": c.id}))
        .key(format!("sla-{}-{}", c.id, now / CHECK_DELAY_MS))
        .at(now + CHECK_DELAY_MS);
    vec![job]
}

/// How long after a change its clocks are checked (no clock here runs out sooner than 30 minutes).
pub const CHECK_DELAY_MS: i64 = 60_000;

#[derive(Deserialize)]
struct CheckJob {
    conversation: String,
}

/// The `sla.check` job: escalates a case whose clock ran out (once), else checks again at the next deadline.
pub async fn run_check(app: &App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: CheckJob = job.payload_as()?;
    let Some(c) = app.store.conversation(&args.conversation).await? else {
        return Ok(JobOutcome::done());
    };
    let now = lifebuoy_store::now_ms();
    let Some((_, k)) = clock_of(app, &c, now).await.map_err(JobFailure::retry)? else {
        return Ok(JobOutcome::done());
    };
    match k.state {
        SlaState::Met => Ok(JobOutcome::done().record(json!({"state": "met"}))),
        SlaState::Breached => {
            let (target, due) = if k.first_response_breached {
                ("first_response", k.first_response_due_at)
            } else {
                ("resolution", k.resolution_due_at)
            };
            if matches!(c.status(), Status::Solved | Status::Closed) {
                return Ok(JobOutcome::done().record(json!({"state": "breached", "target": target, "resolved": true})));
            }
            escalate(app, &c, target, due).await.map_err(JobFailure::retry)?;
            Ok(JobOutcome::done().record(json!({"state": "breached", "target": target})))
        }
        SlaState::Ok | SlaState::Warning | SlaState::Paused => {
            // Paused: the next change (the customer's answer) checks again; else at the deadline.
            if k.state != SlaState::Paused {
                let at = k.next_due_at + 1_000;
                let next = NewJob::new(CHECK_JOB, &json!({"conversation": c.id}))
                    .key(format!("sla-{}-due-{}", c.id, k.next_due_at))
                    .at(at);
                app.store.enqueue_jobs(&[next]).await?;
            }
            Ok(JobOutcome::done().record(json!({"state": k.state, "next_due_at": k.next_due_at})))
        }
    }
}

/// Raises the case to urgent, moves it from L1 to L2, and notes the breach: each step only when not done.
async fn escalate(app: &App, c: &Conversation, target: &str, due_at: i64) -> AppResult<()> {
    let timeline = app.store.timeline(&c.id, true).await?;
    let noted = timeline.iter().any(|i| match i {
        TimelineItem::Event(e) => matches!(e.event(), Some(Event::SlaBreached { target: t, .. }) if t == target),
        _ => false,
    });
    if noted {
        return Ok(());
    }
    let system = lifebuoy_store::Actor::System;
    if c.priority() != Priority::Urgent {
        let up = TicketChange::Update {
            priority: Some(Priority::Urgent),
            category: None,
            tags: None,
            order_id: None,
            tx_hash: None,
            asset: None,
            amount: None,
        };
        app.store.change_ticket(&c.id, &up, &system).await?;
    }
    if c.tier() == Tier::L1 {
        let why = format!("SLA: {target} overdue");
        app.store.change_ticket(&c.id, &TicketChange::Escalate { reason: why }, &system).await?;
    }
    app.store.append_event(&c.id, &system, &Event::SlaBreached { target: target.into(), due_at }).await?;
    Ok(())
}
