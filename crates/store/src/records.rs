//! Communication records (migration `0013_records.sql`): the per-conversation hash chain written with every
//! timeline entry, the signing keys' public halves, the signed chain heads (seals), and the entries read back
//! as the chain covers them. The hashing itself is `lifebuoy_records`; the signing keys live with the
//! application (their private halves never reach the database).

use crate::chat::grouped_write;
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

    /// Marks a published key retired (a rotation): signatures made with it still verify, the desk no longer
    /// signs with it. Retiring it again keeps the first time.
    pub async fn retire_signing_key(&self, id: &str) -> Result<bool> {
        Ok(on_write!(self, |pool, _l| sqlx::query(
            "UPDATE signing_keys SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL"
        )
        .bind(id)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?
            > 0)
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

    /// Stores signed chain heads, `(conversation, seal)`, in one write (a second seal of the same entry is a
    /// no-op).
    pub async fn put_seals(&self, seals: &[(String, Seal)]) -> Result<()> {
        if seals.is_empty() {
            return Ok(());
        }
        let seals = seals.to_vec();
        grouped_write!(self, (), [seals], |conn| {
            for (cid, seal) in &seals {
                sqlx::query(
                    "INSERT INTO chain_seals (conversation_id, seq, digest, signed_at, key_id, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (conversation_id, seq) DO NOTHING",
                )
                .bind(cid)
                .bind(seal.seq)
                .bind(&seal.digest)
                .bind(seal.signed_at)
                .bind(&seal.key_id)
                .bind(&seal.signature)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        })
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
    /// Every conversation of a customer, oldest first (merged ones too: they are part of the record), but the
    /// deleted ones.
    pub async fn customer_conversations(&self, customer_id: &str) -> Result<Vec<crate::Conversation>> {
        let cols = crate::rows::CONVERSATION_COLS;
        let c_cols = crate::rows::prefixed("c.", cols);
        // An order's conversation is its buyer's; the seller's records hold it too (through the order).
        let sql = format!(
            "SELECT {cols} FROM conversations WHERE customer_id = $1 AND deleted_at IS NULL UNION ALL \
             SELECT {c_cols} FROM customers k JOIN c2c_orders o ON o.seller = k.external_id \
             JOIN conversations c ON c.id = o.conversation_id WHERE k.id = $1 AND c.deleted_at IS NULL \
             ORDER BY created_at, id"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(customer_id).fetch_all(pool).await)?)
    }
}

/// A customer found by [`Store::find_customers`], with what matched.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CustomerHit {
    pub customer: crate::Customer,
    /// `id`, `uid`, `email`, `name`, `case`, `order`, `tx`.
    pub matched: &'static str,
    /// The case that matched (case number, order id, tx hash).
    pub conversation_id: Option<String>,
    pub case_number: Option<String>,
}

/// The case a customer was found by.
#[derive(sqlx::FromRow)]
struct CaseOf {
    conversation_id: String,
    case_number: Option<String>,
}

/// A customer found through one of their cases.
#[derive(sqlx::FromRow)]
struct CustomerOfCase {
    #[sqlx(flatten)]
    customer: crate::Customer,
    #[sqlx(flatten)]
    case: CaseOf,
}

/// One row of the access log.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct AccessRow {
    pub seq: i64,
    pub at: i64,
    /// `agent`, `integration`, `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// Who, readably (an agent's name and 工号, an integration's name).
    pub actor_label: String,
    pub customer_id: Option<String>,
    pub conversation_id: Option<String>,
    /// `customer_page`, `conversation`, `export`.
    pub what: String,
    /// Which screen or API (`console.customer`, `console.ticket`, `api.records.export`, …).
    pub screen: String,
    pub digest: String,
}

/// An access to log.
#[derive(Debug, Clone)]
pub struct NewAccess {
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub customer_id: Option<String>,
    pub conversation_id: Option<String>,
    pub what: String,
    pub screen: String,
}

/// What an access row's leaf covers: every column but the digest.
#[derive(serde::Serialize)]
struct AccessLeaf<'a> {
    seq: i64,
    at: i64,
    actor_kind: &'a str,
    actor_id: Option<&'a str>,
    actor_label: &'a str,
    customer_id: Option<&'a str>,
    conversation_id: Option<&'a str>,
    what: &'a str,
    screen: &'a str,
}

fn access_leaf(r: &AccessRow) -> String {
    lifebuoy_records::leaf_of(&AccessLeaf {
        seq: r.seq,
        at: r.at,
        actor_kind: &r.actor_kind,
        actor_id: r.actor_id.as_deref(),
        actor_label: &r.actor_label,
        customer_id: r.customer_id.as_deref(),
        conversation_id: r.conversation_id.as_deref(),
        what: &r.what,
        screen: &r.screen,
    })
}

const ACCESS_COLS: &str =
    "seq, at, actor_kind, actor_id, actor_label, customer_id, conversation_id, what, screen, digest";

impl Store {
    /// Customers matching `q`: by our id or the exchange's UID, email (case-insensitive), name, case number,
    /// order id or transaction hash; UID, email, name, order id and tx hash also by prefix. At most `limit`,
    /// each customer once, exact matches first. Every lookup is an index range, also at millions of rows.
    pub async fn find_customers(&self, q: &str, limit: i64) -> Result<Vec<CustomerHit>> {
        let q = q.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let limit = limit.clamp(1, 100);
        // A prefix as a byte-wise range: [q, q + U+10FFFF). PostgreSQL's ~>=~ and ~<~ compare bytes too and use
        // the text_pattern_ops indexes of migration 0013.
        let (ge, lt) = match self.backend() {
            crate::Backend::Sqlite => (">=", "<"),
            crate::Backend::Postgres => ("~>=~", "~<~"),
        };
        let lower_q = q.to_lowercase();
        let cust = "c.id, c.external_id, c.kind, c.email, c.name, c.lang, c.created_at";
        let by_case =
            "v.id AS conversation_id, v.case_number FROM conversations v JOIN customers c ON c.id = v.customer_id";
        let exact = |col: &str| format!("{col} = $1");
        let prefix = |col: &str| format!("{col} {ge} $1 AND {col} {lt} $2 ORDER BY {col}");
        // What to look in, in the order hits are listed: exact ids first, then prefixes. `true`: through a case.
        let lookups: [(&'static str, bool, String, &str); 7] = [
            ("id", false, exact("c.id"), q),
            ("case", true, exact("v.case_number"), q),
            ("uid", false, prefix("c.external_id"), q),
            ("email", false, prefix("lower(c.email)"), &lower_q),
            ("name", false, prefix("c.name"), q),
            ("order", true, prefix("v.order_id"), q),
            ("tx", true, prefix("v.tx_hash"), q),
        ];
        let mut hits: Vec<CustomerHit> = Vec::new();
        for (matched, through_case, cond, term) in lookups {
            if hits.len() as i64 >= limit {
                break;
            }
            let upper = format!("{term}\u{10FFFF}");
            let prefixed = cond.contains("$2");
            let found: Vec<(crate::Customer, Option<CaseOf>)> = if through_case {
                let sql = format!("SELECT {cust}, {by_case} WHERE {cond} LIMIT {limit}");
                let rows: Vec<CustomerOfCase> = on_read!(self, |pool| {
                    let q = sqlx::query_as(&sql).bind(term);
                    if prefixed { q.bind(&upper) } else { q }.fetch_all(pool).await
                })?;
                rows.into_iter().map(|r| (r.customer, Some(r.case))).collect()
            } else {
                let sql = format!("SELECT {cust} FROM customers c WHERE {cond} LIMIT {limit}");
                let rows: Vec<crate::Customer> = on_read!(self, |pool| {
                    let q = sqlx::query_as(&sql).bind(term);
                    if prefixed { q.bind(&upper) } else { q }.fetch_all(pool).await
                })?;
                rows.into_iter().map(|c| (c, None)).collect()
            };
            for (customer, case) in found {
                if hits.len() as i64 >= limit || hits.iter().any(|h| h.customer.id == customer.id) {
                    continue;
                }
                let (conversation_id, case_number) =
                    case.map_or((None, None), |c| (Some(c.conversation_id), c.case_number));
                hits.push(CustomerHit { customer, matched, conversation_id, case_number });
            }
        }
        Ok(hits)
    }

    /// Appends to the access log, chained to the row before (one writer at a time: the group writer on SQLite,
    /// a transaction-scoped advisory lock on PostgreSQL).
    pub async fn log_access(&self, a: &NewAccess) -> Result<AccessRow> {
        let a = a.clone();
        let pg = matches!(self.backend(), crate::Backend::Postgres);
        grouped_write!(self, AccessRow, [a], |conn| {
            if pg {
                sqlx::query("SELECT pg_advisory_xact_lock(7412001)").execute(&mut *conn).await?;
            }
            let last: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, digest FROM access_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *conn)
                    .await?;
            let (seq, prev) = last.map_or((1, GENESIS.to_owned()), |(s, d)| (s + 1, d));
            let mut row = AccessRow {
                seq,
                at: now_ms(),
                actor_kind: a.actor_kind.clone(),
                actor_id: a.actor_id.clone(),
                actor_label: a.actor_label.clone(),
                customer_id: a.customer_id.clone(),
                conversation_id: a.conversation_id.clone(),
                what: a.what.clone(),
                screen: a.screen.clone(),
                digest: String::new(),
            };
            row.digest = lifebuoy_records::digest(&prev, &access_leaf(&row));
            sqlx::query(&format!(
                "INSERT INTO access_log ({ACCESS_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(row.seq)
            .bind(row.at)
            .bind(&row.actor_kind)
            .bind(&row.actor_id)
            .bind(&row.actor_label)
            .bind(&row.customer_id)
            .bind(&row.conversation_id)
            .bind(&row.what)
            .bind(&row.screen)
            .bind(&row.digest)
            .execute(&mut *conn)
            .await?;
            Ok(row)
        })
    }

    /// The access log, newest first: of one customer, or of one actor, or all; `before` a seq for the next page.
    pub async fn access_log(
        &self,
        customer_id: Option<&str>,
        actor_id: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AccessRow>> {
        let sql = format!(
            "SELECT {ACCESS_COLS} FROM access_log WHERE ($1 IS NULL OR customer_id = $1) AND ($2 IS NULL OR actor_id = $2) \
             AND seq < $3 ORDER BY seq DESC LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql)
            .bind(customer_id)
            .bind(actor_id)
            .bind(before.unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await)?)
    }

    /// Checks the whole access log's chain: `None` when whole, else the first row (seq) changed, or the first
    /// missing one.
    pub async fn verify_access_log(&self) -> Result<Option<i64>> {
        let sql = format!("SELECT {ACCESS_COLS} FROM access_log ORDER BY seq");
        let rows: Vec<AccessRow> = on_read!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        let mut prev = GENESIS.to_owned();
        for (i, r) in rows.iter().enumerate() {
            if r.seq != i as i64 + 1 {
                return Ok(Some(i as i64 + 1));
            }
            let d = lifebuoy_records::digest(&prev, &access_leaf(r));
            if d != r.digest {
                return Ok(Some(r.seq));
            }
            prev = d;
        }
        Ok(None)
    }
}

/// What a customer's history is filtered by.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// `chat`, `ticket`, `email`, …
    pub channel: Option<String>,
    pub status: Option<String>,
    /// Created at or after (ms).
    pub from: Option<i64>,
    /// Created before (ms).
    pub to: Option<i64>,
    /// Words in the subject, the case number or a message the customer can see.
    pub text: Option<String>,
}

/// A customer's own conversations, and (an order's conversation being its buyer's) those of the orders they
/// sold, for the history's query.
const HISTORY_OWN: &str = "SELECT id, kind, case_number, subject, status, created_at, updated_at, order_id, \
    assignee_id, deleted_at FROM conversations WHERE customer_id = $1";
const HISTORY_SOLD: &str = "SELECT c.id, c.kind, c.case_number, c.subject, c.status, c.created_at, c.updated_at, \
    c.order_id, c.assignee_id, c.deleted_at FROM customers k JOIN c2c_orders o ON o.seller = k.external_id \
    JOIN conversations c ON c.id = o.conversation_id WHERE k.id = $1";

/// One conversation in a customer's history.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct HistoryRow {
    pub id: String,
    pub kind: String,
    pub case_number: Option<String>,
    pub subject: String,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// A C2C order's conversation: the order (the customer opens it on the order's page).
    pub order_id: Option<String>,
    /// The 工号 of the agent holding it.
    pub agent_no: Option<String>,
    pub agent_name: Option<String>,
    /// Entries the customer can see.
    pub entries: i64,
}

impl Store {
    /// A customer's conversations across channels (with the order chats of what they sold), the most recently
    /// active first, filtered; at most `limit`.
    pub async fn customer_history(&self, customer_id: &str, f: &HistoryFilter, limit: i64) -> Result<Vec<HistoryRow>> {
        let like = f.text.as_deref().map(|t| {
            let esc = t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{esc}%")
        });
        let sql = format!(
            "SELECT c.id, c.kind, c.case_number, c.subject, c.status, c.created_at, c.updated_at, c.order_id, \
             a.agent_no, a.display_name AS agent_name, \
             (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.internal = FALSE) AS entries \
             FROM ({HISTORY_OWN} UNION ALL {HISTORY_SOLD}) c LEFT JOIN agents a ON a.id = c.assignee_id \
             WHERE c.deleted_at IS NULL AND ($2 IS NULL OR c.kind = $2) AND ($3 IS NULL OR c.status = $3) \
             AND ($4 IS NULL OR c.created_at >= $4) AND ($5 IS NULL OR c.created_at < $5) \
             AND ($6 IS NULL OR c.subject LIKE $6 ESCAPE '\\' OR c.case_number LIKE $6 ESCAPE '\\' \
                  OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.internal = FALSE \
                             AND m.body LIKE $6 ESCAPE '\\')) \
             ORDER BY c.updated_at DESC, c.id DESC LIMIT {}",
            limit.clamp(1, 500)
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql)
            .bind(customer_id)
            .bind(&f.channel)
            .bind(&f.status)
            .bind(f.from)
            .bind(f.to)
            .bind(&like)
            .fetch_all(pool)
            .await)?)
    }
}

/// A legal hold.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct LegalHold {
    pub id: String,
    pub customer_id: Option<String>,
    pub conversation_id: Option<String>,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: i64,
    pub released_by: Option<String>,
    pub released_at: Option<i64>,
}

const HOLD_COLS: &str = "id, customer_id, conversation_id, reason, placed_by, placed_at, released_by, released_at";

/// Whether a live hold covers a conversation (of `$cid`, whose customer is `$kid`), inside a write.
macro_rules! held {
    ($tx:expr, $cid:expr, $kid:expr) => {{
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM legal_holds WHERE released_at IS NULL AND (conversation_id = $1 OR customer_id = $2)",
        )
        .bind($cid)
        .bind($kid)
        .fetch_one(&mut *$tx)
        .await?;
        n > 0
    }};
}

impl Store {
    /// Places a legal hold on a customer or a conversation.
    pub async fn place_hold(
        &self,
        customer_id: Option<&str>,
        conversation_id: Option<&str>,
        reason: &str,
        by: &str,
    ) -> Result<LegalHold> {
        let h = LegalHold {
            id: crate::new_id(),
            customer_id: customer_id.map(str::to_owned),
            conversation_id: conversation_id.map(str::to_owned),
            reason: reason.to_owned(),
            placed_by: by.to_owned(),
            placed_at: now_ms(),
            released_by: None,
            released_at: None,
        };
        let row = h.clone();
        grouped_write!(self, (), [row], |conn| {
            sqlx::query(&format!("INSERT INTO legal_holds ({HOLD_COLS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)"))
                .bind(&row.id)
                .bind(&row.customer_id)
                .bind(&row.conversation_id)
                .bind(&row.reason)
                .bind(&row.placed_by)
                .bind(row.placed_at)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })?;
        Ok(h)
    }

    /// Releases a hold; `false` when it was not live.
    pub async fn release_hold(&self, id: &str, by: &str) -> Result<bool> {
        let (id, by) = (id.to_owned(), by.to_owned());
        grouped_write!(self, bool, [id, by], |conn| {
            let n = sqlx::query(
                "UPDATE legal_holds SET released_at = $3, released_by = $2 WHERE id = $1 AND released_at IS NULL",
            )
            .bind(&id)
            .bind(&by)
            .bind(now_ms())
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(n == 1)
        })
    }

    /// The live holds on a customer or on any of their conversations.
    pub async fn holds_of_customer(&self, customer_id: &str) -> Result<Vec<LegalHold>> {
        let sql = format!(
            "SELECT {HOLD_COLS} FROM legal_holds WHERE released_at IS NULL AND (customer_id = $1 OR conversation_id IN \
             (SELECT id FROM conversations WHERE customer_id = $1)) ORDER BY placed_at"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(customer_id).fetch_all(pool).await)?)
    }

    /// Soft-deletes a conversation (hidden at once, erased by the purge after the recovery window). Refused
    /// under a legal hold (`Conflict::LegalHold`).
    pub async fn delete_conversation(&self, id: &str, by: &str) -> Result<()> {
        let (id, by) = (id.to_owned(), by.to_owned());
        grouped_write!(self, (), [id, by], |conn| {
            let kid: Option<String> = sqlx::query_scalar("SELECT customer_id FROM conversations WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut *conn)
                .await?;
            let kid = kid.ok_or(crate::StoreError::NotFound)?;
            if held!(conn, &id, &kid) {
                return Err(crate::Conflict::LegalHold.into());
            }
            sqlx::query(
                "UPDATE conversations SET deleted_at = $2, deleted_by = $3 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(&id)
            .bind(now_ms())
            .bind(&by)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }

    /// Restores a soft-deleted conversation not yet erased; `false` when there was nothing to restore.
    pub async fn restore_conversation(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        grouped_write!(self, bool, [id], |conn| {
            let n = sqlx::query(
                "UPDATE conversations SET deleted_at = NULL, deleted_by = NULL WHERE id = $1 AND deleted_at IS NOT NULL \
                 AND erased_at IS NULL",
            )
            .bind(&id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            Ok(n == 1)
        })
    }

    /// Soft-deleted conversations whose recovery window ended before `before`, not yet erased and under no
    /// legal hold (those are [`Store::held_deleted`]), at most `limit`.
    pub async fn due_for_purge(&self, before: i64, limit: i64) -> Result<Vec<String>> {
        Ok(on_read!(self, |pool| sqlx::query_scalar(&format!(
            "SELECT c.id FROM conversations c WHERE c.deleted_at IS NOT NULL AND c.deleted_at < $1 \
             AND c.erased_at IS NULL AND NOT {} ORDER BY c.deleted_at LIMIT {}",
            crate::privacy::HELD_SQL,
            limit.clamp(1, 1000)
        ))
        .bind(before)
        .fetch_all(pool)
        .await)?)
    }

    /// Erases a conversation's content: every message's body and attachments' names, every event's data are
    /// blanked, each entry keeping its digest and getting its leaf (`leaves`: seq → leaf, computed by the
    /// caller from the content before), so the chain stays whole and older exports still verify. Refused
    /// under a legal hold; answers how many entries it erased. With `hide_by`, a conversation not yet deleted
    /// is also marked deleted by that name (erased by a retention rule or on the customer's request, it leaves
    /// every list at once).
    pub async fn erase_conversation(&self, id: &str, leaves: &[(i64, String)], hide_by: Option<&str>) -> Result<u64> {
        let (id, leaves, hide_by) = (id.to_owned(), leaves.to_vec(), hide_by.map(str::to_owned));
        grouped_write!(self, u64, [id, leaves, hide_by], |conn| {
            let kid: Option<String> = sqlx::query_scalar("SELECT customer_id FROM conversations WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut *conn)
                .await?;
            let kid = kid.ok_or(crate::StoreError::NotFound)?;
            if held!(conn, &id, &kid) {
                return Err(crate::Conflict::LegalHold.into());
            }
            let now = now_ms();
            let mut n = 0;
            for (seq, leaf) in &leaves {
                n += sqlx::query(
                    "UPDATE messages SET body = '', body_html = NULL, leaf = $3, erased_at = $4 \
                     WHERE conversation_id = $1 AND seq = $2 AND erased_at IS NULL",
                )
                .bind(&id)
                .bind(seq)
                .bind(leaf)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                n += sqlx::query(
                    "UPDATE events SET data = '{}', leaf = $3, erased_at = $4 \
                     WHERE conversation_id = $1 AND seq = $2 AND erased_at IS NULL",
                )
                .bind(&id)
                .bind(seq)
                .bind(leaf)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            }
            // The index drops the erased words with the rest.
            crate::index_log::log_changes(&mut *conn, crate::Indexed::Ticket, &[id.as_str()]).await?;
            sqlx::query("UPDATE attachments SET filename = '' WHERE conversation_id = $1")
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE conversations SET erased_at = $2, subject = '', \
                 deleted_at = CASE WHEN deleted_at IS NULL AND $3 IS NOT NULL THEN $2 ELSE deleted_at END, \
                 deleted_by = CASE WHEN deleted_at IS NULL AND $3 IS NOT NULL THEN $3 ELSE deleted_by END WHERE id = $1",
            )
            .bind(&id)
            .bind(now)
            .bind(&hide_by)
            .execute(&mut *conn)
            .await?;
            Ok(n)
        })
    }
}
