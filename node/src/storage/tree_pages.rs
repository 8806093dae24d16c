//! Where the state tree keeps the subtrees it paged out to stay within
//! `store.state_tree_mb` (`contracts/src/state/tree/arena/paging.rs`), and
//! the sorted chunks of the tree's build at open.
//!
//! Pages are derived data: the tree is rebuilt from the state runs at every
//! open, so the directory (`data/store/tree/`) is emptied at open and no
//! page needs to survive a crash. Pages are appended to a segment in memory;
//! a full segment ([`SEGMENT_BYTES`]) is written as one run file of the
//! [`RunSpace::Tree`] space. A segment whose pages are all forgotten is
//! deleted; one whose live pages fall to a quarter of it has them copied
//! into the open segment and is deleted, so the disk holds at most about
//! four times the live pages (measured: 1.7–1.8 times, BENCHMARKS.md). Every page carries a CRC-32; the tree also checks each page it
//! reads against the subtree hash it kept.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use assent_contracts::state::tree::{Path, TreePages};
use assent_contracts::state::StoreError as LedgerError;
use assent_contracts::Hash32;

use super::backend::{Backend, RunFile, RunSpace};
use super::StoreError;

/// A segment is written once it holds this many bytes of pages.
pub const SEGMENT_BYTES: usize = 8 << 20;
const LEAF: usize = 64;

#[derive(Debug)]
struct Segment {
    /// `None` while it is the open segment (its bytes are in `open`).
    file: Option<Arc<dyn RunFile>>,
    pages: BTreeSet<u64>,
    live: usize,
    size: usize,
}

#[derive(Debug, Clone, Copy)]
struct At {
    segment: u64,
    offset: usize,
    len: usize,
}

#[derive(Debug, Default)]
struct Inner {
    segments: BTreeMap<u64, Segment>,
    pages: BTreeMap<u64, At>,
    open_id: u64,
    open: Vec<u8>,
    next_page: u64,
}

/// The tree's pages in the store's `tree` run space.
#[derive(Debug)]
pub struct RunPages {
    backend: Arc<dyn Backend>,
    inner: Mutex<Inner>,
    ids: Arc<std::sync::atomic::AtomicU64>,
}

fn io(e: &StoreError) -> LedgerError {
    LedgerError::Io(format!("state tree pages: {e}"))
}

fn encode(leaves: &[(Path, Hash32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(leaves.len() * LEAF + 4);
    for (p, v) in leaves {
        out.extend_from_slice(p);
        out.extend_from_slice(v.as_bytes());
    }
    out.extend_from_slice(&crc32fast::hash(&out).to_le_bytes());
    out
}

fn decode(id: u64, bytes: &[u8]) -> Result<Vec<(Path, Hash32)>, LedgerError> {
    let bad = |why: &str| LedgerError::Corrupt {
        key: format!("state tree page {id}"),
        why: why.into(),
    };
    let (body, crc) = bytes
        .split_last_chunk::<4>()
        .ok_or_else(|| bad("shorter than its checksum"))?;
    if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
        return Err(bad("its checksum does not match"));
    }
    if body.len() % LEAF != 0 {
        return Err(bad("its length is not a whole number of leaves"));
    }
    Ok(body
        .chunks_exact(LEAF)
        .map(|c| {
            let mut p = [0u8; 32];
            let mut v = [0u8; 32];
            p.copy_from_slice(&c[..32]);
            v.copy_from_slice(&c[32..]);
            (p, Hash32(v))
        })
        .collect())
}

impl RunPages {
    /// Pages in `backend`'s tree space, whose run ids come from `ids`
    /// (shared with the build's sorted chunks).
    pub fn new(backend: Arc<dyn Backend>, ids: Arc<std::sync::atomic::AtomicU64>) -> RunPages {
        let open_id = ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut inner = Inner {
            open_id,
            ..Inner::default()
        };
        inner.segments.insert(
            open_id,
            Segment {
                file: None,
                pages: BTreeSet::new(),
                live: 0,
                size: 0,
            },
        );
        RunPages {
            backend,
            inner: Mutex::new(inner),
            ids,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends a page's bytes to the open segment.
    fn append(&self, g: &mut Inner, page: u64, bytes: &[u8]) -> Result<(), StoreError> {
        let at = At {
            segment: g.open_id,
            offset: g.open.len(),
            len: bytes.len(),
        };
        g.open.extend_from_slice(bytes);
        g.pages.insert(page, at);
        if let Some(s) = g.segments.get_mut(&g.open_id) {
            s.pages.insert(page);
            s.live += bytes.len();
            s.size += bytes.len();
        }
        if g.open.len() >= SEGMENT_BYTES {
            self.seal(g)?;
        }
        Ok(())
    }

    /// Writes the open segment as a run and opens the next one.
    fn seal(&self, g: &mut Inner) -> Result<(), StoreError> {
        let id = g.open_id;
        let mut w = self.backend.run_create(RunSpace::Tree, id)?;
        w.write(&g.open)?;
        w.finish()?;
        let file = self.backend.run_open(RunSpace::Tree, id)?;
        if let Some(s) = g.segments.get_mut(&id) {
            s.file = Some(file);
        }
        g.open.clear();
        g.open_id = self.ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        g.segments.insert(
            g.open_id,
            Segment {
                file: None,
                pages: BTreeSet::new(),
                live: 0,
                size: 0,
            },
        );
        Ok(())
    }

    fn read(&self, g: &Inner, at: At) -> Result<Vec<u8>, StoreError> {
        if at.segment == g.open_id {
            return Ok(g.open[at.offset..at.offset + at.len].to_vec());
        }
        match g.segments.get(&at.segment).and_then(|s| s.file.as_ref()) {
            Some(f) => f.read_at(at.offset as u64, at.len),
            None => Err(StoreError::Corrupt {
                what: format!("state tree segment {:016x}", at.segment),
                why: "a page points into a segment that is gone".into(),
            }),
        }
    }

    /// Deletes sealed segment `id` if nothing in it is live, or moves its
    /// live pages to the open segment once they are under a quarter of it.
    fn tidy(&self, g: &mut Inner, id: u64) -> Result<(), StoreError> {
        let Some(s) = g.segments.get(&id) else {
            return Ok(());
        };
        if s.file.is_none() || s.live * 4 > s.size {
            return Ok(());
        }
        let moving: Vec<u64> = s.pages.iter().copied().collect();
        for page in moving {
            if let Some(at) = g.pages.get(&page).copied() {
                let bytes = self.read(g, at)?;
                self.append(g, page, &bytes)?;
            }
        }
        g.segments.remove(&id);
        self.backend.run_delete(RunSpace::Tree, id)
    }

    /// Bytes of live pages and of segments (open and written).
    pub fn sizes(&self) -> (usize, usize) {
        let g = self.lock();
        g.segments
            .values()
            .fold((0, 0), |(l, s), seg| (l + seg.live, s + seg.size))
    }
}

impl TreePages for RunPages {
    fn put(&self, leaves: &[(Path, Hash32)]) -> Result<u64, LedgerError> {
        let mut g = self.lock();
        let page = g.next_page;
        g.next_page += 1;
        let bytes = encode(leaves);
        self.append(&mut g, page, &bytes).map_err(|e| io(&e))?;
        Ok(page)
    }

    fn get(&self, id: u64) -> Result<Vec<(Path, Hash32)>, LedgerError> {
        let g = self.lock();
        let at = g
            .pages
            .get(&id)
            .copied()
            .ok_or_else(|| LedgerError::Corrupt {
                key: format!("state tree page {id}"),
                why: "it is not recorded".into(),
            })?;
        let bytes = self.read(&g, at).map_err(|e| io(&e))?;
        drop(g);
        decode(id, &bytes)
    }

    /// The tree is gone: its pages are dropped without moving any, and
    /// the segments left empty are deleted.
    fn forget_all(&self, ids: &[u64]) {
        let mut g = self.lock();
        for id in ids {
            let Some(at) = g.pages.remove(id) else {
                continue;
            };
            if let Some(s) = g.segments.get_mut(&at.segment) {
                s.pages.remove(id);
                s.live -= at.len;
            }
        }
        let empty: Vec<u64> = g
            .segments
            .iter()
            .filter(|(_, s)| s.live == 0 && s.file.is_some())
            .map(|(id, _)| *id)
            .collect();
        for id in empty {
            g.segments.remove(&id);
            if let Err(e) = self.backend.run_delete(RunSpace::Tree, id) {
                tracing::warn!(target: "assent::storage", error = %e, "could not delete a state tree page segment");
            }
        }
    }

    fn forget(&self, id: u64) {
        let mut g = self.lock();
        let Some(at) = g.pages.remove(&id) else {
            return;
        };
        if let Some(s) = g.segments.get_mut(&at.segment) {
            s.pages.remove(&id);
            s.live -= at.len;
        }
        if let Err(e) = self.tidy(&mut g, at.segment) {
            // The segment stays; a later forget tries again.
            tracing::warn!(target: "assent::storage", error = %e, "could not tidy a state tree page segment");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::mem::MemBackend;

    fn page(seed: u32) -> Vec<(Path, Hash32)> {
        (0..1_000u32)
            .map(|i| {
                let mut p = [0u8; 32];
                p[..4].copy_from_slice(&seed.to_be_bytes());
                p[4..8].copy_from_slice(&i.to_be_bytes());
                (p, Hash32([seed as u8; 32]))
            })
            .collect()
    }

    /// Pages in memory with `n` pages of 1,000 leaves put, and their ids.
    fn filled(n: u32) -> (Arc<dyn Backend>, RunPages, Vec<u64>) {
        let backend: Arc<dyn Backend> = Arc::new(MemBackend::new());
        let pages = RunPages::new(
            backend.clone(),
            Arc::new(std::sync::atomic::AtomicU64::new(1)),
        );
        let ids = (0..n).map(|s| pages.put(&page(s)).unwrap()).collect();
        (backend, pages, ids)
    }

    /// Pages come back as put across written segments; a segment whose
    /// pages are mostly forgotten is moved and deleted, one wholly
    /// forgotten is deleted, so the disk holds what is live, not what was.
    #[test]
    fn pages_survive_segment_writes_and_forgotten_space_is_given_back() {
        // 64 KB pages: 128 fill a segment.
        let (backend, pages, ids) = filled(400);
        let written = backend.run_ids(RunSpace::Tree).unwrap();
        assert_eq!(written.len(), 3, "{written:?}");
        for (s, id) in ids.iter().enumerate() {
            assert_eq!(pages.get(*id).unwrap(), page(s as u32));
        }
        // Forget all but 10 pages of the first segment and all of the second.
        for id in &ids[10..256] {
            pages.forget(*id);
        }
        let left = backend.run_ids(RunSpace::Tree).unwrap();
        assert!(
            !left.contains(&written[0]) && !left.contains(&written[1]),
            "{left:?}"
        );
        let (live, size) = pages.sizes();
        assert!(size <= 4 * live + SEGMENT_BYTES, "{live} live of {size}");
        for (s, id) in ids.iter().enumerate() {
            if (10..256).contains(&s) {
                let err = pages.get(*id).unwrap_err();
                assert!(err.to_string().contains("not recorded"), "{err}");
            } else {
                assert_eq!(pages.get(*id).unwrap(), page(s as u32));
            }
        }
    }

    #[test]
    fn forgetting_every_page_at_once_moves_none_and_deletes_the_segments() {
        let (backend, pages, ids) = filled(300);
        assert_eq!(backend.run_ids(RunSpace::Tree).unwrap().len(), 2);
        pages.forget_all(&ids);
        assert!(backend.run_ids(RunSpace::Tree).unwrap().is_empty());
        assert_eq!(pages.sizes().0, 0);
    }

    #[test]
    fn a_damaged_page_is_an_error_naming_it() {
        let mut bytes = encode(&page(3));
        bytes[100] ^= 1;
        let err = decode(9, &bytes).unwrap_err();
        assert!(err.to_string().contains("state tree page 9"), "{err}");
        assert!(decode(9, &[1, 2]).is_err());
    }
}
