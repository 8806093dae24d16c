//! # assent-node: the `assentd` validator node
//!
//! Runs one validator of an assent chain: Malachite BFT consensus (all engine
//! types stay in [`consensus`]), a mempool fed by the HTTP API and by tx gossip
//! on the node's own libp2p swarm, block execution by the pure
//! `assent-contracts` crate, and [`storage`]: an append-only block journal
//! (the commit point), ledger state in memory persisted to sled in the
//! background, and query indexes built behind the commit ([`index`]).
//!
//! Invariants: a block is durable before consensus is told it is committed;
//! a failed store write stops the node (it never carries on half-written);
//! every tx in a committed block was signature-checked and executed here.

#![forbid(unsafe_code)]

pub mod api;
pub mod config;
pub mod consensus;
pub mod fuzzing;
pub mod gossip;
pub mod index;
pub mod ledger;
pub mod mempool;
pub mod metrics;
pub mod query;
pub mod run;
pub mod shared;
pub mod storage;
