//! Reads of the query indexes (written by [`crate::index`]).

use std::sync::atomic::Ordering;

use assent_contracts::tx::TxOutcome;
use assent_contracts::{AccountId, Event, Height, Timestamp, TxId, UseId};
use serde::de::DeserializeOwned;

use super::backend::{Entries, StoreError};
use super::keys;
use super::records::{BlockResults, HistoryRecord, TxLocation, UseRecord};
use super::store::decode;
use super::{Store, StoreCore};

impl Store {
    /// Whether this node keeps the query indexes (`[index] enabled`).
    pub fn index_enabled(&self) -> bool {
        self.core().index_enabled
    }

    /// Every block up to this height is fully indexed (0 when indexing is off).
    pub fn indexed_height(&self) -> Height {
        Height(self.core().indexed.load(Ordering::Acquire))
    }

    fn index_get<T: DeserializeOwned>(
        &self,
        what: &str,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.core().runs.get(key)? {
            Some(v) => decode(what, &v).map(Some),
            None => Ok(None),
        }
    }

    pub fn tx_location(&self, id: &TxId) -> Result<Option<TxLocation>, StoreError> {
        self.index_get("tx index", &keys::tx(id))
    }

    pub fn use_location(&self, id: &UseId) -> Result<Option<TxLocation>, StoreError> {
        self.index_get("use index", &keys::use_location(id))
    }

    /// Uses of a consumer's data, newest first, at most `limit`.
    pub fn uses_of(
        &self,
        consumer: &AccountId,
        limit: usize,
    ) -> Result<Vec<UseRecord>, StoreError> {
        let entries = self.newest(keys::consumer_uses_prefix(consumer), limit)?;
        let mut at = Resolver::new(self.core());
        entries.iter().map(|(k, _)| at.use_record(k)).collect()
    }

    /// Uses of a consumer's data at heights up to `up_to`, oldest first; at
    /// most `limit` (ask for one more than accepted to learn there are more).
    pub fn uses_up_to(
        &self,
        consumer: &AccountId,
        up_to: Height,
        limit: usize,
    ) -> Result<Vec<UseRecord>, StoreError> {
        let entries = self.range_up_to(keys::consumer_uses_prefix(consumer), up_to, limit)?;
        let mut at = Resolver::new(self.core());
        entries.iter().map(|(k, _)| at.use_record(k)).collect()
    }

    /// An account's history (`h/` index) at heights up to `up_to`, oldest first.
    pub fn history_up_to(
        &self,
        account: &AccountId,
        up_to: Height,
        limit: usize,
    ) -> Result<Vec<HistoryRecord>, StoreError> {
        let entries = self.range_up_to(keys::account_events_prefix(account), up_to, limit)?;
        let mut at = Resolver::new(self.core());
        entries
            .iter()
            .map(|(k, v)| at.history_record(k, v))
            .collect()
    }

    /// The newest entry of an account's history whose event `wanted`,
    /// looking at the newest `scan` entries only. Blocks are read one at a
    /// time, newest first, until one matches.
    pub fn latest_history(
        &self,
        account: &AccountId,
        scan: usize,
        wanted: impl Fn(&Event) -> bool,
    ) -> Result<Option<HistoryRecord>, StoreError> {
        let entries = self.newest(keys::account_events_prefix(account), scan)?;
        let mut at = Resolver::new(self.core());
        for (k, v) in &entries {
            let rec = at.history_record(k, v)?;
            if wanted(&rec.event) {
                return Ok(Some(rec));
            }
        }
        Ok(None)
    }

    /// The newest `limit` entries under `prefix`, newest first.
    fn newest(&self, prefix: Vec<u8>, limit: usize) -> Result<Entries, StoreError> {
        self.core()
            .runs
            .range(&prefix, &keys::prefix_end(&prefix), true, limit)
    }

    fn range_up_to(
        &self,
        prefix: Vec<u8>,
        up_to: Height,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        let end = match up_to.0.checked_add(1) {
            Some(next) => keys::at_height(&prefix, next),
            None => keys::prefix_end(&prefix),
        };
        self.core().runs.range(&prefix, &end, false, limit)
    }
}

/// Resolves `u/` and `h/` entries, which hold only the event's position in
/// their key, against the journaled results of the block they point into.
/// The entries of one range come in height order, so each block's results
/// are decoded once and only one block's are held at a time.
struct Resolver<'a> {
    core: &'a StoreCore,
    block: Option<(Height, Timestamp, BlockResults)>,
}

/// What an index key points at: the tx, its block's time and its events,
/// and the key's last number (use index or event number).
struct Pointed<'b> {
    height: Height,
    tx_index: u32,
    n: u32,
    time: Timestamp,
    tx_id: TxId,
    events: &'b [Event],
}

impl<'a> Resolver<'a> {
    fn new(core: &'a StoreCore) -> Resolver<'a> {
        Resolver { core, block: None }
    }

    /// The tx at `(h, tx)`, its block's time and its events.
    fn events(&mut self, what: &str, key: &[u8]) -> Result<Pointed<'_>, StoreError> {
        let corrupt = |why: String| StoreError::Corrupt {
            what: what.to_string(),
            why,
        };
        let (h, tx, n) = keys::position(key)
            .ok_or_else(|| corrupt(format!("a key of {} bytes has no position", key.len())))?;
        if self.block.as_ref().is_none_or(|(at, ..)| *at != h) {
            let (header, results) = self
                .core
                .results_at(h)?
                .ok_or_else(|| corrupt(format!("points at block {h}, which is not committed")))?;
            self.block = Some((h, header.time, results));
        }
        let Some((_, time, results)) = self.block.as_ref() else {
            return Err(corrupt(format!("block {h} was not read")));
        };
        let r = results
            .results
            .get(tx as usize)
            .ok_or_else(|| corrupt(format!("points at tx {tx} of block {h}, which has fewer")))?;
        let TxOutcome::Applied { events } = &r.outcome else {
            return Err(corrupt(format!(
                "points at tx {tx} of block {h}, which was rejected"
            )));
        };
        Ok(Pointed {
            height: h,
            tx_index: tx,
            n,
            time: *time,
            tx_id: r.tx_id,
            events,
        })
    }

    fn use_record(&mut self, key: &[u8]) -> Result<UseRecord, StoreError> {
        let Pointed {
            height,
            tx_index,
            n: index,
            time,
            tx_id,
            events,
        } = self.events("use index", key)?;
        let event = events
            .iter()
            .find(|e| {
                matches!(e, Event::UseSettled { index: i, .. } | Event::UseRejected { index: i, .. } if *i == index)
            })
            .cloned()
            .ok_or_else(|| StoreError::Corrupt {
                what: "use index".into(),
                why: format!("tx {tx_index} of block {height} has no use {index}"),
            })?;
        Ok(UseRecord {
            height,
            time,
            tx_id,
            tx_index,
            event,
        })
    }

    fn history_record(&mut self, key: &[u8], kind: &[u8]) -> Result<HistoryRecord, StoreError> {
        let Pointed {
            height,
            tx_index,
            n,
            time,
            tx_id,
            events,
        } = self.events("history index", key)?;
        let event = events
            .get(n as usize)
            .cloned()
            .ok_or_else(|| StoreError::Corrupt {
                what: "history index".into(),
                why: format!("tx {tx_index} of block {height} has no event {n}"),
            })?;
        let tx_kind = std::str::from_utf8(kind)
            .map_err(|_| StoreError::Corrupt {
                what: "history index".into(),
                why: format!("the tx kind at block {height}, tx {tx_index} is not UTF-8"),
            })?
            .to_string();
        Ok(HistoryRecord {
            height,
            time,
            tx_id,
            tx_index,
            tx_kind,
            event,
        })
    }
}
