//! Signed reads (issue 14, item 1): every route of the OpenAPI document
//! answers by its access rule — public to anyone; operator routes to
//! operators; a record to its parties (a consumer its own, an enterprise
//! what concerns it) and to operators, who are counted. Unsigned is 401,
//! a stranger 403; an expired, replayed, re-targeted or other-chain
//! signature is 401 with its own code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use assent_contracts::crypto::Keypair;
use assent_contracts::{ConsentId, Event, TxOutcome, UseId};
use assent_node::api::{Access, ROUTES};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

struct Fixture {
    t: TestNode,
    consent: ConsentId,
    use_id: UseId,
    grant_tx: String,
}

/// alice (consumer) grants acme a consent and acme records uses under it;
/// bob is a consumer with nothing to do with either.
fn fixture() -> Fixture {
    let t = node();
    let c = commit(
        &t,
        vec![
            register(&t.keys.alice, 0),
            grant(&t, 1, None),
            register(&t.keys.bob, 0),
        ],
    );
    let grant_tx = c.results.results[1].tx_id.to_string();
    let consent = match &c.results.results[1].outcome {
        TxOutcome::Applied { events } => match &events[0] {
            Event::ConsentGranted { consent, .. } => *consent,
            e => panic!("{e:?}"),
        },
        o => panic!("{o:?}"),
    };
    let link = assent_contracts::Payload::LinkIdentity(assent_contracts::tx::LinkIdentity {
        enterprise: t.keys.acme.account(),
        kind: assent_contracts::identity::IdentityKind::Email,
        commitment: assent_contracts::ids::LinkCommitment(assent_contracts::Hash32([9; 32])),
    });
    let c = commit(
        &t,
        vec![record_uses(&t, 0, consent), sign(&t.keys.alice, 2, link)],
    );
    let use_id = match &c.results.results[0].outcome {
        TxOutcome::Applied { events } => events
            .iter()
            .find_map(|e| match e {
                Event::UseSettled { use_id, .. } => Some(*use_id),
                _ => None,
            })
            .unwrap(),
        o => panic!("{o:?}"),
    };
    Fixture {
        t,
        consent,
        use_id,
        grant_tx,
    }
}

/// A concrete request for each route, and the key that is a party to it
/// (`None`: public or operator-only).
fn concrete(f: &Fixture, method: &str, path: &str) -> (String, Option<Keypair>) {
    let alice = f.t.keys.alice.account();
    let acme = f.t.keys.acme.account();
    let a = || Some(Keypair::from_seed(f.t.keys.alice.seed()));
    match (method, path) {
        ("GET", "/v1/txs/{id}") => (format!("/v1/txs/{}", f.grant_tx), a()),
        ("GET", "/v1/accounts/{id}") => (format!("/v1/accounts/{alice}"), a()),
        ("GET", "/v1/consumers/{id}/links/{enterprise}/{kind}") => {
            (format!("/v1/consumers/{alice}/links/{acme}/email"), a())
        }
        ("GET", p) if p.starts_with("/v1/consumers/{id}/") => {
            (p.replace("{id}", &alice.to_string()), a())
        }
        ("GET", "/v1/enterprises/{id}") => (format!("/v1/enterprises/{acme}"), None),
        ("GET", "/v1/keys/{key}") => (format!("/v1/keys/{alice}"), None),
        // Any signed account follows its own events.
        ("GET", "/v1/events") => ("/v1/events".into(), a()),
        ("GET", "/v1/blocks/{height}") => ("/v1/blocks/1".into(), None),
        ("GET", "/v1/consents/{id}/receipt") => {
            (format!("/v1/consents/{}/receipt", f.consent), a())
        }
        ("GET", "/v1/consents/{id}/status-proof") => {
            (format!("/v1/consents/{}/status-proof", f.consent), a())
        }
        ("GET", "/v1/uses/{id}/receipt") => (format!("/v1/uses/{}/receipt", f.use_id), a()),
        ("GET", "/v1/state-proofs/{kind}/{id}") => {
            (format!("/v1/state-proofs/account/{alice}"), a())
        }
        ("GET", "/v1/snapshots/{height}/chunks/{index}") => {
            ("/v1/snapshots/1/chunks/0".into(), None)
        }
        ("GET", "/v1/snapshots/{height}/anchor") => ("/v1/snapshots/1/anchor".into(), None),
        ("GET", "/v1/certified-blocks") => ("/v1/certified-blocks?from=1".into(), None),
        (_, p) => {
            assert!(!p.contains('{'), "no concrete request for {method} {p}");
            (p.to_string(), None)
        }
    }
}

async fn call(f: &Fixture, method: &str, uri: &str, key: Option<&Keypair>) -> (StatusCode, Value) {
    let req = match (method, key) {
        ("POST", _) => Request::post(uri)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap(),
        (_, Some(k)) => signed_get(uri, k).body(Body::empty()).unwrap(),
        (_, None) => Request::get(uri).body(Body::empty()).unwrap(),
    };
    let resp = tower::ServiceExt::oneshot(f.t.router.clone(), req)
        .await
        .unwrap();
    let status = resp.status();
    // Event streams do not end: their head is enough.
    if uri.starts_with("/v1/events") && status == StatusCode::OK {
        return (status, Value::Null);
    }
    let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_route_answers_by_its_access_rule() {
    let f = fixture();
    let stranger = Keypair::from_seed(f.t.keys.bob.seed());
    for (method, path, access) in ROUTES {
        let (uri, party) = concrete(&f, method, path);
        let anon = call(&f, method, &uri, None).await;
        let by_stranger = call(&f, method, &uri, Some(&stranger)).await;
        let by_operator = call(&f, method, &uri, Some(&operator_key())).await;
        let what = format!("{method} {uri} ({})", access.as_str());
        match access {
            Access::Public => {
                assert_ne!(anon.0, StatusCode::UNAUTHORIZED, "{what}: {}", anon.1);
                assert_ne!(anon.0, StatusCode::FORBIDDEN, "{what}: {}", anon.1);
                assert_ne!(by_stranger.0, StatusCode::FORBIDDEN, "{what}");
            }
            Access::Operator => {
                assert_eq!(anon.0, StatusCode::UNAUTHORIZED, "{what}: {}", anon.1);
                assert_eq!(anon.1["code"], "unsigned", "{what}");
                assert_eq!(
                    by_stranger.0,
                    StatusCode::FORBIDDEN,
                    "{what}: {}",
                    by_stranger.1
                );
                assert!(
                    !matches!(by_operator.0.as_u16(), 401 | 403),
                    "{what}: the operator got {} {}",
                    by_operator.0,
                    by_operator.1
                );
            }
            Access::Party | Access::Record => {
                assert_eq!(anon.0, StatusCode::UNAUTHORIZED, "{what}: {}", anon.1);
                assert_eq!(anon.1["code"], "unsigned", "{what}");
                if *path != "/v1/events" {
                    assert_eq!(
                        by_stranger.0,
                        StatusCode::FORBIDDEN,
                        "{what}: a stranger got {}",
                        by_stranger.1
                    );
                    assert_eq!(by_stranger.1["code"], "forbidden", "{what}");
                }
                let party = party.unwrap_or_else(|| panic!("{what} names no party"));
                let mine = call(&f, method, &uri, Some(&party)).await;
                assert_eq!(mine.0, StatusCode::OK, "{what}: the party got {}", mine.1);
                assert_eq!(by_operator.0, StatusCode::OK, "{what}: {}", by_operator.1);
            }
        }
    }
    // Operators' reads of others' records were counted, by route.
    let (_, text) = get_unsigned(&f.t.router, "/metrics").await;
    let text = text.as_str().unwrap();
    assert!(
        text.contains("assent_api_operator_reads_total{route=\"/v1/blocks/{height}\"}"),
        "{text}"
    );
    assert!(
        text.contains("assent_api_reads_refused_total{reason=\"forbidden\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn an_enterprise_sees_what_concerns_it_and_a_consumer_only_its_own() {
    let f = fixture();
    let (t, alice, acme) = (&f.t, f.t.keys.alice.account(), f.t.keys.acme.account());
    let consents = format!("/v1/consumers/{alice}/consents");
    // acme, to which alice granted a consent, sees it.
    let (s, v) = get_as(&t.router, &t.keys.acme, &consents).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let list = v["consents"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["enterprise"], acme.to_string());
    // Its uses of alice's data, too; not her earnings, balance or export.
    let (s, v) = get_as(
        &t.router,
        &t.keys.acme,
        &format!("/v1/consumers/{alice}/uses"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["uses"].as_array().unwrap().len(), 2, "{v}");
    for private in ["earnings", "policies", "export"] {
        let (s, v) = get_as(
            &t.router,
            &t.keys.acme,
            &format!("/v1/consumers/{alice}/{private}"),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{private}: {v}");
    }
    let (s, _) = get_as(&t.router, &t.keys.acme, &format!("/v1/accounts/{alice}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Another consumer sees nothing of alice's, and reads its own.
    let (s, v) = get_as(&t.router, &t.keys.bob, &consents).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("may not read"),
        "{v}"
    );
    let bob = t.keys.bob.account();
    let (s, v) = get_as(
        &t.router,
        &t.keys.bob,
        &format!("/v1/consumers/{bob}/consents"),
    )
    .await;
    assert_eq!(
        (s, v["consents"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
    // An enterprise's own account is its own; its public profile is anyone's.
    let (s, _) = get_as(&t.router, &t.keys.bob, &format!("/v1/accounts/{acme}")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = get_unsigned(&t.router, &format!("/v1/enterprises/{acme}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The aggregate figures are anyone's, and name no account.
    let (s, v) = get_unsigned(&t.router, "/v1/stats").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["consents"]["live"], 1, "{v}");
    assert_eq!(
        (v["uses_settled"].as_u64(), v["uses_rejected"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    assert_eq!(v["points_paid"], 10, "{v}");
    assert!(!v.to_string().contains("assent1"), "{v}");
    // The enterprise standing is provable by anyone; an account only by itself.
    let (s, _) = get_unsigned(&t.router, &format!("/v1/state-proofs/enterprise/{acme}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = get_as(
        &t.router,
        &t.keys.bob,
        &format!("/v1/state-proofs/account/{alice}"),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_account_follows_only_the_events_that_name_it() {
    let f = fixture();
    let t = &f.t;
    let open = |key: &Keypair, uri: &str| {
        let req = signed_get(uri, key).body(Body::empty()).unwrap();
        tower::ServiceExt::oneshot(t.router.clone(), req)
    };
    // From the start of the chain: alice's registration and grant, bob's
    // registration, the uses of alice's data.
    let resp = open(&t.keys.bob, "/v1/events?from=0:0").await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut bob = SseReader::new(resp.into_body());
    let resp = open(&t.keys.alice, "/v1/events?from=0:0").await.unwrap();
    let mut alice = SseReader::new(resp.into_body());
    // A later event of bob's ends both reads.
    commit(t, vec![grant_from(t, &t.keys.bob, 1)]);
    let got = bob.read(2, std::time::Duration::from_secs(10)).await;
    let kinds: Vec<&str> = got.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["consumer_registered", "consent_granted"], "{got:?}");
    let bob_id = t.keys.bob.account().to_string();
    assert!(
        got.iter().all(|e| e.data.to_string().contains(&bob_id)),
        "{got:?}"
    );
    let got = alice.read(4, std::time::Duration::from_secs(10)).await;
    let alice_id = t.keys.alice.account().to_string();
    assert!(
        got.iter().all(|e| e.data.to_string().contains(&alice_id)),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|e| e.data.to_string().contains(&bob_id)),
        "{got:?}"
    );
    // The block view is for operators.
    let resp = open(&t.keys.alice, "/v1/events?view=blocks").await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = open(&operator_key(), "/v1/events?view=blocks")
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// bob grants acme a consent.
fn grant_from(t: &TestNode, key: &Keypair, nonce: u64) -> assent_contracts::SignedTx {
    sign(key, nonce, grant(t, 0, None).body.payload)
}

#[tokio::test]
async fn expired_replayed_retargeted_and_foreign_signatures_are_401() {
    let f = fixture();
    let t = &f.t;
    let alice = t.keys.alice.account();
    let uri = format!("/v1/consumers/{alice}/consents");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let with = |h: assent_keys::reads::SignedHeaders, target: &str| {
        Request::get(target)
            .header("signature-input", h.signature_input)
            .header("signature", h.signature)
            .body(Body::empty())
            .unwrap()
    };
    let sign = |chain: &str, target: &str, at: u64, life: u64| {
        assent_keys::reads::sign(&t.keys.alice, chain, "GET", target, at, life)
    };
    let cases = [
        (
            with(sign(CHAIN_ID, &uri, now - 400, 300), &uri),
            "signature_expired",
        ),
        (
            with(sign(CHAIN_ID, &uri, now + 120, 60), &uri),
            "signature_not_yet_valid",
        ),
        (
            with(sign(CHAIN_ID, &uri, now, 3_600), &uri),
            "signature_lifetime_too_long",
        ),
        (
            with(sign("assent-other-1", &uri, now, 60), &uri),
            "bad_signature",
        ),
        (
            with(
                sign(CHAIN_ID, &format!("/v1/consumers/{alice}/uses"), now, 60),
                &uri,
            ),
            "bad_signature",
        ),
        (
            Request::get(&uri)
                .header("signature-input", "assent=(\"@method\")")
                .header("signature", "assent=:AAAA:")
                .body(Body::empty())
                .unwrap(),
            "bad_signature_header",
        ),
        (
            Request::get(&uri)
                .header("signature", "assent=:AAAA:")
                .body(Body::empty())
                .unwrap(),
            "bad_signature_header",
        ),
    ];
    for (req, code) in cases {
        let (s, body) = send(&t.router, req).await;
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (s, v["code"].as_str().unwrap()),
            (StatusCode::UNAUTHORIZED, code),
            "{v}"
        );
    }
    // A good signature reads once; the same bytes again are a replay.
    let h = sign(CHAIN_ID, &uri, now, 60);
    let (s, _) = send(&t.router, with(h.clone(), &uri)).await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = send(&t.router, with(h, &uri)).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (StatusCode::UNAUTHORIZED, "replayed_signature")
    );
}

#[tokio::test]
async fn after_a_rotation_the_new_key_reads_the_account_and_the_old_one_only_its_txs() {
    let f = fixture();
    let t = &f.t;
    let alice = t.keys.alice.account();
    let new_key = Keypair::from_seed([77; 32]);
    let rotate = sign(
        &t.keys.alice,
        3,
        assent_contracts::Payload::RotateKey(assent_contracts::tx::RotateKey {
            new_key: new_key.account(),
        }),
    );
    let c = commit(t, vec![rotate]);
    let rotation = c.results.results[0].tx_id.to_string();
    assert!(
        matches!(c.results.results[0].outcome, TxOutcome::Applied { .. }),
        "{:?}",
        c.results.results[0]
    );
    let consents = format!("/v1/consumers/{alice}/consents");
    let (s, v) = get_as(&t.router, &new_key, &consents).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["consents"].as_array().unwrap().len(), 1, "{v}");
    // The retired key (a lost one, perhaps) reads nothing of the account…
    let (s, v) = get_as(&t.router, &t.keys.alice, &consents).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("retired_key")),
        "{v}"
    );
    let (s, _) = get_as(&t.router, &t.keys.alice, &format!("/v1/accounts/{alice}")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // …but follows the rotation it signed.
    let (s, v) = get_as(&t.router, &t.keys.alice, &format!("/v1/txs/{rotation}")).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("committed")),
        "{v}"
    );
    // A client finds which of its keys signs for the account now.
    let (s, v) = get_unsigned(&t.router, &format!("/v1/keys/{}", new_key.account())).await;
    assert_eq!(
        (s, v["signs_for"].as_str()),
        (StatusCode::OK, Some(alice.to_string().as_str()))
    );
    let (_, v) = get_unsigned(&t.router, &format!("/v1/keys/{alice}")).await;
    assert_eq!(
        v["retired_from"].as_str(),
        Some(alice.to_string().as_str()),
        "{v}"
    );
    assert!(v["signs_for"].is_null(), "{v}");
    // Garbage for a key is refused by name.
    assert_error(
        &get_unsigned(&t.router, "/v1/keys/assent1nonsense").await,
        StatusCode::BAD_REQUEST,
        "bad_account",
    );
}
