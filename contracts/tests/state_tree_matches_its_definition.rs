//! The state tree: built in one go or block by block, its root is the one
//! its definition gives for the set of records (order and history do not
//! matter), and every record and every absent key has a proof that checks
//! against it — and only against it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use assent_contracts::state::tree::{
    bit, key_path, leaf_hash, node_hash, value_hash, Path, ProofEnd, StateTree,
};
use assent_contracts::state::Writes;
use assent_contracts::Hash32;
use proptest::prelude::*;

/// The definition, written plainly: the hash of the subtree of `leaves`
/// (all sharing their first `depth` bits).
fn defined(depth: usize, leaves: &[(Path, Hash32)]) -> Hash32 {
    match leaves {
        [] => Hash32::ZERO,
        [(p, v)] => leaf_hash(p, v),
        _ => {
            let left: Vec<_> = leaves
                .iter()
                .filter(|(p, _)| bit(p, depth) == 0)
                .cloned()
                .collect();
            let right: Vec<_> = leaves
                .iter()
                .filter(|(p, _)| bit(p, depth) == 1)
                .cloned()
                .collect();
            node_hash(&defined(depth + 1, &left), &defined(depth + 1, &right))
        }
    }
}

fn defined_root(state: &BTreeMap<Vec<u8>, Vec<u8>>) -> Hash32 {
    let leaves: Vec<(Path, Hash32)> = state
        .iter()
        .map(|(k, v)| (key_path(k), value_hash(v)))
        .collect();
    defined(0, &leaves)
}

fn apply(state: &mut BTreeMap<Vec<u8>, Vec<u8>>, w: &Writes) {
    for (k, v) in w {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

fn writes() -> impl Strategy<Value = Writes> {
    // Few distinct keys, so blocks overwrite and delete each other's records.
    prop::collection::btree_map(
        prop::collection::vec(0u8..12, 1..3),
        prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..6)),
        0..20,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn block_by_block_equals_built_at_once_equals_the_definition(
        blocks in prop::collection::vec(writes(), 1..8),
        probes in prop::collection::vec(prop::collection::vec(0u8..12, 1..3), 1..10),
    ) {
        let mut state = BTreeMap::new();
        let mut tree = StateTree::new();
        let mut versions = Vec::new();
        for w in &blocks {
            let next = tree.apply(w).unwrap();
            // The parent version is untouched by the child.
            prop_assert_eq!(tree.root(), defined_root(&state));
            apply(&mut state, w);
            tree = next;
            versions.push((tree.clone(), state.clone()));
            let at_once = StateTree::from_records(state.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
            prop_assert_eq!(tree.root(), at_once.root());
            prop_assert_eq!(tree.root(), defined_root(&state));
        }
        // Every version proves each of its records and each absent probe.
        for (t, s) in &versions {
            for (k, v) in s {
                let p = t.prove(k).unwrap();
                prop_assert_eq!(&p.end, &ProofEnd::Found);
                prop_assert_eq!(p.root(k, Some(v)).unwrap(), t.root());
                let mut other = v.clone();
                other.push(0);
                prop_assert_ne!(p.root(k, Some(&other)).unwrap(), t.root());
                prop_assert!(p.root(k, None).is_err());
            }
            for k in &probes {
                if s.contains_key(k) {
                    continue;
                }
                let p = t.prove(k).unwrap();
                prop_assert_ne!(&p.end, &ProofEnd::Found);
                prop_assert_eq!(p.root(k, None).unwrap(), t.root());
                // An absence proof does not prove the key present with any value.
                prop_assert!(p.root(k, Some(b"x")).is_err());
            }
        }
    }
}

#[test]
fn the_empty_tree_and_a_single_record_have_the_defined_roots() {
    assert_eq!(StateTree::new().root(), Hash32::ZERO);
    let t = StateTree::new()
        .apply(&Writes::from([(b"k".to_vec(), Some(b"v".to_vec()))]))
        .unwrap();
    assert_eq!(t.root(), leaf_hash(&key_path(b"k"), &value_hash(b"v")));
    // Deleting the last record empties it; deleting an absent key changes nothing.
    let gone = t.apply(&Writes::from([(b"k".to_vec(), None)])).unwrap();
    assert_eq!(gone.root(), Hash32::ZERO);
    let same = t.apply(&Writes::from([(b"other".to_vec(), None)])).unwrap();
    assert_eq!(same.root(), t.root());
}

#[test]
fn a_proof_is_about_log2_records_hashes_long() {
    let records: Vec<(Vec<u8>, Vec<u8>)> = (0u32..4096)
        .map(|i| (i.to_be_bytes().to_vec(), b"value".to_vec()))
        .collect();
    let t = StateTree::from_records(records.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
    let longest = records
        .iter()
        .map(|(k, _)| t.prove(k).unwrap().siblings.len())
        .max()
        .unwrap();
    let mean = records
        .iter()
        .map(|(k, _)| t.prove(k).unwrap().siblings.len())
        .sum::<usize>()
        / records.len();
    // log2(4096) = 12; random paths add a couple of levels.
    assert!((12..=14).contains(&mean), "mean path {mean}");
    assert!(longest < 30, "longest path {longest}");
}

#[test]
fn a_forged_absence_proof_is_refused_by_name() {
    let t = StateTree::from_records([(b"a".as_slice(), b"1".as_slice()), (b"b", b"2")]);
    let mut p = t.prove(b"zz").unwrap();
    // Claim the key's own place holds another leaf: refused.
    p.end = ProofEnd::Other {
        path: Hash32(key_path(b"zz")),
        value_hash: value_hash(b"1"),
    };
    assert_eq!(
        p.root(b"zz", None).unwrap_err().to_string(),
        "the other leaf the proof ends at is the key's own place"
    );
    // A leaf from elsewhere in the tree: refused.
    let mut p = t.prove(b"a").unwrap();
    let far = (0u32..)
        .map(|i| i.to_be_bytes())
        .find(|k| bit(&key_path(k), 0) != bit(&key_path(b"a"), 0))
        .unwrap();
    p.siblings = vec![Hash32::ZERO];
    p.end = ProofEnd::Other {
        path: Hash32(key_path(&far)),
        value_hash: value_hash(b"1"),
    };
    assert_eq!(
        p.root(b"a", None).unwrap_err().to_string(),
        "the other leaf the proof ends at is not in the key's subtree"
    );
}

/// A repeatable stream of numbers below `n` (a linear congruential
/// generator from `seed`).
fn below(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    }
}

/// Thousands of records, so the tree is several nodes deep and its top
/// nodes are full: blocks that update, insert and delete many records at
/// once still give the defined root, and every record and absent key proves.
#[test]
fn large_blocks_on_a_deep_tree_keep_the_defined_root() {
    let mut state = BTreeMap::new();
    let mut tree = StateTree::new();
    let mut next = below(7);
    for block in 0..12u64 {
        let mut w = Writes::new();
        for _ in 0..700 {
            let k = next(5_000).to_be_bytes().to_vec();
            let v = (next(4) != 0).then(|| block.to_be_bytes().to_vec());
            w.insert(k, v);
        }
        tree = tree.apply(&w).unwrap();
        apply(&mut state, &w);
        assert_eq!(tree.root(), defined_root(&state), "after block {block}");
    }
    assert!(state.len() > 2_000, "{} records", state.len());
    for k in (0u64..5_000).step_by(7).map(|i| i.to_be_bytes().to_vec()) {
        let p = tree.prove(&k).unwrap();
        assert_eq!(
            p.root(&k, state.get(&k).map(Vec::as_slice)).unwrap(),
            tree.root()
        );
    }
    // Deleting everything empties the tree.
    let all: Writes = state.keys().map(|k| (k.clone(), None)).collect();
    assert_eq!(tree.apply(&all).unwrap().root(), Hash32::ZERO);
}

/// What a test does to a set of live versions: make a child of one, or drop one.
#[derive(Clone, Debug)]
enum Step {
    Apply { from: usize, writes: Writes },
    Drop { which: usize },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            3 => (any::<usize>(), writes()).prop_map(|(from, writes)| Step::Apply { from, writes }),
            2 => any::<usize>().prop_map(|which| Step::Drop { which }),
        ],
        1..40,
    )
}

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn built(state: &State) -> StateTree {
    StateTree::from_records(state.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Versions branch (several candidates of one parent), are kept or are
    /// dropped in any order: every live version keeps its root and its
    /// proofs, and once one version is left the arena holds exactly its
    /// nodes — what a dropped version alone held was freed.
    #[test]
    fn versions_dropped_in_any_order_free_their_nodes_and_spare_the_live_ones(
        steps in steps(),
    ) {
        let mut live: Vec<(StateTree, State)> = vec![(StateTree::new(), BTreeMap::new())];
        for step in steps {
            match step {
                Step::Apply { from, writes } => {
                    let (tree, state) = &live[from % live.len()];
                    let mut next = state.clone();
                    apply(&mut next, &writes);
                    let t = tree.apply(&writes).unwrap();
                    live.push((t, next));
                }
                Step::Drop { which } if live.len() > 1 => {
                    live.remove(which % live.len());
                }
                Step::Drop { .. } => {}
            }
            for (t, s) in &live {
                prop_assert_eq!(t.root(), defined_root(s));
                for (k, v) in s {
                    prop_assert_eq!(t.prove(k).unwrap().root(k, Some(v)).unwrap(), t.root());
                }
            }
        }
        while live.len() > 1 {
            live.remove(0);
        }
        let (t, s) = &live[0];
        prop_assert_eq!(t.root(), defined_root(s));
        prop_assert_eq!(t.arena_stats().nodes, built(s).arena_stats().nodes);
        prop_assert_eq!(t.arena_stats().versions, 1);
    }
}

/// A node keeps the head, drops the oldest kept height as each block
/// commits, and drops the losing candidates of each height: the arena
/// stays at the size of the live versions instead of growing with the chain.
#[test]
fn a_chain_with_losing_candidates_reuses_its_freed_nodes() {
    let mut state = BTreeMap::new();
    let mut kept = std::collections::VecDeque::from([StateTree::new()]);
    let mut bytes_after_warmup = 0;
    for h in 0..400u64 {
        let w = |salt: u64| -> Writes {
            (0..50u64)
                .map(|i| {
                    let k = ((h * 31 + i * 7) % 3_000).to_be_bytes().to_vec();
                    (k, Some((h ^ salt).to_be_bytes().to_vec()))
                })
                .collect()
        };
        let head = kept.back().unwrap().clone();
        let loser = head.apply(&w(1)).unwrap();
        let winner = head.apply(&w(0)).unwrap();
        drop(loser);
        apply(&mut state, &w(0));
        kept.push_back(winner);
        if kept.len() > 4 {
            kept.pop_front();
        }
        if h == 100 {
            bytes_after_warmup = head.arena_stats().bytes;
        }
    }
    let head = kept.back().unwrap();
    assert_eq!(head.root(), defined_root(&state));
    let stats = head.arena_stats();
    assert_eq!(stats.versions, 4);
    assert!(
        stats.bytes <= bytes_after_warmup * 2,
        "the arena grew from {bytes_after_warmup} to {} bytes",
        stats.bytes
    );
    while kept.len() > 1 {
        kept.pop_front();
    }
    let head = kept.back().unwrap();
    assert_eq!(head.arena_stats().nodes, built(&state).arena_stats().nodes);
}

/// Blocks of hundreds of writes, as candidates of one parent, branch and
/// are dropped in turn: each live version keeps the defined root and
/// proves its records, and once one version is left the arena holds
/// exactly its nodes.
#[test]
fn large_candidate_blocks_keep_their_roots_and_free_what_they_replaced() {
    let mut next = below(11);
    let mut live: Vec<(StateTree, State)> = vec![(StateTree::new(), BTreeMap::new())];
    for block in 0..24u64 {
        let from = next(live.len() as u64) as usize;
        let writes: Writes = (0..300 + next(600))
            .map(|_| {
                let k = next(4_000).to_be_bytes().to_vec();
                (k, (next(5) != 0).then(|| block.to_be_bytes().to_vec()))
            })
            .collect();
        let (tree, state) = &live[from];
        let mut s = state.clone();
        apply(&mut s, &writes);
        let t = tree.apply(&writes).unwrap();
        assert_eq!(
            t.root(),
            defined_root(&s),
            "block {block} from version {from}"
        );
        live.push((t, s));
        if live.len() > 3 {
            live.remove(next(live.len() as u64) as usize);
        }
        for (t, s) in &live {
            for (k, v) in s.iter().step_by(97) {
                assert_eq!(t.prove(k).unwrap().root(k, Some(v)).unwrap(), t.root());
            }
        }
    }
    while live.len() > 1 {
        live.remove(0);
    }
    let (t, s) = &live[0];
    assert!(s.len() > 2_000, "{} records", s.len());
    assert_eq!(t.root(), defined_root(s));
    assert_eq!(t.arena_stats().nodes, built(s).arena_stats().nodes);
    assert_eq!(t.arena_stats().versions, 1);
}
