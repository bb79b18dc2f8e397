//! The customer's support history (咨询历史) in the portal: every chat, ticket and mail thread, filtered by
//! channel, status and dates, searched in their own words and ours; and their records' downloads. The rules are
//! `lifebuoy_app::records::history`.

use super::{Base, error_page, render};
use crate::AppState;
use crate::auth::PortalCustomer;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use lifebuoy_store::HistoryFilter;
use serde::Deserialize;

pub const TEMPLATES: &[(&str, &str)] = &[("portal_history.html", include_str!("../../templates/portal_history.html"))];

pub fn router() -> Router<AppState> {
    Router::new().route("/portal/history", get(history))
}

/// The history's filters, as the portal's form and `GET /api/v1/records/history` take them.
#[derive(Deserialize, Default)]
pub(crate) struct HistoryQuery {
    channel: Option<String>,
    status: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive.
    from: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive.
    to: Option<String>,
    q: Option<String>,
}

/// Midnight UTC of a `YYYY-MM-DD` date, in ms; `None` for an empty field, an error for a malformed one.
fn day_ms(s: Option<&str>, field: &str) -> Result<Option<i64>, lifebuoy_app::AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Some(t.and_utc().timestamp_millis()))
            .ok_or_else(|| lifebuoy_app::AppError::invalid(field, "a date as YYYY-MM-DD")),
    }
}

impl HistoryQuery {
    fn keep(s: &Option<String>) -> Option<String> {
        s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// The store's filter: empty fields left out, dates read as whole UTC days (`to` inclusive).
    pub(crate) fn filter(&self) -> Result<HistoryFilter, lifebuoy_app::AppError> {
        Ok(HistoryFilter {
            channel: Self::keep(&self.channel),
            status: Self::keep(&self.status),
            from: day_ms(self.from.as_deref(), "from")?,
            to: day_ms(self.to.as_deref(), "to")?.map(|t| t + 86_400_000),
            text: Self::keep(&self.q),
        })
    }
}

/// `GET /portal/history`: the customer's conversations across channels.
async fn history(
    State(state): State<AppState>,
    PortalCustomer(c): PortalCustomer,
    headers: HeaderMap,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let lang = super::portal::lang_for(&headers, Some(&c));
    let keep = HistoryQuery::keep;
    let run = async { lifebuoy_app::records::history(&state, &c.actor(), &q.filter()?).await };
    let items = match run.await {
        Ok(v) => v,
        Err(e) => return error_page(&state, lang, Some(&c), e.into()),
    };
    let filtered = [&q.channel, &q.status, &q.from, &q.to, &q.q].iter().any(|v| keep(v).is_some());
    let base = Base::new(&state, lang, Some(&c), "portal", "/portal/history");
    render(
        &state,
        "portal_history.html",
        &base,
        minijinja::context! {
            items, filtered,
            channel => keep(&q.channel), status => keep(&q.status), from => keep(&q.from), to => keep(&q.to), q => keep(&q.q),
            statuses => lifebuoy_domain::Status::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        },
    )
}
