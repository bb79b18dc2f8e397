//! Who acts in Lifebuoy: agents with a role and a tier, customers with an email.

use crate::Invalid;

crate::wire_enum! {
    /// What an agent may do. Supervisors and admins see every department.
    Role, "role" { AgentL1 = "agent_l1", AgentL2 = "agent_l2", Supervisor = "supervisor", Admin = "admin" }
}

impl Role {
    /// True for roles that see every department's conversations.
    pub fn sees_all(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }

    /// True for roles that write, publish and unpublish help-center articles and read search analytics.
    /// Every agent reads the knowledge base, internal articles included.
    pub fn edits_kb(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }

    /// True for roles that edit the search synonyms (they change every search, so admins only).
    pub fn edits_synonyms(self) -> bool {
        matches!(self, Role::Admin)
    }
}

crate::wire_enum! {
    /// The support tier a case sits at; escalation moves it up one step.
    Tier, "tier" { L1 = "l1", L2 = "l2", Supervisor = "supervisor" }
}

impl Tier {
    /// The next tier up, or `None` at the top.
    pub fn escalated(self) -> Option<Tier> {
        match self {
            Tier::L1 => Some(Tier::L2),
            Tier::L2 => Some(Tier::Supervisor),
            Tier::Supervisor => None,
        }
    }
}

/// An agent number (工号), shown to customers on every reply: 2–12 ASCII letters and digits, e.g. `A1024`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AgentNo(String);

impl AgentNo {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        if !(2..=12).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Invalid::new("agent_no", "2 to 12 letters or digits, e.g. A1024"));
        }
        Ok(AgentNo(s.to_ascii_uppercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, trimmed and lower-cased in its domain. Checked for shape only: delivery proves the rest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let bad = || Invalid::new("email", format!("{s:?} is not an email address"));
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_numbers() {
        assert_eq!(AgentNo::parse(" a1024 ").unwrap().as_str(), "A1024");
        assert!(AgentNo::parse("A").is_err());
        assert!(AgentNo::parse("A-1").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse("Li.Wei@Example.COM").unwrap().as_str(), "Li.Wei@example.com");
        for bad in ["", "a", "a@b", "@b.com", "a b@c.com", "a@.com", "a@com."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn escalation_climbs_once_per_step() {
        assert_eq!(Tier::L1.escalated(), Some(Tier::L2));
        assert_eq!(Tier::L2.escalated(), Some(Tier::Supervisor));
        assert_eq!(Tier::Supervisor.escalated(), None);
    }
}
