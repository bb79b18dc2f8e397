//! Attachments: bytes stored content-addressed under the data dir (`files/ab/cdef...`), metadata in the
//! database. The same screenshot uploaded twice is stored once.

use crate::{Result, Store, StoreError, new_id, now_ms, on_read, on_write};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// An attachment's metadata, as listed on a message.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentMeta {
    pub id: String,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub filename: String,
    pub owner_kind: String,
    pub owner_id: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub created_at: i64,
}

/// Content-addressed files on local disk.
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileStore { root: root.into() }
    }

    fn path_of(&self, sha: &str) -> PathBuf {
        self.root.join(&sha[..2]).join(&sha[2..])
    }

    /// Writes bytes (atomically: temp file, fsync, rename) and returns their SHA-256.
    pub async fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha);
        if tokio::fs::try_exists(&path).await? {
            return Ok(sha);
        }
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!(".{}.tmp", new_id()));
        let data = bytes.to_vec();
        let tmp2 = tmp.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp2)?;
            f.write_all(&data)?;
            f.sync_all()
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
        tokio::fs::rename(&tmp, &path).await?;
        Ok(sha)
    }

    /// Reads a stored file back.
    pub async fn get(&self, sha: &str) -> Result<Vec<u8>> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::NotFound);
        }
        match tokio::fs::read(self.path_of(sha)).await {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}

const ATT_COLS: &str =
    "id, sha256, content_type, size, filename, owner_kind, owner_id, conversation_id, message_id, created_at";

impl Store {
    /// Records an uploaded file, not yet linked to a message.
    pub async fn add_attachment(
        &self,
        sha256: &str,
        content_type: &str,
        size: i64,
        filename: &str,
        owner_kind: &str,
        owner_id: &str,
    ) -> Result<AttachmentMeta> {
        let sql = format!(
            "INSERT INTO attachments (id, sha256, content_type, size, filename, owner_kind, owner_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ATT_COLS}"
        );
        Ok(on_write!(self, |pool, _l| sqlx::query_as(&sql)
            .bind(new_id())
            .bind(sha256)
            .bind(content_type)
            .bind(size)
            .bind(filename)
            .bind(owner_kind)
            .bind(owner_id)
            .bind(now_ms())
            .fetch_one(pool)
            .await)?)
    }

    /// An attachment's metadata.
    pub async fn attachment(&self, id: &str) -> Result<Option<AttachmentMeta>> {
        let sql = format!("SELECT {ATT_COLS} FROM attachments WHERE id = $1");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
    }

    /// Every attachment linked to a conversation.
    pub async fn attachments_of(&self, conversation_id: &str) -> Result<Vec<AttachmentMeta>> {
        let sql = format!("SELECT {ATT_COLS} FROM attachments WHERE conversation_id = $1 ORDER BY created_at");
        Ok(on_read!(self, |pool| sqlx::query_as(&sql).bind(conversation_id).fetch_all(pool).await)?)
    }
}
