//! The key-value seam under the ledger state, its in-memory twin, and the
//! write overlay that execution works in.
//!
//! Execution never writes to a store: it reads through an [`Overlay`] and
//! returns the overlay's writes, which the caller (the node) commits atomically
//! with the block. A transaction writes straight into the block's overlay
//! inside [`Overlay::atomically`], which journals what each write replaced and
//! puts it back if the transaction is rejected.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A failure of the underlying store (I/O, corruption). Never a user error: a
/// node that sees one stops rather than carry on with a partial view.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("store I/O failed: {0}")]
    Io(String),
    #[error("stored value under key {key} is corrupt: {why}")]
    Corrupt { key: String, why: String },
}

/// Writes of a block (or tx): key -> new value, or `None` for a deletion.
/// Ordered, so hashing them is deterministic.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Key-value pairs in key order, as a prefix scan returns them.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Read access to ledger state.
pub trait StateRead {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Lends the value under `key` (or `None`) to `f`, without copying it
    /// where the store holds it in memory: how execution reads a record to
    /// decode it.
    fn read_with(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), StoreError> {
        f(self.get(key)?.as_deref());
        Ok(())
    }
    /// All live entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Entries, StoreError>;
    /// Whether an [`Overlay`] over this store should remember what it
    /// read, so that a record read again in the same block is not looked up
    /// here again: true where a read costs more than one lookup in a hash
    /// map (the node's unpersisted layers and read cache).
    fn remember_reads(&self) -> bool {
        false
    }
}

/// In-memory state, used by tests, benches, the CLI's offline tools,
/// `assentd replay` and as the reference twin of the node's sled store.
///
/// Values are found by hash, as the node's read cache finds them (a
/// `BTreeMap` of byte keys compared ~20 keys per read at a few hundred
/// thousand records, a sixth of executing a block over it); the keys are
/// also kept in order, for prefix scans. Nothing iterates the hash map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemStore {
    map: HashMap<Vec<u8>, Vec<u8>, rustc_hash::FxBuildHasher>,
    keys: BTreeSet<Vec<u8>>,
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    /// Applies a set of writes (as the node does atomically after a block).
    pub fn apply(&mut self, writes: &Writes) {
        for (k, v) in writes {
            match v {
                Some(v) => {
                    if self.map.insert(k.clone(), v.clone()).is_none() {
                        self.keys.insert(k.clone());
                    }
                }
                None => {
                    if self.map.remove(k).is_some() {
                        self.keys.remove(k);
                    }
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl StateRead for MemStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map.get(key).cloned())
    }

    fn read_with(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), StoreError> {
        f(self.map.get(key).map(Vec::as_slice));
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Entries, StoreError> {
        Ok(self
            .keys
            .range(prefix.to_vec()..)
            .take_while(|k| k.starts_with(prefix))
            .filter_map(|k| Some((k.clone(), self.map.get(k)?.clone())))
            .collect())
    }
}

/// Pending writes of an overlay: found by hash while a block executes, sorted
/// only once, when they leave execution ([`Overlay::into_writes`]). Never
/// iterated in hash order into anything hashed or stored.
type Pending = HashMap<Vec<u8>, Option<Vec<u8>>, rustc_hash::FxBuildHasher>;

/// A key written inside [`Overlay::atomically`], and the pending write it
/// replaced (`None`: the key had none).
type Undo = (Vec<u8>, Option<Option<Vec<u8>>>);

/// Pending writes on top of a read-only base.
pub struct Overlay<'a> {
    base: &'a dyn StateRead,
    writes: Pending,
    /// Records read from `base`, when it asks for them to be remembered
    /// ([`StateRead::remember_reads`]): `base` does not change under the
    /// overlay, and `writes` shadow them. A block reads about 40 % of its
    /// records more than once (the same enterprise, referrer or
    /// parameters for many txs).
    read: Option<RefCell<Pending>>,
    /// While [`Overlay::atomically`] runs: each key written, and the pending
    /// write it replaced, oldest first.
    undo: Vec<Undo>,
    /// How many `atomically` calls are open (they nest).
    open: usize,
}

impl std::fmt::Debug for Overlay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Overlay({} writes)", self.writes.len())
    }
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn StateRead) -> Overlay<'a> {
        Overlay::with_capacity(base, 0)
    }

    /// An overlay with room for about `keys` writes before it grows.
    pub fn with_capacity(base: &'a dyn StateRead, keys: usize) -> Overlay<'a> {
        Overlay {
            base,
            writes: Pending::with_capacity_and_hasher(keys, Default::default()),
            read: base
                .remember_reads()
                .then(|| RefCell::new(Pending::with_capacity_and_hasher(keys, Default::default()))),
            undo: Vec::new(),
            open: 0,
        }
    }

    pub fn put_raw(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.write(key, Some(value));
    }

    pub fn delete(&mut self, key: Vec<u8>) {
        self.write(key, None);
    }

    fn write(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        if self.open == 0 {
            self.writes.insert(key, value);
        } else {
            let before = self.writes.insert(key.clone(), value);
            self.undo.push((key, before));
        }
    }

    /// Runs `f` on this overlay all or nothing: if it returns `Err`, every
    /// write it made is undone, and the overlay is as it was before the call.
    /// Calls nest: an inner failure undoes only the inner writes.
    pub fn atomically<T, E>(
        &mut self,
        f: impl FnOnce(&mut Overlay<'a>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mark = self.undo.len();
        self.open += 1;
        let result = f(self);
        self.open -= 1;
        if result.is_err() {
            // Newest first, so a key written twice gets its oldest value back.
            while self.undo.len() > mark {
                let Some((key, before)) = self.undo.pop() else {
                    break;
                };
                match before {
                    Some(v) => self.writes.insert(key, v),
                    None => self.writes.remove(&key),
                };
            }
        } else if self.open == 0 {
            self.undo.clear();
        }
        result
    }

    /// The writes in key order.
    pub fn into_writes(self) -> Writes {
        let mut sorted: Vec<(Vec<u8>, Option<Vec<u8>>)> = self.writes.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        // Keys are unique and sorted: the map is bulk-built.
        sorted.into_iter().collect()
    }

    /// How many keys the overlay has written or deleted.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

impl StateRead for Overlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match (self.writes.get(key), &self.read) {
            (Some(v), _) => Ok(v.clone()),
            (None, None) => self.base.get(key),
            (None, Some(_)) => {
                let mut out = None;
                self.read_with(key, &mut |v| out = v.map(<[u8]>::to_vec))?;
                Ok(out)
            }
        }
    }

    fn read_with(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), StoreError> {
        if let Some(v) = self.writes.get(key) {
            f(v.as_deref());
            return Ok(());
        }
        let Some(read) = &self.read else {
            return self.base.read_with(key, f);
        };
        if let Some(v) = read.borrow().get(key) {
            f(v.as_deref());
            return Ok(());
        }
        let mut value = None;
        self.base
            .read_with(key, &mut |v| value = Some(v.map(<[u8]>::to_vec)))?;
        let value = value.unwrap_or_default();
        f(value.as_deref());
        read.borrow_mut().insert(key.to_vec(), value);
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Entries, StoreError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> =
            self.base.scan_prefix(prefix)?.into_iter().collect();
        // Rare in execution (a revoke-all): a pass over the pending writes,
        // merged into the sorted result.
        for (k, v) in self.writes.iter().filter(|(k, _)| k.starts_with(prefix)) {
            match v {
                Some(v) => {
                    merged.insert(k.clone(), v.clone());
                }
                None => {
                    merged.remove(k);
                }
            }
        }
        Ok(merged.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store holding `records`.
    fn store_of(records: &[(&[u8], &[u8])]) -> MemStore {
        let mut store = MemStore::new();
        let w: Writes = records
            .iter()
            .map(|(k, v)| (k.to_vec(), Some(v.to_vec())))
            .collect();
        store.apply(&w);
        store
    }

    #[test]
    fn overlay_shadows_and_scans_merged() {
        let base = store_of(&[(b"p/1", b"a"), (b"p/2", b"b"), (b"q/1", b"c")]);

        let mut o = Overlay::new(&base);
        o.delete(b"p/1".to_vec());
        o.put_raw(b"p/3".to_vec(), b"d".to_vec());
        assert_eq!(o.get(b"p/1").unwrap(), None);
        assert_eq!(o.get(b"q/1").unwrap(), Some(b"c".to_vec()));
        let keys: Vec<Vec<u8>> = o
            .scan_prefix(b"p/")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, vec![b"p/2".to_vec(), b"p/3".to_vec()]);
        // The base is untouched until the writes are applied.
        assert_eq!(base.get(b"p/1").unwrap(), Some(b"a".to_vec()));
    }

    /// A store that counts its point reads and asks to be remembered.
    struct Counted {
        store: MemStore,
        reads: std::cell::Cell<usize>,
    }

    impl StateRead for Counted {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.reads.set(self.reads.get() + 1);
            self.store.get(key)
        }
        fn scan_prefix(&self, prefix: &[u8]) -> Result<Entries, StoreError> {
            self.store.scan_prefix(prefix)
        }
        fn remember_reads(&self) -> bool {
            true
        }
    }

    #[test]
    fn an_overlay_reads_a_record_from_a_costly_base_once_and_its_writes_still_win() {
        let base = Counted {
            store: store_of(&[(b"e/1", b"ent")]),
            reads: Default::default(),
        };
        let mut o = Overlay::new(&base);
        for _ in 0..3 {
            assert_eq!(o.get(b"e/1").unwrap(), Some(b"ent".to_vec()));
            assert_eq!(o.get(b"absent").unwrap(), None);
        }
        assert_eq!(
            base.reads.get(),
            2,
            "each record is read from the base once"
        );
        // A tx's write shadows what was read; a failed tx's undo shows it again.
        let failed: Result<(), ()> = o.atomically(|o| {
            o.put_raw(b"e/1".to_vec(), b"changed".to_vec());
            o.put_raw(b"absent".to_vec(), b"now".to_vec());
            assert_eq!(o.get(b"e/1").unwrap(), Some(b"changed".to_vec()));
            assert_eq!(o.get(b"absent").unwrap(), Some(b"now".to_vec()));
            Err(())
        });
        assert!(failed.is_err());
        assert_eq!(o.get(b"e/1").unwrap(), Some(b"ent".to_vec()));
        assert_eq!(o.get(b"absent").unwrap(), None);
        o.delete(b"e/1".to_vec());
        assert_eq!(o.get(b"e/1").unwrap(), None);
        assert_eq!(base.reads.get(), 2);
        // What was read is not written.
        assert_eq!(o.into_writes().len(), 1);
        // A store that does not ask is read every time.
        let plain = Overlay::new(&base.store);
        assert!(plain.read.is_none());
    }

    #[test]
    fn mem_store_reads_and_scans_as_an_ordered_map_does() {
        // Puts, overwrites and deletes over a small key space, checked
        // against a plain ordered map after every batch.
        let mut store = MemStore::new();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..200u32 {
            let mut w = Writes::new();
            for _ in 0..8 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let key = format!("{}/{}", ["a", "ab", "b"][(x % 3) as usize], (x >> 8) % 20)
                    .into_bytes();
                let v = if (x >> 40).is_multiple_of(3) {
                    None
                } else {
                    Some(round.to_le_bytes().to_vec())
                };
                w.insert(key, v);
            }
            store.apply(&w);
            for (k, v) in &w {
                match v {
                    Some(v) => model.insert(k.clone(), v.clone()),
                    None => model.remove(k),
                };
            }
            assert_eq!(store.len(), model.len());
            for prefix in [b"a".as_slice(), b"ab/", b"b/1", b""] {
                let want: Entries = model
                    .range(prefix.to_vec()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                assert_eq!(store.scan_prefix(prefix).unwrap(), want, "round {round}");
            }
            for (k, v) in &w {
                assert_eq!(store.get(k).unwrap().as_ref(), model.get(k), "{v:?}");
            }
        }
    }

    #[test]
    fn overlay_writes_leave_in_key_order_and_a_kept_tx_wins() {
        let base = MemStore::new();
        let mut o = Overlay::new(&base);
        for k in [b"c/9".as_slice(), b"a/1", b"b/5", b"a/0"] {
            o.put_raw(k.to_vec(), k.to_vec());
        }
        o.atomically(|o| {
            o.delete(b"b/5".to_vec());
            o.put_raw(b"a/1".to_vec(), b"new".to_vec());
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(o.len(), 4);
        let writes: Vec<(Vec<u8>, Option<Vec<u8>>)> = o.into_writes().into_iter().collect();
        assert_eq!(
            writes,
            vec![
                (b"a/0".to_vec(), Some(b"a/0".to_vec())),
                (b"a/1".to_vec(), Some(b"new".to_vec())),
                (b"b/5".to_vec(), None),
                (b"c/9".to_vec(), Some(b"c/9".to_vec())),
            ]
        );
    }

    #[test]
    fn a_failed_atomic_run_leaves_the_overlay_as_it_was() {
        let base = store_of(&[(b"s/1", b"stored")]);
        let mut o = Overlay::new(&base);
        o.put_raw(b"p/1".to_vec(), b"pending".to_vec());
        o.delete(b"p/2".to_vec());
        let snapshot = |o: &Overlay<'_>| -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
            o.writes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .collect()
        };
        let before = snapshot(&o);

        let r: Result<(), &str> = o.atomically(|o| {
            // Overwrite a pending write twice, undo a pending deletion,
            // shadow a stored record, add a new key, then fail.
            o.put_raw(b"p/1".to_vec(), b"one".to_vec());
            o.put_raw(b"p/1".to_vec(), b"two".to_vec());
            o.put_raw(b"p/2".to_vec(), b"back".to_vec());
            o.delete(b"s/1".to_vec());
            o.put_raw(b"n/1".to_vec(), b"new".to_vec());
            // A nested run that succeeds is undone with its parent.
            o.atomically(|o| {
                o.put_raw(b"n/2".to_vec(), b"inner".to_vec());
                Ok::<(), &str>(())
            })?;
            assert_eq!(o.get(b"p/1").unwrap(), Some(b"two".to_vec()));
            assert_eq!(o.get(b"s/1").unwrap(), None);
            Err("rejected")
        });
        assert_eq!(r, Err("rejected"));
        assert_eq!(snapshot(&o), before);
        assert_eq!(o.get(b"s/1").unwrap(), Some(b"stored".to_vec()));
        assert_eq!(o.get(b"n/2").unwrap(), None);

        // A nested failure undoes only its own writes.
        o.atomically(|o| {
            o.put_raw(b"n/1".to_vec(), b"kept".to_vec());
            let inner: Result<(), &str> = o.atomically(|o| {
                o.put_raw(b"n/1".to_vec(), b"dropped".to_vec());
                o.put_raw(b"n/3".to_vec(), b"dropped".to_vec());
                Err("inner")
            });
            assert!(inner.is_err());
            Ok::<(), &str>(())
        })
        .unwrap();
        assert_eq!(o.get(b"n/1").unwrap(), Some(b"kept".to_vec()));
        assert_eq!(o.get(b"n/3").unwrap(), None);
        assert_eq!(o.len(), before.len() + 1);
        assert!(
            o.undo.is_empty(),
            "the journal is dropped once no run is open"
        );
    }
}
