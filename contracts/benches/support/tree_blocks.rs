//! Blocks of state writes shaped like the ledger's, shared by the state
//! tree benches (`contracts/benches/state_tree.rs`,
//! `node/benches/state_tree_paged.rs`).

use assent_contracts::state::Writes;

pub const UPDATES: u64 = 7_000;
pub const INSERTS: u64 = 2_000;
pub const DELETES: u64 = 1_000;

pub fn key(i: u64) -> Vec<u8> {
    let mut k = b"cnst/".to_vec();
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&i.to_be_bytes());
    id[8..16].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_le_bytes());
    k.extend_from_slice(&id);
    k
}

pub fn value(i: u64, version: u64) -> Vec<u8> {
    let mut v = vec![0u8; 200];
    v[..8].copy_from_slice(&i.to_le_bytes());
    v[8..16].copy_from_slice(&version.to_le_bytes());
    v
}

/// A deterministic pseudo-random sequence (no clock, no OS randomness).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Block `b` on a tree of `n` records: random updates and deletions of
/// existing records, inserts of new ones.
pub fn block(n: u64, b: u64, rng: &mut Lcg) -> Writes {
    let mut w = Writes::new();
    while (w.len() as u64) < UPDATES {
        let i = rng.below(n);
        w.insert(key(i), Some(value(i, b + 1)));
    }
    for j in 0..INSERTS {
        let i = n + b * INSERTS + j;
        w.insert(key(i), Some(value(i, 0)));
    }
    let mut deleted = 0;
    while deleted < DELETES {
        let i = rng.below(n);
        if w.insert(key(i), None).is_none() {
            deleted += 1;
        }
    }
    w
}
