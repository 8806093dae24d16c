//! Reads of the query indexes (written by [`crate::index`]).

use std::sync::atomic::Ordering;

use assent_contracts::{AccountId, Height, TxId, UseId};
use serde::de::DeserializeOwned;

use super::backend::{Entries, StoreError};
use super::keys;
use super::records::{HistoryRecord, TxLocation, UseRecord};
use super::store::decode;
use super::Store;

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
        let prefix = keys::consumer_uses_prefix(consumer);
        self.decode_all(
            "use record",
            self.core()
                .runs
                .range(&prefix, &keys::prefix_end(&prefix), true, limit)?,
        )
    }

    /// Uses of a consumer's data at heights up to `up_to`, oldest first; at
    /// most `limit` (ask for one more than accepted to learn there are more).
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

    /// An account's history (`h/` index) at heights up to `up_to`, oldest first.
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

    fn range_up_to<T: DeserializeOwned>(
        &self,
        prefix: Vec<u8>,
        up_to: Height,
        limit: usize,
        what: &str,
    ) -> Result<Vec<T>, StoreError> {
        let end = match up_to.0.checked_add(1) {
            Some(next) => keys::at_height(&prefix, next),
            None => keys::prefix_end(&prefix),
        };
        self.decode_all(what, self.core().runs.range(&prefix, &end, false, limit)?)
    }

    fn decode_all<T: DeserializeOwned>(
        &self,
        what: &str,
        entries: Entries,
    ) -> Result<Vec<T>, StoreError> {
        entries.iter().map(|(_, v)| decode(what, v)).collect()
    }
}
