//! The doorbell: who is listening for what, on this node and, with NATS, on every node.
//!
//! Connections subscribe to topics (`c:<conversation>`, `a:<agent>`, `d:<department>`, `k:<customer>`) with
//! their own bounded queue. Publishing delivers to this node's subscribers at once and, when NATS is
//! configured, to the other nodes through it. The hub carries notifications, not truth: everything that matters
//! is in the database first, and a subscriber that finds a gap in a conversation's sequence (a frame lost to a
//! full queue, to NATS, to a restart) reads the gap back from the database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// One published notification.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BusEvent {
    pub topic: String,
    /// The conversation a sequenced frame belongs to.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// The frame's place in the conversation's sequence, if it has one.
    #[serde(default)]
    pub seq: Option<i64>,
    /// Internal frames (notes, internal events) never reach customers.
    #[serde(default)]
    pub internal: bool,
    /// The frame, serialised once for every subscriber.
    pub frame: Arc<str>,
    /// What the receiving connection should do besides forwarding the frame.
    #[serde(default)]
    pub control: Option<Control>,
}

/// Instructions to the connections that receive an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Control {
    /// Start following `conversation_id` (a chat was assigned to this agent, or opened on another device).
    Follow,
    /// Stop following it (it went to someone else).
    Unfollow,
    /// A session of this agent (topic `a:`) or customer (`k:`) ended: each connection re-checks its own and
    /// closes if it was that one ([`crate::App::end_sessions`]).
    SessionEnded,
}

/// A subscriber's queue and its lag flag.
#[derive(Clone)]
pub struct Inbox {
    pub tx: mpsc::Sender<Arc<BusEvent>>,
    pub lagged: Arc<AtomicBool>,
}

/// How many notifications wait for one connection before it is marked lagging.
pub const QUEUE: usize = 2048;

impl Inbox {
    pub fn new() -> (Inbox, mpsc::Receiver<Arc<BusEvent>>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Inbox { tx, lagged: Arc::new(AtomicBool::new(false)) }, rx)
    }
}

struct Inner {
    topics: Mutex<HashMap<String, Vec<(u64, Inbox)>>>,
    next_id: AtomicU64,
    node: String,
    nats: Mutex<Option<async_nats::Client>>,
    connections: std::sync::atomic::AtomicI64,
}

/// The pub/sub hub of this node. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

/// The NATS subject every node publishes to and listens on.
const SUBJECT: &str = "lifebuoy.events";

#[derive(serde::Serialize, serde::Deserialize)]
struct Wire {
    node: String,
    event: BusEvent,
}

impl Hub {
    pub fn new() -> Hub {
        Hub {
            inner: Arc::new(Inner {
                topics: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                node: uuid::Uuid::new_v4().simple().to_string(),
                nats: Mutex::new(None),
                connections: std::sync::atomic::AtomicI64::new(0),
            }),
        }
    }

    /// Joins the other nodes through NATS: what this node publishes goes to them, what they publish is
    /// delivered here. Reconnects are the NATS client's job; while it is away, nodes fall back to the
    /// database-backed resume.
    pub async fn connect_nats(&self, url: &str) -> Result<(), async_nats::ConnectError> {
        let client = async_nats::ConnectOptions::new().name("lifebuoy").connect(url).await?;
        let mut sub = client.subscribe(SUBJECT).await.map_err(|e| {
            tracing::error!(error = %e, "NATS subscribe failed");
            async_nats::ConnectError::from(async_nats::ConnectErrorKind::Io)
        })?;
        *self.inner.nats.lock().expect("hub lock") = Some(client);
        let hub = self.clone();
        tokio::spawn(async move {
            use futures::StreamExt;
            while let Some(m) = sub.next().await {
                match serde_json::from_slice::<Wire>(&m.payload) {
                    Ok(w) if w.node != hub.inner.node => hub.deliver(Arc::new(w.event)),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "unreadable NATS event"),
                }
            }
            tracing::error!("NATS subscription ended");
        });
        Ok(())
    }

    /// Subscribes an inbox to a topic; returns the subscription id for [`Hub::unsubscribe`].
    pub fn subscribe(&self, topic: &str, inbox: &Inbox) -> u64 {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner.topics.lock().expect("hub lock").entry(topic.to_string()).or_default().push((id, inbox.clone()));
        id
    }

    pub fn unsubscribe(&self, topic: &str, id: u64) {
        let mut topics = self.inner.topics.lock().expect("hub lock");
        if let Some(subs) = topics.get_mut(topic) {
            subs.retain(|(i, _)| *i != id);
            if subs.is_empty() {
                topics.remove(topic);
            }
        }
    }

    /// Publishes a node-to-node notice (an index change, say) on a topic of its own: JSON, internal, with no
    /// conversation or sequence number.
    pub fn announce<T: serde::Serialize>(&self, topic: &str, notice: &T) {
        match serde_json::to_string(notice) {
            Ok(frame) => self.publish(BusEvent {
                topic: topic.into(),
                conversation_id: None,
                seq: None,
                internal: true,
                frame: frame.into(),
                control: None,
            }),
            Err(e) => tracing::error!(error = %e, topic, "a notice does not serialise"),
        }
    }

    /// Publishes to this node's subscribers and, with NATS, to the other nodes.
    pub fn publish(&self, event: BusEvent) {
        let event = Arc::new(event);
        self.deliver(event.clone());
        let client = self.inner.nats.lock().expect("hub lock").clone();
        if let Some(client) = client {
            let wire = Wire { node: self.inner.node.clone(), event: (*event).clone() };
            match serde_json::to_vec(&wire) {
                Ok(bytes) => {
                    tokio::spawn(async move {
                        if let Err(e) = client.publish(SUBJECT, bytes.into()).await {
                            tracing::warn!(error = %e, "NATS publish failed; other nodes will resume from the database");
                        }
                    });
                }
                Err(e) => tracing::error!(error = %e, "event does not serialise"),
            }
        }
    }

    /// Hands an event to this node's subscribers of its topic. A full queue marks its owner as lagging (it then
    /// catches up from the database) instead of blocking everyone else.
    fn deliver(&self, event: Arc<BusEvent>) {
        let subs: Vec<Inbox> = {
            let topics = self.inner.topics.lock().expect("hub lock");
            match topics.get(&event.topic) {
                Some(s) => s.iter().map(|(_, i)| i.clone()).collect(),
                None => return,
            }
        };
        for inbox in subs {
            if inbox.tx.try_send(event.clone()).is_err() {
                inbox.lagged.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Counts a WebSocket connection in (`+1`) or out (`-1`).
    pub fn count_connection(&self, delta: i64) {
        self.inner.connections.fetch_add(delta, Ordering::Relaxed);
    }

    /// Open WebSocket connections on this node.
    pub fn connections(&self) -> i64 {
        self.inner.connections.load(Ordering::Relaxed)
    }

    /// Number of topics with subscribers on this node (for metrics and tests).
    pub fn topic_count(&self) -> usize {
        self.inner.topics.lock().expect("hub lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(topic: &str, seq: i64) -> BusEvent {
        BusEvent {
            topic: topic.into(),
            conversation_id: None,
            seq: Some(seq),
            internal: false,
            frame: "{}".into(),
            control: None,
        }
    }

    #[tokio::test]
    async fn delivers_to_subscribers_of_the_topic_only() {
        let hub = Hub::new();
        let (a, mut ra) = Inbox::new();
        let (b, mut rb) = Inbox::new();
        let sa = hub.subscribe("c:1", &a);
        hub.subscribe("c:2", &b);
        hub.publish(ev("c:1", 1));
        assert_eq!(ra.recv().await.unwrap().seq, Some(1));
        assert!(rb.try_recv().is_err());
        hub.unsubscribe("c:1", sa);
        hub.publish(ev("c:1", 2));
        assert!(ra.try_recv().is_err());
        assert_eq!(hub.topic_count(), 1);
    }

    #[tokio::test]
    async fn a_full_queue_marks_lag_instead_of_blocking() {
        let hub = Hub::new();
        let (a, _ra) = Inbox::new();
        hub.subscribe("c:1", &a);
        for i in 0..(QUEUE as i64 + 5) {
            hub.publish(ev("c:1", i));
        }
        assert!(a.lagged.load(Ordering::Relaxed));
    }
}
