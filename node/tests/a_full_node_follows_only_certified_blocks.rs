//! A node that does not vote follows the chain from its peers' APIs
//! (`GET /v1/certified-blocks`, `ledger::follow`) and believes a peer in
//! nothing: a block whose certificate does not verify under the validator
//! set, a block that is not the one certified, or a block of another height
//! is refused and the next peer asked; the honest peer's chain is followed
//! to the same roots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use api_support::{commit, get, node, operator_key, register, wait_for, TestNode, CHAIN_ID};
use assent_node::ledger::follow::{follow, Followed, Progress};
use assent_node::ledger::peer_reads::PeerReader;
use axum::routing::get as route_get;
use serde_json::Value;

struct Seen(AtomicUsize);

impl Progress for Seen {
    fn peer_head(&self, _height: u64) {}
    fn started(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves `t`'s API on a free port; its base URL.
async fn serve(t: &TestNode) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shared = t.shared.clone();
    tokio::spawn(assent_node::api::serve(
        shared,
        listener,
        std::future::pending(),
    ));
    url
}

/// A peer that answers every `GET /v1/certified-blocks` with `answer`, and
/// counts the requests.
async fn liar(answer: Value) -> (String, Arc<AtomicUsize>) {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let app = axum::Router::new().route(
        "/v1/certified-blocks",
        route_get(move || {
            let (answer, counter) = (answer.clone(), counter.clone());
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                axum::Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, asked)
}

/// Flips the hex digit at `at` of `text`.
fn flip(text: &str, at: usize) -> String {
    let mut b = text.as_bytes().to_vec();
    b[at] = if b[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(b).unwrap()
}

/// Runs the follower of `t`'s chain against `peers` on its own thread
/// until `done` holds (polled), then stops it; what it returned.
async fn follow_until(t: &TestNode, peers: Vec<String>, done: impl Fn() -> bool) -> Followed {
    let stop = Arc::new(AtomicBool::new(false));
    let (chain, flag) = (t.shared.chain.clone(), stop.clone());
    let task = tokio::task::spawn_blocking(move || {
        // Peers answer blocks to operators: the follower reads as one.
        let reader = PeerReader::new(Some(Arc::new(operator_key())), CHAIN_ID);
        follow(
            &chain,
            &peers,
            None,
            &flag,
            &Seen(AtomicUsize::new(0)),
            &reader,
        )
        .unwrap()
    });
    wait_for(Duration::from_secs(30), done).await;
    stop.store(true, Ordering::Relaxed);
    task.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_node_follows_only_certified_blocks() {
    let honest = node();
    for i in 0..3u8 {
        let k = assent_contracts::crypto::Keypair::from_seed([40 + i; 32]);
        commit(&honest, vec![register(&k, 0)]);
    }
    let honest_url = serve(&honest).await;
    let (_, answer) = get(&honest.router, "/v1/certified-blocks?from=1").await;
    assert_eq!(answer["blocks"].as_array().unwrap().len(), 3, "{answer}");
    assert_eq!(answer["head"], 3);

    // Three liars: a forged certificate signature, a block that is not the
    // certified one, and block 2 offered as block 1.
    let mut forged = answer.clone();
    let cert = forged["blocks"][0]["certificate"]
        .as_str()
        .unwrap()
        .to_string();
    forged["blocks"][0]["certificate"] = flip(&cert, cert.len() - 4).into();
    let mut swapped = answer.clone();
    let block = swapped["blocks"][0]["block"].as_str().unwrap().to_string();
    swapped["blocks"][0]["block"] = flip(&block, block.len() - 4).into();
    let mut shifted = answer.clone();
    shifted["blocks"] = Value::Array(answer["blocks"].as_array().unwrap()[1..].to_vec());

    for (what, lie) in [
        ("forged", forged),
        ("swapped", swapped),
        ("shifted", shifted),
    ] {
        // Only the liar: nothing is committed, however often it is asked.
        let (liar_url, asked) = liar(lie).await;
        let alone = node();
        let asked_ = asked.clone();
        follow_until(&alone, vec![liar_url.clone()], move || {
            asked_.load(Ordering::Relaxed) >= 3
        })
        .await;
        assert_eq!(
            alone.shared.chain.head().height.0,
            0,
            "{what}: a lie was committed"
        );

        // The liar first, then the honest peer: the honest chain, exactly.
        let follower = node();
        let chain = follower.shared.chain.clone();
        let got = follow_until(&follower, vec![liar_url, honest_url.clone()], move || {
            chain.head().height.0 == 3
        })
        .await;
        assert_eq!(got, Followed::Stopped);
        assert!(
            asked.load(Ordering::Relaxed) >= 4,
            "{what}: the liar was asked"
        );
        assert_eq!(
            follower.shared.chain.head(),
            honest.shared.chain.head(),
            "{what}"
        );
        for h in 1..=3 {
            let path = format!("/v1/blocks/{h}");
            assert_eq!(
                get(&follower.router, &path).await.1,
                get(&honest.router, &path).await.1,
                "{what}: block {h}"
            );
        }
    }
}

#[tokio::test]
async fn certified_blocks_refuse_bad_queries() {
    let t = node();
    for bad in [
        "/v1/certified-blocks",
        "/v1/certified-blocks?from=0",
        "/v1/certified-blocks?from=1&limit=0",
        "/v1/certified-blocks?from=1&limit=65",
        "/v1/certified-blocks?from=x",
    ] {
        let (status, body) = get(&t.router, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "bad_query", "{bad}: {body}");
    }
    // Past the head: nothing yet, and the head to come back for.
    let (status, body) = get(&t.router, "/v1/certified-blocks?from=5").await;
    assert_eq!(status, 200);
    assert_eq!(body["blocks"].as_array().unwrap().len(), 0);
    assert_eq!(body["head"], 0);
}
