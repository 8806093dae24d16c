//! `assent devnet up` lays out DIR as docs/node-interfaces.md says (genesis
//! and keys from the `genesis new` code path; node-i with config.toml, a
//! genesis copy and only its own validator key, unlocking with the devnet
//! passphrase), and on later runs resumes instead of regenerating.
//! `--no-start` stops after the layout, so no `assentd` is needed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{expect_clean_failure, expect_ok, json, Home};

/// `assent devnet up --no-start` in `dir`, with the devnet passphrase (ASSENT_PASSPHRASE unset).
fn up(home: &Home, dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--output",
        "json",
        "devnet",
        "up",
        "--no-start",
        "--home",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    home.cmd(&args)
        .env_remove("ASSENT_PASSPHRASE")
        .output()
        .unwrap()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A TOML list of strings.
fn strings(v: &toml::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

/// `f` of every node of a 3-node devnet but `i`.
fn others(i: u16, f: impl Fn(u16) -> String) -> Vec<String> {
    (0..3u16).filter(|j| *j != i).map(f).collect()
}

#[test]
fn first_run_writes_the_contracts_layout() {
    let home = Home::new();
    let dir = home.file("devnet");
    let v = json(&expect_ok(
        up(&home, &dir, &["--validators", "3"]),
        &["devnet", "up"],
    ));
    assert_eq!(v["created"], true);
    assert_eq!(v["chain_id"], "assent-devnet-1");
    assert_eq!(v["nodes"].as_array().unwrap().len(), 3);

    let genesis = read(&dir.join("genesis.toml"));
    let g: toml::Table = String::from_utf8(genesis.clone()).unwrap().parse().unwrap();
    let validators = g["validators"].as_array().unwrap();
    assert_eq!(validators.len(), 3);
    assert_eq!(
        std::fs::read_dir(dir.join("keys")).unwrap().count(),
        3 * 2 + 3,
        "validator-N, operator-N, mint, acme, alice"
    );

    for i in 0..3u16 {
        let node = dir.join(format!("node-{i}"));
        let base = 26600 + 10 * i;
        let text = String::from_utf8(read(&node.join("config.toml"))).unwrap();
        let c: toml::Table = text.parse().unwrap();
        // Exactly the contract's sections; nothing a strict parser would refuse.
        let mut sections: Vec<&str> = c.keys().map(String::as_str).collect();
        sections.sort_unstable();
        assert_eq!(
            sections,
            ["api", "keys", "log", "moniker", "p2p", "state_sync"],
            "{text}"
        );
        assert_eq!(
            c["moniker"].as_str(),
            Some(format!("validator-{i}").as_str())
        );
        assert_eq!(
            c["keys"]["validator_key"].as_str(),
            Some(format!("validator-{i}").as_str())
        );
        let p2p = c["p2p"].as_table().unwrap();
        assert_eq!(
            p2p["listen"].as_str().unwrap(),
            format!("/ip4/127.0.0.1/tcp/{base}")
        );
        assert_eq!(
            p2p["gossip_listen"].as_str().unwrap(),
            format!("/ip4/127.0.0.1/tcp/{}", base + 1)
        );
        assert_eq!(
            strings(&p2p["peers"]),
            others(i, |j| format!("/ip4/127.0.0.1/tcp/{}", 26600 + 10 * j))
        );
        assert_eq!(p2p["gossip_peers"].as_array().unwrap().len(), 2);
        assert_eq!(
            c["api"]["listen"].as_str().unwrap(),
            format!("127.0.0.1:{}", base + 2)
        );
        assert_eq!(c["log"]["format"].as_str(), Some("text"));
        // The other nodes' APIs: where a wiped node syncs from and a removed
        // validator follows the chain from.
        assert_eq!(
            strings(&c["state_sync"]["peers"]),
            others(i, |j| format!("http://127.0.0.1:{}", 26602 + 10 * j))
        );
        // The genesis validator's p2p address is the node's consensus address.
        assert_eq!(
            validators[i as usize]["p2p_address"].as_str(),
            p2p["listen"].as_str()
        );

        assert_eq!(read(&node.join("genesis.toml")), genesis, "an exact copy");
        let mut keys: Vec<String> = std::fs::read_dir(node.join("keys"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        keys.sort();
        // Its own key, and its operator's, with which it signs its reads of
        // peers (keys.read_key).
        assert_eq!(
            keys,
            [format!("operator-{i}.json"), format!("validator-{i}.json")],
            "only its own keys"
        );
        assert_eq!(
            c["keys"]["read_key"].as_str(),
            Some(format!("operator-{i}").as_str())
        );
        for k in [format!("validator-{i}"), format!("operator-{i}")] {
            assert_eq!(
                read(&node.join(format!("keys/{k}.json"))),
                read(&dir.join(format!("keys/{k}.json")))
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(node.join(format!("keys/validator-{i}.json")))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "key copies are private");
        }
        // The copy is the validator's consensus key and unlocks with the devnet passphrase.
        let shown = home.ok(&[
            "keys",
            "show",
            &format!("validator-{i}"),
            "--home",
            node.to_str().unwrap(),
        ]);
        assert_eq!(
            Some(shown.trim()),
            validators[i as usize]["consensus_key"].as_str()
        );
        let signed = home
            .cmd(&[
                "tx",
                "build",
                "transfer",
                "--to",
                g["mint_authority"].as_str().unwrap(),
                "--amount",
                "1",
                "--from",
                &format!("validator-{i}"),
                "--nonce",
                "0",
                "--chain-id",
                "assent-devnet-1",
                "--out",
                "-",
                "--home",
                node.to_str().unwrap(),
            ])
            .env("ASSENT_PASSPHRASE", "assent-devnet")
            .output()
            .unwrap();
        expect_ok(signed, &["tx", "build"]);
    }
}

#[test]
fn later_runs_resume_and_complete_but_never_regenerate() {
    let home = Home::new();
    let dir = home.file("devnet");
    let first = json(&expect_ok(
        up(&home, &dir, &["--validators", "2"]),
        &["devnet", "up"],
    ));
    let genesis = read(&dir.join("genesis.toml"));
    let key = read(&dir.join("keys/alice.json"));

    // Resume: the same network, whatever --validators default would say.
    let again = json(&expect_ok(up(&home, &dir, &[]), &["devnet", "up"]));
    assert_eq!(again["created"], false);
    assert_eq!(again["genesis_hash"], first["genesis_hash"]);
    assert_eq!(again["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(read(&dir.join("genesis.toml")), genesis);
    assert_eq!(read(&dir.join("keys/alice.json")), key);

    // A missing piece of a node directory is recreated from DIR; an edited config is kept.
    std::fs::remove_file(dir.join("node-1/config.toml")).unwrap();
    std::fs::remove_file(dir.join("node-1/keys/validator-1.json")).unwrap();
    let config0 = dir.join("node-0/config.toml");
    let edited = format!(
        "{}\n[consensus]\nblock_interval_ms = 250\n",
        String::from_utf8(read(&config0)).unwrap()
    );
    std::fs::write(&config0, &edited).unwrap();
    expect_ok(up(&home, &dir, &[]), &["devnet", "up"]);
    assert!(dir.join("node-1/config.toml").exists());
    assert_eq!(
        read(&dir.join("node-1/keys/validator-1.json")),
        read(&dir.join("keys/validator-1.json"))
    );
    assert_eq!(String::from_utf8(read(&config0)).unwrap(), edited);

    // A genesis copy that differs is an error, not silently replaced.
    std::fs::write(dir.join("node-1/genesis.toml"), "chain_id = \"other\"\n").unwrap();
    let line = expect_clean_failure(up(&home, &dir, &[]), &["devnet", "up"]);
    assert!(
        line.contains("node-1/genesis.toml") && line.contains("differs"),
        "{line}"
    );
    std::fs::write(dir.join("node-1/genesis.toml"), &genesis).unwrap();

    let line = expect_clean_failure(up(&home, &dir, &["--validators", "3"]), &["devnet", "up"]);
    assert!(line.contains("holds a 2-validator devnet, not 3"), "{line}");

    let wrong = home
        .cmd(&[
            "devnet",
            "up",
            "--no-start",
            "--home",
            dir.to_str().unwrap(),
        ])
        .env("ASSENT_PASSPHRASE", "not the devnet passphrase")
        .output()
        .unwrap();
    let line = expect_clean_failure(wrong, &["devnet", "up"]);
    assert!(line.contains("does not unlock the devnet's keys"), "{line}");
}

#[test]
fn keys_without_a_genesis_are_not_overwritten() {
    let home = Home::new();
    let dir = home.file("devnet");
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::write(dir.join("keys/alice.json"), "{}").unwrap();
    let line = expect_clean_failure(up(&home, &dir, &[]), &["devnet", "up"]);
    assert!(line.contains("holds keys but no genesis.toml"), "{line}");
    assert_eq!(read(&dir.join("keys/alice.json")), b"{}");

    let line = expect_clean_failure(
        up(&home, &home.file("x"), &["--validators", "0"]),
        &["devnet", "up"],
    );
    assert!(line.contains("--validators: 0 is out of range"), "{line}");
}

#[test]
fn status_and_down_of_a_devnet_that_never_ran() {
    let home = Home::new();
    let dir = home.file("devnet");
    let d = dir.to_str().unwrap();
    let line = home.fails(&["devnet", "status", "--home", d]);
    assert!(
        line.contains("no devnet in") && line.contains("assent devnet up"),
        "{line}"
    );
    let out = home.ok(&["devnet", "down", "--home", d]);
    assert!(out.contains("no devnet nodes to stop"), "{out}");

    // A garbage pid file is named, not acted on.
    expect_ok(up(&home, &dir, &["--validators", "1"]), &["devnet", "up"]);
    std::fs::write(dir.join("devnet.pids"), "node-0 1 /x\n").unwrap();
    let line = home.fails(&["devnet", "down", "--home", d]);
    assert!(
        line.contains("devnet.pids") && line.contains("not a process id"),
        "{line}"
    );
}
