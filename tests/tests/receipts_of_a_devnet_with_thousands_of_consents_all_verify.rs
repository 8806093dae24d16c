//! Thousands of consumers register and grant through `POST /v1/txs/batch`;
//! the receipt of every grant, fetched from the four nodes in turn, verifies
//! offline in one `assent receipt verify` run.
//!
//! `ASSENT_RECEIPT_CONSENTS` sets the count: 300 by default, so the test
//! stays near 30 s with the debug binaries on 2 cores (a debug node builds
//! a receipt from a 1,000-tx block in ~80 ms); the 2,000-consent run is
//! `ASSENT_RECEIPT_CONSENTS=2000 cargo test --release -p assent-tests --test
//! receipts_of_a_devnet_with_thousands_of_consents_all_verify -- --nocapture`.
//! Timings are printed (`--nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use assent_contracts::crypto::Keypair;
use assent_contracts::terms::Level;
use assent_contracts::tx::*;
use assent_contracts::{Amount, ConsentId, Payload, SignedTx, TxBody};
use assent_tests::{wait_until, Net};
use serde_json::Value;

fn consumer(i: u32) -> Keypair {
    let mut seed = [0x5a; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    Keypair::from_seed(seed)
}

fn signed(chain: &str, k: &Keypair, nonce: u64, payload: Payload) -> SignedTx {
    TxBody {
        sender: k.account(),
        nonce,
        payload,
    }
    .sign(chain, k)
}

#[test]
fn the_receipts_of_a_devnet_with_thousands_of_consents_all_verify() {
    let n: u32 = std::env::var("ASSENT_RECEIPT_CONSENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let acme = net.key("acme").account();
    let grant = Payload::GrantConsent(GrantConsent {
        enterprise: acme,
        categories: vec!["Purchase".parse().unwrap()],
        purposes: vec!["DirectMarketing".parse().unwrap()],
        level: Level::Aggregate,
        price_per_use: Amount(1),
        max_uses: None,
        expires_at: None,
        request: None,
    });

    let start = Instant::now();
    let mut consents: Vec<ConsentId> = Vec::with_capacity(n as usize);
    let ids: Vec<u32> = (0..n).collect();
    for (b, chunk) in ids.chunks(500).enumerate() {
        let mut txs = Vec::with_capacity(chunk.len() * 2);
        for &i in chunk {
            let k = consumer(i);
            let reg = Payload::RegisterConsumer(RegisterConsumer {
                tags: Default::default(),
            });
            txs.push(signed(&net.chain_id, &k, 0, reg));
            let g = signed(&net.chain_id, &k, 1, grant.clone());
            consents.push(ConsentId(g.id().0));
            txs.push(g);
        }
        // Sent as fast as the network takes them (backpressure: the
        // overloaded tail of a batch goes again after Retry-After).
        let results = net.batch_patiently(b % 4, &txs);
        for r in &results {
            assert!(r["tx_id"].is_string(), "refused: {r}");
        }
    }
    // Every grant committed (each consumer's grant follows its registration).
    // Checked in order, each id once it is committed: one request per grant.
    let mut next = 0;
    let done = wait_until("every grant to commit", Duration::from_secs(180), || {
        while next < consents.len() {
            let v = net.get(next % 4, &format!("/v1/txs/{}", consents[next]));
            match v.as_ref().and_then(|v| v["status"].as_str()) {
                Some("committed") => next += 1,
                Some("rejected") => panic!("grant {next} rejected: {v:?}"),
                _ => return false,
            }
        }
        true
    });
    assert!(
        done,
        "{} of {n} grants not committed; node 0 at height {:?}\n{}",
        consents.len() - next,
        net.height(0),
        net.log_tail(0)
    );
    let committed = start.elapsed();

    let files = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut paths = Vec::with_capacity(consents.len());
    for (k, c) in consents.iter().enumerate() {
        let v: Value = net
            .get(k % 4, &format!("/v1/consents/{c}/receipt"))
            .unwrap();
        assert_eq!(v["version"], "assent-consent-proof/1", "{v}");
        let p = files.path().join(format!("{k}.json"));
        std::fs::write(&p, v.to_string()).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let fetched = start.elapsed();

    let start = Instant::now();
    let genesis = net.genesis_path();
    let mut args = vec!["receipt", "verify", "--genesis", genesis.to_str().unwrap()];
    args.extend(paths.iter().map(String::as_str));
    let out = net.cli(0, &args);
    let verified = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let valid = stdout
        .lines()
        .filter(|l| l.contains(": valid consent proof of consent"))
        .count();
    assert_eq!(valid, n as usize);
    eprintln!(
        "{n} consents: registered and granted in {committed:?}; {n} receipts fetched in {fetched:?}; all verified offline in {verified:?} (one `assent receipt verify` run)"
    );
}
