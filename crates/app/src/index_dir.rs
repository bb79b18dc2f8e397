//! Index directories under a data directory's `index/`: one per node and index (`tickets-<id>`, `kb-<id>`),
//! each with a lock file (`tickets-<id>.lock`) that a running node holds for as long as it uses the directory.
//! A node starting takes a directory no running node holds, the most recently used first, so that a restarted
//! node finds the index it left (several nodes may share one data directory, each with its own).

use std::path::{Path, PathBuf};

/// This node's directory under the index root, and the lock that says it is in use.
pub(crate) struct NodeDir {
    pub(crate) path: PathBuf,
    _lock: std::fs::File,
}

impl NodeDir {
    /// Takes a directory no running node holds (the one a stopped node left, most recently used first), or
    /// makes a new one. Directories without a lock file are left by an older build that rebuilt at each start:
    /// removed.
    pub(crate) fn claim(root: &Path, kind: &str) -> std::io::Result<NodeDir> {
        std::fs::create_dir_all(root)?;
        let mut free: Vec<(std::time::SystemTime, String)> = Vec::new();
        for entry in std::fs::read_dir(root)?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(stem) = name.strip_prefix(&format!("{kind}-")[..]).and_then(|n| n.strip_suffix(".lock")) {
                let used = std::fs::metadata(root.join(format!("{kind}-{stem}")).join("meta.json"))
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                free.push((used, stem.to_string()));
            } else if name.starts_with(&format!("{kind}-")[..]) && !root.join(format!("{name}.lock")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        free.sort();
        while let Some((_, stem)) = free.pop() {
            let Ok(f) = std::fs::OpenOptions::new().write(true).open(root.join(format!("{kind}-{stem}.lock"))) else {
                continue;
            };
            if f.try_lock().is_ok() {
                return Ok(NodeDir { path: root.join(format!("{kind}-{stem}")), _lock: f });
            }
        }
        let node = uuid::Uuid::new_v4().simple().to_string();
        let lock = std::fs::File::create(root.join(format!("{kind}-{node}.lock")))?;
        lock.try_lock().map_err(std::io::Error::other)?;
        Ok(NodeDir { path: root.join(format!("{kind}-{node}")), _lock: lock })
    }
}
