//! `GET /v1/consents/{id}/status-proof` and `GET /v1/state-proofs/{kind}/{id}`:
//! a record (or its absence) at the head or a past height, with a path that
//! leads to that height's header; bad kinds, ids and heights are refused by
//! name. (The test node's certificates carry no signatures, so the proofs
//! are checked here up to the certificate; the real-process test and the
//! contracts' tests verify them whole.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use assent_contracts::state::tree::state_root;
use assent_contracts::state::ConsentState;
use assent_contracts::state_proof::{RecordRef, StateProof};
use assent_contracts::tx::RevokeConsent;
use assent_contracts::{codec, BlockHeader, ConsentId, Event, Payload, TxOutcome};
use axum::http::StatusCode;

fn consent_of(c: &assent_node::ledger::chain::Committed) -> ConsentId {
    match &c.results.results[1].outcome {
        TxOutcome::Applied { events } => match &events[0] {
            Event::ConsentGranted { consent, .. } => *consent,
            e => panic!("{e:?}"),
        },
        o => panic!("{o:?}"),
    }
}

/// Checks the proof's path against its own header; returns the record.
fn checked(t: &TestNode, p: &StateProof) -> Option<Vec<u8>> {
    assert_eq!(p.version, "assent-state-proof/1");
    assert_eq!(p.genesis_hash, t.shared.chain.genesis_hash().to_string());
    let header: BlockHeader = codec::decode(&hex::decode(&p.header).unwrap()).unwrap();
    assert_eq!(header.height, p.height);
    let value = p.value.as_ref().map(|v| hex::decode(v).unwrap());
    let root = p.proof.root(&p.record.key(), value.as_deref()).unwrap();
    assert_eq!(state_root(header.height, &root), header.state_root);
    value
}

async fn proof(t: &TestNode, route: &str) -> StateProof {
    let (status, v) = get(&t.router, route).await;
    assert_eq!(status, StatusCode::OK, "{route}: {v}");
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn a_consents_status_is_proved_at_the_head_and_at_a_past_height() {
    let t = node();
    let granted = commit(&t, vec![register(&t.keys.alice, 0), grant(&t, 1, None)]);
    let consent = consent_of(&granted);
    let live_height = granted.head.height;
    let revoke = sign(
        &t.keys.alice,
        2,
        Payload::RevokeConsent(RevokeConsent { consent }),
    );
    commit(&t, vec![revoke]);
    commit(&t, vec![]);

    let route = format!("/v1/consents/{consent}/status-proof");
    let now = proof(&t, &route).await;
    assert_eq!(now.height, t.shared.chain.head().height);
    assert_eq!(now.record, RecordRef::Consent(consent));
    let c: assent_contracts::state::Consent =
        codec::decode(&checked(&t, &now).expect("the consent exists")).unwrap();
    assert!(matches!(c.state, ConsentState::Revoked { .. }));

    // At the grant's height it was live — though it changed since.
    let then = proof(&t, &format!("{route}?height={}", live_height.0)).await;
    assert_eq!(then.height, live_height);
    let c: assent_contracts::state::Consent = codec::decode(&checked(&t, &then).unwrap()).unwrap();
    assert_eq!(c.state, ConsentState::Active);

    // The generic route gives the same proof.
    let same = proof(&t, &format!("/v1/state-proofs/consent/{consent}")).await;
    assert_eq!(same, now);
}

#[tokio::test]
async fn unknown_records_get_absence_proofs_and_other_kinds_prove_their_values() {
    let t = node();
    commit(&t, vec![register(&t.keys.alice, 0)]);
    let nobody = ConsentId(assent_contracts::Hash32([0x42; 32]));
    let p = proof(&t, &format!("/v1/consents/{nobody}/status-proof")).await;
    assert!(p.is_absence());
    assert_eq!(checked(&t, &p), None);

    let alice = t.keys.alice.account();
    for kind in ["account", "consumer", "reputation"] {
        let p = proof(&t, &format!("/v1/state-proofs/{kind}/{alice}")).await;
        let exists = checked(&t, &p).is_some();
        // alice registered (consumer, account with a nonce); no reputation.
        assert_eq!(exists, kind != "reputation", "{kind}");
    }
    let p = proof(&t, "/v1/state-proofs/validators/set").await;
    assert!(checked(&t, &p).is_some(), "the validator set is a record");
    let acme = t.keys.acme.account();
    let p = proof(&t, &format!("/v1/state-proofs/enterprise/{acme}")).await;
    assert!(checked(&t, &p).is_some());
}

#[tokio::test]
async fn bad_kinds_ids_and_heights_are_refused_by_name() {
    let t = node();
    commit(&t, vec![register(&t.keys.alice, 0)]);
    let head = t.shared.chain.head().height.0;
    let consent = ConsentId(assent_contracts::Hash32([1; 32]));
    for (route, status, code) in [
        (
            "/v1/state-proofs/wallet/x".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_kind",
        ),
        (
            "/v1/state-proofs/consent/zz".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_consent_id",
        ),
        (
            "/v1/state-proofs/account/assent1nope".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_account_id",
        ),
        (
            "/v1/consents/12/status-proof".to_string(),
            StatusCode::BAD_REQUEST,
            "bad_consent_id",
        ),
        (
            format!("/v1/consents/{consent}/status-proof?height=0"),
            StatusCode::BAD_REQUEST,
            "genesis_height",
        ),
        (
            format!("/v1/consents/{consent}/status-proof?height={}", head + 1),
            StatusCode::NOT_FOUND,
            "height_not_committed",
        ),
        (
            format!("/v1/consents/{consent}/status-proof?height=-1"),
            StatusCode::BAD_REQUEST,
            "bad_query",
        ),
    ] {
        let (got, v) = get(&t.router, &route).await;
        assert_eq!(got, status, "{route}: {v}");
        assert_eq!(v["code"], code, "{route}: {v}");
        assert!(!v["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn snapshot_routes_refuse_what_is_not_there_by_name() {
    let t = node();
    commit(&t, vec![register(&t.keys.alice, 0)]);
    // This test node serves no snapshots and its set never changed.
    let (status, v) = get(&t.router, "/v1/snapshots").await;
    assert_eq!(
        (status, v["snapshots"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let (status, v) = get(&t.router, "/v1/validator-sets").await;
    assert_eq!(
        (status, v["proofs"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    for (route, status, code) in [
        (
            "/v1/snapshots/5/chunks/0",
            StatusCode::NOT_FOUND,
            "unknown_snapshot",
        ),
        (
            "/v1/snapshots/5/chunks/999",
            StatusCode::NOT_FOUND,
            "unknown_snapshot",
        ),
        (
            "/v1/snapshots/5/anchor",
            StatusCode::NOT_FOUND,
            "unknown_snapshot",
        ),
        (
            "/v1/snapshots/x/chunks/0",
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
        (
            "/v1/snapshots/5/chunks/-1",
            StatusCode::BAD_REQUEST,
            "bad_path",
        ),
        (
            "/v1/validator-sets?to=abc",
            StatusCode::BAD_REQUEST,
            "bad_query",
        ),
        (
            "/v1/state-proofs/validators/x",
            StatusCode::BAD_REQUEST,
            "bad_validators_id",
        ),
    ] {
        let (got, v) = get(&t.router, route).await;
        assert_eq!(got, status, "{route}: {v}");
        assert_eq!(v["code"], code, "{route}: {v}");
    }
}
