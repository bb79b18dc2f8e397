//! Live-chat pages: the embeddable `/widget.js`, the chat window it opens (`/chat/widget`, in an iframe), the
//! demo exchange page that embeds it, and the agents' real-time chat console (`/console/chats`).
//! The pages are shells; they talk to the server over the WebSocket protocol of `docs/chat-protocol.md`.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
