//! The ledger as this node runs it, and its one writer: [`chain`] builds
//! blocks from the mempool, validates proposals by re-executing them, keeps
//! the executed-but-undecided ones, and commits decided blocks through
//! [`crate::storage`]; [`replay`] re-executes a stopped node's stored chain
//! from genesis and checks every block (`assentd replay`).

pub mod chain;
pub mod replay;
