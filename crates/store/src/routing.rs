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

#[cfg(test)]
mod tests {
    use super::*;

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
