//! Who acts: the party a use case runs for, with what it may see and do. The web crate turns a session, an
//! identity token or an integration token into one; a job runs as [`Actor::System`].

use lifebuoy_store::{Agent, Customer, Principal, Scope};

/// The party a use case runs for.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A customer of the exchange (signed in by the exchange's token, or an email-verified guest).
    Customer(Customer),
    /// An agent, with role (tier) and departments.
    Agent(Agent),
    /// The exchange's backend, by an integration token: sees every department.
    Integration { token_id: String, name: String },
    /// A background job of Lifebuoy itself (the name says which).
    System { job: String },
}

impl From<Principal> for Actor {
    fn from(p: Principal) -> Self {
        match p {
            Principal::Agent(a) => Actor::Agent(a),
            Principal::Customer(c) => Actor::Customer(c),
            Principal::Integration { token_id, name } => Actor::Integration { token_id, name },
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        p.clone().into()
    }
}

impl Actor {
    /// A system job as the actor.
    pub fn system(job: impl Into<String>) -> Self {
        Actor::System { job: job.into() }
    }

    /// Which conversations this actor may see.
    pub fn scope(&self) -> Scope {
        match self {
            Actor::Customer(c) => Scope::Customer(c.id.clone()),
            Actor::Agent(a) if a.role.sees_all() => Scope::All,
            Actor::Agent(a) => Scope::Agent { id: a.id.clone(), departments: a.departments.clone() },
            Actor::Integration { .. } | Actor::System { .. } => Scope::All,
        }
    }

    /// The actor as the timeline records it.
    pub fn author(&self) -> lifebuoy_store::Actor {
        use lifebuoy_store::Actor as Author;
        match self {
            Actor::Customer(c) => Author::Customer(c.id.clone()),
            Actor::Agent(a) => Author::Agent(a.id.clone()),
            Actor::Integration { token_id, .. } => Author::Integration(token_id.clone()),
            Actor::System { .. } => Author::System,
        }
    }

    /// Agents, integrations and jobs: everyone but customers.
    pub fn is_staff(&self) -> bool {
        !matches!(self, Actor::Customer(_))
    }

    /// Supervisors and admins among agents, integrations and jobs: those who may act on any case, whoever holds it.
    pub fn oversees(&self) -> bool {
        match self {
            Actor::Agent(a) => a.role.sees_all(),
            Actor::Customer(_) => false,
            Actor::Integration { .. } | Actor::System { .. } => true,
        }
    }

    /// The exchange's own word: an integration token (or a job acting for the system). Only these may change who
    /// an existing customer is.
    pub fn speaks_for_exchange(&self) -> bool {
        matches!(self, Actor::Integration { .. } | Actor::System { .. })
    }

    pub fn agent(&self) -> Option<&Agent> {
        match self {
            Actor::Agent(a) => Some(a),
            _ => None,
        }
    }

    pub fn customer(&self) -> Option<&Customer> {
        match self {
            Actor::Customer(c) => Some(c),
            _ => None,
        }
    }

    /// A stable key for per-actor state such as idempotency keys.
    pub fn key(&self) -> String {
        match self {
            Actor::Customer(c) => format!("customer:{}", c.id),
            Actor::Agent(a) => format!("agent:{}", a.id),
            Actor::Integration { token_id, .. } => format!("token:{token_id}"),
            Actor::System { job } => format!("system:{job}"),
        }
    }

    /// Refuses customers.
    pub fn require_staff(&self) -> Result<(), crate::AppError> {
        if self.is_staff() { Ok(()) } else { Err(crate::AppError::forbidden("agents only")) }
    }
}
