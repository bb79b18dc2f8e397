//! Offline verification of an export: the chain of every conversation entry by entry, its signed heads, and
//! the document's signature. The first problem found is named by conversation and entry: an entry altered,
//! removed, inserted or out of order.

use crate::chain::{GENESIS, digest, leaf};
use crate::export::{EntryBody, Export, FORMAT, Seal};
use crate::keys::{PublicKey, SignatureError};
use std::fmt;

/// What an untouched export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub conversations: usize,
    pub entries: usize,
    /// The keys whose signatures were checked.
    pub key_ids: Vec<String>,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// Not an export this verifier knows.
    Format(String),
    /// Entry `seq` of `conversation` was changed (its content no longer hashes to its digest).
    Altered { conversation: String, case: Option<String>, seq: i64 },
    /// Entry `seq` is missing.
    Removed { conversation: String, case: Option<String>, seq: i64 },
    /// An entry that was not in the signed chain (`seq` is the number it carries).
    Inserted { conversation: String, case: Option<String>, seq: i64 },
    /// Entry `seq` is out of place: it comes before entry `before`.
    Reordered { conversation: String, case: Option<String>, seq: i64, before: i64 },
    /// A signed chain head does not match the entries (changed at or before entry `seq`).
    Seal { conversation: String, case: Option<String>, seq: i64, why: String },
    /// The document's own signature (over names, statuses and everything else) does not check.
    Signature(String),
}

fn name(conversation: &str, case: &Option<String>) -> String {
    match case {
        Some(c) => format!("conversation {c} ({conversation})"),
        None => format!("conversation {conversation}"),
    }
}

impl fmt::Display for Tamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tamper::Format(why) => write!(f, "not a Lifebuoy records export: {why}"),
            Tamper::Altered { conversation, case, seq } => {
                write!(f, "{}: entry {seq} was altered", name(conversation, case))
            }
            Tamper::Removed { conversation, case, seq } => {
                write!(f, "{}: entry {seq} was removed", name(conversation, case))
            }
            Tamper::Inserted { conversation, case, seq } => {
                write!(f, "{}: entry {seq} was inserted (it is not in the signed chain)", name(conversation, case))
            }
            Tamper::Reordered { conversation, case, seq, before } => {
                write!(
                    f,
                    "{}: entries were reordered (entry {seq} comes before entry {before})",
                    name(conversation, case)
                )
            }
            Tamper::Seal { conversation, case, seq, why } => {
                write!(f, "{}: the signed chain head at entry {seq} does not match: {why}", name(conversation, case))
            }
            Tamper::Signature(why) => write!(f, "the export's signature does not check: {why}"),
        }
    }
}

impl std::error::Error for Tamper {}

/// Verifies `export`. `trusted`: the keys to accept signatures from; `None` accepts the keys the export lists
/// (then compare their ids with the issuer's published keys).
pub fn verify(export: &Export, trusted: Option<&[PublicKey]>) -> Result<Verified, Tamper> {
    if export.format != FORMAT {
        return Err(Tamper::Format(format!("format {:?}, expected {FORMAT:?}", export.format)));
    }
    let keys: &[PublicKey] = trusted.unwrap_or(&export.keys);
    let key = |id: &str| keys.iter().find(|k| k.id == id);
    let check = |id: &str, msg: &[u8], sig: &str| -> Result<(), String> {
        let k = key(id).ok_or_else(|| SignatureError::UnknownKey(id.into()).to_string())?;
        if !k.id_matches() {
            return Err(SignatureError::WrongId(id.into()).to_string());
        }
        k.verify(msg, sig).map_err(|e| e.to_string())
    };
    let mut entries = 0;
    let mut used = Vec::new();
    for c in &export.conversations {
        let (cid, case) = (&c.id, &c.case_number);
        let at = |seq| (cid.clone(), case.clone(), seq);
        let mut prev = GENESIS.to_string();
        let mut digests: Vec<String> = Vec::with_capacity(c.entries.len());
        let signed_to = c.seals.last().map_or(i64::MAX, |s| s.seq);
        for (i, e) in c.entries.iter().enumerate() {
            let expected = i as i64 + 1;
            if e.seq != expected {
                let (conversation, case, _) = at(e.seq);
                let twice = c.entries.iter().filter(|x| x.seq == e.seq).count() > 1;
                return Err(if e.seq < expected || twice || e.seq > signed_to {
                    // A number seen before (a copy slipped in) or beyond the signed head (made up).
                    Tamper::Inserted { conversation, case, seq: e.seq }
                } else if c.entries[i + 1..].iter().any(|x| x.seq == expected) {
                    Tamper::Reordered { conversation, case, seq: e.seq, before: expected }
                } else {
                    Tamper::Removed { conversation, case, seq: expected }
                });
            }
            let l = match &e.body {
                EntryBody::Shown { content, .. } => leaf(cid, e.seq, e.at, content),
                EntryBody::Withheld { leaf, .. } => leaf.clone(),
            };
            let d = digest(&prev, &l);
            if d != e.digest {
                let (conversation, case, seq) = at(e.seq);
                // Past the signed head nothing was ever signed: such an entry was made up, not altered.
                return Err(if seq > signed_to {
                    Tamper::Inserted { conversation, case, seq }
                } else {
                    Tamper::Altered { conversation, case, seq }
                });
            }
            digests.push(d.clone());
            prev = d;
        }
        entries += c.entries.len();
        let last = c.entries.len() as i64;
        let Some(head) = c.seals.last() else {
            let (conversation, case, seq) = at(last);
            return Err(Tamper::Seal { conversation, case, seq, why: "no signed head".into() });
        };
        for s in &c.seals {
            let (conversation, case, seq) = at(s.seq);
            if s.seq < 1 || s.seq > last {
                // The head names an entry that is not here: the last ones were removed.
                return Err(Tamper::Removed { conversation, case, seq: last + 1 });
            }
            if digests[(s.seq - 1) as usize] != s.digest {
                return Err(Tamper::Seal { conversation, case, seq, why: "its digest differs".into() });
            }
            check(&s.key_id, &Seal::message(cid, s.seq, &s.digest, s.signed_at, &s.key_id), &s.signature)
                .map_err(|why| Tamper::Seal { conversation, case, seq: s.seq, why })?;
            if !used.contains(&s.key_id) {
                used.push(s.key_id.clone());
            }
        }
        if head.seq < last {
            let (conversation, case, seq) = at(head.seq + 1);
            return Err(Tamper::Inserted { conversation, case, seq });
        }
    }
    let sig = export.signature.as_ref().ok_or_else(|| Tamper::Signature("the export is not signed".into()))?;
    check(&sig.key_id, &export.signed_bytes(), &sig.value).map_err(Tamper::Signature)?;
    if !used.contains(&sig.key_id) {
        used.push(sig.key_id.clone());
    }
    Ok(Verified { conversations: export.conversations.len(), entries, key_ids: used })
}

/// Verifies an export as received: JSON text. Beyond [`verify`], the text must hold exactly what the format
/// defines: a field the format does not know (or a default left out) is not covered by the signature as the
/// verifier re-reads it, so a document carrying one is refused rather than shown as verified.
pub fn verify_json(text: &str, trusted: Option<&[PublicKey]>) -> Result<Verified, Tamper> {
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Tamper::Format(format!("not valid JSON: {e}")))?;
    let export: Export = serde_json::from_value(raw.clone()).map_err(|e| Tamper::Format(e.to_string()))?;
    let read = serde_json::to_value(&export).map_err(|e| Tamper::Format(e.to_string()))?;
    // Equal trees are the rule: compare them whole, and walk for the path only when they differ.
    if raw != read
        && let Some(path) = first_difference(&raw, &read, "$")
    {
        return Err(Tamper::Format(format!("{path} is not part of the format")));
    }
    verify(&export, trusted)
}

/// The path of the first place where `raw` and `read` differ, if any.
fn first_difference(raw: &serde_json::Value, read: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match (raw, read) {
        (Value::Object(a), Value::Object(b)) => {
            let extra = a.keys().chain(b.keys()).find(|k| !(a.contains_key(*k) && b.contains_key(*k)));
            if let Some(k) = extra {
                return Some(format!("{path}.{k}"));
            }
            a.iter().find_map(|(k, v)| first_difference(v, &b[k], &format!("{path}.{k}")))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]")))
        }
        (a, b) if a == b => None,
        _ => Some(path.to_string()),
    }
}
