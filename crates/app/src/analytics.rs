//! Supervisors' analytics (issue 13): what each conversation adds to the rollups ([`parts_of`], pure), the
//! durable fold that keeps the rollups from the change log ([`fold`], the `analytics.fold` job), and the
//! dashboard's numbers ([`dashboard`]) read from the rollups, never from the events one by one.
//!
//! The fold reads the change log (`index_changes`: every case written, every chat's transitions and rating)
//! from where it stopped, reads each changed conversation whole (its public timeline, its chat row, its
//! rating), works out its parts and hands them to [`lifebuoy_store::Store::analytics_apply`], which swaps the
//! conversation's old parts for the new in the rollups, with the new log position, in one transaction, or
//! does nothing if another node's step came first. Reading a conversation twice is harmless (its parts are
//! the same), so the fold may re-read the log past its settled position, be killed at any point and run on
//! any node. On a database with conversations from before the fold (or a log pruned past its position) it
//! first passes over every conversation by id, a page per step, resumable the same way.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, builtin::next_in_chain};
use crate::{Actor, App, AppError, AppResult, sla};
use lifebuoy_domain::sla::{Facts, SlaState, Targets, clock};
use lifebuoy_store::analytics::{FRT_BOUNDS_MS, RES_BOUNDS_MS, metric, month_of};
use lifebuoy_store::{
    Chat, Conversation, FoldState, GroupBy, Indexed, LogReader, METRIC_COUNT, Metrics, Part, RollupFilter, RollupKey,
    SlaPolicy, TimelineItem, now_ms,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

pub const FOLD_JOB: &str = "analytics.fold";
/// How often the fold runs: the dashboards are at most this far behind.
pub const FOLD_EVERY_S: i64 = 30;
/// Conversations read per fold step.
const STEP: usize = 200;
/// Steps per run at most (the next run goes on).
const STEPS_PER_RUN: usize = 50;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// What the fold reads of one conversation.
#[derive(Debug, Clone)]
pub struct FactInput {
    pub conversation: Conversation,
    /// The public timeline.
    pub timeline: Vec<TimelineItem>,
    pub chat: Option<Chat>,
    /// The customer's rating of a case (a chat's is on `chat`): score and when.
    pub rating: Option<(i64, i64)>,
}

fn bucket(ms: i64, bounds: &[i64]) -> usize {
    bounds.iter().position(|b| ms < *b).unwrap_or(bounds.len())
}

/// What one conversation adds to the rollups, as of `now`: opened (at its creation), its first public answer
/// and how long it took, its resolution (solved or closed; a chat's end) and how long it took, its SLA outcome
/// once known (met when resolved within its clocks, breached when a clock ran out), its rating, and for chats
/// whether the bot alone answered it. A chat's first answer and clocks count from its handover to a person. Each counts at the hour it happened, under the case's channel, category,
/// department and current agent.
pub fn parts_of(input: &FactInput, policy: Option<&SlaPolicy>, now: i64) -> Vec<Part> {
    let c = &input.conversation;
    let mut parts: BTreeMap<i64, Metrics> = BTreeMap::new();
    let mut at = |ms: i64, name: &str, v: i64| {
        parts.entry(ms.div_euclid(HOUR_MS)).or_insert([0; METRIC_COUNT])[metric(name)] += v;
    };
    at(c.created_at, "opened", 1);
    let mut facts: Facts = sla::facts(c, &input.timeline);
    // A chat waits for a person from its handover (the bot answered before); one the bot answered alone has
    // no clock to meet.
    let mut clocked = true;
    if let Some(chat) = &input.chat {
        facts.resolved_at = chat.ended_at;
        match chat.queued_at.or(chat.assigned_at) {
            Some(handover) => facts.created_at = handover,
            None => clocked = false,
        }
        at(c.created_at, "bot_chats", 1);
        if chat.state == "ended" && chat.queued_at.is_none() && chat.assigned_at.is_none() {
            at(chat.ended_at.unwrap_or(c.created_at), "bot_solved", 1);
        }
        if let (Some(score), Some(rated)) = (chat.csat_score, chat.csat_at) {
            at(rated, "csat_n", 1);
            at(rated, "csat_sum", score);
            at(rated, "csat_good", i64::from(score >= 4));
        }
    }
    if let Some(first) = facts.first_response_at {
        let took = (first - facts.created_at).max(0);
        at(first, "responded", 1);
        at(first, "frt_ms", took);
        at(first, &format!("frt_b{}", bucket(took, &FRT_BOUNDS_MS)), 1);
    }
    if let Some(done) = facts.resolved_at {
        let took = (done - c.created_at).max(0);
        at(done, "resolved", 1);
        at(done, "res_ms", took);
        at(done, &format!("res_b{}", bucket(took, &RES_BOUNDS_MS)), 1);
    }
    if let Some((score, rated)) = input.rating {
        at(rated, "csat_n", 1);
        at(rated, "csat_sum", score);
        at(rated, "csat_good", i64::from(score >= 4));
    }
    if let Some(p) = policy.filter(|_| clocked) {
        let t = Targets { first_response_min: p.first_response_min, resolution_min: p.resolution_min };
        let k = clock(&sla::calendar_of(p), t, &facts, now);
        match k.state {
            SlaState::Met => at(facts.resolved_at.unwrap_or(now), "sla_met", 1),
            SlaState::Breached => {
                let when = facts.resolved_at.unwrap_or(if k.first_response_breached {
                    k.first_response_due_at
                } else {
                    k.resolution_due_at
                });
                at(when.min(now), "sla_breached", 1)
            }
            _ => {}
        }
    }
    let agent = c.assignee_id.clone().unwrap_or_default();
    parts
        .into_iter()
        .map(|(hour, m)| Part {
            key: RollupKey {
                hour,
                kind: c.kind.clone(),
                category: c.category.clone(),
                department: c.department_id.clone(),
                agent: agent.clone(),
            },
            m,
        })
        .collect()
}

async fn input_of(app: &App, id: &str) -> AppResult<Option<FactInput>> {
    let Some(conversation) = app.store.conversation(id).await? else { return Ok(None) };
    let chat = if conversation.kind == "chat" { app.store.chat(id).await?.map(|(_, ch)| ch) } else { None };
    let rating = if conversation.kind == "chat" {
        None
    } else {
        app.store.case_rating(id).await?.map(|r| (r.score, r.rated_at))
    };
    let timeline = app.store.timeline(id, false).await?;
    Ok(Some(FactInput { conversation, timeline, chat, rating }))
}

async fn facts_of(app: &App, ids: &[String], policies: &[SlaPolicy]) -> AppResult<Vec<(String, Vec<Part>)>> {
    let now = now_ms();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let parts = match input_of(app, id).await? {
            Some(input) => {
                let tags = if sla::asks_customer_tags(policies) {
                    app.store.customer_tags(&input.conversation.customer_id).await?
                } else {
                    Vec::new()
                };
                parts_of(&input, sla::policy_for(policies, &input.conversation, &tags), now)
            }
            None => Vec::new(),
        };
        out.push((id.clone(), parts));
    }
    Ok(out)
}

/// What a fold run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FoldReport {
    /// Conversations read (some perhaps twice).
    pub folded: usize,
    pub steps: usize,
    /// Steps another node's step overtook (their work is redone from the new state).
    pub lost: usize,
    /// The full pass is done and the log read to its end as far as settled.
    pub caught_up: bool,
}

/// Folds what changed since the last run into the rollups (at most [`STEPS_PER_RUN`] steps).
pub async fn fold(app: &App) -> AppResult<FoldReport> {
    let policies = app.store.sla_policies().await?;
    let mut report = FoldReport::default();
    for _ in 0..STEPS_PER_RUN {
        let st = app.store.analytics_state().await?;
        let floor = app.store.index_log_info().await?.floor;
        let (next, ids, last) = if !st.rebuilt {
            let ids = app.store.conversation_ids_after(&st.rebuild_after, STEP as i64).await?;
            let done = ids.len() < STEP;
            let next = FoldState {
                rebuilt: done,
                rebuild_after: if done { String::new() } else { ids.last().cloned().unwrap_or_default() },
                pos: st.pos.max(floor),
                ..st.clone()
            };
            (next, ids, false)
        } else if st.pos < floor {
            // The log was pruned past where the fold stood: pass over everything again.
            let next = FoldState { rebuilt: false, rebuild_after: String::new(), pos: floor, ..st.clone() };
            (next, Vec::new(), false)
        } else {
            let reader = LogReader::starting_at(st.pos);
            let (changes, keep, more) = reader.read(&app.store, &[Indexed::Ticket, Indexed::Chat], STEP).await?;
            let mut ids: Vec<String> = changes.into_iter().map(|c| c.entity_id).collect();
            ids.sort();
            ids.dedup();
            if ids.is_empty() && keep == st.pos {
                report.caught_up = true;
                break;
            }
            (FoldState { pos: keep, ..st.clone() }, ids, !more)
        };
        let facts = facts_of(app, &ids, &policies).await?;
        report.steps += 1;
        if app.store.analytics_apply(st.version, &next, &facts).await? {
            report.folded += facts.len();
        } else {
            report.lost += 1;
        }
        if last {
            report.caught_up = true;
            break;
        }
    }
    Ok(report)
}

#[derive(Debug, Default, Deserialize)]
struct Every {
    every_s: Option<i64>,
}

/// The `analytics.fold` job: folds, then schedules the next run (one chain however many nodes).
pub async fn run_fold(app: &App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: Every = job.payload_as()?;
    let report = fold(app).await.map_err(JobFailure::retry)?;
    if report.folded > 0 {
        tracing::debug!(folded = report.folded, steps = report.steps, lost = report.lost, "analytics folded");
    }
    let mut out = JobOutcome::done();
    if let Some(every) = args.every_s.filter(|s| *s > 0) {
        out = out.then(next_in_chain(FOLD_JOB, json!({"every_s": every}), every, now_ms()));
    }
    Ok(out)
}

/// The first link of the fold's chain (a no-op when one is queued already).
pub fn first_link() -> lifebuoy_store::NewJob {
    next_in_chain(FOLD_JOB, json!({"every_s": FOLD_EVERY_S}), FOLD_EVERY_S, now_ms())
}

/// What a dashboard shows: a range of UTC days and optional filters.
#[derive(Debug, Clone, Default)]
pub struct DashQuery {
    pub from_day: i64,
    /// Excluded.
    pub to_day: i64,
    pub kind: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub agent: Option<String>,
    /// The hour-of-day chart's offset from UTC, in hours (-12..=14).
    pub offset_hours: i64,
}

/// The longest range a dashboard reads.
pub const MAX_DAYS: i64 = 731;
/// Ranges longer than this are shown by month.
pub const MONTHLY_AFTER_DAYS: i64 = 92;

impl DashQuery {
    /// The last `days` days up to today (UTC).
    pub fn last_days(days: i64, now: i64) -> DashQuery {
        let today = now.div_euclid(DAY_MS);
        DashQuery { from_day: today + 1 - days, to_day: today + 1, ..Default::default() }
    }

    fn filter(&self) -> RollupFilter {
        RollupFilter {
            from_day: self.from_day,
            to_day: self.to_day,
            kind: self.kind.clone(),
            category: self.category.clone(),
            department: self.department.clone(),
            agent: self.agent.clone(),
        }
    }

    fn check(&self) -> AppResult<()> {
        if self.to_day <= self.from_day {
            return Err(AppError::invalid("to", "the range ends after it starts"));
        }
        if self.to_day - self.from_day > MAX_DAYS {
            return Err(AppError::invalid("from", format!("a range of at most {MAX_DAYS} days")));
        }
        if !(-12..=14).contains(&self.offset_hours) {
            return Err(AppError::invalid("tz", "an offset from UTC of -12 to +14 hours"));
        }
        Ok(())
    }
}

/// An agent on the live view.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveAgent {
    pub agent_id: String,
    pub name: String,
    pub chats: i64,
    pub capacity: i64,
    /// Open cases assigned.
    pub cases: i64,
}

/// Now, not from the rollups: who is online with what load, and who waits.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Live {
    pub agents: Vec<LiveAgent>,
    pub queued_chats: usize,
}

/// An article's votes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArticleVotes {
    pub title: String,
    pub helpful: i64,
    pub unhelpful: i64,
}

/// A dashboard's numbers.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub query: DashQuery,
    /// The range's buckets: every day, or (when `monthly`) the first day of every month.
    pub days: Vec<i64>,
    /// A range longer than [`MONTHLY_AFTER_DAYS`] is shown by month.
    pub monthly: bool,
    /// Metrics per bucket (zeros where nothing happened).
    pub by_day: Vec<Metrics>,
    /// New conversations per channel per bucket.
    pub volume: Vec<(String, Vec<i64>)>,
    pub by_category: Vec<(String, Metrics)>,
    pub by_department: Vec<(String, Metrics)>,
    /// Keyed by agent id (empty: no agent).
    pub by_agent: Vec<(String, Metrics)>,
    pub by_hour: [i64; 24],
    /// Open cases at the end of each bucket.
    pub backlog: Vec<i64>,
    pub totals: Metrics,
    /// All time, most voted first (at most ten).
    pub articles: Vec<ArticleVotes>,
    pub live: Live,
    /// Every agent (to name the agents' rows).
    pub agents: Vec<lifebuoy_store::Agent>,
    /// When the fold last ran (ms), for "as of".
    pub folded_at: i64,
}

/// The dashboard (supervisors and admins).
pub async fn dashboard(app: &App, actor: &Actor, q: DashQuery, lang: &str) -> AppResult<Dashboard> {
    if !actor.oversees() {
        return Err(AppError::forbidden("supervisors and admins read the dashboards"));
    }
    q.check()?;
    let f = q.filter();
    let store = &app.store;
    // A range longer than a quarter is shown by month (read from the monthly rollup), else by day.
    let monthly = q.to_day - q.from_day > MONTHLY_AFTER_DAYS;
    let buckets: Vec<i64> = if monthly {
        let mut m = vec![month_of(q.from_day)];
        while let Some(next) = m.last().map(|l| month_of(l + 31)).filter(|n| *n < q.to_day) {
            m.push(next);
        }
        m
    } else {
        (q.from_day..q.to_day).collect()
    };
    let (by_time, by_kind_time) =
        if monthly { (GroupBy::Month, GroupBy::KindMonth) } else { (GroupBy::Day, GroupBy::KindDay) };
    let per_bucket: BTreeMap<i64, Metrics> = store
        .analytics_sums(&f, by_time)
        .await?
        .into_iter()
        .filter_map(|(d, m)| d.parse::<i64>().ok().map(|d| (d, m)))
        .collect();
    let by_day: Vec<Metrics> =
        buckets.iter().map(|d| per_bucket.get(d).copied().unwrap_or([0; METRIC_COUNT])).collect();
    let opened = metric("opened");
    let mut per_kind: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for (key, m) in store.analytics_sums(&f, by_kind_time).await? {
        if let Some((kind, at)) = key.split_once('|')
            && let Ok(at) = at.parse::<i64>()
            && m[opened] != 0
        {
            *per_kind.entry(kind.to_string()).or_default().entry(at).or_insert(0) += m[opened];
        }
    }
    let volume = per_kind
        .into_iter()
        .map(|(kind, per)| (kind, buckets.iter().map(|d| per.get(d).copied().unwrap_or(0)).collect()))
        .collect();
    let resolved = metric("resolved");
    let mut open = store.analytics_backlog_before(&f).await?;
    let backlog = by_day
        .iter()
        .map(|m| {
            open += m[opened] - m[resolved];
            open
        })
        .collect();
    let mut totals = [0; METRIC_COUNT];
    for m in &by_day {
        for (t, v) in totals.iter_mut().zip(m) {
            *t += v;
        }
    }
    let titles: BTreeMap<String, String> = store
        .kb_articles(&Default::default())
        .await?
        .into_iter()
        .map(|a| {
            let t = a.translation(lang).or(a.translations.first()).map(|t| t.title.clone()).unwrap_or(a.slug);
            (a.id, t)
        })
        .collect();
    let articles = store
        .kb_vote_counts()
        .await?
        .into_iter()
        .take(10)
        .map(|v| ArticleVotes {
            title: titles.get(&v.article_id).cloned().unwrap_or(v.article_id),
            helpful: v.helpful,
            unhelpful: v.unhelpful,
        })
        .collect();
    let staff = store.agents().await?;
    let names: BTreeMap<&str, &str> = staff.iter().map(|a| (a.id.as_str(), a.display_name.as_str())).collect();
    let loads: BTreeMap<String, i64> = store.open_case_counts().await?.into_iter().collect();
    let agents = store
        .online_agents()
        .await?
        .into_iter()
        .map(|(p, chats)| LiveAgent {
            name: names.get(p.agent_id.as_str()).map(|n| n.to_string()).unwrap_or_else(|| p.agent_id.clone()),
            cases: loads.get(&p.agent_id).copied().unwrap_or(0),
            agent_id: p.agent_id,
            chats,
            capacity: p.capacity,
        })
        .collect();
    let live = Live { agents, queued_chats: store.queued_chats().await?.len() };
    Ok(Dashboard {
        by_category: store.analytics_sums(&f, GroupBy::Category).await?,
        by_department: store.analytics_sums(&f, GroupBy::Department).await?,
        by_agent: store.analytics_sums(&f, GroupBy::Agent).await?,
        by_hour: store.analytics_by_hour(&f, q.offset_hours).await?,
        folded_at: store.analytics_state().await?.folded_at,
        query: q,
        days: buckets,
        monthly,
        by_day,
        volume,
        backlog,
        totals,
        articles,
        live,
        agents: staff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifebuoy_store::{Entry, Message};

    const T0: i64 = 1_780_000_000_000 - 1_780_000_000_000 % HOUR_MS;
    const MIN: i64 = 60_000;

    fn case(kind: &str, status: &str) -> Conversation {
        Conversation {
            id: "c1".into(),
            kind: kind.into(),
            case_number: None,
            customer_id: "u1".into(),
            subject: "s".into(),
            status: status.into(),
            priority: "normal".into(),
            category: "withdrawal".into(),
            department_id: "support".into(),
            assignee_id: Some("a1".into()),
            tier: "l1".into(),
            lang: "zh-Hans".into(),
            order_id: None,
            tx_hash: None,
            asset: None,
            amount: None,
            merged_into: None,
            follow_up_of: None,
            last_seq: 0,
            created_at: T0,
            updated_at: T0,
            solved_at: None,
            closed_at: None,
            sla_due_at: lifebuoy_store::NO_CLOCK,
            appended: Vec::<Entry>::new(),
            enqueued: false,
        }
    }

    fn answer(at: i64) -> TimelineItem {
        TimelineItem::Message {
            message: Message {
                id: "m".into(),
                conversation_id: "c1".into(),
                seq: 2,
                author_kind: "agent".into(),
                author_id: Some("a1".into()),
                author_name: None,
                agent_no: None,
                body: "hi".into(),
                internal: false,
                client_id: None,
                created_at: at,
            },
            attachments: vec![],
        }
    }

    fn policy(first: i64, res: i64) -> SlaPolicy {
        SlaPolicy {
            id: "p".into(),
            position: 1,
            name: "p".into(),
            kinds: "[]".into(),
            categories: "[]".into(),
            priorities: "[]".into(),
            langs: "[]".into(),
            customer_tags: "[]".into(),
            first_response_min: first,
            resolution_min: res,
            next_response_min: None,
            calendar: "always".into(),
            active: true,
            breach_priority: "urgent".into(),
            breach_tier: "l2".into(),
        }
    }

    fn total(parts: &[Part], name: &str) -> i64 {
        parts.iter().map(|p| p.m[metric(name)]).sum()
    }

    #[test]
    fn an_answered_case_counts_opened_and_its_answer_at_their_hours_with_the_bucket() {
        let input = FactInput {
            conversation: case("ticket", "open"),
            timeline: vec![answer(T0 + 2 * HOUR_MS + 7 * MIN)],
            chat: None,
            rating: Some((5, T0 + 3 * HOUR_MS)),
        };
        let parts = parts_of(&input, Some(&policy(30, 1440)), T0 + 4 * HOUR_MS);
        let hours: Vec<i64> = parts.iter().map(|p| p.key.hour - T0 / HOUR_MS).collect();
        assert_eq!(hours, vec![0, 2, 3], "created, answered, rated");
        assert_eq!(total(&parts, "opened"), 1);
        assert_eq!(total(&parts, "responded"), 1);
        assert_eq!(total(&parts, "frt_ms"), 127 * MIN);
        assert_eq!(total(&parts, "frt_b4"), 1, "127 minutes: from 1 to 4 hours");
        assert_eq!(total(&parts, "resolved"), 0);
        assert_eq!((total(&parts, "csat_n"), total(&parts, "csat_sum"), total(&parts, "csat_good")), (1, 5, 1));
        assert_eq!(total(&parts, "sla_breached"), 1, "answered after its 30 minutes");
        assert!(parts.iter().all(|p| p.key.agent == "a1" && p.key.category == "withdrawal"));
    }

    #[test]
    fn a_case_solved_within_its_clocks_is_met_and_a_reopened_one_leaves_resolved() {
        let solved = |to: &str, at: i64| {
            TimelineItem::Event(lifebuoy_store::Event {
                id: "e".into(),
                conversation_id: "c1".into(),
                seq: 3,
                actor_kind: "agent".into(),
                actor_id: Some("a1".into()),
                actor_name: None,
                kind: "status_changed".into(),
                data: format!(r#"{{"from":"open","to":"{to}"}}"#),
                internal: false,
                created_at: at,
            })
        };
        let mut input = FactInput {
            conversation: case("ticket", "solved"),
            timeline: vec![answer(T0 + 10 * MIN), solved("solved", T0 + 5 * HOUR_MS)],
            chat: None,
            rating: None,
        };
        let parts = parts_of(&input, Some(&policy(30, 1440)), T0 + 6 * HOUR_MS);
        assert_eq!((total(&parts, "resolved"), total(&parts, "res_b2"), total(&parts, "sla_met")), (1, 1, 1));
        assert_eq!(total(&parts, "sla_breached"), 0);
        assert_eq!(total(&parts, "frt_b2"), 1, "10 minutes: from 5 to 15");
        let met_hour = parts.iter().find(|p| p.m[metric("sla_met")] == 1).map(|p| p.key.hour);
        assert_eq!(met_hour, Some(T0 / HOUR_MS + 5), "met counts when it was solved");
        // Reopened: the same case read again no longer adds a resolution or an outcome.
        input.conversation.status = "open".into();
        input.timeline.push(solved("open", T0 + 7 * HOUR_MS));
        let parts = parts_of(&input, Some(&policy(30, 1440)), T0 + 8 * HOUR_MS);
        assert_eq!((total(&parts, "resolved"), total(&parts, "sla_met")), (0, 0));
        assert_eq!(total(&parts, "opened"), 1);
        // No policy: no SLA outcome at all.
        assert_eq!(total(&parts_of(&input, None, T0 + 80 * HOUR_MS), "sla_breached"), 0);
    }

    #[test]
    fn a_chat_the_bot_answered_alone_counts_as_deflected_and_its_rating_once() {
        let chat = |queued: Option<i64>| Chat {
            conversation_id: "c1".into(),
            customer_id: "u1".into(),
            state: "ended".into(),
            topic: None,
            bot_misses: 0,
            queued_at: queued,
            assigned_at: queued.map(|q| q + MIN),
            ended_at: Some(T0 + 20 * MIN),
            customer_delivered_seq: 0,
            customer_read_seq: 0,
            agent_delivered_seq: 0,
            agent_read_seq: 0,
            csat_score: Some(3),
            csat_comment: None,
            csat_at: Some(T0 + 21 * MIN),
            ticket_id: None,
        };
        let input = |queued| FactInput {
            conversation: case("chat", "open"),
            timeline: vec![],
            chat: Some(chat(queued)),
            rating: None,
        };
        let bot = parts_of(&input(None), None, T0 + HOUR_MS);
        assert_eq!((total(&bot, "bot_chats"), total(&bot, "bot_solved")), (1, 1));
        assert_eq!((total(&bot, "resolved"), total(&bot, "res_b0")), (1, 1), "a chat is resolved when it ends");
        assert_eq!((total(&bot, "csat_n"), total(&bot, "csat_sum"), total(&bot, "csat_good")), (1, 3, 0));
        let human = parts_of(&input(Some(T0 + MIN)), None, T0 + HOUR_MS);
        assert_eq!((total(&human, "bot_chats"), total(&human, "bot_solved")), (1, 0));
    }
}
