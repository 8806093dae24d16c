//! Backpressure (`mempool.backlog_ms`, `mempool.min_backlog_txs`): while
//! the pool holds its backlog, a client's tx is refused `429 overloaded`
//! with a `Retry-After` and counted; a batch takes what fits and says when
//! to send the rest; once a block drains the pool, txs are taken again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::time::Instant;

use api_support::*;
use assent_contracts::crypto::Keypair;
use assent_node::mempool::{BacklogLimits, Mempool, MempoolLimits};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

fn hex_of(tx: &assent_contracts::SignedTx) -> String {
    hex::encode(tx.encode())
}

/// POSTs `body`; the status, the `Retry-After` header and the JSON answer.
async fn post_with_headers(
    t: &TestNode,
    uri: &str,
    content_type: &str,
    body: impl Into<Body>,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let resp = t
        .router
        .clone()
        .oneshot(
            Request::post(uri)
                .header(header::CONTENT_TYPE, content_type)
                .body(body.into())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, retry_after, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn txs_over_the_backlog_are_refused_with_a_time_to_come_back() {
    let t = node();
    *t.shared.mempool() = Mempool::new(MempoolLimits {
        max_tx_bytes: 256 * 1024,
        ..MempoolLimits::default()
    })
    .with_backlog(BacklogLimits {
        backlog_ms: 500,
        min_txs: 2,
        ..BacklogLimits::default()
    });
    let keys: Vec<Keypair> = (10..16u8).map(|i| Keypair::from_seed([i; 32])).collect();

    // A batch of three and a broken entry: an entry refused for its own
    // reason takes no room, two fit, and the tail is told to come back
    // without being decoded (its garbage is not looked at).
    let mut txs: Vec<String> = keys[..3].iter().map(|k| hex_of(&register(k, 0))).collect();
    txs.insert(1, "zz-not-hex".into());
    txs.push("also not hex".into());
    let body = serde_json::json!({ "txs": txs }).to_string();
    let (status, retry_after, v) =
        post_with_headers(&t, "/v1/txs/batch", "application/json", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(v["accepted"], 2, "{v}");
    assert!(v["results"][0]["tx_id"].is_string(), "{v}");
    assert_eq!(v["results"][1]["code"], "malformed", "{v}");
    assert!(v["results"][2]["tx_id"].is_string(), "{v}");
    assert_eq!(v["results"][3]["code"], "overloaded", "{v}");
    assert_eq!(v["results"][4]["code"], "overloaded", "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 5, "{v}");
    assert!(
        v["results"][3]["message"]
            .as_str()
            .unwrap()
            .contains("the network is busy: 2 txs wait in the pool"),
        "{v}"
    );
    assert_eq!(v["retry_after_s"], 1, "{v}");
    // The precise wait, for clients that can wait less than a second: no
    // commit rate is known yet, so a second.
    assert_eq!(v["retry_after_ms"], 1000, "{v}");
    assert_eq!(t.shared.mempool().len(), 2, "the refused tx was not pooled");

    // A binary batch while the pool is at its backlog: every entry is
    // refused `overloaded`, the broken one too (its bytes are never read as
    // a tx), and nothing is pooled.
    let raw: Vec<Vec<u8>> = vec![
        register(&keys[3], 0).encode(),
        b"not a tx".to_vec(),
        register(&keys[4], 0).encode(),
    ];
    let body = assent_contracts::codec::encode_native(&raw).unwrap();
    let (status, retry_after, v) =
        post_with_headers(&t, "/v1/txs/batch", "application/octet-stream", body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(v["accepted"], 0, "{v}");
    for i in 0..3 {
        assert_eq!(v["results"][i]["code"], "overloaded", "{v}");
    }
    assert_eq!(t.shared.mempool().len(), 2, "nothing more was pooled");

    // A single submission: 429 with Retry-After.
    let (status, retry_after, v) =
        post_with_headers(&t, "/v1/txs", "text/plain", hex_of(&register(&keys[3], 0))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(v["code"], "overloaded", "{v}");
    assert_eq!(v["retry_after_ms"], 1000, "{v}");

    // Counted: two from the JSON batch, three from the binary one, one single.
    let (_, text) = send(
        &t.router,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    )
    .await;
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("assent_txs_overloaded_total 6"), "{text}");
    assert!(text.contains("assent_mempool_backlog_allowed 2"), "{text}");

    // A block takes the two; the pool has room again.
    let pending: Vec<_> = keys[..2].iter().map(|k| register(k, 0)).collect();
    let ids: Vec<_> = pending.iter().map(|tx| tx.id()).collect();
    let bytes: usize = pending.iter().map(|tx| tx.encode().len()).sum();
    commit(&t, pending);
    {
        let mut mp = t.shared.mempool();
        mp.remove_committed(&ids, t.shared.chain.store());
        mp.committed_block(Instant::now(), ids.len(), bytes);
    }
    assert_eq!(t.shared.mempool().len(), 0);
    let (status, v) = post(
        &t.router,
        "/v1/txs",
        Some("text/plain"),
        hex_of(&register(&keys[4], 0)),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");

    // Each validator's own clients get its share of the backlog: with one
    // of two allowed txs pending, a node of a one-validator network has
    // room for one more, a node of a two-validator network none.
    let mut mp = t.shared.mempool();
    assert_eq!(mp.len(), 1);
    // The byte rule (the pool's bytes under a megabyte at this rate) leaves
    // the rest of its floor.
    let floor = assent_node::mempool::backlog::MIN_BACKLOG_BYTES;
    assert_eq!(mp.room(Instant::now(), 1), Ok((1, floor - mp.bytes())));
    let refused = mp.room(Instant::now(), 2).unwrap_err();
    assert_eq!((refused.pending, refused.allowed), (1, 2));
}
