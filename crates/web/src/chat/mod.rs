//! Live chat: the WebSocket endpoints for customers (`/ws/chat`) and agents (`/ws/console`), the bot's first
//! line, routing to agents, and the hub that carries notifications between connections and nodes. The protocol
//! is documented in `docs/chat-protocol.md`.
//!
//! The flow of a message: a connection stores it (`lifebuoy_store`, durable before anything else), acknowledges
//! it to its sender, then publishes a frame on the hub; every connection subscribed to the conversation (on this
//! node, or on another through NATS) forwards the frame, filling any gap in the sequence from the database.

pub mod api;
pub mod bot;
pub mod hub;
pub mod service;
pub mod ws;

pub use hub::{BusEvent, Control, Hub, Inbox};
