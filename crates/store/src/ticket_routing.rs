//! Ticket routing's storage (migration `0026_ticket_routing.sql`): the admins' mode, who could take a ticket,
//! the tickets waiting for an agent, and the guarded assignment. The choice itself is
//! [`crate::routing::pick_ticket_agent`]; `lifebuoy_app::ticket_routing` runs it.

use crate::routing::{TicketCandidate, TicketRouting};
use crate::rows::CONVERSATION_COLS;
use crate::{Actor, Conversation, Result, Store, TicketChange, now_ms, on_read, on_write};

impl Store {
    /// How new tickets are given out.
    pub async fn ticket_routing(&self) -> Result<TicketRouting> {
        let (mode,): (String,) = on_read!(self, |pool| sqlx::query_as("SELECT mode FROM ticket_routing WHERE id = 1")
            .fetch_one(pool)
            .await)?;
        Ok(TicketRouting::parse(&mode).unwrap_or(TicketRouting::Off))
    }

    /// Sets how new tickets are given out (`by`: who, for the record).
    pub async fn set_ticket_routing(&self, mode: TicketRouting, by: &str) -> Result<()> {
        on_write!(self, |pool, _l| sqlx::query(
            "UPDATE ticket_routing SET mode = $1, updated_by = $2, updated_at = $3 WHERE id = 1"
        )
        .bind(mode.as_str())
        .bind(by)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Online, active agents of `role` in `department` who speak `lang`, with their open cases. An agent who
    /// set themselves away (or is offline) is not one.
    pub async fn ticket_candidates(
        &self,
        department: &str,
        role: &str,
        lang: &str,
        category: &str,
    ) -> Result<Vec<TicketCandidate>> {
        let rows: Vec<(String, String, String, i64, i64)> = on_read!(self, |pool| sqlx::query_as(
            "SELECT a.id, a.languages, a.skills, a.last_routed_at, \
               (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = a.id AND c.kind <> 'chat' \
                  AND c.status IN ('new', 'open', 'pending', 'on_hold')) \
             FROM agents a JOIN agent_presence p ON p.agent_id = a.id \
             JOIN agent_departments d ON d.agent_id = a.id AND d.department_id = $1 \
             WHERE a.active AND a.role = $2 AND p.status = 'online'"
        )
        .bind(department)
        .bind(role)
        .fetch_all(pool)
        .await)?;
        Ok(rows
            .into_iter()
            .filter(|(_, langs, _, _, _)| langs.split(',').any(|l| l.trim() == lang))
            .map(|(id, _, skills, last_routed_at, open_cases)| TicketCandidate {
                id,
                open_cases,
                last_routed_at,
                skilled: skills.split(',').any(|s| s.trim() == category),
            })
            .collect())
    }

    /// Every agent's skills: (agent id, the categories).
    pub async fn agent_skills(&self) -> Result<Vec<(String, Vec<String>)>> {
        let rows: Vec<(String, String)> =
            on_read!(self, |pool| sqlx::query_as("SELECT id, skills FROM agents ORDER BY id").fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, s)| (id, s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()))
            .collect())
    }

    /// Sets an agent's skills (checked by the caller); `false` when there is no such agent.
    pub async fn set_agent_skills(&self, agent_id: &str, skills: &[String]) -> Result<bool> {
        let n = on_write!(self, |pool, _l| sqlx::query("UPDATE agents SET skills = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(skills.join(","))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Cases (tickets and mail) no agent holds that are still to be answered, oldest first.
    pub async fn unassigned_cases(&self, limit: i64) -> Result<Vec<Conversation>> {
        let sql = format!(
            "SELECT {CONVERSATION_COLS} FROM conversations WHERE assignee_id IS NULL AND kind IN ('ticket', 'email') \
             AND status IN ('new', 'open') AND merged_into IS NULL ORDER BY created_at, id LIMIT $1"
        );
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(limit).fetch_all(pool).await)?)
    }

    /// Gives an unassigned case to an agent (an `assigned` event by `actor`), and notes when the agent was given
    /// it; does nothing (`None`) when someone took the case meanwhile or it was solved.
    pub async fn route_case_to(&self, id: &str, agent_id: &str, actor: &Actor) -> Result<Option<Conversation>> {
        let unassigned = |c: &Conversation| {
            c.assignee_id.is_none() && matches!(c.status.as_str(), "new" | "open") && c.merged_into.is_none()
        };
        let change = TicketChange::Assign(Some(agent_id.to_string()));
        let routed = self.change_ticket_if(id, &change, actor, &unassigned).await?;
        if routed.is_some() {
            on_write!(self, |pool, _l| sqlx::query("UPDATE agents SET last_routed_at = $2 WHERE id = $1")
                .bind(agent_id)
                .bind(now_ms())
                .execute(pool)
                .await
                .map(|_| ()))?;
        }
        Ok(routed)
    }
}
