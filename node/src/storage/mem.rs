//! The in-memory twin of [`DiskBackend`](super::disk::DiskBackend): same
//! contract, same durability model. A batch applied without `durable` and
//! a journal record are kept in memory; [`MemBackend::crash`] keeps only
//! what was made durable, as a killed process would find on disk.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::backend::{
    Backend, Entries, JournalRecord, Op, RunFile, RunSpace, RunWriter, StoreError,
};

#[derive(Debug, Default)]
struct Durable {
    kv: BTreeMap<Vec<u8>, Vec<u8>>,
    /// (kind, height) → payloads in append order (the last one wins).
    journal: BTreeMap<(u8, u64), Vec<u8>>,
    journal_tip: Option<u64>,
    /// Finished index runs (durable once finished, as on disk).
    runs: BTreeMap<(RunSpace, u64), Arc<Vec<u8>>>,
}

#[derive(Debug, Default)]
struct Inner {
    durable: Durable,
    /// Batches applied since the last durable one, oldest first; lost in a crash.
    volatile: Vec<Vec<Op>>,
    /// The view: durable + volatile.
    kv: BTreeMap<Vec<u8>, Vec<u8>>,
    journal_bytes: u64,
}

/// Cloning shares the same data (as two handles on one directory would).
#[derive(Debug, Clone, Default)]
pub struct MemBackend {
    inner: Arc<Mutex<Inner>>,
}

impl MemBackend {
    pub fn new() -> MemBackend {
        MemBackend::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new backend holding only what was durable here: the state a
    /// restarted node finds after `kill -9`.
    pub fn crash(&self) -> MemBackend {
        let i = self.lock();
        let durable = Durable {
            kv: i.durable.kv.clone(),
            journal: i.durable.journal.clone(),
            journal_tip: i.durable.journal_tip,
            runs: i.durable.runs.clone(),
        };
        let kv = durable.kv.clone();
        MemBackend {
            inner: Arc::new(Mutex::new(Inner {
                durable,
                volatile: Vec::new(),
                kv,
                journal_bytes: 0,
            })),
        }
    }
}

struct MemRunWriter {
    backend: MemBackend,
    id: (RunSpace, u64),
    bytes: Vec<u8>,
}

impl RunWriter for MemRunWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        let MemRunWriter { backend, id, bytes } = *self;
        backend.lock().durable.runs.insert(id, Arc::new(bytes));
        Ok(())
    }
}

#[derive(Debug)]
struct MemRunFile(Arc<Vec<u8>>);

impl RunFile for MemRunFile {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, StoreError> {
        usize::try_from(offset)
            .ok()
            .and_then(|o| self.0.get(o..o.checked_add(len)?))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| StoreError::RunIo {
                path: "memory".into(),
                source: std::io::ErrorKind::UnexpectedEof.into(),
            })
    }
}

fn apply_ops(kv: &mut BTreeMap<Vec<u8>, Vec<u8>>, ops: &[Op]) {
    for (k, v) in ops {
        match v {
            Some(v) => {
                kv.insert(k.clone(), v.clone());
            }
            None => {
                kv.remove(k);
            }
        }
    }
}

impl Backend for MemBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().kv.get(key).cloned())
    }

    fn range(
        &self,
        from: &[u8],
        to: &[u8],
        rev: bool,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let i = self.lock();
        let r = i.kv.range(from.to_vec()..to.to_vec());
        let pair = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if rev {
            r.rev().take(limit).map(pair).collect()
        } else {
            r.take(limit).map(pair).collect()
        })
    }

    fn apply(&self, ops: Vec<Op>, durable: bool) -> Result<(), StoreError> {
        let mut i = self.lock();
        apply_ops(&mut i.kv, &ops);
        i.volatile.push(ops);
        if durable {
            let pending = std::mem::take(&mut i.volatile);
            for b in &pending {
                apply_ops(&mut i.durable.kv, b);
            }
        }
        Ok(())
    }

    fn journal_append(&self, records: &[JournalRecord<'_>]) -> Result<(), StoreError> {
        let mut i = self.lock();
        for (kind, h, parts) in records {
            if *kind == super::journal::KIND_BLOCK {
                i.durable.journal_tip = Some(*h);
            }
            let payload = parts.concat();
            i.journal_bytes += payload.len() as u64;
            i.durable.journal.insert((*kind, *h), payload);
        }
        Ok(())
    }

    fn journal_get(&self, kind: u8, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().durable.journal.get(&(kind, height)).cloned())
    }

    fn journal_tip(&self) -> Option<u64> {
        self.lock().durable.journal_tip
    }

    fn journal_bytes(&self) -> u64 {
        self.lock().journal_bytes
    }

    fn run_create(&self, space: RunSpace, id: u64) -> Result<Box<dyn RunWriter>, StoreError> {
        Ok(Box::new(MemRunWriter {
            backend: self.clone(),
            id: (space, id),
            bytes: Vec::new(),
        }))
    }

    fn run_open(&self, space: RunSpace, id: u64) -> Result<Arc<dyn RunFile>, StoreError> {
        match self.lock().durable.runs.get(&(space, id)) {
            Some(b) => Ok(Arc::new(MemRunFile(b.clone()))),
            None => Err(StoreError::RunIo {
                path: format!("memory {} run {id}", space.name()),
                source: std::io::ErrorKind::NotFound.into(),
            }),
        }
    }

    fn run_ids(&self, space: RunSpace) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .lock()
            .durable
            .runs
            .keys()
            .filter(|(s, _)| *s == space)
            .map(|(_, id)| *id)
            .collect())
    }

    fn run_delete(&self, space: RunSpace, id: u64) -> Result<(), StoreError> {
        self.lock().durable.runs.remove(&(space, id));
        Ok(())
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    fn size_on_disk(&self) -> u64 {
        0
    }
}

/// A backend that fails its `n`-th mutating call (apply or journal append)
/// without doing it, and every one after: a crash at that step. Tests run a
/// scenario once per step, then recover from what the inner backend kept.
#[cfg(test)]
#[derive(Debug)]
pub struct Faulty<B> {
    pub inner: B,
    pub fail_at: usize,
    pub steps: std::sync::atomic::AtomicUsize,
}

#[cfg(test)]
impl<B: Backend> Faulty<B> {
    fn step(&self) -> Result<(), StoreError> {
        let n = self.steps.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n >= self.fail_at {
            return Err(StoreError::Injected(n));
        }
        Ok(())
    }
}

#[cfg(test)]
impl<B: Backend> Backend for Faulty<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key)
    }
    fn range(
        &self,
        from: &[u8],
        to: &[u8],
        rev: bool,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        self.inner.range(from, to, rev, limit)
    }
    fn apply(&self, ops: Vec<Op>, durable: bool) -> Result<(), StoreError> {
        self.step()?;
        self.inner.apply(ops, durable)
    }
    fn journal_append(&self, records: &[JournalRecord<'_>]) -> Result<(), StoreError> {
        self.step()?;
        self.inner.journal_append(records)
    }
    fn journal_get(&self, kind: u8, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.journal_get(kind, height)
    }
    fn run_create(&self, space: RunSpace, id: u64) -> Result<Box<dyn RunWriter>, StoreError> {
        self.step()?;
        self.inner.run_create(space, id)
    }
    fn run_open(&self, space: RunSpace, id: u64) -> Result<Arc<dyn RunFile>, StoreError> {
        self.inner.run_open(space, id)
    }
    fn run_ids(&self, space: RunSpace) -> Result<Vec<u64>, StoreError> {
        self.inner.run_ids(space)
    }
    fn run_delete(&self, space: RunSpace, id: u64) -> Result<(), StoreError> {
        self.step()?;
        self.inner.run_delete(space, id)
    }
    fn journal_tip(&self) -> Option<u64> {
        self.inner.journal_tip()
    }
    fn journal_bytes(&self) -> u64 {
        self.inner.journal_bytes()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn size_on_disk(&self) -> u64 {
        self.inner.size_on_disk()
    }
}
