//! What happened to a conversation, as its timeline records it: one typed value per event kind.
//!
//! An event is stored as three columns of the `events` table: `kind` (its wire name, [`Event::kind`]), `data`
//! (a JSON object, [`Event::data`]) and `internal` (hidden from customers, [`Event::internal`]). That stored
//! form is what the API, the web pages and the widgets read, so it is fixed: [`Event::parse`] reads it back.
//!
//! Two kinds carry two shapes, because tickets and live chats wrote them differently from the start:
//! `assigned` ([`Event::Assigned`] on a case, [`Event::ChatAssigned`] on a chat) and `transferred`
//! ([`Event::Transferred`], [`Event::ChatTransferred`]). Each shape is its own variant; `parse` tells them
//! apart by the fields only the chat's shape has.

use crate::{AppealReason, AppealStatus, ConversationKind, Decision, OrderState, Party, Status, Tier};
use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One field's change in an [`Event::Updated`]: the value before and after (`None` for empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A timeline event. Field names are the keys of the stored `data` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `status_changed`: the case moved; `by_reply` is `Some(true)` when a reply moved it (absent otherwise).
    StatusChanged { from: Status, to: Status, by_reply: Option<bool> },
    /// `assigned` on a case (internal): the assignee before and after (`None`: nobody); `by_reply` is
    /// `Some(true)` when an agent's first public reply took the case (absent otherwise).
    Assigned { from: Option<String>, to: Option<String>, by_reply: Option<bool> },
    /// `transferred` on a case (internal): department ids before and after, and why.
    Transferred { from: String, to: String, reason: String },
    /// `escalated` (internal): the tier before and after, and why.
    Escalated { from: Tier, to: Tier, reason: String },
    /// `updated` (internal): the fields that changed (`priority`, `category`, `order_id`, `tx_hash`, `asset`,
    /// `amount`), each with its value before and after.
    Updated(BTreeMap<String, FieldChange>),
    /// `tags_changed` (internal): the tags before and after, sorted.
    TagsChanged { from: Vec<String>, to: Vec<String> },
    /// `merged_into`, on the duplicate: the case it was merged into.
    MergedInto { into: String, case_number: Option<String> },
    /// `merged_from`, on the target: the duplicate merged into it.
    MergedFrom { from: String, case_number: Option<String> },
    /// `follow_up_opened`, on a closed case the customer replied to: the new case.
    FollowUpOpened { follow_up: String, case_number: Option<String> },
    /// `handover`: a chat went from the bot to the human queue, and why (`asked`, `bot_no_answer`, …).
    Handover { reason: String },
    /// `assigned` on a chat (public, the customer sees who took it): the agent, by id, name and number.
    ChatAssigned { to: String, name: String, agent_no: String },
    /// `transferred` on a chat (internal): the department it went to and the note for the next agent.
    ChatTransferred { to_department: String, note: String },
    /// `chat_ended` (data `{}`).
    ChatEnded,
    /// `converted_to_ticket`, on a chat: the ticket made from it.
    ConvertedToTicket { ticket: String, case_number: Option<String> },
    /// `created`: no longer written (a case's first message is its creation record); kept so that rows of
    /// databases from before that change still read.
    Created { kind: ConversationKind, follow_up_of: Option<String> },
    /// `secret_redacted` (public: the customer is told, the risk team is flagged): the message at `seq` held
    /// what looked like secrets of these kinds (`mnemonic`, `private_key`, `api_secret`, `password`,
    /// `one_time_code`), replaced by markers before it was stored. Never the secret itself.
    SecretRedacted { seq: i64, kinds: Vec<String> },
    /// `freeze_requested`: the customer confirmed "my account may be stolen" with a fresh sign-in (`auth_time`,
    /// unix seconds); the freeze call to the exchange goes out.
    FreezeRequested { emergency: String, auth_time: i64 },
    /// `freeze_answered`: the exchange's answer to the freeze call (`frozen` true when it said so) and its HTTP
    /// status (`None`: it could not be reached).
    FreezeAnswered { emergency: String, frozen: bool, status: Option<i64> },
    /// `step_up_requested`: an agent asked the customer to re-verify before an account action (`unlock`,
    /// `2fa_reset`, `whitelist_change`, `other`).
    StepUpRequested { step_up: String, action: String },
    /// `step_up_completed`: the customer re-verified on the exchange (`auth_time`, unix seconds).
    StepUpCompleted { step_up: String, action: String, auth_time: i64 },
    /// `order_updated`, on a C2C order's conversation: the exchange reported the order `state` (public: both
    /// parties see the order move).
    OrderUpdated { order_id: String, state: OrderState },
    /// `appeal_opened`: a party (`buyer` or `seller`) appealed the order, and why.
    AppealOpened { appeal: String, order_id: String, party: Party, reason: AppealReason },
    /// `appeal_status_changed`: the appeal moved. Asking for evidence names the `party` asked and the deadline
    /// (`due_at`, ms); `reason` says why it moved when a rule moved it (`deadline_passed`, `evidence_received`,
    /// `approval_refused`, `executed_by_exchange`).
    AppealStatusChanged {
        appeal: String,
        from: AppealStatus,
        to: AppealStatus,
        party: Option<Party>,
        due_at: Option<i64>,
        reason: Option<String>,
    },
    /// `appeal_decision_proposed` (internal): an arbiter proposed a decision that needs a second arbiter's
    /// approval (the amount is above the four-eyes threshold).
    AppealDecisionProposed { appeal: String, decision: Decision, rationale: String },
    /// `appeal_decided`: the decision and its written rationale (both parties see them); `approved_by` names the
    /// second arbiter where four eyes were needed.
    AppealDecided { appeal: String, decision: Decision, rationale: String, approved_by: Option<String> },
    /// `incident_linked`: the case was linked to an announcement (an incident such as "BTC withdrawals delayed"),
    /// so agents answer every linked case at once; the customer sees which notice it is.
    IncidentLinked { announcement: String, title: String },
    /// `sla_breached` (internal): a clock ran out (`first_response` or `resolution`, due at `due_at`); the case
    /// was escalated by rule.
    SlaBreached { target: String, due_at: i64 },
}

impl Event {
    /// The wire name, as stored in `events.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::StatusChanged { .. } => "status_changed",
            Event::Assigned { .. } | Event::ChatAssigned { .. } => "assigned",
            Event::Transferred { .. } | Event::ChatTransferred { .. } => "transferred",
            Event::Escalated { .. } => "escalated",
            Event::Updated(_) => "updated",
            Event::TagsChanged { .. } => "tags_changed",
            Event::MergedInto { .. } => "merged_into",
            Event::MergedFrom { .. } => "merged_from",
            Event::FollowUpOpened { .. } => "follow_up_opened",
            Event::Handover { .. } => "handover",
            Event::ChatEnded => "chat_ended",
            Event::ConvertedToTicket { .. } => "converted_to_ticket",
            Event::Created { .. } => "created",
            Event::SecretRedacted { .. } => "secret_redacted",
            Event::FreezeRequested { .. } => "freeze_requested",
            Event::FreezeAnswered { .. } => "freeze_answered",
            Event::StepUpRequested { .. } => "step_up_requested",
            Event::StepUpCompleted { .. } => "step_up_completed",
            Event::OrderUpdated { .. } => "order_updated",
            Event::AppealOpened { .. } => "appeal_opened",
            Event::AppealStatusChanged { .. } => "appeal_status_changed",
            Event::AppealDecisionProposed { .. } => "appeal_decision_proposed",
            Event::AppealDecided { .. } => "appeal_decided",
            Event::IncidentLinked { .. } => "incident_linked",
            Event::SlaBreached { .. } => "sla_breached",
        }
    }

    /// The payload, as stored in `events.data` (a JSON object).
    pub fn data(&self) -> Value {
        match self {
            Event::StatusChanged { from, to, by_reply } => with_by_reply(json!({"from": from, "to": to}), *by_reply),
            Event::Assigned { from, to, by_reply } => with_by_reply(json!({"from": from, "to": to}), *by_reply),
            Event::Transferred { from, to, reason } => json!({"from": from, "to": to, "reason": reason}),
            Event::Escalated { from, to, reason } => json!({"from": from, "to": to, "reason": reason}),
            Event::Updated(changed) => json!(changed),
            Event::TagsChanged { from, to } => json!({"from": from, "to": to}),
            Event::MergedInto { into, case_number } => json!({"into": into, "case_number": case_number}),
            Event::MergedFrom { from, case_number } => json!({"from": from, "case_number": case_number}),
            Event::FollowUpOpened { follow_up, case_number } => {
                json!({"follow_up": follow_up, "case_number": case_number})
            }
            Event::Handover { reason } => json!({"reason": reason}),
            Event::ChatAssigned { to, name, agent_no } => json!({"to": to, "name": name, "agent_no": agent_no}),
            Event::ChatTransferred { to_department, note } => json!({"to_department": to_department, "note": note}),
            Event::ChatEnded => json!({}),
            Event::ConvertedToTicket { ticket, case_number } => json!({"ticket": ticket, "case_number": case_number}),
            Event::Created { kind, follow_up_of } => json!({"kind": kind, "follow_up_of": follow_up_of}),
            Event::SecretRedacted { seq, kinds } => json!({"seq": seq, "kinds": kinds}),
            Event::FreezeRequested { emergency, auth_time } => json!({"emergency": emergency, "auth_time": auth_time}),
            Event::FreezeAnswered { emergency, frozen, status } => {
                json!({"emergency": emergency, "frozen": frozen, "status": status})
            }
            Event::StepUpRequested { step_up, action } => json!({"step_up": step_up, "action": action}),
            Event::StepUpCompleted { step_up, action, auth_time } => {
                json!({"step_up": step_up, "action": action, "auth_time": auth_time})
            }
            Event::OrderUpdated { order_id, state } => json!({"order_id": order_id, "state": state}),
            Event::AppealOpened { appeal, order_id, party, reason } => {
                json!({"appeal": appeal, "order_id": order_id, "party": party, "reason": reason})
            }
            Event::AppealStatusChanged { appeal, from, to, party, due_at, reason } => {
                let mut d = json!({"appeal": appeal, "from": from, "to": to});
                if let Value::Object(m) = &mut d {
                    if let Some(p) = party {
                        m.insert("party".into(), json!(p));
                    }
                    if let Some(t) = due_at {
                        m.insert("due_at".into(), json!(t));
                    }
                    if let Some(r) = reason {
                        m.insert("reason".into(), json!(r));
                    }
                }
                d
            }
            Event::AppealDecisionProposed { appeal, decision, rationale } => {
                json!({"appeal": appeal, "decision": decision, "rationale": rationale})
            }
            Event::AppealDecided { appeal, decision, rationale, approved_by } => {
                json!({"appeal": appeal, "decision": decision, "rationale": rationale, "approved_by": approved_by})
            }
            Event::IncidentLinked { announcement, title } => json!({"announcement": announcement, "title": title}),
            Event::SlaBreached { target, due_at } => json!({"target": target, "due_at": due_at}),
        }
    }

    /// Whether only staff see it (`events.internal`).
    pub fn internal(&self) -> bool {
        match self {
            Event::Assigned { .. }
            | Event::Transferred { .. }
            | Event::Escalated { .. }
            | Event::Updated(_)
            | Event::TagsChanged { .. }
            | Event::ChatTransferred { .. }
            | Event::AppealDecisionProposed { .. }
            | Event::SlaBreached { .. } => true,
            Event::StatusChanged { .. }
            | Event::MergedInto { .. }
            | Event::MergedFrom { .. }
            | Event::FollowUpOpened { .. }
            | Event::Handover { .. }
            | Event::ChatAssigned { .. }
            | Event::ChatEnded
            | Event::ConvertedToTicket { .. }
            | Event::Created { .. }
            | Event::SecretRedacted { .. }
            | Event::FreezeRequested { .. }
            | Event::FreezeAnswered { .. }
            | Event::StepUpRequested { .. }
            | Event::StepUpCompleted { .. }
            | Event::OrderUpdated { .. }
            | Event::AppealOpened { .. }
            | Event::AppealStatusChanged { .. }
            | Event::AppealDecided { .. }
            | Event::IncidentLinked { .. } => false,
        }
    }

    /// Reads a stored event back from its `kind` and `data` columns. `None` for a kind this build does not
    /// know or data that does not fit it. Keys the payload does not name are ignored.
    pub fn parse(kind: &str, data: &Value) -> Option<Event> {
        let d = data.as_object()?;
        Some(match kind {
            "status_changed" => {
                Event::StatusChanged { from: field(d, "from")?, to: field(d, "to")?, by_reply: field(d, "by_reply")? }
            }
            "assigned" if d.contains_key("agent_no") || d.contains_key("name") => {
                Event::ChatAssigned { to: field(d, "to")?, name: field(d, "name")?, agent_no: field(d, "agent_no")? }
            }
            "assigned" => {
                Event::Assigned { from: field(d, "from")?, to: field(d, "to")?, by_reply: field(d, "by_reply")? }
            }
            "transferred" if d.contains_key("to_department") => {
                Event::ChatTransferred { to_department: field(d, "to_department")?, note: field(d, "note")? }
            }
            "transferred" => {
                Event::Transferred { from: field(d, "from")?, to: field(d, "to")?, reason: field(d, "reason")? }
            }
            "escalated" => {
                Event::Escalated { from: field(d, "from")?, to: field(d, "to")?, reason: field(d, "reason")? }
            }
            "updated" => Event::Updated(BTreeMap::deserialize(data).ok()?),
            "tags_changed" => Event::TagsChanged { from: field(d, "from")?, to: field(d, "to")? },
            "merged_into" => Event::MergedInto { into: field(d, "into")?, case_number: field(d, "case_number")? },
            "merged_from" => Event::MergedFrom { from: field(d, "from")?, case_number: field(d, "case_number")? },
            "follow_up_opened" => {
                Event::FollowUpOpened { follow_up: field(d, "follow_up")?, case_number: field(d, "case_number")? }
            }
            "handover" => Event::Handover { reason: field(d, "reason")? },
            "chat_ended" => Event::ChatEnded,
            "converted_to_ticket" => {
                Event::ConvertedToTicket { ticket: field(d, "ticket")?, case_number: field(d, "case_number")? }
            }
            "created" => Event::Created { kind: field(d, "kind")?, follow_up_of: field(d, "follow_up_of")? },
            "secret_redacted" => Event::SecretRedacted { seq: field(d, "seq")?, kinds: field(d, "kinds")? },
            "freeze_requested" => {
                Event::FreezeRequested { emergency: field(d, "emergency")?, auth_time: field(d, "auth_time")? }
            }
            "freeze_answered" => Event::FreezeAnswered {
                emergency: field(d, "emergency")?,
                frozen: field(d, "frozen")?,
                status: field(d, "status")?,
            },
            "step_up_requested" => {
                Event::StepUpRequested { step_up: field(d, "step_up")?, action: field(d, "action")? }
            }
            "step_up_completed" => Event::StepUpCompleted {
                step_up: field(d, "step_up")?,
                action: field(d, "action")?,
                auth_time: field(d, "auth_time")?,
            },
            "order_updated" => Event::OrderUpdated { order_id: field(d, "order_id")?, state: field(d, "state")? },
            "appeal_opened" => Event::AppealOpened {
                appeal: field(d, "appeal")?,
                order_id: field(d, "order_id")?,
                party: field(d, "party")?,
                reason: field(d, "reason")?,
            },
            "appeal_status_changed" => Event::AppealStatusChanged {
                appeal: field(d, "appeal")?,
                from: field(d, "from")?,
                to: field(d, "to")?,
                party: field(d, "party")?,
                due_at: field(d, "due_at")?,
                reason: field(d, "reason")?,
            },
            "appeal_decision_proposed" => Event::AppealDecisionProposed {
                appeal: field(d, "appeal")?,
                decision: field(d, "decision")?,
                rationale: field(d, "rationale")?,
            },
            "appeal_decided" => Event::AppealDecided {
                appeal: field(d, "appeal")?,
                decision: field(d, "decision")?,
                rationale: field(d, "rationale")?,
                approved_by: field(d, "approved_by")?,
            },
            "sla_breached" => Event::SlaBreached { target: field(d, "target")?, due_at: field(d, "due_at")? },
            "incident_linked" => {
                Event::IncidentLinked { announcement: field(d, "announcement")?, title: field(d, "title")? }
            }
            _ => return None,
        })
    }
}

/// Adds `"by_reply"` to an object only when it is set, as the reply path always wrote it.
fn with_by_reply(mut data: Value, by_reply: Option<bool>) -> Value {
    if let (Some(b), Value::Object(m)) = (by_reply, &mut data) {
        m.insert("by_reply".into(), Value::Bool(b));
    }
    data
}

/// One key of a stored payload; a missing key reads as `null` (so it fits an `Option` and nothing else).
fn field<T: DeserializeOwned>(d: &Map<String, Value>, key: &str) -> Option<T> {
    T::deserialize(d.get(key).unwrap_or(&Value::Null)).ok()
}

/// Serialises as `{"kind": …, "data": …}`: the stored columns side by side. (Not derived: two variants share
/// a kind, which serde's adjacent tagging cannot read back.)
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Event", 2)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("data", &self.data())?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            kind: String,
            #[serde(default)]
            data: Value,
        }
        let s = Stored::deserialize(d)?;
        let data = if s.data.is_null() { json!({}) } else { s.data };
        Event::parse(&s.kind, &data)
            .ok_or_else(|| D::Error::custom(format!("not a timeline event: kind {:?} with data {data}", s.kind)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each variant next to what the code before typed events wrote for it: (kind, data, internal), literally.
    fn cases() -> Vec<(Event, &'static str, Value, bool)> {
        let s = |v: &str| Some(v.to_string());
        let change = |from: Option<&str>, to: Option<&str>| FieldChange {
            from: from.map(str::to_string),
            to: to.map(str::to_string),
        };
        vec![
            // C2C orders and appeals (issue 14)
            (
                Event::OrderUpdated { order_id: "o1".into(), state: OrderState::Paid },
                "order_updated",
                json!({"order_id": "o1", "state": "paid"}),
                false,
            ),
            (
                Event::AppealOpened {
                    appeal: "ap1".into(),
                    order_id: "o1".into(),
                    party: Party::Buyer,
                    reason: AppealReason::PaidNotReleased,
                },
                "appeal_opened",
                json!({"appeal": "ap1", "order_id": "o1", "party": "buyer", "reason": "paid_not_released"}),
                false,
            ),
            (
                Event::AppealStatusChanged {
                    appeal: "ap1".into(),
                    from: AppealStatus::InReview,
                    to: AppealStatus::AwaitingEvidence,
                    party: Some(Party::Seller),
                    due_at: Some(1_700_000_000_000),
                    reason: None,
                },
                "appeal_status_changed",
                json!({"appeal": "ap1", "from": "in_review", "to": "awaiting_evidence", "party": "seller", "due_at": 1_700_000_000_000i64}),
                false,
            ),
            (
                Event::AppealDecisionProposed {
                    appeal: "ap1".into(),
                    decision: Decision::ReleaseToBuyer,
                    rationale: "bank slip matches".into(),
                },
                "appeal_decision_proposed",
                json!({"appeal": "ap1", "decision": "release_to_buyer", "rationale": "bank slip matches"}),
                true,
            ),
            (
                Event::AppealDecided {
                    appeal: "ap1".into(),
                    decision: Decision::ReleaseToBuyer,
                    rationale: "bank slip matches".into(),
                    approved_by: Some("a2".into()),
                },
                "appeal_decided",
                json!({"appeal": "ap1", "decision": "release_to_buyer", "rationale": "bank slip matches", "approved_by": "a2"}),
                false,
            ),
            // SLA (issue 13): a clock ran out
            (
                Event::SlaBreached { target: "first_response".into(), due_at: 1_700_000_000_000 },
                "sla_breached",
                json!({"target": "first_response", "due_at": 1_700_000_000_000i64}),
                true,
            ),
            // announcements (issue 13): a case linked to an incident
            (
                Event::IncidentLinked { announcement: "an1".into(), title: "BTC withdrawals delayed".into() },
                "incident_linked",
                json!({"announcement": "an1", "title": "BTC withdrawals delayed"}),
                false,
            ),
            // the secret guard (issue 16): the message it redacted and what it found
            (
                Event::SecretRedacted { seq: 1, kinds: vec!["mnemonic".into()] },
                "secret_redacted",
                json!({"seq": 1, "kinds": ["mnemonic"]}),
                false,
            ),
            // "my account may be stolen" and step-up verification (issue 16)
            (
                Event::FreezeRequested { emergency: "e1".into(), auth_time: 1_700_000_000 },
                "freeze_requested",
                json!({"emergency": "e1", "auth_time": 1_700_000_000}),
                false,
            ),
            (
                Event::FreezeAnswered { emergency: "e1".into(), frozen: true, status: Some(200) },
                "freeze_answered",
                json!({"emergency": "e1", "frozen": true, "status": 200}),
                false,
            ),
            (
                Event::StepUpRequested { step_up: "s1".into(), action: "2fa_reset".into() },
                "step_up_requested",
                json!({"step_up": "s1", "action": "2fa_reset"}),
                false,
            ),
            (
                Event::StepUpCompleted { step_up: "s1".into(), action: "2fa_reset".into(), auth_time: 1_700_000_000 },
                "step_up_completed",
                json!({"step_up": "s1", "action": "2fa_reset", "auth_time": 1_700_000_000}),
                false,
            ),
            // plan_change, TicketChange::Status
            (
                Event::StatusChanged { from: Status::Open, to: Status::Solved, by_reply: None },
                "status_changed",
                json!({"from": "open", "to": "solved"}),
                false,
            ),
            // reply: a customer's reply reopens, an agent's first public reply opens
            (
                Event::StatusChanged { from: Status::Pending, to: Status::Open, by_reply: Some(true) },
                "status_changed",
                json!({"from": "pending", "to": "open", "by_reply": true}),
                false,
            ),
            // plan_change, TicketChange::Assign
            (
                Event::Assigned { from: s("a1"), to: s("a2"), by_reply: None },
                "assigned",
                json!({"from": "a1", "to": "a2"}),
                true,
            ),
            (
                Event::Assigned { from: s("a1"), to: None, by_reply: None },
                "assigned",
                json!({"from": "a1", "to": null}),
                true,
            ),
            // reply: an agent's first public reply takes an unassigned case
            (
                Event::Assigned { from: None, to: s("a1"), by_reply: Some(true) },
                "assigned",
                json!({"from": null, "to": "a1", "by_reply": true}),
                true,
            ),
            // plan_change, TicketChange::Transfer
            (
                Event::Transferred { from: "support".into(), to: "finance".into(), reason: "refund".into() },
                "transferred",
                json!({"from": "support", "to": "finance", "reason": "refund"}),
                true,
            ),
            // plan_change, TicketChange::Escalate
            (
                Event::Escalated { from: Tier::L1, to: Tier::L2, reason: "needs L2".into() },
                "escalated",
                json!({"from": "l1", "to": "l2", "reason": "needs L2"}),
                true,
            ),
            // plan_change, TicketChange::Update
            (
                Event::Updated(BTreeMap::from([
                    ("priority".to_string(), change(Some("normal"), Some("urgent"))),
                    ("category".to_string(), change(Some("deposit"), Some("withdrawal"))),
                    ("order_id".to_string(), change(None, Some("o-1"))),
                    ("tx_hash".to_string(), change(Some("0xab"), None)),
                    ("asset".to_string(), change(None, Some("USDT"))),
                    ("amount".to_string(), change(Some("1"), Some("2"))),
                ])),
                "updated",
                json!({
                    "priority": {"from": "normal", "to": "urgent"},
                    "category": {"from": "deposit", "to": "withdrawal"},
                    "order_id": {"from": null, "to": "o-1"},
                    "tx_hash": {"from": "0xab", "to": null},
                    "asset": {"from": null, "to": "USDT"},
                    "amount": {"from": "1", "to": "2"}
                }),
                true,
            ),
            // update_ticket with tags
            (
                Event::TagsChanged { from: vec![], to: vec!["c2c".into(), "vip".into()] },
                "tags_changed",
                json!({"from": [], "to": ["c2c", "vip"]}),
                true,
            ),
            // merge_ticket
            (
                Event::MergedInto { into: "c2".into(), case_number: s("LB-260101-0002") },
                "merged_into",
                json!({"into": "c2", "case_number": "LB-260101-0002"}),
                false,
            ),
            (
                Event::MergedFrom { from: "c1".into(), case_number: s("LB-260101-0001") },
                "merged_from",
                json!({"from": "c1", "case_number": "LB-260101-0001"}),
                false,
            ),
            // reply to a closed case
            (
                Event::FollowUpOpened { follow_up: "c3".into(), case_number: s("LB-260101-0003") },
                "follow_up_opened",
                json!({"follow_up": "c3", "case_number": "LB-260101-0003"}),
                false,
            ),
            // chat_handover
            (Event::Handover { reason: "bot_no_answer".into() }, "handover", json!({"reason": "bot_no_answer"}), false),
            // route_chat (the router's choice) and assign_chat
            (
                Event::ChatAssigned { to: "a1".into(), name: "Ann".into(), agent_no: "A1024".into() },
                "assigned",
                json!({"to": "a1", "name": "Ann", "agent_no": "A1024"}),
                false,
            ),
            // transfer_chat
            (
                Event::ChatTransferred { to_department: "tech".into(), note: "API keys".into() },
                "transferred",
                json!({"to_department": "tech", "note": "API keys"}),
                true,
            ),
            // end_chat
            (Event::ChatEnded, "chat_ended", json!({}), false),
            // convert_chat_to_ticket
            (
                Event::ConvertedToTicket { ticket: "c4".into(), case_number: s("LB-260101-0004") },
                "converted_to_ticket",
                json!({"ticket": "c4", "case_number": "LB-260101-0004"}),
                false,
            ),
            // insert_conversation before the first message became the creation record (older databases)
            (
                Event::Created { kind: ConversationKind::Ticket, follow_up_of: None },
                "created",
                json!({"kind": "ticket", "follow_up_of": null}),
                false,
            ),
            (
                Event::Created { kind: ConversationKind::Ticket, follow_up_of: s("c1") },
                "created",
                json!({"kind": "ticket", "follow_up_of": "c1"}),
                false,
            ),
        ]
    }

    #[test]
    fn every_variant_writes_what_the_string_events_wrote() {
        for (event, kind, data, internal) in cases() {
            assert_eq!(event.kind(), kind, "{event:?}");
            assert_eq!(event.data(), data, "{event:?}");
            assert_eq!(event.data().to_string(), data.to_string(), "{event:?}: stored text");
            assert_eq!(event.internal(), internal, "{event:?}");
        }
    }

    #[test]
    fn every_variant_reads_back() {
        for (event, kind, data, _) in cases() {
            assert_eq!(Event::parse(kind, &data), Some(event.clone()), "{kind} {data}");
            assert_eq!(Event::parse(event.kind(), &event.data()), Some(event.clone()));
            let wire = serde_json::to_value(&event).unwrap();
            assert_eq!(wire, json!({"kind": kind, "data": data}));
            assert_eq!(serde_json::from_value::<Event>(wire).unwrap(), event);
        }
    }

    #[test]
    fn every_variant_has_a_case() {
        // Adding a variant without a case above fails here (the match is exhaustive, the names are counted).
        let names: std::collections::BTreeSet<&str> = cases()
            .iter()
            .map(|(e, ..)| match e {
                Event::StatusChanged { .. } => "StatusChanged",
                Event::Assigned { .. } => "Assigned",
                Event::Transferred { .. } => "Transferred",
                Event::Escalated { .. } => "Escalated",
                Event::Updated(_) => "Updated",
                Event::TagsChanged { .. } => "TagsChanged",
                Event::MergedInto { .. } => "MergedInto",
                Event::MergedFrom { .. } => "MergedFrom",
                Event::FollowUpOpened { .. } => "FollowUpOpened",
                Event::Handover { .. } => "Handover",
                Event::ChatAssigned { .. } => "ChatAssigned",
                Event::ChatTransferred { .. } => "ChatTransferred",
                Event::ChatEnded => "ChatEnded",
                Event::ConvertedToTicket { .. } => "ConvertedToTicket",
                Event::Created { .. } => "Created",
                Event::SecretRedacted { .. } => "SecretRedacted",
                Event::FreezeRequested { .. } => "FreezeRequested",
                Event::FreezeAnswered { .. } => "FreezeAnswered",
                Event::StepUpRequested { .. } => "StepUpRequested",
                Event::StepUpCompleted { .. } => "StepUpCompleted",
                Event::OrderUpdated { .. } => "OrderUpdated",
                Event::AppealOpened { .. } => "AppealOpened",
                Event::AppealStatusChanged { .. } => "AppealStatusChanged",
                Event::AppealDecisionProposed { .. } => "AppealDecisionProposed",
                Event::AppealDecided { .. } => "AppealDecided",
                Event::IncidentLinked { .. } => "IncidentLinked",
                Event::SlaBreached { .. } => "SlaBreached",
            })
            .collect();
        assert_eq!(names.len(), 27);
    }

    #[test]
    fn the_two_shapes_of_a_kind_are_told_apart() {
        let ticket = Event::parse("assigned", &json!({"from": null, "to": "a1"})).unwrap();
        assert!(matches!(ticket, Event::Assigned { .. }) && ticket.internal());
        let chat = Event::parse("assigned", &json!({"to": "a1", "name": "Ann", "agent_no": "A1"})).unwrap();
        assert!(matches!(chat, Event::ChatAssigned { .. }) && !chat.internal());
        let ticket = Event::parse("transferred", &json!({"from": "a", "to": "b", "reason": "r"})).unwrap();
        assert!(matches!(ticket, Event::Transferred { .. }));
        let chat = Event::parse("transferred", &json!({"to_department": "b", "note": "n"})).unwrap();
        assert!(matches!(chat, Event::ChatTransferred { .. }));
    }

    #[test]
    fn unknown_kinds_and_misfit_data_do_not_parse() {
        assert_eq!(Event::parse("teleported", &json!({})), None);
        assert_eq!(Event::parse("status_changed", &json!({"from": "open"})), None);
        assert_eq!(Event::parse("status_changed", &json!({"from": "open", "to": "sideways"})), None);
        assert_eq!(Event::parse("handover", &json!("asked")), None);
        assert_eq!(Event::parse("chat_ended", &Value::Null), None);
        // Keys a payload does not name are ignored, and a missing optional key reads as absent.
        assert_eq!(
            Event::parse("handover", &json!({"reason": "asked", "extra": 1})),
            Some(Event::Handover { reason: "asked".into() })
        );
    }
}
