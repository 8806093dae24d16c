//! Backpressure's per-node share (`Mempool::room`): this node's clients may
//! have at most 1/validators of the backlog pending. Their txs are counted as
//! they are admitted and uncounted however they leave the pool: committed,
//! outdated by another tx with the same nonce, or expired behind a gap.
//! Txs that arrive by gossip never count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mempool_support;

use std::time::Instant;

use assent_node::mempool::{BacklogLimits, Mempool, MempoolLimits, Origin};
use mempool_support::*;

/// Two validators, a backlog of at least 8 txs: this node's clients get 4.
const VALIDATORS: usize = 2;

fn backlogged_pool() -> Mempool {
    Mempool::new(MempoolLimits {
        gap_expiry_blocks: 3,
        ..MempoolLimits::default()
    })
    .with_backlog(BacklogLimits {
        backlog_ms: 500,
        min_txs: 8,
        ..BacklogLimits::default()
    })
}

/// How many more client txs fit now (None: refused `overloaded`).
fn txs_left(mp: &mut Mempool) -> Option<usize> {
    mp.room(Instant::now(), VALIDATORS).ok().map(|(txs, _)| txs)
}

#[test]
fn the_share_frees_as_its_txs_are_committed_outdated_or_expired() {
    let mut store = genesis_store();
    let mut mp = backlogged_pool();
    let (a, b, g) = (key(30), key(31), key(32));
    assert_eq!(txs_left(&mut mp), Some(4), "an empty pool: the whole share");

    // Gossiped txs fill the pool, not this node's share.
    let gossiped: Vec<Vec<u8>> = (0..3).map(|n| transfer(&g, n, 1).encode()).collect();
    for r in submit(&mut mp, Origin::Gossip, gossiped, &store) {
        r.unwrap();
    }
    assert_eq!(txs_left(&mut mp), Some(4));

    // Three of a's and one of b's from clients: the share is taken.
    let a_txs: Vec<_> = (0..3).map(|n| transfer(&a, n, 1)).collect();
    admit_all(&mut mp, &store, &a_txs);
    assert_eq!(txs_left(&mut mp), Some(1));
    let b0 = transfer(&b, 0, 1);
    admit_all(&mut mp, &store, std::slice::from_ref(&b0));
    assert_eq!(
        txs_left(&mut mp),
        None,
        "four of this node's clients' txs wait"
    );
    assert_eq!(mp.len(), 7);

    // Committed: a0 leaves the share.
    set_nonce(&mut store, &a, 1);
    mp.remove_committed(&[a_txs[0].id()], &store);
    assert_eq!(txs_left(&mut mp), Some(1));

    // Outdated: another node's txs took a1 and a2's nonces.
    set_nonce(&mut store, &a, 3);
    mp.remove_committed(&[], &store);
    assert!(!mp.contains(&a_txs[2].id()));
    assert_eq!(txs_left(&mut mp), Some(3), "only b0 is left of this node's");

    // Expired: b's nonce 2 waits behind a nonce 1 that never comes.
    set_nonce(&mut store, &b, 1);
    mp.remove_committed(&[b0.id()], &store);
    let stuck = transfer(&b, 2, 1);
    admit_all(&mut mp, &store, std::slice::from_ref(&stuck));
    assert_eq!(txs_left(&mut mp), Some(3));
    assert_eq!(mp.expire_gaps(10, &store), vec![stuck.id()]);
    assert_eq!(txs_left(&mut mp), Some(4), "none of this node's txs wait");
    assert_eq!(mp.len(), 3, "the gossiped txs still wait");

    // The share in bytes is counted the same way: with it back in full, a
    // client tx fits again and takes its place.
    let (_, bytes_before) = mp.room(Instant::now(), VALIDATORS).unwrap();
    let a3 = transfer(&a, 3, 1);
    admit_all(&mut mp, &store, std::slice::from_ref(&a3));
    let (txs, bytes_after) = mp.room(Instant::now(), VALIDATORS).unwrap();
    assert_eq!(txs, 3);
    assert_eq!(bytes_after + a3.encode().len(), bytes_before);
}
