//! After a key rotation and a recovery, `GET /v1/accounts/{id}` says which
//! key signs for the account, which keys are retired and what recovery is
//! under way; a tx signed by a retired key is refused at the door, and the
//! new key's txs act for the same account.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::{commit, get, node, post, register, sign, CHAIN_ID};
use assent_contracts::crypto::Keypair;
use assent_contracts::tx::{ClaimRecovery, RotateKey, SetGuardians, SupportRecovery};
use assent_contracts::{Payload, TxOutcome};
use axum::http::StatusCode;

fn applied(c: &assent_node::ledger::chain::Committed) {
    for r in &c.results.results {
        assert!(
            matches!(r.outcome, TxOutcome::Applied { .. }),
            "{:?}",
            r.outcome
        );
    }
}

#[tokio::test]
async fn the_api_shows_who_controls_an_account_and_refuses_retired_keys() {
    let t = node();
    let (alice, bob) = (&t.keys.alice, &t.keys.bob);
    let k2 = Keypair::from_seed([70; 32]);
    let k3 = Keypair::from_seed([71; 32]);
    applied(&commit(&t, vec![register(alice, 0), register(bob, 0)]));
    applied(&commit(
        &t,
        vec![sign(
            alice,
            1,
            Payload::RotateKey(RotateKey {
                new_key: k2.account(),
            }),
        )],
    ));
    let (_, v) = get(&t.router, &format!("/v1/accounts/{}", alice.account())).await;
    assert_eq!(v["current_key"], k2.account().to_string(), "{v}");
    assert_eq!(v["retired_from"], alice.account().to_string(), "{v}");
    let (_, v) = get(&t.router, &format!("/v1/accounts/{}", k2.account())).await;
    assert_eq!(v["signs_for"], alice.account().to_string(), "{v}");

    // The retired key's tx is refused before it takes block space.
    let old = sign(
        alice,
        2,
        Payload::RotateKey(RotateKey {
            new_key: k3.account(),
        }),
    );
    let (status, body) = post(
        &t.router,
        "/v1/txs",
        Some("application/octet-stream"),
        old.encode(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "would_be_rejected:key_rotated", "{body}");

    // Guardians and a recovery under way are shown; the claim completes it.
    applied(&commit(
        &t,
        vec![sign(
            &k2,
            0,
            Payload::SetGuardians(SetGuardians {
                guardians: vec![bob.account()],
                threshold: 1,
                delay_ms: 0,
            }),
        )],
    ));
    applied(&commit(
        &t,
        vec![sign(
            bob,
            1,
            Payload::SupportRecovery(SupportRecovery {
                account: alice.account(),
                new_key: k3.account(),
            }),
        )],
    ));
    let (_, v) = get(&t.router, &format!("/v1/accounts/{}", alice.account())).await;
    assert_eq!(v["guardians"]["threshold"], 1, "{v}");
    assert_eq!(v["recovery"]["new_key"], k3.account().to_string(), "{v}");
    assert!(v["recovery"]["effective_at_ms"].as_u64().is_some(), "{v}");
    applied(&commit(
        &t,
        vec![sign(
            &k3,
            0,
            Payload::ClaimRecovery(ClaimRecovery {
                account: alice.account(),
            }),
        )],
    ));
    let (_, v) = get(&t.router, &format!("/v1/accounts/{}", alice.account())).await;
    assert_eq!(v["current_key"], k3.account().to_string(), "{v}");
    assert!(v["recovery"].is_null(), "{v}");
    let (_, v) = get(&t.router, &format!("/v1/accounts/{}", k2.account())).await;
    assert_eq!(v["retired_from"], alice.account().to_string(), "{v}");
    let _ = CHAIN_ID;
}
