//! Offline verification of an export: the chain of every conversation entry by entry, its signed heads, and
//! the document's signature. The first problem found is named by conversation and entry: an entry altered,
//! removed, inserted or out of order.

use crate::chain::{digest, digest_bytes, hex32, leaf_bytes};
use crate::export::{ConversationRecord, EntryBody, Export, FORMAT, Seal};
use crate::keys::{PreparedKey, PublicKey, SignatureError};
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
    verify_signed(export, trusted, &export.signed_bytes())
}

/// [`verify`] with the document's signed bytes already made.
fn verify_signed(export: &Export, trusted: Option<&[PublicKey]>, signed: &[u8]) -> Result<Verified, Tamper> {
    if export.format != FORMAT {
        return Err(Tamper::Format(format!("format {:?}, expected {FORMAT:?}", export.format)));
    }
    let keys = Keys::new(trusted.unwrap_or(&export.keys));
    // Conversations are independent: they are checked on every core, in contiguous runs, and the first problem
    // of the earliest run is the first in the document.
    let convs = &export.conversations;
    let entries: usize = convs.iter().map(|c| c.entries.len()).sum();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(convs.len().max(1));
    let runs: Vec<Result<(usize, Vec<String>), Tamper>> = if threads > 1 && entries >= 2_000 {
        let per = convs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = convs.chunks(per).map(|run| scope.spawn(|| check_run(run, &keys))).collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
        })
    } else {
        vec![check_run(convs, &keys)]
    };
    let mut counted = 0;
    let mut used: Vec<String> = Vec::new();
    for run in runs {
        let (n, ids) = run?;
        counted += n;
        for id in ids {
            if !used.contains(&id) {
                used.push(id);
            }
        }
    }
    let sig = export.signature.as_ref().ok_or_else(|| Tamper::Signature("the export is not signed".into()))?;
    keys.check(&sig.key_id, signed, &sig.value).map_err(Tamper::Signature)?;
    if !used.contains(&sig.key_id) {
        used.push(sig.key_id.clone());
    }
    Ok(Verified { conversations: convs.len(), entries: counted, key_ids: used })
}

/// The keys a verification accepts, each looked up, its id checked and its point decoded once, not once per
/// seal.
struct Keys<'a> {
    given: &'a [PublicKey],
    prepared: std::sync::Mutex<Vec<(String, Result<PreparedKey, SignatureError>)>>,
}

impl<'a> Keys<'a> {
    fn new(given: &'a [PublicKey]) -> Self {
        Keys { given, prepared: Default::default() }
    }

    /// Checks `sig` over `msg` with key `id`; why not, in words.
    fn check(&self, id: &str, msg: &[u8], sig: &str) -> Result<(), String> {
        let key = {
            let mut prepared = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((_, k)) = prepared.iter().find(|(k, _)| k == id) {
                k.clone()
            } else {
                let k = match self.given.iter().find(|k| k.id == id) {
                    None => Err(SignatureError::UnknownKey(id.into())),
                    Some(k) if !k.id_matches() => Err(SignatureError::WrongId(id.into())),
                    Some(k) => k.prepare(),
                };
                prepared.push((id.to_string(), k.clone()));
                k
            }
        };
        key.map_err(|e| e.to_string())?.verify(msg, sig).map_err(|e| e.to_string())
    }
}

/// Checks a run of conversations: each chain entry by entry, then its seals. The entries counted and the key
/// ids used, or the first problem.
fn check_run(run: &[ConversationRecord], keys: &Keys<'_>) -> Result<(usize, Vec<String>), Tamper> {
    let mut entries = 0;
    let mut used: Vec<String> = Vec::new();
    for c in run {
        let (cid, case) = (&c.id, &c.case_number);
        let at = |seq| (cid.clone(), case.clone(), seq);
        // Digests as bytes: hex only at the edges (each entry's written digest is read once).
        let mut prev = [0u8; 32];
        let mut digests: Vec<[u8; 32]> = Vec::with_capacity(c.entries.len());
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
            let d = match &e.body {
                EntryBody::Shown { content, .. } => digest_bytes(&prev, &leaf_bytes(cid, e.seq, e.at, content)),
                EntryBody::Withheld { leaf, .. } => match hex32(leaf) {
                    Some(l) => digest_bytes(&prev, &l),
                    // A leaf that is not 32 bytes of hex still gives a digest, as the chain defines it.
                    None => hex32(&digest(&hex::encode(prev), leaf)).unwrap_or_default(),
                },
            };
            if hex32(&e.digest) != Some(d) {
                let (conversation, case, seq) = at(e.seq);
                // Past the signed head nothing was ever signed: such an entry was made up, not altered.
                return Err(if seq > signed_to {
                    Tamper::Inserted { conversation, case, seq }
                } else {
                    Tamper::Altered { conversation, case, seq }
                });
            }
            digests.push(d);
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
            if hex32(&s.digest) != Some(digests[(s.seq - 1) as usize]) {
                return Err(Tamper::Seal { conversation, case, seq, why: "its digest differs".into() });
            }
            keys.check(&s.key_id, &Seal::message(cid, s.seq, &s.digest, s.signed_at, &s.key_id), &s.signature)
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
    Ok((entries, used))
}

/// Verifies an export as received: JSON text. Beyond [`verify`], the text must hold exactly what the format
/// defines: a field the format does not know (or a default left out) is not covered by the signature as the
/// verifier re-reads it, so a document carrying one is refused rather than shown as verified.
pub fn verify_json(text: &str, trusted: Option<&[PublicKey]>) -> Result<Verified, Tamper> {
    // Two readings of the text, side by side on a large one: the JSON tree (whose canonical bytes the
    // document's signature covers) and the export as the format reads it.
    let tree = || {
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Tamper::Format(format!("not valid JSON: {e}")))?;
        let signed = Export::signed_bytes_of(&raw);
        Ok::<_, Tamper>((raw, signed))
    };
    let typed = || serde_json::from_str::<Export>(text);
    let (read_tree, read_export) = if text.len() >= 256 * 1024 {
        std::thread::scope(|scope| {
            let t = scope.spawn(tree);
            let e = typed();
            (t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), e)
        })
    } else {
        (tree(), typed())
    };
    let (raw, signed) = read_tree?;
    let export = read_export.map_err(|e| Tamper::Format(e.to_string()))?;
    // The document's signature is checked over the canonical bytes of the text as received, so anything the
    // format does not define (an unknown field, a default left out) is covered by it: added afterwards, it
    // breaks the signature. Only then is the tree compared with what the format reads, to say which field it
    // was (comparing first would cost a quarter of the time of every valid export).
    match verify_signed(&export, trusted, &signed) {
        Err(Tamper::Signature(why)) => {
            let read = serde_json::to_value(&export).map_err(|e| Tamper::Format(e.to_string()))?;
            match first_difference(&raw, &read, "$") {
                Some(path) => Err(Tamper::Format(format!("{path} is not part of the format"))),
                None => Err(Tamper::Signature(why)),
            }
        }
        other => other,
    }
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
