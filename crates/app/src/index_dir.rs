//! Index directories under a data directory's `index/`: one per node and index (`tickets-<id>`, `kb-<id>`),
//! each with a lock file (`tickets-<id>.lock`) that a running node holds for as long as it uses the directory.
//! A node starting takes a directory no running node holds, the most recently used first, so that a restarted
//! node finds the index it left (several nodes may share one data directory, each with its own).

use lifebuoy_store::{LogInfo, LogPos};
use std::path::{Path, PathBuf};

/// What a kept index is stamped with at each commit: which build wrote it (its index version and the
/// analyser's), from which database (the change log's epoch), and how far it has read that database's log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    pub version: u32,
    pub analyser: u32,
    pub epoch: String,
    pub pos: LogPos,
}

impl Stamp {
    /// The stamp this build writes for an index of `version`.
    pub(crate) fn current(version: u32, epoch: &str, pos: LogPos) -> Stamp {
        Stamp { version, analyser: lifebuoy_search::ANALYSER_VERSION, epoch: epoch.to_string(), pos }
    }

    /// The JSON the index commits carry.
    pub(crate) fn payload(version: u32, epoch: &str, pos: LogPos) -> String {
        serde_json::to_string(&Stamp::current(version, epoch, pos)).unwrap_or_default()
    }

    /// Reads a commit's payload (none, or unreadable: no stamp).
    pub(crate) fn parse(payload: Option<&str>) -> Option<Stamp> {
        payload.and_then(|p| serde_json::from_str(p).ok())
    }

    /// Where a kept index with this stamp (if any) resumes reading the log, or why it must be rebuilt: another
    /// index or analyser version, another database, or older than the log's pruned floor.
    pub(crate) fn resume_at(stamp: Option<&Stamp>, version: u32, log: &LogInfo) -> Result<LogPos, String> {
        let analyser = lifebuoy_search::ANALYSER_VERSION;
        match stamp {
            None => Err("no index yet".into()),
            Some(s) if s.version != version => {
                Err(format!("index version {} (this build writes {version})", s.version))
            }
            Some(s) if s.analyser != analyser => {
                Err(format!("analyser version {} (this build has {analyser})", s.analyser))
            }
            Some(s) if s.epoch != log.epoch => Err("built from another database".into()),
            Some(s) if s.pos < log.floor => Err("older than the pruned change log".into()),
            Some(s) => Ok(s.pos),
        }
    }
}

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
