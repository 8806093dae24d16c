//! Helpers shared by the genesis tests.
#![allow(dead_code)]

use std::path::PathBuf;

use assent_contracts::crypto::Keypair;
use assent_contracts::AccountId;
use assent_genesis::{Genesis, GenesisError};

pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// The text of `genesis/examples/<name>`.
pub fn example(name: &str) -> String {
    let path = examples_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The account of test seed `[n; 32]` (the seeds the example files use).
pub fn key(n: u8) -> AccountId {
    Keypair::from_seed([n; 32]).account()
}

/// `text` with `from` replaced by `to` exactly once (fails loudly if absent).
pub fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is not in the text");
    text.replacen(from, to, 1)
}

/// The message of the error `text` must be refused with.
pub fn refused(text: &str) -> String {
    match Genesis::from_toml_str(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

/// The `(field, problem)` of the validation error `text` must be refused with.
pub fn invalid(text: &str) -> (String, String) {
    match Genesis::from_toml_str(text) {
        Err(GenesisError::Invalid { field, problem }) => (field, problem),
        other => panic!("expected a validation error, got {other:?}"),
    }
}
