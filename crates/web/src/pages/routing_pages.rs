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
use axum::routing::get;
use lifebuoy_app::ticket_routing;
use lifebuoy_store::routing::TicketRouting;
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] =
    &[("console_routing.html", include_str!("../../templates/console_routing.html"))];

pub fn router() -> Router<AppState> {
    Router::new().route("/console/routing", get(page).post(save))
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
        Ok::<_, lifebuoy_app::AppError>((mode, waiting))
    };
    match run.await {
        Ok((mode, waiting)) => {
            let base = Base::new(&state, lang, Some(&c), "console", "/console/routing");
            let modes = [TicketRouting::Off, TicketRouting::LeastLoaded, TicketRouting::RoundRobin].map(|m| m.as_str());
            let bad: Option<String> = n.bad.map(|b| b.chars().take(300).collect());
            render(
                &state,
                "console_routing.html",
                &base,
                minijinja::context! { mode => mode.as_str(), modes, waiting, done => n.done.is_some(), bad },
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
