//! A block large enough for its execution to hash the results tree on a
//! second thread (many txs, or a few records of many uses) still commits to
//! exactly what it did: each root it returns is the one worked out again
//! from its parts, one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::block::{next_state, result_leaves, tx_leaves};
use assent_contracts::crypto::Keypair;
use assent_contracts::tx::UseBasis;
use assent_contracts::*;
use common::*;

/// Well above the size (in txs alone) from which execution splits its tail.
const CONSUMERS: u8 = 150;

fn consumer(i: u8) -> Keypair {
    let mut seed = [0xc5; 32];
    seed[0] = i;
    Keypair::from_seed(seed)
}

/// Executes `txs` as the next block and checks every root against the one
/// worked out from the block's txs, results and writes.
fn block_checked(chain: &mut TestChain, txs: Vec<SignedTx>) -> BlockOutput {
    let parent_tree = chain.tree.clone();
    let out = chain.block(txs.clone());
    assert_eq!(out.results.len(), txs.len());
    assert_eq!(
        out.txs_root,
        merkle::root(&tx_leaves(&txs)),
        "txs_root of a {}-tx block",
        txs.len()
    );
    assert_eq!(
        out.results_root,
        merkle::root(&result_leaves(&txs, &out.results, &out.end_events)),
        "results_root of a {}-tx block",
        txs.len()
    );
    let (tree, state_root) = next_state(&parent_tree, chain.height, &out.writes).unwrap();
    assert_eq!(out.state_root, state_root, "state_root");
    assert_eq!(out.tree.root(), tree.root(), "the state tree's root");
    assert_ne!(out.results_root, out.txs_root);
    out
}

/// A chain where each of `CONSUMERS` people registered and granted `acme`
/// a consent (in two blocks of `CONSUMERS` txs, checked).
fn people_who_granted(a: &Actors) -> (TestChain, Vec<Keypair>, Vec<ConsentId>) {
    let mut chain = TestChain::new(a);
    let people: Vec<Keypair> = (0..CONSUMERS).map(consumer).collect();

    let registrations = people.iter().map(|p| chain.sign(p, register())).collect();
    let out = block_checked(&mut chain, registrations);
    assert!(out
        .results
        .iter()
        .all(|r| matches!(r.outcome, TxOutcome::Applied { .. })));

    let grants = people
        .iter()
        .map(|p| chain.sign(p, Payload::GrantConsent(grant(&a.acme, 3))))
        .collect();
    let out = block_checked(&mut chain, grants);
    let consents: Vec<ConsentId> = out.results.iter().map(|r| granted(&r.outcome)).collect();
    (chain, people, consents)
}

#[test]
fn a_large_block_returns_the_roots_of_its_txs_results_and_writes() {
    let a = actors();
    let (mut chain, people, consents) = people_who_granted(&a);
    // Uses settled and uses refused (the last one names no consent), from
    // two enterprises, next to more grants: every kind of leaf in one tree.
    let mut txs: Vec<SignedTx> = people
        .iter()
        .zip(&consents)
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|group| {
            let mut uses: Vec<_> = group
                .iter()
                .map(|(p, c)| a_use(p, UseBasis::Consent(**c), 2))
                .collect();
            uses.push(a_use(
                &people[0],
                UseBasis::Consent(ConsentId(Hash32([7; 32]))),
                1,
            ));
            chain.sign(&a.acme, record(uses))
        })
        .collect();
    txs.extend(
        people
            .iter()
            .map(|p| chain.sign(p, Payload::GrantConsent(grant(&a.bank, 1)))),
    );
    let out = block_checked(&mut chain, txs);
    let outcomes: Vec<_> = out
        .results
        .iter()
        .filter(|r| matches!(&r.outcome, TxOutcome::Applied { events } if events.iter().any(|e| matches!(e, Event::UseSettled { .. }))))
        .flat_map(|r| use_outcomes(&r.outcome))
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == Ok(6)).count(),
        CONSUMERS as usize,
        "every consumer's use settled at 3 points × 2 units"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == Err(ErrorCode::UnknownConsent))
            .count(),
        (CONSUMERS as usize).div_ceil(4),
        "each record's last use named no consent"
    );
}

#[test]
fn a_block_of_two_large_records_returns_the_roots_of_its_uses() {
    let a = actors();
    let (mut chain, people, consents) = people_who_granted(&a);
    let uses = |units| {
        people
            .iter()
            .zip(&consents)
            .map(|(p, c)| a_use(p, UseBasis::Consent(*c), units))
            .collect::<Vec<_>>()
    };
    let txs = vec![
        chain.sign(&a.acme, record(uses(1))),
        chain.sign(&a.acme, record(uses(2))),
    ];
    let out = block_checked(&mut chain, txs);
    let paid: Vec<Vec<Result<u64, ErrorCode>>> = out
        .results
        .iter()
        .map(|r| use_outcomes(&r.outcome))
        .collect();
    assert_eq!(paid.len(), 2);
    assert!(paid[0].iter().all(|o| *o == Ok(3)), "{:?}", paid[0]);
    assert!(paid[1].iter().all(|o| *o == Ok(6)), "{:?}", paid[1]);
    assert_eq!(paid[1].len(), CONSUMERS as usize);
}
