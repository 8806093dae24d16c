//! Command groups of the `assent` binary, one module each, and what they share.

pub mod account;
pub mod bench;
pub mod consent;
pub mod consumer;
pub mod context;
pub mod devnet;
pub mod enterprise;
pub mod export;
pub mod genesis;
pub mod get;
pub mod gov;
pub mod keyctl;
pub mod keys;
pub mod links;
pub mod outcome;
pub mod pairwise;
pub mod passphrase;
pub mod policy;
pub mod query;
pub mod receipt;
pub mod request;
pub mod send;
pub mod status;
pub mod tags;
pub mod tx;
pub mod usage;
