//! Installs a verified state snapshot as a fresh store: the records go to
//! state runs chunk by chunk (merged as levels fill), then the snapshot's block (bytes,
//! certificate, results) becomes the journal's first record, and the state
//! checkpoint, index cursor and genesis hash are written last.
//!
//! Everything is written to `<store>.sync/` and renamed to the store's
//! path only when complete, so a sync that stops half-way leaves no store
//! behind (the next start syncs again).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assent_contracts::commit::CommitCertificate;
use assent_contracts::snapshot::Chunk;
use assent_contracts::tx::TxResult;
use assent_contracts::{BlockHeader, Event, Hash32};

use super::backend::Backend;
use super::disk::DiskBackend;
use super::journal::KIND_BLOCK;
use super::records::Checkpoint;
use super::runs::{state_value, Runs, STATE};
use super::{enc, keys, StoreError};

/// A store being filled from a snapshot.
#[derive(Debug)]
pub struct Installer {
    backend: Option<Arc<DiskBackend>>,
    /// The state runs being written (they hold the backend too).
    runs: Option<Runs>,
    tmp: PathBuf,
    path: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Corrupt {
        what: format!("the store being synced at {}", path.display()),
        why: e.to_string(),
    }
}

impl Installer {
    /// Starts a store for `path`, which must not exist yet.
    pub fn create(path: &Path, cache_bytes: u64) -> Result<Installer, StoreError> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".sync");
        let tmp = PathBuf::from(tmp);
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        let backend = Arc::new(DiskBackend::open(&tmp, cache_bytes)?);
        let runs = Runs::open(STATE, backend.clone())?;
        Ok(Installer {
            backend: Some(backend),
            runs: Some(runs),
            tmp,
            path: path.to_path_buf(),
        })
    }

    fn finished() -> StoreError {
        StoreError::Corrupt {
            what: "the store being synced".into(),
            why: "already finished".into(),
        }
    }

    fn backend(&self) -> Result<&DiskBackend, StoreError> {
        self.backend.as_deref().ok_or_else(Installer::finished)
    }

    /// Adds one verified chunk's records as a state run.
    pub fn put_chunk(&self, records: Chunk) -> Result<(), StoreError> {
        let runs = self.runs.as_ref().ok_or_else(Installer::finished)?;
        let mut records: Vec<(Vec<u8>, Vec<u8>)> = records
            .into_iter()
            .map(|(k, v)| (k, state_value(Some(&v))))
            .collect();
        records.sort_by(|a, b| a.0.cmp(&b.0));
        records.dedup_by(|a, b| a.0 == b.0);
        runs.add(
            records.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
            Vec::new(),
            false,
        )?;
        while runs.compact()? {}
        Ok(())
    }

    /// Writes the snapshot's block and the checkpoint, makes everything
    /// durable and moves the store into place.
    pub fn finish(
        mut self,
        genesis_hash: Hash32,
        block: &[u8],
        header: &BlockHeader,
        cert: &CommitCertificate,
        results: &[TxResult],
        end_events: &[Event],
    ) -> Result<(), StoreError> {
        let backend = self.backend()?;
        let h = header.height;
        let (len, tail) = super::entry::entry_parts(block, cert, results, end_events);
        backend.journal_append(&[(KIND_BLOCK, h.0, &[&len, block, &tail])])?;
        let at = Checkpoint {
            height: h,
            state_root: header.state_root,
        };
        backend.apply(
            vec![
                (keys::STATE_CHECKPOINT.to_vec(), Some(enc(&at))),
                (keys::INDEXED.to_vec(), Some(enc(&h))),
                (keys::SYNCED_FROM.to_vec(), Some(enc(&h))),
                (
                    keys::STATE_FORMAT.to_vec(),
                    Some(keys::STATE_FORMAT_RUNS.to_vec()),
                ),
                // Last: a store with the genesis hash is complete.
                (
                    keys::GENESIS.to_vec(),
                    Some(genesis_hash.as_bytes().to_vec()),
                ),
            ],
            true,
        )?;
        drop(self.runs.take());
        drop(self.backend.take());
        std::fs::rename(&self.tmp, &self.path).map_err(|e| io(&self.path, e))
    }
}

impl Drop for Installer {
    fn drop(&mut self) {
        // An unfinished sync leaves nothing behind.
        drop(self.runs.take());
        if self.backend.take().is_some() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}
