//! Alerts in the console (issue 13): `/console/alerts` lists the signed-in agent's alerts (SLA clocks about to
//! run out or run out), newest first; `/console/alerts/count` gives the navigation its unread count. The rules
//! are `lifebuoy_app::alerts`'.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{ConsoleAgent, check_form_token, check_same_origin};
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::Router;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use lifebuoy_app::alerts;
use serde::Deserialize;
use serde_json::{Value, json};

pub const TEMPLATES: &[(&str, &str)] = &[("console_alerts.html", include_str!("../../templates/console_alerts.html"))];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/alerts", get(page))
        .route("/console/alerts/count", get(count))
        .route("/console/alerts/read", post(read))
}

/// `GET /console/alerts`.
async fn page(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, &c);
    match alerts::mine(&state, &c.actor()).await {
        Ok(list) => {
            let base = Base::new(&state, lang, Some(&c), "console", "/console/alerts");
            let items: Vec<Value> = list
                .iter()
                .map(|a| {
                    let d: Value = serde_json::from_str(&a.data).unwrap_or_default();
                    json!({"kind": a.kind, "conversation_id": a.conversation_id, "case_number": d["case_number"],
                        "subject": d["subject"], "due_at": d["due_at"], "created_at": a.created_at,
                        "unread": a.read_at.is_none(), "data": d})
                })
                .collect();
            render(&state, "console_alerts.html", &base, minijinja::context! { items })
        }
        Err(e) => error_page(&state, lang, Some(&c), e.into()),
    }
}

/// `GET /console/alerts/count`: `{"unread": n}`.
async fn count(State(state): State<AppState>, ConsoleAgent(c): ConsoleAgent) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!({"unread": alerts::unread(&state, &c.actor()).await?})))
}

#[derive(Deserialize)]
struct ReadForm {
    _csrf: Option<String>,
}

/// `POST /console/alerts/read`: marks every alert read.
async fn read(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Form(f): Form<ReadForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, f._csrf.as_deref())?;
        alerts::mark_read(&state, &c.actor()).await?;
        Ok::<_, ApiError>("read=1".to_string())
    };
    super::after_form(&state, lang, &c, run.await, "/console/alerts", "")
}
