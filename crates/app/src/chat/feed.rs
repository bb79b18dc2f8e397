//! The live-chat end of the store's post-commit stream ([`Store::on_commit`]): every timeline entry a
//! committed write appended to a chat goes out on the hub, whichever use case (or job, or node's sweeper) made
//! the write. No use case publishes a chat's messages or events itself.
//!
//! A message the write had whole (the chat message path gives it) is published at once, on the writing task,
//! before the write returns: the sender's acknowledgement never overtakes the frame. Anything else (an event,
//! whose frame names its actor; a message with files) is read back from the database by a small task and
//! published from there. Frames may so reach the hub out of order; each connection forwards them in sequence
//! and fills a gap from the database (`crates/web` `chat::ws`), so order and completeness are the
//! connection's, not the publisher's.

use super::hub::{BusEvent, Hub};
use super::service::{item_frame, msg_frame};
use lifebuoy_domain::ConversationKind;
use lifebuoy_store::{Committed, Entry, Store};

/// Publishes what commits append to chats, from now on.
pub(crate) fn attach(store: &Store, hub: &Hub) {
    // Weak: the store holds this listener, which must not hold the store open in turn.
    let (reader, hub) = (store.downgrade(), hub.clone());
    store.on_commit(move |c| {
        if c.kind == ConversationKind::Chat
            && let Some(reader) = reader.upgrade()
        {
            publish(&reader, &hub, c);
        }
    });
}

fn publish(store: &Store, hub: &Hub, c: &Committed) {
    let mut later: Option<(i64, i64)> = None;
    for e in &c.entries {
        match (e, &c.message) {
            (Entry::Message { seq, attachments: 0, internal, .. }, Some(m)) if m.seq == *seq => {
                let frame = msg_frame(m, &[]);
                hub.publish(item_event(&c.conversation_id, *seq, *internal, frame.to_string()));
            }
            (e, _) => {
                let s = e.seq();
                later = Some(later.map_or((s, s), |(a, b)| (a.min(s), b.max(s))));
            }
        }
    }
    let Some((first, last)) = later else { return };
    let (store, hub, cid) = (store.clone(), hub.clone(), c.conversation_id.clone());
    tokio::spawn(async move {
        match store.timeline_after(&cid, true, first - 1).await {
            Ok(items) => {
                for it in items.iter().filter(|i| i.seq() <= last) {
                    let (frame, seq, internal) = item_frame(it);
                    hub.publish(item_event(&cid, seq, internal, frame.to_string()));
                }
            }
            // Stored all the same: a connection following the chat reads it at the chat's next frame (a gap)
            // or when it reconnects.
            Err(e) => tracing::warn!(error = %e, conversation = %cid, "chat entries not published"),
        }
    });
}

fn item_event(conversation_id: &str, seq: i64, internal: bool, frame: String) -> BusEvent {
    BusEvent {
        topic: format!("c:{conversation_id}"),
        conversation_id: Some(conversation_id.to_string()),
        seq: Some(seq),
        internal,
        frame: frame.into(),
        control: None,
    }
}
