//! Validators joining and leaving a live network, and a full node, all real
//! processes: while four validators commit a steady load, a fifth node
//! (laid out with `assent devnet add-node`) follows the chain until
//! governance admits its key, then signs blocks; a full node (no key)
//! follows the same chain and serves the API; then governance removes one
//! of the original four, which stops signing and follows the chain while
//! the other four keep committing, and, admitted again, signs again.
//! Every node agrees on every block and state root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use assent_tests::load::offer_registrations;
use assent_tests::{wait_until, Net};
use serde_json::Value;

/// `assent devnet add-node [--full] --no-start` in the network's home: the
/// new node's directory and what the command printed.
fn add_node(net: &Net, full: bool) -> (PathBuf, Value) {
    let mut args = vec!["--output", "json", "devnet", "add-node", "--no-start"];
    if full {
        args.push("--full");
    }
    let out = net.cli(0, &args);
    assert!(
        out.status.success(),
        "add-node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (PathBuf::from(v["dir"].as_str().unwrap()), v)
}

/// Runs a governance command through node `via` and returns its tx id.
fn gov(net: &Net, via: usize, args: &[&str]) -> String {
    let mut all = vec!["--output", "json", "gov"];
    all.extend_from_slice(args);
    let out = net.cli(via, &all);
    assert!(
        out.status.success(),
        "gov {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["tx_id"].as_str().unwrap().to_string()
}

/// Passes a governance action: operator `by` proposes it, two more vote yes
/// (3 of 4 operators), all through node `via`.
fn pass(net: &Net, via: usize, by: usize, action: &[&str], voters: [usize; 2]) {
    let from = format!("operator-{by}");
    let mut args = vec!["propose"];
    args.extend_from_slice(action);
    args.extend_from_slice(&["--from", &from]);
    let id = gov(net, via, &args);
    for v in voters {
        let from = format!("operator-{v}");
        gov(
            net,
            via,
            &["vote", "--proposal", &id, "--yes", "--from", &from],
        );
    }
}

fn validating(net: &Net, i: usize) -> Option<bool> {
    net.status(i)?["validating"].as_bool()
}

/// Whether node `i`'s block `h` was proposed by `key` or carries its
/// commit signature.
fn signed_by(net: &Net, i: usize, h: u64, key: &str) -> bool {
    let Some(b) = net.get(i, &format!("/v1/blocks/{h}")) else {
        return false;
    };
    let proposed = b["header"]["proposer"].as_str() == Some(key);
    let voted = b["certificate"]["signatures"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["validator"].as_str() == Some(key)));
    proposed || voted
}

#[test]
fn a_validator_joins_a_live_network_and_a_full_node_serves_the_api() {
    let mut net = Net::started(4);
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let loader = {
        let apis: Vec<String> = (0..4).map(|i| net.nodes[i].api.clone()).collect();
        let (chain, stop, accepted) = (net.chain_id.clone(), stop.clone(), accepted.clone());
        std::thread::spawn(move || offer_registrations(&apis, &chain, 11, &stop, &accepted))
    };

    // A validator-to-be and a full node follow the chain from the
    // validators' APIs and catch up.
    let (dir, printed) = add_node(&net, false);
    let key = printed["consensus_key"].as_str().unwrap().to_string();
    let p2p = printed["p2p_address"].as_str().unwrap().to_string();
    let joiner = net.adopt(dir);
    let (dir, printed) = add_node(&net, true);
    assert!(printed["consensus_key"].is_null(), "a full node has no key");
    let full = net.adopt(dir);
    net.start(joiner);
    net.start(full);
    let now = net.height(0).unwrap();
    for i in [joiner, full] {
        net.wait_height(i, now, Duration::from_secs(120));
        assert_eq!(validating(&net, i), Some(false), "node {i} follows only");
    }
    // A full node takes a tx and forwards it to a validator; the tx
    // commits, and the full node reports it committed once it follows the
    // block. A tx with a broken signature never leaves the full node.
    let tx = net.sign(
        0,
        &net.key("alice"),
        assent_contracts::Payload::RegisterConsumer(assent_contracts::tx::RegisterConsumer {
            tags: Default::default(),
        }),
    );
    let (code, body) = net.submit(full, &tx);
    assert_eq!(code, 202, "{body}");
    let status = net.wait_tx(full, &tx.id().to_string());
    assert_eq!(status["status"], "committed", "{status}");
    let mut forged = tx.clone();
    forged.body.nonce += 1;
    let (code, body) = net.submit(full, &forged);
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["code"], "bad_signature", "{body}");

    // Governance admits the fifth validator; it starts signing.
    pass(
        &net,
        1,
        0,
        &[
            "add-validator",
            "--name",
            "validator-4",
            "--consensus-key",
            &key,
            "--power",
            "1",
            "--p2p-address",
            &p2p,
        ],
        [1, 2],
    );
    assert!(
        wait_until(
            "the new validator to start consensus",
            Duration::from_secs(120),
            || { validating(&net, joiner) == Some(true) }
        ),
        "{}",
        net.log_tail(joiner)
    );
    let admitted = net.height(joiner).unwrap();
    let mut next = admitted + 1;
    assert!(
        wait_until(
            "a block signed by the new validator",
            Duration::from_secs(120),
            || {
                while next <= net.height(1).unwrap_or(0) {
                    if signed_by(&net, 1, next, &key) {
                        return true;
                    }
                    next += 1;
                }
                false
            }
        ),
        "no block after {admitted} carries the new validator's signature\n{}",
        net.log_tail(joiner)
    );

    // Governance removes validator-0: it stops signing and follows the
    // chain as a full node; the other four commit on.
    let gone = net.consensus_key(0);
    pass(
        &net,
        1,
        1,
        &["remove-validator", "--consensus-key", &gone],
        [2, 3],
    );
    assert!(
        wait_until(
            "validator-0 to stop validating",
            Duration::from_secs(120),
            || { validating(&net, 0) == Some(false) }
        ),
        "validator-0 still validates after its removal\n{}",
        net.log_tail(0)
    );
    assert!(net.nodes[0].running(), "{}", net.log_tail(0));
    let removed_at = net.height(1).unwrap();
    for i in [0, 1, 2, 3, joiner, full] {
        net.wait_height(i, removed_at + 5, Duration::from_secs(120));
    }
    for h in removed_at + 1..=removed_at + 5 {
        assert!(
            !signed_by(&net, 1, h, &gone),
            "validator-0 signed block {h} after its removal"
        );
    }

    // Admitted again, the same process starts consensus again and signs.
    let p2p0 = net.config(0)["p2p"]["listen"].as_str().unwrap().to_string();
    pass(
        &net,
        2,
        2,
        &[
            "add-validator",
            "--name",
            "validator-0",
            "--consensus-key",
            &gone,
            "--power",
            "1",
            "--p2p-address",
            &p2p0,
        ],
        [3, 1],
    );
    assert!(
        wait_until(
            "validator-0 to validate again",
            Duration::from_secs(120),
            || { validating(&net, 0) == Some(true) }
        ),
        "{}",
        net.log_tail(0)
    );
    let back = net.height(0).unwrap();
    let mut next = back + 1;
    assert!(
        wait_until(
            "a block signed by the readmitted validator",
            Duration::from_secs(120),
            || {
                while next <= net.height(1).unwrap_or(0) {
                    if signed_by(&net, 1, next, &gone) {
                        return true;
                    }
                    next += 1;
                }
                false
            }
        ),
        "no block after {back} carries validator-0's signature\n{}",
        net.log_tail(0)
    );
    stop.store(true, Ordering::Relaxed);
    loader.join().unwrap();
    assert!(
        accepted.load(Ordering::Relaxed) > 0,
        "the load reached the nodes"
    );

    // Every node that runs agrees on every block and state root, and the
    // full node's API answers with the same state.
    let top = (1..4).map(|i| net.height(i).unwrap()).min().unwrap();
    for i in [0, joiner, full] {
        net.wait_height(i, top, Duration::from_secs(60));
    }
    for h in 1..=top {
        let want = net.block_roots(1, h);
        assert!(want.is_some(), "node 1 has no block {h}");
        for i in [0, 2, 3, joiner, full] {
            assert_eq!(
                net.block_roots(i, h),
                want,
                "node {i} differs at height {h}"
            );
        }
    }
    let alice = net.key("alice").account().to_string();
    let path = format!("/v1/accounts/{alice}");
    assert_eq!(net.get(full, &path), net.get(1, &path));
    eprintln!(
        "joined at {admitted}, validator-0 removed by {removed_at} and back by {back}, {top} heights agree; {} txs accepted",
        accepted.load(Ordering::Relaxed)
    );
}
