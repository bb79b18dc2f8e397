//! The one core every channel feeds: a conversation. A ticket, a live chat, an email thread and a C2C appeal
//! are all conversations; the ticket's fields (case number, status, priority, department, assignee) live on it.

use crate::Invalid;
use chrono::NaiveDate;

crate::wire_enum! {
    /// The channel a conversation came in through. All share one timeline model.
    ConversationKind, "kind" { Ticket = "ticket", Chat = "chat", Email = "email", Appeal = "appeal" }
}

crate::wire_enum! {
    /// Where a case stands. `pending` waits on the customer, `on_hold` on another department; `closed` is final.
    Status, "status" {
        New = "new", Open = "open", Pending = "pending", OnHold = "on_hold", Solved = "solved", Closed = "closed"
    }
}

crate::wire_enum! {
    /// Where a knowledge-base article stands: only `published` is in the help center; `internal` is for agents.
    KbStatus, "status" { Draft = "draft", Published = "published", Internal = "internal" }
}

crate::wire_enum! {
    /// Where a live chat stands: the bot answers, it waits for an agent, an agent has it, or it is over (the
    /// customer may rate it; a new message starts a new chat).
    ChatState, "state" { Bot = "bot", Queued = "queued", Active = "active", Ended = "ended" }
}

crate::wire_enum! {
    /// How urgent a case is.
    Priority, "priority" { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
}

crate::wire_enum! {
    /// What a case is about, as a customer of an exchange would file it.
    Category, "category" {
        Account = "account", Kyc = "kyc", Deposit = "deposit", Withdrawal = "withdrawal", Trading = "trading",
        C2c = "c2c", Security = "security", Api = "api", Other = "other"
    }
}

impl Priority {
    /// A number that sorts urgent first when descending.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }
}

/// An illegal status change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("the case is already {0}")]
    Unchanged(Status),
    #[error("a closed case is final; reply to open a follow-up case")]
    Closed,
    #[error("a case cannot go from {from} to {to}")]
    Illegal { from: Status, to: Status },
}

impl Status {
    /// Statuses in which the case still needs work from someone.
    pub const ACTIVE: &'static [Status] = &[Status::New, Status::Open, Status::Pending, Status::OnHold];

    /// Checks a move from `self` to `to`. Every pair is covered by a test.
    pub fn transition(self, to: Status) -> Result<Status, StatusError> {
        use Status::*;
        if self == to {
            return Err(StatusError::Unchanged(self));
        }
        let ok = match self {
            Closed => return Err(StatusError::Closed),
            // A new case can be worked on, parked or answered outright, but not closed unanswered.
            New => matches!(to, Open | Pending | OnHold | Solved),
            Open | Pending | OnHold => !matches!(to, New | Closed),
            // Solved reopens (the customer replied or the agent was wrong) or closes for good.
            Solved => matches!(to, Open | Closed),
        };
        if ok { Ok(to) } else { Err(StatusError::Illegal { from: self, to }) }
    }

    /// The only status a customer sets by hand: "my problem is solved".
    pub fn customer_may_set(self, to: Status) -> bool {
        to == Status::Solved && Status::ACTIVE.contains(&self)
    }

    /// Where a customer's reply takes the case: back to the agents' desk.
    pub fn after_customer_reply(self) -> Option<Status> {
        match self {
            Status::Pending | Status::Solved => Some(Status::Open),
            _ => None,
        }
    }

    pub fn is_active(self) -> bool {
        Status::ACTIVE.contains(&self)
    }
}

/// A case number customers can read over the phone: `LB-260123-0042` (prefix, day, serial of that day).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseNumber {
    day: NaiveDate,
    serial: u32,
}

impl CaseNumber {
    pub fn new(day: NaiveDate, serial: u32) -> Self {
        CaseNumber { day, serial }
    }
    /// The counter name under which a day's serials are drawn.
    pub fn counter_for(day: NaiveDate) -> String {
        format!("case:{}", day.format("%y%m%d"))
    }
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("case_number", format!("{s:?} is not a case number like LB-260123-0042"));
        let s = s.trim().to_ascii_uppercase();
        let rest = s.strip_prefix("LB-").ok_or_else(bad)?;
        let (d, n) = rest.split_once('-').ok_or_else(bad)?;
        if d.len() != 6 || n.len() < 4 || !n.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let day = NaiveDate::parse_from_str(&format!("20{d}"), "%Y%m%d").map_err(|_| bad())?;
        Ok(CaseNumber { day, serial: n.parse().map_err(|_| bad())? })
    }
}

impl std::fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LB-{}-{:04}", self.day.format("%y%m%d"), self.serial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn every_pair_of_statuses() {
        let legal = [
            (New, Open),
            (New, Pending),
            (New, OnHold),
            (New, Solved),
            (Open, Pending),
            (Open, OnHold),
            (Open, Solved),
            (Pending, Open),
            (Pending, OnHold),
            (Pending, Solved),
            (OnHold, Open),
            (OnHold, Pending),
            (OnHold, Solved),
            (Solved, Open),
            (Solved, Closed),
        ];
        for &from in Status::ALL {
            for &to in Status::ALL {
                let got = from.transition(to);
                assert_eq!(got.is_ok(), legal.contains(&(from, to)), "{from} -> {to}: {got:?}");
            }
        }
        assert_eq!(Closed.transition(Open), Err(StatusError::Closed));
        assert_eq!(Open.transition(Open), Err(StatusError::Unchanged(Open)));
    }

    #[test]
    fn customers_only_mark_solved() {
        assert!(Open.customer_may_set(Solved));
        assert!(!Solved.customer_may_set(Solved));
        assert!(!Open.customer_may_set(Closed));
        assert_eq!(Solved.after_customer_reply(), Some(Open));
        assert_eq!(New.after_customer_reply(), None);
    }

    #[test]
    fn case_numbers_round_trip() {
        let c = CaseNumber::new(NaiveDate::from_ymd_opt(2026, 1, 23).unwrap(), 42);
        assert_eq!(c.to_string(), "LB-260123-0042");
        assert_eq!(CaseNumber::parse("lb-260123-0042").unwrap(), c);
        assert_eq!(CaseNumber::new(c.day, 123456).to_string(), "LB-260123-123456");
        for bad in ["LB-2601-0042", "XX-260123-0042", "LB-261399-0042", "LB-260123-42"] {
            assert!(CaseNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wire_names() {
        assert_eq!(Status::parse("on_hold").unwrap(), OnHold);
        let e = Category::parse("loans").unwrap_err();
        assert!(e.reason.contains("withdrawal"));
        assert_eq!(Priority::Urgent.as_str(), "urgent");
        assert!(Priority::Urgent.rank() > Priority::Low.rank());
    }
}
