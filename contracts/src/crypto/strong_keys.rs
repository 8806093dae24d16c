//! Keys known to be real ed25519 keys (points not of small order), kept so
//! that a key is decompressed once rather than at every check: a
//! transfer's recipient is checked when the tx is admitted and again when
//! its block executes, and a registering consumer's key was decompressed
//! already by the batch that checked its signature.
//!
//! A cache only: whether a key is weak is a pure function of its 32
//! bytes, so no answer depends on what the set holds, and nothing ever
//! iterates it. Bounded: two generations of [`PER_GENERATION`] keys; when
//! the newer fills, the older is dropped and the newer takes its place.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// Keys per generation: at most 65,536 keys kept, about 4 MB.
const PER_GENERATION: usize = 32_768;

pub(super) struct KeySet {
    /// `[newer, older]`.
    generations: [HashSet<[u8; 32]>; 2],
    per_generation: usize,
}

impl KeySet {
    fn new(per_generation: usize) -> KeySet {
        KeySet {
            generations: [HashSet::new(), HashSet::new()],
            per_generation: per_generation.max(1),
        }
    }

    fn contains(&self, key: &[u8; 32]) -> bool {
        self.generations.iter().any(|g| g.contains(key))
    }

    fn insert(&mut self, key: [u8; 32]) {
        if self.contains(&key) {
            return;
        }
        if self.generations[0].len() >= self.per_generation {
            self.generations[1] = std::mem::take(&mut self.generations[0]);
        }
        self.generations[0].insert(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.generations.iter().map(HashSet::len).sum()
    }
}

fn kept() -> std::sync::MutexGuard<'static, KeySet> {
    static KEPT: OnceLock<Mutex<KeySet>> = OnceLock::new();
    KEPT.get_or_init(|| Mutex::new(KeySet::new(PER_GENERATION)))
        .lock()
        // A set left by a panicking thread is still a set of strong keys.
        .unwrap_or_else(|p| p.into_inner())
}

/// Whether `key` was found strong before.
pub(super) fn known(key: &[u8; 32]) -> bool {
    kept().contains(key)
}

/// Keeps keys the caller found to decompress to a point not of small order.
pub(super) fn keep(keys: impl IntoIterator<Item = [u8; 32]>) {
    let mut set = kept();
    for key in keys {
        set.insert(key);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_set_holds_two_generations_at_most() {
        let mut set = KeySet::new(3);
        for i in 0..10u8 {
            set.insert([i; 32]);
            set.insert([i; 32]);
            assert!(set.contains(&[i; 32]), "the newest key is kept");
            assert!(set.len() <= 6, "{}", set.len());
        }
        assert!(set.contains(&[8; 32]) && !set.contains(&[0; 32]));
    }
}
