//! Tickets: filing one (for oneself, or for a customer on their behalf), seeing one, replying, changing its
//! status, and the staff's actions (assign, transfer, escalate, merge, update). The API and the pages call
//! these with the [`Actor`] they authenticated; every rule of who may do what is checked here.

use crate::{Actor, AppError, AppResult};
use lifebuoy_domain::{CaseNumber, Category, ConversationKind, Lang, Priority, Status};
use lifebuoy_store::{Conversation, NewTicket, ReplyOutcome, ReplyParts, TicketChange};
use serde::{Deserialize, Serialize};

/// A new ticket, as a customer's form or the API sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    pub subject: String,
    pub body: String,
    pub category: Category,
    /// Staff's (or the exchange's integration's) triage field: a customer who sends it is refused.
    pub priority: Option<Priority>,
    /// Staff's triage field, like `priority`.
    pub department: Option<String>,
    pub lang: Option<String>,
    pub order_id: Option<String>,
    pub tx_hash: Option<String>,
    pub asset: Option<String>,
    pub amount: Option<String>,
    /// Staff's triage field, like `priority`.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// Staff only: the customer the case is for, as the exchange knows them.
    pub customer: Option<OnBehalfOf>,
}

/// The customer a member of staff files a ticket for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnBehalfOf {
    pub external_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub lang: Option<String>,
}

/// A ticket as the API shows it.
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub tags: Vec<String>,
    /// The case's clocks (issue 13), for kinds that carry them.
    pub sla: Option<crate::sla::SlaView>,
}

/// A message on a ticket.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
    /// Staff only: a status to move to after the reply (e.g. `pending`, `solved`).
    pub status: Option<Status>,
}

/// The fields staff may change on a ticket.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicket {
    pub priority: Option<Priority>,
    pub category: Option<Category>,
    pub tags: Option<Vec<String>>,
    pub order_id: Option<String>,
    pub tx_hash: Option<String>,
    pub asset: Option<String>,
    pub amount: Option<String>,
}

/// The staff actions of the console, one enum so pages and API share them.
pub enum StaffAction {
    /// An agent id, `"me"`, or none to unassign.
    Assign(Option<String>),
    Transfer {
        department: String,
        reason: String,
    },
    Escalate {
        reason: String,
    },
    /// The id or case number of the case to merge into.
    Merge {
        into: String,
    },
    Update(UpdateTicket),
}

/// A required text field, trimmed, at most `max` characters.
pub fn text_field(field: &'static str, v: &str, max: usize) -> AppResult<String> {
    let v = v.trim();
    if v.is_empty() {
        return Err(AppError::invalid(field, "is required"));
    }
    if v.chars().count() > max {
        return Err(AppError::invalid(field, format!("at most {max} characters")));
    }
    Ok(v.to_string())
}

fn optional_field(field: &'static str, v: Option<String>, max: usize) -> AppResult<Option<String>> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => Err(AppError::invalid(field, format!("at most {max} characters"))),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// An idempotency key with the hash of the request it came with.
pub type Idempotency<'a> = Option<(&'a str, &'a str)>;

/// Files a ticket: validation, on-behalf-of for staff, idempotency. Returns the ticket and whether it is new.
///
/// Customers file for themselves and choose the category and the exchange's references; priority, department
/// and tags are staff's. Staff filing for a customer may introduce one the desk has not seen yet, but never
/// change an existing customer's email or name: only the exchange's signed token or its integration token
/// speaks for who a customer is.
pub async fn create(
    app: &crate::App,
    actor: &Actor,
    input: CreateTicket,
    idem: Idempotency<'_>,
) -> AppResult<(Conversation, bool)> {
    create_tagged(app, actor, input, idem, &[]).await
}

/// [`create`], with tags a channel adds to what it files (the chat's out-of-hours form marks its tickets
/// `chat-offline`): the desk's own marks, not the customer's choice.
pub(crate) async fn create_tagged(
    app: &crate::App,
    actor: &Actor,
    mut input: CreateTicket,
    idem: Idempotency<'_>,
    channel_tags: &[&str],
) -> AppResult<(Conversation, bool)> {
    let subject = text_field("subject", &input.subject, 200)?;
    let body = text_field("body", &input.body, 20_000)?;
    let customer = match (actor, input.customer.take()) {
        (Actor::Customer(c), None) => {
            if input.priority.is_some() {
                return Err(AppError::forbidden("priority is set by the support team"));
            }
            if input.department.is_some() {
                return Err(AppError::forbidden("the department is chosen by the support team; pick a category"));
            }
            if !input.tags.is_empty() {
                return Err(AppError::forbidden("tags are set by the support team"));
            }
            c.clone()
        }
        (Actor::Customer(_), Some(_)) => return Err(AppError::forbidden("customers file tickets for themselves")),
        (_, Some(o)) => {
            let external_id = text_field("customer.external_id", &o.external_id, 128)?;
            let email = optional_field("customer.email", o.email, 254)?;
            if let Some(e) = &email {
                lifebuoy_domain::Email::parse(e).map_err(|e| AppError::invalid("customer.email", e))?;
            }
            let name = optional_field("customer.name", o.name, 100)?;
            let lang = o.lang.as_deref().and_then(Lang::from_tag).map(|l| l.as_str());
            if actor.speaks_for_exchange() {
                app.store.upsert_exchange_customer(&external_id, email.as_deref(), name.as_deref(), lang).await?
            } else {
                app.store.exchange_customer_or_insert(&external_id, email.as_deref(), name.as_deref(), lang).await?
            }
        }
        (_, None) => return Err(AppError::invalid("customer", "staff must say which customer the ticket is for")),
    };
    let lang = input.lang.as_deref().or(customer.lang.as_deref()).and_then(Lang::from_tag).unwrap_or(Lang::ZhHans);
    if input.attachment_ids.len() > 10 {
        return Err(AppError::invalid("attachment_ids", "at most 10 attachments"));
    }
    input.tags.extend(channel_tags.iter().map(|t| t.to_string()));
    // The secret guard: a recovery phrase, a key or a password never reaches the store.
    let (subject, body) = (crate::trust::guard(&subject, lang), crate::trust::guard(&body, lang));
    let mut hidden: Vec<_> = subject.kinds.iter().chain(&body.kinds).copied().collect();
    hidden.sort();
    hidden.dedup();
    if !hidden.is_empty() {
        input.tags.push(crate::trust::SECRET_TAG.into());
    }
    let (subject, body) = (subject.text, body.text);
    let t = NewTicket {
        kind: ConversationKind::Ticket,
        customer_id: customer.id.clone(),
        subject,
        body,
        category: input.category,
        priority: input.priority.unwrap_or(Priority::Normal),
        department: input.department,
        lang,
        order_id: optional_field("order_id", input.order_id, 100)?,
        tx_hash: optional_field("tx_hash", input.tx_hash, 200)?,
        asset: optional_field("asset", input.asset, 20)?,
        amount: optional_field("amount", input.amount, 40)?,
        tags: input.tags,
        attachment_ids: input.attachment_ids,
    };
    let key = actor.key();
    let idem = idem.map(|(k, h)| (key.as_str(), k, h));
    let (c, new) = app.store.create_ticket(&t, &actor.author(), idem).await?;
    if new {
        crate::trust::flag(app, &c.id, 1, &hidden).await?;
        crate::sla::refresh_after(app, &c, Some(&[])).await;
        crate::ticket_routing::route_soon(app, &c);
    }
    Ok((c, new))
}

/// Loads a ticket the actor may see, by id or case number; anything else is [`AppError::NotFound`], never
/// forbidden, so ids of other customers' tickets cannot be probed.
pub async fn visible(app: &crate::App, actor: &Actor, id: &str) -> AppResult<Conversation> {
    let c = if id.to_ascii_uppercase().starts_with("LB-") {
        match CaseNumber::parse(id) {
            Ok(cn) => app.store.conversation_by_case(&cn).await?,
            Err(_) => None,
        }
    } else if id.len() <= 64 {
        app.store.conversation(id).await?
    } else {
        None
    };
    match c {
        // A deleted conversation is gone for its customer at once; staff still open it (to restore it).
        Some(c) if actor.customer().is_some() && app.store.deletion_state(&c.id).await?.deleted_at.is_some() => {
            Err(AppError::NotFound)
        }
        Some(c) if actor.scope().permits(&c) => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

/// A ticket with its tags and clocks.
pub async fn view(app: &crate::App, c: Conversation) -> AppResult<TicketView> {
    view_with(app, c, None).await
}

/// [`view`], with the timeline when the caller has read it already (the clocks read it).
pub async fn view_with(
    app: &crate::App,
    c: Conversation,
    timeline: Option<&[lifebuoy_store::TimelineItem]>,
) -> AppResult<TicketView> {
    let tags = app.store.tags(&c.id).await?;
    let sla = crate::sla::view(app, &c, timeline).await?;
    Ok(TicketView { conversation: c, tags, sla })
}

/// Posts a message on a visible ticket, then the optional status change (staff only).
pub async fn reply(
    app: &crate::App,
    actor: &Actor,
    c: &Conversation,
    m: NewMessage,
    idem: Idempotency<'_>,
) -> AppResult<ReplyOutcome> {
    let body = text_field("body", &m.body, 20_000)?;
    let lang = Lang::parse(&c.lang).unwrap_or(Lang::ZhHans);
    let guarded = crate::trust::guard(&body, lang);
    let (body, hidden) = (guarded.text, guarded.kinds);
    if m.internal && !actor.is_staff() {
        return Err(AppError::forbidden("only agents write internal notes"));
    }
    if m.status.is_some() && !actor.is_staff() {
        return Err(AppError::forbidden("customers change status with the \"my problem is solved\" button"));
    }
    if m.attachment_ids.len() > 10 {
        return Err(AppError::invalid("attachment_ids", "at most 10 attachments"));
    }
    let key = actor.key();
    let idem = idem.map(|(k, h)| (key.as_str(), k, h));
    let author = actor.author();
    // The reply and the status it sets commit together: a refused status change loses no reply, and a reply
    // that fails leaves the status as it was.
    let parts = ReplyParts {
        body: &body,
        internal: m.internal,
        attachment_ids: &m.attachment_ids,
        client_id: None,
        status: m.status,
        mail: None,
    };
    let out = app.store.reply_with_status(&c.id, &author, &parts, idem).await?;
    if !hidden.is_empty() {
        let (ReplyOutcome::Added { message, .. } | ReplyOutcome::FollowUp { message, .. }) = &out;
        crate::trust::flag(app, &message.conversation_id, message.seq, &hidden).await?;
    }
    let (ReplyOutcome::Added { conversation, .. } | ReplyOutcome::FollowUp { conversation, .. }) = &out;
    crate::sla::refresh_after(app, conversation, None).await;
    Ok(out)
}

/// Changes a visible ticket's status: customers may only mark their open case solved.
pub async fn set_status(app: &crate::App, actor: &Actor, c: &Conversation, to: Status) -> AppResult<Conversation> {
    if !actor.is_staff() && !c.status().customer_may_set(to) {
        return Err(AppError::forbidden("customers can only mark an open case as solved"));
    }
    let c = app.store.change_ticket(&c.id, &TicketChange::Status(to), &actor.author()).await?;
    crate::sla::refresh_after(app, &c, None).await;
    Ok(c)
}

/// Runs a staff action on a visible ticket.
pub async fn staff_action(
    app: &crate::App,
    actor: &Actor,
    c: &Conversation,
    action: StaffAction,
) -> AppResult<Conversation> {
    actor.require_staff()?;
    let author = actor.author();
    let change = match action {
        StaffAction::Assign(a) => {
            let a = match a.as_deref().map(str::trim) {
                Some("me") => Some(
                    actor.agent().ok_or_else(|| AppError::invalid("assignee_id", "`me` is for agents"))?.id.clone(),
                ),
                Some("") | None => None,
                Some(x) => Some(x.to_string()),
            };
            TicketChange::Assign(a)
        }
        StaffAction::Transfer { department, reason } => TicketChange::Transfer { department, reason },
        StaffAction::Escalate { reason } => TicketChange::Escalate { reason },
        StaffAction::Merge { into } => {
            let target =
                visible(app, actor, into.trim()).await.map_err(|_| AppError::invalid("into", "no such case"))?;
            return Ok(app.store.merge_ticket(&c.id, &target.id, &author).await?);
        }
        StaffAction::Update(u) => TicketChange::Update {
            priority: u.priority,
            category: u.category,
            tags: u.tags,
            order_id: u.order_id,
            tx_hash: u.tx_hash,
            asset: u.asset,
            amount: u.amount,
        },
    };
    let c = app.store.change_ticket(&c.id, &change, &author).await?;
    // A new priority or category can put the case under another policy.
    crate::sla::refresh_after(app, &c, None).await;
    Ok(c)
}
