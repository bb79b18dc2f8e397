//! The export document (`lifebuoy-records/1`): a customer's conversations with every entry, each entry's chain
//! digest, each conversation's signed chain head (its *seal*), and a signature over the whole document by the
//! desk's key. Verifying needs the document and a public key, nothing else ([`crate::verify`]).
//!
//! What the reader may not see (an internal note, an entry whose content was erased) is *withheld*: the entry
//! keeps its place, time and digest and gives its leaf instead of its content, so the chain still verifies.

use crate::chain::Content;
use crate::keys::{PublicKey, SigningKey};
use serde::{Deserialize, Serialize};

/// The format name and version of an export.
pub const FORMAT: &str = "lifebuoy-records/1";

/// A signed export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// [`FORMAT`].
    pub format: String,
    /// Unix milliseconds.
    pub exported_at: i64,
    /// The desk that signed it (its public URL).
    pub issuer: String,
    /// Who asked for it: `customer`, or `agent:<工号>` for an export on the customer's behalf.
    pub exported_by: String,
    /// The language the readable forms are written in (`zh-Hans`, `zh-Hant`, `en`).
    pub lang: String,
    pub customer: CustomerRecord,
    pub conversations: Vec<ConversationRecord>,
    /// The public keys of every signature in it (check them against the issuer's
    /// `/.well-known/lifebuoy-signing-keys`).
    pub keys: Vec<PublicKey>,
    /// The desk's signature over the document's canonical bytes without this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<DocumentSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSignature {
    pub key_id: String,
    /// Ed25519 over JCS(the export without `signature`), base64url.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub id: String,
    /// The exchange's id for the customer (UID), where the exchange gave it.
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// One conversation: a chat, a ticket, a mail thread, an appeal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRecord {
    pub id: String,
    pub case_number: Option<String>,
    /// `chat`, `ticket`, `email`, …
    pub channel: String,
    pub subject: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Every entry, in sequence order, none left out (withheld ones are there without their content).
    pub entries: Vec<EntryRecord>,
    /// Signed chain heads: the last one is the head at export time.
    pub seals: Vec<Seal>,
}

/// One entry of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    /// The chain digest after this entry (hex).
    pub digest: String,
    #[serde(flatten)]
    pub body: EntryBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntryBody {
    /// Shown: what was said or done, and who (name and 工号 for the reader; the chain covers `content`, the
    /// document's signature covers the names).
    Shown {
        content: Content,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_no: Option<String>,
    },
    /// Withheld: `internal` (a note among staff) or `erased` (content removed at the customer's request or by
    /// retention); `leaf` stands in for the content in the chain.
    Withheld { withheld: String, leaf: String },
}

/// A signed chain head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seal {
    pub seq: i64,
    pub digest: String,
    pub signed_at: i64,
    pub key_id: String,
    /// Ed25519 over [`Seal::message`], base64url.
    pub signature: String,
}

#[cfg_attr(not(test), allow(dead_code))]
#[derive(Serialize)]
struct SealMessage<'a> {
    conversation_id: &'a str,
    seq: i64,
    digest: &'a str,
    signed_at: i64,
    key_id: &'a str,
}

impl Seal {
    /// The bytes a seal signs: JCS of `{conversation_id, seq, digest, signed_at, key_id}`.
    pub fn message(conversation_id: &str, seq: i64, digest: &str, signed_at: i64, key_id: &str) -> Vec<u8> {
        // JCS of {conversation_id, digest, key_id, seq, signed_at}: the names in order, written directly (a
        // verification makes one per conversation); `SealMessage` is the reference a test holds it to.
        use crate::jcs::{write, write_str};
        let mut o = Vec::with_capacity(200);
        o.extend_from_slice(b"{\"conversation_id\":");
        write_str(&mut o, conversation_id);
        o.extend_from_slice(b",\"digest\":");
        write_str(&mut o, digest);
        o.extend_from_slice(b",\"key_id\":");
        write_str(&mut o, key_id);
        o.extend_from_slice(b",\"seq\":");
        write(&mut o, &serde_json::Value::from(seq));
        o.extend_from_slice(b",\"signed_at\":");
        write(&mut o, &serde_json::Value::from(signed_at));
        o.push(b'}');
        o
    }

    /// Seals a chain head with `key`.
    pub fn sign(key: &SigningKey, conversation_id: &str, seq: i64, digest: &str, signed_at: i64) -> Seal {
        let key_id = key.id();
        let signature = key.sign(&Seal::message(conversation_id, seq, digest, signed_at, &key_id));
        Seal { seq, digest: digest.into(), signed_at, key_id, signature }
    }
}

impl Export {
    /// The bytes the document signature covers: JCS of the export without `signature`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        Export::signed_bytes_of(&serde_json::to_value(self).expect("an export serialises"))
    }

    /// [`Export::signed_bytes`] of an export as a JSON value: as received, for a verifier.
    pub(crate) fn signed_bytes_of(v: &serde_json::Value) -> Vec<u8> {
        crate::jcs::to_vec_without(v, "signature")
    }

    /// Signs the document with `key` (and lists the key among `keys` if it is not there).
    pub fn sign(&mut self, key: &SigningKey, key_created_at: i64) {
        if !self.keys.iter().any(|k| k.id == key.id()) {
            self.keys.push(key.public(key_created_at));
        }
        self.signature = None;
        let value = key.sign(&self.signed_bytes());
        self.signature = Some(DocumentSignature { key_id: key.id(), value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The seal's bytes, written directly, are the JCS crate's.
        #[test]
        fn a_seal_message_is_the_jcs_of_its_fields(
            cid in "[a-z0-9\\u{0}-\\u{1f}\"中\\u{10000}-]{0,12}",
            seq in proptest::prelude::any::<i64>(),
            digest in "[0-9a-f\"\\\\]{0,8}",
            at in proptest::prelude::any::<i64>(),
            key in "[0-9a-z]{0,16}",
        ) {
            let want = serde_json_canonicalizer::to_vec(&SealMessage {
                conversation_id: &cid, seq, digest: &digest, signed_at: at, key_id: &key,
            }).unwrap();
            proptest::prop_assert_eq!(Seal::message(&cid, seq, &digest, at, &key), want);
        }
    }
}
