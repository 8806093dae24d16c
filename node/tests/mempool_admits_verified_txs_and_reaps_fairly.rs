//! The mempool: every admission error path, one batch signature check that
//! refuses only the forged txs, quotas, nonce gaps, removal after a block,
//! gossip hand-out and many threads admitting at once (reaping and garbage
//! bytes: `mempool_reaps_contiguous_nonces_fairly.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mempool_support;

use assent_contracts::tx::Transfer;
use assent_contracts::{AccountId, Amount, Payload, SignedTx, TxBody, TxId};
use mempool_support::*;

use assent_node::mempool::{self, AdmissionError, Mempool, MempoolLimits, Origin, ReapLimits};
use rand::rngs::OsRng;

#[test]
fn a_valid_tx_is_admitted_and_can_be_looked_up() {
    let store = genesis_store();
    let mut mp = pool();
    let alice = key(20);
    let tx = transfer(&alice, 0, 5);
    let id = admit_one(&mut mp, &store, &tx).unwrap();
    assert_eq!(id, tx.id());
    assert!(mp.contains(&id));
    assert_eq!(mp.len(), 1);
    let got = mp.get(&id).unwrap();
    assert_eq!(got.bytes(), tx.encode().as_slice());
    assert_eq!(mp.bytes(), tx.encode().len());
    assert_eq!(mp.pending_nonce(&alice.account(), 0), 1);
    assert_eq!(mp.pending_nonce(&key(21).account(), 7), 7);
    // A proposal's tx is looked up by sender and nonce (no id worked out):
    // the pooled tx, with its id; nothing at a nonce not pending.
    let at = mp.pending_at(&alice.account(), 0).unwrap();
    assert_eq!((at.id(), at.bytes()), (id, tx.encode().as_slice()));
    assert!(mp.pending_at(&alice.account(), 1).is_none());
    assert!(mp.pending_at(&key(21).account(), 0).is_none());
}

#[test]
fn each_refusal_has_its_code_and_status() {
    let mut store = genesis_store();
    let alice = key(20);
    let mut mp = Mempool::new(MempoolLimits {
        max_txs: 200_000,
        max_per_account: 4,
        max_tx_bytes: 1_000,
        ..MempoolLimits::default()
    });
    let check = |r: Result<TxId, AdmissionError>, code: &str| {
        let e = r.unwrap_err();
        assert_eq!(e.code(), code, "{e}");
        assert!(e.to_string().contains(':'), "message says what to do: {e}");
    };

    // Too large, checked before decoding.
    let r = submit(&mut mp, Origin::Client, vec![vec![0u8; 1_001]], &store)
        .pop()
        .unwrap();
    check(r, "too_large");

    // Malformed: garbage, and a valid tx with a trailing byte.
    let r = submit(&mut mp, Origin::Client, vec![vec![7, 7, 7]], &store)
        .pop()
        .unwrap();
    check(r, "malformed");
    let mut trailing = transfer(&alice, 0, 1).encode();
    trailing.push(0);
    let r = submit(&mut mp, Origin::Client, vec![trailing], &store)
        .pop()
        .unwrap();
    check(r, "malformed");

    // Bad signature: a flipped bit, and a tx signed for another chain.
    let mut forged = transfer(&alice, 0, 1);
    forged.signature.0[3] ^= 1;
    check(admit_one(&mut mp, &store, &forged), "bad_signature");
    let other_chain = TxBody {
        sender: alice.account(),
        nonce: 0,
        payload: Payload::Transfer(Transfer {
            to: key(9).account(),
            amount: Amount(1),
        }),
    }
    .sign("another-chain", &alice);
    check(admit_one(&mut mp, &store, &other_chain), "bad_signature");

    // Stateless check, with the tx error's code.
    check(
        admit_one(&mut mp, &store, &transfer(&alice, 0, 0)),
        "stateless_check:zero_amount",
    );

    // Stale nonce names the expected one.
    set_nonce(&mut store, &alice, 5);
    let e = admit_one(&mut mp, &store, &transfer(&alice, 3, 1)).unwrap_err();
    assert_eq!(
        e,
        AdmissionError::StaleNonce {
            sender: alice.account(),
            nonce: 3,
            expected: 5
        }
    );
    check(Err(e), "stale_nonce");

    // Duplicate: the same tx again, and another tx with a pending nonce.
    let tx = transfer(&alice, 5, 1);
    admit_one(&mut mp, &store, &tx).unwrap();
    check(admit_one(&mut mp, &store, &tx), "duplicate");
    check(
        admit_one(&mut mp, &store, &transfer(&alice, 5, 2)),
        "duplicate",
    );

    // Account quota: a nonce too far ahead, then too many pending.
    check(
        admit_one(&mut mp, &store, &transfer(&alice, 9, 1)),
        "account_quota",
    );
    for n in 6..=8 {
        admit_one(&mut mp, &store, &transfer(&alice, n, 1)).unwrap();
    }
    assert_eq!(mp.len(), 4);
    set_nonce(&mut store, &alice, 6);
    check(
        admit_one(&mut mp, &store, &transfer(&alice, 9, 1)),
        "account_quota",
    );
    assert_eq!(mp.len(), 4, "refused txs are not stored");
}

#[test]
fn a_full_mempool_refuses_more() {
    let store = genesis_store();
    let mut mp = Mempool::new(MempoolLimits {
        max_txs: 3,
        ..MempoolLimits::default()
    });
    let raw: Vec<Vec<u8>> = (30..35).map(|s| transfer(&key(s), 0, 1).encode()).collect();
    let codes: Vec<String> = submit(&mut mp, Origin::Client, raw, &store)
        .into_iter()
        .map(|r| r.map_or_else(|e| e.code().into_owned(), |_| "ok".into()))
        .collect();
    assert_eq!(codes, ["ok", "ok", "ok", "mempool_full", "mempool_full"]);
    assert_eq!(mp.len(), 3);
}

#[test]
fn the_pool_and_each_sender_are_capped_in_bytes_and_free_them_on_commit() {
    let mut store = genesis_store();
    let len = transfer(&key(60), 0, 1).encode().len();
    let mut mp = Mempool::new(MempoolLimits {
        max_bytes: 5 * len,
        max_account_bytes: 2 * len,
        ..MempoolLimits::default()
    });
    // One sender: its third tx would pass its count quota but not its bytes.
    let a = key(60);
    let a_txs: Vec<SignedTx> = (0..3).map(|n| transfer(&a, n, 1)).collect();
    let raw = a_txs.iter().map(SignedTx::encode).collect();
    let r = submit(&mut mp, Origin::Client, raw, &store);
    assert!(r[0].is_ok() && r[1].is_ok(), "{r:?}");
    assert!(
        matches!(r[2], Err(AdmissionError::AccountBytes { .. })),
        "{r:?}"
    );
    assert_eq!(r[2].as_ref().unwrap_err().code(), "account_quota");
    // Other senders fill the pool's bytes; the next one is refused.
    let raw: Vec<Vec<u8>> = (61..65).map(|s| transfer(&key(s), 0, 1).encode()).collect();
    let codes: Vec<String> = submit(&mut mp, Origin::Client, raw, &store)
        .into_iter()
        .map(|r| r.map_or_else(|e| e.code().into_owned(), |_| "ok".into()))
        .collect();
    assert_eq!(codes, ["ok", "ok", "ok", "mempool_full"]);
    assert_eq!((mp.len(), mp.bytes()), (5, 5 * len));
    // The sender's first two commit: their bytes are free again, in the
    // pool and in the sender's quota.
    set_nonce(&mut store, &a, 2);
    mp.remove_committed(&[a_txs[0].id(), a_txs[1].id()], &store);
    assert_eq!((mp.len(), mp.bytes()), (3, 3 * len));
    let r = submit(&mut mp, Origin::Client, vec![a_txs[2].encode()], &store);
    assert!(r[0].is_ok(), "{r:?}");
    let b = transfer(&a, 3, 1);
    assert!(submit(&mut mp, Origin::Client, vec![b.encode()], &store)[0].is_ok());
    let c = transfer(&a, 4, 1);
    let r = submit(&mut mp, Origin::Client, vec![c.encode()], &store);
    assert!(
        matches!(r[0], Err(AdmissionError::AccountBytes { .. })),
        "{r:?}"
    );
}

#[test]
fn a_fresh_keys_first_tx_that_the_ledger_would_reject_is_not_taken() {
    let store = genesis_store();
    let mut mp = pool();
    // An empty fresh key: its transfer would be rejected and still use up
    // nonce 0 (an account record for free), so admission refuses it.
    let empty = key(255);
    let r = submit(
        &mut mp,
        Origin::Client,
        vec![transfer(&empty, 0, 5).encode()],
        &store,
    );
    let e = r[0].as_ref().unwrap_err();
    assert_eq!(e.code(), "would_be_rejected:insufficient_funds", "{e}");
    assert!(e.to_string().contains("would reject"), "{e}");
    assert!(mp.is_empty());
    // The same from gossip.
    let r = submit(
        &mut mp,
        Origin::Gossip,
        vec![transfer(&empty, 0, 5).encode()],
        &store,
    );
    assert!(
        matches!(r[0], Err(AdmissionError::WouldBeRejected(_))),
        "{r:?}"
    );
    // A funded key's first tx applies, so it is taken; its later nonces are
    // not run (they depend on txs not yet executed).
    let funded = key(10);
    let raw = vec![
        transfer(&funded, 0, 5).encode(),
        transfer(&funded, 1, 5).encode(),
    ];
    let r = submit(&mut mp, Origin::Client, raw, &store);
    assert!(r.iter().all(Result::is_ok), "{r:?}");
    // A later nonce of the empty key is not run either (only nonce 0 is).
    let r = submit(
        &mut mp,
        Origin::Client,
        vec![transfer(&empty, 1, 5).encode()],
        &store,
    );
    assert!(r[0].is_ok(), "{r:?}");
    assert_eq!(mp.len(), 3);
}

#[test]
fn one_batch_check_refuses_only_the_forged_txs() {
    let store = genesis_store();
    let mut mp = pool();
    let mut txs: Vec<SignedTx> = (40..50).map(|s| transfer(&key(s), 0, 1)).collect();
    for i in [1, 4, 9] {
        txs[i].signature.0[10] ^= 0x40;
    }
    // A copy of a good tx with a forged signature, before the genuine one:
    // the forged copy is refused, the genuine one still gets in.
    let mut copy = txs[2].clone();
    copy.signature.0[0] ^= 1;
    txs.insert(2, copy);
    let raw = txs.iter().map(SignedTx::encode).collect();
    let results = submit(&mut mp, Origin::Client, raw, &store);
    let refused: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_err())
        .map(|(i, r)| {
            assert_eq!(r.as_ref().unwrap_err().code(), "bad_signature");
            i
        })
        .collect();
    assert_eq!(refused, [1, 2, 5, 10]);
    assert_eq!(mp.len(), 7);
    for (i, tx) in txs.iter().enumerate() {
        if !refused.contains(&i) {
            assert_eq!(results[i], Ok(tx.id()));
        }
    }
}

#[test]
fn the_same_tx_twice_in_one_call_is_admitted_once() {
    let store = genesis_store();
    let mut mp = pool();
    let tx = transfer(&key(20), 0, 1);
    let results = submit(
        &mut mp,
        Origin::Client,
        vec![tx.encode(), tx.encode()],
        &store,
    );
    assert_eq!(results[0], Ok(tx.id()));
    assert_eq!(results[1], Err(AdmissionError::Duplicate { id: tx.id() }));
    assert_eq!(mp.len(), 1);
}

#[test]
fn committed_and_outdated_txs_are_removed() {
    let mut store = genesis_store();
    let mut mp = pool();
    let (a, b, c) = (key(20), key(21), key(22));
    let a_txs: Vec<SignedTx> = (0..3).map(|n| transfer(&a, n, 1)).collect();
    let b0 = transfer(&b, 0, 1);
    let c0 = transfer(&c, 0, 1);
    admit_all(&mut mp, &store, &a_txs);
    admit_all(&mut mp, &store, &[b0.clone(), c0.clone()]);
    // A block committed a0 and a1 (from this pool) and a different tx of b's
    // with nonce 0 (from another node): b0 is outdated.
    set_nonce(&mut store, &a, 2);
    set_nonce(&mut store, &b, 1);
    mp.remove_committed(&[a_txs[0].id(), a_txs[1].id()], &store);
    assert_eq!(mp.len(), 2);
    assert!(!mp.contains(&a_txs[0].id()) && !mp.contains(&b0.id()));
    assert!(mp.contains(&a_txs[2].id()) && mp.contains(&c0.id()));
    assert_eq!(mp.bytes(), a_txs[2].encode().len() + c0.encode().len());
    // b's slot is free again; b re-enters the round-robin behind c.
    admit_all(&mut mp, &store, &[transfer(&b, 1, 1)]);
    let order: Vec<AccountId> = mp
        .reap(&store, ReapLimits::of(100, usize::MAX))
        .iter()
        .map(|t| t.sender())
        .collect();
    assert_eq!(order, [a.account(), c.account(), b.account()]);
    mp.remove_committed(&[], &store);
    assert_eq!(mp.len(), 3);
}

#[test]
fn txs_stuck_behind_a_missing_nonce_expire_but_a_waiting_ready_queue_does_not() {
    let mut store = genesis_store();
    let mut mp = Mempool::new(MempoolLimits {
        gap_expiry_blocks: 10,
        ..MempoolLimits::default()
    });
    let (a, b, c) = (key(20), key(21), key(22));
    // a's nonce 0 never arrives (refused elsewhere); b is ready but not yet reaped.
    let a_stuck: Vec<SignedTx> = (1..4).map(|n| transfer(&a, n, 1)).collect();
    let b_ready: Vec<SignedTx> = (0..2).map(|n| transfer(&b, n, 1)).collect();
    admit_all(&mut mp, &store, &a_stuck);
    admit_all(&mut mp, &store, &b_ready);
    assert!(mp.expire_gaps(9, &store).is_empty(), "not yet 10 blocks");
    assert_eq!(mp.len(), 5);
    // c progresses: its nonce 0 commits at height 10, nonce 2 waits for 1.
    let c_txs = [transfer(&c, 0, 1), transfer(&c, 2, 1)];
    admit_all(&mut mp, &store, &c_txs);
    set_nonce(&mut store, &c, 1);
    mp.remove_committed(&[c_txs[0].id()], &store);
    let mut dropped = mp.expire_gaps(10, &store);
    dropped.sort();
    let mut expected: Vec<TxId> = a_stuck.iter().map(|t| t.id()).collect();
    expected.sort();
    assert_eq!(
        dropped, expected,
        "only the sender behind a gap for 10 blocks"
    );
    assert_eq!(mp.len(), 3);
    assert!(b_ready.iter().all(|t| mp.contains(&t.id())));
    assert_eq!(mp.pending_nonce(&a.account(), 0), 0);
    assert_eq!(
        mp.bytes(),
        [&b_ready[0], &b_ready[1], &c_txs[1]]
            .iter()
            .map(|t| t.encode().len())
            .sum::<usize>()
    );
    // a may send again from its next nonce; its slot is free.
    admit_all(&mut mp, &store, &[transfer(&a, 0, 1)]);
    // c's gap counts from its last commit, which the pool saw when it knew
    // of height 9; b is ready, so it stays however long blocks leave it waiting.
    assert!(mp.expire_gaps(18, &store).is_empty());
    assert_eq!(mp.expire_gaps(19, &store), [c_txs[1].id()]);
    assert!(mp.expire_gaps(400, &store).is_empty());
    let left: Vec<AccountId> = mp
        .reap(&store, ReapLimits::of(100, usize::MAX))
        .iter()
        .map(|t| t.sender())
        .collect();
    assert_eq!(left, [b.account(), a.account(), b.account()], "round-robin");

    // A node restarted at height 5,000 counts from there, not from 0.
    let mut restarted = Mempool::new(MempoolLimits {
        gap_expiry_blocks: 10,
        ..MempoolLimits::default()
    })
    .at_height(5_000);
    admit_all(&mut restarted, &store, &[transfer(&key(23), 1, 1)]);
    assert!(restarted.expire_gaps(5_001, &store).is_empty());
    assert_eq!(restarted.expire_gaps(5_010, &store).len(), 1);
}

#[test]
fn only_locally_admitted_txs_are_handed_to_gossip_once() {
    let mut store = genesis_store();
    let mut mp = pool();
    let (a, b) = (key(20), key(21));
    let local = [transfer(&a, 0, 1), transfer(&a, 1, 1)];
    admit_all(&mut mp, &store, &local);
    let gossiped = transfer(&b, 0, 1);
    let r = submit(&mut mp, Origin::Gossip, vec![gossiped.encode()], &store);
    assert_eq!(r, [Ok(gossiped.id())]);
    assert_eq!(mp.take_for_gossip(), [local[0].encode(), local[1].encode()]);
    assert!(mp.take_for_gossip().is_empty());
    // A tx committed before it was handed out is not gossiped.
    let late = transfer(&a, 2, 1);
    admit_all(&mut mp, &store, std::slice::from_ref(&late));
    set_nonce(&mut store, &a, 3);
    mp.remove_committed(&[late.id()], &store);
    assert!(mp.take_for_gossip().is_empty());
}

#[test]
fn shared_admission_from_many_threads_gives_the_answers_of_one_locked_pool() {
    // Four threads submit overlapping batches to one pool behind a mutex:
    // every tx is admitted exactly once, forged ones never, and the pool's
    // contents equal what a single-threaded pool admits from the same txs.
    let store = genesis_store();
    let mut txs: Vec<SignedTx> = (60..100u8)
        .flat_map(|s| (0..5).map(move |n| transfer(&key(s), n, 1)))
        .collect();
    for i in (0..txs.len()).step_by(17) {
        txs[i].signature.0[3] ^= 0x08;
    }
    let raw: Vec<Vec<u8>> = txs.iter().map(SignedTx::encode).collect();
    let shared = std::sync::Mutex::new(pool());
    let answers: Vec<Vec<Result<TxId, AdmissionError>>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let (shared, store, raw) = (&shared, &store, &raw);
                // Each thread sends everything, in a different rotation.
                let mine: Vec<Vec<u8>> = raw[t * 50..]
                    .iter()
                    .chain(&raw[..t * 50])
                    .cloned()
                    .collect();
                s.spawn(move || mempool::admit(shared, Origin::Client, &next(), mine, store, OsRng))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut single = pool();
    let expected = submit(&mut single, Origin::Client, raw.clone(), &store);
    let good: std::collections::BTreeSet<TxId> =
        expected.iter().filter_map(|r| r.clone().ok()).collect();
    let mp = shared.into_inner().unwrap();
    assert_eq!(mp.len(), good.len());
    for id in &good {
        assert!(mp.contains(id));
    }
    let admitted: usize = answers.iter().flatten().filter(|r| r.is_ok()).count();
    assert_eq!(
        admitted,
        good.len(),
        "each good tx admitted by exactly one thread"
    );
    for a in answers.iter().flatten() {
        if let Err(e) = a {
            assert!(
                matches!(
                    e.code().as_ref(),
                    "bad_signature" | "duplicate" | "nonce_taken"
                ),
                "{e}"
            );
        }
    }
}
