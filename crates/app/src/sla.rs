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

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob, builtin::next_in_chain};
use crate::{App, AppResult};
use lifebuoy_domain::sla::{self, Calendar, Clock, Facts, SlaState, Targets, Zone};
use lifebuoy_domain::{Event, Priority, Status, Tier};
use lifebuoy_store::{Conversation, Entry, SlaPolicy, TicketChange, TimelineItem};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const CHECK_JOB: &str = "sla.check";
/// Keeps the clocks of cases whose clock is not kept yet (from before the lists showed clocks, or whose
/// [`refresh`] failed); a chain, every [`KEEP_EVERY_S`].
pub const KEEP_JOB: &str = "sla.keep";
pub const KEEP_EVERY_S: i64 = 300;

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

/// The first active policy whose lists all match the case (its kind, category, priority and language, and one
/// of its customer's tags where the policy names tags).
pub fn policy_for<'a>(policies: &'a [SlaPolicy], c: &Conversation, customer_tags: &[String]) -> Option<&'a SlaPolicy> {
    let case = CaseKeys { kind: &c.kind, category: &c.category, priority: &c.priority, lang: &c.lang };
    policies.iter().find(|p| matches(p, &case, customer_tags))
}

/// What policies match on.
struct CaseKeys<'a> {
    kind: &'a str,
    category: &'a str,
    priority: &'a str,
    lang: &'a str,
}

fn matches(p: &SlaPolicy, c: &CaseKeys<'_>, customer_tags: &[String]) -> bool {
    let ok = |l: &str, v: &str| {
        let l = list(l);
        l.is_empty() || l.iter().any(|x| x == v)
    };
    let tags = list(&p.customer_tags);
    ok(&p.kinds, c.kind)
        && ok(&p.categories, c.category)
        && ok(&p.priorities, c.priority)
        && ok(&p.langs, c.lang)
        && (tags.is_empty() || tags.iter().any(|t| customer_tags.contains(t)))
}

/// What the desk promises a customer filing a case of each category (the form says it before they send):
/// `(category, first-response minutes, counted in working hours?)`, for a `ticket` of normal priority in the
/// customer's language, under the customer's tags.
pub async fn promises(app: &App, customer_id: &str, lang: &str) -> AppResult<Vec<(&'static str, i64, bool)>> {
    let policies = policies(app).await?;
    let tags = if asks_customer_tags(&policies) { app.store.customer_tags(customer_id).await? } else { Vec::new() };
    let mut out = Vec::new();
    for cat in lifebuoy_domain::Category::ALL {
        let case = CaseKeys { kind: "ticket", category: cat.as_str(), priority: "normal", lang };
        if let Some(p) = policies.iter().find(|p| matches(p, &case, &tags)) {
            out.push((cat.as_str(), p.first_response_min, calendar_of(p).hours.is_some()));
        }
    }
    Ok(out)
}

/// Chats' clocks, for the agents' inbox: a customer waiting on an agent (handed over and not yet answered, or
/// written again after the agent's answer) has the chat policy's first- or next-response target, counted from
/// when the wait began. Fills `due_at`, `warn_at` and `reply_ms` of each line.
pub async fn stamp_chats(app: &App, items: &mut [lifebuoy_store::InboxItem]) -> AppResult<()> {
    let policies = policies(app).await?;
    let ask_tags = asks_customer_tags(&policies);
    for it in items.iter_mut() {
        let tags = if ask_tags { app.store.customer_tags(&it.customer_id).await? } else { Vec::new() };
        let case = CaseKeys { kind: "chat", category: &it.category, priority: &it.priority, lang: &it.lang };
        let Some(p) = policies.iter().find(|p| matches(p, &case, &tags)) else { continue };
        let next_min = p.next_response_min.unwrap_or(p.first_response_min);
        it.reply_ms = Some(next_min * 60_000);
        let Some(since) = it.waiting_since else { continue };
        let first = it.state == "queued" || it.queued_at == Some(since);
        let target = if first { p.first_response_min } else { next_min } * 60_000;
        let cal = calendar_of(p);
        it.due_at = Some(cal.add(since, target));
        it.warn_at = Some(cal.add(since, target - (target as f64 * sla::WARN_LEFT) as i64));
    }
    Ok(())
}

/// Whether any policy asks about the customer's tags (else they need not be read).
pub fn asks_customer_tags(policies: &[SlaPolicy]) -> bool {
    policies.iter().any(|p| !list(&p.customer_tags).is_empty())
}

#[derive(Deserialize)]
struct CalendarJson {
    /// An IANA zone (`Asia/Shanghai`); else `offset_min` east of UTC.
    #[serde(default)]
    tz: Option<String>,
    #[serde(default)]
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
            let zone = match c.tz.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(name) => Zone::named(name).unwrap_or_else(|| {
                    tracing::warn!(policy = %p.id, zone = name, "an SLA calendar names an unknown time zone; using its offset");
                    Zone::Fixed(c.offset_min)
                }),
                None => Zone::Fixed(c.offset_min),
            };
            Calendar { zone, hours: Some(hours), holidays }
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

impl PolicyCache {
    /// Drops this node's copy (a policy was saved here); other nodes read them again within [`POLICIES_FOR`].
    pub fn forget(&self) {
        *self.0.lock().expect("policy cache") = None;
    }
}

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
    let tags = if asks_customer_tags(&policies) { app.store.customer_tags(&c.customer_id).await? } else { Vec::new() };
    let Some(p) = policy_for(&policies, c, &tags).cloned() else { return Ok(None) };
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

/// What the lists keep of a clock: the running clock's next deadline and warning instant, and the state.
fn kept(c: &Conversation, k: Option<&Clock>) -> (Option<i64>, Option<i64>, &'static str) {
    let Some(k) = k else { return (None, None, "none") };
    let resolved = matches!(c.status(), Status::Solved | Status::Closed);
    match k.state {
        SlaState::Ok | SlaState::Warning => (Some(k.next_due_at), Some(k.warn_at), k.state.as_str()),
        SlaState::Breached if !resolved => (Some(k.next_due_at), None, "breached"),
        s => (None, None, s.as_str()),
    }
}

/// Keeps a case's clock for the lists (the queue sorts by it). `timeline` as for [`view`]. Returns the running
/// clock's next deadline, if any.
pub async fn refresh(app: &App, c: &Conversation, timeline: Option<&[TimelineItem]>) -> AppResult<Option<i64>> {
    if !KINDS.contains(&c.kind.as_str()) {
        return Ok(None);
    }
    let k = clock_at(app, c, lifebuoy_store::now_ms(), timeline).await?;
    let (due, warn, state) = kept(c, k.as_ref().map(|(_, k)| k));
    app.store.set_sla_clock(&c.id, due, warn, state).await?;
    Ok(due)
}

/// The check of a case at a deadline (one job per deadline: the key holds it).
fn check_at(conversation_id: &str, due: i64) -> NewJob {
    NewJob::new(CHECK_JOB, &json!({"conversation": conversation_id}))
        .key(format!("sla-{conversation_id}-due-{due}"))
        .at(due + 1_000)
}

/// [`refresh`] after a change the caller has already committed: a failure is logged, not returned (the
/// change stands, and the change's own `sla.check` job keeps the clock within a minute).
pub async fn refresh_after(app: &App, c: &Conversation, timeline: Option<&[TimelineItem]>) {
    if let Err(e) = refresh(app, c, timeline).await {
        tracing::warn!(error = %e, conversation = %c.id, "keeping the SLA clock failed; the check job will");
    }
}

/// The `sla.keep` job: keeps the clocks not kept yet, a batch at a time.
pub async fn run_keep(app: &App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    #[derive(Deserialize)]
    struct Every {
        every_s: Option<i64>,
    }
    let args: Every = job.payload_as()?;
    let ids = app.store.cases_without_kept_clock(500).await?;
    let mut kept = 0;
    let mut checks = Vec::new();
    for id in &ids {
        if let Some(c) = app.store.conversation(id).await? {
            // A clock read again (new rules, or never kept) is checked now: its warning and deadline may be
            // sooner than the checks already waiting.
            if refresh(app, &c, None).await.map_err(JobFailure::retry)?.is_some() {
                // The check now schedules itself at the new warning and deadline.
                let now = lifebuoy_store::now_ms();
                checks.push(
                    NewJob::new(CHECK_JOB, &json!({"conversation": c.id}))
                        .key(format!("sla-{}-kept-{}", c.id, now / CHECK_DELAY_MS))
                        .at(now),
                );
            }
            kept += 1;
        }
    }
    app.store.enqueue_jobs(&checks).await?;
    let mut out = JobOutcome::done().record(json!({"kept": kept}));
    if let Some(every) = args.every_s.filter(|s| *s > 0) {
        // A full batch: more are waiting, so the next link comes at once.
        let delay = if ids.len() == 500 { 0 } else { every };
        out = out.then(next_in_chain(KEEP_JOB, json!({"every_s": every}), delay, lifebuoy_store::now_ms()));
    }
    Ok(out)
}

/// The first link of the keeping chain.
pub fn first_keep_link() -> NewJob {
    next_in_chain(KEEP_JOB, json!({"every_s": KEEP_EVERY_S}), 0, lifebuoy_store::now_ms())
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
    let clock = clock_of(app, &c, now).await.map_err(JobFailure::retry)?;
    let (due, warn, state) = kept(&c, clock.as_ref().map(|(_, k)| k));
    app.store.set_sla_clock(&c.id, due, warn, state).await?;
    let Some((policy, k)) = clock else {
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
            escalate(app, &c, &policy, target, due).await.map_err(JobFailure::retry)?;
            crate::alerts::raise_sla(app, &c, "sla_breached", due).await.map_err(JobFailure::retry)?;
            Ok(JobOutcome::done().record(json!({"state": "breached", "target": target})))
        }
        SlaState::Ok | SlaState::Warning | SlaState::Paused => {
            // Paused: the next change (the customer's answer) checks again; else at the warning and the
            // deadline. A clock in its last quarter warns the case's agent and supervisors (once per deadline).
            if k.state == SlaState::Warning {
                crate::alerts::raise_sla(app, &c, "sla_warning", k.next_due_at).await.map_err(JobFailure::retry)?;
            }
            if k.state != SlaState::Paused {
                let mut next = vec![check_at(&c.id, k.next_due_at)];
                if k.state == SlaState::Ok {
                    next.push(
                        NewJob::new(CHECK_JOB, &json!({"conversation": c.id}))
                            .key(format!("sla-{}-warn-{}", c.id, k.warn_at))
                            .at(k.warn_at + 1_000),
                    );
                }
                app.store.enqueue_jobs(&next).await?;
            }
            Ok(JobOutcome::done().record(json!({"state": k.state, "next_due_at": k.next_due_at})))
        }
    }
}

/// What the policy's breach rule does, each step only when not done: raises the priority, moves the case up
/// the tiers, and notes the breach.
async fn escalate(app: &App, c: &Conversation, p: &SlaPolicy, target: &str, due_at: i64) -> AppResult<()> {
    let timeline = app.store.timeline(&c.id, true).await?;
    let noted = timeline.iter().any(|i| match i {
        TimelineItem::Event(e) => matches!(e.event(), Some(Event::SlaBreached { target: t, .. }) if t == target),
        _ => false,
    });
    if noted {
        return Ok(());
    }
    let system = lifebuoy_store::Actor::System;
    let raise_to = match p.breach_priority.as_str() {
        "keep" => None,
        "high" => Some(Priority::High),
        _ => Some(Priority::Urgent),
    };
    if let Some(to) = raise_to.filter(|to| c.priority().rank() < to.rank()) {
        let up = TicketChange::Update {
            priority: Some(to),
            category: None,
            tags: None,
            order_id: None,
            tx_hash: None,
            asset: None,
            amount: None,
        };
        app.store.change_ticket(&c.id, &up, &system).await?;
    }
    let up_to = match p.breach_tier.as_str() {
        "keep" => Tier::L1,
        "supervisor" => Tier::Supervisor,
        _ => Tier::L2,
    };
    let rank = |t: Tier| match t {
        Tier::L1 => 0,
        Tier::L2 => 1,
        Tier::Supervisor => 2,
    };
    let mut tier = c.tier();
    while rank(tier) < rank(up_to) {
        let why = format!("SLA: {target} overdue");
        tier = app.store.change_ticket(&c.id, &TicketChange::Escalate { reason: why }, &system).await?.tier();
    }
    app.store.append_event(&c.id, &system, &Event::SlaBreached { target: target.into(), due_at }).await?;
    Ok(())
}
