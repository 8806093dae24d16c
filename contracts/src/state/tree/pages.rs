//! Where a state tree with a memory bound keeps the subtrees it paged out
//! (`arena/paging.rs`). The node gives files in its store; tests and
//! benches give memory ([`MemPages`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::Path;
use crate::ids::Hash32;
use crate::state::StoreError;

/// Pages of leaves: each is written once, read any number of times, and
/// forgotten when the tree no longer needs it. A store that loses a page
/// must say so (an error), never return other leaves: the tree checks every
/// page it reads against the hash it keeps and refuses one that differs.
pub trait TreePages: Send + Sync + std::fmt::Debug {
    /// Keeps `leaves` (path, value hash; ascending paths) and returns the
    /// page's id.
    fn put(&self, leaves: &[(Path, Hash32)]) -> Result<u64, StoreError>;
    /// The leaves of page `id`, as they were put.
    fn get(&self, id: u64) -> Result<Vec<(Path, Hash32)>, StoreError>;
    /// Page `id` is not needed any more.
    fn forget(&self, id: u64);
    /// None of `ids` is needed any more: the tree that held them is gone.
    /// A store may skip work `forget` does to keep its space small.
    fn forget_all(&self, ids: &[u64]) {
        for id in ids {
            self.forget(*id);
        }
    }
}

/// Pages in memory: for tests and benches of the paging itself.
#[derive(Debug, Default)]
pub struct MemPages {
    pages: Mutex<BTreeMap<u64, Vec<(Path, Hash32)>>>,
    next: AtomicU64,
    reads: AtomicU64,
}

impl MemPages {
    pub fn new() -> MemPages {
        MemPages::default()
    }

    /// Pages held.
    pub fn len(&self) -> usize {
        self.pages.lock().map_or(0, |p| p.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pages read so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
}

impl TreePages for MemPages {
    fn put(&self, leaves: &[(Path, Hash32)]) -> Result<u64, StoreError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.pages
            .lock()
            .map_err(|_| StoreError::Io("the page map's lock is poisoned".into()))?
            .insert(id, leaves.to_vec());
        Ok(id)
    }

    fn get(&self, id: u64) -> Result<Vec<(Path, Hash32)>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.pages
            .lock()
            .map_err(|_| StoreError::Io("the page map's lock is poisoned".into()))?
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::Io(format!("state tree page {id} is missing")))
    }

    fn forget(&self, id: u64) {
        if let Ok(mut p) = self.pages.lock() {
            p.remove(&id);
        }
    }
}
