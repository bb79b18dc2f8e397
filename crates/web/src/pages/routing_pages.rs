//! Ticket routing in the console (issue 13): `/console/routing` shows how new tickets are given out and lets
//! admins change it. The rules are `lifebuoy_app::ticket_routing`'s.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use lifebuoy_app::ticket_routing;
use lifebuoy_store::routing::TicketRouting;
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] =
    &[("console_routing.html", include_str!("../../templates/console_routing.html"))];

pub fn router() -> Router<AppState> {
    Router::new().route("/console/routing", get(page).post(save)).route("/console/routing/skills", post(save_skills))
}

#[derive(Deserialize, Default)]
struct Notice {
    done: Option<String>,
    bad: Option<String>,
}

/// `GET /console/routing` (agents; admins change it).
async fn page(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        let mode = ticket_routing::mode(&state, &c.actor()).await?;
        let waiting = state.store.unassigned_cases(1000).await?.len();
        let skills = ticket_routing::skills(&state, &c.actor()).await?;
        let agents = state.store.agents().await?;
        Ok::<_, lifebuoy_app::AppError>((mode, waiting, skills, agents))
    };
    match run.await {
        Ok((mode, waiting, skills, agents)) => {
            // Agents who take cases (admins do not), with their skills.
            let skills: std::collections::HashMap<String, Vec<String>> = skills.into_iter().collect();
            let people: Vec<serde_json::Value> = agents
                .iter()
                .filter(|a| a.active && a.role != lifebuoy_domain::Role::Admin)
                .map(|a| {
                    serde_json::json!({"id": a.id, "name": a.display_name, "agent_no": a.agent_no.as_str(),
                        "role": a.role, "departments": a.departments, "skills": skills.get(&a.id).cloned().unwrap_or_default()})
                })
                .collect();
            let categories: Vec<&str> = lifebuoy_domain::Category::ALL.iter().map(|c| c.as_str()).collect();
            let base = Base::new(&state, lang, Some(&c), "console", "/console/routing");
            let modes = [TicketRouting::Off, TicketRouting::LeastLoaded, TicketRouting::RoundRobin].map(|m| m.as_str());
            let bad: Option<String> = n.bad.map(|b| b.chars().take(300).collect());
            render(
                &state,
                "console_routing.html",
                &base,
                minijinja::context! { mode => mode.as_str(), modes, waiting, done => n.done.is_some(), bad, people, categories },
            )
        }
        Err(e) => error_page(&state, lang, Some(&c), e.into()),
    }
}

#[derive(Deserialize)]
struct ModeForm {
    _csrf: Option<String>,
    mode: Option<String>,
}

/// `POST /console/routing` (admins).
async fn save(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<ModeForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, f._csrf.as_deref())?;
        let mode = f.mode.as_deref().and_then(TicketRouting::parse).ok_or_else(|| {
            ApiError::from(lifebuoy_app::AppError::invalid("mode", "off, least_loaded or round_robin"))
        })?;
        ticket_routing::set_mode(&state, &c.actor(), mode).await?;
        Ok("done=1".to_string())
    };
    super::after_form(&state, lang, &c, run.await, "/console/routing", "")
}

/// `POST /console/routing/skills` (admins): `agent` names each agent on the form, `skill` is `{agent}:{category}`
/// for every ticked box (an agent with none ticked has no skills).
async fn save_skills(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        let csrf = f.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.as_str());
        check_form_token(&c, csrf)?;
        let changes: Vec<(String, Vec<String>)> = f
            .iter()
            .filter(|(k, _)| k == "agent")
            .map(|(_, agent)| {
                let mine = f
                    .iter()
                    .filter(|(k, _)| k == "skill")
                    .filter_map(|(_, v)| v.split_once(':'))
                    .filter(|(a, _)| a == agent)
                    .map(|(_, s)| s.to_string())
                    .collect();
                (agent.clone(), mine)
            })
            .collect();
        ticket_routing::set_skills(&state, &c.actor(), &changes).await?;
        Ok("done=skills".to_string())
    };
    super::after_form(&state, lang, &c, run.await, "/console/routing", "skills")
}
