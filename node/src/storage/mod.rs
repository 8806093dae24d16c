//! The node's storage: the block journal (committed chain), ledger state in
//! memory over a sled checkpoint, the query indexes and the consensus
//! scratch, behind one [`Store`]; see `store.rs` for the whole picture.

pub mod backend;
pub mod cache;
mod chain_reads;
mod config;
pub mod disk;
mod entry;
mod index_reads;
pub mod install;
pub mod journal;
mod journal_error;
mod journal_record;
pub mod keys;
pub mod mem;
pub mod metrics;
pub mod persister;
pub mod proofs;
pub mod records;
mod run_file;
mod run_filter;
pub mod runs;
mod scratch;
pub mod snapshots;
pub mod state;
pub mod store;
mod tournament;
pub mod tree_pages;
pub mod trees;

#[cfg(test)]
mod conformance;

pub use backend::{Backend, StoreError};
pub use entry::Entry;
pub use metrics::StorageMetrics;
pub use records::{BlockResults, Checkpoint, Head, HistoryRecord, TxLocation, UseRecord};
pub use state::{StateLimits, StateSnapshot};
pub(crate) use store::{decode, enc, StoreCore};
pub use store::{Store, StoreConfig};
pub use trees::NotKept;
