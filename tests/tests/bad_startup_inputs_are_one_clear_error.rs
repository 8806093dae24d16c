//! `assentd start` refuses bad inputs with one clear line and exit code 1,
//! and leaves the node's data as it was: missing genesis, a broken or
//! misspelled config, a key that is not a validator, a port in use, a wrong
//! passphrase, a store made with another genesis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use assent_tests::{bin, Net, PASS};

/// Runs `assentd start` to its exit; one that is still running after a
/// minute (it started, where a refusal was expected) is killed and the
/// test fails, rather than waiting for ever.
fn start(home: &std::path::Path, pass: &str) -> (i32, String) {
    let mut child = Command::new(bin("assentd"))
        .args(["start", "--home", home.to_str().unwrap()])
        .env("ASSENT_PASSPHRASE", pass)
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "assentd start did not exit within 60 s: it started where a refusal was expected"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status.code().unwrap_or(-1), err)
}

fn expect_one_line(home: &std::path::Path, pass: &str, needle: &str) {
    let (code, err) = start(home, pass);
    assert_eq!(code, 1, "expected exit 1 for `{needle}`, got {code}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "expected one error line: {err}");
    assert!(lines[0].contains(needle), "`{needle}` not in: {}", lines[0]);
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_startup_inputs_are_one_clear_error() {
    let mut net = Net::new(2);
    let home = net.nodes[0].home.clone();
    let config = std::fs::read_to_string(home.join("config.toml")).unwrap();
    let genesis = std::fs::read_to_string(home.join("genesis.toml")).unwrap();

    // Missing genesis.
    std::fs::remove_file(home.join("genesis.toml")).unwrap();
    expect_one_line(&home, PASS, "genesis.toml is missing");
    std::fs::write(home.join("genesis.toml"), &genesis).unwrap();

    // Misspelled and malformed config fields are named.
    std::fs::write(
        home.join("config.toml"),
        config.replace("[api]\nlisten", "[api]\nlisen"),
    )
    .unwrap();
    expect_one_line(&home, PASS, "lisen");
    std::fs::write(
        home.join("config.toml"),
        config.replace("gossip_listen = \"/ip4", "gossip_listen = \"ip4"),
    )
    .unwrap();
    expect_one_line(&home, PASS, "p2p.gossip_listen");
    std::fs::write(home.join("config.toml"), &config).unwrap();

    // Wrong passphrase.
    expect_one_line(&home, "not the passphrase", "validator key");

    // A key that is not a validator of this genesis: node 0 with another network's key.
    let other = Net::new(1);
    let key_file = home.join("keys/validator-0.json");
    let saved_key = std::fs::read(&key_file).unwrap();
    let foreign = other.nodes[0].home.join("keys/validator-0.json");
    std::fs::copy(&foreign, &key_file).unwrap();
    // With [state_sync] peers such a node would follow the chain until
    // governance admits it; with none it has nowhere to go.
    let mut no_peers: toml::Table = config.parse().unwrap();
    no_peers.remove("state_sync");
    std::fs::write(
        home.join("config.toml"),
        toml::to_string(&no_peers).unwrap(),
    )
    .unwrap();
    let (code, err) = start(&home, PASS);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not a validator") || err.contains("validator key"),
        "{err}"
    );
    assert!(err.contains("[state_sync] peers"), "{err}");
    std::fs::write(home.join("config.toml"), &config).unwrap();
    std::fs::write(&key_file, &saved_key).unwrap();

    // The API port in use.
    let api = config
        .lines()
        .find(|l| l.starts_with("listen = \"127.0.0.1:"))
        .unwrap();
    let addr = api
        .trim_start_matches("listen = \"")
        .trim_end_matches('"')
        .to_string();
    {
        let _busy = TcpListener::bind(&addr).unwrap();
        expect_one_line(&home, PASS, "already in use");
    }

    // It starts fine now, and commits with its peer; then its store is kept
    // when it is pointed at another genesis.
    net.start_all();
    net.wait_height(0, 3, Duration::from_secs(60));
    let height = net.height(0).unwrap();
    assert!(net.stop(0));
    assert!(net.stop(1));
    std::fs::write(
        home.join("genesis.toml"),
        std::fs::read_to_string(other.dir.path().join("genesis.toml")).unwrap(),
    )
    .unwrap();
    let (code, err) = start(&home, PASS);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("not a validator") || err.contains("belongs to chain"),
        "{err}"
    );
    std::fs::write(home.join("genesis.toml"), &genesis).unwrap();
    net.start_all();
    net.wait_height(0, height + 1, Duration::from_secs(60));
}
