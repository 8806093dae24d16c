//! On a 4-validator network, 1,000 fresh keys spam node 0: 1,000 valid
//! registrations (each a new sender, all admitted) and 1,000 transfers from
//! keys that hold nothing (refused at admission as `would_be_rejected`, so
//! they never reach a block). A consumer's legitimate grant, sent to another
//! node right after, commits within a few blocks, and every registration
//! commits too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_contracts::terms::Level;
use assent_contracts::tx::*;
use assent_contracts::{Amount, Payload, TxBody};
use assent_tests::{wait_until, Net};
use serde_json::{json, Value};

const SPAMMERS: usize = 1_000;

fn key(i: usize, salt: u8) -> Keypair {
    let mut seed = [salt; 32];
    seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
    Keypair::from_seed(seed)
}

fn batch(net: &Net, node: usize, txs: &[SignedTx]) -> Value {
    let body = json!({"txs": txs.iter().map(|t| hex::encode(t.encode())).collect::<Vec<_>>()});
    let (code, v) = net.post_raw(
        node,
        "/v1/txs/batch",
        "application/json",
        body.to_string().into_bytes(),
    );
    assert_eq!(code, 200, "{v}");
    v
}

#[test]
fn a_legitimate_tx_commits_within_a_few_blocks_while_fresh_keys_spam() {
    let net = Net::started(4);
    let chain = net.chain_id.clone();
    let alice = net.key("alice");
    let acme = net.key("acme");
    let r = net.run(
        1,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: Default::default(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");

    // Valid spam: 1,000 fresh consumers registering.
    let registrations: Vec<SignedTx> = (0..SPAMMERS)
        .map(|i| {
            TxBody {
                sender: key(i, 0x51).account(),
                nonce: 0,
                payload: Payload::RegisterConsumer(RegisterConsumer {
                    tags: Default::default(),
                }),
            }
            .sign(&chain, &key(i, 0x51))
        })
        .collect();
    // Invalid spam: 1,000 fresh keys sending points they do not have.
    let broke: Vec<SignedTx> = (0..SPAMMERS)
        .map(|i| {
            TxBody {
                sender: key(i, 0x52).account(),
                nonce: 0,
                payload: Payload::Transfer(Transfer {
                    to: alice.account(),
                    amount: Amount(1_000),
                }),
            }
            .sign(&chain, &key(i, 0x52))
        })
        .collect();
    // The invalid spam first: none of it is taken, so it leaves the
    // backlog (mempool.backlog_ms) free for the valid spam.
    let v = batch(&net, 0, &broke);
    assert_eq!(v["accepted"], 0, "{}", v["results"][0]);
    for r in v["results"].as_array().unwrap() {
        assert_eq!(
            r["code"], "would_be_rejected:insufficient_funds",
            "a key's first tx that the ledger would reject is not taken: {r}"
        );
    }

    // As fast as node 0 takes them: each node admits its share of the
    // backlog, the rest comes back after Retry-After.
    let results = net.batch_patiently(0, &registrations);
    assert!(
        results.iter().all(|r| r["tx_id"].is_string()),
        "every registration is admitted in the end"
    );

    // The legitimate grant, to another node, right after the spam. The
    // spam fills the backlog, so the node may first say `overloaded`: the
    // grant is sent again after Retry-After, and once admitted it must not
    // wait behind the spam.
    let tx = net.sign(
        1,
        &alice,
        Payload::GrantConsent(GrantConsent {
            enterprise: acme.account(),
            categories: vec!["Purchase".parse().unwrap()],
            purposes: vec!["DirectMarketing".parse().unwrap()],
            level: Level::Pseudonymous,
            price_per_use: Amount(1),
            max_uses: None,
            expires_at: None,
            request: None,
        }),
    );
    let (status, v) = net.submit_patiently(1, &tx);
    assert_eq!(status, 202, "{v}");
    let from = net.height(1).unwrap();
    let done = net.wait_tx(1, &tx.id().to_string());
    assert_eq!(done["status"], "committed", "{done}");
    let at = done["height"].as_u64().unwrap();
    assert!(
        at <= from + 5,
        "the grant admitted at height {from} waited until {at} behind the spam"
    );

    // The valid spam commits as well, and the invalid never reaches a block.
    let last = registrations.last().unwrap().id().to_string();
    assert_eq!(net.wait_tx(0, &last)["status"], "committed");
    let probe = broke[0].id().to_string();
    assert!(
        wait_until(
            "the status of a refused tx",
            Duration::from_secs(10),
            || {
                net.get(0, &format!("/v1/txs/{probe}"))
                    .is_some_and(|s| s["status"] == "unknown")
            }
        ),
        "a refused tx is known to the node"
    );
}
