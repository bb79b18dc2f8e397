//! C2C (P2P) trades and their appeals (申诉): the state of an order as the exchange reports it, and the state
//! machine of an appeal from submission to closing. Pure rules; the store keeps what they decide.

use crate::Invalid;

crate::wire_enum! {
    /// Where a C2C order stands, as the exchange reports it. `created` waits for the buyer's payment; `paid`
    /// waits for the seller to release the coins from escrow; the other three are final.
    OrderState, "state" {
        Created = "created", Paid = "paid", Released = "released", Cancelled = "cancelled", Expired = "expired"
    }
}

impl OrderState {
    /// How far along an order is: an event never moves an order back (a `paid` that arrives after `released`
    /// is recorded, but the order stays released).
    pub fn rank(self) -> u8 {
        match self {
            OrderState::Created => 0,
            OrderState::Paid => 1,
            OrderState::Released | OrderState::Cancelled | OrderState::Expired => 2,
        }
    }

    pub fn is_final(self) -> bool {
        self.rank() == 2
    }

    /// Where an order in `self` goes on an event reporting `to`: `Ok(Some(state))` moves it, `Ok(None)` leaves it
    /// (the event was news of a step already passed: out of order), `Err` when a final state would be replaced by
    /// another final state (the exchange contradicts itself: `released` then `cancelled`).
    pub fn on_event(self, to: OrderState) -> Result<Option<OrderState>, Invalid> {
        if to.rank() > self.rank() {
            return Ok(Some(to));
        }
        if self.is_final() && to.is_final() && self != to {
            return Err(Invalid::new("event", format!("the order is already {self}; it cannot become {to}")));
        }
        Ok(None)
    }
}

crate::wire_enum! {
    /// Which side of a trade: the buyer pays fiat and receives the coins, the seller receives fiat and releases.
    Party, "party" { Buyer = "buyer", Seller = "seller" }
}

impl Party {
    pub fn other(self) -> Party {
        match self {
            Party::Buyer => Party::Seller,
            Party::Seller => Party::Buyer,
        }
    }
}

crate::wire_enum! {
    /// Why a party appeals, as the order page offers it.
    AppealReason, "reason" {
        PaidNotReleased = "paid_not_released",
        ReleasedNotPaid = "released_not_paid",
        WrongAmount = "wrong_amount",
        ThirdPartyPayment = "third_party_payment",
        AccountFrozen = "account_frozen",
        Other = "other"
    }
}

crate::wire_enum! {
    /// Where an appeal stands. `awaiting_approval` is the four-eyes step: a decision above the admins' amount
    /// waits for a second arbiter. `withdrawn` and `closed` are final.
    AppealStatus, "status" {
        Submitted = "submitted",
        InReview = "in_review",
        AwaitingEvidence = "awaiting_evidence",
        AwaitingApproval = "awaiting_approval",
        Decided = "decided",
        Executed = "executed",
        Closed = "closed",
        Withdrawn = "withdrawn"
    }
}

crate::wire_enum! {
    /// What the arbiter decides: the coins go to the buyer, back to the seller, or the trade is cancelled.
    Decision, "decision" { ReleaseToBuyer = "release_to_buyer", ReturnToSeller = "return_to_seller", Cancel = "cancel" }
}

impl AppealStatus {
    /// Statuses in which the appeal waits on an arbiter: they are in the arbiters' queue.
    pub fn in_queue(self) -> bool {
        matches!(
            self,
            AppealStatus::Submitted
                | AppealStatus::InReview
                | AppealStatus::AwaitingEvidence
                | AppealStatus::AwaitingApproval
        )
    }

    /// Before a decision: the party who opened it may still withdraw.
    pub fn undecided(self) -> bool {
        self.in_queue()
    }

    pub fn is_final(self) -> bool {
        matches!(self, AppealStatus::Closed | AppealStatus::Withdrawn)
    }

    /// Checks a move from `self` to `to`. Every pair is covered by a test.
    pub fn transition(self, to: AppealStatus) -> Result<AppealStatus, Invalid> {
        use AppealStatus::*;
        let ok = match (self, to) {
            (Submitted, InReview) => true,
            // An arbiter asks a party for more; the evidence (or its deadline) brings it back to review.
            (Submitted | InReview, AwaitingEvidence) => true,
            (AwaitingEvidence, InReview) => true,
            // Decide outright, or propose a decision a second arbiter must approve.
            (Submitted | InReview | AwaitingEvidence, Decided | AwaitingApproval) => true,
            // The second arbiter approves (decided) or sends it back (in review).
            (AwaitingApproval, Decided | InReview) => true,
            (Decided, Executed) => true,
            (Executed, Closed) => true,
            // The party who opened it withdraws before a decision.
            (s, Withdrawn) => s.undecided(),
            _ => false,
        };
        if ok { Ok(to) } else { Err(Invalid::new("status", format!("an appeal cannot go from {self} to {to}"))) }
    }
}

impl Decision {
    /// The order state the exchange reports once it has carried the decision out.
    pub fn executed_by(self) -> OrderState {
        match self {
            Decision::ReleaseToBuyer => OrderState::Released,
            Decision::ReturnToSeller | Decision::Cancel => OrderState::Cancelled,
        }
    }
}

/// Compares two non-negative decimal amounts written as strings (`"3600"`, `"3600.50"`), exactly: money is never
/// a float. `None` when either is not such a number.
pub fn cmp_amount(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    fn parts(s: &str) -> Option<(String, String)> {
        let s = s.trim();
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        if i.is_empty() || !i.bytes().all(|c| c.is_ascii_digit()) || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let i = i.trim_start_matches('0');
        let f = f.trim_end_matches('0');
        Some((i.to_string(), f.to_string()))
    }
    let (ai, af) = parts(a)?;
    let (bi, bf) = parts(b)?;
    let width = af.len().max(bf.len());
    Some(ai.len().cmp(&bi.len()).then(ai.cmp(&bi)).then_with(|| {
        let (af, bf) = (format!("{af:0<width$}"), format!("{bf:0<width$}"));
        af.cmp(&bf)
    }))
}

/// Checks an amount: a non-negative decimal of at most 40 characters.
pub fn parse_amount(field: &'static str, s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    if s.len() > 40 || cmp_amount(s, "0").is_none() {
        return Err(Invalid::new(field, "a decimal amount such as 3600 or 3600.50"));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn every_appeal_transition() {
        use AppealStatus::*;
        let allowed = [
            (Submitted, InReview),
            (Submitted, AwaitingEvidence),
            (InReview, AwaitingEvidence),
            (AwaitingEvidence, InReview),
            (Submitted, Decided),
            (InReview, Decided),
            (AwaitingEvidence, Decided),
            (Submitted, AwaitingApproval),
            (InReview, AwaitingApproval),
            (AwaitingEvidence, AwaitingApproval),
            (AwaitingApproval, Decided),
            (AwaitingApproval, InReview),
            (Decided, Executed),
            (Executed, Closed),
            (Submitted, Withdrawn),
            (InReview, Withdrawn),
            (AwaitingEvidence, Withdrawn),
            (AwaitingApproval, Withdrawn),
        ];
        for &from in AppealStatus::ALL {
            for &to in AppealStatus::ALL {
                let want = allowed.contains(&(from, to));
                assert_eq!(from.transition(to).is_ok(), want, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn order_events_never_go_back() {
        use OrderState::*;
        assert_eq!(Created.on_event(Paid).unwrap(), Some(Paid));
        assert_eq!(Created.on_event(Released).unwrap(), Some(Released), "paid may arrive after released");
        assert_eq!(Released.on_event(Paid).unwrap(), None, "late news of payment leaves the order released");
        assert_eq!(Paid.on_event(Paid).unwrap(), None);
        assert_eq!(Released.on_event(Released).unwrap(), None);
        assert!(Released.on_event(Cancelled).is_err(), "a released order is not cancelled after");
        assert!(Expired.on_event(Released).is_err());
    }

    #[test]
    fn amounts_compare_exactly() {
        assert_eq!(cmp_amount("3600", "3600.00"), Some(Equal));
        assert_eq!(cmp_amount("3600.01", "3600"), Some(Greater));
        assert_eq!(cmp_amount("999.999", "1000"), Some(Less));
        assert_eq!(cmp_amount("0050000", "50000"), Some(Equal));
        assert_eq!(cmp_amount("0.1", "0.09"), Some(Greater));
        assert_eq!(cmp_amount("-1", "0"), None);
        assert_eq!(cmp_amount("1e3", "0"), None);
        assert_eq!(cmp_amount("", "0"), None);
        assert!(parse_amount("amount", "12.5").is_ok());
        assert!(parse_amount("amount", "abc").is_err());
    }
}
