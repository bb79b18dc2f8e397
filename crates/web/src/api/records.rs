//! Communication records over HTTP: the signed export (`GET /api/v1/records/export`) in JSON, HTML or PDF, and
//! the published signing keys (`GET /.well-known/lifebuoy-signing-keys`). Who may export what is
//! `lifebuoy_app::records`.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use lifebuoy_app::records::{self, ExportRequest, Format};
use lifebuoy_domain::Lang;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    /// `json` (the signed document, the default), `html` or `pdf`.
    format: Option<String>,
    /// The customer (agents and integrations): our id or the exchange's UID.
    customer: Option<String>,
    /// Just this conversation.
    conversation: Option<String>,
    /// The document's language (`zh-Hans`, `zh-Hant`, `en`); the customer's own otherwise.
    lang: Option<String>,
}

/// `GET /api/v1/records/history?channel=&status=&from=&to=&q=`: the customer's own conversations across
/// channels (chats, tickets, mail), most recently active first: the widget's and the exchange app's history.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<crate::pages::records_portal::HistoryQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let rows = records::history(&state, &caller.actor(), &q.filter()?).await?;
    Ok(axum::Json(serde_json::json!({ "conversations": rows })))
}

/// `GET /api/v1/records/export`: a download of the caller's (or, for staff, the named customer's) records.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let format = Format::parse(q.format.as_deref().unwrap_or("json"))?;
    let lang = match q.lang.as_deref() {
        Some(l) => Some(
            Lang::parse(l)
                .map_err(|_| lifebuoy_app::AppError::invalid("lang", "lang must be zh-Hans, zh-Hant or en"))?,
        ),
        None => None,
    };
    let req = ExportRequest { customer: q.customer, conversation: q.conversation, lang };
    let doc = records::export_document(&state, &caller.actor(), &req, format).await?;
    let disposition = if format == Format::Html { "inline" } else { "attachment" };
    Ok((
        [
            (header::CONTENT_TYPE, doc.format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("{disposition}; filename=\"{}\"", doc.file_name)),
            (header::CACHE_CONTROL, "no-store".to_string()),
            // The HTML is the customer's own words: never let it run anything.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:".to_string(),
            ),
        ],
        doc.bytes,
    )
        .into_response())
}

/// `GET /.well-known/lifebuoy-signing-keys`: every key that ever signed records here, retired ones too.
pub async fn signing_keys(State(state): State<AppState>) -> ApiResult<Response> {
    let keys = records::signing_keys(&state).await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300"), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        axum::Json(serde_json::json!({ "keys": keys })),
    )
        .into_response())
}
