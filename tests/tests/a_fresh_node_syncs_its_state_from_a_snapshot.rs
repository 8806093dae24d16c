//! State sync between real processes: four of five validators run a chain
//! with consumers, consents and uses and serve state snapshots; the fifth
//! starts with an empty store and `[state_sync] peers` — the first of them
//! a liar that offers a snapshot far above the chain and corrupts every
//! chunk it serves — installs a snapshot it
//! checked against the certified state root (never replaying the blocks
//! below it), then follows the chain and reaches the same state roots. A
//! status proof it serves verifies offline with the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use assent_tests::history::Driver;
use assent_tests::liar::Liar;
use assent_tests::{wait_until, Net};

/// Sets `[state_sync] key = value` in node `i`'s config.toml.
fn set_state_sync(net: &Net, i: usize, key: &str, value: toml::Value) {
    let path = net.nodes[i].home.join("config.toml");
    let mut cfg = net.config(i);
    let table = cfg
        .as_table_mut()
        .unwrap()
        .entry("state_sync")
        .or_insert_with(|| toml::Value::Table(Default::default()));
    table.as_table_mut().unwrap().insert(key.into(), value);
    std::fs::write(path, toml::to_string(&cfg).unwrap()).unwrap();
}

/// API URLs as a TOML list.
fn urls(list: impl IntoIterator<Item = String>) -> toml::Value {
    toml::Value::Array(list.into_iter().map(toml::Value::String).collect())
}

/// The log without terminal colour codes.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_fifth_node_with_an_empty_store_joins_from_a_verified_snapshot() {
    let mut net = Net::new(5);
    for i in 0..4 {
        set_state_sync(&net, i, "snapshot_interval", 40.into());
    }
    let liar = Liar::start(&net.nodes[0].api);
    let mut peers = vec![liar.url.clone()];
    peers.extend((0..4).map(|i| net.nodes[i].api.clone()));
    set_state_sync(&net, 4, "peers", urls(peers));
    // Four of five equal validators hold more than 2/3 of the power.
    for i in 0..4 {
        net.start(i);
    }
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let driver = Driver::start(&net, 40, 4);
    assert!(wait_until(
        "500 acknowledged txs",
        Duration::from_secs(180),
        || { driver.acknowledged() >= 500 }
    ));
    let history = driver.stop();
    assert!(!history.acked.is_empty());
    // A snapshot above the load's last block.
    let loaded = net.height(0).unwrap();
    let snapshot_height = || {
        net.get(0, "/v1/snapshots")
            .and_then(|v| v["snapshots"][0]["height"].as_u64())
    };
    assert!(
        wait_until(
            "a snapshot above the load",
            Duration::from_secs(120),
            || { snapshot_height().is_some_and(|h| h >= loaded) }
        ),
        "node 0 serves no snapshot: {}",
        net.log_tail(0)
    );

    let started = Instant::now();
    net.start(4);
    let target = net.height(0).unwrap() + 5;
    net.wait_height(4, target, Duration::from_secs(180));
    let joined = started.elapsed();
    let log = strip_ansi(&std::fs::read_to_string(net.nodes[4].home.join("assentd.log")).unwrap());
    assert!(
        log.contains("synced the state from a snapshot"),
        "node 4 did not sync from a snapshot:\n{}",
        net.log_tail(4)
    );
    // It never replayed the chain: it has no block below its snapshot.
    let synced_at = log
        .lines()
        .find(|l| l.contains("synced the state from a snapshot"))
        .and_then(|l| l.split("height=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<u64>().ok())
        .expect("the sync line names its height");
    assert!(
        synced_at >= loaded,
        "synced at {synced_at}, load ended at {loaded}"
    );
    // The liar's chunks were refused and fetched from honest peers.
    assert!(liar.lies.load(std::sync::atomic::Ordering::Relaxed) > 0);
    assert!(
        log.contains("snapshot chunk refused"),
        "{}",
        net.log_tail(4)
    );
    // The liar's snapshot a million heights up, which it cannot back with a
    // certified block, was refused and the real one taken.
    assert!(
        log.contains("peer's snapshot refused"),
        "{}",
        net.log_tail(4)
    );
    assert_eq!(net.get_status_code(4, "/v1/blocks/1"), Some(404));
    for h in [synced_at, synced_at + 1, target] {
        assert_eq!(
            net.block_roots(4, h),
            net.block_roots(0, h),
            "node 4 differs from node 0 at height {h}"
        );
    }
    eprintln!(
        "state sync: snapshot at height {synced_at}, node 4 at height {target} {:.1} s after start",
        joined.as_secs_f64()
    );

    // A consumer's consent status, proved by the synced node, verifies offline.
    let consent = history
        .accounts
        .iter()
        .find_map(|a| {
            let v = net.get(0, &format!("/v1/consumers/{a}/consents"))?;
            Some(v["consents"][0]["id"].as_str()?.to_string())
        })
        .expect("the load granted consents");
    let file = net.dir.path().join("status-proof.json");
    let out = net.cli(
        4,
        &[
            "consent",
            "receipt",
            &consent,
            "--format",
            "status",
            // An operator may prove any consumer's record.
            "--key",
            "operator-0",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = net.verify_ok(4, &file);
    assert!(text.contains("valid state proof of consent"), "{text}");
}

#[test]
fn with_no_snapshot_offered_a_fresh_node_follows_the_chain_from_the_genesis() {
    let mut net = Net::new(4);
    for i in 0..3 {
        set_state_sync(&net, i, "snapshot_interval", 0.into());
    }
    set_state_sync(
        &net,
        3,
        "peers",
        urls((0..3).map(|i| net.nodes[i].api.clone())),
    );
    for i in 0..3 {
        net.start(i);
    }
    for i in 0..3 {
        net.wait_height(i, 5, Duration::from_secs(90));
    }
    net.start(3);
    let target = net.height(0).unwrap() + 3;
    net.wait_height(3, target, Duration::from_secs(120));
    let log = strip_ansi(&std::fs::read_to_string(net.nodes[3].home.join("assentd.log")).unwrap());
    assert!(
        log.contains("no state snapshot to start from"),
        "{}",
        net.log_tail(3)
    );
    // It replayed the chain: it holds block 1, the same as the others.
    assert_eq!(net.block_roots(3, 1), net.block_roots(0, 1));
    assert!(net.block_roots(3, 1).is_some());
}
