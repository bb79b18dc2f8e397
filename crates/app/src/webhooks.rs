//! Signed webhooks to the exchange (issue 14): appeal and case events, pushed as they happen so the exchange's
//! app can show a case's status without polling, and its core can act on an appeal's decision.
//!
//! How an event travels: the write that records it (an appeal decided, a ticket's status changed, a chat ended)
//! also writes a `webhook.fanout` job, by the outbox rule [`outbox_rule`], in the same transaction. The fan-out
//! builds the event's body once, notes one delivery per endpoint that wants it (a fan-out run twice notes the
//! same deliveries), and enqueues a `webhook.deliver` job for each. A delivery POSTs the body signed with the
//! endpoint's secret (`Lifebuoy-Signature: t=…,v1=…`, [`crate::signing`]); an answer other than 2xx, or none, is
//! tried again after the job runner's exponential backoff, for a day ([`GIVE_UP_AFTER_MS`]), then the delivery is
//! marked failed. Admins read the log and replay any delivery.
//!
//! Receivers deduplicate on the body's `id` (the same on every try and replay); `Lifebuoy-Delivery` names the
//! delivery.

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob};
use crate::{Actor, AppError, AppResult};
use lifebuoy_domain::{AppealStatus, Event, Role};
use lifebuoy_store::{Conversation, Entry, TimelineItem, WebhookDelivery, WebhookEndpoint};
use serde::Deserialize;
use serde_json::{Value, json};

pub const FANOUT_JOB: &str = "webhook.fanout";
pub const DELIVER_JOB: &str = "webhook.deliver";
/// How long a delivery is tried before it is marked failed.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3_600_000;

/// The event types an endpoint may subscribe to (`*`: all).
pub const EVENT_TYPES: &[&str] = &[
    "appeal.opened",
    "appeal.evidence_requested",
    "appeal.decided",
    "appeal.executed",
    "appeal.withdrawn",
    "appeal.closed",
    "ticket.status_changed",
    "chat.ended",
];

/// The webhook type of a timeline event on a conversation of this kind, if it is one the exchange hears of.
pub fn event_type(kind: &str, e: &Event) -> Option<&'static str> {
    Some(match e {
        Event::AppealOpened { .. } => "appeal.opened",
        Event::AppealDecided { .. } => "appeal.decided",
        Event::AppealStatusChanged { to, .. } => match to {
            AppealStatus::AwaitingEvidence => "appeal.evidence_requested",
            AppealStatus::Executed => "appeal.executed",
            AppealStatus::Withdrawn => "appeal.withdrawn",
            AppealStatus::Closed => "appeal.closed",
            _ => return None,
        },
        Event::StatusChanged { .. } if matches!(kind, "ticket" | "email") => "ticket.status_changed",
        Event::ChatEnded if kind == "chat" => "chat.ended",
        _ => return None,
    })
}

/// The outbox rule: one fan-out job per event the exchange hears of, written with the event.
pub fn outbox_rule(c: &Conversation, entries: &[Entry]) -> Vec<NewJob> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Event { seq, event, .. } => event_type(&c.kind, event).map(|t| {
                NewJob::new(FANOUT_JOB, &json!({"type": t, "conversation": c.id, "seq": seq}))
                    .key(format!("webhook-{}-{seq}", c.id))
            }),
            Entry::Message { .. } => None,
        })
        .collect()
}

#[derive(Deserialize)]
struct FanoutJob {
    #[serde(rename = "type")]
    kind: String,
    conversation: String,
    seq: i64,
}

/// The `webhook.fanout` job: the event's body, one delivery per endpoint that wants it, and their jobs.
pub async fn run_fanout(app: &crate::App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: FanoutJob = job.payload_as()?;
    let endpoints: Vec<WebhookEndpoint> =
        app.store.webhook_endpoints().await?.into_iter().filter(|e| e.wants(&args.kind)).collect();
    if endpoints.is_empty() {
        return Ok(JobOutcome::done());
    }
    let Some(c) = app.store.conversation(&args.conversation).await? else {
        return Err(JobFailure::permanent("no such conversation"));
    };
    let item = app.store.timeline_after(&c.id, true, args.seq - 1).await?.into_iter().find(|i| i.seq() == args.seq);
    let Some(TimelineItem::Event(stored)) = item else {
        return Err(JobFailure::permanent("no such event"));
    };
    let stored_data: Value = serde_json::from_str(&stored.data).unwrap_or(Value::Null);
    let data = body_data(app, &c, &stored.kind, &stored_data).await?;
    let event_id = format!("evt_{}_{}", c.id, args.seq);
    let body = json!({"id": event_id, "type": args.kind, "created_at": stored.created_at, "data": data}).to_string();
    let mut out = JobOutcome::done();
    for ep in endpoints {
        let d = app.store.put_webhook_delivery(&ep.id, &event_id, &args.kind, &body).await?;
        if d.state == "pending" && d.attempts == 0 {
            let mut j = NewJob::new(DELIVER_JOB, &json!({"delivery": d.id})).key(format!("deliver-{}", d.id));
            j.max_attempts = 200; // the day-long limit ends it first
            out = out.then(j);
        }
    }
    Ok(out)
}

/// What an event's body carries: the appeal with its order, or the case, and the customer by the exchange's id.
async fn body_data(app: &crate::App, c: &Conversation, kind: &str, data: &Value) -> Result<Value, JobFailure> {
    let customer = app.store.customer(&c.customer_id).await?.and_then(|k| k.external_id);
    if let Some(appeal_id) = data.get("appeal").and_then(Value::as_str) {
        let a = app.store.appeal(appeal_id).await?.ok_or_else(|| JobFailure::permanent("no such appeal"))?;
        let o = app.store.order(&a.order_id).await?.ok_or_else(|| JobFailure::permanent("no such order"))?;
        return Ok(json!({
            "appeal": {
                "id": a.id, "status": a.status, "reason": a.reason, "opened_by": a.opened_by,
                "decision": a.decision, "rationale": a.rationale, "decided_at": a.decided_at,
                "executed_at": a.executed_at, "created_at": a.created_at,
            },
            "order": {
                "id": o.id, "buyer": o.buyer, "seller": o.seller, "state": o.state, "asset": o.asset,
                "amount": o.amount, "fiat_amount": o.fiat_amount, "fiat_currency": o.fiat_currency,
            },
            "case_number": c.case_number,
            "event": {"kind": kind, "data": data},
        }));
    }
    let what = if c.kind == "chat" { "chat" } else { "ticket" };
    Ok(json!({
        what: {"id": c.id, "case_number": c.case_number, "status": c.status, "subject": c.subject},
        "customer": {"external_id": customer},
        "event": {"kind": kind, "data": data},
    }))
}

#[derive(Deserialize)]
struct DeliverJob {
    delivery: String,
}

/// The `webhook.deliver` job: one signed POST; retried with backoff for a day.
pub async fn run_deliver(app: &crate::App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: DeliverJob = job.payload_as()?;
    let Some(d) = app.store.webhook_delivery(&args.delivery).await? else {
        return Err(JobFailure::permanent("no such delivery"));
    };
    if d.state == "delivered" {
        return Ok(JobOutcome::done());
    }
    let ep = app.store.webhook_endpoint(&d.endpoint_id).await?;
    let Some(ep) = ep.filter(|e| e.active) else {
        app.store.record_webhook_try(&d.id, "failed", None, Some("the endpoint was removed")).await?;
        return Ok(JobOutcome::done().record(json!({"delivery": d.id, "state": "failed"})));
    };
    let t = lifebuoy_store::now_ms() / 1000;
    let sig = crate::signing::sign(ep.secret.as_bytes(), t, d.body.as_bytes());
    let headers = [
        ("Content-Type", "application/json"),
        (crate::signing::HEADER, sig.as_str()),
        ("Lifebuoy-Event", d.event_type.as_str()),
        ("Lifebuoy-Delivery", d.id.as_str()),
        ("Idempotency-Key", d.event_id.as_str()),
    ];
    let (status, error) = match crate::http_out::post(&ep.url, &headers, d.body.as_bytes()).await {
        Ok((s, _)) if (200..300).contains(&s) => {
            app.store.record_webhook_try(&d.id, "delivered", Some(s as i64), None).await?;
            return Ok(JobOutcome::done().record(json!({"delivery": d.id, "state": "delivered", "status": s})));
        }
        Ok((s, text)) => (Some(s as i64), format!("answered {s}: {}", text.chars().take(200).collect::<String>())),
        Err(e) => (None, e),
    };
    let give_up = lifebuoy_store::now_ms() - d.created_at > GIVE_UP_AFTER_MS || job.attempts >= job.max_attempts;
    let state = if give_up { "failed" } else { "pending" };
    app.store.record_webhook_try(&d.id, state, status, Some(&error)).await?;
    if give_up { Err(JobFailure::permanent(error)) } else { Err(JobFailure::retry(error)) }
}

fn admin_or_exchange(actor: &Actor) -> AppResult<()> {
    let admin = actor.agent().is_some_and(|a| a.role == Role::Admin);
    if admin || actor.speaks_for_exchange() {
        Ok(())
    } else {
        Err(AppError::forbidden("admins and the exchange's integration manage webhooks"))
    }
}

/// A new endpoint (`POST /api/v1/webhooks`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub secret: String,
}

/// Registers an endpoint (admins, the exchange's integration).
pub async fn register(app: &crate::App, actor: &Actor, input: NewEndpoint) -> AppResult<WebhookEndpoint> {
    admin_or_exchange(actor)?;
    let url = url::Url::parse(input.url.trim()).map_err(|e| AppError::invalid("url", e))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(AppError::invalid("url", "an http:// or https:// address"));
    }
    if input.events.is_empty() {
        return Err(AppError::invalid("events", "name at least one event type"));
    }
    let mut events = Vec::new();
    for e in &input.events {
        if e != "*" && !EVENT_TYPES.contains(&e.as_str()) {
            return Err(AppError::invalid("events", format!("unknown type {e:?}; known: {}", EVENT_TYPES.join(", "))));
        }
        if !events.contains(e) {
            events.push(e.clone());
        }
    }
    let n = input.secret.chars().count();
    if !(16..=200).contains(&n) {
        return Err(AppError::invalid("secret", "16 to 200 characters"));
    }
    let by = actor.key();
    Ok(app.store.add_webhook_endpoint(url.as_str(), &events, &input.secret, Some(&by)).await?)
}

pub async fn endpoints(app: &crate::App, actor: &Actor) -> AppResult<Vec<WebhookEndpoint>> {
    admin_or_exchange(actor)?;
    Ok(app.store.webhook_endpoints().await?)
}

/// Stops sending to an endpoint; its log stays.
pub async fn remove(app: &crate::App, actor: &Actor, id: &str) -> AppResult<()> {
    admin_or_exchange(actor)?;
    app.store.webhook_endpoint(id).await?.ok_or(AppError::NotFound)?;
    app.store.deactivate_webhook_endpoint(id).await?;
    Ok(())
}

/// The delivery log, newest first.
pub async fn deliveries(app: &crate::App, actor: &Actor, limit: i64) -> AppResult<Vec<WebhookDelivery>> {
    admin_or_exchange(actor)?;
    Ok(app.store.webhook_deliveries(limit.clamp(1, 500)).await?)
}

/// Sends a delivery again (whatever became of it), now.
pub async fn replay(app: &crate::App, actor: &Actor, id: &str) -> AppResult<WebhookDelivery> {
    admin_or_exchange(actor)?;
    let d = app.store.webhook_delivery(id).await?.ok_or(AppError::NotFound)?;
    app.store.reset_webhook_delivery(&d.id).await?;
    let job = NewJob::new(DELIVER_JOB, &json!({"delivery": d.id})).key(format!(
        "replay-{}-{}",
        d.id,
        lifebuoy_store::now_ms()
    ));
    app.store.enqueue_jobs(&[job]).await?;
    app.store.webhook_delivery(id).await?.ok_or(AppError::NotFound)
}
