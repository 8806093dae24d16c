//! On a 4-validator network, acme records alice's use as #1000 of a
//! 2,000-use RecordUse (the other 1,999 consumers never registered, so
//! theirs are rejected). The receipt a node serves for alice's use — and for
//! a rejected one — verifies offline with `assent receipt verify --genesis`,
//! says what became of that use, and names none of the batch's other
//! consumers; it answers only the use's consumer and enterprise (signed
//! reads); a flipped byte in its path is refused on one line naming the
//! check; another network's genesis refuses it (decision 34).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_contracts::terms::Level;
use assent_contracts::tx::*;
use assent_contracts::{AccountId, Amount, ConsentId, Hash32, Payload, TxId, UseId};
use assent_tests::Net;
use assent_tests::{verify_receipt, write_json};
use serde_json::Value;

const BATCH: usize = 2_000;
const ALICE_AT: usize = 1_000;

#[test]
fn a_use_receipt_of_a_2000_use_batch_verifies_offline_and_names_only_its_consumer() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let (alice, acme) = (net.key("alice"), net.key("acme"));

    let r = net.run(
        0,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: assent_cli::derive::tag_set(&alice, &net.chain_id, &alice.account(), 0, &[])
                .unwrap(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    let grant = Payload::GrantConsent(GrantConsent {
        enterprise: acme.account(),
        categories: vec!["Purchase".parse().unwrap()],
        purposes: vec!["DirectMarketing".parse().unwrap()],
        level: Level::Pseudonymous,
        price_per_use: Amount(3),
        max_uses: None,
        expires_at: None,
        request: None,
    });
    let r = net.run(0, &alice, grant);
    assert_eq!(r["status"], "committed", "{r}");
    let consent: ConsentId = r["tx_id"].as_str().unwrap().parse().unwrap();

    let consumers: Vec<AccountId> = (0..BATCH as u32)
        .map(|i| {
            if i as usize == ALICE_AT {
                return alice.account();
            }
            let mut seed = [0x5e; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            Keypair::from_seed(seed).account()
        })
        .collect();
    let uses = consumers
        .iter()
        .enumerate()
        .map(|(i, c)| Use {
            consumer: *c,
            basis: UseBasis::Consent(consent),
            category: "Purchase".parse().unwrap(),
            purpose: "DirectMarketing".parse().unwrap(),
            level: Level::Pseudonymous,
            units: if i == ALICE_AT { 2 } else { 1 },
            evidence_hash: Hash32::tagged("evidence", &[&(i as u64).to_le_bytes()]),
        })
        .collect();
    let r = net.run(2, &acme, Payload::RecordUse(RecordUse { uses }));
    assert_eq!(r["status"], "committed", "{r}");
    let batch: TxId = r["tx_id"].as_str().unwrap().parse().unwrap();
    // Fetched from another node than the one that took the tx.
    assert_eq!(net.wait_tx(3, &batch.to_string())["status"], "committed");
    // Signed reads (decision 36): a use's receipt answers its consumer and
    // its enterprise, found from the use's outcome now that the tx's id
    // covers only the uses' root; alice reads hers, acme any of the batch,
    // and another consumer none.
    let path_of = |i: usize| format!("/v1/uses/{}/receipt", UseId::derive(&batch, i as u32));
    let read_as = |key: &Keypair, i: usize| net.signed_get_as(3, key, &path_of(i)).send().unwrap();
    let receipt_of = |i: usize| {
        let key = if i == ALICE_AT { &alice } else { &acme };
        let r = read_as(key, i);
        assert_eq!(r.status().as_u16(), 200, "use #{i}");
        r.json::<Value>().unwrap()
    };
    let stranger = Keypair::from_seed([0x77; 32]);
    for i in [ALICE_AT, 7] {
        assert_eq!(read_as(&stranger, i).status().as_u16(), 403, "use #{i}");
    }
    assert_eq!(
        read_as(&alice, 7).status().as_u16(),
        403,
        "alice read use #7"
    );

    for (i, says) in [
        (
            ALICE_AT,
            "used alice (".to_string() + &alice.account().to_string(),
        ),
        (
            7,
            format!(
                "recorded a use of {}'s data that was REJECTED (not_consumer:",
                consumers[7]
            ),
        ),
    ] {
        let file = write_json(dir, &format!("use-{i}.json"), &receipt_of(i));
        let (ok, out, err) = verify_receipt(&net, &file, &net.genesis_path(), &[]);
        assert!(ok, "use #{i} did not verify: {err}");
        assert!(out.contains(&says), "{out:?} lacks {says:?}");
        assert!(out.contains(&format!("acme ({})", acme.account())), "{out}");
        assert!(out.contains("committed by"), "{out}");
        if i == ALICE_AT {
            assert!(
                out.contains(
                    "Purchase data for DirectMarketing (2 unit(s)), settled: paid 6 points"
                ),
                "{out}"
            );
        }
        // The use's consumer is in it; no other consumer of the batch is,
        // as text or as hex.
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.len() < 8 * 1024, "a {}-byte use receipt", text.len());
        for (k, c) in consumers.iter().enumerate() {
            let there = text.contains(&c.to_string()) || text.contains(&hex::encode(c.0));
            assert_eq!(there, k == i, "consumer #{k} in the receipt of use #{i}");
        }
    }

    // One flipped byte in alice's use's path: refused on one line that
    // names the check, and under --output json as `check`.
    let mut v = receipt_of(ALICE_AT);
    let step = v["use"]["path"][3].as_str().unwrap().to_string();
    let first = if step.starts_with('0') { "1" } else { "0" };
    v["use"]["path"][3] = Value::String(format!("{first}{}", &step[1..]));
    let bad = write_json(dir, "tampered.json", &v);
    let (ok, _, err) = verify_receipt(&net, &bad, &net.genesis_path(), &[]);
    assert!(!ok, "a tampered use receipt verified");
    assert!(
        err.contains("use.path") && err.contains("uses_root"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let (ok, out, _) = verify_receipt(&net, &bad, &net.genesis_path(), &["--output", "json"]);
    assert!(!ok);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["results"][0]["check"], "use_in_tx", "{j}");

    // Another network's genesis refuses it as another chain's.
    let other = Net::new(4);
    let good = dir.join(format!("use-{ALICE_AT}.json"));
    let (ok, _, err) = verify_receipt(&net, &good, &other.genesis_path(), &[]);
    assert!(!ok, "verified against another genesis");
    assert!(err.contains("from another chain"), "{err}");
}
