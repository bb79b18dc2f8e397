//! The search indexes' change log (migration `0020_index_changes.sql`): every committed change an index must
//! take in leaves a row, written in the change's own transaction, so no change can commit without its row. A
//! node's index keeps the [`LogPos`] it has read the log up to (stamped in the index itself); on start it reads
//! on from there, and while running it reads on whenever it hears of a change (or every few seconds, should it
//! hear of nothing). Changes made while a node was down, or whose notice it missed, reach its index.
//!
//! Order: SQLite's single writer commits rows in `seq` order, so "every row up to `seq`" is final once seen.
//! PostgreSQL commits out of order: a row with a smaller `seq` may become visible after a larger one. Each row
//! therefore carries its transaction id, and [`ChangePage::settled_below`] is the oldest transaction still
//! running when the page was read: rows of transactions below it are all visible and final. A reader takes
//! every row it sees, but moves its kept position only up to what is settled, and remembers the few rows it
//! took past it ([`LogReader`]), so a late row is read once, never skipped.

use crate::{Backend, Result, Store, now_ms, on_read, on_write};

/// What a reader of the log follows: the ticket index (`ticket`), the knowledge base (`article`, `synonyms`),
/// and, besides tickets, the analytics fold (`chat`: a live chat's transitions and rating, not its messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indexed {
    Ticket,
    Article,
    Synonyms,
    Chat,
}

impl Indexed {
    pub fn as_str(self) -> &'static str {
        match self {
            Indexed::Ticket => "ticket",
            Indexed::Article => "article",
            Indexed::Synonyms => "synonyms",
            Indexed::Chat => "chat",
        }
    }
}

/// A position in the log: every row at or before `(xid, seq)` has been read (`xid` is 0 on SQLite).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct LogPos {
    pub xid: i64,
    pub seq: i64,
}

/// One row of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexChange {
    pub pos: LogPos,
    pub entity: String,
    pub entity_id: String,
}

/// A page of the log, in position order.
#[derive(Debug, Clone, Default)]
pub struct ChangePage {
    pub changes: Vec<IndexChange>,
    /// Rows of transactions with an id below this are all visible (`i64::MAX` on SQLite: every row seen is
    /// final).
    pub settled_below: i64,
    /// The page is full: more rows may follow.
    pub full: bool,
}

/// The log's identity and floor: an index stamped with another `epoch` was built from another database, and
/// one whose position is before `floor` missed pruned rows; both are rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogInfo {
    pub epoch: String,
    pub floor: LogPos,
}

/// Inserts one log row per id, inside the caller's transaction (either backend, or a group-writer write).
pub(crate) async fn log_changes<C, DB>(conn: &mut C, entity: Indexed, ids: &[&str]) -> Result<()>
where
    C: Send,
    DB: sqlx::Database,
    for<'e> &'e mut C: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let now = now_ms();
    for chunk in ids.chunks(300) {
        let pg = DB::NAME == "PostgreSQL";
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| if pg { format!("($1, ${}, $2)", i + 3) } else { format!("(?1, ?{}, ?2)", i + 3) })
            .collect();
        let sql = format!("INSERT INTO index_changes (entity, entity_id, at) VALUES {}", rows.join(", "));
        let mut q = sqlx::query::<DB>(&sql).bind(entity.as_str()).bind(now);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Logs a change to the conversations written: cases as `ticket` (the ticket index and the analytics fold read
/// them), live chats as `chat` (the analytics fold only). Only writes that appended to a timeline count; a chat's
/// messages go through the chat hot path, which logs nothing, so a chat is logged at its transitions.
macro_rules! log_conversation_changes {
    ($tx:expr, $($c:expr),+ $(,)?) => {{
        let (mut cases, mut chats): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
        for c in [$(&$c),+] {
            if c.appended.is_empty() {
                continue;
            }
            if c.kind == "chat" { chats.push(c.id.as_str()) } else { cases.push(c.id.as_str()) }
        }
        if !cases.is_empty() {
            $crate::index_log::log_changes(&mut *$tx, $crate::index_log::Indexed::Ticket, &cases).await?;
        }
        if !chats.is_empty() {
            $crate::index_log::log_changes(&mut *$tx, $crate::index_log::Indexed::Chat, &chats).await?;
        }
    }};
}
pub(crate) use log_conversation_changes;

impl Store {
    /// The rows of `entities` after `after`, at most `limit`, in position order.
    pub async fn index_changes_after(&self, entities: &[Indexed], after: LogPos, limit: usize) -> Result<ChangePage> {
        let limit = limit.clamp(1, 10_000);
        let names: Vec<String> = entities.iter().map(|e| format!("'{}'", e.as_str())).collect();
        let sql = format!(
            "SELECT xid, seq, entity, entity_id FROM index_changes WHERE entity IN ({}) AND (xid, seq) > ($1, $2) \
             ORDER BY xid, seq LIMIT {limit}",
            names.join(", ")
        );
        let settled_below = match self.backend() {
            Backend::Sqlite => i64::MAX,
            // Read before the rows: a transaction below it had ended before they were read, so its rows are in.
            Backend::Postgres => on_read!(self, |pool| sqlx::query_scalar::<_, i64>(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
            )
            .fetch_one(pool)
            .await)?,
        };
        let rows: Vec<(i64, i64, String, String)> =
            on_read!(self, |pool| sqlx::query_as(&sql).bind(after.xid).bind(after.seq).fetch_all(pool).await)?;
        let full = rows.len() == limit;
        let changes = rows
            .into_iter()
            .map(|(xid, seq, entity, entity_id)| IndexChange { pos: LogPos { xid, seq }, entity, entity_id })
            .collect();
        Ok(ChangePage { changes, settled_below, full })
    }

    /// How many rows of `entities` follow `after` (what an index is behind by), counted up to `cap`.
    pub async fn index_changes_behind(&self, entities: &[Indexed], after: LogPos, cap: i64) -> Result<i64> {
        let names: Vec<String> = entities.iter().map(|e| format!("'{}'", e.as_str())).collect();
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM index_changes WHERE entity IN ({}) AND (xid, seq) > ($1, $2) \
             LIMIT {}) t",
            names.join(", "),
            cap.max(1)
        );
        Ok(on_read!(self, |pool| sqlx::query_scalar::<_, i64>(&sql)
            .bind(after.xid)
            .bind(after.seq)
            .fetch_one(pool)
            .await)?)
    }

    /// The log's head: the position of its last row (where an index built now from the database starts
    /// reading). On PostgreSQL rows of transactions still running may later appear below it; a reader that
    /// starts here after a full build re-reads them (`LogReader::starting_at` keeps the reader behind the
    /// running transactions).
    pub async fn index_log_head(&self) -> Result<LogPos> {
        let row: Option<(i64, i64)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT xid, seq FROM index_changes ORDER BY xid DESC, seq DESC LIMIT 1"
        )
        .fetch_optional(pool)
        .await)?;
        let head = row.map(|(xid, seq)| LogPos { xid, seq }).unwrap_or_default();
        match self.backend() {
            Backend::Sqlite => Ok(head),
            Backend::Postgres => {
                // Everything below the oldest running transaction is final: start just under it.
                let xmin: i64 = on_read!(self, |pool| sqlx::query_scalar(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
                )
                .fetch_one(pool)
                .await)?;
                Ok(head.min(LogPos { xid: xmin - 1, seq: i64::MAX }))
            }
        }
    }

    /// The log's epoch and pruned floor.
    pub async fn index_log_info(&self) -> Result<LogInfo> {
        let (epoch, xid, seq): (String, i64, i64) =
            on_read!(self, |pool| sqlx::query_as("SELECT epoch, floor_xid, floor_seq FROM index_log WHERE id = 1")
                .fetch_one(pool)
                .await)?;
        Ok(LogInfo { epoch, floor: LogPos { xid, seq } })
    }

    /// Deletes log rows written before `before` (ms), raising the floor to the last one deleted: a node down
    /// since then rebuilds its indexes. Answers how many rows went.
    pub async fn prune_index_changes(&self, before: i64) -> Result<u64> {
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            let last: Option<(i64, i64)> =
                sqlx::query_as("SELECT xid, seq FROM index_changes WHERE at < $1 ORDER BY xid DESC, seq DESC LIMIT 1")
                    .bind(before)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((xid, seq)) = last else { return Ok(0) };
            let n = sqlx::query("DELETE FROM index_changes WHERE (xid, seq) <= ($1, $2)")
                .bind(xid)
                .bind(seq)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "UPDATE index_log SET floor_xid = $1, floor_seq = $2 WHERE id = 1 AND (floor_xid, floor_seq) < ($1, $2)",
            )
            .bind(xid)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Logs a change to articles or the synonyms outside any other write (the knowledge base's saves log their
    /// own in their transaction).
    pub async fn log_index_changes(&self, entity: Indexed, ids: &[&str]) -> Result<()> {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            log_changes(&mut *tx, entity, &refs).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Reads the log on for one index: takes every row it sees once, and keeps as its position only what is
/// settled (see the module's notes).
#[derive(Debug, Clone, Default)]
pub struct LogReader {
    /// Every row at or before it has been taken, and no row can still appear before it.
    pub pos: LogPos,
    /// Rows taken past `pos` (PostgreSQL only: rows of transactions that were still running).
    taken: std::collections::BTreeSet<LogPos>,
}

impl LogReader {
    pub fn starting_at(pos: LogPos) -> LogReader {
        LogReader { pos, taken: Default::default() }
    }

    /// Reads the rows of `entities` not yet taken (at most about `limit` per call; `more` says whether to call
    /// again at once) and the position to keep once they are applied: call [`LogReader::advance`] with it after
    /// the index committed them.
    pub async fn read(
        &self,
        store: &Store,
        entities: &[Indexed],
        limit: usize,
    ) -> Result<(Vec<IndexChange>, LogPos, bool)> {
        let mut out = Vec::new();
        let mut cursor = self.pos;
        let mut settled = i64::MAX;
        let mut more = false;
        loop {
            let page = store.index_changes_after(entities, cursor, limit).await?;
            settled = settled.min(page.settled_below);
            if let Some(last) = page.changes.last() {
                cursor = last.pos;
            }
            out.extend(page.changes.into_iter().filter(|c| !self.taken.contains(&c.pos)));
            if !page.full {
                break;
            }
            if out.len() >= limit {
                more = true;
                break;
            }
        }
        // What can be kept: up to the last row read, but not past a transaction that may still commit rows
        // below it (and never backwards).
        let settled_pos =
            if settled == i64::MAX { cursor } else { cursor.min(LogPos { xid: settled - 1, seq: i64::MAX }) };
        Ok((out, settled_pos.max(self.pos), more))
    }

    /// Moves the kept position to `keep` (from [`LogReader::read`]), remembering `taken` rows past it.
    pub fn advance(&mut self, taken: &[IndexChange], keep: LogPos) {
        self.taken.extend(taken.iter().map(|c| c.pos).filter(|p| *p > keep));
        self.pos = keep;
        self.taken = self.taken.split_off(&LogPos { xid: keep.xid, seq: keep.seq.saturating_add(1) });
    }
}
