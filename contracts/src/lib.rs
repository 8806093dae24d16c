//! # assent-contracts: the deterministic ledger
//!
//! Types, the canonical codec, signatures, transactions, ledger state, the
//! built-in contracts and block execution of assent, a permissioned ledger on
//! which consumers grant and revoke consent and enterprises pay for each use.
//!
//! Invariants this crate keeps:
//! - **Pure.** No clock, disk, network or random source: time is the
//!   block header's, randomness (only to blind batch signature checks, which
//!   cannot change an answer) is passed in. Same state + same block = same
//!   writes, results and state root on every machine. The one thread it
//!   starts hashes a block's results tree while the caller's thread updates
//!   the state tree (`block::execute_block`); each root is a function of its
//!   inputs alone, so which thread computed it never shows.
//! - **Deterministic bytes.** One codec ([`codec`]) for everything signed,
//!   hashed or stored; only ordered collections; integers, never floats.
//! - **Consent is checked at the block.** A use settles only if a consent or
//!   policy of that consumer covers it at the block that includes it; a
//!   revocation or pause binds from the block that contains it.
//! - **Points are conserved.** Only Mint changes total supply; balances never
//!   go negative; consumers never pay to grant, revoke or read.
//! - **One signature rule** (ZIP-215 via `ed25519-consensus`), single and
//!   batch alike, with a domain tag per kind of signed message and the chain
//!   id in every transaction signature.

#![forbid(unsafe_code)]

pub mod block;
pub mod codec;
pub mod commit;
pub mod consent_proof;
pub mod crypto;
pub mod error;
pub mod events;
pub mod genesis_state;
pub mod identity;
pub mod ids;
pub mod merkle;
pub mod ranking;
pub mod receipt;
pub mod referral;
pub mod snapshot;
pub mod state;
pub mod state_proof;
pub mod tags;
pub mod terms;
pub mod tx;
pub mod use_tree;
pub mod validator_history;

pub use block::{execute_block, Block, BlockHeader, BlockOutput};
pub use error::{ErrorCode, TxError};
pub use events::Event;
pub use genesis_state::InitialState;
pub use ids::*;
pub use tx::{BlockContext, Payload, SignedTx, TxBody, TxOutcome, TxResult, VerifiedTx};
