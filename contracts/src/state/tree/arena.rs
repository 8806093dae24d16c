//! Where the state tree's nodes live: one arena per tree and all the
//! versions made from it, with nodes addressed by 32-bit index and freed by
//! version instead of counted one by one.
//!
//! **Why.** Nodes shared by reference count cost an atomic increment for
//! every sibling a new version shares and a decrement (on a cold cache line)
//! for every node a dropped version frees: a quarter of a block's tree cost
//! at 10M records. Here a node is 72 (inner) or 64 (leaf) bytes in a
//! slab with no header, a new version allocates from a free list, and
//! freeing a version pushes indexes onto that list without visiting a node.
//!
//! **Versions.** Each version records the nodes it made (`created`) and the
//! nodes of its parent it no longer holds (`replaced`) — Jellyfish's
//! stale-node index, kept in memory. A version is alive while a
//! [`StateTree`](super::StateTree) handle to it exists. A dead version is
//! removed when that frees something and keeps every live version whole:
//! - with no children: the nodes it made are in no other version — freed;
//! - with one child: it is spliced out. The nodes it made that the child
//!   replaced are freed; the rest of what it made now counts as the
//!   child's; what the child replaced from older versions, and what it
//!   replaced itself, become the child's `replaced`. For the oldest version
//!   (no parent) that means everything the child replaced is freed;
//! - with two or more children: it waits until it has one or none.
//!
//! The versions form one tree rooted at the oldest, so a live version's
//! nodes are never freed: a node is freed only when the last version
//! holding it is gone. Slots are reused; no index ever leaves the process.

use super::{bit, leaf_hash, node_hash, Path};
use crate::ids::Hash32;
use crate::state::StoreError;

mod paging;

use paging::Paging;
pub(super) use paging::{prove_in, PagedBuild};

/// One node of a version: `EMPTY`, a leaf (top bit set) or an inner node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Ref(u32);

const LEAF_BIT: u32 = 1 << 31;

impl Ref {
    pub const EMPTY: Ref = Ref(u32::MAX);
    /// Both children of a subtree whose nodes were paged out
    /// (`paging.rs`); never a node itself.
    pub const COLD: Ref = Ref(u32::MAX - 1);

    fn leaf(i: u32) -> Ref {
        Ref(i | LEAF_BIT)
    }

    pub fn leaf_index(self) -> Option<u32> {
        (self != Ref::EMPTY && self.0 & LEAF_BIT != 0).then_some(self.0 & !LEAF_BIT)
    }

    pub fn inner_index(self) -> Option<u32> {
        (self.0 & LEAF_BIT == 0).then_some(self.0)
    }

    pub fn is_cold(self) -> bool {
        self == Ref::COLD
    }
}

impl Default for Ref {
    fn default() -> Ref {
        Ref::EMPTY
    }
}

/// A subtree with at least two leaves: its halves and their hashes. A
/// node's own hash is kept by its parent (the root's by its version's
/// handle), so a walk down a path reads each sibling's hash from the node
/// it is at instead of from the sibling: one cache miss per level, not two.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Inner {
    pub hashes: [Hash32; 2],
    pub children: [Ref; 2],
}

impl Inner {
    pub fn hash(&self) -> Hash32 {
        node_hash(&self.hashes[0], &self.hashes[1])
    }
}

/// A record: its path and its value's hash (the leaf hash is recomputed
/// when needed, which keeps a leaf at 64 bytes).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Leaf {
    pub path: Path,
    pub value: Hash32,
}

const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;
const MASK: u32 = (1 << CHUNK_BITS) - 1;

/// Fixed-size chunks, so growing never copies the nodes already there nor
/// holds two copies of them at once.
#[derive(Debug, Default)]
struct Slab<T> {
    chunks: Vec<Box<[T]>>,
    len: u32,
    free: Vec<u32>,
}

impl<T: Copy + Default> Slab<T> {
    fn get(&self, i: u32) -> &T {
        &self.chunks[(i >> CHUNK_BITS) as usize][(i & MASK) as usize]
    }

    fn get_mut(&mut self, i: u32) -> &mut T {
        &mut self.chunks[(i >> CHUNK_BITS) as usize][(i & MASK) as usize]
    }

    fn alloc(&mut self, t: T, max: u32) -> u32 {
        if let Some(i) = self.free.pop() {
            self.chunks[(i >> CHUNK_BITS) as usize][(i & MASK) as usize] = t;
            return i;
        }
        // 2^31 nodes are over 80 GiB: memory runs out long before.
        #[allow(clippy::panic)]
        if self.len >= max {
            panic!("the state tree's arena is full ({max} nodes)");
        }
        let i = self.len;
        if (i & MASK) == 0 {
            self.chunks
                .push(vec![T::default(); CHUNK].into_boxed_slice());
        }
        self.chunks[(i >> CHUNK_BITS) as usize][(i & MASK) as usize] = t;
        self.len += 1;
        i
    }

    fn live(&self) -> usize {
        self.len as usize - self.free.len()
    }

    fn bytes(&self) -> usize {
        self.chunks.len() * CHUNK * std::mem::size_of::<T>() + self.free.capacity() * 4
    }
}

/// What one version changed against its parent.
#[derive(Debug, Default)]
struct Version {
    root: Ref,
    parent: Option<u64>,
    children: Vec<u64>,
    alive: bool,
    created: Vec<Ref>,
    replaced: Vec<Ref>,
}

/// What an update made and dropped, and a scratch list for the bottom.
#[derive(Debug, Default)]
pub(super) struct Log {
    created: Vec<Ref>,
    replaced: Vec<Ref>,
    scratch: Vec<(Path, Hash32, Option<Ref>)>,
    frontier: Vec<(Ref, usize, usize)>,
    next: Vec<(Ref, usize, usize)>,
}

/// An update reads ahead (`Arena::warm`) under a subtree that this many
/// changes or fewer reach.
const WARM: usize = 32;

/// One change: the value hash at `path`, or `None` to remove the record.
pub(super) type Change = (Path, Option<Hash32>);

/// Memory the arena holds, for operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArenaStats {
    /// Nodes held by any kept version.
    pub nodes: u64,
    /// Bytes allocated for nodes (live or free) and version logs.
    pub bytes: u64,
    /// Versions still recorded (alive, or waiting to be spliced out).
    pub versions: u64,
    /// Subtrees whose nodes are paged out of memory.
    pub paged_subtrees: u64,
    /// Bytes of the nodes held (what the memory bound counts).
    pub node_bytes: u64,
    /// The memory bound of a paged tree's nodes; `None`: not paged.
    pub bound: Option<u64>,
}

#[derive(Debug, Default)]
pub(super) struct Arena {
    inners: Slab<Inner>,
    leaves: Slab<Leaf>,
    versions: std::collections::BTreeMap<u64, Version>,
    next_version: u64,
    paging: Option<Paging>,
}

impl Arena {
    pub fn inner(&self, i: u32) -> &Inner {
        self.inners.get(i)
    }

    pub fn leaf(&self, i: u32) -> &Leaf {
        self.leaves.get(i)
    }

    fn new_leaf(&mut self, path: Path, value: Hash32, log: &mut Log) -> (Ref, Hash32) {
        let r = Ref::leaf(self.leaves.alloc(Leaf { path, value }, LEAF_BIT - 2));
        log.created.push(r);
        (r, leaf_hash(&path, &value))
    }

    /// Joins two halves (each a node and its hash) as the tree's shape
    /// demands: a lone leaf moves up.
    fn join(&mut self, left: (Ref, Hash32), right: (Ref, Hash32), log: &mut Log) -> (Ref, Hash32) {
        let lone = |r: Ref| r == Ref::EMPTY || r.leaf_index().is_some();
        if left.0 == Ref::EMPTY && lone(right.0) {
            return right;
        }
        if right.0 == Ref::EMPTY && lone(left.0) {
            return left;
        }
        let hash = node_hash(&left.1, &right.1);
        let r = Ref(self.inners.alloc(
            Inner {
                hashes: [left.1, right.1],
                children: [left.0, right.0],
            },
            LEAF_BIT,
        ));
        log.created.push(r);
        (r, hash)
    }

    /// Builds the subtree at `depth` of `leaves` (path, value hash, and the
    /// leaf's node when it exists already; sorted by path, distinct).
    fn build(
        &mut self,
        depth: usize,
        leaves: &[(Path, Hash32, Option<Ref>)],
        log: &mut Log,
    ) -> (Ref, Hash32) {
        match leaves {
            [] => (Ref::EMPTY, Hash32::ZERO),
            [(path, value, Some(r))] => (*r, leaf_hash(path, value)),
            [(path, value, None)] => self.new_leaf(*path, *value, log),
            _ if depth >= 256 => (Ref::EMPTY, Hash32::ZERO), // distinct paths differ in some bit: unreachable
            _ => {
                let split = leaves.partition_point(|(p, _, _)| bit(p, depth) == 0);
                let left = self.build(depth + 1, &leaves[..split], log);
                let right = self.build(depth + 1, &leaves[split..], log);
                self.join(left, right, log)
            }
        }
    }

    /// The subtree at `depth` after `changes` (sorted by path, distinct,
    /// all under this subtree), and its hash; `node` and `hash` are the
    /// subtree before. Unchanged subtrees keep their node.
    pub fn update(
        &mut self,
        (node, hash): (Ref, Hash32),
        depth: usize,
        changes: &[Change],
        log: &mut Log,
    ) -> Result<(Ref, Hash32), StoreError> {
        if changes.is_empty() {
            return Ok((node, hash));
        }
        if let (Some(i), true) = (node.inner_index(), depth < 256) {
            if self.inners.get(i).children[0].is_cold() {
                self.materialize(i, depth)?;
            }
            let Inner {
                hashes: [lh, rh],
                children: [l0, r0],
            } = *self.inners.get(i);
            let split = changes.partition_point(|(p, _)| bit(p, depth) == 0);
            if changes.len() > WARM || depth == 0 {
                let (mut inners, mut leaves) = (0, 0);
                for (child, part) in [(l0, &changes[..split]), (r0, &changes[split..])] {
                    if !part.is_empty() && part.len() <= WARM {
                        inners += self.warm(child, depth + 1, part, log);
                        leaves += part.len();
                    }
                }
                self.warm_free(inners, leaves);
            }
            let (l, r) = if split == changes.len() {
                (self.update((l0, lh), depth + 1, changes, log)?, (r0, rh))
            } else if split == 0 {
                ((l0, lh), self.update((r0, rh), depth + 1, changes, log)?)
            } else {
                let l = self.update((l0, lh), depth + 1, &changes[..split], log)?;
                (l, self.update((r0, rh), depth + 1, &changes[split..], log)?)
            };
            if l.0 == l0 && r.0 == r0 {
                return Ok((node, hash));
            }
            log.replaced.push(node);
            return Ok(self.join(l, r, log));
        }
        // An empty subtree or one leaf: rebuilt from its leaves.
        let mut leaves = std::mem::take(&mut log.scratch);
        leaves.clear();
        let mut kept = None;
        if let Some(i) = node.leaf_index() {
            let old = *self.leaves.get(i);
            match changes.binary_search_by(|(p, _)| p.cmp(&old.path)) {
                Ok(j) if changes[j].1 == Some(old.value) => kept = Some((old, j)),
                Ok(_) => log.replaced.push(node),
                Err(_) => kept = Some((old, usize::MAX)),
            }
        }
        leaves.extend(
            changes
                .iter()
                .enumerate()
                .filter(|(j, _)| kept.is_none_or(|(_, same)| *j != same))
                .filter_map(|(_, (p, h))| h.map(|h| (*p, h, None))),
        );
        if let Some((old, _)) = kept {
            let at = leaves.partition_point(|(p, _, _)| *p < old.path);
            leaves.insert(at, (old.path, old.value, Some(node)));
        }
        let out = self.build(depth, &leaves, log);
        log.scratch = leaves;
        Ok(out)
    }

    /// Reads the nodes that an update of `changes` (sorted, at most about
    /// [`WARM`]) under `node` at `depth` will visit, level by level: loads
    /// that do not depend on each other overlap their cache misses, where
    /// the update's walk down each path would wait for one miss per level
    /// in turn. What is read is dropped; the update then finds it in
    /// cache. Returns the number of inner nodes read.
    fn warm(&self, node: Ref, depth: usize, changes: &[Change], log: &mut Log) -> usize {
        let mut seen = 0u32;
        let mut visited = 0usize;
        log.frontier.clear();
        log.frontier.push((node, 0, changes.len()));
        let mut depth = depth;
        while !log.frontier.is_empty() && depth < 256 {
            log.next.clear();
            for &(node, from, to) in &log.frontier {
                if let Some(i) = node.leaf_index() {
                    seen ^= u32::from(self.leaves.get(i).path[0]);
                    continue;
                }
                let Some(i) = node.inner_index() else {
                    continue;
                };
                // A node spans two cache lines: its hashes start in the
                // first, its children are in the second.
                let Inner { hashes, children } = *self.inners.get(i);
                seen ^= u32::from(hashes[0].0[0]);
                visited += 1;
                if children[0].is_cold() {
                    continue;
                }
                let part = &changes[from..to];
                let split = from + part.iter().filter(|(p, _)| bit(p, depth) == 0).count();
                for (child, from, to) in [(children[0], from, split), (children[1], split, to)] {
                    if from < to && child != Ref::EMPTY {
                        log.next.push((child, from, to));
                    }
                }
            }
            std::mem::swap(&mut log.frontier, &mut log.next);
            depth += 1;
        }
        std::hint::black_box(seen);
        visited
    }

    /// Reads the free slots that the next `inners` inner nodes and `leaves`
    /// leaves will be written to (the top of each free list), as
    /// [`Arena::warm`] reads the nodes: an update rewrites each node it
    /// visits, and each change may make a leaf.
    fn warm_free(&self, inners: usize, leaves: usize) {
        let mut seen = 0u32;
        for &i in self.inners.free.iter().rev().take(inners) {
            seen ^= self.inners.get(i).children[0].0;
        }
        for &i in self.leaves.free.iter().rev().take(leaves) {
            seen ^= u32::from(self.leaves.get(i).path[0]);
        }
        std::hint::black_box(seen);
    }

    /// The root of a first version of `leaves` (sorted by path, distinct),
    /// its hash, and the version.
    pub fn build_root(&mut self, leaves: &[(Path, Hash32)]) -> (Ref, Hash32, u64) {
        let mut log = Log::default();
        let tagged: Vec<(Path, Hash32, Option<Ref>)> =
            leaves.iter().map(|(p, v)| (*p, *v, None)).collect();
        let (root, hash) = self.build(0, &tagged, &mut log);
        (root, hash, self.add_version(root, None, Log::default()))
    }

    /// Records a new live version with `root`, made by `log` from `parent`.
    pub fn add_version(&mut self, root: Ref, parent: Option<u64>, log: Log) -> u64 {
        let id = self.next_version;
        self.next_version += 1;
        if let Some(p) = parent.and_then(|p| self.versions.get_mut(&p)) {
            p.children.push(id);
        }
        self.versions.insert(
            id,
            Version {
                root,
                parent,
                children: Vec::new(),
                alive: true,
                created: log.created,
                replaced: log.replaced,
            },
        );
        id
    }

    /// Frees what an update that failed half-way made.
    pub fn discard(&mut self, log: &Log) {
        self.free(&log.created);
    }

    fn free(&mut self, refs: &[Ref]) {
        for r in refs {
            if let Some(i) = r.leaf_index() {
                self.leaves.free.push(i);
            } else if let Some(i) = r.inner_index() {
                self.inners.free.push(i);
            }
        }
    }

    /// The last handle to version `id` is gone.
    pub fn release(&mut self, id: u64) {
        if let Some(v) = self.versions.get_mut(&id) {
            v.alive = false;
        }
        self.collect(id);
    }

    /// Removes dead versions from `id` on, as the module comment says.
    fn collect(&mut self, mut id: u64) {
        loop {
            let Some(v) = self.versions.get(&id) else {
                return;
            };
            if v.alive {
                return;
            }
            match (v.parent, v.children.len()) {
                (Some(parent), 0) => {
                    let Some(v) = self.versions.remove(&id) else {
                        return;
                    };
                    self.free(&v.created);
                    if let Some(p) = self.versions.get_mut(&parent) {
                        p.children.retain(|c| *c != id);
                    }
                    id = parent;
                }
                (parent, 1) => {
                    let Some(v) = self.versions.remove(&id) else {
                        return;
                    };
                    let child = v.children[0];
                    self.splice(id, v, child, parent);
                    id = child;
                }
                (None, 0) => {
                    // The last version: the arena goes with its last handle.
                    self.versions.remove(&id);
                    return;
                }
                _ => return,
            }
        }
    }

    /// Moves dead version `id`'s bookkeeping (`v`) into its only child
    /// `child`, whose parent becomes `parent`.
    fn splice(&mut self, id: u64, v: Version, child: u64, parent: Option<u64>) {
        let Some(c) = self.versions.get_mut(&child) else {
            return;
        };
        let child_replaced = std::mem::take(&mut c.replaced);
        let mut made = v.created;
        made.sort_unstable();
        let mut gone = Vec::new();
        let mut still_replaced = Vec::new();
        let mut made_and_gone = vec![false; made.len()];
        for r in child_replaced {
            match made.binary_search(&r) {
                Ok(j) => {
                    made_and_gone[j] = true;
                    gone.push(r);
                }
                // Not made by `v`: from older versions, or `v` is the oldest.
                Err(_) if parent.is_none() => gone.push(r),
                Err(_) => still_replaced.push(r),
            }
        }
        c.parent = parent;
        if parent.is_some() {
            c.created.extend(
                made.iter()
                    .zip(&made_and_gone)
                    .filter(|(_, g)| !**g)
                    .map(|(r, _)| *r),
            );
            let mut replaced = v.replaced;
            replaced.extend(still_replaced);
            c.replaced = replaced;
        } else {
            // The oldest version's lists are never needed again.
            c.created = Vec::new();
        }
        if let Some(p) = parent.and_then(|p| self.versions.get_mut(&p)) {
            for x in &mut p.children {
                if *x == id {
                    *x = child;
                }
            }
        }
        self.free(&gone);
    }

    pub fn stats(&self) -> ArenaStats {
        let logs: usize = self
            .versions
            .values()
            .map(|v| (v.created.capacity() + v.replaced.capacity()) * 4)
            .sum();
        ArenaStats {
            nodes: (self.inners.live() + self.leaves.live()) as u64,
            bytes: (self.inners.bytes()
                + self.leaves.bytes()
                + logs
                + self.paging.as_ref().map_or(0, Paging::bytes)) as u64,
            versions: self.versions.len() as u64,
            paged_subtrees: self.paging.as_ref().map_or(0, Paging::paged) as u64,
            node_bytes: self.node_bytes() as u64,
            bound: self.paging.as_ref().map(Paging::bound),
        }
    }
}
