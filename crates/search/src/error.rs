//! Errors of the search crate.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// An error from the tantivy index.
    #[error("index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be opened or created.
    #[error("cannot open index directory: {0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// A file-system error, with the path involved.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The index on disk was written with another schema.
    #[error("{0}: the index on disk has another schema")]
    SchemaChanged(PathBuf),
    /// A knowledge-base file is malformed.
    #[error("{path}:{line}: {message}")]
    KbFile {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An article is invalid (e.g. unknown language or status).
    #[error("invalid article: {0}")]
    InvalidArticle(String),
    /// A line of an evaluation file is malformed.
    #[error("{path}:{line}: {message}")]
    Eval {
        /// The file (or `<input>`).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The index writer lock was poisoned by a panic in another thread.
    #[error("index writer poisoned")]
    Poisoned,
}

/// Result alias of this crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;
