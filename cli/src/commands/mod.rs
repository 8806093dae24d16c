//! Command groups of the `assent` binary, one module each.

pub mod context;
pub mod genesis;
pub mod keys;
pub mod passphrase;
pub mod tx;
