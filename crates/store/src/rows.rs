//! Rows as they come out of the database, serialised as they go out of the API.

use lifebuoy_domain::{Category, Priority, Status, Tier};
use serde::Serialize;

/// A department: where cases are routed and which agents see them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Department {
    pub id: String,
    pub name_en: String,
    pub name_zh_hans: String,
    pub name_zh_hant: String,
}

impl Department {
    /// The department's name in a UI language.
    pub fn name(&self, lang: lifebuoy_domain::Lang) -> &str {
        match lang {
            lifebuoy_domain::Lang::En => &self.name_en,
            lifebuoy_domain::Lang::ZhHans => &self.name_zh_hans,
            lifebuoy_domain::Lang::ZhHant => &self.name_zh_hant,
        }
    }
}

/// A conversation: the one core of tickets, chats, email threads and appeals.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Conversation {
    pub id: String,
    pub kind: String,
    pub case_number: Option<String>,
    pub customer_id: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub category: String,
    pub department_id: String,
    pub assignee_id: Option<String>,
    pub tier: String,
    pub lang: String,
    pub order_id: Option<String>,
    pub tx_hash: Option<String>,
    pub asset: Option<String>,
    pub amount: Option<String>,
    pub merged_into: Option<String>,
    pub follow_up_of: Option<String>,
    pub last_seq: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub solved_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The next deadline of the case's running SLA clock, in ms, or [`NO_CLOCK`] (kept by
    /// `lifebuoy_app::sla::refresh` so the queue sorts by time left; the clock itself is read from the timeline).
    #[serde(skip)]
    pub sla_due_at: i64,
    /// What the write that returned this value appended to the timeline (empty on a read): noted by
    /// `push_message!`/`push_event!`, handed to the post-commit stream ([`crate::Committed`]).
    #[sqlx(skip)]
    #[serde(skip)]
    pub appended: Vec<crate::Entry>,
    /// Whether the write that returned this value enqueued jobs (the outbox): the runners are woken after it
    /// commits.
    #[sqlx(skip)]
    #[serde(skip)]
    pub enqueued: bool,
}

/// The kinds that are cases a customer filed (the ticket queue and the ticket index hold these), as SQL.
pub(crate) const CASE_KINDS_SQL: &str = "kind IN ('ticket', 'email')";

pub(crate) const CONVERSATION_COLS: &str = "id, kind, case_number, customer_id, subject, status, priority, \
    category, department_id, assignee_id, tier, lang, order_id, tx_hash, asset, amount, merged_into, follow_up_of, \
    last_seq, created_at, updated_at, solved_at, closed_at, sla_due_at";

/// `sla_due_at` of a case without a running clock: after every real deadline, so "time left" lists it last.
pub const NO_CLOCK: i64 = 9_000_000_000_000_000;

/// `a, b` as `p.a, p.b`.
pub(crate) fn prefixed(p: &str, cols: &str) -> String {
    cols.split(',').map(|c| format!("{p}{}", c.trim())).collect::<Vec<_>>().join(", ")
}

impl Conversation {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Open)
    }
    pub fn priority(&self) -> Priority {
        Priority::parse(&self.priority).unwrap_or(Priority::Normal)
    }
    pub fn category(&self) -> Category {
        Category::parse(&self.category).unwrap_or(Category::Other)
    }
    pub fn tier(&self) -> Tier {
        Tier::parse(&self.tier).unwrap_or(Tier::L1)
    }
}

/// A message on a conversation's timeline. `author_name` and `agent_no` are filled for agents' messages.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub author_kind: String,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
    pub agent_no: Option<String>,
    pub body: String,
    pub internal: bool,
    pub client_id: Option<String>,
    pub created_at: i64,
}

/// Something that happened to a conversation: who, when, what.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub kind: String,
    #[serde(serialize_with = "raw_json")]
    pub data: String,
    pub internal: bool,
    pub created_at: i64,
}

impl Event {
    /// The typed event this row stores, to match on instead of `kind` and `data`. `None` for a kind this build
    /// does not know (or data that does not fit it).
    pub fn event(&self) -> Option<lifebuoy_domain::Event> {
        let data: serde_json::Value = serde_json::from_str(&self.data).ok()?;
        lifebuoy_domain::Event::parse(&self.kind, &data)
    }
}

fn raw_json<S: serde::Serializer>(s: &str, ser: S) -> Result<S::Ok, S::Error> {
    let v: serde_json::Value = serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
    v.serialize(ser)
}
