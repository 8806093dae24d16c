//! (e) A node whose key is not in the genesis validator set (it runs its own
//! genesis that names it a validator of the same chain id, and dials the real
//! validators) gets no block, vote or gossiped tx accepted: the real chain
//! carries on, never signed or proposed by the stranger.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::tx::Transfer;
use assent_contracts::{Amount, Payload};
use assent_tests::{wait_until, Net};

#[test]
fn stranger_cannot_get_blocks_or_votes_accepted() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 3, Duration::from_secs(90));
    }
    // The stranger: a one-validator "network" of its own, same chain id,
    // pointed at the real validators' consensus and gossip addresses.
    let mut rogue = Net::new(1);
    let cfg_path = rogue.nodes[0].home.join("config.toml");
    let mut cfg: toml::Value =
        toml::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    let mut peers = Vec::new();
    let mut gossip = Vec::new();
    for n in &net.nodes {
        let c: toml::Value =
            toml::from_str(&std::fs::read_to_string(n.home.join("config.toml")).unwrap()).unwrap();
        peers.push(c["p2p"]["listen"].clone());
        gossip.push(c["p2p"]["gossip_listen"].clone());
    }
    cfg["p2p"]["peers"] = toml::Value::Array(peers);
    cfg["p2p"]["gossip_peers"] = toml::Value::Array(gossip);
    std::fs::write(&cfg_path, toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(
        rogue.chain_id, net.chain_id,
        "same chain id, different validator set"
    );
    rogue.start(0);
    let stranger = rogue.key("validator-0").account();
    rogue.wait_height(0, 3, Duration::from_secs(60));

    // A tx sent to the stranger must not reach the real network by gossip.
    let acme = rogue.key("acme");
    let tx = rogue.sign(
        0,
        &acme,
        Payload::Transfer(Transfer {
            to: rogue.key("alice").account(),
            amount: Amount(1),
        }),
    );
    assert_eq!(rogue.submit(0, &tx).0, 202);

    let start = net.height(0).unwrap();
    for i in 0..4 {
        net.wait_height(i, start + 15, Duration::from_secs(90));
    }
    let top = net.height(0).unwrap();
    for h in 1..=top {
        let b = net.get(0, &format!("/v1/blocks/{h}")).unwrap();
        assert_ne!(
            b["header"]["proposer"].as_str(),
            Some(stranger.to_string().as_str()),
            "height {h} was built by the stranger"
        );
        for s in b["certificate"]["signatures"].as_array().unwrap() {
            assert_ne!(
                s["validator"].as_str(),
                Some(stranger.to_string().as_str()),
                "the stranger signed height {h}"
            );
        }
        let want = net.block_roots(0, h).unwrap();
        for i in 1..4 {
            assert_eq!(net.block_roots(i, h).as_ref(), Some(&want));
        }
    }
    let id = tx.id().to_string();
    let unknown = wait_until(
        "the real nodes to confirm they never saw the stranger's tx",
        Duration::from_secs(5),
        || {
            (0..4).all(|i| {
                net.get(i, &format!("/v1/txs/{id}"))
                    .is_some_and(|v| v["status"] == "unknown")
            })
        },
    );
    assert!(
        unknown,
        "the stranger's gossiped tx reached the real network"
    );
    // The real validators still only count each other.
    for i in 0..4 {
        assert!(net.status(i).unwrap()["peers"].as_u64().unwrap() <= 3);
    }
}
