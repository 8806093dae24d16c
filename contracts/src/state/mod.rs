//! Ledger state: the store seam, keys, records and typed access.

mod access;
mod control;
pub mod keys;
mod records;
mod store;
pub mod tree;

pub use access::StateExt;
pub use control::{ControlExt, Guardians, KeyRole, Recovery};
pub use records::*;
pub use store::{Entries, MemStore, Overlay, StateRead, StoreError, Writes};
pub use tree::StateTree;
