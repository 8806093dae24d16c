//! The state tree: a sparse Merkle tree over every ledger state record, so
//! that any record — or its absence — at a height is provable against that
//! height's header with a short path.
//!
//! **Shape.** A record with key `k` and value `v` is a leaf at the 256-bit
//! path `P(k) = SHA-256(KEY_TAG ‖ k)`, hashing to
//! `leaf = SHA-256(LEAF_TAG ‖ P(k) ‖ SHA-256(VALUE_TAG ‖ v))`. The hash of a
//! subtree (all leaves whose paths share a prefix) is `ZERO` when it is
//! empty, the leaf's hash when it holds one leaf, and
//! `SHA-256(NODE_TAG ‖ left ‖ right)` otherwise (left: next bit 0). So the
//! root depends only on the set of records, never on the order they were
//! written in (a snapshot rebuilt from records reaches the same root), and a
//! path is about log2(records) + 1 hashes long. Each tag is a zero-padded
//! 64-byte block: its compression is done once, and a node costs two
//! SHA-256 compressions.
//!
//! **Versions.** A [`StateTree`] is immutable and cheap to clone (nodes are
//! shared); [`StateTree::apply`] returns a new version that shares every
//! unchanged subtree with its parent. The node keeps the committed version,
//! one per candidate block it executes, and a few recent heights for proofs.
//!
//! The header's `state_root` binds the tree root to the height
//! ([`state_root`]), so a proof for one height never checks against
//! another height's header, even when no record changed in between.

use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{Hash32, Height};
use crate::state::Writes;

/// 256-bit position of a record in the tree.
pub type Path = [u8; 32];

fn tagged_hasher(tag: &[u8]) -> Sha256 {
    let mut block = [0u8; 64];
    block[..tag.len()].copy_from_slice(tag);
    let mut h = Sha256::new();
    h.update(block);
    h
}

static KEY: LazyLock<Sha256> = LazyLock::new(|| tagged_hasher(b"assent/state-tree/key/v1"));
static VALUE: LazyLock<Sha256> = LazyLock::new(|| tagged_hasher(b"assent/state-tree/value/v1"));
static LEAF: LazyLock<Sha256> = LazyLock::new(|| tagged_hasher(b"assent/state-tree/leaf/v1"));
static NODE: LazyLock<Sha256> = LazyLock::new(|| tagged_hasher(b"assent/state-tree/node/v1"));

fn finish(mut h: Sha256, parts: &[&[u8]]) -> [u8; 32] {
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Where a state key sits in the tree.
pub fn key_path(key: &[u8]) -> Path {
    finish(KEY.clone(), &[key])
}

/// The hash of a record's value bytes.
pub fn value_hash(value: &[u8]) -> Hash32 {
    Hash32(finish(VALUE.clone(), &[value]))
}

/// The hash of a leaf: a record at `path` whose value hashes to `value`.
pub fn leaf_hash(path: &Path, value: &Hash32) -> Hash32 {
    Hash32(finish(LEAF.clone(), &[path, value.as_bytes()]))
}

/// The hash of a subtree with two non-trivial halves.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    Hash32(finish(NODE.clone(), &[left.as_bytes(), right.as_bytes()]))
}

/// The header's `state_root`: the tree root bound to the height.
pub fn state_root(height: Height, tree_root: &Hash32) -> Hash32 {
    Hash32::tagged(
        "assent/state/v2",
        &[&height.0.to_be_bytes(), tree_root.as_bytes()],
    )
}

/// Bit `i` of a path, most significant first.
pub fn bit(path: &Path, i: usize) -> usize {
    usize::from((path[i / 8] >> (7 - i % 8)) & 1)
}

#[derive(Debug)]
enum Node {
    /// A record: its path and its value's hash (the leaf hash is
    /// recomputed when needed, which keeps a leaf at 64 bytes).
    Leaf { path: Path, value: Hash32 },
    /// A subtree with at least two leaves.
    Inner {
        hash: Hash32,
        children: [Option<Arc<Node>>; 2],
    },
}

impl Node {
    fn hash(&self) -> Hash32 {
        match self {
            Node::Leaf { path, value } => leaf_hash(path, value),
            Node::Inner { hash, .. } => *hash,
        }
    }
}

fn hash_of(n: &Option<Arc<Node>>) -> Hash32 {
    n.as_ref().map_or(Hash32::ZERO, |n| n.hash())
}

/// Joins two halves as the tree's shape demands: a lone leaf moves up.
fn join(left: Option<Arc<Node>>, right: Option<Arc<Node>>) -> Option<Arc<Node>> {
    match (&left, &right) {
        (None, None) => None,
        (Some(n), None) | (None, Some(n)) if matches!(**n, Node::Leaf { .. }) => Some(n.clone()),
        _ => Some(Arc::new(Node::Inner {
            hash: node_hash(&hash_of(&left), &hash_of(&right)),
            children: [left, right],
        })),
    }
}

/// Builds the subtree at `depth` of `leaves` (path, value hash; sorted by
/// path, distinct).
fn build(depth: usize, leaves: &[(Path, Hash32)]) -> Option<Arc<Node>> {
    match leaves {
        [] => None,
        [(path, value)] => Some(Arc::new(Node::Leaf {
            path: *path,
            value: *value,
        })),
        _ if depth >= 256 => None, // distinct paths differ in some bit: unreachable
        _ => {
            let split = leaves.partition_point(|(p, _)| bit(p, depth) == 0);
            join(
                build(depth + 1, &leaves[..split]),
                build(depth + 1, &leaves[split..]),
            )
        }
    }
}

/// The hash of the subtree at `depth` that holds `leaves` (path, value
/// hash; sorted by path, distinct, all sharing their first `depth` bits):
/// what a snapshot chunk is checked against.
pub fn subtree_root(depth: usize, leaves: &[(Path, Hash32)]) -> Hash32 {
    hash_of(&build(depth, leaves))
}

/// Joins the summaries (hash, records) of the `2^k` subtrees at depth `k`,
/// in path order, into the summary of the whole tree; `None` unless their
/// number is a power of two.
pub fn join_subtrees(parts: &[(Hash32, u64)]) -> Option<(Hash32, u64)> {
    match parts.len() {
        0 => None,
        1 => Some(parts[0]),
        n if n.is_power_of_two() => {
            let (l, r) = (
                join_subtrees(&parts[..n / 2])?,
                join_subtrees(&parts[n / 2..])?,
            );
            let count = l.1.checked_add(r.1)?;
            let hash = match count {
                0 => Hash32::ZERO,
                // A lone leaf moves up, as in the tree.
                1 if l.1 == 1 => l.0,
                1 => r.0,
                _ => node_hash(&l.0, &r.0),
            };
            Some((hash, count))
        }
        _ => None,
    }
}

/// One change: the value hash at `path`, or `None` to remove the record.
type Change = (Path, Option<Hash32>);

fn update(node: &Option<Arc<Node>>, depth: usize, changes: &[Change]) -> Option<Arc<Node>> {
    if changes.is_empty() {
        return node.clone();
    }
    match node.as_deref() {
        Some(Node::Inner { children, .. }) if depth < 256 => {
            let split = changes.partition_point(|(p, _)| bit(p, depth) == 0);
            join(
                update(&children[0], depth + 1, &changes[..split]),
                update(&children[1], depth + 1, &changes[split..]),
            )
        }
        // An empty subtree or one leaf: the result is built from scratch.
        _ => {
            let mut leaves: Vec<(Path, Hash32)> = Vec::with_capacity(changes.len() + 1);
            if let Some(Node::Leaf { path, value }) = node.as_deref() {
                if changes.binary_search_by(|(p, _)| p.cmp(path)).is_err() {
                    leaves.push((*path, *value));
                }
            }
            leaves.extend(changes.iter().filter_map(|(p, h)| h.map(|h| (*p, h))));
            leaves.sort_unstable_by_key(|l| l.0);
            build(depth, &leaves)
        }
    }
}

/// One version of the state tree.
#[derive(Clone, Default)]
pub struct StateTree {
    root: Option<Arc<Node>>,
}

impl std::fmt::Debug for StateTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StateTree({})", self.root())
    }
}

/// Two versions are equal when their roots are: the root commits to every record.
impl PartialEq for StateTree {
    fn eq(&self, other: &StateTree) -> bool {
        self.root() == other.root()
    }
}
impl Eq for StateTree {}

/// What a proof ends at, below the last sibling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProofEnd {
    /// The key's own leaf: the record exists.
    Found,
    /// An empty subtree where the key would be: no such record.
    Empty,
    /// Another record's leaf alone in the subtree where the key would be:
    /// no such record.
    Other { path: Hash32, value_hash: Hash32 },
}

/// The path from a key's place in the tree to the root: sibling hashes, top
/// first, and what is at the bottom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeProof {
    pub siblings: Vec<Hash32>,
    pub end: ProofEnd,
}

/// Why a tree proof does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeProofError {
    #[error("the proof has {0} siblings; a path has at most 256")]
    TooLong(usize),
    #[error("the proof claims the record is absent but the record was given, or the reverse")]
    WrongKind,
    #[error("the other leaf the proof ends at is the key's own place")]
    OtherIsSelf,
    #[error("the other leaf the proof ends at is not in the key's subtree")]
    OtherElsewhere,
}

impl TreeProof {
    /// The tree root this proof gives for `key` with `value` (`None`: the
    /// proof must show the key absent).
    pub fn root(&self, key: &[u8], value: Option<&[u8]>) -> Result<Hash32, TreeProofError> {
        let depth = self.siblings.len();
        if depth > 256 {
            return Err(TreeProofError::TooLong(depth));
        }
        let path = key_path(key);
        let mut h = match (&self.end, value) {
            (ProofEnd::Found, Some(v)) => leaf_hash(&path, &value_hash(v)),
            (ProofEnd::Empty, None) => Hash32::ZERO,
            (
                ProofEnd::Other {
                    path: other,
                    value_hash,
                },
                None,
            ) => {
                let other = other.0;
                if other == path {
                    return Err(TreeProofError::OtherIsSelf);
                }
                if (0..depth).any(|i| bit(&other, i) != bit(&path, i)) {
                    return Err(TreeProofError::OtherElsewhere);
                }
                leaf_hash(&other, value_hash)
            }
            _ => return Err(TreeProofError::WrongKind),
        };
        for (i, sibling) in self.siblings.iter().enumerate().rev() {
            h = if bit(&path, i) == 0 {
                node_hash(&h, sibling)
            } else {
                node_hash(sibling, &h)
            };
        }
        Ok(h)
    }
}

impl StateTree {
    pub fn new() -> StateTree {
        StateTree::default()
    }

    /// The tree of a whole state, from its records in any order.
    pub fn from_records<'a>(records: impl IntoIterator<Item = (&'a [u8], &'a [u8])>) -> StateTree {
        StateTree::from_leaves(
            records
                .into_iter()
                .map(|(k, v)| (key_path(k), value_hash(v)))
                .collect(),
        )
    }

    /// The tree of a whole state, from each record's path and value hash
    /// ([`key_path`], [`value_hash`]) in any order.
    pub fn from_leaves(mut leaves: Vec<(Path, Hash32)>) -> StateTree {
        leaves.sort_unstable_by_key(|l| l.0);
        leaves.dedup_by(|a, b| a.0 == b.0);
        StateTree {
            root: build(0, &leaves),
        }
    }

    /// The root hash (`ZERO` for an empty tree).
    pub fn root(&self) -> Hash32 {
        hash_of(&self.root)
    }

    /// The tree after a block's writes. `self` is unchanged.
    pub fn apply(&self, writes: &Writes) -> StateTree {
        let mut changes: Vec<Change> = writes
            .iter()
            .map(|(k, v)| (key_path(k), v.as_deref().map(value_hash)))
            .collect();
        changes.sort_unstable_by_key(|c| c.0);
        StateTree {
            root: update(&self.root, 0, &changes),
        }
    }

    /// The proof of `key`'s record, or of its absence.
    pub fn prove(&self, key: &[u8]) -> TreeProof {
        let path = key_path(key);
        let mut siblings = Vec::new();
        let mut node = &self.root;
        loop {
            match node.as_deref() {
                None => {
                    return TreeProof {
                        siblings,
                        end: ProofEnd::Empty,
                    }
                }
                Some(Node::Leaf { path: p, value }) => {
                    let end = if *p == path {
                        ProofEnd::Found
                    } else {
                        ProofEnd::Other {
                            path: Hash32(*p),
                            value_hash: *value,
                        }
                    };
                    return TreeProof { siblings, end };
                }
                Some(Node::Inner { children, .. }) => {
                    let b = bit(&path, siblings.len());
                    siblings.push(hash_of(&children[1 - b]));
                    node = &children[b];
                }
            }
        }
    }
}
