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

/// The canonical form of one entry: what its leaf hashes ([`canonical_bytes`] writes its JCS form directly;
/// this is the reference it is tested against).
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Serialize)]
struct Canonical<'a> {
    conversation_id: &'a str,
    seq: i64,
    at: i64,
    content: &'a Content,
}

/// The leaf of an entry: SHA-256 of the JCS bytes of `{conversation_id, seq, at, content}`, hex.
pub fn leaf(conversation_id: &str, seq: i64, at: i64, content: &Content) -> String {
    hex::encode(leaf_bytes(conversation_id, seq, at, content))
}

/// [`leaf`] as its 32 bytes.
pub(crate) fn leaf_bytes(conversation_id: &str, seq: i64, at: i64, content: &Content) -> [u8; 32] {
    Sha256::digest(canonical_bytes(conversation_id, seq, at, content)).into()
}

/// [`digest`] over bytes: SHA-256(prev ‖ leaf).
pub(crate) fn digest_bytes(prev: &[u8; 32], leaf: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(leaf);
    h.finalize().into()
}

/// 32 bytes written as 64 hex digits, or `None` for anything else.
pub(crate) fn hex32(s: &str) -> Option<[u8; 32]> {
    let mut b = [0u8; 32];
    hex::decode_to_slice(s, &mut b).ok().map(|()| b)
}

/// The JCS bytes of [`Canonical`], written field by field in JCS's order (the names sorted) rather than
/// through a JSON tree: verifying an export computes one per entry. Equal to the generic path (a test holds
/// them so).
fn canonical_bytes(conversation_id: &str, seq: i64, at: i64, content: &Content) -> Vec<u8> {
    use crate::jcs::{write, write_str};
    let mut o = Vec::with_capacity(256);
    let int = |o: &mut Vec<u8>, n: i64| write(o, &serde_json::Value::from(n));
    let opt = |o: &mut Vec<u8>, s: &Option<String>| match s {
        Some(s) => write_str(o, s),
        None => o.extend_from_slice(b"null"),
    };
    o.extend_from_slice(b"{\"at\":");
    int(&mut o, at);
    o.extend_from_slice(b",\"content\":");
    match content {
        Content::Message { author_kind, author_id, body, internal, attachments } => {
            o.extend_from_slice(b"{\"attachments\":[");
            for (i, a) in attachments.iter().enumerate() {
                if i > 0 {
                    o.push(b',');
                }
                o.extend_from_slice(b"{\"content_type\":");
                write_str(&mut o, &a.content_type);
                o.extend_from_slice(b",\"filename\":");
                write_str(&mut o, &a.filename);
                o.extend_from_slice(b",\"id\":");
                write_str(&mut o, &a.id);
                o.extend_from_slice(b",\"sha256\":");
                write_str(&mut o, &a.sha256);
                o.extend_from_slice(b",\"size\":");
                int(&mut o, a.size);
                o.push(b'}');
            }
            o.extend_from_slice(b"],\"author_id\":");
            opt(&mut o, author_id);
            o.extend_from_slice(b",\"author_kind\":");
            write_str(&mut o, author_kind);
            o.extend_from_slice(b",\"body\":");
            write_str(&mut o, body);
            o.extend_from_slice(if *internal { b",\"internal\":true" } else { b",\"internal\":false" });
            o.extend_from_slice(b",\"type\":\"message\"}");
        }
        Content::Event { actor_kind, actor_id, kind, data, internal } => {
            o.extend_from_slice(b"{\"actor_id\":");
            opt(&mut o, actor_id);
            o.extend_from_slice(b",\"actor_kind\":");
            write_str(&mut o, actor_kind);
            o.extend_from_slice(b",\"data\":");
            write(&mut o, data);
            o.extend_from_slice(if *internal { b",\"internal\":true" } else { b",\"internal\":false" });
            o.extend_from_slice(b",\"kind\":");
            write_str(&mut o, kind);
            o.extend_from_slice(b",\"type\":\"event\"}");
        }
    }
    o.extend_from_slice(b",\"conversation_id\":");
    write_str(&mut o, conversation_id);
    o.extend_from_slice(b",\"seq\":");
    int(&mut o, seq);
    o.push(b'}');
    o
}

/// The leaf of any other chained record (the access log's rows): SHA-256 of its JCS bytes, hex.
pub fn leaf_of(record: &impl Serialize) -> String {
    let value = serde_json::to_value(record).expect("a record is plain JSON and always serialises");
    hex::encode(Sha256::digest(crate::jcs::to_vec(&value)))
}

/// The digest of an entry from the previous digest and the entry's leaf (both hex), hex. Input that is not
/// hex (a tampered export) still gives a digest: it just matches nothing.
pub fn digest(prev: &str, leaf: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, leaf] {
        let mut bytes = [0u8; 32];
        match hex::decode_to_slice(part, &mut bytes) {
            Ok(()) => h.update(bytes),
            // Not 32 bytes of hex: hashed as it is, so it matches nothing an untouched chain holds.
            Err(_) => h.update(hex::decode(part).unwrap_or_else(|_| part.as_bytes().to_vec())),
        }
    }
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

    fn content() -> impl proptest::strategy::Strategy<Value = Content> {
        use proptest::prelude::*;
        let text = "[\\u{0}-\\u{1f}\"\\\\a-z中\\u{10000}]{0,6}";
        let attachment =
            (text, text, text, any::<i64>(), text).prop_map(|(id, filename, content_type, size, sha256)| {
                AttachmentRef { id, filename, content_type, size, sha256 }
            });
        prop_oneof![
            (text, proptest::option::of(text), text, any::<bool>(), proptest::collection::vec(attachment, 0..3))
                .prop_map(|(author_kind, author_id, body, internal, attachments)| Content::Message {
                    author_kind,
                    author_id,
                    body,
                    internal,
                    attachments
                }),
            (text, proptest::option::of(text), text, any::<bool>(), text, any::<f64>()).prop_map(
                |(actor_kind, actor_id, kind, internal, note, x)| Content::Event {
                    actor_kind,
                    actor_id,
                    kind,
                    data: serde_json::json!({"to": note, "n": x.is_finite().then_some(x), "list": [1, note]}),
                    internal
                }
            ),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// The hand-written canonical form is the JCS crate's, byte for byte.
        #[test]
        fn the_canonical_bytes_are_the_jcs_crates(c in content(), seq in proptest::prelude::any::<i64>(), at in proptest::prelude::any::<i64>(), id in "[a-z0-9\\u{7f}é-]{0,12}") {
            let want = serde_json_canonicalizer::to_vec(&Canonical { conversation_id: &id, seq, at, content: &c }).unwrap();
            proptest::prop_assert_eq!(canonical_bytes(&id, seq, at, &c), want);
        }
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
