//! Fetching a proposal's txs over real TCP on 127.0.0.1: a validator asks a
//! peer for txs of a block by index and gets the peer's answer; a peer that
//! does not hold the block, or has no one to answer, says so; a peer that
//! never answers costs the asker the protocol's timeout, not a hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::{BlockHash, Hash32};
use assent_node::gossip::fetch::{FetchError, FetchRequest, FetchResponse, Serve};
use assent_node::gossip::{keypair_from_seed, spawn, GossipConfig, GossipHandle, Inbound};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tokio::time::timeout;

const DEADLINE: Duration = Duration::from_secs(20);

fn peer(seed: u8) -> PeerId {
    keypair_from_seed([seed; 32]).public().to_peer_id()
}

async fn node(
    seed: u8,
    allow: u8,
    peers: Vec<Multiaddr>,
    serve: Option<mpsc::Sender<Serve>>,
) -> (GossipHandle, mpsc::Receiver<Inbound>) {
    spawn(GossipConfig {
        listen: "/ip4/127.0.0.1/tcp/0".parse().unwrap(),
        peers,
        keypair: keypair_from_seed([seed; 32]),
        allowlist: vec![peer(allow)],
        topic: "/assent/fetch-test/txs/1".into(),
        linger: Duration::ZERO,
        serve,
    })
    .await
    .unwrap()
}

async fn connected(a: &GossipHandle, b: &GossipHandle) {
    let poll = async {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        while a.peers() == 0 || b.peers() == 0 {
            tick.tick().await;
        }
    };
    timeout(DEADLINE, poll)
        .await
        .expect("the two nodes connect");
}

fn hash(b: u8) -> BlockHash {
    BlockHash(Hash32([b; 32]))
}

/// Answers like a node holding one block (`hash(1)` at height 5) of three txs.
async fn holder(mut rx: mpsc::Receiver<Serve>) {
    let txs = [b"tx-zero".to_vec(), b"tx-one".to_vec(), b"tx-two".to_vec()];
    while let Some(s) = rx.recv().await {
        let r = &s.request;
        let answer = if r.height == 5 && r.hash == hash(1) {
            r.indices
                .iter()
                .map(|&i| txs.get(i as usize).cloned())
                .collect::<Option<Vec<_>>>()
                .map_or(FetchResponse::Unknown, FetchResponse::Txs)
        } else {
            FetchResponse::Unknown
        };
        let _ = s.reply.send(answer);
    }
}

#[tokio::test]
async fn a_peer_answers_with_the_txs_asked_for_or_says_it_does_not_hold_the_block() {
    let (serve_tx, serve_rx) = mpsc::channel(4);
    tokio::spawn(holder(serve_rx));
    let (a, _a_rx) = node(1, 2, vec![], Some(serve_tx)).await;
    let (b, _b_rx) = node(2, 1, a.listen_addrs(), None).await;
    connected(&a, &b).await;

    let ask = |height, h, indices: Vec<u32>| FetchRequest {
        height,
        hash: h,
        indices,
    };
    let got = timeout(DEADLINE, b.fetch(peer(1), ask(5, hash(1), vec![2, 0])))
        .await
        .unwrap();
    assert_eq!(got, Ok(vec![b"tx-two".to_vec(), b"tx-zero".to_vec()]));
    // Another block, another height, an index past the end: not held.
    for r in [
        ask(5, hash(9), vec![0]),
        ask(6, hash(1), vec![0]),
        ask(5, hash(1), vec![3]),
    ] {
        let got = timeout(DEADLINE, b.fetch(peer(1), r)).await.unwrap();
        assert_eq!(got, Err(FetchError::Unknown));
    }
    // A node with no one to answer (here b) says it holds nothing.
    let got = timeout(DEADLINE, a.fetch(peer(2), ask(5, hash(1), vec![0])))
        .await
        .unwrap();
    assert_eq!(got, Err(FetchError::Unknown));
    // Too many indices are refused before anything is sent.
    let many = (0..=assent_node::gossip::fetch::MAX_FETCH_TXS as u32).collect();
    let got = b.fetch(peer(1), ask(5, hash(1), many)).await;
    assert!(matches!(got, Err(FetchError::TooMany(_))), "{got:?}");
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_peer_that_never_answers_fails_the_fetch_in_bounded_time() {
    // The serving side takes requests and never replies (nor drops them).
    let (serve_tx, mut serve_rx) = mpsc::channel::<Serve>(4);
    let hoard = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Some(s) = serve_rx.recv().await {
            kept.push(s);
        }
    });
    let (a, _a_rx) = node(3, 4, vec![], Some(serve_tx)).await;
    let (b, _b_rx) = node(4, 3, a.listen_addrs(), None).await;
    connected(&a, &b).await;
    let r = FetchRequest {
        height: 1,
        hash: hash(1),
        indices: vec![0],
    };
    let got = timeout(DEADLINE, b.fetch(peer(3), r))
        .await
        .expect("the fetch ends by the protocol's timeout");
    assert!(matches!(got, Err(FetchError::Failed(_))), "{got:?}");
    // A peer we are not connected to (not in the allowlist) fails too.
    let r = FetchRequest {
        height: 1,
        hash: hash(1),
        indices: vec![0],
    };
    let got = timeout(DEADLINE, b.fetch(peer(9), r)).await.unwrap();
    assert!(matches!(got, Err(FetchError::Failed(_))), "{got:?}");
    a.shutdown().await;
    b.shutdown().await;
    hoard.abort();
}
