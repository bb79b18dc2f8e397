//! The two WebSocket endpoints: `/ws/chat` for customers (the widget) and `/ws/console` for agents. Each
//! connection is one task that reads frames, writes frames, and forwards what the hub tells it; see
//! `docs/chat-protocol.md` for the frames and the resume rules.

use super::hub::{BusEvent, Control, Inbox};
use super::service::{self, item_frame};
use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::extract::ws::{Message as WsMsg, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use lifebuoy_app::AppError;
use lifebuoy_app::chat::ServerFrame;
use lifebuoy_domain::Lang;
use lifebuoy_store::{Agent, Customer, Principal, Scope, Side};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;

type Sink = SplitSink<WebSocket, WsMsg>;

/// How long a new connection may take to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a connection checks, on its own, whether it fell behind. Lag is normally caught at once (when a
/// connection drains an inbox that overflowed); this is only the backstop, kept rare because ten thousand
/// connections each waking every second is ten thousand task polls a second.
const TICK: Duration = Duration::from_secs(30);
/// Largest frame a client may send.
const MAX_FRAME: usize = 64 * 1024;

fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    // Small buffers: ten thousand idle connections must not cost a gigabyte. The read buffer is allocated
    // whole for every connection and kept; a chat frame is a few hundred bytes, and a longer one (up to
    // MAX_FRAME) grows it as needed.
    ws.read_buffer_size(1024).write_buffer_size(0).max_write_buffer_size(4 * 1024 * 1024).max_message_size(MAX_FRAME)
}

/// A use case's error as the chat protocol's `error` frame (codes in `docs/chat-protocol.md`), its message in
/// the language of the person who sees it.
fn error_frame(e: &AppError, lang: Lang, client_id: Option<&str>) -> Value {
    let code = match e {
        AppError::NotFound => "not_found",
        AppError::Forbidden(_) => "forbidden",
        AppError::Invalid { .. } | AppError::Domain(_) | AppError::File { .. } => "invalid",
        AppError::IllegalStatus(_) | AppError::Conflict { .. } => "conflict",
        AppError::RateLimited { .. } => "rate_limited",
        AppError::Unauthenticated { .. } => "unauthorized",
        AppError::Unavailable(_) => "unavailable",
    };
    ServerFrame::Error { code, message: crate::error::human_message(lang, e), client_id }.to_value()
}

/// The connection closed while a frame was being handled.
fn closed() -> AppError {
    AppError::Unavailable("connection closed".into())
}

/// What a connection follows and how far it has sent each conversation.
struct Conn {
    state: AppState,
    inbox: Inbox,
    /// conversation id → (last seq sent, subscription id)
    follows: HashMap<String, (i64, u64)>,
    /// Other topics (`k:`, `a:`, `d:`) → subscription id.
    topics: Vec<(String, u64)>,
    /// Agents see internal notes and events; customers never do.
    sees_internal: bool,
    /// A customer's open chat as this connection last saw it: spares the message path a read. Only a hint:
    /// a chat that has ended since refuses the message and the store is asked again.
    open_chat: Option<String>,
    /// The language its error messages are written in.
    lang: Lang,
}

impl Conn {
    fn new(state: AppState, sees_internal: bool, lang: Lang) -> (Conn, mpsc::Receiver<Arc<BusEvent>>) {
        let (inbox, rx) = Inbox::new();
        state.hub.count_connection(1);
        (Conn { state, inbox, follows: HashMap::new(), topics: vec![], sees_internal, open_chat: None, lang }, rx)
    }

    fn listen(&mut self, topic: String) {
        let id = self.state.hub.subscribe(&topic, &self.inbox);
        self.topics.push((topic, id));
    }

    /// Follows a conversation and sends what is stored after `after`. Subscribes first, so nothing stored
    /// meanwhile can slip between the read and the live feed (duplicates are dropped by sequence).
    async fn follow(&mut self, sink: &mut Sink, cid: &str, after: i64) -> Result<(), axum::Error> {
        match self.follows.get_mut(cid) {
            Some((last, _)) => {
                // Already following: a resume from further back resends from there.
                if after < *last {
                    *last = after;
                }
            }
            None => {
                let sub = self.state.hub.subscribe(&format!("c:{cid}"), &self.inbox);
                self.follows.insert(cid.to_string(), (after, sub));
            }
        }
        self.catch_up(sink, cid).await
    }

    fn unfollow(&mut self, cid: &str) {
        if let Some((_, sub)) = self.follows.remove(cid) {
            self.state.hub.unsubscribe(&format!("c:{cid}"), sub);
        }
    }

    /// Sends everything stored on a followed conversation after what this connection has sent.
    async fn catch_up(&mut self, sink: &mut Sink, cid: &str) -> Result<(), axum::Error> {
        let Some((last, _)) = self.follows.get(cid).copied() else { return Ok(()) };
        let items = match self.state.store.timeline_after(cid, self.sees_internal, last).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, conversation = %cid, "catch-up read failed; will retry on the next frame");
                return Ok(());
            }
        };
        let mut max = last;
        for it in &items {
            let (frame, seq, _) = item_frame(it);
            send(sink, &frame).await?;
            max = max.max(seq);
        }
        if let Some(f) = self.follows.get_mut(cid) {
            f.0 = f.0.max(max);
        }
        Ok(())
    }

    /// Forwards a hub event: in sequence for conversation frames (filling gaps from the database), as is for
    /// the rest. Returns the control instruction, if any, for the caller to act on.
    async fn forward(&mut self, sink: &mut Sink, ev: &BusEvent) -> Result<(), axum::Error> {
        if ev.internal && !self.sees_internal {
            return Ok(());
        }
        match (&ev.conversation_id, ev.seq) {
            (Some(cid), Some(seq)) => {
                let Some((last, _)) = self.follows.get(cid).copied() else { return Ok(()) };
                if seq <= last {
                    return Ok(());
                }
                if seq > last + 1 {
                    // A gap: fill it (and this frame) from the database.
                    return self.catch_up(sink, cid).await;
                }
                sink.send(WsMsg::Text(ev.frame.as_ref().into())).await?;
                if let Some(f) = self.follows.get_mut(cid) {
                    f.0 = seq;
                }
                Ok(())
            }
            _ => {
                // A frame about a conversation this connection does not follow is only for inbox topics.
                if ev.topic.starts_with("c:")
                    && ev.conversation_id.as_ref().is_some_and(|c| !self.follows.contains_key(c))
                {
                    return Ok(());
                }
                sink.send(WsMsg::Text(ev.frame.as_ref().into())).await
            }
        }
    }

    /// After lag, everything followed is brought up to date from the database.
    async fn recover(&mut self, sink: &mut Sink) -> Result<bool, axum::Error> {
        if !self.inbox.lagged.swap(false, Ordering::Relaxed) {
            return Ok(false);
        }
        let ids: Vec<String> = self.follows.keys().cloned().collect();
        for cid in ids {
            self.catch_up(sink, &cid).await?;
        }
        Ok(true)
    }
}

/// Leaving, however the connection ended: unsubscribe everything.
impl Drop for Conn {
    fn drop(&mut self) {
        self.state.hub.count_connection(-1);
        for (cid, (_, sub)) in self.follows.drain() {
            self.state.hub.unsubscribe(&format!("c:{cid}"), sub);
        }
        for (t, sub) in self.topics.drain(..) {
            self.state.hub.unsubscribe(&t, sub);
        }
    }
}

async fn send(sink: &mut Sink, frame: &Value) -> Result<(), axum::Error> {
    sink.send(WsMsg::Text(frame.to_string().into())).await
}

/// Reads the next text frame as JSON. `None` when the connection ended.
async fn next_frame(stream: &mut SplitStream<WebSocket>) -> Option<Result<Value, String>> {
    loop {
        match stream.next().await? {
            Ok(WsMsg::Text(t)) => return Some(serde_json::from_str(t.as_str()).map_err(|e| e.to_string())),
            Ok(WsMsg::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Customers

/// `GET /ws/chat`: a customer's (widget's) connection. Authenticated by the chat session token in `hello`.
pub async fn customer_ws(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    configure(ws).on_upgrade(move |socket| async move {
        if let Err(e) = customer_conn(state, socket).await {
            tracing::debug!(error = %e, "customer connection ended");
        }
    })
}

#[derive(Deserialize)]
struct Hello {
    token: Option<String>,
    conversation_id: Option<String>,
    #[serde(default)]
    last_seq: i64,
    #[serde(default)]
    resume: HashMap<String, i64>,
}

/// What the widget sends (docs/chat-protocol.md): one variant per frame type. Fields a handler checks itself
/// (to answer with its own message) are optional here.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum CustomerFrame {
    Send {
        client_id: Option<String>,
        body: Option<String>,
        #[serde(default)]
        attachment_ids: Vec<String>,
        topic: Option<String>,
    },
    Handover,
    Typing {
        on: Option<bool>,
    },
    Receipt {
        conversation_id: Option<String>,
        delivered: Option<i64>,
        read: Option<i64>,
    },
    Resume {
        conversation_id: Option<String>,
        last_seq: Option<i64>,
    },
    End,
    Rate {
        conversation_id: Option<String>,
        score: Option<i64>,
        comment: Option<String>,
    },
    History,
    Ping,
}

/// What the console sends: one variant per frame type. Every frame naming a conversation is access-checked
/// before it is handled.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AgentFrame {
    Open {
        conversation_id: Option<String>,
        last_seq: Option<i64>,
    },
    Send {
        conversation_id: Option<String>,
        client_id: Option<String>,
        body: Option<String>,
        #[serde(default)]
        internal: bool,
        #[serde(default)]
        attachment_ids: Vec<String>,
    },
    Typing {
        conversation_id: Option<String>,
        on: Option<bool>,
    },
    Receipt {
        conversation_id: Option<String>,
        delivered: Option<i64>,
        read: Option<i64>,
    },
    Accept {
        conversation_id: Option<String>,
    },
    Assign {
        conversation_id: Option<String>,
        agent_id: Option<String>,
    },
    Transfer {
        conversation_id: Option<String>,
        department: Option<String>,
        note: Option<String>,
    },
    End {
        conversation_id: Option<String>,
    },
    ToTicket {
        conversation_id: Option<String>,
    },
    Presence {
        status: Option<String>,
        capacity: Option<i64>,
    },
    Ping,
}

impl AgentFrame {
    fn conversation_id(&self) -> Option<&str> {
        use AgentFrame as F;
        match self {
            F::Open { conversation_id, .. }
            | F::Send { conversation_id, .. }
            | F::Typing { conversation_id, .. }
            | F::Receipt { conversation_id, .. }
            | F::Accept { conversation_id }
            | F::Assign { conversation_id, .. }
            | F::Transfer { conversation_id, .. }
            | F::End { conversation_id }
            | F::ToTicket { conversation_id } => conversation_id.as_deref(),
            F::Presence { .. } | F::Ping => None,
        }
    }

    fn client_id(&self) -> Option<String> {
        match self {
            AgentFrame::Send { client_id, .. } => client_id.clone(),
            _ => None,
        }
    }
}

/// An `invalid` error frame about no message in particular (a frame that did not parse: serde's message names
/// the known types).
fn invalid(message: impl Into<String>) -> Value {
    ServerFrame::Error { code: "invalid", message: message.into(), client_id: None }.to_value()
}

async fn customer_conn(state: AppState, socket: WebSocket) -> Result<(), axum::Error> {
    let (mut sink, mut stream) = socket.split();
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, next_frame(&mut stream)).await {
        Ok(Some(Ok(v))) if v.get("type").and_then(Value::as_str) == Some("hello") => v,
        _ => {
            send(&mut sink, &invalid("say hello first")).await?;
            return Ok(());
        }
    };
    let hello: Hello = match serde_json::from_value(hello) {
        Ok(h) => h,
        Err(e) => {
            send(&mut sink, &invalid(e.to_string())).await?;
            return Ok(());
        }
    };
    let (customer, session_expires_at) = match customer_of(&state, hello.token.as_deref()).await {
        Some(c) => c,
        None => {
            let e = ServerFrame::Error { code: "unauthorized", message: "sign in again".into(), client_id: None };
            send(&mut sink, &e.to_value()).await?;
            return Ok(());
        }
    };
    let lang = customer.lang.as_deref().and_then(Lang::from_tag).unwrap_or(Lang::ZhHans);
    let (mut conn, mut rx) = Conn::new(state.clone(), false, lang);
    conn.listen(format!("k:{}", customer.id));
    let open = state.store.open_chat_of(&customer.id).await.ok().flatten();
    conn.open_chat = open.as_ref().map(|(c, _)| c.id.clone());
    let view = match &open {
        Some((c, ch)) => Some(service::chat_view(&state, c, ch).await),
        None => None,
    };
    let online = service::agents_online(&state).await;
    let welcome = ServerFrame::CustomerWelcome {
        customer_id: &customer.id,
        lang: lang.as_str(),
        chat: view,
        agents_online: online,
    };
    send(&mut sink, &welcome.to_value()).await?;
    // Resume what the client knows, then the open chat from the start if the client did not know it.
    let mut resume = hello.resume.clone();
    if let Some(cid) = &hello.conversation_id {
        resume.insert(cid.clone(), hello.last_seq);
    }
    for (cid, after) in resume {
        if owns(&state, &customer, &cid).await {
            Box::pin(conn.follow(&mut sink, &cid, after)).await?;
        }
    }
    if let Some((c, _)) = &open
        && !conn.follows.contains_key(&c.id)
    {
        Box::pin(conn.follow(&mut sink, &c.id, 0)).await?;
    }
    let mut wrote = false;
    let mut tick = tokio::time::interval(TICK);
    let result = loop {
        tokio::select! {
            f = next_frame(&mut stream) => match f {
                None => break Ok(()),
                Some(Err(e)) => send(&mut sink, &invalid(format!("not JSON: {e}"))).await?,
                Some(Ok(v)) => {
                    let frame: CustomerFrame = match serde_json::from_value(v) {
                        Ok(f) => f,
                        Err(e) => { send(&mut sink, &invalid(e.to_string())).await?; continue; }
                    };
                    if matches!(frame, CustomerFrame::Send { .. }) && !wrote {
                        wrote = true;
                        if !visitor_wrote(&state, &customer, hello.token.as_deref(), session_expires_at) {
                            break close_ended(&mut sink).await;
                        }
                    }
                    if let Err(e) = Box::pin(customer_frame(&mut conn, &mut sink, &customer, lang, frame)).await {
                        break Err(e);
                    }
                }
            },
            ev = rx.recv() => if let Some(ev) = ev {
                if ev.control == Some(Control::SessionEnded) {
                    if customer_of(&state, hello.token.as_deref()).await.is_none() {
                        break close_ended(&mut sink).await;
                    }
                    continue;
                }
                Box::pin(handle_event(&mut conn, &mut sink, &ev)).await?;
                // Frames were dropped while the inbox was full: now that it is drained, catch up at once.
                if rx.is_empty() && conn.inbox.lagged.load(Ordering::Relaxed) {
                    tick.reset_immediately();
                }
            },
            _ = tick.tick() => { Box::pin(conn.recover(&mut sink)).await?; }
        }
    };
    drop(conn);
    result
}

/// Forwards a hub event, acting on its control instruction first.
async fn handle_event(conn: &mut Conn, sink: &mut Sink, ev: &BusEvent) -> Result<(), axum::Error> {
    match (ev.control, &ev.conversation_id) {
        (Some(Control::Follow), Some(cid)) => {
            let cid = cid.clone();
            conn.forward(sink, ev).await?;
            if !conn.follows.contains_key(&cid) {
                conn.follow(sink, &cid, 0).await?;
            }
            Ok(())
        }
        (Some(Control::Unfollow), Some(cid)) => {
            let cid = cid.clone();
            conn.forward(sink, ev).await?;
            conn.unfollow(&cid);
            Ok(())
        }
        _ => conn.forward(sink, ev).await,
    }
}

/// The customer a session token belongs to, and when the session ends.
async fn customer_of(state: &AppState, token: Option<&str>) -> Option<(Customer, i64)> {
    let session = state.store.session(token?).await.ok()??;
    if session.principal_kind != "customer" {
        return None;
    }
    Some((state.store.customer(&session.principal_id).await.ok()??, session.expires_at))
}

async fn owns(state: &AppState, customer: &Customer, cid: &str) -> bool {
    matches!(state.store.conversation(cid).await, Ok(Some(c)) if c.customer_id == customer.id && c.kind == "chat")
}

async fn customer_frame(
    conn: &mut Conn,
    sink: &mut Sink,
    customer: &Customer,
    lang: Lang,
    f: CustomerFrame,
) -> Result<(), axum::Error> {
    use CustomerFrame as F;
    let state = conn.state.clone();
    let open_id = || async { state.store.open_chat_state(&customer.id).await.ok().flatten().map(|(id, _)| id) };
    let me = lifebuoy_app::Actor::Customer(customer.clone());
    let frame_client_id = match &f {
        F::Send { client_id, .. } => client_id.clone(),
        _ => None,
    };
    let r: Result<Option<Value>, AppError> = async {
        match f {
            F::Send { client_id, body, attachment_ids, topic } => {
                let client_id = client_id.unwrap_or_default();
                let a = service::customer_send(
                    &state,
                    customer,
                    conn.open_chat.as_deref(),
                    lang,
                    topic.as_deref(),
                    &client_id,
                    body.as_deref().unwrap_or(""),
                    &attachment_ids,
                )
                .await?;
                if !a.duplicate {
                    conn.open_chat = Some(a.conversation.id.clone());
                }
                let ack = ServerFrame::Ack {
                    client_id: &client_id,
                    conversation_id: &a.conversation.id,
                    seq: a.message.seq,
                    id: &a.message.id,
                    at: a.message.created_at,
                    duplicate: a.duplicate,
                }
                .to_value();
                if !conn.follows.contains_key(&a.conversation.id) {
                    send(sink, &ack).await.map_err(|_| closed())?;
                    conn.follow(sink, &a.conversation.id, 0).await.map_err(|_| closed())?;
                    return Ok(None);
                }
                Ok(Some(ack))
            }
            F::Handover => {
                let cid = open_id().await.ok_or(AppError::NotFound)?;
                service::handover(&state, &me, &cid, "asked").await?;
                Ok(None)
            }
            F::Typing { on } => {
                let known = conn.open_chat.clone();
                let cid = match known {
                    Some(c) => Some(c),
                    None => open_id().await,
                };
                if let Some(cid) = cid {
                    let frame = ServerFrame::Typing { conversation_id: &cid, from: "customer", on: on.unwrap_or(true) }
                        .to_value();
                    service::publish_hint(&state, &cid, &frame);
                }
                Ok(None)
            }
            F::Receipt { conversation_id, delivered, read } => {
                let cid = conversation_id.ok_or_else(|| AppError::invalid("conversation_id", "required"))?;
                if !conn.follows.contains_key(&cid) {
                    return Err(AppError::NotFound);
                }
                let (d, r) = (delivered.unwrap_or(0), read.unwrap_or(0));
                state.store.chat_receipt(&cid, Side::Customer, d, r).await?;
                let frame =
                    ServerFrame::Receipt { conversation_id: &cid, side: "customer", delivered: d.max(r), read: r }
                        .to_value();
                service::publish_hint(&state, &cid, &frame);
                Ok(None)
            }
            F::Resume { conversation_id, last_seq } => {
                let cid = conversation_id.ok_or_else(|| AppError::invalid("conversation_id", "required"))?;
                if !owns(&state, customer, &cid).await {
                    return Err(AppError::NotFound);
                }
                conn.follow(sink, &cid, last_seq.unwrap_or(0)).await.map_err(|_| closed())?;
                Ok(None)
            }
            F::End => {
                let cid = open_id().await.ok_or(AppError::NotFound)?;
                service::end(&state, &me, &cid).await?;
                Ok(None)
            }
            F::Rate { conversation_id, score, comment } => {
                let cid = conversation_id.ok_or_else(|| AppError::invalid("conversation_id", "required"))?;
                let score = score.ok_or_else(|| AppError::invalid("score", "1 to 5"))?;
                service::rate(&state, &me, &cid, score, comment.as_deref()).await?;
                Ok(Some(ServerFrame::Rated { conversation_id: &cid, score }.to_value()))
            }
            F::History => {
                let chats = state.store.customer_chats(&customer.id, 50).await?;
                let mut out = Vec::with_capacity(chats.len());
                for (c, ch) in &chats {
                    out.push(service::chat_view(&state, c, ch).await);
                }
                Ok(Some(ServerFrame::History { chats: out }.to_value()))
            }
            F::Ping => Ok(Some(ServerFrame::Pong.to_value())),
        }
    }
    .await;
    match r {
        Ok(Some(v)) => send(sink, &v).await,
        Ok(None) => Ok(()),
        Err(e) => send(sink, &error_frame(&e, conn.lang, frame_client_id.as_deref())).await,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Agents

/// `GET /ws/console`: an agent's console connection, authenticated by the console's session cookie. Refused
/// from other sites (the `Origin` must be this server).
pub async fn agent_ws(ws: WebSocketUpgrade, State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = crate::auth::check_same_origin(&headers) {
        return e.into_response();
    }
    let agent = match crate::auth::resolve(&state, &headers).await {
        Ok(Some(c)) => match c.principal {
            Principal::Agent(a) => a,
            _ => return ApiError::forbidden("agents only").into_response(),
        },
        Ok(None) => return ApiError::unauthorized().into_response(),
        Err(e) => return e.into_response(),
    };
    let session = axum_extra::extract::cookie::CookieJar::from_headers(&headers)
        .get(crate::auth::SESSION_COOKIE)
        .map(|c| c.value().to_string());
    let lang = crate::i18n::negotiate(&headers, None);
    configure(ws).on_upgrade(move |socket| async move {
        if let Err(e) = agent_conn(state, socket, agent, session, lang).await {
            tracing::debug!(error = %e, "agent connection ended");
        }
    })
}

fn scope_of(a: &Agent) -> Scope {
    if a.role.sees_all() { Scope::All } else { Scope::Agent { id: a.id.clone(), departments: a.departments.clone() } }
}

async fn agent_conn(
    state: AppState,
    socket: WebSocket,
    agent: Agent,
    session: Option<String>,
    lang: Lang,
) -> Result<(), axum::Error> {
    let (mut sink, mut stream) = socket.split();
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, next_frame(&mut stream)).await {
        Ok(Some(Ok(v))) if v.get("type").and_then(Value::as_str) == Some("hello") => v,
        _ => {
            send(&mut sink, &invalid("say hello first")).await?;
            return Ok(());
        }
    };
    let resume: HashMap<String, i64> = serde_json::from_value::<Hello>(hello).map(|h| h.resume).unwrap_or_default();
    let (mut conn, mut rx) = Conn::new(state.clone(), true, lang);
    let scope = scope_of(&agent);
    conn.listen(format!("a:{}", agent.id));
    let departments: Option<Vec<String>> = if agent.role.sees_all() { None } else { Some(agent.departments.clone()) };
    // What the console starts from. A failed read is said, and the connection closed (the console reconnects
    // with back-off): an empty inbox shown as if it were the truth would hide waiting customers.
    let start = async {
        let all_departments: Vec<String> = match &departments {
            Some(d) => d.clone(),
            None => state.store.departments().await?.into_iter().map(|d| d.id).collect(),
        };
        let presence = state.store.presence(&agent.id).await?;
        let mut inbox = state.store.chat_inbox(&agent.id, departments.as_deref()).await?;
        lifebuoy_app::sla::stamp_chats(&state, &mut inbox).await?;
        Ok::<_, AppError>((all_departments, presence, inbox))
    };
    let (all_departments, presence, inbox) = match start.await {
        Ok(v) => v,
        Err(e) => {
            send(&mut sink, &error_frame(&e, lang, None)).await?;
            return Ok(());
        }
    };
    for d in &all_departments {
        conn.listen(format!("d:{d}"));
    }
    let me = json!({"id": agent.id, "name": agent.display_name, "agent_no": agent.agent_no.as_str(),
        "role": agent.role, "departments": agent.departments});
    send(&mut sink, &ServerFrame::AgentWelcome { agent: me, presence }.to_value()).await?;
    send(&mut sink, &ServerFrame::Inbox { items: &inbox }.to_value()).await?;
    // Follow every chat this agent has; resume what the client knew.
    for item in &inbox {
        if item.assignee_id.as_deref() == Some(agent.id.as_str()) && item.state == "active" {
            let after = resume.get(&item.conversation_id).copied().unwrap_or(item.last_seq);
            Box::pin(conn.follow(&mut sink, &item.conversation_id, after)).await?;
        }
    }
    for (cid, after) in &resume {
        if conn.follows.contains_key(cid) {
            continue;
        }
        if let Ok(Some(c)) = state.store.conversation(cid).await
            && scope.permits(&c)
        {
            Box::pin(conn.follow(&mut sink, cid, *after)).await?;
        }
    }
    let mut tick = tokio::time::interval(TICK);
    let result = loop {
        tokio::select! {
            f = next_frame(&mut stream) => match f {
                None => break Ok(()),
                Some(Err(e)) => send(&mut sink, &invalid(format!("not JSON: {e}"))).await?,
                Some(Ok(v)) => {
                    let frame: AgentFrame = match serde_json::from_value(v) {
                        Ok(f) => f,
                        Err(e) => { send(&mut sink, &invalid(e.to_string())).await?; continue; }
                    };
                    if let Err(e) = Box::pin(agent_frame(&mut conn, &mut sink, &agent, frame)).await {
                        break Err(e);
                    }
                }
            },
            ev = rx.recv() => if let Some(ev) = ev {
                if ev.control == Some(Control::SessionEnded) {
                    if !agent_session_alive(&state, session.as_deref(), &agent.id).await {
                        break close_ended(&mut sink).await;
                    }
                    continue;
                }
                Box::pin(handle_event(&mut conn, &mut sink, &ev)).await?;
                // Frames were dropped while the inbox was full: now that it is drained, catch up at once.
                if rx.is_empty() && conn.inbox.lagged.load(Ordering::Relaxed) {
                    tick.reset_immediately();
                }
            },
            _ = tick.tick() => {
                if !agent_session_alive(&state, session.as_deref(), &agent.id).await {
                    break close_ended(&mut sink).await;
                }
                if Box::pin(conn.recover(&mut sink)).await? {
                    let read = async {
                        let mut inbox = state.store.chat_inbox(&agent.id, departments.as_deref()).await?;
                        lifebuoy_app::sla::stamp_chats(&state, &mut inbox).await?;
                        Ok::<_, AppError>(inbox)
                    };
                    let inbox = match read.await {
                        Ok(i) => i,
                        Err(e) => {
                            // Said to the console; marked behind again, so the next tick tries again.
                            send(&mut sink, &error_frame(&e, lang, None)).await?;
                            conn.inbox.lagged.store(true, Ordering::Relaxed);
                            continue;
                        }
                    };
                    send(&mut sink, &ServerFrame::Inbox { items: &inbox }.to_value()).await?;
                    // Chats assigned while frames were dropped (their "follow" among them): follow them now,
                    // from the start, since this connection has sent none of them (the client drops repeats).
                    for item in &inbox {
                        if item.assignee_id.as_deref() == Some(agent.id.as_str())
                            && item.state == "active"
                            && !conn.follows.contains_key(&item.conversation_id)
                        {
                            Box::pin(conn.follow(&mut sink, &item.conversation_id, 0)).await?;
                        }
                    }
                }
            }
        }
    };
    drop(conn);
    result
}

async fn agent_frame(conn: &mut Conn, sink: &mut Sink, agent: &Agent, f: AgentFrame) -> Result<(), axum::Error> {
    use AgentFrame as F;
    let state = conn.state.clone();
    let me = lifebuoy_app::Actor::Agent(agent.clone());
    let frame_client_id = f.client_id();
    let r: Result<Option<Value>, AppError> = async {
        // Every frame about a conversation is access-checked (the use cases check again, with the rules of
        // who may speak in a chat).
        let conv = match f.conversation_id() {
            Some(cid) => Some(service::visible_chat(&state, &me, cid).await?),
            None => None,
        };
        let need = || conv.clone().ok_or_else(|| AppError::invalid("conversation_id", "required"));
        match f {
            F::Open { last_seq, .. } => {
                let c = need()?;
                conn.follow(sink, &c.id, last_seq.unwrap_or(0)).await.map_err(|_| closed())?;
                Ok(None)
            }
            F::Send { client_id, body, internal, attachment_ids, .. } => {
                let c = need()?;
                let client_id = client_id.unwrap_or_default();
                let a = service::agent_send(
                    &state,
                    &me,
                    &c.id,
                    &client_id,
                    body.as_deref().unwrap_or(""),
                    internal,
                    &attachment_ids,
                )
                .await?;
                if !conn.follows.contains_key(&c.id) {
                    conn.follow(sink, &c.id, a.message.seq - 1).await.map_err(|_| closed())?;
                }
                Ok(Some(
                    ServerFrame::Ack {
                        client_id: &client_id,
                        conversation_id: &c.id,
                        seq: a.message.seq,
                        id: &a.message.id,
                        at: a.message.created_at,
                        duplicate: a.duplicate,
                    }
                    .to_value(),
                ))
            }
            F::Typing { on, .. } => {
                let c = need()?;
                let frame =
                    ServerFrame::Typing { conversation_id: &c.id, from: "agent", on: on.unwrap_or(true) }.to_value();
                service::publish_hint(&state, &c.id, &frame);
                Ok(None)
            }
            F::Receipt { delivered, read, .. } => {
                let c = need()?;
                let (d, r) = (delivered.unwrap_or(0), read.unwrap_or(0));
                state.store.chat_receipt(&c.id, Side::Agent, d, r).await?;
                let frame =
                    ServerFrame::Receipt { conversation_id: &c.id, side: "agent", delivered: d.max(r), read: r }
                        .to_value();
                service::publish_hint(&state, &c.id, &frame);
                Ok(None)
            }
            F::Accept { .. } => {
                let c = need()?;
                service::assign(&state, &me, &c.id, &agent.id, false).await?;
                Ok(None)
            }
            F::Assign { agent_id, .. } => {
                let c = need()?;
                let to = agent_id.ok_or_else(|| AppError::invalid("agent_id", "required"))?;
                service::assign(&state, &me, &c.id, &to, true).await?;
                Ok(None)
            }
            F::Transfer { department, note, .. } => {
                let c = need()?;
                let dept = department.ok_or_else(|| AppError::invalid("department", "required"))?;
                service::transfer(&state, &me, &c.id, &dept, note.as_deref().unwrap_or("")).await?;
                Ok(None)
            }
            F::End { .. } => {
                let c = need()?;
                service::end(&state, &me, &c.id).await?;
                Ok(None)
            }
            F::ToTicket { .. } => {
                let c = need()?;
                let t = service::to_ticket(&state, &me, &c.id).await?;
                let frame = ServerFrame::Ticket {
                    conversation_id: &c.id,
                    ticket_id: &t.id,
                    case_number: t.case_number.as_deref(),
                };
                Ok(Some(frame.to_value()))
            }
            F::Presence { status, capacity } => {
                let status = status.ok_or_else(|| AppError::invalid("status", "online, away or offline"))?;
                let p = state.store.set_presence(&agent.id, &status, capacity).await?;
                if p.status == "online" {
                    let st = state.clone();
                    tokio::spawn(async move { service::drain_queue(&st.app).await });
                }
                Ok(Some(ServerFrame::Presence { presence: p }.to_value()))
            }
            F::Ping => Ok(Some(ServerFrame::Pong.to_value())),
        }
    }
    .await;
    match r {
        Ok(Some(v)) => send(sink, &v).await,
        Ok(None) => Ok(()),
        Err(e) => send(sink, &error_frame(&e, conn.lang, frame_client_id.as_deref())).await,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Sessions that end close their connections (logout, deactivation, a new password; see `App::end_sessions`).

/// Whether an agent connection's session still stands: live, and the agent still active. A failed read
/// keeps the connection (the next check decides).
async fn agent_session_alive(state: &AppState, token: Option<&str>, agent_id: &str) -> bool {
    let Some(token) = token else { return false };
    match state.store.session(token).await {
        Ok(Some(s)) if s.principal_kind == "agent" && s.principal_id == agent_id => {
            match state.store.agent(agent_id).await {
                Ok(Some(a)) => a.active,
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "agent check failed; keeping the connection until the next one");
                    true
                }
            }
        }
        Ok(_) => false,
        Err(e) => {
            tracing::warn!(error = %e, "session check failed; keeping the connection until the next one");
            true
        }
    }
}

/// A visitor's first message: their short session now lasts as long as any chat session. `false` when the
/// session has run out meanwhile (one that was ended closes the connection through `Control::SessionEnded`).
///
/// The extension is written beside the message, not before it: waiting for it would put a second write (and,
/// on SQLite, a second group commit) in front of every visitor's first message; at 10,000 connections opening
/// at once that doubled the first messages' latency and set the chat's p99.
fn visitor_wrote(state: &AppState, customer: &Customer, token: Option<&str>, expires_at: i64) -> bool {
    if customer.kind != "visitor" {
        return true;
    }
    let Some(token) = token else { return false };
    if expires_at <= lifebuoy_store::now_ms() {
        return false;
    }
    let (store, token) = (state.store.clone(), token.to_string());
    tokio::spawn(async move {
        match store.extend_session(&token, lifebuoy_store::now_ms() + super::api::CHAT_SESSION_MS).await {
            Ok(true) => {}
            Ok(false) => tracing::info!("a visitor's session ended before it could be extended"),
            Err(e) => tracing::warn!(error = %e, "could not extend a visitor's session"),
        }
    });
    true
}

/// Tells the client its session ended, and closes.
async fn close_ended(sink: &mut Sink) -> Result<(), axum::Error> {
    let e = ServerFrame::Error {
        code: "unauthorized",
        message: "your session has ended; sign in again".into(),
        client_id: None,
    };
    send(sink, &e.to_value()).await?;
    let frame = axum::extract::ws::CloseFrame { code: 1008, reason: "session ended".into() };
    sink.send(WsMsg::Close(Some(frame))).await
}
