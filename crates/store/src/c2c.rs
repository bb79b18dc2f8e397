//! C2C orders and their appeals (migration `0021_c2c.sql`). The rules (who may appeal, when, who decides) are
//! `lifebuoy_app::c2c`'s and the state machines `lifebuoy_domain::appeal`'s; this keeps what they decided, each
//! change with its timeline event (and the jobs it causes) in one transaction.

use crate::conversations::{push_event, push_message};
use crate::rows::CONVERSATION_COLS;
use crate::{Actor, Conflict, Conversation, NewJob, Result, Store, StoreError, is_unique_violation, new_id, now_ms};
use crate::{on_read, on_write};
use lifebuoy_domain::{AppealStatus, Decision, Event, Invalid, OrderState, Party};
use serde::Serialize;

/// An order as the exchange registered it, with the state its events brought it to.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Order {
    pub id: String,
    /// The buyer's and the seller's user ids on the exchange.
    pub buyer: String,
    pub seller: String,
    pub asset: String,
    pub amount: String,
    pub fiat_amount: String,
    pub fiat_currency: String,
    pub payment_method: String,
    /// `created`, `paid`, `released`, `cancelled` or `expired`.
    pub state: String,
    /// How long after payment an appeal may be opened (s).
    pub appeal_after_s: i64,
    /// When the exchange created it, when the buyer paid, when it ended (ms).
    pub placed_at: i64,
    pub paid_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// The order's conversation (its chat and appeals), once anyone wrote in it.
    pub conversation_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Order {
    pub fn state(&self) -> OrderState {
        OrderState::parse(&self.state).unwrap_or(OrderState::Created)
    }

    /// Which side an exchange user is on, if either.
    pub fn party_of(&self, external_id: &str) -> Option<Party> {
        if self.buyer == external_id {
            Some(Party::Buyer)
        } else if self.seller == external_id {
            Some(Party::Seller)
        } else {
            None
        }
    }
}

const ORDER_COLS: &str = "id, buyer, seller, asset, amount, fiat_amount, fiat_currency, payment_method, state, \
    appeal_after_s, placed_at, paid_at, ended_at, conversation_id, created_at, updated_at";

/// An order the exchange registers.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: String,
    pub buyer: String,
    pub seller: String,
    pub asset: String,
    pub amount: String,
    pub fiat_amount: String,
    pub fiat_currency: String,
    pub payment_method: String,
    pub state: OrderState,
    pub appeal_after_s: i64,
    pub placed_at: i64,
}

/// An appeal on an order.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Appeal {
    pub id: String,
    pub order_id: String,
    pub conversation_id: String,
    /// `buyer` or `seller`.
    pub opened_by: String,
    pub reason: String,
    pub status: String,
    /// While `awaiting_evidence`: from whom, and by when (ms).
    pub awaiting_party: Option<String>,
    pub evidence_due_at: Option<i64>,
    /// When the appeal needs an arbiter's next answer (ms); `None` once no arbiter owes one.
    pub queue_at: Option<i64>,
    pub arbiter_id: Option<String>,
    /// The decision (proposed, while `awaiting_approval`) and its rationale.
    pub decision: Option<String>,
    pub rationale: Option<String>,
    pub decided_by: Option<String>,
    pub approved_by: Option<String>,
    pub decided_at: Option<i64>,
    pub executed_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Appeal {
    pub fn status(&self) -> AppealStatus {
        AppealStatus::parse(&self.status).unwrap_or(AppealStatus::Submitted)
    }
    pub fn decision(&self) -> Option<Decision> {
        self.decision.as_deref().and_then(|d| Decision::parse(d).ok())
    }
}

const APPEAL_COLS: &str = "id, order_id, conversation_id, opened_by, reason, status, awaiting_party, \
    evidence_due_at, queue_at, arbiter_id, decision, rationale, decided_by, approved_by, decided_at, executed_at, \
    closed_at, created_at, updated_at";

/// An appeal in the arbiters' queue, with its order.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct QueuedAppeal {
    #[sqlx(flatten)]
    pub appeal: Appeal,
    pub fiat_amount: String,
    pub fiat_currency: String,
    pub asset: String,
    pub amount: String,
    pub case_number: Option<String>,
}

/// What an order event did.
#[derive(Debug, Clone, Serialize)]
pub struct OrderEventOutcome {
    pub order: Order,
    /// `false`: the event was known already (a repeat): nothing changed.
    pub applied: bool,
    /// The state the event moved the order to (`None`: news of a step already passed, recorded only).
    pub moved_to: Option<OrderState>,
    /// The appeal the event carried out (a decided appeal whose decision the exchange executed).
    pub executed: Option<Appeal>,
}

/// A change to an appeal, planned by the use case: the new status with what changes along with it.
#[derive(Debug, Clone)]
pub struct AppealChange {
    /// The status the appeal must be in for the change to apply (the use case read it; a race loses).
    pub from: AppealStatus,
    pub to: AppealStatus,
    pub awaiting_party: Option<Party>,
    pub evidence_due_at: Option<i64>,
    pub queue_at: Option<i64>,
    /// Set the arbiter (the first to act on it takes it).
    pub arbiter_id: Option<String>,
    pub decision: Option<(Decision, String)>,
    pub decided_by: Option<String>,
    pub approved_by: Option<String>,
    /// The timeline events, in order, and an optional public message by the actor.
    pub events: Vec<Event>,
    pub message: Option<String>,
    pub jobs: Vec<NewJob>,
}

impl AppealChange {
    pub fn new(from: AppealStatus, to: AppealStatus) -> Self {
        AppealChange {
            from,
            to,
            awaiting_party: None,
            evidence_due_at: None,
            queue_at: None,
            arbiter_id: None,
            decision: None,
            decided_by: None,
            approved_by: None,
            events: Vec::new(),
            message: None,
            jobs: Vec::new(),
        }
    }
}

/// Inside a transaction: locks a conversation and stamps the write's time on it.
macro_rules! lock_conversation {
    ($tx:expr, $lock:expr, $id:expr, $now:expr) => {{
        let sql = format!("SELECT {} FROM conversations WHERE id = $1{}", CONVERSATION_COLS, $lock);
        let mut c: Conversation =
            sqlx::query_as(&sql).bind($id).fetch_optional(&mut *$tx).await?.ok_or(StoreError::NotFound)?;
        c.updated_at = $now;
        c
    }};
}

/// Inside a transaction: saves a conversation's sequence and time, and runs the outbox rules on it.
macro_rules! save_appended {
    ($store:expr, $tx:expr, $c:expr) => {{
        sqlx::query("UPDATE conversations SET last_seq = $2, updated_at = $3 WHERE id = $1")
            .bind(&$c.id)
            .bind($c.last_seq)
            .bind($c.updated_at)
            .execute(&mut *$tx)
            .await?;
        crate::commits::enqueue_outbox!($store.outbox, $tx, $c);
    }};
}

impl Store {
    /// Registers an order. A repeat of the same order returns it (`false`); the same id with other parties, or
    /// other amounts, is a conflict (an id is never reused for another trade).
    pub async fn register_order(&self, o: &NewOrder) -> Result<(Order, bool)> {
        let now = now_ms();
        let (paid_at, ended_at) = match o.state {
            OrderState::Created => (None, None),
            OrderState::Paid => (Some(now), None),
            _ => (None, Some(now)),
        };
        let sql = format!(
            "INSERT INTO c2c_orders ({ORDER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             NULL, $14, $14) ON CONFLICT (id) DO NOTHING RETURNING {ORDER_COLS}"
        );
        let inserted: Option<Order> = on_write!(self, |pool, _l| {
            let mut tx = pool.begin().await?;
            let inserted: Option<Order> = sqlx::query_as(&sql)
                .bind(&o.id)
                .bind(&o.buyer)
                .bind(&o.seller)
                .bind(&o.asset)
                .bind(&o.amount)
                .bind(&o.fiat_amount)
                .bind(&o.fiat_currency)
                .bind(&o.payment_method)
                .bind(o.state.as_str())
                .bind(o.appeal_after_s)
                .bind(o.placed_at)
                .bind(paid_at)
                .bind(ended_at)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            if inserted.is_some() && o.state != OrderState::Created {
                // The state it was registered in counts as its event: a later repeat of it is a repeat.
                sqlx::query("INSERT INTO c2c_order_events (order_id, event, at, received_at) VALUES ($1, $2, $3, $3)")
                    .bind(&o.id)
                    .bind(o.state.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(inserted)
        })?;
        if let Some(order) = inserted {
            return Ok((order, true));
        }
        let existing = self.order(&o.id).await?.ok_or(StoreError::NotFound)?;
        let same = existing.buyer == o.buyer
            && existing.seller == o.seller
            && existing.asset == o.asset
            && existing.amount == o.amount
            && existing.fiat_amount == o.fiat_amount
            && existing.fiat_currency == o.fiat_currency;
        if !same {
            return Err(Conflict::OrderMismatch.into());
        }
        Ok((existing, false))
    }

    pub async fn order(&self, id: &str) -> Result<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLS} FROM c2c_orders WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// The order a conversation belongs to.
    pub async fn order_of_conversation(&self, conversation_id: &str) -> Result<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLS} FROM c2c_orders WHERE conversation_id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(conversation_id).fetch_optional(pool).await)?)
    }

    /// An exchange user's orders (as buyer or seller), newest first.
    pub async fn orders_of(&self, external_id: &str, limit: i64) -> Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLS} FROM c2c_orders WHERE buyer = $1 UNION ALL \
             SELECT {ORDER_COLS} FROM c2c_orders WHERE seller = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(external_id).bind(limit).fetch_all(pool).await)?)
    }

    /// Applies an event the exchange reported (`state`, at `at` ms), in one transaction: the event is kept once
    /// (a repeat is `applied: false` and changes nothing); the order moves forward only; the order's
    /// conversation records the move; and a decided appeal whose decision the move carries out is executed.
    pub async fn apply_order_event(
        &self,
        id: &str,
        state: OrderState,
        at: i64,
        actor: &Actor,
    ) -> Result<OrderEventOutcome> {
        let now = now_ms();
        let order_sql = format!("SELECT {ORDER_COLS} FROM c2c_orders WHERE id = $1");
        let (outcome, written) = on_write!(self, |pool, lock| async {
            let mut tx = pool.begin().await?;
            let sql = format!("{order_sql}{lock}");
            let order: Order =
                sqlx::query_as(&sql).bind(id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
            let current = order.state();
            // A contradiction (released, then cancelled) is refused before anything is written.
            let moved_to = current.on_event(state)?;
            let fresh = sqlx::query(
                "INSERT INTO c2c_order_events (order_id, event, at, received_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (order_id, event) DO NOTHING",
            )
            .bind(id)
            .bind(state.as_str())
            .bind(at)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if !fresh {
                tx.rollback().await?;
                return Ok::<_, StoreError>((
                    OrderEventOutcome { order, applied: false, moved_to: None, executed: None },
                    Vec::new(),
                ));
            }
            let paid_at =
                if state == OrderState::Paid { Some(order.paid_at.unwrap_or(at).min(at)) } else { order.paid_at };
            let new_state = moved_to.unwrap_or(current);
            let ended_at = if moved_to.is_some_and(OrderState::is_final) { Some(at) } else { order.ended_at };
            let upd = format!(
                "UPDATE c2c_orders SET state = $2, paid_at = $3, ended_at = $4, updated_at = $5 WHERE id = $1 \
                 RETURNING {ORDER_COLS}"
            );
            let order: Order = sqlx::query_as(&upd)
                .bind(id)
                .bind(new_state.as_str())
                .bind(paid_at)
                .bind(ended_at)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let mut written = Vec::new();
            let mut executed = None;
            if let (Some(to), Some(cid)) = (moved_to, order.conversation_id.clone()) {
                let mut c = lock_conversation!(tx, lock, &cid, now);
                push_event!(tx, c, actor, &Event::OrderUpdated { order_id: order.id.clone(), state: to });
                // The exchange carried out a decision: the appeal is executed.
                let open = format!(
                    "SELECT {APPEAL_COLS} FROM appeals WHERE order_id = $1 AND closed_at IS NULL AND status = 'decided'"
                );
                let appeal: Option<Appeal> = sqlx::query_as(&open).bind(id).fetch_optional(&mut *tx).await?;
                if let Some(a) = appeal.filter(|a| a.decision().is_some_and(|d| d.executed_by() == to)) {
                    let upd = format!(
                        "UPDATE appeals SET status = 'executed', executed_at = $2, updated_at = $2 WHERE id = $1 \
                         RETURNING {APPEAL_COLS}"
                    );
                    let a: Appeal = sqlx::query_as(&upd).bind(&a.id).bind(now).fetch_one(&mut *tx).await?;
                    let ev = Event::AppealStatusChanged {
                        appeal: a.id.clone(),
                        from: AppealStatus::Decided,
                        to: AppealStatus::Executed,
                        party: None,
                        due_at: None,
                        reason: Some("executed_by_exchange".into()),
                    };
                    push_event!(tx, c, actor, &ev);
                    executed = Some(a);
                }
                save_appended!(self, tx, c);
                written.push(c);
            }
            tx.commit().await?;
            Ok((OrderEventOutcome { order, applied: true, moved_to, executed }, written))
        }
        .await)?;
        for mut c in written {
            self.committed(&mut c, None);
        }
        Ok(outcome)
    }

    /// Links a conversation made for the order (the order chat), unless another was linked meanwhile: the
    /// order's conversation either way.
    pub async fn link_order_conversation(&self, order_id: &str, conversation_id: &str) -> Result<String> {
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE c2c_orders SET conversation_id = $2 WHERE id = $1 AND conversation_id IS NULL"
        )
        .bind(order_id)
        .bind(conversation_id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        let o = self.order(order_id).await?.ok_or(StoreError::NotFound)?;
        o.conversation_id.ok_or_else(|| StoreError::Inconsistent("an order's conversation was not linked".into()))
    }

    /// Opens an appeal on an order whose conversation exists, in one transaction: the appeal, the opener's
    /// statement (a public message with its evidence files), the `appeal_opened` event and the jobs. An order
    /// with an appeal still open is [`Conflict::AppealOpen`].
    #[allow(clippy::too_many_arguments)]
    pub async fn open_appeal(
        &self,
        order: &Order,
        party: Party,
        reason: lifebuoy_domain::AppealReason,
        statement: &str,
        attachment_ids: &[String],
        actor: &Actor,
        queue_at: i64,
        jobs: &[NewJob],
    ) -> Result<Appeal> {
        let Some(cid) = order.conversation_id.clone() else {
            return Err(StoreError::Inconsistent("an appeal needs the order's conversation".into()));
        };
        let (id, now) = (new_id(), now_ms());
        let ins = format!(
            "INSERT INTO appeals ({APPEAL_COLS}) VALUES ($1, $2, $3, $4, $5, 'submitted', NULL, NULL, $6, NULL, NULL, \
             NULL, NULL, NULL, NULL, NULL, NULL, $7, $7) RETURNING {APPEAL_COLS}"
        );
        let res: Result<(Appeal, Conversation)> = on_write!(self, |pool, lock| async {
            let mut tx = pool.begin().await?;
            let appeal: Appeal = sqlx::query_as(&ins)
                .bind(&id)
                .bind(&order.id)
                .bind(&cid)
                .bind(party.as_str())
                .bind(reason.as_str())
                .bind(queue_at)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            let mut c = lock_conversation!(tx, lock, &cid, now);
            let _ = push_message!(tx, c, actor, statement, false, None::<String>, attachment_ids);
            push_event!(
                tx,
                c,
                actor,
                &Event::AppealOpened { appeal: id.clone(), order_id: order.id.clone(), party, reason }
            );
            // The case is worked again: an appeal reopens a solved order conversation.
            sqlx::query(
                "UPDATE conversations SET status = 'open', solved_at = NULL WHERE id = $1 AND status <> 'closed'",
            )
            .bind(&cid)
            .execute(&mut *tx)
            .await?;
            save_appended!(self, tx, c);
            crate::jobs::insert_jobs(&mut *tx, jobs, now).await?;
            tx.commit().await?;
            Ok((appeal, c))
        }
        .await);
        let (appeal, mut c) = match res {
            Err(StoreError::Db(e)) if is_unique_violation(&e) => return Err(Conflict::AppealOpen.into()),
            r => r?,
        };
        c.enqueued |= !jobs.is_empty();
        self.committed(&mut c, None);
        Ok(appeal)
    }

    pub async fn appeal(&self, id: &str) -> Result<Option<Appeal>> {
        let sql = format!("SELECT {APPEAL_COLS} FROM appeals WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// An order's appeals, newest first (the open one, if any, is among them).
    pub async fn appeals_of_order(&self, order_id: &str) -> Result<Vec<Appeal>> {
        let sql = format!("SELECT {APPEAL_COLS} FROM appeals WHERE order_id = $1 ORDER BY created_at DESC, id DESC");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(order_id).fetch_all(pool).await)?)
    }

    /// The arbiters' queue: appeals that owe an answer, the least time left first.
    pub async fn appeal_queue(&self, limit: i64) -> Result<Vec<QueuedAppeal>> {
        let cols = crate::rows::prefixed("a.", APPEAL_COLS);
        let sql = format!(
            "SELECT {cols}, o.fiat_amount, o.fiat_currency, o.asset, o.amount, c.case_number FROM appeals a \
             JOIN c2c_orders o ON o.id = a.order_id JOIN conversations c ON c.id = a.conversation_id \
             WHERE a.queue_at IS NOT NULL ORDER BY a.queue_at, a.id LIMIT $1"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)?)
    }

    /// Applies a planned change to an appeal in one transaction: the appeal's row (only from the status the plan
    /// was made from: a race is [`Conflict::AppealMoved`]), the timeline events and message, and the jobs.
    pub async fn change_appeal(&self, id: &str, ch: &AppealChange, actor: &Actor) -> Result<Appeal> {
        let now = now_ms();
        let ended = ch.to.is_final().then_some(now);
        let (decision, rationale) = match &ch.decision {
            Some((d, r)) => (Some(d.as_str()), Some(r.as_str())),
            None => (None, None),
        };
        let decided_at = (ch.to == AppealStatus::Decided).then_some(now);
        let executed_at = (ch.to == AppealStatus::Executed).then_some(now);
        let upd = format!(
            "UPDATE appeals SET status = $3, awaiting_party = $4, evidence_due_at = $5, queue_at = $6, \
             arbiter_id = COALESCE(arbiter_id, $7), decision = COALESCE($8, decision), \
             rationale = COALESCE($9, rationale), decided_by = COALESCE($10, decided_by), \
             approved_by = COALESCE($11, approved_by), decided_at = COALESCE($12, decided_at), \
             executed_at = COALESCE($13, executed_at), closed_at = COALESCE($14, closed_at), updated_at = $15 \
             WHERE id = $1 AND status = $2 RETURNING {APPEAL_COLS}"
        );
        let (a, mut c) = on_write!(self, |pool, lock| {
            let mut tx = pool.begin().await?;
            let a: Option<Appeal> = sqlx::query_as(&upd)
                .bind(id)
                .bind(ch.from.as_str())
                .bind(ch.to.as_str())
                .bind(ch.awaiting_party.map(Party::as_str))
                .bind(ch.evidence_due_at)
                .bind(ch.queue_at)
                .bind(ch.arbiter_id.as_deref())
                .bind(decision)
                .bind(rationale)
                .bind(ch.decided_by.as_deref())
                .bind(ch.approved_by.as_deref())
                .bind(decided_at)
                .bind(executed_at)
                .bind(ended)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(a) = a else {
                return match self.appeal(id).await? {
                    Some(_) => Err(StoreError::Conflict(Conflict::AppealMoved)),
                    None => Err(StoreError::NotFound),
                };
            };
            let mut c = lock_conversation!(tx, lock, &a.conversation_id, now);
            for e in &ch.events {
                push_event!(tx, c, actor, e);
            }
            if let Some(body) = &ch.message {
                let none: &[String] = &[];
                let _ = push_message!(tx, c, actor, body.as_str(), false, None::<String>, none);
            }
            save_appended!(self, tx, c);
            crate::jobs::insert_jobs(&mut *tx, &ch.jobs, now).await?;
            tx.commit().await?;
            Ok::<_, StoreError>((a, c))
        })?;
        c.enqueued |= !ch.jobs.is_empty();
        self.committed(&mut c, None);
        Ok(a)
    }

    /// Whether an agent holds a permission beside their role (`arbiter`).
    pub async fn agent_has_permission(&self, agent_id: &str, permission: &str) -> Result<bool> {
        let n: i64 = on_read!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM agent_permissions WHERE agent_id = $1 AND permission = $2"
        )
        .bind(agent_id)
        .bind(permission)
        .fetch_one(pool)
        .await)?;
        Ok(n > 0)
    }

    /// Grants (or, with `granted` false, takes back) a permission.
    pub async fn set_agent_permission(&self, agent_id: &str, permission: &str, granted: bool) -> Result<()> {
        on_write!(self, |pool, _l| {
            let r = if granted {
                sqlx::query(
                    "INSERT INTO agent_permissions (agent_id, permission) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(agent_id)
                .bind(permission)
                .execute(pool)
                .await
            } else {
                sqlx::query("DELETE FROM agent_permissions WHERE agent_id = $1 AND permission = $2")
                    .bind(agent_id)
                    .bind(permission)
                    .execute(pool)
                    .await
            };
            r.map(|_| ())
        })?;
        Ok(())
    }

    /// The four-eyes thresholds: above this fiat amount (per currency) a decision needs a second arbiter.
    pub async fn four_eyes(&self) -> Result<Vec<(String, String)>> {
        Ok(on_read!(self, |pool| sqlx::query_as(
            "SELECT fiat_currency, above FROM c2c_four_eyes ORDER BY fiat_currency"
        )
        .fetch_all(pool)
        .await)?)
    }

    /// Sets (or, with `None`, removes) a currency's four-eyes threshold.
    pub async fn set_four_eyes(&self, currency: &str, above: Option<&str>) -> Result<()> {
        on_write!(self, |pool, _l| match above {
            Some(v) => sqlx::query(
                "INSERT INTO c2c_four_eyes (fiat_currency, above) VALUES ($1, $2) \
                 ON CONFLICT (fiat_currency) DO UPDATE SET above = excluded.above",
            )
            .bind(currency)
            .bind(v)
            .execute(pool)
            .await
            .map(|_| ()),
            None => sqlx::query("DELETE FROM c2c_four_eyes WHERE fiat_currency = $1")
                .bind(currency)
                .execute(pool)
                .await
                .map(|_| ()),
        })?;
        Ok(())
    }
}
