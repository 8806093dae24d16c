//! `assent genesis new` writes a valid genesis and a keystore a new user can
//! list; `assent genesis validate` names the offending field of a bad file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

#[test]
fn genesis_new_writes_a_valid_genesis_and_lists_its_keys() {
    let home = Home::new();
    let net = home.file("net");
    let net = net.to_str().unwrap();
    let out = home.ok(&[
        "--output",
        "json",
        "genesis",
        "new",
        "--validators",
        "4",
        "--out",
        net,
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hash = v["genesis_hash"].as_str().unwrap().to_string();
    assert_eq!(v["keys"].as_array().unwrap().len(), 11);
    let chain = v["chain_id"].as_str().unwrap().to_string();
    assert!(
        chain.starts_with("assent-") && !chain.starts_with("assent-devnet-"),
        "without --chain-id a network gets an id of its own, not a devnet's: {chain}"
    );

    let list = home.ok(&["keys", "list", "--home", net]);
    for name in [
        "validator-0",
        "validator-3",
        "operator-0",
        "operator-3",
        "mint",
        "acme",
        "alice",
    ] {
        assert!(
            list.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{list}"
        );
    }
    // The keys unlock with the passphrase they were made with.
    let alice = home
        .ok(&["keys", "show", "alice", "--home", net])
        .trim()
        .to_string();
    let genesis = format!("{net}/genesis.toml");
    let text = std::fs::read_to_string(&genesis).unwrap();
    let acme = home
        .ok(&["keys", "show", "acme", "--home", net])
        .trim()
        .to_string();
    assert!(text.contains(&acme), "acme is pre-admitted");
    assert!(!text.contains(&alice), "consumers need no genesis entry");

    let checked = home.ok(&["--output", "json", "genesis", "validate", &genesis]);
    let c: serde_json::Value = serde_json::from_str(&checked).unwrap();
    assert_eq!(c["genesis_hash"].as_str().unwrap(), hash);
    assert_eq!(c["validators"], 4);
    assert_eq!(c["total_supply"], 1_000_000);
    let text = home.ok(&["genesis", "validate", &genesis]);
    assert!(
        text.contains("is a valid genesis") && text.contains(&hash),
        "{text}"
    );

    // A second `new` into the same directory is refused and changes nothing.
    let err = home.fails(&["genesis", "new", "--out", net]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        home.ok(&["--output", "json", "genesis", "validate", &genesis]),
        checked
    );
}

#[test]
fn a_malformed_genesis_is_refused_with_the_field_named() {
    let home = Home::new();
    let net = home.file("net");
    let net = net.to_str().unwrap();
    home.ok(&[
        "genesis",
        "new",
        "--validators",
        "2",
        "--out",
        net,
        "--chain-id",
        "acme-consent-1",
    ]);
    let genesis = format!("{net}/genesis.toml");
    let good = std::fs::read_to_string(&genesis).unwrap();

    let cases = [
        (
            good.replace("operator_share_bps = 1000", "operator_share_bps = 12000"),
            "params.operator_share_bps",
        ),
        (
            good.replace("operator_share_bps = 1000", "operator_share_bps = \"lots\""),
            "operator_share_bps",
        ),
        (
            good.replace("sector = \"retail\"", "sector = \"bakery\""),
            "enterprises[0].sector",
        ),
        (
            good.replace("chain_id = \"acme-consent-1\"", "chain_id = \"Not OK!\""),
            "chain_id",
        ),
        (
            good.replace("mint_authority", "mint_authorityy"),
            "mint_authority",
        ),
        (
            good.replacen("[[validators]]", "[[validatorz]]", 1),
            "validatorz",
        ),
    ];
    for (i, (text, field)) in cases.iter().enumerate() {
        assert_ne!(text, &good, "case {i} did not change the file");
        let bad = home.file(&format!("bad{i}.toml"));
        std::fs::write(&bad, text).unwrap();
        let err = home.fails(&["genesis", "validate", bad.to_str().unwrap()]);
        assert!(
            err.contains(field),
            "case {i}: error does not name `{field}`: {err}"
        );
    }
    let missing = home.fails(&["genesis", "validate", "/nonexistent/genesis.toml"]);
    assert!(missing.contains("/nonexistent/genesis.toml"), "{missing}");
    let err = home.fails(&[
        "genesis",
        "new",
        "--validators",
        "0",
        "--out",
        home.file("x").to_str().unwrap(),
    ]);
    assert!(err.contains("--validators"), "{err}");
    let err = home.fails(&[
        "genesis",
        "new",
        "--out",
        home.file("y").to_str().unwrap(),
        "--genesis-time",
        "yesterday",
    ]);
    assert!(err.contains("--genesis-time"), "{err}");
    assert!(
        !home.file("y").join("keys").exists(),
        "nothing is written when the input is bad"
    );
}

/// `assent --output json genesis new --validators 1 --out DIR [extra]`, parsed.
fn new_network(home: &Home, dir: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "--output",
        "json",
        "genesis",
        "new",
        "--validators",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&home.ok(&args)).unwrap()
}

#[test]
fn every_new_network_has_a_chain_id_of_its_own() {
    let home = Home::new();
    let ids: Vec<String> = (0..2)
        .map(|i| {
            let dir = home.file(&format!("net{i}"));
            let v = new_network(&home, &dir, &[]);
            let id = v["chain_id"].as_str().unwrap().to_string();
            let text = std::fs::read_to_string(dir.join("genesis.toml")).unwrap();
            assert!(text.contains(&format!("chain_id = \"{id}\"")), "{text}");
            id
        })
        .collect();
    assert_ne!(ids[0], ids[1], "two networks made the same way collide");

    // A devnet's id is refused, naming the flag, and nothing is written.
    let dir = home.file("prod");
    let err = home.fails(&[
        "genesis",
        "new",
        "--out",
        dir.to_str().unwrap(),
        "--chain-id",
        "assent-devnet-1",
    ]);
    assert!(
        err.contains("--chain-id") && err.contains("assent devnet up"),
        "{err}"
    );
    assert!(!dir.exists(), "nothing is written when the input is bad");

    // An id of the network's own is used as given.
    let v = new_network(&home, &dir, &["--chain-id", "acme-prod-7"]);
    assert_eq!(v["chain_id"], "acme-prod-7");
}
