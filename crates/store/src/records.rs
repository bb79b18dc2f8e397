//! Communication records (migration `0013_records.sql`): the per-conversation hash chain written with every
//! timeline entry, the signing keys' public halves, the signed chain heads (seals), and the entries read back
//! as the chain covers them. The hashing itself is `lifebuoy_records`; the signing keys live with the
//! application (their private halves never reach the database).

use crate::{Result, Store, now_ms, on_read, on_write};
use lifebuoy_records::{AttachmentRef, Content, GENESIS, PublicKey, Seal};

/// Inside a write, before an entry's row is inserted: the entry's chain digest, from the digest of the entry
/// before it (`seq - 1`, a message or an event, written earlier in this transaction or before) and the entry's
/// leaf. `$tx` is a connection or transaction; evaluates to the digest (hex).
macro_rules! chain_next {
    ($tx:expr, $cid:expr, $seq:expr, $at:expr, $content:expr) => {{
        let seq: i64 = $seq;
        let cid: &str = $cid;
        let prev: String = if seq <= 1 {
            lifebuoy_records::GENESIS.to_owned()
        } else {
            let p: Option<Option<String>> = sqlx::query_scalar(
                "SELECT digest FROM messages WHERE conversation_id = $1 AND seq = $2 \
                 UNION ALL SELECT digest FROM events WHERE conversation_id = $1 AND seq = $2",
            )
            .bind(cid)
            .bind(seq - 1)
            .fetch_optional(&mut *$tx)
            .await?;
            $crate::records::prev_or_genesis(cid, seq, p.flatten())
        };
        lifebuoy_records::digest(&prev, &lifebuoy_records::leaf(cid, seq, $at, $content))
    }};
}
pub(crate) use chain_next;

/// The previous digest, or (a conversation whose earlier entries were never chained: only before
/// [`Store::chain_legacy_entries`] ran) the start of a chain, said in the log.
pub(crate) fn prev_or_genesis(cid: &str, seq: i64, prev: Option<String>) -> String {
    prev.unwrap_or_else(|| {
        tracing::warn!(conversation = cid, seq, "the entry before has no chain digest: the chain starts again here");
        GENESIS.to_owned()
    })
}

/// [`chain_next!`] on SQLite's raw connection (the chat message hot path).
pub(crate) fn chain_next_raw(
    c: &rusqlite::Connection,
    cid: &str,
    seq: i64,
    at: i64,
    content: &Content,
) -> Result<String> {
    use rusqlite::{OptionalExtension, named_params};
    let prev = if seq <= 1 {
        GENESIS.to_owned()
    } else {
        let p: Option<Option<String>> = c
            .prepare_cached(
                "SELECT digest FROM messages WHERE conversation_id = $1 AND seq = $2 \
                 UNION ALL SELECT digest FROM events WHERE conversation_id = $1 AND seq = $2",
            )?
            .query_row(named_params! {"$1": cid, "$2": seq - 1}, |r| r.get(0))
            .optional()?;
        prev_or_genesis(cid, seq, p.flatten())
    };
    Ok(lifebuoy_records::digest(&prev, &lifebuoy_records::leaf(cid, seq, at, content)))
}

/// One timeline entry as the chain covers it, with what a reader needs beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainEntry {
    pub seq: i64,
    pub at: i64,
    /// The chain digest written with it (`None`: written before chains existed and not yet chained).
    pub digest: Option<String>,
    /// What it says; for an erased entry, what is left (empty body, no attachments): use `leaf`.
    pub content: Content,
    /// Set when its content was erased: its leaf, kept so that the chain stays whole.
    pub erased: Option<String>,
    /// The agent's name and 工号, for messages and events by agents.
    pub author_name: Option<String>,
    pub agent_no: Option<String>,
}

impl ChainEntry {
    pub fn internal(&self) -> bool {
        self.content.internal()
    }
}

#[derive(sqlx::FromRow)]
struct MsgRow {
    id: String,
    seq: i64,
    author_kind: String,
    author_id: Option<String>,
    author_name: Option<String>,
    agent_no: Option<String>,
    body: String,
    internal: bool,
    created_at: i64,
    digest: Option<String>,
    leaf: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    actor_kind: String,
    actor_id: Option<String>,
    actor_name: Option<String>,
    agent_no: Option<String>,
    kind: String,
    data: String,
    internal: bool,
    created_at: i64,
    digest: Option<String>,
    leaf: Option<String>,
}

impl Store {
    /// Every entry of a conversation in sequence order, as the chain covers it.
    pub async fn chain_entries(&self, conversation_id: &str) -> Result<Vec<ChainEntry>> {
        let msql = "SELECT m.id, m.seq, m.author_kind, m.author_id, a.display_name AS author_name, a.agent_no, m.body, \
                    m.internal, m.created_at, m.digest, m.leaf FROM messages m \
                    LEFT JOIN agents a ON m.author_kind = 'agent' AND a.id = m.author_id \
                    WHERE m.conversation_id = $1 ORDER BY m.seq";
        let esql = "SELECT e.seq, e.actor_kind, e.actor_id, a.display_name AS actor_name, a.agent_no, e.kind, e.data, \
                    e.internal, e.created_at, e.digest, e.leaf FROM events e \
                    LEFT JOIN agents a ON e.actor_kind = 'agent' AND a.id = e.actor_id \
                    WHERE e.conversation_id = $1 ORDER BY e.seq";
        let (messages, events): (Vec<MsgRow>, Vec<EventRow>) = on_read!(self, |pool| {
            let m = sqlx::query_as(msql).bind(conversation_id).fetch_all(pool).await?;
            let e = sqlx::query_as(esql).bind(conversation_id).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((m, e))
        })?;
        let mut atts = if messages.is_empty() { vec![] } else { self.attachments_of(conversation_id).await? };
        let mut out: Vec<ChainEntry> = Vec::with_capacity(messages.len() + events.len());
        for m in messages {
            let mut files: Vec<AttachmentRef> = atts
                .extract_if(.., |a| a.message_id.as_deref() == Some(&m.id))
                .map(|a| AttachmentRef {
                    id: a.id,
                    filename: a.filename,
                    content_type: a.content_type,
                    size: a.size,
                    sha256: a.sha256,
                })
                .collect();
            files.sort_by(|a, b| a.id.cmp(&b.id));
            out.push(ChainEntry {
                seq: m.seq,
                at: m.created_at,
                digest: m.digest,
                content: Content::Message {
                    author_kind: m.author_kind,
                    author_id: m.author_id,
                    body: m.body,
                    internal: m.internal,
                    attachments: if m.leaf.is_some() { vec![] } else { files },
                },
                erased: m.leaf,
                author_name: m.author_name,
                agent_no: m.agent_no,
            });
        }
        for e in events {
            out.push(ChainEntry {
                seq: e.seq,
                at: e.created_at,
                digest: e.digest,
                content: Content::Event {
                    actor_kind: e.actor_kind,
                    actor_id: e.actor_id,
                    kind: e.kind,
                    data: serde_json::from_str(&e.data).unwrap_or(serde_json::Value::Null),
                    internal: e.internal,
                },
                erased: e.leaf,
                author_name: e.actor_name,
                agent_no: e.agent_no,
            });
        }
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    /// Publishes a signing key's public half (a second call with the same key is a no-op).
    pub async fn register_signing_key(&self, key: &PublicKey) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO signing_keys (id, public_key, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING"
        )
        .bind(&key.id)
        .bind(&key.public_key)
        .bind(key.created_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Retires every published key but `current` (a rotation: old signatures still verify with them).
    pub async fn retire_signing_keys_but(&self, current: &str) -> Result<u64> {
        Ok(on_write!(self, |pool, _l| sqlx::query(
            "UPDATE signing_keys SET retired_at = $2 WHERE id <> $1 AND retired_at IS NULL"
        )
        .bind(current)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    /// Every published key, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<PublicKey>> {
        let rows: Vec<(String, String, i64, Option<i64>)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT id, public_key, created_at, retired_at FROM signing_keys ORDER BY created_at, id"
        )
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(id, public_key, created_at, retired_at)| PublicKey {
                id,
                alg: "Ed25519".into(),
                public_key,
                created_at,
                retired_at,
            })
            .collect())
    }

    /// Stores a signed chain head (a second seal of the same entry is a no-op).
    pub async fn put_seal(&self, conversation_id: &str, seal: &Seal) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO chain_seals (conversation_id, seq, digest, signed_at, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conversation_id, seq) DO NOTHING"
        )
        .bind(conversation_id)
        .bind(seal.seq)
        .bind(&seal.digest)
        .bind(seal.signed_at)
        .bind(&seal.key_id)
        .bind(&seal.signature)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A conversation's seals, oldest first.
    pub async fn seals(&self, conversation_id: &str) -> Result<Vec<Seal>> {
        let rows: Vec<(i64, String, i64, String, String)> = on_read!(self, |pool| {
            sqlx::query_as(
            "SELECT seq, digest, signed_at, key_id, signature FROM chain_seals WHERE conversation_id = $1 ORDER BY seq"
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(seq, digest, signed_at, key_id, signature)| Seal { seq, digest, signed_at, key_id, signature })
            .collect())
    }

    /// Chains the entries written before chains existed (a database from before migration 0013): for every
    /// conversation with an entry without a digest, computes the digests of all its entries in order and writes
    /// the missing ones. Idempotent; answers how many entries it chained.
    pub async fn chain_legacy_entries(&self) -> Result<u64> {
        let ids: Vec<String> = on_read!(self, |pool| sqlx::query_scalar(
            "SELECT conversation_id FROM messages WHERE digest IS NULL \
             UNION SELECT conversation_id FROM events WHERE digest IS NULL"
        )
        .fetch_all(pool)
        .await)?;
        let mut n = 0u64;
        for cid in ids {
            let entries = self.chain_entries(&cid).await?;
            let mut prev = GENESIS.to_owned();
            let mut missing: Vec<(i64, String)> = Vec::new();
            for e in &entries {
                let leaf = match &e.erased {
                    Some(l) => l.clone(),
                    None => lifebuoy_records::leaf(&cid, e.seq, e.at, &e.content),
                };
                let d = e.digest.clone().unwrap_or_else(|| lifebuoy_records::digest(&prev, &leaf));
                if e.digest.is_none() {
                    missing.push((e.seq, d.clone()));
                }
                prev = d;
            }
            for (seq, d) in missing {
                for table in ["messages", "events"] {
                    let sql = format!(
                        "UPDATE {table} SET digest = $3 WHERE conversation_id = $1 AND seq = $2 AND digest IS NULL"
                    );
                    n += on_write!(self, |pool, _l| sqlx::query(&sql)
                        .bind(&cid)
                        .bind(seq)
                        .bind(&d)
                        .execute(pool)
                        .await
                        .map(|r| r.rows_affected()))?;
                }
            }
        }
        if n > 0 {
            tracing::info!(entries = n, "chained the timeline entries written before records existed");
        }
        Ok(n)
    }
}

impl Store {
    /// Every conversation of a customer, oldest first (merged ones too: they are part of the record).
    pub async fn customer_conversations(&self, customer_id: &str) -> Result<Vec<crate::Conversation>> {
        let sql = format!(
            "SELECT {} FROM conversations WHERE customer_id = $1 ORDER BY created_at, id",
            crate::rows::CONVERSATION_COLS
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(customer_id).fetch_all(pool).await)?)
    }
}
