//! The mempool's reaping: only contiguous nonces from the state nonce, gaps
//! that fill later, senders interleaved by arrival within the limits, and
//! twenty thousand txs reaped in nonce order; and no panic on garbage bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mempool_support;

use assent_contracts::crypto::Keypair;
use assent_contracts::SignedTx;
use mempool_support::*;

use assent_node::mempool::{Origin, ReapLimits};
use proptest::prelude::*;

#[test]
fn reaping_takes_only_contiguous_nonces_and_gaps_fill_later() {
    let store = genesis_store();
    let mut mp = pool();
    let a = key(20);
    admit_all(
        &mut mp,
        &store,
        &[transfer(&a, 0, 1), transfer(&a, 1, 1), transfer(&a, 3, 1)],
    );
    assert_eq!(mp.len(), 3, "a future nonce waits in the pool");
    let id = a.account();
    assert_eq!(reaped(&mp, &store, 100, usize::MAX), [(id, 0), (id, 1)]);
    assert_eq!(mp.pending_nonce(&id, 0), 2);
    admit_all(&mut mp, &store, &[transfer(&a, 2, 1)]);
    assert_eq!(
        reaped(&mp, &store, 100, usize::MAX),
        [(id, 0), (id, 1), (id, 2), (id, 3)]
    );
    assert_eq!(mp.pending_nonce(&id, 0), 4);
    // A sender whose first pending nonce is ahead of its state gets nothing.
    let b = key(21);
    admit_all(&mut mp, &store, &[transfer(&b, 1, 1)]);
    assert!(reaped(&mp, &store, 100, usize::MAX)
        .iter()
        .all(|(s, _)| *s == id));
}

#[test]
fn a_work_budget_sizes_the_block_but_never_leaves_it_empty() {
    let store = genesis_store();
    let mut mp = pool();
    let a = key(20);
    let txs: Vec<SignedTx> = (0..5).map(|n| transfer(&a, n, 1)).collect();
    admit_all(&mut mp, &store, &txs);
    let nonces = |limits| -> Vec<u64> {
        mp.reap(&store, limits)
            .iter()
            .map(|t| t.tx().body.nonce)
            .collect()
    };
    let budget = |max_work| ReapLimits {
        max_txs: 100,
        max_bytes: usize::MAX,
        max_work,
    };
    // A transfer is one unit of work: three units, three txs.
    assert_eq!(nonces(budget(3)), [0, 1, 2]);
    // A budget smaller than the first tx still takes that tx alone.
    assert_eq!(nonces(budget(0)), [0]);
    assert_eq!(nonces(ReapLimits::of(100, usize::MAX)), [0, 1, 2, 3, 4]);
}

#[test]
fn reaping_interleaves_senders_by_arrival_within_limits() {
    let store = genesis_store();
    let mut mp = pool();
    let (a, b, c) = (key(20), key(21), key(22));
    let mut txs: Vec<SignedTx> = (0..5).map(|n| transfer(&a, n, 1)).collect();
    txs.extend((0..2).map(|n| transfer(&b, n, 1)));
    txs.push(transfer(&c, 0, 1));
    admit_all(&mut mp, &store, &txs);
    let (a, b, c) = (a.account(), b.account(), c.account());
    assert_eq!(
        reaped(&mp, &store, 100, usize::MAX),
        [
            (a, 0),
            (b, 0),
            (c, 0),
            (a, 1),
            (b, 1),
            (a, 2),
            (a, 3),
            (a, 4)
        ]
    );
    assert_eq!(
        reaped(&mp, &store, 4, usize::MAX),
        [(a, 0), (b, 0), (c, 0), (a, 1)]
    );
    let size = txs[0].encode().len();
    assert_eq!(reaped(&mp, &store, 100, 2 * size + 1), [(a, 0), (b, 0)]);
    assert!(mp.reap(&store, ReapLimits::of(0, usize::MAX)).is_empty());
    assert!(mp.reap(&store, ReapLimits::of(100, 0)).is_empty());
}

#[test]
fn reaping_starts_at_the_state_nonce() {
    let mut store = genesis_store();
    let mut mp = pool();
    let a = key(20);
    admit_all(
        &mut mp,
        &store,
        &(0..4).map(|n| transfer(&a, n, 1)).collect::<Vec<_>>(),
    );
    set_nonce(&mut store, &a, 2);
    let id = a.account();
    assert_eq!(reaped(&mp, &store, 100, usize::MAX), [(id, 2), (id, 3)]);
}

#[test]
fn reaping_twenty_thousand_txs_returns_them_all_in_nonce_order() {
    let store = genesis_store();
    let mut mp = pool();
    let keys: Vec<Keypair> = (30..230).map(key).collect();
    let raw: Vec<Vec<u8>> = (0..100)
        .flat_map(|n| keys.iter().map(move |k| transfer(k, n, 1).encode()))
        .collect();
    let admitted = submit(&mut mp, Origin::Client, raw, &store);
    assert!(admitted.iter().all(Result::is_ok));
    let out = mp.reap(&store, ReapLimits::of(usize::MAX, usize::MAX));
    assert_eq!(out.len(), 20_000);
    let mut next = std::collections::BTreeMap::new();
    for t in &out {
        let n = next.entry(t.sender()).or_insert(0u64);
        assert_eq!(t.tx().body.nonce, *n);
        *n += 1;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_bytes_never_panic(batch in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8)) {
        let store = genesis_store();
        let mut mp = pool();
        let results = submit(&mut mp, Origin::Client, batch.clone(), &store);
        prop_assert_eq!(results.len(), batch.len());
        prop_assert!(mp.len() <= batch.len());
    }

    #[test]
    fn mutated_txs_never_panic_and_only_genuine_ones_get_in(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let store = genesis_store();
        let mut mp = pool();
        let tx = transfer(&key(20), 0, 7);
        let mut bytes = tx.encode();
        for (i, x) in flips {
            let i = i.index(bytes.len());
            bytes[i] ^= x;
        }
        let r = submit(&mut mp, Origin::Client, vec![bytes.clone()], &store).pop().unwrap();
        if r.is_ok() {
            // Only a tx whose signature verifies can be stored.
            let decoded = SignedTx::decode(&bytes, usize::MAX).unwrap();
            prop_assert!(decoded.verify(CHAIN).is_ok());
        }
    }
}
