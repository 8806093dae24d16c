//! `GET /v1/consents/{id}/receipt` and `GET /v1/uses/{id}/receipt`: shapes,
//! formats, signatures and refusals; a use receipt from a 2,000-use batch
//! names its own consumer and nobody else. (The test node's certificates
//! carry one signature, its single validator's.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use assent_contracts::consent_proof::ConsentProof;
use assent_contracts::crypto::Keypair;
use assent_contracts::receipt::{Item, Receipt, Trust};
use assent_contracts::terms::{Category, Level, Purpose};
use assent_contracts::tx::{PauseConsent, RecordUse, ResumeConsent, RevokeConsent, Use, UseBasis};
use assent_contracts::{AccountId, ConsentId, Event, Hash32, Payload, TxOutcome, UseId};
use axum::http::StatusCode;
use serde_json::Value;

fn consent_of(c: &assent_node::ledger::chain::Committed) -> ConsentId {
    match &c.results.results[1].outcome {
        TxOutcome::Applied { events } => match &events[0] {
            Event::ConsentGranted { consent, .. } => *consent,
            e => panic!("{e:?}"),
        },
        o => panic!("{o:?}"),
    }
}

/// Verifies a proof in full, the fixture's certificates included.
fn check_up_to_certificate(t: &TestNode, proof: &ConsentProof) {
    let validators = t.shared.chain.validators().unwrap();
    let proven = proof
        .verify(&trust(t, &validators))
        .unwrap_or_else(|e| panic!("{e}"));
    for step in &proven.steps {
        assert_eq!(step.proven.commit.signers, 1, "{step:?}");
    }
}

/// The test node's chain, as its genesis gives it.
fn trust<'a>(t: &TestNode, validators: &'a [assent_contracts::state::Validator]) -> Trust<'a> {
    Trust {
        chain_id: CHAIN_ID,
        genesis_hash: t.shared.chain.genesis_hash(),
        validators,
        history: None,
    }
}

#[tokio::test]
async fn consent_receipts_come_as_a_proof_or_signed_kantara_and_iso_records() {
    let t = node();
    let granted = commit(&t, vec![register(&t.keys.alice, 0), grant(&t, 1, None)]);
    let consent = consent_of(&granted);
    let route = format!("/v1/consents/{consent}/receipt");

    let (status, v) = get(&t.router, &route).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let proof: ConsentProof = serde_json::from_value(v).unwrap();
    assert_eq!(proof.consent, consent);
    assert_eq!(proof.receipts.len(), 1);
    assert_eq!(proof.receipts[0].tx_index, 1);
    check_up_to_certificate(&t, &proof);

    let paused = commit(
        &t,
        vec![sign(
            &t.keys.alice,
            2,
            Payload::PauseConsent(PauseConsent { consent }),
        )],
    );
    let (_, v) = get(&t.router, &route).await;
    let proof: ConsentProof = serde_json::from_value(v).unwrap();
    assert_eq!(proof.receipts.len(), 2, "grant and pause");
    let resume = sign(
        &t.keys.alice,
        3,
        Payload::ResumeConsent(ResumeConsent { consent }),
    );
    let resume_id = resume.id();
    commit(&t, vec![resume]);
    // The latest change (from the consumer's history) is the resume; ?tx=
    // proves any one change.
    let (_, v) = get(&t.router, &route).await;
    let proof: ConsentProof = serde_json::from_value(v).unwrap();
    assert_eq!(proof.receipts.len(), 2);
    assert_eq!(
        proof.receipts[1].tx,
        hex::encode(
            t.shared
                .chain
                .store()
                .block(assent_contracts::Height(3))
                .unwrap()
                .unwrap()
                .txs[0]
                .encode()
        )
    );
    let (status, v) = get(&t.router, &format!("{route}?tx={resume_id}")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let proof: ConsentProof = serde_json::from_value(v).unwrap();
    assert_eq!(proof.receipts.len(), 2);
    let pause_tx = paused.results.results[0].tx_id;
    let (_, v) = get(&t.router, &format!("{route}?tx={pause_tx}")).await;
    assert_eq!(v["receipts"].as_array().unwrap().len(), 2);
    commit(
        &t,
        vec![sign(
            &t.keys.alice,
            4,
            Payload::RevokeConsent(RevokeConsent { consent }),
        )],
    );
    let (_, v) = get(&t.router, &route).await;
    assert_eq!(
        v["receipts"].as_array().unwrap().len(),
        2,
        "grant and revocation"
    );

    for format in ["kantara", "iso27560"] {
        let (status, v) = get(&t.router, &format!("{route}?format={format}")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["format"], format);
        let jws = v["jws"].as_str().unwrap();
        assert!(jws.starts_with("eyJ"));
        let checked = assent_keys::jws::verify(jws).unwrap();
        assert_eq!(checked.signer, t.keys.validator.account());
        assert_eq!(checked.payload, v["receipt"]);
        let r = &v["receipt"];
        assert_eq!(r["assent:status"]["status"], "ConsentWithdrawn");
        assert_eq!(r["assent:consent"], consent.to_string());
        let proof: ConsentProof = serde_json::from_value(r["assent:proof"].clone()).unwrap();
        assert_eq!(proof.receipts.len(), 2);
        check_up_to_certificate(&t, &proof);
    }
    let (_, k) = get(&t.router, &format!("{route}?format=kantara")).await;
    let k = &k["receipt"];
    assert_eq!(k["version"], "KI-CR-v1.1.0");
    assert_eq!(k["piiPrincipalId"], t.keys.alice.account().to_string());
    assert_eq!(
        k["services"][0]["purposes"][0]["purposeCategory"][0],
        "https://w3id.org/dpv#DirectMarketing"
    );
    assert_eq!(k["sensitive"], false);
    let (_, i) = get(&t.router, &format!("{route}?format=iso27560")).await;
    let i = &i["receipt"];
    // acme has published no contact (SetContact): the record says so
    // instead of claiming the DPV-27560 profile.
    assert!(i.get("dct:conformsTo").is_none(), "{i}");
    assert!(
        i["assent:conformance"]
            .as_str()
            .unwrap()
            .contains("has not published a contact or a postal address"),
        "{i}"
    );
    let events = i["dpv:hasConsentStatus"].as_array().unwrap();
    assert_eq!(events.len(), 2, "the grant and the revocation");
    assert_eq!(events[1]["@type"], "dpv:ConsentWithdrawn");
    assert_eq!(
        i["dpv:hasProcess"]["dpv:hasPersonalData"][0]["@id"],
        "https://w3id.org/dpv/pd#Purchase"
    );
}

#[tokio::test]
async fn a_use_receipt_proves_the_use_and_bad_requests_are_refused() {
    let t = node();
    let granted = commit(&t, vec![register(&t.keys.alice, 0), grant(&t, 1, None)]);
    let consent = consent_of(&granted);
    let used = commit(&t, vec![record_uses(&t, 0, consent)]);
    let use_ids: Vec<String> = match &used.results.results[0].outcome {
        TxOutcome::Applied { events } => events
            .iter()
            .filter_map(|e| match e {
                Event::UseSettled { use_id, .. } | Event::UseRejected { use_id, .. } => {
                    Some(use_id.to_string())
                }
                _ => None,
            })
            .collect(),
        o => panic!("{o:?}"),
    };
    assert_eq!(use_ids.len(), 2);
    for (i, id) in use_ids.iter().enumerate() {
        let (status, v) = get(&t.router, &format!("/v1/uses/{id}/receipt")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["subject"]["kind"], "use");
        assert_eq!(v["subject"]["index"], i);
        let r: Receipt = serde_json::from_value(v).unwrap();
        assert_eq!(r.chain_id, CHAIN_ID);
    }

    let zero = "0".repeat(64);
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            format!("/v1/consents/{zero}/receipt"),
            StatusCode::NOT_FOUND,
            "unknown_consent",
        ),
        (
            "/v1/consents/xyz/receipt".into(),
            StatusCode::BAD_REQUEST,
            "bad_consent_id",
        ),
        (
            format!("/v1/consents/{consent}/receipt?format=pdf"),
            StatusCode::BAD_REQUEST,
            "bad_format",
        ),
        (
            format!("/v1/consents/{consent}/receipt?tx=nothex"),
            StatusCode::BAD_REQUEST,
            "bad_tx_id",
        ),
        (
            format!("/v1/consents/{consent}/receipt?tx={zero}"),
            StatusCode::NOT_FOUND,
            "unknown_tx",
        ),
        (
            format!(
                "/v1/consents/{consent}/receipt?tx={}",
                used.results.results[0].tx_id
            ),
            StatusCode::BAD_REQUEST,
            "not_a_change",
        ),
        (
            format!("/v1/uses/{zero}/receipt"),
            StatusCode::NOT_FOUND,
            "unknown_use",
        ),
        (
            "/v1/uses/12/receipt".into(),
            StatusCode::BAD_REQUEST,
            "bad_use_id",
        ),
        (
            format!("/v1/uses/{}/receipt?format=kantara", use_ids[0]),
            StatusCode::BAD_REQUEST,
            "bad_format",
        ),
    ];
    for (uri, status, code) in cases {
        let got = get(&t.router, &uri).await;
        assert_error(&got, status, code);
        if code == "bad_format" {
            let msg = got.1["message"].as_str().unwrap_or_default();
            assert!(msg.contains("proof"), "{msg}");
        }
    }
    // The routes are in the OpenAPI document.
    let (_, doc) = get(&t.router, "/v1/openapi.json").await;
    for p in ["/v1/consents/{id}/receipt", "/v1/uses/{id}/receipt"] {
        assert!(doc["paths"].get(p).is_some_and(Value::is_object), "{p}");
    }
}

/// Every account of `accounts` that appears in `receipt` (its JSON text, or
/// any of its hex fields decoded), as bech32 text, hex or raw bytes.
fn named_in(receipt: &Value, accounts: &[AccountId]) -> Vec<AccountId> {
    let text = receipt.to_string();
    let mut bytes = Vec::new();
    fn walk(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::String(s) => out.extend(hex::decode(s).unwrap_or_default()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(receipt, &mut bytes);
    let raw: std::collections::HashSet<&[u8]> = bytes.windows(32).collect();
    accounts
        .iter()
        .filter(|a| {
            raw.contains(&a.0[..])
                || text.contains(&a.to_string())
                || text.contains(&hex::encode(a.0))
        })
        .copied()
        .collect()
}

#[tokio::test]
async fn a_use_receipt_from_a_2000_use_batch_names_only_its_own_consumer() {
    let t = node();
    let granted = commit(&t, vec![register(&t.keys.alice, 0), grant(&t, 1, None)]);
    let consent = consent_of(&granted);
    let alice = t.keys.alice.account();
    // alice's use is #1000 of 2,000; the other 1,999 consumers never
    // registered, so theirs are rejected.
    let consumers: Vec<AccountId> = (0..2_000u32)
        .map(|i| {
            if i == 1_000 {
                return alice;
            }
            let mut seed = [0x3c; 32];
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
            category: Category("Purchase".into()),
            purpose: Purpose("DirectMarketing".into()),
            level: Level::Aggregate,
            units: 1,
            evidence_hash: Hash32::tagged("evidence", &[&(i as u64).to_le_bytes()]),
        })
        .collect();
    let tx = sign(&t.keys.acme, 0, Payload::RecordUse(RecordUse { uses }));
    let tx_id = tx.id();
    let used = commit(&t, vec![tx]);
    assert!(matches!(
        used.results.results[0].outcome,
        TxOutcome::Applied { .. }
    ));
    let validators = t.shared.chain.validators().unwrap();

    for (i, settled) in [(1_000u32, true), (0, false), (1_999, false)] {
        let id = UseId::derive(&tx_id, i);
        let route = format!("/v1/uses/{id}/receipt");
        // Signed reads: the use's enterprise (and alice for her own) read
        // it, found through the use's outcome; anyone else is refused.
        let reader = if i == 1_000 {
            &t.keys.alice
        } else {
            &t.keys.acme
        };
        let (status, v) = get_as(&t.router, reader, &route).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let stranger = Keypair::from_seed([0x71; 32]);
        assert_eq!(
            get_as(&t.router, &stranger, &route).await.0,
            StatusCode::FORBIDDEN
        );
        if i != 1_000 {
            assert_eq!(
                get_as(&t.router, &t.keys.alice, &route).await.0,
                StatusCode::FORBIDDEN
            );
        }
        assert_eq!(v["version"], "assent-receipt/2");
        let who = consumers[i as usize];
        assert_eq!(named_in(&v, &consumers), vec![who], "use #{i}");
        assert!(
            v.to_string().len() < 8 * 1024,
            "use #{i}: {} bytes",
            v.to_string().len()
        );

        let r: Receipt = serde_json::from_value(v).unwrap();
        let p = r.verify(&trust(&t, &validators)).unwrap();
        assert!(matches!(&p.item, Item::Use { data, count: 2_000 } if data.consumer == who));
        let text = p.describe(&|_| None);
        let says = if settled {
            format!("used {who}'s Purchase data for DirectMarketing (1 unit(s)), settled: paid 5 points")
        } else {
            format!("a use of {who}'s data that was REJECTED (not_consumer:")
        };
        assert!(text.contains(&says), "{text}");

        // A flipped byte in its path is refused by the check it breaks.
        let mut bad = r.clone();
        let part = bad.used.as_mut().unwrap();
        let mut h = hex::decode(&part.path[4]).unwrap();
        h[0] ^= 1;
        part.path[4] = hex::encode(h);
        let e = bad.verify(&trust(&t, &validators)).unwrap_err();
        assert_eq!(e.check(), "use_in_tx", "{e}");
    }

    // alice's export holds her use's receipt, and nobody else of the batch.
    let (status, tar_bytes) = send(
        &t.router,
        signed_get(&format!("/v1/consumers/{alice}/export"), &t.keys.alice)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    let mut receipts = 0;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let named = named_in(&v, &consumers);
        assert!(named.iter().all(|a| *a == alice), "{path} names {named:?}");
        if path.contains("/receipts/use-") {
            receipts += 1;
            assert_eq!(named, vec![alice], "{path}");
        }
    }
    assert_eq!(receipts, 1);
}
