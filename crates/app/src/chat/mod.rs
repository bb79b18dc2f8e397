//! Live chat's rules: a customer's message and the bot's turn, handover, routing to agents, assignment,
//! transfer, ending, and turning a chat into a ticket; and the hub that carries notifications between
//! connections and nodes. The WebSocket endpoints (crates/web `chat::ws`) call these; the protocol is in
//! `docs/chat-protocol.md`.
//!
//! The flow of a message: the use case stores it (`lifebuoy_store`, durable before anything else), the caller
//! acknowledges it to its sender, and the use case publishes a frame on the hub; every connection subscribed to
//! the conversation (on this node, or on another through NATS) forwards the frame, filling any gap in the
//! sequence from the database.

pub mod bot;
pub mod hub;
pub mod protocol;
pub mod service;

pub use hub::{BusEvent, Control, Hub, Inbox};
pub use protocol::ServerFrame;
