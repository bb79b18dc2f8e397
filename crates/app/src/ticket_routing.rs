//! Ticket routing (issue 13): new tickets go to an agent as chats do, by the admins' choice of mode
//! (`off`, `least_loaded`, `round_robin`). An agent is a candidate when active, online (one who set themselves
//! away is not), in the case's department, of its tier (L1, L2, supervisor) and speaking its language; the
//! choice among them is `lifebuoy_store::routing::pick_ticket_agent`, a pure function.
//!
//! Two paths, one rule. A ticket filed through [`crate::tickets::create`] is routed right after it is stored
//! (a task, so filing never waits for it). The `tickets.route` job, a chain every minute, routes every case
//! still waiting for an agent, oldest first: mail that came in, a ticket filed while nobody of its
//! department was online, one whose quick route was lost with its node. The assignment itself is guarded in
//! its transaction (`Store::route_case_to`): a case someone took meanwhile is left to them.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, builtin::next_in_chain};
use crate::{Actor, App, AppResult};
use lifebuoy_store::routing::{TicketRouting, pick_ticket_agent};
use lifebuoy_store::{Conversation, now_ms};
use serde::Deserialize;
use serde_json::json;

pub const SWEEP_JOB: &str = "tickets.route";
/// How often waiting cases are routed again.
pub const SWEEP_EVERY_S: i64 = 60;
/// Cases routed per sweep at most.
const SWEEP_BATCH: i64 = 200;

/// Each node's copy of the mode, read again after ten seconds (it is read for every ticket filed), and the
/// node's routing turn: one case is routed at a time on a node, so two tickets filed at once are not both given
/// to the agent who was free a moment ago. (Across nodes that can still happen; the next tickets even it out.)
#[derive(Default)]
pub struct ModeCache(std::sync::Mutex<Option<(std::time::Instant, TicketRouting)>>, tokio::sync::Mutex<()>);

/// How long a node trusts its copy of the mode.
const MODE_FOR: std::time::Duration = std::time::Duration::from_secs(10);

async fn current(app: &App) -> AppResult<TicketRouting> {
    if let Some((at, m)) = *app.ticket_routing.0.lock().expect("routing cache")
        && at.elapsed() < MODE_FOR
    {
        return Ok(m);
    }
    let started = std::time::Instant::now();
    let m = app.store.ticket_routing().await?;
    // A read that started before an admin's change on this node does not overwrite what the change noted.
    let mut cache = app.ticket_routing.0.lock().expect("routing cache");
    if cache.is_none_or(|(at, _)| at < started) {
        *cache = Some((started, m));
    }
    Ok(m)
}

/// The agents' role for a case's tier.
fn role_for(tier: &str) -> &'static str {
    match tier {
        "l2" => "agent_l2",
        "supervisor" => "supervisor",
        _ => "agent_l1",
    }
}

/// Routes one case if routing is on and it waits for an agent; answers the agent it went to.
pub async fn route(app: &App, c: &Conversation) -> AppResult<Option<String>> {
    let mode = current(app).await?;
    if mode == TicketRouting::Off || c.assignee_id.is_some() || !matches!(c.kind.as_str(), "ticket" | "email") {
        return Ok(None);
    }
    let _turn = app.ticket_routing.1.lock().await;
    let candidates = app.store.ticket_candidates(&c.department_id, role_for(&c.tier), &c.lang, &c.category).await?;
    let Some(agent) = pick_ticket_agent(mode, &candidates) else { return Ok(None) };
    let actor = lifebuoy_store::Actor::System;
    Ok(app.store.route_case_to(&c.id, &agent.id, &actor).await?.map(|_| agent.id.clone()))
}

/// Routes the cases waiting for an agent (oldest first, at most a batch); answers how many went to someone.
pub async fn sweep(app: &App) -> AppResult<usize> {
    if current(app).await? == TicketRouting::Off {
        return Ok(0);
    }
    let mut routed = 0;
    for c in app.store.unassigned_cases(SWEEP_BATCH).await? {
        routed += usize::from(route(app, &c).await?.is_some());
    }
    Ok(routed)
}

/// After a ticket is filed: routes it on a task (filing does not wait; the sweep catches what this misses).
/// While this node knows routing is off, nothing is spawned.
pub fn route_soon(app: &App, c: &Conversation) {
    let known_off = app
        .ticket_routing
        .0
        .lock()
        .expect("routing cache")
        .is_some_and(|(at, m)| m == TicketRouting::Off && at.elapsed() < MODE_FOR);
    if known_off {
        return;
    }
    let (app, c) = (app.clone(), c.clone());
    tokio::spawn(async move {
        if let Err(e) = route(&app, &c).await {
            tracing::warn!(case = %c.id, error = %e, "routing a new ticket failed; the sweep will try again");
        }
    });
}

#[derive(Debug, Default, Deserialize)]
struct Every {
    every_s: Option<i64>,
}

/// The `tickets.route` job: a sweep, then the next link of the chain.
pub async fn run_sweep(app: &App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: Every = job.payload_as()?;
    let routed = sweep(app).await.map_err(JobFailure::retry)?;
    if routed > 0 {
        tracing::info!(routed, "waiting cases routed");
    }
    let mut out = JobOutcome::done();
    if let Some(every) = args.every_s.filter(|s| *s > 0) {
        out = out.then(next_in_chain(SWEEP_JOB, json!({"every_s": every}), every, now_ms()));
    }
    Ok(out)
}

/// The first link of the sweep's chain.
pub fn first_link() -> lifebuoy_store::NewJob {
    next_in_chain(SWEEP_JOB, json!({"every_s": SWEEP_EVERY_S}), SWEEP_EVERY_S, now_ms())
}

/// How tickets are given out (staff).
pub async fn mode(app: &App, actor: &Actor) -> AppResult<TicketRouting> {
    actor.require_staff()?;
    Ok(app.store.ticket_routing().await?)
}

/// Sets how tickets are given out (admins).
pub async fn set_mode(app: &App, actor: &Actor, mode: TicketRouting) -> AppResult<TicketRouting> {
    let by = crate::privacy::require_admin(actor)?;
    app.store.set_ticket_routing(mode, &by).await?;
    *app.ticket_routing.0.lock().expect("routing cache") = Some((std::time::Instant::now(), mode));
    Ok(mode)
}

/// Every agent's skills (staff): the case categories the router prefers them for.
pub async fn skills(app: &App, actor: &Actor) -> AppResult<Vec<(String, Vec<String>)>> {
    actor.require_staff()?;
    Ok(app.store.agent_skills().await?)
}

/// Sets agents' skills (admins): for each agent, case categories, each known. All are checked before any is
/// written.
pub async fn set_skills(app: &App, actor: &Actor, changes: &[(String, Vec<String>)]) -> AppResult<()> {
    crate::privacy::require_admin(actor)?;
    let mut clean: Vec<(&str, Vec<String>)> = Vec::new();
    for (agent, skills) in changes {
        let mut out: Vec<String> = Vec::new();
        for s in skills {
            let c = lifebuoy_domain::Category::parse(s.trim())
                .map_err(|_| crate::AppError::invalid("skills", format!("{s:?} is not a case category")))?;
            if !out.iter().any(|x| x == c.as_str()) {
                out.push(c.as_str().to_string());
            }
        }
        clean.push((agent, out));
    }
    for (agent, skills) in clean {
        if !app.store.set_agent_skills(agent, &skills).await? {
            return Err(crate::AppError::NotFound);
        }
    }
    Ok(())
}
