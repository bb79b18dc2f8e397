//! Attachments: screenshots and PDFs, checked by their content (not their name or declared type), stored
//! content-addressed, given only to their uploader and to those who may see the message they belong to.

use crate::{Actor, App, AppError, AppResult};
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

/// The error for a file over [`MAX_ATTACHMENT_BYTES`].
pub fn too_large() -> AppError {
    AppError::File {
        code: "file_too_large",
        message: format!("a file may be at most {} MB", MAX_ATTACHMENT_BYTES / 1024 / 1024),
    }
}

impl App {
    /// Checks a file by its bytes and stores it for the actor; returns its metadata. It belongs to no message
    /// until a message of the same actor links it.
    pub async fn accept_attachment(
        &self,
        actor: &Actor,
        filename: &str,
        declared: Option<&str>,
        bytes: &[u8],
    ) -> AppResult<AttachmentMeta> {
        if bytes.is_empty() {
            return Err(AppError::invalid("file", "the file is empty"));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(too_large());
        }
        let sniffed = infer::get(bytes).map(|t| t.mime_type()).unwrap_or("application/octet-stream");
        let Some((mime, exts)) = ALLOWED.iter().find(|(m, _)| *m == sniffed) else {
            return Err(AppError::File {
                code: "unsupported_file_type",
                message: "attach a PNG, JPEG, GIF or WebP image, or a PDF".into(),
            });
        };
        let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        let declared_ok = declared.is_none_or(|d| {
            d == *mime || d == "application/octet-stream" || (d == "image/jpg" && *mime == "image/jpeg")
        });
        if !declared_ok || ext.as_deref().is_some_and(|e| !exts.contains(&e)) {
            return Err(AppError::File {
                code: "mislabelled_file",
                message: format!("the file's content is {mime}, which does not match its name or declared type"),
            });
        }
        let clean_name: String =
            filename.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | '"')).take(120).collect();
        let clean_name = if clean_name.trim().is_empty() { format!("file.{}", exts[0]) } else { clean_name };
        let sha = self.files.put(bytes).await?;
        let author = actor.author();
        Ok(self
            .store
            .add_attachment(&sha, mime, bytes.len() as i64, &clean_name, author.kind(), author.id().unwrap_or(""))
            .await?)
    }

    /// An attachment and its bytes, for its uploader or anyone who may see its message (customers never get a
    /// file of an internal note). Anything else is `NotFound`.
    pub async fn open_attachment(&self, actor: &Actor, id: &str) -> AppResult<(AttachmentMeta, Vec<u8>)> {
        let meta = self.store.attachment(id).await?.ok_or(AppError::NotFound)?;
        let author = actor.author();
        let mine = meta.owner_kind == author.kind() && Some(meta.owner_id.as_str()) == author.id();
        let allowed = mine
            || match &meta.conversation_id {
                Some(cid) => {
                    (crate::tickets::visible(self, actor, cid).await.is_ok()
                        || crate::c2c::party_sees(self, actor, cid).await?)
                        && (actor.is_staff() || !self.message_is_internal(&meta).await?)
                }
                None => false,
            };
        if !allowed {
            return Err(AppError::NotFound);
        }
        let bytes = self.files.get(&meta.sha256).await?;
        Ok((meta, bytes))
    }

    async fn message_is_internal(&self, meta: &AttachmentMeta) -> AppResult<bool> {
        let Some(cid) = &meta.conversation_id else { return Ok(false) };
        let items = self.store.timeline(cid, false).await?;
        Ok(!items.iter().any(|i| {
            matches!(i, lifebuoy_store::TimelineItem::Message { message, .. } if Some(&message.id) == meta.message_id.as_ref())
        }))
    }
}
