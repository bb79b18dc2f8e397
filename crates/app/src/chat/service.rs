//! What happens in a chat, whichever connection it comes from: store first, then tell the hub. Every function
//! here is called by both the customer and the agent WebSocket handlers (and the HTTP API), so the rules live
//! in one place.

use super::bot;
use super::hub::{BusEvent, Control};
use super::protocol::ServerFrame;
use crate::Actor;
use crate::App;
use crate::error::AppError;
use lifebuoy_domain::{Category, Lang};
use lifebuoy_store::Actor as Author;
use lifebuoy_store::{
    Agent, Appended, AttachmentMeta, Chat, ChatState, Conversation, Customer, Event, Message, NewChat, TimelineItem,
};
use serde_json::{Value, json};

/// The longest message a chat takes, in characters.
pub const MAX_BODY: usize = 5000;

/// The frame of a message.
pub fn msg_frame(m: &Message, atts: &[AttachmentMeta]) -> Value {
    let name = match m.author_kind.as_str() {
        "agent" => m.author_name.clone(),
        _ => None,
    };
    let atts: Vec<Value> = atts
        .iter()
        .filter(|a| a.message_id.as_deref() == Some(m.id.as_str()))
        .map(|a| json!({"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}))
        .collect();
    json!({"type": "msg", "conversation_id": m.conversation_id, "seq": m.seq, "id": m.id,
        "author": {"kind": m.author_kind, "name": name, "agent_no": m.agent_no},
        "body": m.body, "internal": m.internal, "client_id": m.client_id, "attachments": atts, "at": m.created_at})
}

/// The frame of an event.
pub fn event_frame(e: &Event) -> Value {
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    json!({"type": "event", "conversation_id": e.conversation_id, "seq": e.seq, "kind": e.kind, "data": data,
        "actor": {"kind": e.actor_kind, "name": e.actor_name}, "internal": e.internal, "at": e.created_at})
}

/// A timeline item as a frame, with its sequence number and whether it is internal.
pub fn item_frame(item: &TimelineItem) -> (Value, i64, bool) {
    match item {
        TimelineItem::Message { message: m, attachments } => (msg_frame(m, attachments), m.seq, m.internal),
        TimelineItem::Event(e) => (event_frame(e), e.seq, e.internal),
    }
}

fn publish(
    state: &App,
    topic: String,
    conversation_id: Option<&str>,
    seq: Option<i64>,
    internal: bool,
    frame: &Value,
    control: Option<Control>,
) {
    state.hub.publish(BusEvent {
        topic,
        conversation_id: conversation_id.map(str::to_string),
        seq,
        internal,
        frame: frame.to_string().into(),
        control,
    });
}

/// Publishes a frame without a sequence number (typing, receipts) to a conversation's followers.
pub fn publish_hint(state: &App, conversation_id: &str, frame: &Value) {
    publish(state, format!("c:{conversation_id}"), Some(conversation_id), None, false, frame, None);
}

/// How a chat looks to its customer.
pub async fn chat_view(state: &App, c: &Conversation, ch: &Chat) -> Value {
    let agent = match (&c.assignee_id, ch.state()) {
        (Some(a), ChatState::Active | ChatState::Ended) => state
            .store
            .agent(a)
            .await
            .ok()
            .flatten()
            .map(|a| json!({"name": a.display_name, "agent_no": a.agent_no.as_str()})),
        _ => None,
    };
    let queue = if ch.state() == ChatState::Queued {
        state
            .store
            .queue_position(&c.id)
            .await
            .ok()
            .flatten()
            .map(|(p, est)| json!({"position": p, "est_wait_ms": est}))
    } else {
        None
    };
    json!({"conversation_id": c.id, "case_number": c.case_number, "state": ch.state, "topic": ch.topic,
        "agent": agent, "queue": queue, "last_seq": c.last_seq, "lang": c.lang, "started_at": c.created_at,
        "ended_at": ch.ended_at, "csat_score": ch.csat_score, "ticket_id": ch.ticket_id})
}

/// Whether any agent is online to take chats.
pub async fn agents_online(state: &App) -> bool {
    state.store.any_agent_online().await.unwrap_or(false)
}

/// Tells the customer's devices how their chat stands now.
pub async fn push_chat_state(state: &App, conversation_id: &str, control: Option<Control>) {
    let Ok(Some((c, ch))) = state.store.chat(conversation_id).await else { return };
    let view = chat_view(state, &c, &ch).await;
    let online = agents_online(state).await;
    let frame = ServerFrame::Chat { chat: view, agents_online: online }.to_value();
    publish(state, format!("k:{}", c.customer_id), Some(&c.id), None, false, &frame, control);
}

/// Tells agents' inboxes that a chat appeared or changed (its department, and its agent).
pub async fn push_inbox(state: &App, conversation_id: &str) {
    let Ok(Some(mut item)) = state.store.inbox_item(conversation_id).await else { return };
    if let Err(e) = crate::sla::stamp_chats(state, std::slice::from_mut(&mut item)).await {
        tracing::warn!(error = %e, conversation = conversation_id, "a chat's clock could not be read");
    }
    let frame = if item.state == "ended" {
        ServerFrame::InboxRemove { conversation_id: &item.conversation_id }.to_value()
    } else {
        ServerFrame::InboxUpdate { item: &item }.to_value()
    };
    publish(state, format!("d:{}", item.department_id), Some(&item.conversation_id), None, false, &frame, None);
    if let Some(a) = &item.assignee_id {
        publish(state, format!("a:{a}"), Some(&item.conversation_id), None, false, &frame, None);
    }
}

fn check_body(body: &str, attachments: &[String]) -> Result<String, AppError> {
    let body = body.trim_end().to_string();
    if body.trim().is_empty() && attachments.is_empty() {
        return Err(AppError::invalid("body", "write a message"));
    }
    if body.chars().count() > MAX_BODY {
        return Err(AppError::invalid("body", "at most 5000 characters"));
    }
    if attachments.len() > 10 {
        return Err(AppError::invalid("attachment_ids", "at most 10 files"));
    }
    Ok(body)
}

/// Checks a client's message id: 1 to 100 printable characters.
pub fn check_client_id(id: &str) -> Result<(), AppError> {
    if id.is_empty() || id.len() > 100 || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(AppError::invalid("client_id", "1 to 100 printable ASCII characters"));
    }
    Ok(())
}

/// The category and department a pre-chat topic points to.
pub fn topic_route(topic: Option<&str>) -> (Category, &'static str) {
    let cat = topic.and_then(|t| Category::parse(t).ok()).unwrap_or(Category::Other);
    (cat, lifebuoy_store::default_department(cat))
}

/// The customer's message: into their open chat, or the first of a new one. Then the bot takes its turn if the
/// chat is still with the bot.
#[allow(clippy::too_many_arguments)]
pub async fn customer_send(
    state: &App,
    customer: &Customer,
    known_open: Option<&str>,
    lang: Lang,
    topic: Option<&str>,
    client_id: &str,
    body: &str,
    attachments: &[String],
) -> Result<Appended, AppError> {
    check_client_id(client_id)?;
    let body = check_body(body, attachments)?;
    // The secret guard: the widget stops a pasted secret before it leaves the device; this is for every other
    // client (and a widget told to send anyway).
    let guarded = crate::trust::guard(&body, lang);
    let (body, hidden) = (guarded.text, guarded.kinds);
    let (category, department) = topic_route(topic);
    let actor = Author::Customer(customer.id.clone());
    // The connection usually knows the open chat already; a chat that has ended since refuses the message,
    // and then the database says which chat (if any) is open.
    let mut open = known_open.map(str::to_string);
    let mut looked_up = open.is_none();
    if looked_up {
        open = state.store.open_chat_state(&customer.id).await?.map(|(id, _)| id);
    }
    let a = loop {
        let Some(id) = &open else { break None };
        match state.store.append_chat_message(id, &actor, &body, false, Some(client_id), attachments).await {
            Ok(a) => break Some(a),
            Err(lifebuoy_store::StoreError::Conflict(lifebuoy_store::Conflict::ChatEnded)) if !looked_up => {
                looked_up = true;
                open = state.store.open_chat_state(&customer.id).await?.map(|(id, _)| id);
            }
            Err(e) => return Err(e.into()),
        }
    };
    let a = match a {
        Some(a) => a,
        None => {
            state
                .store
                .start_chat(&NewChat {
                    customer_id: customer.id.clone(),
                    lang,
                    department: department.into(),
                    category,
                    topic: topic.map(str::to_string),
                    body: body.clone(),
                    client_id: Some(client_id.into()),
                    attachment_ids: attachments.to_vec(),
                })
                .await?
        }
    };
    if a.duplicate {
        return Ok(a);
    }
    crate::trust::flag(state, &a.conversation.id, a.message.seq, &hidden).await?;
    let new_chat = a.message.seq == 1;
    if new_chat {
        push_chat_state(state, &a.conversation.id, Some(Control::Follow)).await;
    }
    // Context for the agent: an order id or a transaction hash in what the customer wrote.
    let (tx, order) = (bot::tx_hash(&body), bot::order_id(&body));
    if tx.is_some() || order.is_some() {
        let _ = state.store.chat_context(&a.conversation.id, None, order.as_deref(), tx.as_deref()).await;
    }
    match a.chat_state.unwrap_or(ChatState::Bot) {
        ChatState::Bot => {
            let st = state.clone();
            let (conv, text) = (a.conversation.clone(), body.clone());
            tokio::spawn(async move {
                if let Err(e) = bot_turn(&st, &conv, &text).await {
                    tracing::warn!(error = ?e, conversation = %conv.id, "bot turn failed");
                }
            });
        }
        ChatState::Queued => push_inbox(state, &a.conversation.id).await,
        _ => {}
    }
    Ok(a)
}

/// The bot's turn after a customer's message: hand over if asked, else answer from the knowledge base, and
/// hand over after the second question it cannot answer.
async fn bot_turn(state: &App, conv: &Conversation, text: &str) -> Result<(), AppError> {
    let lang = Lang::parse(&conv.lang).unwrap_or(Lang::ZhHans);
    if bot::wants_human(text) {
        return handover_as(state, &conv.id, &Author::Customer(conv.customer_id.clone()), "asked").await;
    }
    // A live announcement about what the customer asks (the chat's topic, or the question's words) comes
    // first, once a chat: "BTC withdrawals are delayed" answers "where is my BTC" before any article.
    let topic = lifebuoy_domain::Category::parse(&conv.category)
        .ok()
        .filter(|c| *c != lifebuoy_domain::Category::Other)
        .or_else(|| bot::topic_of(text));
    let notices = crate::announcements::about(state, topic, lang).await?;
    if let Some(line) = crate::announcements::bot_line(lang, &notices) {
        let said = state.store.timeline(&conv.id, false).await?.iter().any(|i| match i {
            lifebuoy_store::TimelineItem::Message { message, .. } => {
                message.author_kind == "bot" && message.body == line
            }
            _ => false,
        });
        if !said {
            bot_say(state, &conv.id, &line).await?;
        }
    }
    let kb = state.kb.clone();
    let (q, l) = (text.to_string(), lang.as_str().to_string());
    let answers = tokio::task::spawn_blocking(move || kb.answer(&q, Some(&l)))
        .await
        .map_err(|_| AppError::Unavailable("bot aborted".into()))?
        .unwrap_or_default();
    if !answers.is_empty() {
        let found: Vec<bot::Suggestion> = answers
            .iter()
            .take(3)
            .map(|a| bot::Suggestion { title: a.title.clone(), url: crate::article_url(&a.lang, &a.slug) })
            .collect();
        bot_say(state, &conv.id, &bot::answer_text(lang, &found)).await?;
        return Ok(());
    }
    let misses = state.store.chat_bot_missed(&conv.id).await?;
    if misses >= 2 {
        handover_as(state, &conv.id, &Author::Bot, "bot_no_answer").await
    } else {
        bot_say(state, &conv.id, bot::no_answer_text(lang)).await.map(|_| ())
    }
}

/// A message from the bot.
async fn bot_say(state: &App, conversation_id: &str, text: &str) -> Result<Message, AppError> {
    let a = state.store.append_chat_message(conversation_id, &Author::Bot, text, false, None, &[]).await?;
    Ok(a.message)
}

/// Loads a chat the actor may see: another customer's chat, a chat outside an agent's departments, or a
/// conversation that is not a chat answers [`AppError::NotFound`].
pub async fn visible_chat(state: &App, actor: &Actor, conversation_id: &str) -> Result<Conversation, AppError> {
    match state.store.conversation(conversation_id).await? {
        Some(c) if c.kind == "chat" && actor.scope().permits(&c) => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

/// A chat and its timeline as protocol frames, for whoever may see it (internal notes and events for staff
/// only): the widget's and the console's transcript.
pub async fn transcript(state: &App, actor: &Actor, conversation_id: &str) -> Result<(Value, Vec<Value>), AppError> {
    let c = visible_chat(state, actor, conversation_id).await?;
    let (_, ch) = state.store.chat(&c.id).await?.ok_or(AppError::NotFound)?;
    let items = state.store.timeline(&c.id, actor.scope().sees_internal()).await?;
    let frames: Vec<Value> = items.iter().map(|i| item_frame(i).0).collect();
    Ok((chat_view(state, &c, &ch).await, frames))
}

/// A customer rates one of their ended chats (1–5, an optional comment; rating again replaces it). Another
/// customer's chat is `NotFound`, as if it did not exist.
pub async fn rate(
    state: &App,
    actor: &Actor,
    conversation_id: &str,
    score: i64,
    comment: Option<&str>,
) -> Result<(), AppError> {
    let Actor::Customer(customer) = actor else {
        return Err(AppError::forbidden("customers rate their chats"));
    };
    let c = visible_chat(state, actor, conversation_id).await?;
    state.store.rate_chat(&c.id, &customer.id, score, comment).await?;
    Ok(())
}

/// Speaking for the support desk in a chat (a public reply, ending it, transferring it, turning it into a
/// ticket) is for the agent it is assigned to, and for supervisors, admins and the system. Others in the
/// department may still read it and write internal notes.
pub fn require_holder(actor: &Actor, c: &Conversation) -> Result<(), AppError> {
    if actor.oversees() {
        return Ok(());
    }
    match actor.agent() {
        Some(a) if c.assignee_id.as_deref() == Some(a.id.as_str()) => Ok(()),
        Some(_) => Err(AppError::forbidden("take the chat first")),
        None => Err(AppError::forbidden("agents only")),
    }
}

/// A customer asks for a human (or an agent hands the chat back to the queue from the bot).
pub async fn handover(state: &App, actor: &Actor, conversation_id: &str, reason: &str) -> Result<(), AppError> {
    let c = visible_chat(state, actor, conversation_id).await?;
    handover_as(state, &c.id, &actor.author(), reason).await
}

/// From the bot to the human queue: the bot asks for context, then the chat is routed (or waits, and the
/// customer is told when nobody is online).
async fn handover_as(state: &App, conversation_id: &str, author: &Author, reason: &str) -> Result<(), AppError> {
    let Some(c) = state.store.chat_handover(conversation_id, author, reason).await? else { return Ok(()) };
    let lang = Lang::parse(&c.lang).unwrap_or(Lang::ZhHans);
    let have_context = c.order_id.is_some() || c.tx_hash.is_some();
    bot_say(state, conversation_id, bot::handover_text(lang, have_context)).await?;
    if route(state, conversation_id).await?.is_none() {
        if !agents_online(state).await {
            bot_say(state, conversation_id, bot::nobody_online_text(lang)).await?;
        }
        push_inbox(state, conversation_id).await;
        push_chat_state(state, conversation_id, None).await;
    }
    Ok(())
}

/// Routes a queued chat to an agent; on success tells the agent, the inboxes and the customer.
pub async fn route(state: &App, conversation_id: &str) -> Result<Option<String>, AppError> {
    let Some(agent) = state.store.route_chat(conversation_id).await? else { return Ok(None) };
    after_assignment(state, conversation_id, &agent, None).await;
    Ok(Some(agent))
}

async fn after_assignment(state: &App, conversation_id: &str, agent: &str, previous: Option<&str>) {
    let frame = ServerFrame::Assigned { conversation_id }.to_value();
    publish(state, format!("a:{agent}"), Some(conversation_id), None, false, &frame, Some(Control::Follow));
    if let Some(p) = previous.filter(|p| *p != agent) {
        let frame = ServerFrame::InboxRemove { conversation_id }.to_value();
        publish(state, format!("a:{p}"), Some(conversation_id), None, false, &frame, Some(Control::Unfollow));
    }
    push_inbox(state, conversation_id).await;
    push_chat_state(state, conversation_id, None).await;
}

/// Offers waiting chats to agents with room (after an agent comes online or finishes a chat).
pub async fn drain_queue(state: &App) {
    let Ok(queued) = state.store.queued_chats().await else { return };
    for id in queued {
        match route(state, &id).await {
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, conversation = %id, "routing failed"),
        }
    }
}

/// The safety net under event-driven routing: every few seconds, when some online agent has room, queued
/// chats are offered again (a chat whose routing was interrupted by a crash, an agent who freed room on
/// another node). Routing is one transaction per chat, so several nodes sweeping at once is harmless.
pub async fn sweep_queue(state: App) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if state.store.any_agent_with_room().await.unwrap_or(false) {
            drain_queue(&state).await;
        }
    }
}

/// An agent takes a chat from the queue (`agent_id` = the actor, `reassign` false), or a supervisor gives it
/// to someone (`reassign` true: also away from the agent holding it). Taking a chat someone else holds is
/// [`AppError::Conflict`] `chat_taken`.
pub async fn assign(
    state: &App,
    actor: &Actor,
    conversation_id: &str,
    agent_id: &str,
    reassign: bool,
) -> Result<(), AppError> {
    let before = visible_chat(state, actor, conversation_id).await?;
    let for_self = actor.agent().is_some_and(|a| a.id == agent_id);
    if (reassign || !for_self) && !actor.oversees() {
        return Err(AppError::forbidden("supervisors assign chats"));
    }
    if state.store.agent(agent_id).await?.filter(|a| a.active).is_none() {
        return Err(AppError::invalid("agent_id", "no such agent"));
    }
    if state.store.assign_chat(conversation_id, agent_id, &actor.author(), reassign).await? {
        after_assignment(state, conversation_id, agent_id, before.assignee_id.as_deref()).await;
        Ok(())
    } else if reassign {
        Ok(())
    } else {
        Err(AppError::conflict("chat_taken", "someone else took this chat"))
    }
}

/// An agent's reply or internal note. A public reply is for the agent the chat is assigned to (or a
/// supervisor); a note may be written by anyone who sees the chat.
pub async fn agent_send(
    state: &App,
    actor: &Actor,
    conversation_id: &str,
    client_id: &str,
    body: &str,
    internal: bool,
    attachments: &[String],
) -> Result<Appended, AppError> {
    check_client_id(client_id)?;
    let body = check_body(body, attachments)?;
    let agent: &Agent = actor.agent().ok_or_else(|| AppError::forbidden("agents only"))?;
    let c = visible_chat(state, actor, conversation_id).await?;
    if !internal {
        require_holder(actor, &c)?;
    }
    let guarded = crate::trust::guard(&body, Lang::parse(&c.lang).unwrap_or(Lang::ZhHans));
    let a = state
        .store
        .append_chat_message(
            conversation_id,
            &Author::Agent(agent.id.clone()),
            &guarded.text,
            internal,
            Some(client_id),
            attachments,
        )
        .await?;
    if !a.duplicate {
        crate::trust::flag(state, conversation_id, a.message.seq, &guarded.kinds).await?;
    }
    Ok(a)
}

/// Ends a chat (its customer, the agent holding it, or a supervisor); the agent's capacity frees up, so
/// waiting chats are offered again.
pub async fn end(state: &App, actor: &Actor, conversation_id: &str) -> Result<(), AppError> {
    let before = visible_chat(state, actor, conversation_id).await?;
    if actor.customer().is_none() {
        require_holder(actor, &before)?;
    }
    if state.store.end_chat(conversation_id, &actor.author()).await?.is_some() {
        push_inbox(state, conversation_id).await;
        push_chat_state(state, conversation_id, None).await;
        let st = state.clone();
        tokio::spawn(async move { drain_queue(&st).await });
    }
    Ok(())
}

/// Back to a department's queue with a note for the next agent (the agent holding it, or a supervisor).
pub async fn transfer(
    state: &App,
    actor: &Actor,
    conversation_id: &str,
    department: &str,
    note: &str,
) -> Result<(), AppError> {
    let before = visible_chat(state, actor, conversation_id).await?;
    require_holder(actor, &before)?;
    state.store.transfer_chat(conversation_id, department, note, &actor.author()).await?;
    if let Some(p) = &before.assignee_id {
        let frame = ServerFrame::InboxRemove { conversation_id }.to_value();
        publish(state, format!("a:{p}"), Some(conversation_id), None, false, &frame, Some(Control::Unfollow));
    }
    if route(state, conversation_id).await?.is_none() {
        push_inbox(state, conversation_id).await;
        push_chat_state(state, conversation_id, None).await;
    }
    Ok(())
}

/// A chat's public messages as the first message of the ticket made from it, labelled in the chat's language
/// (the customer reads it in the portal): `[2026-11-29 08:01:02 UTC] 客户: …`.
pub fn transcript_text(lang: Lang, case: &str, items: &[TimelineItem]) -> String {
    let (customer, bot, agent, title) = match lang {
        Lang::ZhHans => ("客户", "机器人", "客服", format!("在线咨询 {case} 的聊天记录")),
        Lang::ZhHant => ("客戶", "機器人", "客服", format!("線上諮詢 {case} 的聊天紀錄")),
        Lang::En => ("Customer", "Bot", "Agent", format!("Chat {case} transcript")),
    };
    let mut out = format!("{title}:\n\n");
    for it in items {
        if let TimelineItem::Message { message: m, .. } = it {
            if m.internal {
                continue;
            }
            let who = match m.author_kind.as_str() {
                "customer" => customer.to_string(),
                "bot" => bot.to_string(),
                "agent" => {
                    format!(
                        "{} {}",
                        m.author_name.as_deref().unwrap_or(agent),
                        m.agent_no.as_deref().unwrap_or_default()
                    )
                }
                other => other.to_string(),
            };
            let at = chrono::DateTime::from_timestamp_millis(m.created_at)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
            out.push_str(&format!("[{at}] {}: {}\n", who.trim(), m.body));
        }
    }
    out
}

/// Turns a chat into a ticket carrying its transcript (the agent holding it, or a supervisor).
pub async fn to_ticket(state: &App, actor: &Actor, conversation_id: &str) -> Result<Conversation, AppError> {
    let before = visible_chat(state, actor, conversation_id).await?;
    require_holder(actor, &before)?;
    let items = state.store.timeline(conversation_id, false).await?;
    let lang = Lang::parse(&before.lang).unwrap_or(Lang::En);
    let body = transcript_text(lang, before.case_number.as_deref().unwrap_or(&before.id), &items);
    let t = state.store.chat_to_ticket(conversation_id, &actor.author(), &body).await?;
    push_chat_state(state, conversation_id, None).await;
    Ok(t)
}

/// The widget's out-of-hours form: the customer's message becomes a ticket (tagged `chat-offline`), with the
/// order id or transaction hash found in it, and the address to answer if it differs from the customer's.
pub async fn offline_message(
    state: &App,
    actor: &Actor,
    body: &str,
    reply_to: Option<&str>,
    topic: Option<&str>,
) -> Result<Conversation, AppError> {
    let Actor::Customer(customer) = actor else { return Err(AppError::forbidden("customers only")) };
    let text = crate::tickets::text_field("body", body, 5000)?;
    let reply_to = reply_to.map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = reply_to {
        lifebuoy_domain::Email::parse(e).map_err(|e| AppError::invalid("email", e))?;
    }
    let (category, _) = topic_route(topic);
    let subject: String = text.lines().next().unwrap_or("").chars().take(80).collect();
    let input = crate::tickets::CreateTicket {
        subject,
        body: match reply_to {
            Some(e) if customer.email.as_deref() != Some(e) => format!("{text}\n\n(reply to: {e})"),
            _ => text,
        },
        category,
        priority: None,
        department: None,
        lang: customer.lang.clone(),
        order_id: bot::order_id(body),
        tx_hash: bot::tx_hash(body),
        asset: None,
        amount: None,
        tags: vec![],
        attachment_ids: vec![],
        customer: None,
    };
    let (t, _) = crate::tickets::create_tagged(state, actor, input, None, &["chat-offline"]).await?;
    Ok(t)
}
