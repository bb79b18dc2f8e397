//! Which agent a waiting chat goes to: a pure function over the online agents who could take it, so the rule
//! is tested on its own. The store calls it inside the routing transaction, with the counters as they are
//! then, and takes the first candidate whose guarded increment succeeds.

/// An online agent with room, as the routing query reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    /// `agent_l1`, `agent_l2`, `supervisor` or `admin`.
    pub role: String,
    /// The languages the agent answers in, comma-separated (`zh-Hans,en`).
    pub languages: String,
    pub capacity: i64,
    pub active_chats: i64,
    pub name: String,
    pub agent_no: String,
}

impl Candidate {
    fn oversees(&self) -> bool {
        self.role == "supervisor" || self.role == "admin"
    }
}

/// The candidates who speak `lang`, best first: front-line agents before supervisors and admins (who take
/// chats only when nobody else can), then fewest chats, then the lowest share of capacity (cross-multiplied,
/// integers only), then the id (a stable order).
pub fn rank(candidates: Vec<Candidate>, lang: &str) -> Vec<Candidate> {
    let mut c: Vec<Candidate> =
        candidates.into_iter().filter(|c| c.languages.split(',').any(|l| l.trim() == lang)).collect();
    c.sort_by(|a, b| {
        let (ca, cb) = (a.capacity.max(1), b.capacity.max(1));
        (a.oversees(), a.active_chats)
            .cmp(&(b.oversees(), b.active_chats))
            .then((a.active_chats * cb).cmp(&(b.active_chats * ca)))
            .then(a.id.cmp(&b.id))
    });
    c
}

/// How new tickets are given out (the admins' choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketRouting {
    /// Tickets wait in the queue for someone to take them.
    Off,
    /// The agent with the fewest open cases.
    LeastLoaded,
    /// The agent given a ticket longest ago.
    RoundRobin,
}

impl TicketRouting {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketRouting::Off => "off",
            TicketRouting::LeastLoaded => "least_loaded",
            TicketRouting::RoundRobin => "round_robin",
        }
    }

    pub fn parse(s: &str) -> Option<TicketRouting> {
        match s {
            "off" => Some(TicketRouting::Off),
            "least_loaded" => Some(TicketRouting::LeastLoaded),
            "round_robin" => Some(TicketRouting::RoundRobin),
            _ => None,
        }
    }
}

/// An online agent who could take a ticket (of its department and tier, speaking its language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketCandidate {
    pub id: String,
    /// Open cases the agent holds (new, open, pending, on hold).
    pub open_cases: i64,
    /// When the router last gave the agent a ticket (ms; 0: never).
    pub last_routed_at: i64,
    /// The case's category is among the agent's skills.
    pub skilled: bool,
}

/// The agent a ticket goes to, among the skilled candidates when there are any (else among all): the fewest
/// open cases (then the longest since the last ticket) with `least_loaded`, the longest since the last ticket
/// (then the fewest open cases) with `round_robin`; the id breaks ties. `None` when routing is off or nobody
/// can take it.
pub fn pick_ticket_agent(mode: TicketRouting, candidates: &[TicketCandidate]) -> Option<&TicketCandidate> {
    let any_skilled = candidates.iter().any(|c| c.skilled);
    let pool = candidates.iter().filter(|c| c.skilled || !any_skilled);
    match mode {
        TicketRouting::Off => None,
        TicketRouting::LeastLoaded => {
            pool.min_by(|a, b| (a.open_cases, a.last_routed_at, &a.id).cmp(&(b.open_cases, b.last_routed_at, &b.id)))
        }
        TicketRouting::RoundRobin => {
            pool.min_by(|a, b| (a.last_routed_at, a.open_cases, &a.id).cmp(&(b.last_routed_at, b.open_cases, &b.id)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, open: i64, last: i64) -> TicketCandidate {
        TicketCandidate { id: id.into(), open_cases: open, last_routed_at: last, skilled: false }
    }

    #[test]
    fn a_skilled_agent_comes_first_even_when_busier() {
        let skilled = TicketCandidate { skilled: true, ..t("expert", 5, 1) };
        let c = [t("idle", 0, 0), skilled.clone(), t("fresh", 1, 0)];
        assert_eq!(pick_ticket_agent(TicketRouting::LeastLoaded, &c).map(|c| c.id.as_str()), Some("expert"));
        assert_eq!(pick_ticket_agent(TicketRouting::RoundRobin, &c).map(|c| c.id.as_str()), Some("expert"));
        let two = [skilled, TicketCandidate { skilled: true, ..t("expert2", 2, 9) }, t("idle", 0, 0)];
        assert_eq!(pick_ticket_agent(TicketRouting::LeastLoaded, &two).map(|c| c.id.as_str()), Some("expert2"));
    }

    #[test]
    fn tickets_go_to_the_least_loaded_or_in_turn() {
        let c = [t("busy", 9, 1), t("idle", 2, 50), t("fresh", 2, 10)];
        assert_eq!(pick_ticket_agent(TicketRouting::LeastLoaded, &c).map(|c| c.id.as_str()), Some("fresh"));
        assert_eq!(pick_ticket_agent(TicketRouting::RoundRobin, &c).map(|c| c.id.as_str()), Some("busy"));
        assert_eq!(pick_ticket_agent(TicketRouting::Off, &c), None);
        assert_eq!(pick_ticket_agent(TicketRouting::LeastLoaded, &[]), None);
        for m in [TicketRouting::Off, TicketRouting::LeastLoaded, TicketRouting::RoundRobin] {
            assert_eq!(TicketRouting::parse(m.as_str()), Some(m));
        }
    }

    fn c(id: &str, role: &str, langs: &str, cap: i64, busy: i64) -> Candidate {
        Candidate {
            id: id.into(),
            role: role.into(),
            languages: langs.into(),
            capacity: cap,
            active_chats: busy,
            name: id.to_uppercase(),
            agent_no: format!("N{id}"),
        }
    }

    fn ids(v: &[Candidate]) -> Vec<&str> {
        v.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn only_agents_who_speak_the_chats_language() {
        let r = rank(vec![c("a", "agent_l1", "en", 5, 0), c("b", "agent_l1", "zh-Hans, en", 5, 3)], "zh-Hans");
        assert_eq!(ids(&r), ["b"]);
        assert!(rank(vec![c("a", "agent_l1", "en", 5, 0)], "zh-Hant").is_empty());
    }

    #[test]
    fn fewest_chats_first_then_the_lowest_share_of_capacity() {
        let r = rank(
            vec![
                c("busy", "agent_l1", "en", 10, 4),
                c("idle", "agent_l1", "en", 2, 0),
                c("half", "agent_l1", "en", 8, 4),
            ],
            "en",
        );
        assert_eq!(ids(&r), ["idle", "busy", "half"], "no chats first; then, at 4 chats each, 4 of 10 before 4 of 8");
    }

    #[test]
    fn supervisors_only_when_no_front_line_agent_can() {
        let r = rank(vec![c("sup", "supervisor", "en", 10, 0), c("l1", "agent_l1", "en", 3, 2)], "en");
        assert_eq!(ids(&r), ["l1", "sup"]);
        let r = rank(vec![c("sup", "supervisor", "en", 10, 0), c("adm", "admin", "en", 10, 1)], "en");
        assert_eq!(ids(&r), ["sup", "adm"]);
    }

    #[test]
    fn ties_break_by_id() {
        let r = rank(vec![c("b", "agent_l2", "en", 5, 1), c("a", "agent_l1", "en", 5, 1)], "en");
        assert_eq!(ids(&r), ["a", "b"]);
    }
}
