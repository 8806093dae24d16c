//! The node's store on sled, behind the contracts' `StateRead` seam.
//!
//! One sled tree; every key starts with a one-letter table prefix (all keys
//! are built in [`keys`]). A block, its commit certificate, its state writes,
//! its results and its indexes are written in ONE atomic batch and flushed
//! before the commit is acknowledged; a failed write is returned as an error
//! that the node treats as fatal.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use assent_contracts::codec;
use assent_contracts::commit::CommitCertificate;
use assent_contracts::state::{Entries, StateRead, StoreError as LedgerStoreError};
use assent_contracts::tx::{TxOutcome, TxResult};
use assent_contracts::{
    AccountId, Block, BlockHash, BlockOutput, Event, Hash32, Height, Timestamp, TxId, UseId,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// Why the store failed. All of these stop the node (a store it cannot trust
/// is never used half-way).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}; if the files are corrupt, move the data directory away and let the node sync again")]
    Open { path: String, source: sled::Error },
    #[error("store I/O failed: {0}")]
    Io(#[from] sled::Error),
    #[error("stored record {what} is corrupt: {why}")]
    Corrupt { what: String, why: String },
    #[error("this store belongs to chain {stored}, not to genesis {expected}; use another --home or remove its data directory")]
    WrongChain { stored: String, expected: String },
    #[error("the genesis state could not be built: {0}")]
    Genesis(String),
}

/// All storage keys of the node, built in one place.
pub mod keys {
    use super::*;

    pub const HEAD: &[u8] = b"m/head";
    pub const GENESIS: &[u8] = b"m/genesis";
    pub const STATE: &[u8] = b"s/";

    pub fn state(k: &[u8]) -> Vec<u8> {
        [STATE, k].concat()
    }
    pub fn block(h: Height) -> Vec<u8> {
        [b"b/".as_slice(), &h.0.to_be_bytes()].concat()
    }
    pub fn certificate(h: Height) -> Vec<u8> {
        [b"c/".as_slice(), &h.0.to_be_bytes()].concat()
    }
    pub fn results(h: Height) -> Vec<u8> {
        [b"r/".as_slice(), &h.0.to_be_bytes()].concat()
    }
    pub fn tx(id: &TxId) -> Vec<u8> {
        [b"t/".as_slice(), id.as_bytes()].concat()
    }
    /// Uses of a consumer's data, ordered by (height, tx index, use index).
    pub fn consumer_use(consumer: &AccountId, h: Height, tx: u32, index: u32) -> Vec<u8> {
        [
            b"u/".as_slice(),
            consumer.as_bytes(),
            &h.0.to_be_bytes(),
            &tx.to_be_bytes(),
            &index.to_be_bytes(),
        ]
        .concat()
    }
    pub fn consumer_uses_prefix(consumer: &AccountId) -> Vec<u8> {
        [b"u/".as_slice(), consumer.as_bytes()].concat()
    }
    pub fn use_location(id: &UseId) -> Vec<u8> {
        [b"w/".as_slice(), id.as_bytes()].concat()
    }
    /// What happened to an account, ordered by (height, tx index, event
    /// number in the tx): see [`history_accounts`](super::history_accounts).
    pub fn account_event(account: &AccountId, h: Height, tx: u32, n: u32) -> Vec<u8> {
        [
            b"h/".as_slice(),
            account.as_bytes(),
            &h.0.to_be_bytes(),
            &tx.to_be_bytes(),
            &n.to_be_bytes(),
        ]
        .concat()
    }
    pub fn account_events_prefix(account: &AccountId) -> Vec<u8> {
        [b"h/".as_slice(), account.as_bytes()].concat()
    }
    /// A block this node proposed at (height, round): re-proposed unchanged after a restart.
    pub fn own_proposal(h: Height, round: u32) -> Vec<u8> {
        [b"p/".as_slice(), &h.0.to_be_bytes(), &round.to_be_bytes()].concat()
    }
    /// A proposed block (ours or received), by hash, kept until it is decided or pruned.
    pub fn undecided(h: Height, hash: &BlockHash) -> Vec<u8> {
        [b"v/".as_slice(), &h.0.to_be_bytes(), hash.as_bytes()].concat()
    }
}

/// The tip of the committed chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub height: Height,
    /// Hash of the block at `height` (the genesis hash at height 0).
    pub block_hash: BlockHash,
    pub state_root: Hash32,
    pub time: Timestamp,
}

/// Where a committed tx is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxLocation {
    pub height: Height,
    pub index: u32,
}

/// Per-tx results and end-of-block events of a committed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockResults {
    pub results: Vec<TxResult>,
    pub end_events: Vec<Event>,
}

/// One use of a consumer's data, as indexed for the consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseRecord {
    pub height: Height,
    pub tx_id: TxId,
    pub tx_index: u32,
    pub event: Event,
}

/// One event of a committed tx in an account's history (`h/` index).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub height: Height,
    /// Block time.
    pub time: Timestamp,
    pub tx_id: TxId,
    pub tx_index: u32,
    /// The tx's kind, e.g. `RevokeAll` (`Payload::kind`).
    pub tx_kind: String,
    pub event: Event,
}

/// The accounts whose history (`h/` index) records `e`: the consumer of a
/// registration, tag, consent, policy or rating event, and both sides of
/// points moved by Transfer or Mint. Uses have their own index (`u/`).
/// With the `u/` index this covers every event that changes ledger state
/// about a consumer, so a consumer with no entries after height H has the
/// same state as at H (exports rely on this).
pub fn history_accounts(e: &Event) -> Vec<AccountId> {
    match e {
        Event::ConsumerRegistered { consumer }
        | Event::TagsSet { consumer, .. }
        | Event::ConsentGranted { consumer, .. }
        | Event::ConsentRevoked { consumer, .. }
        | Event::ConsentPaused { consumer, .. }
        | Event::ConsentResumed { consumer, .. }
        | Event::PolicySet { consumer, .. }
        | Event::PolicyCleared { consumer, .. }
        | Event::Rated { consumer, .. } => vec![*consumer],
        Event::Transferred { from, to, .. } if from == to => vec![*from],
        Event::Transferred { from, to, .. } => vec![*from, *to],
        Event::Minted { to, .. } => vec![*to],
        _ => Vec::new(),
    }
}

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    cache: Arc<StateCache>,
}

/// Most state entries kept in the read cache; when full it starts over.
const STATE_CACHE_ENTRIES: usize = 200_000;

/// A read cache of committed state in front of sled, whose point reads cost
/// several microseconds each on the execution path. It only ever holds
/// values as committed: `commit_block` updates it after the batch is applied,
/// and a reader that missed fills it only if no commit happened since its
/// miss (the generation check), so a stale value can never be cached.
#[derive(Default)]
struct StateCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<Vec<u8>, Option<Vec<u8>>>,
    generation: u64,
}

impl StateCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// After state writes reached sled: cached values follow them.
    fn committed(&self, writes: &assent_contracts::state::Writes) {
        let mut c = self.lock();
        c.generation += 1;
        if c.map.len() + writes.len() > STATE_CACHE_ENTRIES {
            c.map.clear();
        }
        for (k, v) in writes {
            c.map.insert(k.clone(), v.clone());
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

fn decode<T: DeserializeOwned + Serialize>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    codec::decode(bytes).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        why: e.to_string(),
    })
}

fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    // Node records are plain structs of the ledger's types; encoding cannot fail.
    codec::encode(v).unwrap_or_default()
}

impl Store {
    /// Opens the store with the default page cache.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with_cache(path, crate::config::DEFAULT_STORE_CACHE_MB * 1024 * 1024)
    }

    /// Opens the store with `cache_bytes` of sled page cache (config
    /// `store.cache_mb`): pages evicted from it are read back from the log
    /// and rebuilt on the next insert or read that touches them.
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            // About a quarter less CPU per insert than the default LowSpace
            // mode (measured: 18,000 random inserts 175 ms vs 240 ms).
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let tree = db.open_tree("assent").map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Store {
            db,
            tree,
            cache: Arc::default(),
        })
    }

    /// An in-memory store (tests).
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        let tree = db.open_tree("assent")?;
        Ok(Store {
            db,
            tree,
            cache: Arc::default(),
        })
    }

    fn get<T: DeserializeOwned + Serialize>(
        &self,
        what: &str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.tree.get(key)? {
            Some(v) => decode(what, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Writes the genesis state on first start; on later starts checks that
    /// the store belongs to this genesis. Returns the head.
    pub fn init(&self, genesis: &assent_genesis::Genesis) -> Result<Head, StoreError> {
        let hash = genesis.hash();
        if let Some(stored) = self.tree.get(keys::GENESIS)? {
            if stored.as_ref() != hash.as_bytes() {
                return Err(StoreError::WrongChain {
                    stored: hex::encode(&stored),
                    expected: hash.to_string(),
                });
            }
            return self.head();
        }
        let (writes, root) = genesis
            .initial_state()
            .writes()
            .map_err(|e| StoreError::Genesis(e.to_string()))?;
        let head = Head {
            height: Height(0),
            block_hash: BlockHash(hash),
            state_root: root,
            time: genesis.genesis_time(),
        };
        let mut batch = sled::Batch::default();
        for (k, v) in &writes {
            if let Some(v) = v {
                batch.insert(keys::state(k), v.clone());
            }
        }
        batch.insert(keys::HEAD, enc(&head));
        batch.insert(keys::GENESIS, hash.as_bytes().to_vec());
        self.tree.apply_batch(batch)?;
        {
            let mut c = self.cache.lock();
            c.map.clear();
            c.generation += 1;
        }
        self.db.flush()?;
        Ok(head)
    }

    pub fn head(&self) -> Result<Head, StoreError> {
        self.get("head", keys::HEAD)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "head".into(),
                why: "missing".into(),
            })
    }

    /// Commits a decided block atomically: state writes, block, certificate,
    /// results, tx, use and history indexes, new head; then flushes to disk.
    pub fn commit_block(
        &self,
        block: &Block,
        cert: &CommitCertificate,
        out: &BlockOutput,
    ) -> Result<Head, StoreError> {
        let h = block.header.height;
        let mut batch = sled::Batch::default();
        for (k, v) in &out.writes {
            match v {
                Some(v) => batch.insert(keys::state(k), v.clone()),
                None => batch.remove(keys::state(k)),
            }
        }
        batch.insert(keys::block(h), block.encode());
        batch.insert(keys::certificate(h), enc(cert));
        batch.insert(
            keys::results(h),
            enc(&BlockResults {
                results: out.results.clone(),
                end_events: out.end_events.clone(),
            }),
        );
        for (i, r) in out.results.iter().enumerate() {
            batch.insert(
                keys::tx(&r.tx_id),
                enc(&TxLocation {
                    height: h,
                    index: i as u32,
                }),
            );
            if let TxOutcome::Applied { events } = &r.outcome {
                let kind = block.txs.get(i).map_or("", |t| t.body.payload.kind());
                for (n, e) in events.iter().enumerate() {
                    for account in history_accounts(e) {
                        let rec = HistoryRecord {
                            height: h,
                            time: block.header.time,
                            tx_id: r.tx_id,
                            tx_index: i as u32,
                            tx_kind: kind.to_string(),
                            event: e.clone(),
                        };
                        batch.insert(
                            keys::account_event(&account, h, i as u32, n as u32),
                            enc(&rec),
                        );
                    }
                }
                for e in events {
                    let (consumer, use_id, index) = match e {
                        Event::UseSettled {
                            consumer,
                            use_id,
                            index,
                            ..
                        }
                        | Event::UseRejected {
                            consumer,
                            use_id,
                            index,
                            ..
                        } => (consumer, use_id, *index),
                        _ => continue,
                    };
                    let rec = UseRecord {
                        height: h,
                        tx_id: r.tx_id,
                        tx_index: i as u32,
                        event: e.clone(),
                    };
                    batch.insert(keys::consumer_use(consumer, h, i as u32, index), enc(&rec));
                    batch.insert(
                        keys::use_location(use_id),
                        enc(&TxLocation {
                            height: h,
                            index: i as u32,
                        }),
                    );
                }
            }
        }
        let head = Head {
            height: h,
            block_hash: block.header.hash(),
            state_root: out.state_root,
            time: block.header.time,
        };
        batch.insert(keys::HEAD, enc(&head));
        self.tree.apply_batch(batch)?;
        self.cache.committed(&out.writes);
        self.db.flush()?;
        Ok(head)
    }

    /// Replaces a committed block's certificate (Finalized may carry more signatures).
    pub fn put_certificate(&self, h: Height, cert: &CommitCertificate) -> Result<(), StoreError> {
        self.tree.insert(keys::certificate(h), enc(cert))?;
        self.db.flush()?;
        Ok(())
    }

    pub fn block(&self, h: Height) -> Result<Option<Block>, StoreError> {
        match self.tree.get(keys::block(h))? {
            Some(b) => Block::decode(&b)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    what: format!("block {h}"),
                    why: e.to_string(),
                }),
            None => Ok(None),
        }
    }

    pub fn block_bytes(&self, h: Height) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(keys::block(h))?.map(|v| v.to_vec()))
    }

    pub fn certificate(&self, h: Height) -> Result<Option<CommitCertificate>, StoreError> {
        self.get(&format!("certificate {h}"), &keys::certificate(h))
    }

    pub fn results(&self, h: Height) -> Result<Option<BlockResults>, StoreError> {
        self.get(&format!("results {h}"), &keys::results(h))
    }

    pub fn tx_location(&self, id: &TxId) -> Result<Option<TxLocation>, StoreError> {
        self.get("tx index", &keys::tx(id))
    }

    pub fn use_location(&self, id: &UseId) -> Result<Option<TxLocation>, StoreError> {
        self.get("use index", &keys::use_location(id))
    }

    /// Uses of a consumer's data, newest first, at most `limit`.
    pub fn uses_of(
        &self,
        consumer: &AccountId,
        limit: usize,
    ) -> Result<Vec<UseRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .tree
            .scan_prefix(keys::consumer_uses_prefix(consumer))
            .rev()
            .take(limit)
        {
            let (_, v) = item?;
            out.push(decode("use record", &v)?);
        }
        Ok(out)
    }

    /// Uses of a consumer's data at heights up to `up_to`, oldest first;
    /// at most `limit` (the caller asks for one more than it accepts to
    /// learn that there are too many).
    pub fn uses_up_to(
        &self,
        consumer: &AccountId,
        up_to: Height,
        limit: usize,
    ) -> Result<Vec<UseRecord>, StoreError> {
        self.range_up_to(
            keys::consumer_uses_prefix(consumer),
            up_to,
            limit,
            "use record",
        )
    }

    /// An account's history (`h/` index) at heights up to `up_to`, oldest
    /// first; at most `limit`.
    pub fn history_up_to(
        &self,
        account: &AccountId,
        up_to: Height,
        limit: usize,
    ) -> Result<Vec<HistoryRecord>, StoreError> {
        self.range_up_to(
            keys::account_events_prefix(account),
            up_to,
            limit,
            "history record",
        )
    }

    /// Records under `prefix` (keys `prefix ‖ height BE ‖ …`) at heights up
    /// to `up_to`, oldest first; at most `limit`.
    fn range_up_to<T: DeserializeOwned + Serialize>(
        &self,
        prefix: Vec<u8>,
        up_to: Height,
        limit: usize,
        what: &str,
    ) -> Result<Vec<T>, StoreError> {
        let end = [
            prefix.as_slice(),
            &(up_to.0.saturating_add(1)).to_be_bytes(),
        ]
        .concat();
        let mut out = Vec::new();
        for item in self.tree.range(prefix..end).take(limit) {
            let (_, v) = item?;
            out.push(decode(what, &v)?);
        }
        Ok(out)
    }

    /// Whether a block above `h` touched the account (an entry in its
    /// history or use index). `false` means the ledger state about the
    /// account is still what it was at `h`.
    pub fn touched_after(&self, account: &AccountId, h: Height) -> Result<bool, StoreError> {
        let Some(next) = h.0.checked_add(1) else {
            return Ok(false);
        };
        for prefix in [
            keys::account_events_prefix(account),
            keys::consumer_uses_prefix(account),
        ] {
            let start = [prefix.as_slice(), &next.to_be_bytes()].concat();
            if let Some(item) = self.tree.range(start..).next() {
                let (k, _) = item?;
                if k.starts_with(&prefix) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Keeps a proposed block until it is decided (ours by (height, round) too).
    pub fn save_undecided(
        &self,
        h: Height,
        hash: &BlockHash,
        bytes: &[u8],
        own_round: Option<u32>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(keys::undecided(h, hash), bytes);
        if let Some(r) = own_round {
            batch.insert(keys::own_proposal(h, r), hash.as_bytes().as_slice());
        }
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    pub fn undecided(&self, h: Height, hash: &BlockHash) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(keys::undecided(h, hash))?.map(|v| v.to_vec()))
    }

    /// The hash of the block this node proposed at (height, round), if any.
    pub fn own_proposal(&self, h: Height, round: u32) -> Result<Option<BlockHash>, StoreError> {
        Ok(self
            .tree
            .get(keys::own_proposal(h, round))?
            .and_then(|v| <[u8; 32]>::try_from(v.as_ref()).ok())
            .map(|b| BlockHash(Hash32(b))))
    }

    /// Drops proposals for heights up to and including `h`.
    pub fn prune_undecided(&self, h: Height) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for prefix in [b"v/".as_slice(), b"p/".as_slice()] {
            for item in self
                .tree
                .range(prefix.to_vec()..[prefix, &(h.0 + 1).to_be_bytes()].concat())
            {
                let (k, _) = item?;
                batch.remove(k);
            }
        }
        self.tree.apply_batch(batch)?;
        Ok(())
    }

    /// Bytes on disk (approximate).
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

impl StateRead for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerStoreError> {
        let generation = {
            let c = self.cache.lock();
            if let Some(v) = c.map.get(key) {
                return Ok(v.clone());
            }
            c.generation
        };
        let v = self
            .tree
            .get(keys::state(key))
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| LedgerStoreError::Io(e.to_string()))?;
        let mut c = self.cache.lock();
        if c.generation == generation {
            if c.map.len() >= STATE_CACHE_ENTRIES {
                c.map.clear();
            }
            c.map.insert(key.to_vec(), v.clone());
        }
        Ok(v)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Entries, LedgerStoreError> {
        let strip = keys::STATE.len();
        self.tree
            .scan_prefix(keys::state(prefix))
            .map(|r| {
                r.map(|(k, v)| (k[strip..].to_vec(), v.to_vec()))
                    .map_err(|e| LedgerStoreError::Io(e.to_string()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assent_contracts::crypto::Keypair;
    use assent_contracts::state::StateExt;
    use assent_genesis::{
        default_p2p_address, devnet_genesis, DevnetEnterprise, DevnetSpec, DevnetValidator,
    };

    fn genesis(chain: &str) -> assent_genesis::Genesis {
        let k = |i: u8| Keypair::from_seed([i; 32]).account();
        devnet_genesis(&DevnetSpec {
            chain_id: chain.into(),
            genesis_time: Timestamp(1_800_000_000_000),
            mint_authority: k(1),
            validators: vec![DevnetValidator {
                name: "v0".into(),
                operator_name: "op0".into(),
                consensus_key: k(2),
                operator_account: k(3),
                p2p_address: default_p2p_address(0),
            }],
            enterprise: Some(DevnetEnterprise::acme_retail(k(4))),
        })
        .unwrap()
    }

    #[test]
    fn a_committed_block_survives_reopening_and_another_genesis_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let g = genesis("assent-store-test");
        let head = {
            let store = Store::open(dir.path()).unwrap();
            let chain = crate::chain::Chain::open(store, &g).unwrap();
            let e = chain
                .build_block(
                    vec![],
                    Keypair::from_seed([2; 32]).account(),
                    Timestamp(1_800_000_001_000),
                )
                .unwrap();
            let cert = CommitCertificate {
                height: e.block.header.height,
                round: 0,
                block_hash: e.hash,
                signatures: vec![],
            };
            chain.remember(e.clone()).unwrap();
            chain
                .commit(e.block.header.height, e.hash, &cert, &|_| None)
                .unwrap();
            chain.head()
        };
        assert_eq!(head.height, Height(1));
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.init(&g).unwrap(),
            head,
            "the head is read back, genesis not rewritten"
        );
        assert!(store.block(Height(1)).unwrap().is_some());
        assert_eq!(store.params().unwrap(), *g.params());
        let other = genesis("assent-other-chain");
        assert!(matches!(
            store.init(&other),
            Err(StoreError::WrongChain { .. })
        ));
        assert_eq!(
            store.head().unwrap(),
            head,
            "refusing another genesis changes nothing"
        );
    }

    #[test]
    fn history_and_use_indexes_are_kept_per_account_and_height() {
        let store = Store::temporary().unwrap();
        let k = |i: u8| Keypair::from_seed([i; 32]).account();
        let (alice, bob, acme) = (k(10), k(11), k(12));
        let consent = assent_contracts::ConsentId(Hash32([1; 32]));
        let applied = |id: u8, events: Vec<Event>| TxResult {
            tx_id: TxId(Hash32([id; 32])),
            outcome: TxOutcome::Applied { events },
        };
        let commit = |h: u64, results: Vec<TxResult>| {
            let header = assent_contracts::BlockHeader {
                chain_id: "c".into(),
                height: Height(h),
                time: Timestamp(1000 * h),
                prev_hash: BlockHash(Hash32([0; 32])),
                txs_root: Hash32([0; 32]),
                results_root: Hash32([0; 32]),
                state_root: Hash32([0; 32]),
                proposer: acme,
            };
            let out = BlockOutput {
                writes: Default::default(),
                results,
                end_events: vec![],
                state_root: Hash32([0; 32]),
                results_root: Hash32([0; 32]),
                txs_root: Hash32([0; 32]),
            };
            let cert = CommitCertificate {
                height: Height(h),
                round: 0,
                block_hash: header.hash(),
                signatures: vec![],
            };
            let block = Block {
                header,
                txs: vec![],
            };
            store.commit_block(&block, &cert, &out).unwrap();
        };
        commit(
            1,
            vec![
                applied(
                    1,
                    vec![Event::ConsentGranted {
                        consent,
                        consumer: alice,
                        enterprise: acme,
                    }],
                ),
                applied(
                    2,
                    vec![Event::Transferred {
                        from: acme,
                        to: alice,
                        amount: assent_contracts::Amount(5),
                    }],
                ),
            ],
        );
        commit(
            2,
            vec![applied(
                3,
                vec![Event::ConsentPaused {
                    consent,
                    consumer: alice,
                    enterprise: acme,
                }],
            )],
        );
        let all = store.history_up_to(&alice, Height(2), 100).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            (all[0].height, all[0].tx_index, all[0].time),
            (Height(1), 0, Timestamp(1000))
        );
        assert!(matches!(all[2].event, Event::ConsentPaused { .. }));
        assert_eq!(
            store.history_up_to(&alice, Height(1), 100).unwrap().len(),
            2
        );
        assert_eq!(store.history_up_to(&alice, Height(2), 1).unwrap().len(), 1);
        assert_eq!(
            store.history_up_to(&acme, Height(2), 100).unwrap().len(),
            1,
            "the sender of a transfer"
        );
        assert!(store
            .history_up_to(&bob, Height(2), 100)
            .unwrap()
            .is_empty());
        assert!(store.touched_after(&alice, Height(1)).unwrap());
        assert!(!store.touched_after(&alice, Height(2)).unwrap());
        assert!(!store.touched_after(&acme, Height(1)).unwrap());
        assert!(store.uses_up_to(&alice, Height(2), 10).unwrap().is_empty());
    }

    #[test]
    fn garbage_in_the_store_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("conf"), b"\xff\xfe garbage").unwrap();
        std::fs::write(dir.path().join("db"), vec![0xabu8; 4096]).unwrap();
        match Store::open(dir.path()) {
            Err(e) => assert!(e.to_string().contains("cannot open the store"), "{e}"),
            Ok(s) => {
                // sled may rebuild an unreadable log; the store must then be empty, not half-read.
                assert!(s.head().is_err());
            }
        }
    }
}
