//! The per-conversation hash chain. Each entry (message or event) has a *leaf*, the SHA-256 of its canonical
//! bytes (JCS of [`Canonical`]), and a *digest*: the SHA-256 of the previous entry's digest (32 zero bytes for
//! the first) followed by its leaf. Changing, removing, inserting or reordering an entry changes every digest
//! from it on. Erasing an entry's content keeps its leaf (written beside it when it is erased), so the chain
//! stays whole and exports made before still verify.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The digest before the first entry: 32 zero bytes, hex.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A file attached to a message, as the chain covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// What an entry says: the part of a timeline entry the chain covers, beside its conversation, sequence number
/// and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Message {
        /// `customer`, `agent`, `bot`, `system`, `integration`.
        author_kind: String,
        author_id: Option<String>,
        body: String,
        internal: bool,
        #[serde(default)]
        attachments: Vec<AttachmentRef>,
    },
    Event {
        actor_kind: String,
        actor_id: Option<String>,
        /// The event's kind (`status_changed`, `assigned`, …) and its data, as the timeline stores them.
        kind: String,
        data: serde_json::Value,
        internal: bool,
    },
}

impl Content {
    pub fn internal(&self) -> bool {
        match self {
            Content::Message { internal, .. } | Content::Event { internal, .. } => *internal,
        }
    }
}

/// The canonical form of one entry: what its leaf hashes.
#[derive(Serialize)]
struct Canonical<'a> {
    conversation_id: &'a str,
    seq: i64,
    at: i64,
    content: &'a Content,
}

/// The leaf of an entry: SHA-256 of the JCS bytes of `{conversation_id, seq, at, content}`, hex.
pub fn leaf(conversation_id: &str, seq: i64, at: i64, content: &Content) -> String {
    let bytes = serde_json_canonicalizer::to_vec(&Canonical { conversation_id, seq, at, content })
        .expect("an entry is plain JSON and always serialises");
    hex::encode(Sha256::digest(bytes))
}

/// The leaf of any other chained record (the access log's rows): SHA-256 of its JCS bytes, hex.
pub fn leaf_of(record: &impl Serialize) -> String {
    let bytes = serde_json_canonicalizer::to_vec(record).expect("a record is plain JSON and always serialises");
    hex::encode(Sha256::digest(bytes))
}

/// The digest of an entry from the previous digest and the entry's leaf (both hex), hex. Input that is not
/// hex (a tampered export) still gives a digest: it just matches nothing.
pub fn digest(prev: &str, leaf: &str) -> String {
    let mut h = Sha256::new();
    h.update(hex::decode(prev).unwrap_or_else(|_| prev.as_bytes().to_vec()));
    h.update(hex::decode(leaf).unwrap_or_else(|_| leaf.as_bytes().to_vec()));
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> Content {
        Content::Message {
            author_kind: "customer".into(),
            author_id: Some("k1".into()),
            body: body.into(),
            internal: false,
            attachments: vec![],
        }
    }

    #[test]
    fn the_leaf_is_the_sha256_of_the_jcs_bytes() {
        // Keys sorted, no spaces: what a verifier in another language must hash too.
        let c = msg("充值未到账");
        let want = serde_json::json!({"conversation_id": "c1", "seq": 1, "at": 5, "content": c});
        let jcs = r#"{"at":5,"content":{"attachments":[],"author_id":"k1","author_kind":"customer","body":"充值未到账","internal":false,"type":"message"},"conversation_id":"c1","seq":1}"#;
        assert_eq!(serde_json_canonicalizer::to_string(&want).unwrap(), jcs);
        assert_eq!(leaf("c1", 1, 5, &c), hex::encode(Sha256::digest(jcs.as_bytes())));
    }

    #[test]
    fn every_field_and_the_order_change_the_digest() {
        let base = leaf("c1", 1, 5, &msg("hello"));
        assert_ne!(base, leaf("c2", 1, 5, &msg("hello")));
        assert_ne!(base, leaf("c1", 2, 5, &msg("hello")));
        assert_ne!(base, leaf("c1", 1, 6, &msg("hello")));
        assert_ne!(base, leaf("c1", 1, 5, &msg("hellp")));
        let (a, b) = (leaf("c1", 1, 5, &msg("a")), leaf("c1", 2, 5, &msg("b")));
        let ab = digest(&digest(GENESIS, &a), &b);
        let ba = digest(&digest(GENESIS, &b), &a);
        assert_ne!(ab, ba);
        assert_eq!(ab, digest(&digest(GENESIS, &a), &b), "the chain is a function of its entries");
    }
}
