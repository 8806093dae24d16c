//! `assent receipt verify` refuses a malformed or forged state proof and a
//! malformed validator-set file with one line naming what is wrong, and
//! `assent consent receipt` refuses flags that do not go together before it
//! asks any node.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{hex32, Home};

fn genesis(home: &Home) -> String {
    let dir = home.file("chain");
    home.ok(&[
        "genesis",
        "new",
        "--out",
        dir.to_str().unwrap(),
        "--chain-id",
        "proof-test-1",
    ]);
    dir.join("genesis.toml").to_str().unwrap().to_string()
}

fn verify_fails(home: &Home, genesis: &str, name: &str, content: &str, extra: &[&str]) -> String {
    let path = home.file(name);
    std::fs::write(&path, content).unwrap();
    let mut args = vec![
        "receipt",
        "verify",
        path.to_str().unwrap(),
        "--genesis",
        genesis,
    ];
    args.extend_from_slice(extra);
    home.fails(&args)
}

#[test]
fn malformed_and_forged_state_proofs_are_refused_by_name() {
    let home = Home::new();
    let g = genesis(&home);
    let line = verify_fails(
        &home,
        &g,
        "fields.json",
        r#"{"version": "assent-state-proof/1", "chain_id": "proof-test-1"}"#,
        &[],
    );
    assert!(line.contains("a malformed state proof"), "{line}");

    // Well formed, but the header is junk.
    let proof = serde_json::json!({
        "version": "assent-state-proof/1",
        "chain_id": "proof-test-1",
        "genesis_hash": hex32(0),
        "record": {"kind": "consent", "id": hex32(1)},
        "height": 3,
        "value": null,
        "proof": {"siblings": [], "end": "empty"},
        "header": "00",
        "certificate": "00",
    });
    let line = verify_fails(&home, &g, "other.json", &proof.to_string(), &[]);
    assert!(line.contains("from another chain"), "{line}");
    // With the right genesis hash the junk header is named.
    let v: serde_json::Value =
        serde_json::from_str(&home.ok(&["--output", "json", "genesis", "validate", &g])).unwrap();
    let mut p = proof.clone();
    p["genesis_hash"] = v["genesis_hash"].clone();
    let line = verify_fails(&home, &g, "junk.json", &p.to_string(), &[]);
    assert!(line.contains("field header does not decode"), "{line}");
}

#[test]
fn a_malformed_validator_set_file_is_refused_before_any_receipt() {
    let home = Home::new();
    let g = genesis(&home);
    let sets = home.file("sets.json");
    std::fs::write(&sets, "[1, 2, 3]").unwrap();
    let line = verify_fails(
        &home,
        &g,
        "any.json",
        "{}",
        &["--validator-sets", sets.to_str().unwrap()],
    );
    assert!(line.contains("--validator-sets"), "{line}");
    assert!(
        line.contains("not the JSON of GET /v1/validator-sets"),
        "{line}"
    );
    let line = verify_fails(
        &home,
        &g,
        "any.json",
        "{}",
        &[
            "--validator-sets",
            home.file("missing.json").to_str().unwrap(),
        ],
    );
    assert!(line.contains("--validator-sets"), "{line}");
}

#[test]
fn status_proof_flags_that_do_not_go_together_are_refused_before_asking_a_node() {
    let home = Home::new();
    let id = hex32(7);
    // No node listens at this address: a refusal here comes before any request.
    let receipt = |flags: &[&str]| {
        let mut args = vec!["--node", "http://127.0.0.1:9", "consent", "receipt", &id];
        args.extend_from_slice(flags);
        home.fails(&args)
    };
    let line = receipt(&["--height", "3"]);
    assert!(
        line.contains("--height") && line.contains("--format status"),
        "{line}"
    );
    let line = receipt(&["--format", "status", "--tx", &id]);
    assert!(line.contains("--tx") && line.contains("--height"), "{line}");
}
