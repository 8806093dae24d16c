//! Tx gossip over real TCP on 127.0.0.1: allowlisted peers exchange batches,
//! a peer outside the allowlist is refused and its batches never arrive,
//! garbage from a peer is dropped, a lost peer is redialed, and a changed
//! allowlist (the validator set moved) disconnects the removed and admits
//! the added, and a node short of a full mesh relays what it hears.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_node::gossip::{
    decode_batch, encode_batches, keypair_from_seed, peer_id_of, spawn, GossipConfig, GossipHandle,
    Inbound,
};
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{gossipsub, noise, tcp, yamux, Multiaddr, PeerId};
use proptest::prelude::*;
use tokio::sync::mpsc;
use tokio::time::timeout;

const TOPIC: &str = "/assent/gossip-test/txs/1";
const DEADLINE: Duration = Duration::from_secs(20);

fn peer(seed: u8) -> PeerId {
    keypair_from_seed([seed; 32]).public().to_peer_id()
}

/// A node that publishes each batch at once (no linger).
async fn node(
    seed: u8,
    allow: &[u8],
    listen: Option<Multiaddr>,
    peers: Vec<Multiaddr>,
) -> (GossipHandle, mpsc::Receiver<Inbound>) {
    lingering_node(seed, allow, listen, peers, Duration::ZERO).await
}

async fn lingering_node(
    seed: u8,
    allow: &[u8],
    listen: Option<Multiaddr>,
    peers: Vec<Multiaddr>,
    linger: Duration,
) -> (GossipHandle, mpsc::Receiver<Inbound>) {
    spawn(GossipConfig {
        listen: listen.unwrap_or_else(|| "/ip4/127.0.0.1/tcp/0".parse().unwrap()),
        peers,
        keypair: keypair_from_seed([seed; 32]),
        allowlist: allow.iter().map(|s| peer(*s)).collect(),
        topic: TOPIC.into(),
        linger,
        serve: None,
    })
    .await
    .unwrap()
}

/// Waits (with a deadline) until `cond` holds, checking every few ms.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let poll = async {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        while !cond() {
            tick.tick().await;
        }
    };
    timeout(DEADLINE, poll)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting until {what}"));
}

async fn recv(rx: &mut mpsc::Receiver<Inbound>) -> Inbound {
    timeout(DEADLINE, rx.recv())
        .await
        .expect("a batch arrives in time")
        .expect("the gossip actor is running")
}

fn batch(tag: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("{tag}-{i}").into_bytes()).collect()
}

#[test]
fn the_gossip_identity_is_the_validator_key() {
    let k = Keypair::from_seed([7; 32]);
    assert_eq!(peer_id_of(&k.account()), Some(peer(7)));
    assert_ne!(peer_id_of(&k.account()), Some(peer(8)));
}

#[tokio::test]
async fn allowlisted_peers_exchange_batches() {
    let (a, mut a_rx) = node(1, &[2], None, vec![]).await;
    let (b, mut b_rx) = node(2, &[1], None, a.listen_addrs()).await;
    until("both are subscribed to each other", || {
        a.topic_peers() == 1 && b.topic_peers() == 1
    })
    .await;
    assert_eq!((a.peers(), b.peers()), (1, 1));

    a.publish(batch("from-a", 3));
    let got = recv(&mut b_rx).await;
    assert_eq!((got.from, got.txs), (peer(1), batch("from-a", 3)));
    b.publish(batch("from-b", 1));
    assert_eq!(recv(&mut a_rx).await.txs, batch("from-b", 1));
    assert_eq!(a.counters().published, 1);
    assert_eq!(b.counters().received, 1);

    // Large batches are split under the message limit and all arrive.
    let big: Vec<Vec<u8>> = (0..20).map(|i| vec![i as u8; 400 * 1024]).collect();
    a.publish(big.clone());
    let mut got = Vec::new();
    while got.len() < big.len() {
        got.extend(recv(&mut b_rx).await.txs);
    }
    assert_eq!(got, big);

    a.shutdown().await;
    until("b sees a gone", || b.peers() == 0).await;
    b.shutdown().await;
}

#[tokio::test]
async fn small_batches_published_within_the_linger_go_out_as_one_message() {
    // A long linger, so that the ten publishes below surely fall within it.
    let (a, _a_rx) = lingering_node(1, &[2], None, vec![], Duration::from_secs(2)).await;
    let (b, mut b_rx) = node(2, &[1], None, a.listen_addrs()).await;
    until("both are subscribed to each other", || {
        a.topic_peers() == 1 && b.topic_peers() == 1
    })
    .await;

    let want: Vec<Vec<u8>> = (0..10).flat_map(|i| batch(&format!("tx{i}"), 1)).collect();
    for tx in &want {
        a.publish(vec![tx.clone()]);
    }
    let got = recv(&mut b_rx).await;
    assert_eq!(
        got.txs, want,
        "ten publishes arrive as one message, in order"
    );
    assert_eq!(a.counters().published, 1);

    // A lone batch still goes out when the linger is over.
    a.publish(batch("lone", 1));
    assert_eq!(recv(&mut b_rx).await.txs, batch("lone", 1));
    assert_eq!(a.counters().published, 2);

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_peer_outside_the_allowlist_is_refused_and_never_heard() {
    let (a, mut a_rx) = node(1, &[2], None, vec![]).await;
    let (b, _b_rx) = node(2, &[1], None, a.listen_addrs()).await;
    until("a and b are subscribed", || {
        a.topic_peers() == 1 && b.topic_peers() == 1
    })
    .await;

    // The intruder allows everyone and dials both; they refuse it.
    let mut dial = a.listen_addrs();
    dial.extend(b.listen_addrs());
    let (x, _x_rx) = node(3, &[1, 2], None, dial).await;
    until("a and b refused the intruder", || {
        a.counters().denied >= 1 && b.counters().denied >= 1
    })
    .await;
    x.publish(batch("intruder", 2));
    until("the intruder's batch went nowhere", || {
        x.counters().publish_dropped >= 1
    })
    .await;
    assert_eq!(x.counters().published, 0);

    // b's later batch arrives at a, and nothing from the intruder before it.
    b.publish(batch("marker", 1));
    let got = recv(&mut a_rx).await;
    assert_eq!((got.from, got.txs), (peer(2), batch("marker", 1)));
    assert!(a_rx.try_recv().is_err());
    assert_eq!((a.peers(), b.peers()), (1, 1));

    x.shutdown().await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_removed_validator_loses_its_gossip_rights_and_an_added_one_gains_them() {
    let (a, mut a_rx) = node(1, &[2], None, vec![]).await;
    let (b, _b_rx) = node(2, &[1], None, a.listen_addrs()).await;
    until("a and b are subscribed", || {
        a.topic_peers() == 1 && b.topic_peers() == 1
    })
    .await;
    // c, not yet a validator in a's eyes, dials a and is refused.
    let (c, _c_rx) = node(3, &[1], None, a.listen_addrs()).await;
    until("a refused c", || a.counters().denied >= 1).await;

    // Governance removed b and added c.
    a.set_allowlist(vec![peer(3)]).await;
    until("b is disconnected and c admitted", || {
        b.peers() == 0 && a.topic_peers() == 1 && c.topic_peers() == 1
    })
    .await;
    b.publish(batch("removed", 1));
    c.publish(batch("added", 1));
    let got = recv(&mut a_rx).await;
    assert_eq!((got.from, got.txs), (peer(3), batch("added", 1)));
    // b keeps redialing and keeps being refused; nothing of it arrives.
    let denied = a.counters().denied;
    until("a refused b again", || a.counters().denied > denied).await;
    assert!(a_rx.try_recv().is_err());
    assert_eq!(a.peers(), 1);

    c.shutdown().await;
    b.shutdown().await;
    a.shutdown().await;
}

#[tokio::test]
async fn garbage_from_a_peer_is_dropped() {
    let (a, mut a_rx) = node(1, &[4], None, vec![]).await;

    // A raw gossipsub peer (allowlisted, key seed 4) that sends what it likes.
    let mut raw = libp2p::SwarmBuilder::with_existing_identity(keypair_from_seed([4; 32]))
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            let cfg = gossipsub::ConfigBuilder::default()
                .validation_mode(gossipsub::ValidationMode::Anonymous)
                .message_id_fn(|m: &gossipsub::Message| gossipsub::MessageId::from(m.data.clone()))
                .build()
                .unwrap();
            let b: gossipsub::Behaviour =
                gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, cfg).unwrap();
            b
        })
        .unwrap()
        .build();
    let topic = gossipsub::IdentTopic::new(TOPIC);
    raw.behaviour_mut().subscribe(&topic).unwrap();
    raw.dial(a.listen_addrs()[0].clone()).unwrap();
    let drive = async {
        loop {
            if let SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) =
                raw.select_next_some().await
            {
                break;
            }
        }
        let empty = assent_contracts::codec::encode(&Vec::<Vec<u8>>::new()).unwrap();
        for junk in [vec![0xff; 40], vec![], empty, b"not a batch".to_vec()] {
            raw.behaviour_mut().publish(topic.clone(), junk).unwrap();
        }
        let good = encode_batches(batch("good", 2)).pop().unwrap();
        raw.behaviour_mut().publish(topic.clone(), good).unwrap();
        loop {
            tokio::select! {
                _ = raw.select_next_some() => {}
                got = a_rx.recv() => return got,
            }
        }
    };
    let got = timeout(DEADLINE, drive)
        .await
        .expect("the good batch arrives")
        .unwrap();
    assert_eq!((got.from, got.txs), (peer(4), batch("good", 2)));
    assert_eq!(a.counters().malformed, 4);
    assert_eq!(a.counters().received, 1);
    drop(raw);
    a.shutdown().await;
}

#[tokio::test]
async fn a_lost_peer_is_redialed() {
    let (a, _a_rx) = node(1, &[2], None, vec![]).await;
    let addr = a.listen_addrs()[0].clone();
    let (b, mut b_rx) = node(2, &[1], None, vec![addr.clone()]).await;
    until("b is connected", || b.topic_peers() == 1).await;
    a.shutdown().await;
    until("b sees a gone", || b.peers() == 0).await;

    // a comes back at the same address; b dials it again by itself.
    let (a, _a_rx) = node(1, &[2], Some(addr), vec![]).await;
    until("b is connected again", || {
        b.topic_peers() == 1 && a.topic_peers() == 1
    })
    .await;
    a.publish(batch("again", 1));
    assert_eq!(recv(&mut b_rx).await.txs, batch("again", 1));
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_node_short_of_a_full_mesh_relays_what_it_hears() {
    // Validators 1–4; 4 never comes up, and 1 and 3 do not dial each
    // other: 2 sees a peer of its allowlist missing, so it relays 1's
    // batches to 3 (in a full mesh it would not: every author reaches
    // everyone itself).
    let (a, _a_rx) = node(1, &[2, 3, 4], None, vec![]).await;
    let (b, _b_rx) = node(2, &[1, 3, 4], None, a.listen_addrs()).await;
    let (c, mut c_rx) = node(3, &[1, 2, 4], None, b.listen_addrs()).await;
    until("the line 1 – 2 – 3 is up", || {
        a.topic_peers() == 1 && b.topic_peers() == 2 && c.topic_peers() == 1
    })
    .await;
    // 2 relays to the peers of its mesh, which it builds at its next
    // heartbeat: publish a new batch until one reaches 3.
    let got = timeout(DEADLINE, async {
        for i in 0.. {
            a.publish(batch(&format!("from-a-{i}"), 1));
            if let Ok(Some(got)) = timeout(Duration::from_millis(200), c_rx.recv()).await {
                return got;
            }
        }
        unreachable!()
    })
    .await
    .expect("a batch of 1 reaches 3 through 2 in time");
    assert_eq!(got.from, peer(2), "relayed by 2");
    assert!(got.txs[0].starts_with(b"from-a-"), "{:?}", got.txs);
    for n in [a, b, c] {
        n.shutdown().await;
    }
}

proptest! {
    #[test]
    fn decoding_arbitrary_messages_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_batch(&data);
    }

    #[test]
    fn the_borrowed_decode_accepts_exactly_what_the_owned_strict_one_does(
        txs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..6),
        at in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
        mode in 0u8..4,
    ) {
        // A valid framing, one byte of it changed, one byte inserted, or the
        // first entry's length written wider than it needs (entries up to
        // 300 bytes take both varint widths).
        use assent_contracts::codec;
        let mut data = codec::encode_native(&txs).unwrap();
        match mode {
            0 => {}
            1 => {
                let i = at.index(data.len());
                data[i] = byte;
            }
            2 => data.insert(at.index(data.len() + 1), byte),
            _ => {
                if let Some(first) = txs.first().filter(|t| t.len() < 251) {
                    data.splice(1..2, [251, first.len() as u8, 0]);
                }
            }
        }
        let owned = codec::decode_native::<Vec<Vec<u8>>>(&data);
        let borrowed = codec::decode_byte_strings(&data);
        prop_assert_eq!(owned.is_ok(), borrowed.is_ok(), "{:?} vs {:?}", owned, borrowed);
        if let (Ok(o), Ok(b)) = (owned, borrowed) {
            prop_assert_eq!(o, b.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn batches_round_trip(txs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..16)) {
        let msgs = encode_batches(txs.clone());
        prop_assert_eq!(msgs.len(), 1);
        prop_assert_eq!(decode_batch(&msgs[0]).unwrap(), txs);
    }
}
