//! The frames the server sends over the chat WebSockets (`docs/chat-protocol.md`), as one tagged enum: each
//! variant is one `type`, with its fields. Timeline items (`msg`, `event`) are built from stored rows by
//! [`super::service::item_frame`]; everything else the server says is here.

use lifebuoy_store::{InboxItem, Presence};
use serde::Serialize;
use serde_json::Value;

/// A frame from the server.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    /// The customer's connection is ready: their open chat (if any) and whether agents are online.
    #[serde(rename = "welcome")]
    CustomerWelcome {
        customer_id: &'a str,
        lang: &'a str,
        chat: Option<Value>,
        agents_online: bool,
    },
    /// The agent's connection is ready.
    #[serde(rename = "welcome")]
    AgentWelcome {
        agent: Value,
        presence: Presence,
    },
    /// A sent message is stored (or was already: `duplicate`).
    Ack {
        client_id: &'a str,
        conversation_id: &'a str,
        seq: i64,
        id: &'a str,
        at: i64,
        duplicate: bool,
    },
    /// A frame was refused; `client_id` names the message it was about, if any.
    Error {
        code: &'a str,
        message: String,
        client_id: Option<&'a str>,
    },
    Pong,
    /// Someone is typing (not stored).
    Typing {
        conversation_id: &'a str,
        from: &'a str,
        on: bool,
    },
    /// How far a side has received and read (not stored).
    Receipt {
        conversation_id: &'a str,
        side: &'a str,
        delivered: i64,
        read: i64,
    },
    /// The customer's rating is saved.
    Rated {
        conversation_id: &'a str,
        score: i64,
    },
    /// The customer's past chats.
    History {
        chats: Vec<Value>,
    },
    /// The chat became a ticket.
    Ticket {
        conversation_id: &'a str,
        ticket_id: &'a str,
        case_number: Option<&'a str>,
    },
    /// The agent's presence as saved.
    Presence {
        presence: Presence,
    },
    /// The agent's whole inbox.
    Inbox {
        items: &'a [InboxItem],
    },
    /// One chat of the inbox changed.
    InboxUpdate {
        item: &'a InboxItem,
    },
    /// A chat left the inbox.
    InboxRemove {
        conversation_id: &'a str,
    },
    /// A chat was assigned to this agent.
    Assigned {
        conversation_id: &'a str,
    },
    /// How the customer's chat stands.
    Chat {
        chat: Value,
        agents_online: bool,
    },
}

impl ServerFrame<'_> {
    /// The frame as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a server frame serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::ServerFrame;
    use serde_json::json;

    #[test]
    fn frames_are_tagged_by_type() {
        let ack = ServerFrame::Ack { client_id: "c1", conversation_id: "x", seq: 3, id: "m", at: 9, duplicate: false };
        assert_eq!(
            ack.to_value(),
            json!({"type": "ack", "client_id": "c1", "conversation_id": "x", "seq": 3, "id": "m", "at": 9, "duplicate": false})
        );
        let e = ServerFrame::Error { code: "forbidden", message: "no".into(), client_id: None };
        assert_eq!(e.to_value(), json!({"type": "error", "code": "forbidden", "message": "no", "client_id": null}));
        assert_eq!(ServerFrame::Pong.to_value(), json!({"type": "pong"}));
        let w = ServerFrame::CustomerWelcome { customer_id: "k", lang: "en", chat: None, agents_online: true };
        assert_eq!(w.to_value()["type"], "welcome");
        assert_eq!(ServerFrame::InboxRemove { conversation_id: "x" }.to_value()["type"], "inbox_remove");
    }
}
