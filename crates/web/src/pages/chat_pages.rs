//! Live-chat pages: the embeddable `/widget.js`, the chat window it opens (`/chat/widget`, in an iframe), the
//! demo exchange page that embeds it, and the agents' real-time chat console (`/console/chats`).
//! The pages are shells; they talk to the server over the WebSocket protocol of `docs/chat-protocol.md`.

use crate::AppState;
use axum::Router;

/// Templates of the chat pages (registered with the others in [`super::templates`]).
pub const TEMPLATES: &[(&str, &str)] = &[];

/// Files served under `/static/` by these pages: (name, body, content type).
pub const STATIC: &[(&str, &str, &str)] = &[];

pub fn router() -> Router<AppState> {
    Router::new()
}
