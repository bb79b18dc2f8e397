//! Background jobs in the agent console (`/console/jobs`), for supervisors and admins: the queue by state
//! (queued, running, waiting to retry, dead), the backlog and the latest heartbeat, and a retry button for
//! failed and dead jobs. The rules are `lifebuoy_app::jobs::supervise`; other agents get 403.

use super::console_lang as lang_of;
use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::{ConsoleAgent, check_form_token, check_same_origin};
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lifebuoy_app::jobs::supervise::{self, LISTED_STATES};
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[("console_jobs.html", include_str!("../../templates/console_jobs.html"))];

/// Jobs per page.
const PAGE: i64 = 50;

pub fn router() -> Router<AppState> {
    Router::new().route("/console/jobs", get(list)).route("/console/jobs/{id}/retry", post(retry))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    state: Option<String>,
    after: Option<String>,
    /// The kind of a job just retried (shown as a notice).
    retried: Option<String>,
}

/// `GET /console/jobs?state=dead&after=…`: one state's jobs (dead ones by default: they wait for a person).
async fn list(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let actor = c.actor();
    let shown = q.state.as_deref().filter(|s| LISTED_STATES.contains(s)).unwrap_or("dead");
    let run = async {
        let overview = supervise::overview(&state.store, &actor).await?;
        let rows = supervise::list(&state.store, &actor, shown, q.after.as_deref(), PAGE).await?;
        Ok::<_, ApiError>((overview, rows))
    };
    let (overview, rows) = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e),
    };
    let counts = &overview.counts;
    let states: Vec<minijinja::Value> = LISTED_STATES
        .iter()
        .map(|s| {
            let count = match *s {
                "queued" => counts.queued,
                "running" => counts.running,
                "failed" => counts.failed,
                _ => counts.dead,
            };
            minijinja::context! { key => *s, count }
        })
        .collect();
    let next = (rows.len() as i64 == PAGE).then(|| rows.last().map(supervise::cursor_of)).flatten();
    let heartbeat = overview.last_heartbeat.as_ref().map(|r| {
        let lag = serde_json::from_str::<serde_json::Value>(&r.note).ok().and_then(|n| n["lag_ms"].as_i64());
        minijinja::context! { node => r.node, finished_at => r.finished_at, lag_ms => lag.unwrap_or(0) }
    });
    let base = Base::new(&state, lang, Some(&c), "console", "/console/jobs");
    render(
        &state,
        "console_jobs.html",
        &base,
        minijinja::context! {
            state => shown, states, rows, next, heartbeat,
            counts => minijinja::context! { due => counts.due, dead => counts.dead },
            oldest_due_at => counts.oldest_due_at,
            can_retry => matches!(shown, "failed" | "dead"),
            retried => q.retried.filter(|k| k.len() <= 100),
        },
    )
}

#[derive(Deserialize)]
struct RetryForm {
    #[serde(rename = "_csrf")]
    csrf: String,
    /// The list to go back to.
    state: Option<String>,
}

/// `POST /console/jobs/{id}/retry`: queue a failed or dead job again, due now, with all its attempts.
async fn retry(
    State(state): State<AppState>,
    ConsoleAgent(c): ConsoleAgent,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RetryForm>,
) -> Response {
    let lang = lang_of(&headers, &c);
    let run = async {
        check_same_origin(&headers)?;
        check_form_token(&c, Some(&f.csrf))?;
        Ok::<_, ApiError>(supervise::retry(&state.store, &c.actor(), &id).await?)
    };
    match run.await {
        Ok(job) => {
            let back = f.state.as_deref().filter(|s| LISTED_STATES.contains(s)).unwrap_or("dead");
            let kind: String = job
                .kind
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() || ".-_".contains(ch) { ch } else { '_' })
                .collect();
            Redirect::to(&format!("/console/jobs?state={back}&retried={kind}")).into_response()
        }
        Err(e) => error_page(&state, lang, Some(&c), e),
    }
}
