//! Live chat over the web: the WebSocket endpoints for customers (`/ws/chat`) and agents (`/ws/console`) and
//! the chat's HTTP endpoints. The rules of a chat, the bot and the hub live in the application core
//! (`lifebuoy_app::chat`); the protocol is documented in `docs/chat-protocol.md`.

pub mod api;
pub mod ws;

pub use lifebuoy_app::chat::{BusEvent, Control, Hub, Inbox, bot, hub, service};
