//! No route answers a consumer's tags (ARCHITECTURE.md decision 33): alice
//! registers with two interest tags and later replaces them, as her CLI
//! does (salted commitments, padded); then every answer that could carry
//! them — the tag route, each block, each tx's status, the event stream,
//! the consumer's state proof, her export — and every state record and
//! block the node stores are searched for the tags: none holds one. Only
//! her key turns `GET /v1/consumers/{id}/tags` back into tags; bob's, or
//! the node's, finds nothing. The request that targets a tag stays public.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::time::Duration;

use api_support::*;
use assent_contracts::state::StateRead;
use assent_contracts::tags::TagCommitments;
use assent_contracts::terms::Tag;
use assent_contracts::tx::{RegisterConsumer, SetTags, MAX_TAGS};
use assent_contracts::{Hash32, Height, Payload, SignedTx};
use assent_keys::derive;
use axum::body::Body;
use axum::http::StatusCode;
use tower::ServiceExt;

/// Tags alice declares; none is a word the API uses for anything else.
const SECRET_TAGS: [&str; 3] = ["marathoner", "veganism", "birdwatching"];

fn tags(list: &[&str]) -> Vec<Tag> {
    list.iter().map(|t| t.parse().unwrap()).collect()
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn no_answer_and_no_stored_byte_holds_a_tag_a_consumer_declared() {
    let t = node();
    let (alice, bob) = (&t.keys.alice, &t.keys.bob);
    let me = alice.account();
    let set = |nonce: u64, list: &[&str]| -> TagCommitments {
        derive::tag_set(alice, CHAIN_ID, &me, nonce, &tags(list)).unwrap()
    };
    let register = sign(
        alice,
        0,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: set(0, &SECRET_TAGS[..2]),
        }),
    );
    // An enterprise's request targets a tag: requests are public.
    let mut request = post_request(&t, 0, 60_000);
    if let Payload::PostRequest(p) = &mut request.body.payload {
        p.target_tags = tags(&["birdwatching"]);
    }
    let request = sign(&t.keys.acme, 0, request.body.payload);
    commit(&t, vec![register.clone(), request.clone()]);
    let retag = sign(
        alice,
        1,
        Payload::SetTags(SetTags {
            tags: set(1, &SECRET_TAGS[1..]),
        }),
    );
    commit(&t, vec![retag.clone()]);
    let txs: Vec<SignedTx> = vec![register, request, retag];

    // The tag route: sixteen commitments of round 1, which only alice's key reads.
    let (status, v) = get(&t.router, &format!("/v1/consumers/{me}/tags")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["epoch"], 1);
    let on_chain = TagCommitments {
        epoch: 1,
        commitments: v["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().parse().unwrap())
            .collect(),
    };
    assert_eq!(on_chain.commitments.len(), MAX_TAGS);
    let candidates = tags(&SECRET_TAGS);
    let mine = derive::recover_tags(alice, CHAIN_ID, &me, &on_chain, &candidates);
    assert_eq!(mine.tags, tags(&["birdwatching", "veganism"]));
    assert_eq!((mine.padding, mine.unknown), (MAX_TAGS - 2, 0));
    let theirs = derive::recover_tags(bob, CHAIN_ID, &me, &on_chain, &candidates);
    assert!(theirs.tags.is_empty() && theirs.unknown == MAX_TAGS);

    // Every answer that concerns alice or her txs.
    let mut answers: Vec<Vec<u8>> = vec![v.to_string().into_bytes()];
    let head = t.shared.chain.head().height.0;
    let mut routes: Vec<String> = (1..=head).map(|h| format!("/v1/blocks/{h}")).collect();
    routes.extend(txs.iter().map(|tx| format!("/v1/txs/{}", tx.id())));
    routes.push(format!("/v1/state-proofs/consumer/{me}"));
    routes.push(format!("/v1/accounts/{me}"));
    routes.push(format!("/v1/consumers/{me}/earnings"));
    routes.push("/v1/requests".into());
    for r in &routes {
        let (status, body) = send(
            &t.router,
            signed_get(r, &operator_key()).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{r}: {}",
            String::from_utf8_lossy(&body)
        );
        answers.push(body);
    }
    let (status, export) = send(
        &t.router,
        signed_get(&format!("/v1/consumers/{me}/export"), &operator_key())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    answers.push(export);
    let resp = t
        .router
        .clone()
        .oneshot(
            signed_get("/v1/events?from=0:0", &operator_key())
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    // ConsumerRegistered, RequestPosted, TagsSet.
    let events = read_sse(resp.into_body(), 3, Duration::from_secs(10)).await;
    assert_eq!(
        events.len(),
        3,
        "{:?}",
        events.iter().map(|e| &e.event).collect::<Vec<_>>()
    );
    answers.extend(events.iter().map(|e| e.data.to_string().into_bytes()));

    // And every byte the node keeps: state records and blocks.
    let store = t.shared.chain.store();
    for (k, val) in store.scan_prefix(b"").unwrap() {
        answers.push(k);
        answers.push(val);
    }
    for h in 1..=head {
        answers.push(store.block(Height(h)).unwrap().unwrap().encode());
    }

    for tag in ["marathoner", "veganism"] {
        assert!(
            !answers.iter().any(|a| holds(a, tag)),
            "`{tag}` is readable from the node"
        );
    }
    // The requested tag is in the request, as it should be; but nothing
    // says alice declared it.
    assert!(answers.iter().any(|a| holds(a, "birdwatching")));
    let alice_answers = &answers[..1];
    assert!(!holds(&alice_answers[0], "birdwatching"));

    // Bad input is refused by name.
    let (status, v) = get(&t.router, "/v1/consumers/nobody/tags").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let stranger = assent_contracts::AccountId(Hash32([9; 32]).0);
    assert_error(
        &get(&t.router, &format!("/v1/consumers/{stranger}/tags")).await,
        StatusCode::NOT_FOUND,
        "unknown_consumer",
    );
}
