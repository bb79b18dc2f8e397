//! C2C (P2P) orders and their appeals (申诉), issue 14.
//!
//! The exchange registers each order ([`register_order`]) and reports what happens to it ([`order_event`]):
//! repeats change nothing, and late news never moves an order back. Buyer and seller talk in the order's
//! conversation ([`post_message`]: kind `appeal`, department risk, opened on the first message with a standing
//! warning against moving the talk off the platform). Either party may appeal ([`open_appeal`]) once the
//! exchange's window after payment has passed. Arbiters — agents of the risk department holding the `arbiter`
//! permission — work the queue by time left ([`queue`]), ask a named party for evidence by a deadline
//! ([`request_evidence`]; a durable job moves the appeal on when it passes), and decide with a written rationale
//! ([`decide`]); above the admins' amount a second arbiter approves ([`approve`]). The exchange carries the
//! decision out and reports it (`released`, `cancelled`, or `executed`): the appeal is executed, then closed.
//!
//! Who sees what: the order's two parties and staff who see its conversation; anyone else gets
//! [`AppError::NotFound`]. Parties never see internal notes (the timeline's `internal` rows).

use crate::jobs::{Job, JobContext, JobFailure, JobOutcome, NewJob};
use crate::tickets::text_field;
use crate::{Actor, AppError, AppResult};
use lifebuoy_domain::{
    AppealReason, AppealStatus, Category, ConversationKind, Decision, Event, Lang, OrderState, Party, Priority,
};
use lifebuoy_store::{Appeal, AppealChange, NewOrder, NewTicket, Order, OrderEventOutcome, QueuedAppeal, TimelineItem};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The job that moves an appeal on when a party's evidence deadline passes.
pub const EVIDENCE_JOB: &str = "c2c.evidence_deadline";
/// The permission that lets a risk agent decide appeals.
pub const ARBITER: &str = "arbiter";
/// How soon an arbiter owes an appeal its next answer (the exchanges' promise: within the hour).
pub const ANSWER_WITHIN_MS: i64 = 3_600_000;
/// Evidence deadlines an arbiter may set, in hours.
pub const EVIDENCE_HOURS: std::ops::RangeInclusive<i64> = 1..=72;

/// An order as the exchange registers it (`POST /api/v1/c2c/orders`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterOrder {
    pub id: String,
    pub buyer: String,
    pub seller: String,
    pub asset: String,
    pub amount: String,
    pub fiat_amount: String,
    pub fiat_currency: String,
    pub payment_method: String,
    #[serde(default)]
    pub state: Option<OrderState>,
    /// When the exchange created it (ms since the epoch); now when absent.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Seconds after payment before an appeal may be opened (the exchange's rule; 0 when absent).
    #[serde(default)]
    pub appeal_after_s: Option<i64>,
}

fn id_field(field: &'static str, v: &str) -> AppResult<String> {
    let v = text_field(field, v, 100)?;
    if v.chars().any(|c| c.is_control() || c == '/') {
        return Err(AppError::invalid(field, "letters, digits and punctuation other than '/'"));
    }
    Ok(v)
}

/// Registers an order (the exchange's integration only). A repeat returns the order as registered (`false`).
pub async fn register_order(app: &crate::App, actor: &Actor, input: RegisterOrder) -> AppResult<(Order, bool)> {
    if !actor.speaks_for_exchange() {
        return Err(AppError::forbidden("orders are registered by the exchange's integration"));
    }
    let o = NewOrder {
        id: id_field("id", &input.id)?,
        buyer: id_field("buyer", &input.buyer)?,
        seller: id_field("seller", &input.seller)?,
        asset: text_field("asset", &input.asset, 20)?.to_uppercase(),
        amount: lifebuoy_domain::appeal::parse_amount("amount", &input.amount)?,
        fiat_amount: lifebuoy_domain::appeal::parse_amount("fiat_amount", &input.fiat_amount)?,
        fiat_currency: text_field("fiat_currency", &input.fiat_currency, 10)?.to_uppercase(),
        payment_method: text_field("payment_method", &input.payment_method, 60)?,
        state: input.state.unwrap_or(OrderState::Created),
        appeal_after_s: input.appeal_after_s.unwrap_or(0).clamp(0, 7 * 86_400),
        placed_at: input.created_at.unwrap_or_else(lifebuoy_store::now_ms),
    };
    if o.buyer == o.seller {
        return Err(AppError::invalid("seller", "buyer and seller are two different users"));
    }
    Ok(app.store.register_order(&o).await?)
}

/// An event on an order (`POST /api/v1/c2c/orders/{id}/events`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderEventInput {
    /// `paid`, `released`, `cancelled`, `expired`, or `executed` (the exchange carried out the appeal's decision).
    pub event: String,
    /// When it happened (ms since the epoch); now when absent.
    #[serde(default)]
    pub at: Option<i64>,
}

/// What an order event did, for the exchange.
#[derive(Debug, Clone, Serialize)]
pub struct OrderEventResult {
    pub order: Order,
    pub applied: bool,
    pub appeal: Option<Appeal>,
}

/// Applies an event the exchange reports (its integration only): idempotent, in any order.
pub async fn order_event(
    app: &crate::App,
    actor: &Actor,
    order_id: &str,
    input: OrderEventInput,
) -> AppResult<OrderEventResult> {
    if !actor.speaks_for_exchange() {
        return Err(AppError::forbidden("order events come from the exchange's integration"));
    }
    let order = app.store.order(order_id).await?.ok_or(AppError::NotFound)?;
    if input.event == "executed" {
        // The exchange carried out the decision without a change of the order's state to tell it by.
        let open = open_appeal_of(app, &order.id).await?;
        return match open {
            Some(a) if a.status() == AppealStatus::Decided => {
                let mut ch = AppealChange::new(AppealStatus::Decided, AppealStatus::Executed);
                ch.events.push(status_event(&a, AppealStatus::Executed, None, None, Some("executed_by_exchange")));
                let a = app.store.change_appeal(&a.id, &ch, &actor.author()).await?;
                Ok(OrderEventResult { order, applied: true, appeal: Some(a) })
            }
            Some(a) if matches!(a.status(), AppealStatus::Executed | AppealStatus::Closed) => {
                Ok(OrderEventResult { order, applied: false, appeal: Some(a) })
            }
            Some(_) => Err(AppError::conflict("appeal_undecided", "the appeal has no decision to execute yet")),
            None => Err(AppError::conflict("no_appeal", "the order has no appeal to execute")),
        };
    }
    let state = OrderState::parse(&input.event)
        .ok()
        .filter(|s| *s != OrderState::Created)
        .ok_or_else(|| AppError::invalid("event", "one of: paid, released, cancelled, expired, executed"))?;
    let at = input.at.unwrap_or_else(lifebuoy_store::now_ms);
    let OrderEventOutcome { order, applied, executed, .. } =
        app.store.apply_order_event(order_id, state, at, &actor.author()).await?;
    Ok(OrderEventResult { order, applied, appeal: executed })
}

async fn open_appeal_of(app: &crate::App, order_id: &str) -> AppResult<Option<Appeal>> {
    Ok(app.store.appeals_of_order(order_id).await?.into_iter().find(|a| a.closed_at.is_none()))
}

/// The actor's side of the order, for a customer: `None` for staff. A customer who is neither party gets
/// [`AppError::NotFound`].
async fn party_check(app: &crate::App, actor: &Actor, order: &Order) -> AppResult<Option<Party>> {
    match actor {
        Actor::Customer(c) => {
            let party = c.external_id.as_deref().and_then(|x| order.party_of(x));
            party.map(Some).ok_or(AppError::NotFound)
        }
        Actor::Integration { .. } | Actor::System { .. } => Ok(None),
        Actor::Agent(a) => {
            // Staff who see the order's conversation; before it exists, the risk department and supervisors.
            let sees = match &order.conversation_id {
                Some(cid) => match app.store.conversation(cid).await? {
                    Some(c) => actor.scope().permits(&c),
                    None => false,
                },
                None => a.role.sees_all() || a.departments.iter().any(|d| d == "risk"),
            };
            if sees { Ok(None) } else { Err(AppError::NotFound) }
        }
    }
}

/// An order as one who may see it sees it: its appeals, and its conversation's timeline (without internal
/// notes for the parties).
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order: Order,
    /// The viewer's side (`buyer`, `seller`), for a party.
    pub party: Option<Party>,
    /// The open appeal, if any, and every appeal, newest first.
    pub appeal: Option<Appeal>,
    pub appeals: Vec<Appeal>,
    pub case_number: Option<String>,
    /// Who wrote what: the customer ids of the buyer and the seller, as the timeline's messages name them.
    pub buyer_customer_id: Option<String>,
    pub seller_customer_id: Option<String>,
    pub timeline: Vec<TimelineItem>,
    /// For a party: the standing warning in their language (the timeline's first entry is in the buyer's).
    pub warning: Option<String>,
    /// For a party: whether they may open an appeal now, else from when (ms), if that is only a matter of time.
    pub can_appeal: bool,
    pub appeal_opens_at: Option<i64>,
}

/// An order, for its parties and the staff who see it.
pub async fn view_order(app: &crate::App, actor: &Actor, order_id: &str) -> AppResult<OrderView> {
    let order = app.store.order(order_id).await?.ok_or(AppError::NotFound)?;
    let party = party_check(app, actor, &order).await?;
    let appeals = app.store.appeals_of_order(&order.id).await?;
    let appeal = appeals.iter().find(|a| a.closed_at.is_none()).cloned();
    let (case_number, timeline) = match &order.conversation_id {
        Some(cid) => {
            let c = app.store.conversation(cid).await?.ok_or(AppError::NotFound)?;
            (c.case_number, app.store.timeline(cid, actor.is_staff()).await?)
        }
        None => (None, Vec::new()),
    };
    let buyer_customer_id = app.store.exchange_customer(&order.buyer).await?.map(|c| c.id);
    let seller_customer_id = app.store.exchange_customer(&order.seller).await?.map(|c| c.id);
    let warning = party.map(|_| warning(lang_of(actor), &order));
    let now = lifebuoy_store::now_ms();
    let can_appeal = party.is_some() && appeal.is_none() && may_appeal(&order, now).is_ok();
    let appeal_opens_at = order
        .paid_at
        .map(|p| p + order.appeal_after_s * 1000)
        .filter(|at| party.is_some() && appeal.is_none() && *at > now);
    Ok(OrderView {
        order,
        party,
        appeal,
        appeals,
        case_number,
        buyer_customer_id,
        seller_customer_id,
        timeline,
        warning,
        can_appeal,
        appeal_opens_at,
    })
}

/// Whether a customer is the buyer or the seller of the order whose conversation this is: the seller reads
/// the buyer's conversation (and its files) through the order. Internal rows stay hidden all the same.
pub async fn party_sees(app: &crate::App, actor: &Actor, conversation_id: &str) -> AppResult<bool> {
    let Some(x) = actor.customer().and_then(|c| c.external_id.as_deref()) else { return Ok(false) };
    let Some(c) = app.store.conversation(conversation_id).await? else { return Ok(false) };
    let Some(order_id) = c.order_id.as_deref().filter(|_| c.kind == ConversationKind::Appeal.as_str()) else {
        return Ok(false);
    };
    Ok(app
        .store
        .order(order_id)
        .await?
        .is_some_and(|o| o.conversation_id.as_deref() == Some(conversation_id) && o.party_of(x).is_some()))
}

/// One of the exchange's users' orders, newest first, as the exchange lists them (its integration only).
pub async fn orders_of_user(app: &crate::App, actor: &Actor, user_id: &str, limit: i64) -> AppResult<Vec<Order>> {
    if !actor.speaks_for_exchange() {
        return Err(AppError::forbidden("the exchange lists its users' orders"));
    }
    Ok(app.store.orders_of(user_id, limit.clamp(1, 200)).await?)
}

/// The orders a customer bought or sold, newest first (their own only; staff read orders one by one).
pub async fn my_orders(app: &crate::App, actor: &Actor, limit: i64) -> AppResult<Vec<Order>> {
    let Some(c) = actor.customer() else { return Err(AppError::forbidden("a customer's own orders")) };
    match c.external_id.as_deref() {
        Some(x) => Ok(app.store.orders_of(x, limit.clamp(1, 200)).await?),
        None => Ok(Vec::new()),
    }
}

/// The standing warning that opens every order chat: written in the buyer's language, and shown to each party
/// in theirs by the order page.
pub fn warning(lang: Lang, order: &Order) -> String {
    match lang {
        Lang::ZhHans => format!(
            "这是订单 {} 的官方沟通记录（{} {}，{} {}）。请只在这里沟通：客服和仲裁员只认可平台内的聊天与凭证。任何要求您加微信、QQ、Telegram 或在平台外付款、放币的人，都可能是骗子。平台工作人员绝不会索要您的密码、验证码或助记词。",
            order.id, order.amount, order.asset, order.fiat_amount, order.fiat_currency
        ),
        Lang::ZhHant => format!(
            "這是訂單 {} 的官方溝通紀錄（{} {}，{} {}）。請只在這裡溝通：客服與仲裁員只認可平台內的聊天與憑證。任何要求您加 LINE、微信、Telegram 或在平台外付款、放幣的人，都可能是詐騙。平台人員絕不會索取您的密碼、驗證碼或助記詞。",
            order.id, order.amount, order.asset, order.fiat_amount, order.fiat_currency
        ),
        Lang::En => format!(
            "This is the official record of order {} ({} {}, {} {}). Keep the conversation here: support and arbiters only accept chat and proof sent on the platform. Anyone who asks you to move to WeChat, Telegram or another app, or to pay or release outside the platform, may be a scammer. Staff will never ask for your password, codes or recovery phrase.",
            order.id, order.amount, order.asset, order.fiat_amount, order.fiat_currency
        ),
    }
}

/// The order's conversation, opened on first use: the buyer's (the seller is let in by the order), risk
/// department, with the standing warning as its first entry.
async fn ensure_conversation(app: &crate::App, order: &Order, lang: Lang) -> AppResult<Order> {
    if order.conversation_id.is_some() {
        return Ok(order.clone());
    }
    let buyer = app.store.exchange_customer_or_insert(&order.buyer, None, None, None).await?;
    app.store.exchange_customer_or_insert(&order.seller, None, None, None).await?;
    let subject = match lang {
        Lang::ZhHans => format!("C2C 订单 {} · {} {}", order.id, order.amount, order.asset),
        Lang::ZhHant => format!("C2C 訂單 {} · {} {}", order.id, order.amount, order.asset),
        Lang::En => format!("C2C order {} · {} {}", order.id, order.amount, order.asset),
    };
    let t = NewTicket {
        kind: ConversationKind::Appeal,
        customer_id: buyer.id,
        subject,
        body: warning(lang, order),
        category: Category::C2c,
        priority: Priority::High,
        department: Some("risk".into()),
        lang,
        order_id: Some(order.id.clone()),
        tx_hash: None,
        asset: Some(order.asset.clone()),
        amount: Some(order.amount.clone()),
        tags: vec!["c2c-order".into()],
        attachment_ids: vec![],
    };
    let (c, _) = app.store.create_ticket(&t, &lifebuoy_store::Actor::System, None).await?;
    app.store.link_order_conversation(&order.id, &c.id).await?;
    app.store.order(&order.id).await?.ok_or(AppError::NotFound)
}

fn lang_of(actor: &Actor) -> Lang {
    actor.customer().and_then(|c| c.lang.as_deref()).and_then(Lang::from_tag).unwrap_or(Lang::ZhHans)
}

/// A message in the order chat.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderMessage {
    pub body: String,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// Staff only: an internal note neither party sees.
    #[serde(default)]
    pub internal: bool,
}

/// Posts in the order chat (a party, or staff who see the order). The secret guard runs first. A message from
/// the party an arbiter asked for evidence brings the appeal back to review.
pub async fn post_message(
    app: &crate::App,
    actor: &Actor,
    order_id: &str,
    m: OrderMessage,
) -> AppResult<lifebuoy_store::Message> {
    let order = app.store.order(order_id).await?.ok_or(AppError::NotFound)?;
    let party = party_check(app, actor, &order).await?;
    if m.internal && party.is_some() {
        return Err(AppError::forbidden("only staff write internal notes"));
    }
    if actor.is_staff() && actor.agent().is_none() {
        return Err(AppError::forbidden("the order chat is for its parties and the desk's agents"));
    }
    if m.attachment_ids.len() > 10 {
        return Err(AppError::invalid("attachment_ids", "at most 10 attachments"));
    }
    let body = text_field("body", &m.body, 5_000)?;
    let lang = lang_of(actor);
    let order = ensure_conversation(app, &order, lang).await?;
    let cid = order.conversation_id.clone().ok_or(AppError::NotFound)?;
    let guarded = crate::trust::guard(&body, lang);
    let out = app.store.reply(&cid, &actor.author(), &guarded.text, m.internal, &m.attachment_ids, None, None).await?;
    let (lifebuoy_store::ReplyOutcome::Added { message, .. } | lifebuoy_store::ReplyOutcome::FollowUp { message, .. }) =
        out;
    if !guarded.kinds.is_empty() {
        crate::trust::flag(app, &message.conversation_id, message.seq, &guarded.kinds).await?;
    }
    // The evidence asked for has come.
    if let Some(p) = party
        && !m.internal
        && let Some(a) = open_appeal_of(app, &order.id).await?
        && a.status() == AppealStatus::AwaitingEvidence
        && a.awaiting_party.as_deref() == Some(p.as_str())
    {
        let mut ch = AppealChange::new(AppealStatus::AwaitingEvidence, AppealStatus::InReview);
        ch.queue_at = Some(lifebuoy_store::now_ms() + ANSWER_WITHIN_MS);
        ch.events.push(status_event(&a, AppealStatus::InReview, Some(p), None, Some("evidence_received")));
        match app.store.change_appeal(&a.id, &ch, &lifebuoy_store::Actor::System).await {
            // Moved meanwhile (decided, withdrawn): the message stands, the appeal is where it is.
            Ok(_) | Err(lifebuoy_store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(message)
}

/// An appeal as a party opens it (`POST /api/v1/c2c/orders/{id}/appeal`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAppeal {
    pub reason: AppealReason,
    pub body: String,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

/// How long after its end an order may still be appealed (a bank transfer that bounced a week later).
const APPEAL_AFTER_END_MS: i64 = 7 * 86_400_000;

/// Whether the order may be appealed at `now` (by time: paid, the exchange's window passed, not long ended);
/// the order page offers the form only then. One open appeal at a time is the store's to hold.
pub fn may_appeal(order: &Order, now: i64) -> AppResult<()> {
    let Some(paid_at) = order.paid_at else {
        return Err(AppError::conflict("order_not_paid", "an appeal opens once the buyer has marked the order paid"));
    };
    let opens = paid_at + order.appeal_after_s * 1000;
    if now < opens {
        let wait = (opens - now + 59_999) / 60_000;
        return Err(AppError::conflict(
            "appeal_too_early",
            format!("the appeal opens {wait} min after payment; talk to the other party in the order chat first"),
        ));
    }
    if order.ended_at.is_some_and(|e| now > e + APPEAL_AFTER_END_MS) {
        return Err(AppError::conflict("appeal_too_late", "this order ended more than 7 days ago; file a ticket"));
    }
    Ok(())
}

/// A party appeals the order: once it is paid and the exchange's window has passed, one open appeal at a time.
pub async fn open_appeal(app: &crate::App, actor: &Actor, order_id: &str, input: OpenAppeal) -> AppResult<Appeal> {
    let order = app.store.order(order_id).await?.ok_or(AppError::NotFound)?;
    let party = party_check(app, actor, &order)
        .await?
        .ok_or_else(|| AppError::forbidden("only the buyer or the seller appeals"))?;
    let body = text_field("body", &input.body, 5_000)?;
    if input.attachment_ids.len() > 10 {
        return Err(AppError::invalid("attachment_ids", "at most 10 attachments"));
    }
    let now = lifebuoy_store::now_ms();
    may_appeal(&order, now)?;
    let lang = lang_of(actor);
    let guarded = crate::trust::guard(&body, lang);
    let order = ensure_conversation(app, &order, lang).await?;
    let a = app
        .store
        .open_appeal(
            &order,
            party,
            input.reason,
            &guarded.text,
            &input.attachment_ids,
            &actor.author(),
            now + ANSWER_WITHIN_MS,
            &[],
        )
        .await?;
    Ok(a)
}

/// The arbiter acting: an agent of the risk department with the `arbiter` permission.
async fn arbiter(app: &crate::App, actor: &Actor) -> AppResult<lifebuoy_store::Agent> {
    let Some(a) = actor.agent() else { return Err(AppError::forbidden("only arbiters work appeals")) };
    if !a.departments.iter().any(|d| d == "risk") || !app.store.agent_has_permission(&a.id, ARBITER).await? {
        return Err(AppError::forbidden("only arbiters (risk department, arbiter permission) work appeals"));
    }
    Ok(a.clone())
}

/// Whether the actor is an arbiter (risk department, `arbiter` permission): the console offers the arbiter's
/// forms only then.
pub async fn is_arbiter(app: &crate::App, actor: &Actor) -> AppResult<bool> {
    match arbiter(app, actor).await {
        Ok(_) => Ok(true),
        Err(AppError::Forbidden(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The arbiters' queue: the appeals that owe an answer, least time left first.
pub async fn queue(app: &crate::App, actor: &Actor, limit: i64) -> AppResult<Vec<QueuedAppeal>> {
    if !actor.oversees() {
        arbiter(app, actor).await?;
    }
    Ok(app.store.appeal_queue(limit.clamp(1, 500)).await?)
}

/// An appeal, for staff who may see its order (parties read it through their order).
pub async fn view_appeal(app: &crate::App, actor: &Actor, id: &str) -> AppResult<(Appeal, OrderView)> {
    let a = app.store.appeal(id).await?.ok_or(AppError::NotFound)?;
    let order = view_order(app, actor, &a.order_id).await?;
    Ok((a, order))
}

fn status_event(
    a: &Appeal,
    to: AppealStatus,
    party: Option<Party>,
    due_at: Option<i64>,
    reason: Option<&str>,
) -> Event {
    Event::AppealStatusChanged {
        appeal: a.id.clone(),
        from: a.status(),
        to,
        party,
        due_at,
        reason: reason.map(str::to_string),
    }
}

async fn load(app: &crate::App, id: &str) -> AppResult<Appeal> {
    app.store.appeal(id).await?.ok_or(AppError::NotFound)
}

fn check(a: &Appeal, to: AppealStatus) -> AppResult<()> {
    a.status().transition(to).map_err(|e| AppError::conflict("illegal_appeal_change", e.reason))?;
    Ok(())
}

/// An arbiter takes a submitted appeal into review.
pub async fn take(app: &crate::App, actor: &Actor, id: &str) -> AppResult<Appeal> {
    let me = arbiter(app, actor).await?;
    let a = load(app, id).await?;
    check(&a, AppealStatus::InReview)?;
    let mut ch = AppealChange::new(a.status(), AppealStatus::InReview);
    ch.queue_at = a.queue_at;
    ch.arbiter_id = Some(me.id.clone());
    ch.events.push(status_event(&a, AppealStatus::InReview, None, None, None));
    Ok(app.store.change_appeal(&a.id, &ch, &actor.author()).await?)
}

/// Asking a party for evidence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRequest {
    pub party: Party,
    /// What is needed, as the party reads it (a public message from the arbiter).
    pub note: String,
    /// Hours until the deadline (1–72; 24 when absent).
    #[serde(default)]
    pub hours: Option<i64>,
}

/// An arbiter asks a named party for evidence by a deadline; a job moves the appeal on when it passes.
pub async fn request_evidence(app: &crate::App, actor: &Actor, id: &str, r: EvidenceRequest) -> AppResult<Appeal> {
    let me = arbiter(app, actor).await?;
    let a = load(app, id).await?;
    check(&a, AppealStatus::AwaitingEvidence)?;
    let note = text_field("note", &r.note, 2_000)?;
    let hours = r.hours.unwrap_or(24);
    if !EVIDENCE_HOURS.contains(&hours) {
        return Err(AppError::invalid("hours", "between 1 and 72"));
    }
    let due = lifebuoy_store::now_ms() + hours * 3_600_000;
    let mut ch = AppealChange::new(a.status(), AppealStatus::AwaitingEvidence);
    ch.awaiting_party = Some(r.party);
    ch.evidence_due_at = Some(due);
    ch.queue_at = Some(due);
    ch.arbiter_id = Some(me.id.clone());
    ch.events.push(status_event(&a, AppealStatus::AwaitingEvidence, Some(r.party), Some(due), None));
    ch.message = Some(note);
    ch.jobs.push(
        NewJob::new(EVIDENCE_JOB, &json!({"appeal": a.id, "due_at": due}))
            .at(due)
            .key(format!("evidence-{}-{due}", a.id)),
    );
    Ok(app.store.change_appeal(&a.id, &ch, &actor.author()).await?)
}

#[derive(Deserialize)]
struct DeadlineJob {
    appeal: String,
    due_at: i64,
}

/// The `c2c.evidence_deadline` job: the party did not answer in time; the appeal goes back to review, first in
/// the queue, and the arbiter decides on what there is.
pub async fn run_deadline(app: &crate::App, job: Job, _ctx: JobContext) -> Result<JobOutcome, JobFailure> {
    let args: DeadlineJob = job.payload_as()?;
    let Some(a) = app.store.appeal(&args.appeal).await? else { return Ok(JobOutcome::done()) };
    // Evidence came, or a later request set another deadline: nothing to do.
    if a.status() != AppealStatus::AwaitingEvidence || a.evidence_due_at != Some(args.due_at) {
        return Ok(JobOutcome::done().record(json!({"appeal": a.id, "moved": false})));
    }
    let party = a.awaiting_party.as_deref().and_then(|p| Party::parse(p).ok());
    let mut ch = AppealChange::new(AppealStatus::AwaitingEvidence, AppealStatus::InReview);
    ch.queue_at = Some(lifebuoy_store::now_ms());
    ch.events.push(status_event(&a, AppealStatus::InReview, party, None, Some("deadline_passed")));
    match app.store.change_appeal(&a.id, &ch, &lifebuoy_store::Actor::System).await {
        Ok(_) => Ok(JobOutcome::done().record(json!({"appeal": a.id, "moved": true}))),
        Err(lifebuoy_store::StoreError::Conflict(_)) => {
            Ok(JobOutcome::done().record(json!({"appeal": a.id, "moved": false})))
        }
        Err(e) => Err(JobFailure::retry(e)),
    }
}

/// A decision with its written rationale.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideInput {
    pub decision: Decision,
    pub rationale: String,
}

/// Whether a decision on this order needs a second arbiter: its fiat amount is above the admins' threshold for
/// its currency.
pub async fn needs_four_eyes(app: &crate::App, order: &Order) -> AppResult<bool> {
    let limits = app.store.four_eyes().await?;
    Ok(limits.iter().any(|(cur, above)| {
        *cur == order.fiat_currency
            && lifebuoy_domain::appeal::cmp_amount(&order.fiat_amount, above) == Some(std::cmp::Ordering::Greater)
    }))
}

/// An arbiter decides. Above the four-eyes amount the decision is proposed (internal) and waits for a second
/// arbiter's approval; otherwise it is decided at once, and both parties (and the exchange) learn it.
pub async fn decide(app: &crate::App, actor: &Actor, id: &str, d: DecideInput) -> AppResult<Appeal> {
    let me = arbiter(app, actor).await?;
    let a = load(app, id).await?;
    let rationale = text_field("rationale", &d.rationale, 5_000)?;
    let order = app.store.order(&a.order_id).await?.ok_or(AppError::NotFound)?;
    let four_eyes = needs_four_eyes(app, &order).await?;
    let to = if four_eyes { AppealStatus::AwaitingApproval } else { AppealStatus::Decided };
    check(&a, to)?;
    let mut ch = AppealChange::new(a.status(), to);
    ch.arbiter_id = Some(me.id.clone());
    ch.decision = Some((d.decision, rationale.clone()));
    ch.decided_by = Some(me.id.clone());
    if four_eyes {
        ch.queue_at = Some(lifebuoy_store::now_ms() + ANSWER_WITHIN_MS);
        ch.events.push(Event::AppealDecisionProposed { appeal: a.id.clone(), decision: d.decision, rationale });
    } else {
        ch.events.push(status_event(&a, AppealStatus::Decided, None, None, None));
        ch.events.push(Event::AppealDecided {
            appeal: a.id.clone(),
            decision: d.decision,
            rationale,
            approved_by: None,
        });
    }
    Ok(app.store.change_appeal(&a.id, &ch, &actor.author()).await?)
}

/// The second arbiter's word on a proposed decision: approve (decided) or send back (in review). The arbiter who
/// proposed it cannot approve it.
pub async fn approve(app: &crate::App, actor: &Actor, id: &str, approved: bool) -> AppResult<Appeal> {
    let me = arbiter(app, actor).await?;
    let a = load(app, id).await?;
    if a.status() != AppealStatus::AwaitingApproval {
        return Err(AppError::conflict("illegal_appeal_change", "no decision awaits approval"));
    }
    if a.decided_by.as_deref() == Some(me.id.as_str()) {
        return Err(AppError::forbidden("four eyes: a second arbiter approves, not the one who proposed"));
    }
    let (Some(decision), Some(rationale)) = (a.decision(), a.rationale.clone()) else {
        return Err(AppError::conflict("illegal_appeal_change", "no decision awaits approval"));
    };
    let mut ch;
    if approved {
        ch = AppealChange::new(AppealStatus::AwaitingApproval, AppealStatus::Decided);
        ch.approved_by = Some(me.id.clone());
        ch.events.push(status_event(&a, AppealStatus::Decided, None, None, None));
        ch.events.push(Event::AppealDecided {
            appeal: a.id.clone(),
            decision,
            rationale,
            approved_by: Some(me.id.clone()),
        });
    } else {
        ch = AppealChange::new(AppealStatus::AwaitingApproval, AppealStatus::InReview);
        ch.queue_at = Some(lifebuoy_store::now_ms());
        ch.events.push(status_event(&a, AppealStatus::InReview, None, None, Some("approval_refused")));
    }
    Ok(app.store.change_appeal(&a.id, &ch, &actor.author()).await?)
}

/// The party who opened the appeal withdraws it, before a decision.
pub async fn withdraw(app: &crate::App, actor: &Actor, id: &str) -> AppResult<Appeal> {
    let a = load(app, id).await?;
    let order = app.store.order(&a.order_id).await?.ok_or(AppError::NotFound)?;
    let party = party_check(app, actor, &order).await?;
    if party.map(Party::as_str) != Some(a.opened_by.as_str()) {
        return Err(AppError::forbidden("only the party who opened the appeal withdraws it"));
    }
    check(&a, AppealStatus::Withdrawn)?;
    let mut ch = AppealChange::new(a.status(), AppealStatus::Withdrawn);
    ch.events.push(status_event(&a, AppealStatus::Withdrawn, party, None, None));
    Ok(app.store.change_appeal(&a.id, &ch, &actor.author()).await?)
}

/// An arbiter closes an executed appeal.
pub async fn close(app: &crate::App, actor: &Actor, id: &str) -> AppResult<Appeal> {
    arbiter(app, actor).await?;
    let a = load(app, id).await?;
    check(&a, AppealStatus::Closed)?;
    let mut ch = AppealChange::new(a.status(), AppealStatus::Closed);
    ch.events.push(status_event(&a, AppealStatus::Closed, None, None, None));
    Ok(app.store.change_appeal(&a.id, &ch, &actor.author()).await?)
}

/// Grants or takes back an agent's arbiter permission (admins).
pub async fn set_arbiter(app: &crate::App, actor: &Actor, agent_id: &str, granted: bool) -> AppResult<()> {
    if actor.agent().is_none_or(|a| a.role != lifebuoy_domain::Role::Admin) {
        return Err(AppError::forbidden("admins grant the arbiter permission"));
    }
    app.store.agent(agent_id).await?.ok_or(AppError::NotFound)?;
    Ok(app.store.set_agent_permission(agent_id, ARBITER, granted).await?)
}

/// Sets a currency's four-eyes threshold (admins, the exchange's integration); `None` removes it.
pub async fn set_four_eyes(app: &crate::App, actor: &Actor, currency: &str, above: Option<&str>) -> AppResult<()> {
    let admin = actor.agent().is_some_and(|a| a.role == lifebuoy_domain::Role::Admin);
    if !admin && !actor.speaks_for_exchange() {
        return Err(AppError::forbidden("admins set the four-eyes amount"));
    }
    let currency = text_field("currency", currency, 10)?.to_uppercase();
    let above = above.map(|v| lifebuoy_domain::appeal::parse_amount("above", v)).transpose()?;
    Ok(app.store.set_four_eyes(&currency, above.as_deref()).await?)
}

/// The four-eyes thresholds, per currency.
pub async fn four_eyes(app: &crate::App, actor: &Actor) -> AppResult<Vec<(String, String)>> {
    actor.require_staff()?;
    Ok(app.store.four_eyes().await?)
}
