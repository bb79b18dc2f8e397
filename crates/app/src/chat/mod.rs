//! Live chat's rules: a customer's message and the bot's turn, handover, routing to agents, assignment,
//! transfer, ending, and turning a chat into a ticket; and the hub that carries notifications between
//! connections and nodes. The WebSocket endpoints (crates/web `chat::ws`) call these; the protocol is in
//! `docs/chat-protocol.md`.
//!
//! The flow of a message: the use case stores it (`lifebuoy_store`, durable before anything else); the store's
//! post-commit stream hands the new entry to [`feed`], which publishes its frame on the hub before the write
//! returns; then the caller acknowledges it to its sender. Every connection subscribed to the conversation (on
//! this node, or on another through NATS) forwards the frame, filling any gap in the sequence from the
//! database. What is not a timeline entry (the inbox, the customer's view of the chat, "assigned to you") the
//! use cases publish themselves.

pub mod bot;
pub(crate) mod feed;
pub mod hub;
pub mod protocol;
pub mod service;

pub use hub::{BusEvent, Control, Hub, Inbox};
pub use protocol::ServerFrame;
