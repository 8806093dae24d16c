//! A bound on the arena's memory: subtrees the recent versions did not
//! change are paged out to a [`TreePages`] store and read back when a
//! block changes them or a proof crosses them.
//!
//! **Buckets.** The tree is cut at a fixed depth `D` (chosen from the
//! memory bound: about 2^D × 160 bytes of bookkeeping stays a small share
//! of it). A bucket is the subtree at depth `D` under one `D`-bit path
//! prefix. The nodes above depth `D` always stay; a bucket's subtree, when it
//! has two or more leaves, is either in memory or *cold*: its top node keeps
//! its slot and its halves' hashes (so every version pointing at it still
//! sees the same hashes) and its two children are [`Ref::COLD`]; its leaves
//! are one page.
//!
//! **Which bucket may go.** Every change records its bucket with the version
//! that made it (`touched`), and a queue holds buckets in that order. A
//! bucket last changed by a version no newer than the oldest recorded
//! version (the root of the version tree) is held by every recorded version
//! through the same top node, and none of its nodes is in any version's log
//! (the oldest version keeps no log): paging it out frees its nodes and
//! changes nothing any version can see. Buckets are paged out oldest change
//! first while the nodes' bytes are over the budget.
//!
//! **Reading back.** A change under a cold top node rebuilds its subtree
//! from the page and checks it against the top node's halves' hashes before
//! it is used (a page that does not give them is a corrupt store); a proof
//! is computed from the page's leaves without rebuilding.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::{Arena, Change, Inner, Leaf, Log, Ref};
use crate::ids::Hash32;
use crate::state::tree::{bit, subtree_root, Path, ProofEnd, TreePages};
use crate::state::StoreError;

const INNER_BYTES: usize = std::mem::size_of::<Inner>();
const LEAF_BYTES: usize = std::mem::size_of::<Leaf>();
/// Bookkeeping per bucket: its last change (8 bytes), its queue entries
/// (16 bytes each, at most two, in a queue of up to twice that capacity)
/// and, when cold, its page (about 40 bytes in the map), plus the nodes
/// above it (about 2 × 72 bytes). The node's default bound of 3072 MiB has
/// 2^21 buckets, whose last changes and queue take up to about 150 MiB
/// whether or not anything is paged (counted in the arena's bytes).
const BYTES_PER_BUCKET: u64 = 224;

/// The bucket depth for a memory bound: the bookkeeping takes at most about
/// a quarter of it, between 2^6 and 2^24 buckets.
fn depth_for(max_bytes: u64) -> usize {
    let buckets = (max_bytes / 4 / BYTES_PER_BUCKET).max(1);
    (63 - buckets.leading_zeros() as usize).clamp(6, 24)
}

fn bucket(path: &Path, depth: usize) -> u32 {
    u32::from_be_bytes([path[0], path[1], path[2], path[3]]) >> (32 - depth)
}

fn corrupt(why: String) -> StoreError {
    StoreError::Corrupt {
        key: "state tree page".into(),
        why,
    }
}

#[derive(Debug)]
pub(in crate::state::tree) struct Paging {
    pages: Arc<dyn TreePages>,
    depth: usize,
    /// Node bytes past which buckets are paged out.
    budget: usize,
    /// Per bucket: the version that last changed it.
    touched: Vec<u64>,
    /// (version, bucket) in change order; stale entries are skipped.
    queue: VecDeque<(u64, u32)>,
    /// Cold top nodes (inner slot) and their pages.
    cold: BTreeMap<u32, u64>,
}

impl Paging {
    pub fn paged(&self) -> usize {
        self.cold.len()
    }

    /// The bound the node bytes are paged down to.
    pub fn bound(&self) -> u64 {
        self.budget as u64
    }

    pub fn bytes(&self) -> usize {
        self.touched.capacity() * 8 + self.queue.capacity() * 16 + self.cold.len() * 40
    }
}

impl Drop for Paging {
    fn drop(&mut self) {
        let pages: Vec<u64> = self.cold.values().copied().collect();
        self.pages.forget_all(&pages);
    }
}

impl Arena {
    /// An empty arena that pages buckets out past `max_bytes` of nodes.
    fn with_paging(pages: Arc<dyn TreePages>, max_bytes: u64) -> Arena {
        let depth = depth_for(max_bytes);
        Arena {
            paging: Some(Paging {
                pages,
                depth,
                budget: usize::try_from(max_bytes / 4 * 3).unwrap_or(usize::MAX),
                touched: vec![0; 1 << depth],
                queue: VecDeque::new(),
                cold: BTreeMap::new(),
            }),
            ..Arena::default()
        }
    }

    pub(super) fn node_bytes(&self) -> usize {
        self.inners.live() * INNER_BYTES + self.leaves.live() * LEAF_BYTES
    }

    /// Records that `version` made `changes` (sorted by path), then pages
    /// buckets out while the nodes are over budget.
    pub fn after_update(&mut self, changes: &[Change], version: u64) -> Result<(), StoreError> {
        let Some(p) = self.paging.as_mut() else {
            return Ok(());
        };
        let mut last = None;
        for (path, _) in changes {
            let b = bucket(path, p.depth);
            if last != Some(b) {
                p.touched[b as usize] = version;
                p.queue.push_back((version, b));
                last = Some(b);
            }
        }
        // Stale entries (a bucket changed again later) are dropped once the
        // queue holds two per bucket: at most 32 bytes per bucket.
        if p.queue.len() > 2 * p.touched.len() {
            let touched = &p.touched;
            p.queue.retain(|(v, b)| touched[*b as usize] == *v);
        }
        self.evict()
    }

    pub fn evict(&mut self) -> Result<(), StoreError> {
        let Some(budget) = self.paging.as_ref().map(|p| p.budget) else {
            return Ok(());
        };
        if self.node_bytes() <= budget {
            return Ok(());
        }
        let Some((&oldest, root)) = self.versions.iter().next().map(|(id, v)| (id, v.root)) else {
            return Ok(());
        };
        while self.node_bytes() > budget / 8 * 7 {
            let Some(p) = self.paging.as_mut() else {
                break;
            };
            let Some(&(v, b)) = p.queue.front() else {
                break;
            };
            if p.touched[b as usize] == v && v > oldest {
                // Every later entry is newer still.
                break;
            }
            p.queue.pop_front();
            if p.touched[b as usize] == v {
                self.page_out(root, b)?;
            }
        }
        Ok(())
    }

    /// Pages out bucket `b` of the tree under `root` (the oldest version's).
    fn page_out(&mut self, root: Ref, b: u32) -> Result<(), StoreError> {
        let Some(depth) = self.paging.as_ref().map(|p| p.depth) else {
            return Ok(());
        };
        let mut node = root;
        for d in 0..depth {
            let Some(i) = node.inner_index() else {
                // A leaf or nothing above the bucket's depth: nothing to page.
                return Ok(());
            };
            let side = ((b >> (depth - 1 - d)) & 1) as usize;
            node = self.inners.get(i).children[side];
        }
        let Some(top) = node.inner_index() else {
            return Ok(());
        };
        if self.inners.get(top).children[0].is_cold() {
            return Ok(());
        }
        let (mut leaves, mut inners, mut leaf_slots) = (Vec::new(), Vec::new(), Vec::new());
        let mut stack = vec![
            self.inners.get(top).children[1],
            self.inners.get(top).children[0],
        ];
        while let Some(r) = stack.pop() {
            if let Some(i) = r.leaf_index() {
                let l = self.leaves.get(i);
                leaves.push((l.path, l.value));
                leaf_slots.push(i);
            } else if let Some(i) = r.inner_index() {
                inners.push(i);
                let [l, r] = self.inners.get(i).children;
                stack.push(r);
                stack.push(l);
            }
        }
        self.cool(top, &leaves, &inners, &leaf_slots)
    }

    /// Writes `leaves` as the page of `top`'s subtree and frees the
    /// subtree's other nodes (`inners`, `leaf_slots`).
    fn cool(
        &mut self,
        top: u32,
        leaves: &[(Path, Hash32)],
        inners: &[u32],
        leaf_slots: &[u32],
    ) -> Result<(), StoreError> {
        let Some(p) = self.paging.as_mut() else {
            return Ok(());
        };
        let page = p.pages.put(leaves)?;
        p.cold.insert(top, page);
        self.inners.free.extend_from_slice(inners);
        self.leaves.free.extend_from_slice(leaf_slots);
        self.inners.get_mut(top).children = [Ref::COLD; 2];
        Ok(())
    }

    /// The page of cold top node `i` and its leaves, as stored.
    fn page_of(&self, i: u32) -> Result<(u64, Vec<(Path, Hash32)>), StoreError> {
        let Some(p) = self.paging.as_ref() else {
            return Err(corrupt(format!(
                "node {i} is paged out but the tree has no pages"
            )));
        };
        let Some(&page) = p.cold.get(&i) else {
            return Err(corrupt(format!(
                "node {i} is paged out but no page is recorded"
            )));
        };
        Ok((page, p.pages.get(page)?))
    }

    /// The leaves of cold top node `i` at `depth`, checked against its hash.
    pub fn cold_leaves(&self, i: u32, depth: usize) -> Result<Vec<(Path, Hash32)>, StoreError> {
        let (page, leaves) = self.page_of(i)?;
        let want = self.inners.get(i).hash();
        let got = subtree_root(depth, &leaves);
        if got != want {
            return Err(corrupt(format!(
                "page {page} gives subtree hash {got}, not {want}"
            )));
        }
        Ok(leaves)
    }

    /// Brings cold top node `i` at `depth` back into memory: the subtree is
    /// rebuilt from its page, and the rebuild's halves' hashes are the check.
    pub fn materialize(&mut self, i: u32, depth: usize) -> Result<(), StoreError> {
        let (page, leaves) = self.page_of(i)?;
        let tagged: Vec<(Path, Hash32, Option<Ref>)> =
            leaves.iter().map(|(p, v)| (*p, *v, None)).collect();
        let mut log = Log::default();
        let (r, got) = self.build(depth, &tagged, &mut log);
        let want = self.inners.get(i).hash();
        let built = match r.inner_index() {
            Some(built) if self.inners.get(built).hashes == self.inners.get(i).hashes => built,
            _ => {
                self.free(&log.created);
                return Err(corrupt(format!(
                    "page {page} gives subtree hash {got}, not {want}"
                )));
            }
        };
        let children = self.inners.get(built).children;
        self.inners.get_mut(i).children = children;
        self.inners.free.push(built);
        if let Some(p) = self.paging.as_mut() {
            if p.cold.remove(&i).is_some() {
                p.pages.forget(page);
            }
        }
        Ok(())
    }
}

/// The end of a proof for `path` from the leaves of the subtree at `depth`
/// that holds it, pushing the siblings below `depth`.
pub(in crate::state::tree) fn prove_in(
    leaves: &[(Path, Hash32)],
    depth: usize,
    path: &Path,
    siblings: &mut Vec<Hash32>,
) -> ProofEnd {
    match leaves {
        [] => ProofEnd::Empty,
        [(p, _)] if p == path => ProofEnd::Found,
        [(p, v)] => ProofEnd::Other {
            path: Hash32(*p),
            value_hash: *v,
        },
        _ if depth >= 256 => ProofEnd::Empty,
        _ => {
            let split = leaves.partition_point(|(p, _)| bit(p, depth) == 0);
            let (mine, other) = if bit(path, depth) == 0 {
                (&leaves[..split], &leaves[split..])
            } else {
                (&leaves[split..], &leaves[..split])
            };
            siblings.push(subtree_root(depth + 1, other));
            prove_in(mine, depth + 1, path, siblings)
        }
    }
}

/// Builds a paged arena's first version from leaves in path order, one
/// bucket at a time, paging each out once the nodes are over budget: the
/// memory it takes is the bound, whatever the number of leaves.
#[derive(Debug)]
pub(in crate::state::tree) struct PagedBuild {
    arena: Arena,
    depth: usize,
    /// Subtrees built so far not yet joined with their right sibling:
    /// (depth, node, hash).
    stack: Vec<(usize, Ref, Hash32)>,
    /// Buckets before this one are done.
    next: u64,
    current: Option<u32>,
    leaves: Vec<(Path, Hash32, Option<Ref>)>,
    last: Option<Path>,
}

impl PagedBuild {
    pub fn new(pages: Arc<dyn TreePages>, max_bytes: u64) -> PagedBuild {
        let arena = Arena::with_paging(pages, max_bytes);
        let depth = arena.paging.as_ref().map_or(6, |p| p.depth);
        PagedBuild {
            arena,
            depth,
            stack: Vec::new(),
            next: 0,
            current: None,
            leaves: Vec::new(),
            last: None,
        }
    }

    pub fn push(&mut self, path: Path, value: Hash32) -> Result<(), StoreError> {
        if self.last.is_some_and(|last| path <= last) {
            return Err(StoreError::Corrupt {
                key: "state tree build".into(),
                why: "leaves are not in ascending path order".into(),
            });
        }
        self.last = Some(path);
        let b = bucket(&path, self.depth);
        if self.current != Some(b) {
            self.close_bucket()?;
            self.current = Some(b);
        }
        self.leaves.push((path, value, None));
        Ok(())
    }

    fn close_bucket(&mut self) -> Result<(), StoreError> {
        let Some(b) = self.current.take() else {
            return Ok(());
        };
        while self.next < u64::from(b) {
            self.join_up(Ref::EMPTY, Hash32::ZERO);
        }
        let mut log = Log::default();
        let (r, h) = self.arena.build(self.depth, &self.leaves, &mut log);
        if let Some(top) = r.inner_index() {
            let over = self
                .arena
                .paging
                .as_ref()
                .is_some_and(|p| self.arena.node_bytes() > p.budget);
            if over {
                let leaves: Vec<(Path, Hash32)> =
                    self.leaves.iter().map(|(p, v, _)| (*p, *v)).collect();
                let (mut inners, mut leaf_slots) = (Vec::new(), Vec::new());
                for c in log.created {
                    match (c.leaf_index(), c.inner_index()) {
                        (Some(i), _) => leaf_slots.push(i),
                        (None, Some(i)) if i != top => inners.push(i),
                        _ => {}
                    }
                }
                self.arena.cool(top, &leaves, &inners, &leaf_slots)?;
            } else if let Some(p) = self.arena.paging.as_mut() {
                p.queue.push_back((0, b));
            }
        }
        self.leaves.clear();
        self.join_up(r, h);
        Ok(())
    }

    /// Adds the next bucket's subtree and joins every completed pair.
    fn join_up(&mut self, r: Ref, h: Hash32) {
        let mut cur = (self.depth, r, h);
        while let Some(&(d, lr, lh)) = self.stack.last() {
            if d != cur.0 || d == 0 {
                break;
            }
            self.stack.pop();
            let (jr, jh) = self
                .arena
                .join((lr, lh), (cur.1, cur.2), &mut Log::default());
            cur = (d - 1, jr, jh);
        }
        self.stack.push(cur);
        self.next += 1;
    }

    /// The arena, its first version and that version's root and hash.
    pub fn finish(mut self) -> Result<(Arena, u64, Ref, Hash32), StoreError> {
        self.close_bucket()?;
        while self.next < 1 << self.depth {
            self.join_up(Ref::EMPTY, Hash32::ZERO);
        }
        let (root, hash) = match self.stack.as_slice() {
            [(0, r, h)] => (*r, *h),
            _ => (Ref::EMPTY, Hash32::ZERO),
        };
        let version = self.arena.add_version(root, None, Log::default());
        Ok((self.arena, version, root, hash))
    }
}
