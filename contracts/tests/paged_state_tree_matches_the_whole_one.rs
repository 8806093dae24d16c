//! A state tree with a memory bound pages out the subtrees recent versions
//! did not change and reads them back when needed. Nothing a user of the
//! tree can see may differ: every version's root and every proof are those
//! of the same tree held whole in memory, while the nodes held stay within
//! the bound however large the state grows, and a page that comes back
//! altered is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use assent_contracts::state::tree::{key_path, value_hash, MemPages, Path, StateTree, TreePages};
use assent_contracts::state::{StoreError, Writes};
use assent_contracts::Hash32;
use proptest::prelude::*;

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn paged(state: &State, pages: Arc<dyn TreePages>, max_bytes: u64) -> StateTree {
    let mut leaves: Vec<(Path, Hash32)> = state
        .iter()
        .map(|(k, v)| (key_path(k), value_hash(v)))
        .collect();
    leaves.sort();
    let mut b = StateTree::paged(pages, max_bytes);
    for (p, v) in leaves {
        b.push(p, v).unwrap();
    }
    b.finish().unwrap()
}

fn whole(state: &State) -> StateTree {
    StateTree::from_records(state.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
}

fn key(i: u32) -> Vec<u8> {
    format!("record/{i}").into_bytes()
}

fn start(records: u32) -> State {
    (0..records)
        .map(|i| (key(i), i.to_be_bytes().to_vec()))
        .collect()
}

fn apply(state: &mut State, w: &Writes) {
    for (k, v) in w {
        match v {
            Some(v) => state.insert(k.clone(), v.clone()),
            None => state.remove(k),
        };
    }
}

#[derive(Debug, Clone)]
enum Step {
    Apply { from: usize, writes: Writes },
    Drop { which: usize },
    Prove { which: usize, key: u32 },
}

fn writes() -> impl Strategy<Value = Writes> {
    prop::collection::btree_map(
        (0u32..3_000).prop_map(key),
        prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..6)),
        0..40,
    )
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            4 => (any::<usize>(), writes()).prop_map(|(from, writes)| Step::Apply { from, writes }),
            2 => any::<usize>().prop_map(|which| Step::Drop { which }),
            3 => (any::<usize>(), 0u32..3_000).prop_map(|(which, key)| Step::Prove { which, key }),
        ],
        1..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Versions branch and are dropped in any order, on a tree whose bound
    /// is a small fraction of its state: every live version has the root
    /// and the proofs of the whole tree of its records.
    #[test]
    fn a_paged_tree_gives_the_roots_and_proofs_of_the_whole_one(steps in steps()) {
        let pages = Arc::new(MemPages::new());
        let state = start(2_000);
        let mut live: Vec<(StateTree, StateTree, State)> =
            vec![(paged(&state, pages.clone(), 16 * 1024), whole(&state), state)];
        prop_assert!(live[0].0.arena_stats().paged_subtrees > 0);
        for step in steps {
            match step {
                Step::Apply { from, writes } => {
                    let (p, w, s) = &live[from % live.len()];
                    let mut next = s.clone();
                    apply(&mut next, &writes);
                    let (p, w) = (p.apply(&writes).unwrap(), w.apply(&writes).unwrap());
                    prop_assert_eq!(p.root(), w.root());
                    live.push((p, w, next));
                }
                Step::Drop { which } if live.len() > 1 => {
                    live.remove(which % live.len());
                }
                Step::Drop { .. } => {}
                Step::Prove { which, key: k } => {
                    let (p, w, s) = &live[which % live.len()];
                    let k = key(k);
                    let proof = p.prove(&k).unwrap();
                    prop_assert_eq!(&proof, &w.prove(&k).unwrap());
                    prop_assert_eq!(proof.root(&k, s.get(&k).map(Vec::as_slice)).unwrap(), p.root());
                }
            }
        }
        // Dropped versions took their pages with them once the last went.
        drop(live);
        prop_assert!(pages.is_empty());
    }
}

/// A chain of blocks over a state far larger than the bound: the nodes held
/// stay within it (plus the subtrees the kept recent versions changed,
/// which no version may lose), pages are read back as blocks change old
/// records, and the roots stay those of the whole tree.
#[test]
fn memory_stays_within_the_bound_as_the_state_grows() {
    let max_bytes = 1 << 20;
    let records = 60_000u32;
    let pages = Arc::new(MemPages::new());
    let mut state = start(records);
    let mut p = paged(&state, pages.clone(), max_bytes);
    let mut w = whole(&state);
    assert_eq!(p.root(), w.root());
    let bound = max_bytes / 40;
    assert!(
        p.arena_stats().nodes <= bound,
        "{} nodes after the build",
        p.arena_stats().nodes
    );
    // The bound's 1 MiB gives 1,024 subtrees of about 60 records each; a
    // write brings its subtree back (about 2 nodes per record), and a node
    // keeps the last 4 versions.
    let (kept_versions, writes_per_block) = (4u64, 20u32);
    let working_set = kept_versions * u64::from(writes_per_block) * 2 * 90;
    let mut kept = std::collections::VecDeque::new();
    for h in 0..60u32 {
        // New records, and changes to old ones spread over the whole state.
        let writes: Writes = (0..writes_per_block)
            .map(|i| {
                let k = if i % 2 == 0 {
                    records + h * writes_per_block + i / 2
                } else {
                    (h * 7_919 + i * 104_729) % records
                };
                (key(k), Some(h.to_be_bytes().to_vec()))
            })
            .collect();
        apply(&mut state, &writes);
        p = p.apply(&writes).unwrap();
        w = w.apply(&writes).unwrap();
        assert_eq!(p.root(), w.root(), "height {h}");
        kept.push_back(p.clone());
        if kept.len() as u64 >= kept_versions {
            kept.pop_front();
        }
        let nodes = p.arena_stats().nodes;
        assert!(
            nodes <= bound + working_set,
            "height {h}: {nodes} nodes held, bound {bound} + {working_set}"
        );
    }
    assert!(pages.reads() > 0, "blocks changed paged-out records");
    assert!(
        p.arena_stats().nodes * 3 < w.arena_stats().nodes,
        "{} nodes paged, {} whole",
        p.arena_stats().nodes,
        w.arena_stats().nodes
    );
    for i in (0..records + 1_000).step_by(97) {
        let k = key(i);
        let proof = p.prove(&k).unwrap();
        assert_eq!(
            proof.root(&k, state.get(&k).map(Vec::as_slice)).unwrap(),
            p.root()
        );
    }
}

/// Pages that come back altered.
#[derive(Debug, Default)]
struct Tampering(MemPages);

impl TreePages for Tampering {
    fn put(&self, leaves: &[(Path, Hash32)]) -> Result<u64, StoreError> {
        self.0.put(leaves)
    }
    fn get(&self, id: u64) -> Result<Vec<(Path, Hash32)>, StoreError> {
        let mut leaves = self.0.get(id)?;
        leaves[0].1 = Hash32([7; 32]);
        Ok(leaves)
    }
    fn forget(&self, id: u64) {
        self.0.forget(id)
    }
}

#[test]
fn an_altered_page_is_refused_with_an_error() {
    let state = start(2_000);
    let tree = paged(&state, Arc::new(Tampering::default()), 16 * 1024);
    assert!(tree.arena_stats().paged_subtrees > 0);
    let writes: Writes = (0..2_000).map(|i| (key(i), Some(vec![1]))).collect();
    let err = tree.apply(&writes).unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { key, why } if key == "state tree page" && why.contains("subtree hash")),
        "{err}"
    );
    let err = (0..2_000)
        .find_map(|i| tree.prove(&key(i)).err())
        .expect("a proof crosses a page");
    assert!(err.to_string().contains("state tree page"), "{err}");
    // The version itself is untouched.
    assert_eq!(tree.root(), whole(&state).root());
}

#[test]
fn a_build_refuses_leaves_out_of_order() {
    let mut b = StateTree::paged(Arc::new(MemPages::new()), 1 << 20);
    b.push([2; 32], Hash32([1; 32])).unwrap();
    let err = b.push([1; 32], Hash32([1; 32])).unwrap_err();
    assert!(err.to_string().contains("ascending path order"), "{err}");
}
