//! (c) kill -9 one validator: the other three keep committing; restarted, it
//! catches up to the same state root. Back in the network, it fetches from
//! a proposer the txs it missed while down, as the proposal opens, and
//! executes the block before its roots arrive (ARCHITECTURE decision 50).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::terms::Level;
use assent_contracts::tx::{GrantConsent, RegisterConsumer};
use assent_contracts::{Amount, Payload, TxBody};
use assent_tests::Net;

#[test]
fn killed_validator_catches_up_to_the_same_state() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 5, Duration::from_secs(90));
    }
    let alice = net.key("alice");
    let tags = assent_cli::derive::tag_set(
        &alice,
        &net.chain_id,
        &alice.account(),
        0,
        &["runner".parse().unwrap()],
    )
    .unwrap();
    let registered = net.run(
        0,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer { tags }),
    );
    assert_eq!(registered["status"], "committed", "{registered}");
    let (acme, chain_id) = (net.key("acme").account(), net.chain_id.clone());
    let grant = |nonce: u64, price: u64| {
        TxBody {
            sender: alice.account(),
            nonce,
            payload: Payload::GrantConsent(GrantConsent {
                enterprise: acme,
                categories: vec!["Purchase".parse().unwrap()],
                purposes: vec!["DirectMarketing".parse().unwrap()],
                level: Level::Pseudonymous,
                price_per_use: Amount(price),
                max_uses: None,
                expires_at: None,
                request: None,
            }),
        }
        .sign(&chain_id, &alice)
    };

    net.kill9(2);
    let at_kill = net.height(0).unwrap();
    // While node 2 is down, the others take a tx one nonce ahead: it waits
    // in their mempools, and node 2 never hears of it.
    let ahead = grant(2, 7);
    assert_eq!(net.submit(0, &ahead).0, 202);
    // Three of four keep the chain going.
    for i in [0, 1, 3] {
        net.wait_height(i, at_kill + 15, Duration::from_secs(60));
    }
    net.start(2);
    let target = net.height(0).unwrap() + 5;
    net.wait_height(2, target, Duration::from_secs(120));
    // Once caught up it says so.
    assert!(assent_tests::wait_until(
        "node 2 to report it is not syncing",
        Duration::from_secs(30),
        || { net.status(2).is_some_and(|s| s["syncing"] == false) }
    ));
    for h in [at_kill, at_kill + 10, target] {
        let want = net.block_roots(0, h).unwrap();
        assert_eq!(
            net.block_roots(2, h),
            Some(want),
            "restarted node differs at height {h}"
        );
    }

    // The missing nonce, sent to node 2, makes both proposable. Node 2
    // cannot propose the second; another validator's proposal names it,
    // and node 2 fetches it from that proposer as the stream opens.
    let early = |outcome: &str| {
        let label = format!("outcome=\"{outcome}\"");
        net.metric_where(2, "assent_proposals_executed_early_total", &label)
    };
    let fetched = || net.metric_where(2, "assent_proposal_txs_total", "source=\"fetched\"");
    let before = (early("used"), early("not_started"), fetched());
    let gap = grant(1, 5);
    assert_eq!(net.submit(2, &gap).0, 202);
    let done = net.wait_tx(2, &ahead.id().to_string());
    assert_eq!(done["status"], "committed", "{done}");
    let after = (early("used"), early("not_started"), fetched());
    eprintln!("node 2 (used early, not started, txs fetched): before {before:?}, after {after:?}");
    assert!(after.2 > before.2, "node 2 fetched no tx: {after:?}");
    assert_eq!(
        after.1, before.1,
        "node 2 waited for a proposal to complete instead of fetching its txs as it opened"
    );
    assert!(after.0 > before.0, "node 2 executed no proposal early");
}
