//! The email channel's own records: which mails (by Message-ID) belong to which conversation, in and out, the
//! customer a sender's address stands for, the mails refused at the door with their reason, how many mails a
//! sender sent lately (the rate limit), the admins' blocklist of senders, and the sanitised HTML of mail-born
//! messages.

use crate::chat::grouped_write;
use crate::{Customer, Result, Store, new_id, now_ms, on_read, on_write};

/// One mail of a conversation's thread.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailRecord {
    /// Without angle brackets.
    pub message_id: String,
    pub conversation_id: String,
    /// `in` or `out`.
    pub direction: String,
    pub message_row_id: Option<String>,
    pub created_at: i64,
}

/// A refused mail, as the console lists it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct MailRejection {
    pub id: String,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub subject: Option<String>,
    /// In English (logs; rows noted before codes have only this).
    pub reason: String,
    /// The reason as a stable code the console translates (`auto_submitted`, `blocked`, `rate_mails`, …).
    pub code: Option<String>,
    /// What the mail said that the reason names: a header's value, the blocking pattern, a file's name.
    pub detail: Option<String>,
    /// What the sending server was told: `accepted` (250, set aside), `temporary` (451: try later),
    /// `permanent` (550), or `note` (the mail was taken, a part of it was not).
    pub outcome: String,
    pub created_at: i64,
}

/// Why a mail, or a part of it, was refused (see [`MailRejection`]).
#[derive(Debug, Clone, Copy)]
pub struct RefusalReason<'a> {
    pub code: &'a str,
    pub detail: Option<&'a str>,
    /// The English sentence.
    pub text: &'a str,
}

/// A blocked sender: an address, or a whole domain written `@example.com`.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct BlockedSender {
    pub pattern: String,
    pub note: Option<String>,
    /// The agent who added it.
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// A mail taken in, noted in the transaction that stores its message: see [`note_mail_in!`].
#[derive(Debug, Clone)]
pub struct InboundMail {
    /// Its `Message-ID`, without angle brackets.
    pub message_id: String,
    /// The sender's address, lower case.
    pub sender: String,
    /// Its sanitised HTML, shown beside the text.
    pub html: Option<String>,
}

/// Notes inbound mail `$m` as the message `$mid` of conversation `$cid`, over `$tx` (a transaction on
/// PostgreSQL, the group writer's connection on SQLite); `$opened`: it opened the case.
macro_rules! note_mail_in {
    ($tx:expr, $m:expr, $cid:expr, $mid:expr, $opened:expr) => {{
        let (m, mid): (&$crate::InboundMail, &str) = ($m, $mid);
        sqlx::query(
            "INSERT INTO mail_messages (message_id, conversation_id, direction, message_row_id, sender, opened, created_at) \
             VALUES ($1, $2, 'in', $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&m.message_id)
        .bind($cid)
        .bind(mid)
        .bind(&m.sender)
        .bind(i64::from($opened))
        .bind($crate::now_ms())
        .execute(&mut *$tx)
        .await?;
        if let Some(html) = &m.html {
            sqlx::query("UPDATE messages SET body_html = $1 WHERE id = $2").bind(html).bind(mid).execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use note_mail_in;

impl Store {
    /// The customer a mail's sender stands for. An exchange customer whose address the exchange vouched for (the
    /// email claim of its signed identity token, marked `email_verified_at`; see
    /// [`Store::upsert_exchange_customer`]) when exactly one has it: the mail joins the cases the customer sees
    /// when signed in from the exchange. Otherwise the one customer of that address who reached support without an
    /// exchange account (a guest, who sees the same cases after signing in to the portal with a code sent there),
    /// created on first contact. The name is kept from the first mail that gave one.
    pub async fn mail_customer(&self, email: &str, name: Option<&str>) -> Result<Customer> {
        let email = email.trim().to_lowercase();
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        // Two exchange accounts vouched for the same address (the exchange reassigned it): neither is chosen.
        let known: Vec<Customer> = on_read!(self, |pool| sqlx::query_as(
            "SELECT id, external_id, kind, email, name, lang, created_at FROM customers \
             WHERE kind = 'exchange' AND lower(email) = $1 AND email_verified_at IS NOT NULL LIMIT 2"
        )
        .bind(&email)
        .fetch_all(pool)
        .await)?;
        if let [one] = known.as_slice() {
            return Ok(one.clone());
        }
        let now = now_ms();
        let id = new_id();
        let name = name.map(str::to_string);
        // Through the group-commit writer on SQLite, as are the other mail records here: a mail taken in writes its
        // sender, its case and its Message-ID, and each on its own commit would be an fsync (2.7 ms on the
        // benchmark's disk), capping mail in near 180 a second; in the writer's batch they share one.
        let c: Customer = grouped_write!(self, Customer, [id, email, name], |conn| {
            Ok(sqlx::query_as(
                "INSERT INTO customers (id, kind, email, name, created_at, updated_at) VALUES ($1, 'guest', $2, $3, $4, $4) \
                 ON CONFLICT (email) WHERE kind = 'guest' DO UPDATE SET name = COALESCE(customers.name, excluded.name) \
                 RETURNING id, external_id, kind, email, name, lang, created_at",
            )
            .bind(id)
            .bind(email)
            .bind(name)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?)
        })?;
        Ok(c)
    }

    /// The conversation a mail of `ids` (Message-IDs from In-Reply-To and References, any order) belongs to,
    /// if any: the one of the most recent such mail.
    pub async fn mail_thread(&self, ids: &[String]) -> Result<Option<String>> {
        if ids.is_empty() {
            return Ok(None);
        }
        let ids: Vec<String> = ids.iter().take(100).cloned().collect();
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT conversation_id FROM mail_messages WHERE message_id IN ({}) ORDER BY created_at DESC LIMIT 1",
            marks.join(", ")
        );
        let row: Option<(String,)> = on_read!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_optional(pool).await
        })?;
        Ok(row.map(|r| r.0))
    }

    /// Whether a mail with this Message-ID was taken already.
    pub async fn mail_known(&self, message_id: &str) -> Result<Option<MailRecord>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT message_id, conversation_id, direction, message_row_id, created_at FROM mail_messages \
             WHERE message_id = $1"
        )
        .bind(message_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// Notes a mail of a conversation (a second note of the same Message-ID is a no-op).
    pub async fn record_mail(
        &self,
        message_id: &str,
        conversation_id: &str,
        direction: &str,
        message_row_id: Option<&str>,
    ) -> Result<()> {
        let (message_id, conversation_id, direction) =
            (message_id.to_string(), conversation_id.to_string(), direction.to_string());
        let row_id = message_row_id.map(str::to_string);
        let now = now_ms();
        grouped_write!(self, u64, [message_id, conversation_id, direction, row_id], |conn| {
            Ok(sqlx::query(
                "INSERT INTO mail_messages (message_id, conversation_id, direction, message_row_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(message_id)
            .bind(conversation_id)
            .bind(direction)
            .bind(row_id)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected())
        })?;
        Ok(())
    }

    /// A conversation's mails, oldest first (the References of a reply).
    pub async fn mail_thread_records(&self, conversation_id: &str) -> Result<Vec<MailRecord>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT message_id, conversation_id, direction, message_row_id, created_at FROM mail_messages \
             WHERE conversation_id = $1 ORDER BY created_at, message_id LIMIT 200"
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Notes a mail refused at the door, with why (the sending server was told 250: see
    /// [`Store::record_mail_refusal`]).
    pub async fn record_mail_rejection(
        &self,
        message_id: Option<&str>,
        sender: Option<&str>,
        subject: Option<&str>,
        reason: &str,
    ) -> Result<()> {
        let why = RefusalReason { code: "other", detail: None, text: reason };
        self.record_mail_refusal(message_id, sender, subject, &why, "accepted").await
    }

    /// Notes a refusal with what the sending server was told (`accepted`, `temporary`, `permanent`, `note`).
    pub async fn record_mail_refusal(
        &self,
        message_id: Option<&str>,
        sender: Option<&str>,
        subject: Option<&str>,
        reason: &RefusalReason<'_>,
        outcome: &str,
    ) -> Result<()> {
        let clip = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO mail_rejections (id, message_id, sender, subject, reason, code, detail, outcome, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(new_id())
        .bind(message_id.map(|m| clip(m, 300)))
        .bind(sender.map(|m| clip(m, 300)))
        .bind(subject.map(|s| clip(s, 300)))
        .bind(clip(reason.text, 1000))
        .bind(reason.code)
        .bind(reason.detail.map(|d| clip(d, 300)))
        .bind(outcome)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The latest refused mails, newest first.
    pub async fn mail_rejections(&self, limit: i64) -> Result<Vec<MailRejection>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, message_id, sender, subject, reason, code, detail, outcome, created_at FROM mail_rejections \
             ORDER BY created_at DESC LIMIT $1"
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(pool)
        .await)?)
    }

    /// How many mails from `sender` were taken in since `since_ms`: (those that opened a case, all).
    pub async fn mail_sender_counts(&self, sender: &str, since_ms: i64) -> Result<(i64, i64)> {
        let row: (Option<i64>, i64) = on_read!(self, |pool| sqlx::query_as(
            "SELECT CAST(SUM(opened) AS BIGINT), COUNT(*) FROM mail_messages \
             WHERE sender = $1 AND created_at >= $2 AND direction = 'in'"
        )
        .bind(sender)
        .bind(since_ms)
        .fetch_one(pool)
        .await)?;
        Ok((row.0.unwrap_or(0), row.1))
    }

    /// The first message of a conversation (the one a mail opened it with).
    pub async fn first_message_id(&self, conversation_id: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT id FROM messages WHERE conversation_id = $1 ORDER BY seq LIMIT 1"
        )
        .bind(conversation_id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|r| r.0))
    }

    /// The messages of a conversation that have HTML: (message id, sanitised HTML).
    pub async fn message_html(&self, conversation_id: &str) -> Result<Vec<(String, String)>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, body_html FROM messages WHERE conversation_id = $1 AND body_html IS NOT NULL ORDER BY seq"
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await)?)
    }

    /// Blocks a sender (an address, or `@domain` for a whole domain); blocking again updates the note.
    pub async fn block_sender(&self, pattern: &str, note: Option<&str>, by: Option<&str>) -> Result<BlockedSender> {
        Ok(on_write!(self, |pool, _l| sqlx::query_as(
            "INSERT INTO mail_blocklist (pattern, note, created_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (pattern) DO UPDATE SET note = excluded.note \
             RETURNING pattern, note, created_by, created_at"
        )
        .bind(pattern)
        .bind(note)
        .bind(by)
        .bind(now_ms())
        .fetch_one(pool)
        .await)?)
    }

    /// Unblocks a pattern; whether it was there.
    pub async fn unblock_sender(&self, pattern: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query("DELETE FROM mail_blocklist WHERE pattern = $1")
            .bind(pattern)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The blocklist, by pattern.
    pub async fn blocked_senders(&self) -> Result<Vec<BlockedSender>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT pattern, note, created_by, created_at FROM mail_blocklist ORDER BY pattern LIMIT 5000"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// The blocklist entry that refuses `address` (lower case), if any: the address itself or its domain.
    pub async fn blocked_by(&self, address: &str) -> Result<Option<String>> {
        let domain = address.rsplit_once('@').map(|(_, d)| format!("@{d}")).unwrap_or_default();
        let row: Option<(String,)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT pattern FROM mail_blocklist WHERE pattern = $1 OR pattern = $2 ORDER BY pattern LIMIT 1"
        )
        .bind(address)
        .bind(&domain)
        .fetch_optional(pool)
        .await)?;
        Ok(row.map(|r| r.0))
    }
}

/// Everything a mail to a customer about a case needs, read at once (the mail jobs' hot path): the case, its
/// customer with their anti-phishing code, the case's mails so far (for `References`), and one message.
#[derive(Debug, Clone)]
pub struct MailContext {
    pub conversation: crate::Conversation,
    pub customer: Customer,
    pub anti_phishing_code: Option<String>,
    pub thread: Vec<MailRecord>,
    pub message: Option<crate::Message>,
}

/// A customer row with their anti-phishing code.
#[derive(sqlx::FromRow)]
struct CustomerWithCode {
    #[sqlx(flatten)]
    customer: Customer,
    anti_phishing_code: Option<String>,
}

impl Store {
    /// [`MailContext`] of a conversation (and of one of its messages), on one pooled connection: a mail job
    /// reads its whole context for one pool checkout. `None` when the case or its customer is gone.
    pub async fn mail_context(&self, conversation_id: &str, message_id: Option<&str>) -> Result<Option<MailContext>> {
        let csql = format!("SELECT {} FROM conversations WHERE id = $1", crate::rows::CONVERSATION_COLS);
        let msql = format!("{} WHERE m.id = $1", crate::chat::MESSAGE_SELECT);
        let r = on_read!(self, |pool| async {
            let mut c = pool.acquire().await?;
            let Some(conversation): Option<crate::Conversation> =
                sqlx::query_as(&csql).bind(conversation_id).fetch_optional(&mut *c).await?
            else {
                return Ok::<_, sqlx::Error>(None);
            };
            let Some(who): Option<CustomerWithCode> = sqlx::query_as(
                "SELECT id, external_id, kind, email, name, lang, created_at, anti_phishing_code FROM customers \
                 WHERE id = $1",
            )
            .bind(&conversation.customer_id)
            .fetch_optional(&mut *c)
            .await?
            else {
                return Ok(None);
            };
            let thread: Vec<MailRecord> = sqlx::query_as(
                "SELECT message_id, conversation_id, direction, message_row_id, created_at FROM mail_messages \
                 WHERE conversation_id = $1 ORDER BY created_at, message_id LIMIT 200",
            )
            .bind(conversation_id)
            .fetch_all(&mut *c)
            .await?;
            let message: Option<crate::Message> = match message_id {
                Some(m) => sqlx::query_as(&msql).bind(m).fetch_optional(&mut *c).await?,
                None => None,
            };
            let (customer, anti_phishing_code) = (who.customer, who.anti_phishing_code);
            Ok(Some(MailContext { conversation, customer, anti_phishing_code, thread, message }))
        }
        .await)?;
        Ok(r)
    }
}
