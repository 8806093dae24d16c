//! A node that does not vote (a full node) takes txs for its clients: it
//! refuses garbage itself and forwards the rest to the first validator in
//! `[state_sync] peers` that answers, passing the answer back; with no
//! validator reachable it says so (503 `no_validator`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::sync::atomic::Ordering;

use api_support::{node, node_with_api, post, register, TestNode};
use axum::http::StatusCode;

/// A TCP port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A full node whose peers are `peers` (API base URLs).
fn full_node(peers: &[String]) -> TestNode {
    let list: Vec<String> = peers.iter().map(|p| format!("{p:?}")).collect();
    let t = node_with_api(&format!("\n[state_sync]\npeers = [{}]", list.join(", ")));
    t.shared.validating.store(false, Ordering::Relaxed);
    t
}

async fn submit(t: &TestNode, bytes: Vec<u8>) -> (StatusCode, serde_json::Value) {
    post(
        &t.router,
        "/v1/txs",
        Some("application/octet-stream"),
        bytes,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_node_checks_txs_and_forwards_them_to_a_validator() {
    // The validator, served on a real port.
    let validator = node();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(assent_node::api::serve(
        validator.shared.clone(),
        listener,
        std::future::pending(),
    ));

    // Down first, then the validator: the second peer takes it.
    let down = format!("http://127.0.0.1:{}", closed_port());
    let full = full_node(&[down.clone(), url]);
    let tx = register(&full.keys.alice, 0);
    let (status, body) = submit(&full, tx.encode()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["tx_id"], tx.id().to_string());
    assert!(
        validator.shared.mempool().contains(&tx.id()),
        "the validator pooled it"
    );
    assert!(
        !full.shared.mempool().contains(&tx.id()),
        "the full node keeps none"
    );

    // The validator's refusal comes back as it was.
    let (status, body) = submit(&full, tx.encode()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "duplicate", "{body}");

    // Garbage and forged signatures never leave the full node.
    let (status, body) = submit(&full, b"\x01\x02garbage".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "malformed", "{body}");
    let mut forged = register(&full.keys.bob, 0);
    forged.body.nonce = 1;
    let (status, body) = submit(&full, forged.encode()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "bad_signature", "{body}");

    // No validator reachable: a clear 503.
    let alone = full_node(&[down]);
    let (status, body) = submit(&alone, register(&alone.keys.bob, 0).encode()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "no_validator", "{body}");
}
