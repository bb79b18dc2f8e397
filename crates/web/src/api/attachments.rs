//! Attachments: screenshots and PDFs, checked by their content (not their name or declared type), stored
//! content-addressed, served only to those who may see the conversation they belong to.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ApiResult};
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lifebuoy_store::AttachmentMeta;

/// The largest file accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// The kinds of file a customer or agent may attach: (sniffed MIME type, accepted filename endings).
const ALLOWED: &[(&str, &[&str])] = &[
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("application/pdf", &["pdf"]),
];

/// Checks a file by its bytes and stores it; returns its metadata.
pub async fn accept(
    state: &AppState,
    caller: &Caller,
    filename: &str,
    declared: Option<&str>,
    bytes: &[u8],
) -> ApiResult<AttachmentMeta> {
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(too_large());
    }
    let sniffed = infer::get(bytes).map(|t| t.mime_type()).unwrap_or("application/octet-stream");
    let Some((mime, exts)) = ALLOWED.iter().find(|(m, _)| *m == sniffed) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "attach a PNG, JPEG, GIF or WebP image, or a PDF",
        ));
    };
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    let declared_ok = declared
        .is_none_or(|d| d == *mime || d == "application/octet-stream" || (d == "image/jpg" && *mime == "image/jpeg"));
    if !declared_ok || ext.as_deref().is_some_and(|e| !exts.contains(&e)) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "mislabelled_file",
            format!("the file's content is {mime}, which does not match its name or declared type"),
        ));
    }
    let clean_name: String =
        filename.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"')).take(120).collect();
    let clean_name = if clean_name.trim().is_empty() { format!("file.{}", exts[0]) } else { clean_name };
    let sha = state.files.put(bytes).await?;
    let actor = caller.author();
    Ok(state
        .store
        .add_attachment(&sha, mime, bytes.len() as i64, &clean_name, actor.kind(), actor.id().unwrap_or(""))
        .await?)
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file_too_large",
        format!("a file may be at most {} MB", MAX_ATTACHMENT_BYTES / 1024 / 1024),
    )
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
    let meta = state.store.attachment(&id).await?.ok_or_else(ApiError::not_found)?;
    let actor = caller.author();
    let mine = meta.owner_kind == actor.kind() && Some(meta.owner_id.as_str()) == actor.id();
    let allowed = mine
        || match &meta.conversation_id {
            Some(cid) => {
                crate::api::tickets::visible(&state, &caller, cid).await.is_ok()
                    && (caller.is_staff() || !message_is_internal(&state, &meta).await?)
            }
            None => false,
        };
    if !allowed {
        return Err(ApiError::not_found());
    }
    let bytes = state.files.get(&meta.sha256).await?;
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

async fn message_is_internal(state: &AppState, meta: &AttachmentMeta) -> ApiResult<bool> {
    let Some(cid) = &meta.conversation_id else { return Ok(false) };
    let items = state.store.timeline(cid, false).await?;
    Ok(!items.iter().any(|i| matches!(i, lifebuoy_store::TimelineItem::Message { message, .. } if Some(&message.id) == meta.message_id.as_ref())))
}
