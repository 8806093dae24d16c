//! Binary Merkle trees shaped as in RFC 6962 / RFC 9162 (leaf = H(0x00 ‖ data),
//! node = H(0x01 ‖ left ‖ right), split at the largest power of two below n),
//! so a receipt proves one leaf with log2(n) hashes. The chain has four:
//! a block's txs (`txs_root`) and results (`results_root`), and inside a
//! RecordUse its uses and their outcomes (decision 34, [`crate::use_tree`]).
//!
//! Leaves and inner nodes are separated by their first byte; the kinds of
//! leaf by a tag ([`tagged_leaf`]), so no leaf of one kind can be read as
//! another's.

use sha2::{Digest, Sha256};

use crate::ids::Hash32;

pub fn leaf_hash(data: &[u8]) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    Hash32(h.finalize().into())
}

/// A leaf of one kind: `H(0x00 ‖ len(tag) ‖ tag ‖ len(part) ‖ part ‖ …)`,
/// every length a u64 little endian, so the parts are never ambiguous and
/// two kinds of leaf never hash the same bytes.
pub fn tagged_leaf(tag: &str, parts: &[&[u8]]) -> Hash32 {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update((tag.len() as u64).to_le_bytes());
    h.update(tag.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    Hash32(h.finalize().into())
}

fn node_hash(l: &Hash32, r: &Hash32) -> Hash32 {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l.0);
    h.update(r.0);
    Hash32(h.finalize().into())
}

/// Root of an empty tree (a block with no txs).
pub fn empty_root() -> Hash32 {
    Hash32(Sha256::digest([]).into())
}

fn split(n: usize) -> usize {
    // Largest power of two strictly below n (n >= 2).
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Root over leaf hashes.
pub fn root(leaves: &[Hash32]) -> Hash32 {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Audit path of leaf `index`, from the leaf's sibling up to the root's child.
pub fn proof(leaves: &[Hash32], index: usize) -> Option<Vec<Hash32>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    let (mut lo, mut hi, mut m) = (0usize, leaves.len(), index);
    let mut siblings = Vec::new();
    while hi - lo > 1 {
        let k = split(hi - lo);
        if m < k {
            siblings.push(root(&leaves[lo + k..hi]));
            hi = lo + k;
        } else {
            siblings.push(root(&leaves[lo..lo + k]));
            lo += k;
            m -= k;
        }
    }
    while let Some(s) = siblings.pop() {
        path.push(s);
    }
    Some(path)
}

/// Recomputes the root from a leaf, its index, the tree size and the audit path.
pub fn root_from_proof(leaf: Hash32, index: usize, size: usize, path: &[Hash32]) -> Option<Hash32> {
    if index >= size {
        return None;
    }
    fn rec(m: usize, n: usize, leaf: Hash32, path: &[Hash32]) -> Option<Hash32> {
        if n == 1 {
            return path.is_empty().then_some(leaf);
        }
        let (last, rest) = path.split_last()?;
        let k = split(n);
        if m < k {
            Some(node_hash(&rec(m, k, leaf, rest)?, last))
        } else {
            Some(node_hash(last, &rec(m - k, n - k, leaf, rest)?))
        }
    }
    rec(index, size, leaf, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_proves_and_tampering_fails() {
        for n in 1..=33usize {
            let leaves: Vec<Hash32> = (0..n)
                .map(|i| leaf_hash(&(i as u64).to_le_bytes()))
                .collect();
            let r = root(&leaves);
            for i in 0..n {
                let p = proof(&leaves, i).unwrap();
                assert_eq!(root_from_proof(leaves[i], i, n, &p), Some(r), "n={n} i={i}");
                let other = leaf_hash(b"not in the tree");
                assert_ne!(root_from_proof(other, i, n, &p), Some(r));
                if n > 1 {
                    assert_ne!(root_from_proof(leaves[i], (i + 1) % n, n, &p), Some(r));
                }
            }
        }
    }
}
