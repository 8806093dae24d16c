//! `GET /v1/events`: resuming after a cursor yields exactly the later events
//! in order (history, then live blocks); a receiver that lags gets a `gap`
//! event and then the missed events from the store, none dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::time::Duration;

use api_support::*;
use assent_contracts::tx::{PauseConsent, Transfer};
use assent_contracts::{Amount, ConsentId, Payload};
use assent_node::api::events::{block_events, tail, Cursor, StreamItem, View};
use axum::body::Body;
use axum::http::StatusCode;
use futures::StreamExt;
use serde_json::json;
use tower::ServiceExt;

const DEADLINE: Duration = Duration::from_secs(10);

/// Two blocks: block 1 = register, grant, a rejected transfer (bad nonce);
/// block 2 = acme records two uses. Returns every event id in order.
fn two_blocks(t: &TestNode) -> Vec<String> {
    let g = grant(t, 1, None);
    let consent = ConsentId(g.id().0);
    let bad = sign(
        &t.keys.bob,
        3,
        Payload::Transfer(Transfer {
            to: t.keys.alice.account(),
            amount: Amount(1),
        }),
    );
    commit(t, vec![register(&t.keys.alice, 0), g, bad]);
    commit(t, vec![record_uses(t, 0, consent)]);
    all_ids(t)
}

fn all_ids(t: &TestNode) -> Vec<String> {
    let store = t.shared.chain.store();
    let mut ids = Vec::new();
    for h in 1..=t.shared.chain.head().height.0 {
        for item in block_events(
            h,
            &store.results(assent_contracts::Height(h)).unwrap().unwrap(),
        ) {
            if let StreamItem::Event { cursor, .. } = item {
                ids.push(cursor.to_string());
            }
        }
    }
    ids
}

async fn open(t: &TestNode, uri: &str, last_event_id: Option<&str>) -> axum::response::Response {
    let mut req = signed_get(uri, &operator_key());
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let resp = t
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    resp
}

#[tokio::test]
async fn the_blocks_view_gives_one_summary_per_block_with_every_tx_and_use_count() {
    let t = node();
    two_blocks(&t);
    let block1 = t
        .shared
        .chain
        .store()
        .block(assent_contracts::Height(1))
        .unwrap()
        .unwrap();
    let resp = open(&t, "/v1/events?from=0:0&view=blocks", None).await;
    let got = read_sse(resp.into_body(), 2, DEADLINE).await;
    assert_eq!(got[0].event, "block");
    assert_eq!(got[0].id.as_deref(), Some("1:4294967295"));
    assert_eq!(got[0].data["height"], 1);
    assert_eq!(got[0].data["time_ms"], block1.header.time.0);
    let applied: Vec<String> = block1.txs[..2]
        .iter()
        .map(|tx| tx.id().to_string())
        .collect();
    assert_eq!(got[0].data["applied"], json!(applied));
    assert_eq!(
        got[0].data["rejected"][0][0],
        block1.txs[2].id().to_string()
    );
    assert_eq!(got[0].data["rejected"][0][1], "bad_nonce");
    assert_eq!(got[1].data["height"], 2);
    assert_eq!(got[1].data["uses_settled"], 1);
    let rejected: u64 = got[1].data["uses_rejected"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(rejected, 1);

    // Resuming after a block summary starts at the next block.
    let resp = open(&t, "/v1/events?view=blocks", Some("1:4294967295")).await;
    let got = read_sse(resp.into_body(), 1, DEADLINE).await;
    assert_eq!(got[0].data["height"], 2);

    let resp = t
        .router
        .clone()
        .oneshot(
            signed_get("/v1/events?view=everything", &operator_key())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn resuming_after_a_cursor_yields_exactly_the_later_events_in_order() {
    let t = node();
    let ids = two_blocks(&t);
    // Block 1: consumer_registered, consent_granted, tx_rejected; block 2: two uses, then operator rewards.
    assert_eq!(&ids[..3], ["1:0", "1:1", "1:2"]);
    assert!(ids.len() >= 5 && ids[3] == "2:0", "{ids:?}");

    for (from, skip) in [("0:0", 0), ("1:0", 1), ("1:2", 3), ("2:0", 4)] {
        let resp = open(&t, &format!("/v1/events?from={from}"), None).await;
        let got = read_sse(resp.into_body(), ids.len() - skip, DEADLINE).await;
        let got_ids: Vec<String> = got.iter().map(|e| e.id.clone().unwrap()).collect();
        assert_eq!(got_ids, ids[skip..], "from {from}");
    }

    let resp = open(&t, "/v1/events?from=0:0", None).await;
    let got = read_sse(resp.into_body(), ids.len(), DEADLINE).await;
    assert_eq!(got[0].event, "consumer_registered");
    assert_eq!(got[0].data["height"], 1);
    assert_eq!(got[0].data["index"], 0);
    assert_eq!(
        got[0].data["event"]["consumer_registered"]["consumer"],
        t.keys.alice.account().to_string()
    );
    assert_eq!(got[2].event, "tx_rejected");
    assert_eq!(got[2].data["event"]["tx_rejected"]["code"], "bad_nonce");
    assert_eq!(
        got[2].data["tx_id"],
        got[2].data["event"]["tx_rejected"]["tx_id"]
    );
    assert_eq!(got[3].event, "use_settled");
    assert_eq!(got[4].event, "use_rejected");
    let last = got.last().unwrap();
    assert_eq!(last.event, "operator_rewards");
    assert!(
        last.data["tx_id"].is_null(),
        "end-of-block events belong to no tx"
    );

    // Last-Event-ID wins over ?from (a reconnecting browser sends both).
    let resp = open(&t, "/v1/events?from=0:0", Some("1:2")).await;
    let got = read_sse(resp.into_body(), ids.len() - 3, DEADLINE).await;
    assert_eq!(got[0].id.as_deref(), Some(ids[3].as_str()));
}

#[tokio::test]
async fn history_then_live_blocks_without_a_hole() {
    let t = node();
    let ids = two_blocks(&t);
    let resp = open(&t, "/v1/events?from=1:1", None).await;
    let mut reader = SseReader::new(resp.into_body());
    let history = reader.read(ids.len() - 2, DEADLINE).await;
    assert_eq!(history.last().unwrap().id, ids.last().cloned());
    // A live block after the history: its events follow at once, in order.
    let alice = &t.keys.alice;
    let consent = ConsentId(grant(&t, 1, None).id().0);
    commit(
        &t,
        vec![sign(
            alice,
            2,
            Payload::PauseConsent(PauseConsent { consent }),
        )],
    );
    let live = reader.read(1, DEADLINE).await;
    assert_eq!(live[0].id.as_deref(), Some("3:0"));
    assert_eq!(live[0].event, "consent_paused");

    // Without a cursor the stream starts at the next block.
    let resp = open(&t, "/v1/events", None).await;
    commit(
        &t,
        vec![sign(
            alice,
            3,
            Payload::Transfer(Transfer {
                to: t.keys.bob.account(),
                amount: Amount(1),
            }),
        )],
    );
    let got = read_sse(resp.into_body(), 1, DEADLINE).await;
    assert_eq!(got[0].id.as_deref(), Some("4:0"));
    assert_eq!(got[0].event, "transferred");
}

#[tokio::test]
async fn bad_cursors_are_400() {
    let t = node();
    for uri in [
        "/v1/events?from=12",
        "/v1/events?from=a:b",
        "/v1/events?from=1:-1",
    ] {
        assert_error(
            &get(&t.router, uri).await,
            StatusCode::BAD_REQUEST,
            "bad_cursor",
        );
    }
    let req = signed_get("/v1/events", &operator_key())
        .header("last-event-id", "nonsense")
        .body(Body::empty())
        .unwrap();
    let (status, body) = send(&t.router, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["code"],
        "bad_cursor"
    );
}

#[tokio::test]
async fn a_lagging_receiver_gets_a_gap_then_the_missed_events_from_the_store() {
    let t = node();
    // A tiny live channel, fed with the chain's own committed blocks.
    let (tx, rx) = tokio::sync::broadcast::channel(2);
    let mut stream = Box::pin(tail(
        t.shared.clone(),
        rx,
        Some(Cursor {
            height: 0,
            index: 0,
        }),
        View::Events,
    ));
    // Nothing committed yet: the stream waits for a live block.
    let first = commit(&t, vec![register(&t.keys.alice, 0)]);
    tx.send(first).unwrap();
    let item = tokio::time::timeout(DEADLINE, stream.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&item, StreamItem::Event { cursor, .. } if cursor.to_string() == "1:0"),
        "{item:?}"
    );
    // Five blocks arrive while the client reads nothing: the channel keeps two.
    for n in 0..5u64 {
        let c = commit(
            &t,
            vec![sign(
                &t.keys.alice,
                n + 1,
                Payload::Transfer(Transfer {
                    to: t.keys.bob.account(),
                    amount: Amount(1),
                }),
            )],
        );
        let _ = tx.send(c);
    }
    let mut rest = Vec::new();
    let want = all_ids(&t).len() - 1;
    let mut gaps = Vec::new();
    while rest.len() < want {
        match tokio::time::timeout(DEADLINE, stream.next())
            .await
            .unwrap()
            .unwrap()
        {
            StreamItem::Event { cursor, .. } => rest.push(cursor.to_string()),
            StreamItem::Gap { resume_from } => gaps.push((resume_from, rest.len())),
            StreamItem::Error { message } => panic!("{message}"),
        }
    }
    assert_eq!(
        gaps,
        vec![(
            Cursor {
                height: 1,
                index: 0
            },
            0
        )],
        "one gap, before any missed event"
    );
    assert_eq!(
        rest,
        all_ids(&t)[1..],
        "every missed event, in order, none twice"
    );
    // Live again afterwards.
    let c = commit(
        &t,
        vec![sign(
            &t.keys.alice,
            6,
            Payload::Transfer(Transfer {
                to: t.keys.bob.account(),
                amount: Amount(1),
            }),
        )],
    );
    let h = c.head.height.0;
    tx.send(c).unwrap();
    let item = tokio::time::timeout(DEADLINE, stream.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&item, StreamItem::Event { cursor, .. } if cursor.height == h && cursor.index == 0),
        "{item:?}"
    );
}

#[tokio::test]
async fn the_router_stream_survives_a_real_lag_of_the_chain_channel() {
    // The chain's channel holds 1024 blocks; commit more while the client reads nothing.
    let t = node();
    commit(&t, vec![register(&t.keys.alice, 0)]);
    let resp = open(&t, "/v1/events?from=1:0", None).await;
    let blocks = 1_100u64;
    for n in 0..blocks {
        commit(
            &t,
            vec![sign(
                &t.keys.alice,
                n + 1,
                Payload::Transfer(Transfer {
                    to: t.keys.bob.account(),
                    amount: Amount(1),
                }),
            )],
        );
    }
    let ids = all_ids(&t);
    // One gap notice (it has no id), then every event after 1:0.
    let mut reader = SseReader::new(resp.into_body());
    let got = reader.read(ids.len(), DEADLINE).await;
    assert_eq!(got[0].event, "gap");
    assert_eq!(got[0].data, json!({ "resume_from": "1:0" }));
    assert!(
        got[0].id.is_none(),
        "a gap notice must not move Last-Event-ID"
    );
    let got_ids: Vec<String> = got[1..].iter().map(|e| e.id.clone().unwrap()).collect();
    assert_eq!(got_ids, ids[1..], "no event lost or repeated");
}
