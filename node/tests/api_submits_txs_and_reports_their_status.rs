//! Tx submission in all three body forms, refusals as 4xx JSON (the node keeps
//! answering), batch submission, and tx status from pending to committed /
//! rejected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use assent_contracts::Payload;
use axum::http::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn a_good_tx_is_accepted_in_each_body_form_and_is_pending() {
    let t = node();
    let alice = register(&t.keys.alice, 0);
    let (status, body) = post(
        &t.router,
        "/v1/txs",
        Some("application/octet-stream"),
        alice.encode(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body, json!({ "tx_id": alice.id().to_string() }));

    let bob = register(&t.keys.bob, 0);
    let (status, body) = post(
        &t.router,
        "/v1/txs",
        Some("text/plain; charset=utf-8"),
        format!("{}\n", hex::encode(bob.encode())),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["tx_id"], bob.id().to_string());

    let req = post_request(&t, 0, 60_000);
    let (status, body) = post(
        &t.router,
        "/v1/txs",
        Some("application/json"),
        json!({ "tx": hex::encode(req.encode()) }).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let (status, body) = get(&t.router, &format!("/v1/txs/{}", alice.id())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "tx_id": alice.id().to_string(), "status": "pending" })
    );

    // The next nonce counts this node's pending txs.
    let (_, acct) = get(
        &t.router,
        &format!("/v1/accounts/{}", t.keys.alice.account()),
    )
    .await;
    assert_eq!(
        (acct["nonce"].as_u64(), acct["next_nonce"].as_u64()),
        (Some(0), Some(1)),
        "{acct}"
    );
}

#[tokio::test]
async fn bad_submissions_are_4xx_json_and_the_node_keeps_answering() {
    let t = node();
    let good = register(&t.keys.alice, 0).encode();

    assert_error(
        &post(
            &t.router,
            "/v1/txs",
            Some("application/octet-stream"),
            vec![0xff, 0x00, 0x13],
        )
        .await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    assert_error(
        &post(
            &t.router,
            "/v1/txs",
            Some("application/octet-stream"),
            Vec::new(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    assert_error(
        &post(&t.router, "/v1/txs", Some("text/plain"), "not hex at all").await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    assert_error(
        &post(
            &t.router,
            "/v1/txs",
            Some("application/json"),
            "{\"tx\": 12",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    assert_error(
        &post(
            &t.router,
            "/v1/txs",
            Some("application/json"),
            "{\"transaction\": \"00\"}",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    assert_error(
        &post(
            &t.router,
            "/v1/txs",
            Some("application/x-www-form-urlencoded"),
            good.clone(),
        )
        .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert_error(
        &post(&t.router, "/v1/txs", None, good.clone()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    // The API's own limit on other routes (64 KiB) does not apply to a tx body.
    let mid = vec![0u8; 200 * 1024];
    assert_error(
        &post(&t.router, "/v1/txs", Some("application/octet-stream"), mid).await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    let huge = vec![0u8; 2 * 1024 * 1024];
    assert_error(
        &post(&t.router, "/v1/txs", Some("application/octet-stream"), huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );

    // A forged signature is refused by admission.
    let mut forged = register(&t.keys.bob, 0);
    forged.signature.0[0] ^= 1;
    assert_error(
        &post(
            &t.router,
            "/v1/txs",
            Some("application/octet-stream"),
            forged.encode(),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_signature",
    );

    // A duplicate is refused; the first copy is still pending.
    assert_eq!(
        post(
            &t.router,
            "/v1/txs",
            Some("application/octet-stream"),
            good.clone()
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    assert_error(
        &post(&t.router, "/v1/txs", Some("application/octet-stream"), good).await,
        StatusCode::CONFLICT,
        "duplicate",
    );
    // A stateless check failure names the ledger's code.
    let zero = sign(
        &t.keys.bob,
        0,
        Payload::Transfer(assent_contracts::tx::Transfer {
            to: t.keys.alice.account(),
            amount: assent_contracts::Amount(0),
        }),
    );
    assert_error(
        &post(
            &t.router,
            "/v1/txs",
            Some("application/octet-stream"),
            zero.encode(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "stateless_check:zero_amount",
    );

    // Bad paths, methods and routes.
    assert_error(
        &get(&t.router, "/v1/txs/xyz").await,
        StatusCode::BAD_REQUEST,
        "bad_tx_id",
    );
    assert_error(
        &get(&t.router, "/v1/nothing-here").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &post(&t.router, "/v1/status", Some("application/json"), "{}").await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );

    let (status, body) = get(&t.router, "/health").await;
    assert_eq!((status, body), (StatusCode::OK, Value::String("ok".into())));
}

#[tokio::test]
async fn batch_answers_one_result_per_tx_in_order() {
    let t = node();
    let a = register(&t.keys.alice, 0);
    let b = register(&t.keys.bob, 0);
    let body = json!({ "txs": [hex::encode(a.encode()), "zz", hex::encode(b.encode()), hex::encode(a.encode())] });
    let (status, got) = post(
        &t.router,
        "/v1/txs/batch",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["accepted"], 2, "{got}");
    let results = got["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], json!({ "tx_id": a.id().to_string() }));
    assert_eq!(results[1]["code"], "malformed");
    assert_eq!(results[2], json!({ "tx_id": b.id().to_string() }));
    assert_eq!(results[3]["code"], "duplicate", "{got}");

    assert_error(
        &post(&t.router, "/v1/txs/batch", Some("text/plain"), "00").await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert_error(
        &post(
            &t.router,
            "/v1/txs/batch",
            Some("application/json"),
            "[1,2]",
        )
        .await,
        StatusCode::BAD_REQUEST,
        "malformed",
    );
    let many = json!({ "txs": vec!["00"; 10_001] });
    assert_error(
        &post(
            &t.router,
            "/v1/txs/batch",
            Some("application/json"),
            many.to_string(),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
}

/// POSTs a binary batch (`application/octet-stream`).
async fn post_binary_batch(router: &axum::Router, body: Vec<u8>) -> (StatusCode, Value) {
    post(
        router,
        "/v1/txs/batch",
        Some("application/octet-stream"),
        body,
    )
    .await
}

#[tokio::test]
async fn a_binary_batch_answers_like_a_json_one_and_garbage_is_refused() {
    use assent_contracts::codec;
    let t = node();
    let a = register(&t.keys.alice, 0);
    let b = register(&t.keys.bob, 0);
    // The raw txs, framed as the codec's list of byte strings.
    let body =
        codec::encode_native(&vec![a.encode(), vec![1, 2, 3], b.encode(), a.encode()]).unwrap();
    let (status, got) = post_binary_batch(&t.router, body).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["accepted"], 2, "{got}");
    let results = got["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], json!({ "tx_id": a.id().to_string() }));
    assert_eq!(results[1]["code"], "malformed", "{got}");
    assert_eq!(results[2], json!({ "tx_id": b.id().to_string() }));
    assert_eq!(results[3]["code"], "duplicate", "{got}");

    // Bodies that are not a batch: empty, cut short, a count of more txs
    // than the bytes hold, trailing bytes, an over-long varint.
    let cut = codec::encode_native(&vec![b.encode()]).unwrap();
    let mut trailing = cut.clone();
    trailing.push(0);
    for bad in [
        vec![],
        cut[..cut.len() - 1].to_vec(),
        vec![0xfc, 0xff, 0xff, 0xff, 0x7f],
        trailing,
        vec![251, 1, 0, 0],
    ] {
        let (status, got) = post_binary_batch(&t.router, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {got}");
        assert_eq!(got["code"], "malformed", "{got}");
        assert!(
            got["message"]
                .as_str()
                .unwrap()
                .contains("not a binary batch"),
            "{got}"
        );
    }
    let many = codec::encode_native(&vec![vec![0u8]; 10_001]).unwrap();
    assert_error(
        &post_binary_batch(&t.router, many).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    let huge = codec::encode_native(&vec![vec![7u8; 9 << 20]]).unwrap();
    let (status, got) = post_binary_batch(&t.router, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{got}");
    assert!(
        got["message"]
            .as_str()
            .unwrap()
            .contains("several requests"),
        "{got}"
    );

    // Nothing was lost to the garbage: both txs are still pending.
    for tx in [&a, &b] {
        let (_, st) = get(&t.router, &format!("/v1/txs/{}", tx.id())).await;
        assert_eq!(st["status"], "pending", "{st}");
    }
}

#[tokio::test]
async fn tx_status_follows_a_tx_into_a_block() {
    let t = node();
    let reg = register(&t.keys.alice, 0);
    assert_eq!(
        post(
            &t.router,
            "/v1/txs",
            Some("application/octet-stream"),
            reg.encode()
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    // A tx with a wrong nonce, put straight into the block, is rejected there.
    let late = sign(
        &t.keys.bob,
        7,
        Payload::RegisterConsumer(assent_contracts::tx::RegisterConsumer {
            tags: Default::default(),
        }),
    );
    commit(&t, vec![reg.clone(), late.clone()]);

    let (status, body) = get(&t.router, &format!("/v1/txs/{}", reg.id())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "committed", "{body}");
    assert_eq!(
        (body["height"].as_u64(), body["index"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        body["events"],
        json!([{ "consumer_registered": { "consumer": t.keys.alice.account().to_string() } }])
    );

    let (_, body) = get(&t.router, &format!("/v1/txs/{}", late.id())).await;
    assert_eq!(body["status"], "rejected", "{body}");
    assert_eq!(
        (body["height"].as_u64(), body["index"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(body["code"], "bad_nonce");
    assert!(body["reason"].as_str().is_some_and(|r| !r.is_empty()));

    let unknown = register(&t.keys.mint, 0).id();
    let (_, body) = get(&t.router, &format!("/v1/txs/{unknown}")).await;
    assert_eq!(
        body,
        json!({ "tx_id": unknown.to_string(), "status": "unknown" })
    );
}

#[tokio::test]
async fn admitted_txs_are_handed_to_gossip() {
    let keypair = assent_node::gossip::keypair_from_seed([2; 32]);
    let (gossip, _inbound) = assent_node::gossip::spawn(assent_node::gossip::GossipConfig {
        listen: "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
        peers: vec![],
        keypair,
        allowlist: vec![],
        topic: format!("/assent/{CHAIN_ID}/txs/1"),
        linger: assent_node::gossip::PUBLISH_LINGER,
        serve: None,
    })
    .await
    .expect("gossip starts");
    let t = node_with(Some(gossip.clone()));
    let tx = register(&t.keys.alice, 0);
    assert_eq!(
        post(
            &t.router,
            "/v1/txs",
            Some("application/octet-stream"),
            tx.encode()
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    // With no peer the batch is counted as dropped; either way it reached the gossip actor.
    wait_for(std::time::Duration::from_secs(10), || {
        let c = gossip.counters();
        c.published + c.publish_dropped >= 1
    })
    .await;
    assert!(
        t.shared.mempool().take_for_gossip().is_empty(),
        "the API took the batch out of the mempool"
    );
    gossip.shutdown().await;
}
