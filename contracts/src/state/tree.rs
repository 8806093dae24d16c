//! The state tree: a sparse Merkle tree over every ledger state record, so
//! that any record — or its absence — at a height is provable against that
//! height's header with a short path.
//!
//! **Shape.** A record with key `k` and value `v` is a leaf at the 256-bit
//! path `P(k) = SHA-256(KEY_TAG ‖ k)`, hashing to
//! `leaf = C(LEAF_TAG; P(k) ‖ SHA-256(VALUE_TAG ‖ v))`. The hash of a
//! subtree (all leaves whose paths share a prefix) is `ZERO` when it is
//! empty, the leaf's hash when it holds one leaf, and
//! `C(NODE_TAG; left ‖ right)` otherwise (left: next bit 0). So the root
//! depends only on the set of records, never on the order they were
//! written in (a snapshot rebuilt from records reaches the same root), and a
//! path is about log2(records) + 1 hashes long. Each tag is a zero-padded
//! 64-byte block whose compression is done once. `C(TAG; x)` is SHA-256's
//! compression function applied to the one 64-byte block `x` from the
//! tag's state, without length padding: every input is exactly two 32-byte
//! values, so a node or a leaf costs one compression, half of what a padded
//! SHA-256 costs (as Zcash's note commitment tree uses the compression
//! function directly).
//!
//! **Versions.** A [`StateTree`] is immutable and cheap to clone;
//! [`StateTree::apply`] returns a new version that shares every unchanged
//! subtree with its parent. The node keeps the committed version, one per
//! candidate block it executes, and a few recent heights for proofs. All
//! versions made from one tree share one node arena (`arena.rs`), where a
//! node is freed when the last version holding it is dropped.
//!
//! The header's `state_root` binds the tree root to the height
//! ([`state_root`]), so a proof for one height never checks against
//! another height's header, even when no record changed in between.

use std::sync::{Arc, LazyLock, RwLock};

mod arena;
mod pages;

pub use arena::ArenaStats;
use arena::{Arena, Inner, Log, PagedBuild, Ref};
pub use pages::{MemPages, TreePages};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{Hash32, Height};
use crate::state::{StoreError, Writes};

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

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The compression state after one zero-padded 64-byte tag block.
fn tag_state(tag: &[u8]) -> [u32; 8] {
    let mut block = [0u8; 64];
    block[..tag.len()].copy_from_slice(tag);
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, &[block.into()]);
    state
}

static LEAF: LazyLock<[u32; 8]> = LazyLock::new(|| tag_state(b"assent/state-tree/leaf/v2"));
static NODE: LazyLock<[u32; 8]> = LazyLock::new(|| tag_state(b"assent/state-tree/node/v2"));

/// The SHA-256 compression of `a ‖ b` (one 64-byte block, no length
/// padding) from a tag's state: a fixed-length hash of two 32-byte values,
/// as Zcash's note commitment tree uses SHA-256's compression function.
fn compress_pair(tag: &[u32; 8], a: &[u8; 32], b: &[u8; 32]) -> Hash32 {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(a);
    block[32..].copy_from_slice(b);
    let mut state = *tag;
    sha2::compress256(&mut state, &[block.into()]);
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    Hash32(out)
}

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
    compress_pair(&LEAF, path, value.as_bytes())
}

/// The hash of a subtree with two non-trivial halves.
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    compress_pair(&NODE, left.as_bytes(), right.as_bytes())
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

/// The hash of the subtree at `depth` that holds `leaves` (path, value
/// hash; sorted by path, distinct, all sharing their first `depth` bits):
/// what a snapshot chunk is checked against.
pub fn subtree_root(depth: usize, leaves: &[(Path, Hash32)]) -> Hash32 {
    match leaves {
        [] => Hash32::ZERO,
        [(path, value)] => leaf_hash(path, value),
        _ if depth >= 256 => Hash32::ZERO, // distinct paths differ in some bit: unreachable
        _ => {
            let split = leaves.partition_point(|(p, _)| bit(p, depth) == 0);
            node_hash(
                &subtree_root(depth + 1, &leaves[..split]),
                &subtree_root(depth + 1, &leaves[split..]),
            )
        }
    }
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

/// A handle to one version: the version lives while a handle does.
struct Handle {
    arena: Arc<RwLock<Arena>>,
    version: u64,
    root: Ref,
    hash: Hash32,
}

impl Drop for Handle {
    fn drop(&mut self) {
        write(&self.arena).release(self.version);
    }
}

fn write(arena: &RwLock<Arena>) -> std::sync::RwLockWriteGuard<'_, Arena> {
    arena.write().unwrap_or_else(|p| p.into_inner())
}

fn read(arena: &RwLock<Arena>) -> std::sync::RwLockReadGuard<'_, Arena> {
    arena.read().unwrap_or_else(|p| p.into_inner())
}

/// One version of the state tree: immutable, cheap to clone, and sharing
/// every unchanged node with the versions it was made from or into.
#[derive(Clone)]
pub struct StateTree(Arc<Handle>);

impl Default for StateTree {
    fn default() -> StateTree {
        StateTree::from_leaves(Vec::new())
    }
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
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
        let mut arena = Arena::default();
        let (root, hash, version) = arena.build_root(&leaves);
        StateTree(Arc::new(Handle {
            arena: Arc::new(RwLock::new(arena)),
            version,
            root,
            hash,
        }))
    }

    /// The root hash (`ZERO` for an empty tree).
    pub fn root(&self) -> Hash32 {
        self.0.hash
    }

    /// Pages out what the memory bound allows now (the versions kept may
    /// have changed since the last apply): a no-op for a tree without
    /// pages or within its bound.
    pub fn page_out(&self) -> Result<(), StoreError> {
        write(&self.0.arena).evict()
    }

    /// Memory of the arena this version shares with its relatives.
    pub fn arena_stats(&self) -> ArenaStats {
        read(&self.0.arena).stats()
    }

    /// A builder of a tree whose nodes take at most about `max_bytes` of
    /// memory: past it, subtrees no recent version changed are paged out
    /// to `pages` and read back when needed (`arena/paging.rs`).
    pub fn paged(pages: Arc<dyn TreePages>, max_bytes: u64) -> TreeBuilder {
        TreeBuilder(PagedBuild::new(pages, max_bytes))
    }

    /// The tree after a block's writes. `self` is unchanged. Fails only
    /// when a paged-out subtree cannot be read back or written.
    pub fn apply(&self, writes: &Writes) -> Result<StateTree, StoreError> {
        let mut changes: Vec<arena::Change> = writes
            .iter()
            .map(|(k, v)| (key_path(k), v.as_deref().map(value_hash)))
            .collect();
        changes.sort_unstable_by_key(|c| c.0);
        let mut arena = write(&self.0.arena);
        let mut log = Log::default();
        let (root, hash) = match arena.update((self.0.root, self.0.hash), 0, &changes, &mut log) {
            Ok(done) => done,
            Err(e) => {
                arena.discard(&log);
                return Err(e);
            }
        };
        let version = arena.add_version(root, Some(self.0.version), log);
        let paged = arena.after_update(&changes, version);
        drop(arena);
        let tree = StateTree(Arc::new(Handle {
            arena: self.0.arena.clone(),
            version,
            root,
            hash,
        }));
        paged.map(|()| tree)
    }

    /// The proof of `key`'s record, or of its absence. Fails only when a
    /// paged-out subtree cannot be read back.
    pub fn prove(&self, key: &[u8]) -> Result<TreeProof, StoreError> {
        let path = key_path(key);
        let mut siblings = Vec::new();
        let arena = read(&self.0.arena);
        let mut node = self.0.root;
        loop {
            if node == Ref::EMPTY {
                return Ok(TreeProof {
                    siblings,
                    end: ProofEnd::Empty,
                });
            }
            if let Some(i) = node.leaf_index() {
                let leaf = arena.leaf(i);
                let end = if leaf.path == path {
                    ProofEnd::Found
                } else {
                    ProofEnd::Other {
                        path: Hash32(leaf.path),
                        value_hash: leaf.value,
                    }
                };
                return Ok(TreeProof { siblings, end });
            }
            let Some(i) = node.inner_index() else {
                return Ok(TreeProof {
                    siblings,
                    end: ProofEnd::Empty,
                });
            };
            let Inner { hashes, children } = *arena.inner(i);
            if children[0].is_cold() {
                let depth = siblings.len();
                let leaves = arena.cold_leaves(i, depth)?;
                let end = arena::prove_in(&leaves, depth, &path, &mut siblings);
                return Ok(TreeProof { siblings, end });
            }
            let b = bit(&path, siblings.len());
            siblings.push(hashes[1 - b]);
            node = children[b];
        }
    }
}

/// Builds a paged tree from its leaves in ascending path order
/// ([`StateTree::paged`]); memory stays within the bound however many
/// leaves come.
#[derive(Debug)]
pub struct TreeBuilder(PagedBuild);

impl TreeBuilder {
    /// Adds the next leaf: a record's path and value hash ([`key_path`],
    /// [`value_hash`]). Paths must ascend strictly.
    pub fn push(&mut self, path: Path, value: Hash32) -> Result<(), StoreError> {
        self.0.push(path, value)
    }

    pub fn finish(self) -> Result<StateTree, StoreError> {
        let (arena, version, root, hash) = self.0.finish()?;
        Ok(StateTree(Arc::new(Handle {
            arena: Arc::new(RwLock::new(arena)),
            version,
            root,
            hash,
        })))
    }
}
