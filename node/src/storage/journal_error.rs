//! Why a block journal operation failed, with messages that tell an
//! operator what to do (see [`journal`](super::journal)).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::journal::{KIND_BLOCK, KIND_CERTIFICATE, MAX_PAYLOAD};

/// Why a journal operation failed. `Io`, `Corrupt`, `StrayFile` and
/// `Failed` should stop the node; the others are caller bugs, refused before
/// anything is written, so the journal stays usable.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}", journal_io_message(.path, .source))]
    Io { path: PathBuf, source: io::Error },
    #[error("the block journal is corrupt in {} at {} (offset {offset}): {why}; restore this node's store directory (data/store) from a backup, or move it away and restart so the node syncs from its peers (keep data/wal: it stops this validator from signing twice)", .file.display(), HeightAt(.height))]
    Corrupt {
        file: PathBuf,
        /// The record's height if its header is readable, else the height
        /// after the previous good record (None before any record).
        height: Option<u64>,
        offset: u64,
        why: String,
    },
    #[error("unexpected file {} in the block journal directory (segments are named like 00000001.journal); move it elsewhere and restart", .path.display())]
    StrayFile { path: PathBuf },
    #[error("block {height} is out of order: the journal's next block is {expected} (each height once, consecutively)")]
    NonConsecutiveBlock { height: u64, expected: u64 },
    #[error("a certificate for height {height}, where the journal has no block")]
    CertificateWithoutBlock { height: u64 },
    #[error("unknown journal record kind {kind} at height {height} (known: {KIND_BLOCK} block, {KIND_CERTIFICATE} certificate)")]
    UnknownKind { kind: u8, height: u64 },
    #[error("a {len}-byte payload at height {height} is over the {MAX_PAYLOAD}-byte record limit")]
    PayloadTooLarge { height: u64, len: usize },
    #[error("invalid block journal config: {0}")]
    Config(&'static str),
    #[error("the block journal refuses writes after an earlier failure ({0}); stop the node and restart it so the journal is reopened and its tail repaired")]
    Failed(String),
}

fn journal_io_message(path: &std::path::Path, e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::StorageFull {
        super::backend::out_of_space(&format!("the block journal ({})", path.display()))
    } else {
        format!("journal I/O failed on {}: {e}", path.display())
    }
}

struct HeightAt<'a>(&'a Option<u64>);

impl fmt::Display for HeightAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(h) => write!(f, "height {h}"),
            None => f.write_str("an unknown height (before the first record)"),
        }
    }
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn corrupt(
    file: &Path,
    height: Option<u64>,
    offset: u64,
    why: impl Into<String>,
) -> JournalError {
    let (file, why) = (file.to_path_buf(), why.into());
    JournalError::Corrupt {
        file,
        height,
        offset,
        why,
    }
}
