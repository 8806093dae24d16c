//! The advocacy share (ARCHITECTURE.md decision 29) as the API shows it:
//! `GET /v1/consumers/{id}/earnings` gives the referrer what it earned and
//! the referred consumer who referred them; `…/uses` splits each settled use
//! into consumer, operators and referrer; the export's `consumer.json` and
//! `rewards.json` carry the same — the referrer's without the referred
//! consumer's account or use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::time::Duration;

use api_support::*;
use assent_contracts::terms::{Category, Level, Purpose};
use assent_contracts::tx::{GrantConsent, NameReferrer, RecordUse, Use, UseBasis};
use assent_contracts::{Amount, ConsentId, Event, Hash32, Payload, TxOutcome};
use axum::body::Body;
use axum::http::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn the_referrer_earns_out_of_the_operators_share_and_both_sides_see_it() {
    let t = node();
    let (alice, bob) = (t.keys.alice.account(), t.keys.bob.account());
    // bob referred alice; alice grants acme 100 points a use.
    let out = commit(
        &t,
        vec![
            register(&t.keys.bob, 0),
            register(&t.keys.alice, 0),
            sign(
                &t.keys.alice,
                1,
                Payload::NameReferrer(NameReferrer { referrer: bob }),
            ),
            sign(
                &t.keys.alice,
                2,
                Payload::GrantConsent(GrantConsent {
                    enterprise: t.keys.acme.account(),
                    categories: vec![Category("Purchase".into())],
                    purposes: vec![Purpose("DirectMarketing".into())],
                    level: Level::Pseudonymous,
                    price_per_use: Amount(100),
                    max_uses: None,
                    expires_at: None,
                    request: None,
                }),
            ),
        ],
    );
    let consent = match &out.results.results[3].outcome {
        TxOutcome::Applied { events } => match &events[0] {
            Event::ConsentGranted { consent, .. } => *consent,
            e => panic!("{e:?}"),
        },
        r => panic!("{r:?}"),
    };
    let named_at = t.shared.chain.head().height.0;
    commit(&t, vec![use_twice(&t, consent)]);
    let used_at = t.shared.chain.head().height.0;

    // 2 units at 100: the operators' 10 % is 20, of which bob's 5 % = 10.
    let (status, e) = get(&t.router, &format!("/v1/consumers/{alice}/earnings")).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(
        (e["earned"].as_u64(), e["balance"].as_u64()),
        (Some(180), Some(180))
    );
    assert_eq!(e["referral_earned"], 0);
    assert_eq!(e["referred_by"]["referrer"], bob.to_string());
    assert_eq!(e["referred_by"]["named_at"], named_at);
    assert_eq!(e["referred_by"]["paid_to_referrer"], 10);
    let (status, e) = get(&t.router, &format!("/v1/consumers/{bob}/earnings")).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(
        (
            &e["earned"],
            &e["referral_earned"],
            &e["referred_consumers"],
            &e["balance"],
            &e["referred_by"]
        ),
        (&json!(0), &json!(10), &json!(1), &json!(10), &Value::Null)
    );

    let store = t.shared.chain.store();
    wait_for(Duration::from_secs(10), || {
        store.indexed_height().0 >= used_at
    })
    .await;
    let (status, body) = get(&t.router, &format!("/v1/consumers/{alice}/uses")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let u = &body["uses"][0];
    assert_eq!(
        (
            &u["paid"],
            &u["to_consumer"],
            &u["to_operators"],
            &u["to_referrer"]
        ),
        (&json!(200), &json!(180), &json!(10), &json!(10))
    );
    assert_eq!(u["referrer"], bob.to_string());

    // The exports: alice sees who referred her and the split of her use;
    // bob sees the referral among his rewards.
    let alice_files = export(&t, &alice.to_string()).await;
    let c = &alice_files["consumer.json"];
    assert_eq!(c["referred_by"]["referrer"], bob.to_string());
    assert_eq!(c["earned"], 180);
    let uses = &alice_files["uses.json"];
    let uses = uses.get("uses").unwrap_or(uses);
    assert_eq!(uses[0]["to_referrer"], 10);
    assert_eq!(uses[0]["referrer"], bob.to_string());
    let bob_files = export(&t, &bob.to_string()).await;
    assert_eq!(bob_files["consumer.json"]["referral_earned"], 10);
    let rewards = &bob_files["rewards.json"];
    let rewards = rewards.get("rewards").unwrap_or(rewards);
    let referral: Vec<&Value> = rewards
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "referral")
        .collect();
    assert_eq!(referral.len(), 1, "{rewards}");
    assert_eq!(referral[0]["amount"], 10);
    // Paid by the enterprise; whose use it was is alice's, not in bob's
    // export (nor is alice anywhere in it).
    assert_eq!(referral[0]["from"], t.keys.acme.account().to_string());
    assert_eq!(referral[0]["use_id"], Value::Null);
    let everything = serde_json::to_string(&bob_files).unwrap();
    assert!(!everything.contains(&alice.to_string()), "{everything}");
    assert!(!everything.contains(&u["use_id"].as_str().unwrap().to_string()));
}

fn use_twice(t: &TestNode, consent: ConsentId) -> assent_contracts::SignedTx {
    sign(
        &t.keys.acme,
        0,
        Payload::RecordUse(RecordUse {
            uses: vec![Use {
                consumer: t.keys.alice.account(),
                basis: UseBasis::Consent(consent),
                category: Category("Purchase".into()),
                purpose: Purpose("DirectMarketing".into()),
                level: Level::Pseudonymous,
                units: 2,
                evidence_hash: Hash32([7; 32]),
            }],
        }),
    )
}

/// The JSON files of a consumer's export, by file name.
async fn export(t: &TestNode, id: &str) -> serde_json::Map<String, Value> {
    let (status, tar_bytes) = send(
        &t.router,
        signed_get(&format!("/v1/consumers/{id}/export"), &operator_key())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut files = serde_json::Map::new();
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let name = path.rsplit('/').next().unwrap_or_default().to_string();
        if name.ends_with(".json") && !path.contains("/receipts/") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            files.insert(name, serde_json::from_str(&text).unwrap());
        }
    }
    files
}
