//! What agents keep about a customer, and the customer beside each case: tags and internal notes (never shown
//! to the customer, never in an export), and the customer's other conversations the agent's departments reach.

use crate::{Actor, App, AppError, AppResult};
use lifebuoy_store::{Conversation, Customer, CustomerNote};

/// How many of a customer's notes a page shows.
pub const NOTES_SHOWN: i64 = 20;
/// How many of a customer's other conversations show beside a case.
pub const RECENT_SHOWN: usize = 5;

/// The customer as an agent sees them beside a case or on their page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CustomerCard {
    pub customer: Customer,
    pub tags: Vec<String>,
    pub notes: Vec<CustomerNote>,
    /// The customer's most recent conversations the actor may see, `except` the case beside which it shows.
    pub recent: Vec<Conversation>,
    /// How many more of theirs the actor may see than `recent` shows.
    pub more: usize,
}

/// The card of a customer for staff. Opening the case or the customer page is what the access log records;
/// the card beside it is part of that look.
pub async fn card(app: &App, actor: &Actor, customer_id: &str, except: Option<&str>) -> AppResult<CustomerCard> {
    actor.require_staff()?;
    let customer = app.store.customer(customer_id).await?.ok_or(AppError::NotFound)?;
    let scope = actor.scope();
    let mut mine: Vec<Conversation> = app
        .store
        .customer_conversations(customer_id)
        .await?
        .into_iter()
        .filter(|c| scope.permits(c) && Some(c.id.as_str()) != except)
        .collect();
    mine.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
    let more = mine.len().saturating_sub(RECENT_SHOWN);
    mine.truncate(RECENT_SHOWN);
    let tags = app.store.customer_tags(customer_id).await?;
    let notes = app.store.customer_notes(customer_id, NOTES_SHOWN).await?;
    Ok(CustomerCard { customer, tags, notes, recent: mine, more })
}

/// The tags and the latest `notes` notes on a customer, for beside a case (staff).
pub async fn kept(
    app: &App,
    actor: &Actor,
    customer_id: &str,
    notes: i64,
) -> AppResult<(Vec<String>, Vec<CustomerNote>)> {
    actor.require_staff()?;
    Ok((app.store.customer_tags(customer_id).await?, app.store.customer_notes(customer_id, notes).await?))
}

/// Replaces a customer's tags (agents).
pub async fn set_tags(app: &App, actor: &Actor, customer_id: &str, tags: &[String]) -> AppResult<Vec<String>> {
    let Actor::Agent(a) = actor else { return Err(AppError::forbidden("agents only")) };
    app.store.customer(customer_id).await?.ok_or(AppError::NotFound)?;
    Ok(app.store.set_customer_tags(customer_id, tags, &format!("agent:{}", a.agent_no)).await?)
}

/// Leaves a note on a customer (agents): at most 2,000 characters.
pub async fn add_note(app: &App, actor: &Actor, customer_id: &str, body: &str) -> AppResult<CustomerNote> {
    let Actor::Agent(a) = actor else { return Err(AppError::forbidden("agents only")) };
    let body = crate::tickets::text_field("body", body, 2_000)?;
    app.store.customer(customer_id).await?.ok_or(AppError::NotFound)?;
    Ok(app.store.add_customer_note(customer_id, &a.id, &body).await?)
}
