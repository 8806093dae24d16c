//! The ledger as this node runs it, and its one writer: [`chain`] builds
//! blocks from the mempool, validates proposals by re-executing them, keeps
//! the executed-but-undecided ones, and commits decided blocks through
//! [`crate::storage`]; [`replay`] re-executes a stopped node's stored chain
//! from genesis and checks every block (`assentd replay`); [`state_sync`]
//! starts a node with no store from a peer's verified state snapshot;
//! [`follow`] keeps a node that does not vote (a full node, a validator
//! not yet admitted) on the chain from its peers' certified blocks.

pub mod budget;
pub mod chain;
pub mod follow;
pub mod peer_reads;
pub mod replay;
pub mod state_sync;
