//! Attachments: screenshots and PDFs, checked by their content (not their name or declared type), stored
//! content-addressed, served only to those who may see the conversation they belong to.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lifebuoy_store::AttachmentMeta;

pub use lifebuoy_app::attachments::MAX_ATTACHMENT_BYTES;

/// Checks a file by its bytes and stores it for the caller (see [`lifebuoy_app::App::accept_attachment`]).
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    filename: &str,
    declared: Option<&str>,
    bytes: &[u8],
) -> ApiResult<AttachmentMeta> {
    Ok(state.app.accept_attachment(&caller.actor(), filename, declared, bytes).await?)
}

pub fn too_large() -> ApiError {
    lifebuoy_app::attachments::too_large().into()
}

/// `POST /api/v1/attachments` (multipart, field `file`)
pub async fn upload(State(state): State<AppState>, caller: Caller, mut form: Multipart) -> ApiResult<Response> {
    while let Some(field) = form.next_field().await.map_err(|e| multipart_error(&e))? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("file").to_string();
        let declared = field.content_type().map(str::to_string);
        let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
        let meta = accept(&state, &caller, &filename, declared.as_deref(), &bytes).await?;
        return Ok((StatusCode::CREATED, ApiJson(meta)).into_response());
    }
    Err(ApiError::invalid("file", "send the file in a multipart field named `file`"))
}

pub fn multipart_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::bad_request(format!("unreadable upload: {}", e.body_text()))
    }
}

/// `GET /api/v1/attachments/{id}`: the file, for its uploader or anyone who may see its conversation.
pub async fn download(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let (meta, bytes) = state.app.open_attachment(&caller.actor(), &id).await?;
    let disposition = if meta.content_type.starts_with("image/") { "inline" } else { "attachment" };
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "{disposition}; filename=\"{}\"",
                    meta.filename.replace(|c: char| !c.is_ascii_graphic() && c != ' ', "_")
                ),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            (header::CACHE_CONTROL, "private, max-age=3600".into()),
        ],
        bytes,
    )
        .into_response())
}
