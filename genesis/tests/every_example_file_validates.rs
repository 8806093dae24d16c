//! Every file in genesis/examples/ loads, validates and round-trips; new
//! examples are covered without editing this test.

// Tests fail by panicking; the workspace's no-panic lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_genesis::Genesis;

#[test]
fn every_example_file_validates() {
    let mut seen = 0;
    let entries = std::fs::read_dir(common::examples_dir()).expect("examples dir");
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let g = Genesis::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let again = Genesis::from_toml_str(&g.to_toml_string())
            .unwrap_or_else(|e| panic!("{} written back: {e}", path.display()));
        assert_eq!(again, g, "{}", path.display());
        assert_eq!(again.hash(), g.hash());
        assert!(g.initial_state().writes().is_ok());
        seen += 1;
    }
    assert!(
        seen >= 2,
        "expected at least the two shipped examples, found {seen}"
    );
}

#[test]
fn four_validator_example_has_what_its_comments_say() {
    let g = Genesis::from_toml_str(&common::example("four-validators.toml")).expect("valid");
    assert_eq!(g.chain_id(), "assent-devnet-1");
    assert_eq!(g.validators().len(), 4);
    assert_eq!(g.operators().len(), 4);
    assert_eq!(g.enterprises().len(), 2);
    assert_eq!(g.total_supply().0, 1_250_000);
    assert_eq!(g.total_power(), 4);
    assert_eq!(g.mint_authority(), common::key(1));
    assert_eq!(g.enterprises()[0].account, common::key(10));
    assert_eq!(g.genesis_time().0, 1_795_305_600_000);
}
