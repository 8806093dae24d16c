//! Every query route answers the JSON shape of docs/node-interfaces.md, bad
//! input is a 4xx `{code, message}`, and the OpenAPI document lists every route.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use api_support::*;
use assent_contracts::state::PolicyTarget;
use assent_contracts::state::StateExt;
use assent_contracts::terms::{Category, Level, Purpose, Sector};
use assent_contracts::tx::{PauseConsent, Rate, RevokeConsent, SetPolicy};
use assent_contracts::{Amount, ConsentId, Payload, PolicyId};
use axum::http::StatusCode;
use serde_json::{json, Value};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Three blocks: alice registers and grants four consents (one expiring
/// soon), acme posts two requests (one short), then records two uses (one
/// covered, one not), alice pauses one consent and revokes another, then
/// rates acme and sets a policy for the retail sector.
fn scenario(t: &TestNode) -> [ConsentId; 4] {
    let g = [
        grant(t, 1, None),
        grant(t, 2, Some(GENESIS_TIME + 1_500)),
        grant(t, 3, None),
        grant(t, 4, None),
    ];
    let ids = g.clone().map(|tx| ConsentId(tx.id().0));
    let mut b1 = vec![register(&t.keys.alice, 0)];
    b1.extend(g);
    b1.push(post_request(t, 0, 3_600_000));
    b1.push(post_request(t, 1, 500));
    commit(t, b1);
    let alice = &t.keys.alice;
    commit(
        t,
        vec![
            record_uses(t, 2, ids[0]),
            sign(
                alice,
                5,
                Payload::PauseConsent(PauseConsent { consent: ids[2] }),
            ),
            sign(
                alice,
                6,
                Payload::RevokeConsent(RevokeConsent { consent: ids[3] }),
            ),
        ],
    );
    let policy = SetPolicy {
        target: PolicyTarget::Sector(Sector::Retail),
        categories: vec![Category("Purchase".into())],
        purposes: vec![Purpose("DirectMarketing".into())],
        level: Level::Aggregate,
        min_price: Amount(3),
    };
    commit(
        t,
        vec![
            sign(
                alice,
                7,
                Payload::Rate(Rate {
                    enterprise: t.keys.acme.account(),
                    consent: ids[0],
                    score: 4,
                }),
            ),
            sign(alice, 8, Payload::SetPolicy(policy)),
        ],
    );
    ids
}

#[tokio::test]
async fn status_account_and_roles() {
    let t = node();
    scenario(&t);
    let (status, s) = get(&t.router, "/v1/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        keys(&s),
        set(&[
            "chain_id",
            "genesis_hash",
            "height",
            "block_hash",
            "state_root",
            "time_ms",
            "validators",
            "indexed_height",
            "persisted_height",
            "peers",
            "syncing",
            "mempool",
            "moniker",
            "validator_key",
            "validating"
        ])
    );
    // The indexer and the persister run behind the commit, never ahead.
    assert!(s["indexed_height"].as_u64().is_some_and(|h| h <= 3), "{s}");
    assert!(
        s["persisted_height"].as_u64().is_some_and(|h| h <= 3),
        "{s}"
    );
    let head = t.shared.chain.head();
    assert_eq!(s["chain_id"], CHAIN_ID);
    assert_eq!(s["height"], 3);
    assert_eq!(s["block_hash"], head.block_hash.to_string());
    assert_eq!(s["time_ms"], head.time.0);
    assert_eq!(s["moniker"], "api-test");
    assert_eq!(
        s["validators"],
        json!([{ "name": "validator-0", "consensus_key": t.keys.validator.account().to_string(), "power": 1 }])
    );
    assert_eq!(
        (
            s["peers"].as_u64(),
            s["syncing"].as_bool(),
            s["mempool"].as_u64()
        ),
        (Some(0), Some(false), Some(0))
    );

    for (key, roles) in [
        (&t.keys.alice, json!(["consumer"])),
        (&t.keys.acme, json!(["enterprise"])),
        (&t.keys.operator, json!(["operator"])),
        (&t.keys.mint, json!(["mint_authority"])),
        (&t.keys.bob, json!([])),
    ] {
        let (status, a) = get(&t.router, &format!("/v1/accounts/{}", key.account())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            keys(&a),
            set(&[
                "account",
                "balance",
                "nonce",
                "next_nonce",
                "roles",
                "current_key",
                "signs_for",
                "retired_from",
                "guardians",
                "recovery"
            ])
        );
        assert_eq!(a["roles"], roles, "{a}");
    }
    let (_, a) = get(
        &t.router,
        &format!("/v1/accounts/{}", t.keys.alice.account()),
    )
    .await;
    assert_eq!(
        (a["nonce"].as_u64(), a["next_nonce"].as_u64()),
        (Some(9), Some(9))
    );
    assert_eq!(a["balance"], 9, "2 units at 5 points, 10% to the operators");

    let bad = get(&t.router, "/v1/accounts/assent1nope").await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "bad_account");
    assert!(
        bad.1["message"].as_str().unwrap().contains("assent1"),
        "{}",
        bad.1
    );
}

#[tokio::test]
async fn consents_carry_dpv_statuses_and_the_ledger_record() {
    let t = node();
    let ids = scenario(&t);
    let alice = t.keys.alice.account();
    let (status, body) = get(&t.router, &format!("/v1/consumers/{alice}/consents")).await;
    assert_eq!(status, StatusCode::OK);
    let consents = body["consents"].as_array().unwrap();
    assert_eq!(consents.len(), 4);
    let status_of = |id: &ConsentId| {
        consents
            .iter()
            .find(|c| c["id"] == id.to_string())
            .map(|c| c["status"].clone())
            .unwrap()
    };
    assert_eq!(status_of(&ids[0]), "ConsentGiven");
    assert_eq!(status_of(&ids[1]), "ConsentExpired");
    assert_eq!(status_of(&ids[2]), "ConsentPaused");
    assert_eq!(status_of(&ids[3]), "ConsentWithdrawn");
    let rated: Vec<_> = consents.iter().map(|c| c["rating"].clone()).collect();
    assert_eq!(
        rated.iter().filter(|r| **r == json!(4)).count(),
        1,
        "alice rated acme 4 under ids[0]: {rated:?}"
    );
    // Each answer is the ledger's own record (same JSON) plus its status.
    for c in consents {
        let id: ConsentId = c["id"].as_str().unwrap().parse().unwrap();
        let record =
            serde_json::to_value(t.shared.chain.store().consent(&id).unwrap().unwrap()).unwrap();
        for (k, v) in record.as_object().unwrap() {
            assert_eq!(&c[k], v, "field {k}");
        }
        // … and the consumer's rating under it, if any.
        let rating = t.shared.chain.store().rating(&id).unwrap();
        assert_eq!(c["rating"].as_u64(), rating.map(u64::from), "{c}");
        assert_eq!(keys(c).len(), keys(&record).len() + 2);
    }
    let (_, empty) = get(
        &t.router,
        &format!("/v1/consumers/{}/consents", t.keys.bob.account()),
    )
    .await;
    assert_eq!(empty, json!({ "consents": [] }));

    let (status, body) = get(&t.router, &format!("/v1/consumers/{alice}/policies")).await;
    assert_eq!(status, StatusCode::OK);
    let policies = body["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1, "{body}");
    assert_eq!(policies[0]["target"], json!({ "sector": "retail" }));
    assert_eq!(policies[0]["min_price"], 3);
    let id: PolicyId = policies[0]["id"].as_str().unwrap().parse().unwrap();
    let record =
        serde_json::to_value(t.shared.chain.store().policy(&id).unwrap().unwrap()).unwrap();
    assert_eq!(
        policies[0], record,
        "a policy answer is the ledger's record"
    );
}

#[tokio::test]
async fn uses_earnings_and_enterprise_reputation() {
    let t = node();
    let ids = scenario(&t);
    let alice = t.keys.alice.account();
    let (status, body) = get(&t.router, &format!("/v1/consumers/{alice}/uses")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let uses = body["uses"].as_array().unwrap();
    assert_eq!(uses.len(), 2);
    let fields = set(&[
        "use_id",
        "height",
        "time",
        "tx_id",
        "index",
        "tx_index",
        "enterprise",
        "basis",
        "category",
        "purpose",
        "units",
        "settled",
        "paid",
        "to_consumer",
        "to_operators",
        "to_referrer",
        "referrer",
        "code",
        "reason",
    ]);
    assert_eq!(keys(&uses[0]), fields);
    // Newest first: the rejected second use, then the settled first one.
    assert_eq!(
        (uses[0]["index"].as_u64(), uses[0]["settled"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(uses[0]["code"], "not_covered");
    assert_eq!(
        uses[0]["category"], "Location",
        "terms of a rejected use come from its tx"
    );
    assert_eq!(uses[0]["basis"], json!({ "consent": ids[0].to_string() }));
    assert_eq!(
        (uses[1]["index"].as_u64(), uses[1]["settled"].as_bool()),
        (Some(0), Some(true))
    );
    assert_eq!(
        (
            uses[1]["paid"].as_u64(),
            uses[1]["to_consumer"].as_u64(),
            uses[1]["units"].as_u64()
        ),
        (Some(10), Some(9), Some(2))
    );
    assert_eq!(uses[1]["enterprise"], t.keys.acme.account().to_string());
    assert_eq!(uses[1]["height"], 2);
    assert!(uses[1]["code"].is_null());
    // Each use carries its block's time, as the block header has it.
    for u in uses {
        let h = assent_contracts::Height(u["height"].as_u64().unwrap());
        let header = t.shared.chain.store().block_header(h).unwrap().unwrap();
        assert_eq!(u["time"].as_u64(), Some(header.time.0), "{u}");
        assert_eq!(
            header,
            t.shared.chain.store().block(h).unwrap().unwrap().header
        );
    }

    let (_, one) = get(&t.router, &format!("/v1/consumers/{alice}/uses?limit=1")).await;
    assert_eq!(one["uses"].as_array().unwrap().len(), 1);
    for bad in ["limit=0", "limit=1001", "limit=many"] {
        assert_error(
            &get(&t.router, &format!("/v1/consumers/{alice}/uses?{bad}")).await,
            StatusCode::BAD_REQUEST,
            "bad_query",
        );
    }

    let (status, e) = get(&t.router, &format!("/v1/consumers/{alice}/earnings")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        e,
        json!({ "consumer": alice.to_string(), "earned": 9, "uses_settled": 2, "balance": 9,
                "referral_earned": 0, "referred_consumers": 0, "referred_by": null })
    );
    assert_error(
        &get(
            &t.router,
            &format!("/v1/consumers/{}/earnings", t.keys.bob.account()),
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown_consumer",
    );

    let acme = t.keys.acme.account();
    let (status, ent) = get(&t.router, &format!("/v1/enterprises/{acme}")).await;
    assert_eq!(status, StatusCode::OK, "{ent}");
    assert_eq!(ent["name"], "Acme Retail");
    assert_eq!(ent["sector"], "retail");
    assert_eq!(ent["status"], "active");
    assert_eq!(
        keys(&ent["reputation"]),
        set(&[
            "ratings",
            "average_score_x100",
            "uses_settled",
            "uses_rejected",
            "honoured_bps",
            "uses_after_revocation",
            "points_paid"
        ])
    );
    assert_eq!(
        (
            ent["reputation"]["ratings"].as_u64(),
            ent["reputation"]["average_score_x100"].as_u64()
        ),
        (Some(1), Some(400))
    );
    assert_eq!(
        (
            ent["reputation"]["uses_rejected"].as_u64(),
            ent["reputation"]["points_paid"].as_u64()
        ),
        (Some(1), Some(10))
    );
    assert_error(
        &get(&t.router, &format!("/v1/enterprises/{alice}")).await,
        StatusCode::NOT_FOUND,
        "unknown_enterprise",
    );
}

#[tokio::test]
async fn requests_and_blocks() {
    let t = node();
    scenario(&t);
    let (status, open) = get(&t.router, "/v1/requests").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(open["requests"].as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open["requests"][0]["open"], true);
    assert_eq!(open["requests"][0]["price_per_use"], 3);
    let (_, all) = get(&t.router, "/v1/requests?all=true").await;
    assert_eq!(all["requests"].as_array().unwrap().len(), 2, "{all}");
    assert_error(
        &get(&t.router, "/v1/requests?all=perhaps").await,
        StatusCode::BAD_REQUEST,
        "bad_query",
    );

    let (status, b) = get(&t.router, "/v1/blocks/1").await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(
        keys(&b),
        set(&[
            "header",
            "block_hash",
            "txs",
            "results",
            "end_events",
            "certificate"
        ])
    );
    assert_eq!(b["header"]["height"], 1);
    assert_eq!(b["txs"].as_array().unwrap().len(), 7);
    assert_eq!(b["txs"][0]["kind"], "RegisterConsumer");
    assert_eq!(b["txs"][0]["sender"], t.keys.alice.account().to_string());
    assert_eq!(b["results"][1]["status"], "committed");
    assert_eq!(
        b["results"][1]["events"][0]["consent_granted"]["consumer"],
        t.keys.alice.account().to_string()
    );
    assert_eq!(b["certificate"]["height"], 1);
    assert_eq!(b["certificate"]["block_hash"], b["block_hash"]);
    // Signed by the fixture's one validator.
    assert_eq!(
        b["certificate"]["signatures"][0]["validator"],
        t.keys.validator.account().to_string()
    );

    let (_, latest) = get(&t.router, "/v1/blocks/latest").await;
    assert_eq!(latest["header"]["height"], 3);
    assert_eq!(
        latest["block_hash"],
        t.shared.chain.head().block_hash.to_string()
    );
    assert_eq!(
        latest["header"]["prev_hash"],
        get(&t.router, "/v1/blocks/2").await.1["block_hash"]
    );

    assert_error(
        &get(&t.router, "/v1/blocks/0").await,
        StatusCode::NOT_FOUND,
        "unknown_height",
    );
    assert_error(
        &get(&t.router, "/v1/blocks/4").await,
        StatusCode::NOT_FOUND,
        "unknown_height",
    );
    assert_error(
        &get(&t.router, "/v1/blocks/-1").await,
        StatusCode::BAD_REQUEST,
        "bad_height",
    );
}

#[tokio::test]
async fn openapi_lists_every_route_and_the_plain_routes_answer() {
    let t = node();
    let (status, doc) = get(&t.router, "/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path, access) in assent_node::api::ROUTES {
        let op = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not in the OpenAPI document"))
            [method.to_lowercase()];
        assert!(
            op.is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
        assert_eq!(
            op["x-assent-access"],
            access.as_str(),
            "{method} {path} declares its access rule"
        );
        let needs_signature = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("signedRead").is_some()));
        assert_eq!(
            needs_signature,
            *access != assent_node::api::Access::Public,
            "{method} {path}: security {}",
            op["security"]
        );
        assert!(
            op["responses"]["200"].is_object() || op["responses"]["202"].is_object(),
            "{method} {path} documents no success answer"
        );
    }
    assert_eq!(
        paths.len(),
        assent_node::api::ROUTES.len(),
        "the document and ROUTES differ"
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for s in [
        "TxStatus",
        "NodeStatus",
        "AccountView",
        "ConsentView",
        "UseView",
        "EnterpriseView",
        "BlockView",
        "EventData",
        "ErrorBody",
    ] {
        assert!(schemas.contains_key(s), "schema {s} missing");
    }
    // Every listed route exists in the router (the fallback would say `not_found`).
    for (method, path, _) in assent_node::api::ROUTES {
        if *path == "/v1/events" {
            continue; // a stream; covered by the events tests
        }
        let uri = path.replace("{id}", "x").replace("{height}", "latest");
        let got = if *method == "GET" {
            get(&t.router, &uri).await
        } else {
            post(&t.router, &uri, Some("application/json"), "{}").await
        };
        assert_ne!(got.1["code"], "not_found", "{method} {uri}");
        assert_ne!(got.0, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
    }

    let (status, ready) = get(&t.router, "/ready").await;
    assert_eq!(
        (status, ready),
        (StatusCode::OK, Value::String("ready".into()))
    );
    t.shared.consensus_started.store(false, Ordering::Relaxed);
    assert_error(
        &get(&t.router, "/ready").await,
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
    );

    let (status, text) = get(&t.router, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(text.contains("assent_height"), "{text}");
    assert!(text.contains("assent_api_request_duration_seconds_count{route=\"/v1/openapi.json\",method=\"GET\",status=\"2xx\"}"), "{text}");
}
