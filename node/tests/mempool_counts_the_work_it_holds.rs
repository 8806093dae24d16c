//! The pool's work count (`Mempool::work`): the work units of every pending
//! tx (one per tx, plus one per use of a RecordUse), which a proposer weighs
//! against an interval's worth of execution before it waits out the pacing
//! interval (ARCHITECTURE decision 16). It follows txs as they are admitted,
//! from clients or gossip, and however they leave the pool: committed,
//! outdated by another tx with the same nonce, or expired behind a gap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mempool_support;

use assent_contracts::crypto::Keypair;
use assent_contracts::tx::{RecordUse, Use, UseBasis};
use assent_contracts::{terms, Hash32, Payload, PolicyId, SignedTx, TxBody};
use assent_node::mempool::{MempoolLimits, Origin};
use mempool_support::*;

/// A RecordUse of `uses` uses (work: 1 + uses). Sent at a nonce past the
/// sender's state nonce, admission does not run it against the state.
fn record_use(from: &Keypair, nonce: u64, uses: usize) -> SignedTx {
    let a_use = Use {
        consumer: key(8).account(),
        basis: UseBasis::Policy(PolicyId(Hash32([1; 32]))),
        category: "Purchase".parse().expect("a standard category"),
        purpose: "DirectMarketing".parse().expect("a standard purpose"),
        level: terms::Level::Pseudonymous,
        units: 1,
        evidence_hash: Hash32([9; 32]),
    };
    TxBody {
        sender: from.account(),
        nonce,
        payload: Payload::RecordUse(RecordUse {
            uses: vec![a_use; uses],
        }),
    }
    .sign(CHAIN, from)
}

#[test]
fn the_work_count_follows_txs_in_and_out_of_the_pool() {
    let mut store = genesis_store();
    let mut mp = assent_node::mempool::Mempool::new(MempoolLimits {
        gap_expiry_blocks: 3,
        ..MempoolLimits::default()
    });
    let (a, b, g) = (key(40), key(41), key(42));
    assert_eq!(mp.work(), 0, "an empty pool holds no work");

    // A client's transfer and two RecordUses; another node's transfer.
    let a_txs = [
        transfer(&a, 0, 1),
        record_use(&a, 1, 6),
        record_use(&a, 2, 3),
    ];
    admit_all(&mut mp, &store, &a_txs);
    for r in submit(
        &mut mp,
        Origin::Gossip,
        vec![transfer(&g, 0, 1).encode()],
        &store,
    ) {
        r.unwrap();
    }
    assert_eq!(mp.len(), 4);
    assert_eq!(mp.work(), 1 + 7 + 4 + 1);

    // A tx the pool already holds adds nothing when it comes again.
    assert!(admit_one(&mut mp, &store, &a_txs[1]).is_err());
    assert_eq!(mp.work(), 13);

    // Committed: a's transfer leaves.
    set_nonce(&mut store, &a, 1);
    mp.remove_committed(&[a_txs[0].id()], &store);
    assert_eq!(mp.work(), 12);

    // Outdated: another node's block took nonce 1, so the 6-use RecordUse
    // can never run.
    set_nonce(&mut store, &a, 2);
    mp.remove_committed(&[], &store);
    assert!(!mp.contains(&a_txs[1].id()));
    assert_eq!(mp.work(), 5);

    // Expired: b's 9-use RecordUse waits behind a nonce that never comes.
    let stuck = record_use(&b, 2, 9);
    admit_all(&mut mp, &store, std::slice::from_ref(&stuck));
    assert_eq!(mp.work(), 15);
    assert_eq!(mp.expire_gaps(10, &store), vec![stuck.id()]);
    assert_eq!(mp.work(), 5, "a's 3-use RecordUse and g's transfer wait");

    // What a block reaps leaves when the block commits: nothing is left.
    set_nonce(&mut store, &a, 3);
    set_nonce(&mut store, &g, 1);
    mp.remove_committed(&[a_txs[2].id()], &store);
    assert_eq!(mp.len(), 0);
    assert_eq!(mp.work(), 0);
}
