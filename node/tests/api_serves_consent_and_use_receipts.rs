//! `GET /v1/consents/{id}/receipt` and `GET /v1/uses/{id}/receipt`: shapes,
//! formats, signatures and refusals. (The test node's certificates carry no
//! signatures, so here a receipt verifies up to its certificate; the
//! real-process tests verify them whole.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use assent_contracts::consent_proof::ConsentProof;
use assent_contracts::receipt::{Receipt, Trust};
use assent_contracts::tx::{PauseConsent, ResumeConsent, RevokeConsent};
use assent_contracts::{ConsentId, Event, Payload, TxOutcome};
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
    let trust = Trust {
        chain_id: CHAIN_ID,
        genesis_hash: t.shared.chain.genesis_hash(),
        validators: &validators,
        history: None,
    };
    let proven = proof.verify(&trust).unwrap_or_else(|e| panic!("{e}"));
    for step in &proven.steps {
        assert_eq!(step.proven.commit.signers, 1, "{step:?}");
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
