//! Notifications (migration `0011_notifications.sql`): the customer's inbox (站内信), their choice of which kinds
//! also come by mail, the templates admins edited, the ratings of solved cases and the customer's anti-phishing
//! code. The `notify` job of the application writes notifications; nothing here decides what to say.

use crate::chat::grouped_write;
use crate::{Result, Store, StoreError, now_ms, on_read, on_write};
use serde::Serialize;

/// One notification in a customer's inbox.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    pub customer_id: String,
    pub conversation_id: Option<String>,
    pub kind: String,
    pub cause: String,
    pub lang: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub email: Option<String>,
    pub read_at: Option<i64>,
    pub created_at: i64,
}

const NOTIFICATION_COLS: &str =
    "id, customer_id, conversation_id, kind, cause, lang, title, body, link, email, read_at, created_at";

/// A notification to write. Its id is chosen by the writer (links in its text name it).
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub id: String,
    pub customer_id: String,
    pub conversation_id: Option<String>,
    pub kind: String,
    pub cause: String,
    pub lang: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    /// What became of its mail when that is known before it is written (`off`, `none`, `thread`); `None` while
    /// a mail is still to be sent.
    pub email: Option<String>,
}

/// A template as an admin saved it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StoredTemplate {
    pub kind: String,
    pub lang: String,
    pub subject: String,
    pub body: String,
    pub updated_by: Option<String>,
    pub updated_at: i64,
}

/// A customer's rating of a solved case.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseRating {
    pub conversation_id: String,
    pub customer_id: String,
    pub score: i64,
    pub comment: Option<String>,
    pub rated_at: i64,
}

impl Store {
    /// Writes a notification once per cause: a second call with the same `cause` (a job run again) returns the
    /// first, and `false`.
    pub async fn put_notification(&self, n: &NewNotification) -> Result<(Notification, bool)> {
        // Both statements in one grouped write: the notify jobs running side by side share one commit.
        let n = n.clone();
        grouped_write!(self, (Notification, bool), [n], |conn| {
            let inserted = sqlx::query(
                "INSERT INTO notifications (id, customer_id, conversation_id, kind, cause, lang, title, body, link, \
                 email, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (cause) DO NOTHING",
            )
            .bind(&n.id)
            .bind(&n.customer_id)
            .bind(&n.conversation_id)
            .bind(&n.kind)
            .bind(&n.cause)
            .bind(&n.lang)
            .bind(&n.title)
            .bind(&n.body)
            .bind(&n.link)
            .bind(&n.email)
            .bind(now_ms())
            .execute(&mut *conn)
            .await?
            .rows_affected()
                == 1;
            let sql = format!("SELECT {NOTIFICATION_COLS} FROM notifications WHERE cause = $1");
            let row: Notification = sqlx::query_as(&sql).bind(&n.cause).fetch_one(&mut *conn).await?;
            Ok((row, inserted))
        })
    }

    /// Notes what became of a notification's mail (`sent`, `off`, `none`, `thread`).
    pub async fn set_notification_email(&self, id: &str, email: &str) -> Result<()> {
        let (id, email) = (id.to_owned(), email.to_owned());
        grouped_write!(self, (), [id, email], |conn| {
            sqlx::query("UPDATE notifications SET email = $2 WHERE id = $1")
                .bind(&id)
                .bind(&email)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// A notification by id.
    pub async fn notification(&self, id: &str) -> Result<Option<Notification>> {
        let sql = format!("SELECT {NOTIFICATION_COLS} FROM notifications WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// A customer's notifications, newest first, `limit` of them from before `before` (a `created_at`), and how
    /// many are unread in all.
    pub async fn notifications(
        &self,
        customer_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<(Vec<Notification>, i64)> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLS} FROM notifications WHERE customer_id = $1 AND created_at < $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        );
        let items: Vec<Notification> = on_read!(self, |pool| sqlx::query_as(&sql)
            .bind(customer_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.clamp(1, 200))
            .fetch_all(pool)
            .await)?;
        Ok((items, self.unread_notifications(customer_id).await?))
    }

    /// How many of a customer's notifications are unread.
    pub async fn unread_notifications(&self, customer_id: &str) -> Result<i64> {
        let n: (i64,) = on_read!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE customer_id = $1 AND read_at IS NULL"
        )
        .bind(customer_id)
        .fetch_one(pool)
        .await)?;
        Ok(n.0)
    }

    /// Marks a customer's notifications read: those of `ids`, or all of them. Returns how many changed.
    pub async fn read_notifications(&self, customer_id: &str, ids: Option<&[String]>) -> Result<u64> {
        let now = now_ms();
        let n = match ids {
            None => on_write!(self, |pool, _l| sqlx::query(
                "UPDATE notifications SET read_at = $2 WHERE customer_id = $1 AND read_at IS NULL"
            )
            .bind(customer_id)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?,
            Some(ids) => {
                let mut n = 0;
                for id in ids.iter().take(200) {
                    n += on_write!(self, |pool, _l| {
                        sqlx::query(
                        "UPDATE notifications SET read_at = $3 WHERE id = $1 AND customer_id = $2 AND read_at IS NULL"
                    )
                    .bind(id)
                    .bind(customer_id)
                    .bind(now)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
                    })?;
                }
                n
            }
        };
        Ok(n)
    }

    /// The kinds a customer turned mail off for (every other kind is mailed).
    pub async fn notification_prefs(&self, customer_id: &str) -> Result<Vec<(String, bool)>> {
        let rows: Vec<(String, bool)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT kind, email FROM notification_prefs WHERE customer_id = $1 ORDER BY kind"
        )
        .bind(customer_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }

    /// Sets whether a kind of notification also goes to the customer by mail.
    pub async fn set_notification_pref(&self, customer_id: &str, kind: &str, email: bool) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO notification_prefs (customer_id, kind, email) VALUES ($1, $2, $3) \
             ON CONFLICT (customer_id, kind) DO UPDATE SET email = excluded.email"
        )
        .bind(customer_id)
        .bind(kind)
        .bind(email)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The templates admins saved (the built-in ones are the application's).
    pub async fn notification_templates(&self) -> Result<Vec<StoredTemplate>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT kind, lang, subject, body, updated_by, updated_at FROM notification_templates ORDER BY kind, lang"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// One saved template.
    pub async fn notification_template(&self, kind: &str, lang: &str) -> Result<Option<StoredTemplate>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT kind, lang, subject, body, updated_by, updated_at FROM notification_templates \
             WHERE kind = $1 AND lang = $2"
        )
        .bind(kind)
        .bind(lang)
        .fetch_optional(pool)
        .await)?)
    }

    /// Saves an edited template.
    pub async fn put_notification_template(
        &self,
        kind: &str,
        lang: &str,
        subject: &str,
        body: &str,
        by: &str,
    ) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "INSERT INTO notification_templates (kind, lang, subject, body, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, lang) DO UPDATE SET subject = excluded.subject, \
             body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at"
        )
        .bind(kind)
        .bind(lang)
        .bind(subject)
        .bind(body)
        .bind(by)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Drops an edited template (back to the built-in text). Returns whether there was one.
    pub async fn delete_notification_template(&self, kind: &str, lang: &str) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query(
            "DELETE FROM notification_templates WHERE kind = $1 AND lang = $2"
        )
        .bind(kind)
        .bind(lang)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Rates a case (1–5, optional comment); rating again replaces the rating.
    pub async fn rate_case(
        &self,
        conversation_id: &str,
        customer_id: &str,
        score: i64,
        comment: Option<&str>,
    ) -> Result<()> {
        if !(1..=5).contains(&score) {
            return Err(lifebuoy_domain::Invalid::new("score", "a score is from 1 to 5").into());
        }
        let comment =
            comment.map(str::trim).filter(|c| !c.is_empty()).map(|c| c.chars().take(2000).collect::<String>());
        // The analytics fold reads the case again (its change-log row, in the rating's transaction).
        on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO case_ratings (conversation_id, customer_id, score, comment, rated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET score = excluded.score, \
                 comment = excluded.comment, rated_at = excluded.rated_at",
            )
            .bind(conversation_id)
            .bind(customer_id)
            .bind(score)
            .bind(comment)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            crate::index_log::log_changes(&mut *tx, crate::Indexed::Ticket, &[conversation_id]).await?;
            tx.commit().await?;
            Ok::<_, crate::StoreError>(())
        })?;
        Ok(())
    }

    /// A case's rating, if the customer gave one.
    pub async fn case_rating(&self, conversation_id: &str) -> Result<Option<CaseRating>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT conversation_id, customer_id, score, comment, rated_at FROM case_ratings WHERE conversation_id = $1"
        )
        .bind(conversation_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// The exchange's customer by the exchange's own user id, if known.
    pub async fn exchange_customer(&self, external_id: &str) -> Result<Option<crate::Customer>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT id, external_id, kind, email, name, lang, created_at FROM customers WHERE external_id = $1"
        )
        .bind(external_id)
        .fetch_optional(pool)
        .await)?)
    }

    /// The customer's anti-phishing code, if the exchange passed one.
    pub async fn anti_phishing_code(&self, customer_id: &str) -> Result<Option<String>> {
        let r: Option<(Option<String>,)> =
            on_read!(self, |pool| sqlx::query_as("SELECT anti_phishing_code FROM customers WHERE id = $1")
                .bind(customer_id)
                .fetch_optional(pool)
                .await)?;
        Ok(r.and_then(|r| r.0))
    }

    /// Sets (or clears) the customer's anti-phishing code, as the exchange's identity token says.
    pub async fn set_anti_phishing_code(&self, customer_id: &str, code: Option<&str>) -> Result<()> {
        let code = code.map(str::trim).filter(|c| !c.is_empty());
        if code.is_some_and(|c| c.chars().count() > 64) {
            return Err(lifebuoy_domain::Invalid::new("anti_phishing_code", "at most 64 characters").into());
        }
        let n = on_write!(self, |pool, _l| sqlx::query("UPDATE customers SET anti_phishing_code = $2 WHERE id = $1")
            .bind(customer_id)
            .bind(code)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
