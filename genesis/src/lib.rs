//! # assent-genesis: the genesis file
//!
//! The human-readable TOML file that defines an assent chain, its validation,
//! its hash, and helpers to write a local devnet's. Everything validators must
//! agree on (chain id, validator set, operators, parameters, pre-admitted
//! enterprises, initial balances) lives here and only here, never in a node's
//! config. Example files are in `genesis/examples/`.
//!
//! ```toml
//! chain_id = "assent-devnet-1"          # 1..=64 characters of a-z, 0-9, -
//! genesis_time = "2026-11-22T00:00:00Z" # RFC 3339 UTC
//! mint_authority = "assent1…"
//!
//! [params]                # every key optional; defaults are Params::default()
//! operator_share_bps = 1000
//!
//! [[operators]]
//! name = "Operator A"
//! account = "assent1…"
//!
//! [[validators]]
//! name = "validator-0"
//! consensus_key = "assent1…"           # ed25519 key, account form
//! power = 1                             # optional, default 1
//! p2p_address = "/ip4/127.0.0.1/tcp/26600"
//! operator = "assent1…"                 # one of the operators' accounts
//!
//! [[enterprises]]                       # optional, admitted and active at height 0
//! name = "Acme Retail"
//! account = "assent1…"
//! sector = "retail"
//! jurisdiction = "EU"                   # optional
//! policy_url = "https://acme-retail.example/privacy" # optional
//!
//! [[balances]]                          # optional
//! account = "assent1…"
//! amount = 1000000
//!
//! [referral]              # optional: the advocacy share (without it none is paid)
//! share_bps = 500         # of each referred consumer's settled use, out of the operators' share
//! max_points = 1000       # per referral; 0 = no cap
//! period_ms = 15552000000 # after the referral; 0 = no limit (one of the two bounds is required)
//! ```
//!
//! Invariants:
//! - **A [`Genesis`] is always valid.** It is only built by validation
//!   ([`Genesis::load`], [`Genesis::from_toml_str`], [`Genesis::from_file`],
//!   [`devnet_genesis`]) and is immutable. Validation checks everything the
//!   chain relies on and reports the first problem as
//!   `path.to.key: what is wrong; what to do`; unknown keys are refused.
//!   No input, however malformed, makes it panic.
//! - **One hash per set of values.** [`Genesis::hash`] covers the canonical
//!   codec bytes of the validated values under the tag `assent/genesis/v1`:
//!   comments and layout do not change it, any value (or list order) does.
//! - **Round trip.** [`Genesis::to_toml_string`] loads back to an equal
//!   `Genesis` with the same hash.
//! - **The contracts agree.** Parameters pass
//!   `assent_contracts::tx::check_params`, free text fits the contracts'
//!   limits, and [`Genesis::initial_state`] always builds.
//! - **Pure.** No clock or randomness: times and keys come in from the caller.

mod devnet;
mod error;
mod file;
mod genesis;
pub mod time;
mod toml_out;
mod validate;

pub use devnet::{
    default_p2p_address, devnet_genesis, is_devnet_chain_id, DevnetEnterprise, DevnetSpec,
    DevnetValidator, DEVNET_BASE_PORT, DEVNET_CHAIN_ID, DEVNET_CHAIN_ID_PREFIX,
};
pub use error::GenesisError;
pub use file::{
    BalanceEntry, EnterpriseEntry, GenesisFile, OperatorEntry, ParamsFile, ReferralFile,
    ValidatorEntry,
};
pub use genesis::{Genesis, GenesisBalance, GenesisEnterprise, GenesisValidator, GENESIS_HASH_TAG};
pub use validate::MAX_CHAIN_ID_LEN;
