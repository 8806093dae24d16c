//! The Bloom filters of the sorted runs ([`super::run_file`]) and the key
//! hashes they are built on.
//!
//! Two layouts, told apart by the run's magic:
//! - `ASNTRUN3` (written now): a blocked filter. A key's hash picks one
//!   512-bit block (one cache line) and sets 7 bits inside it, so an insert
//!   or a query touches one line and divides nothing. Its key hash reads
//!   the key 8 bytes at a time ([`key_hash`]).
//! - `ASNTRUN2` (still read): 7 probes across the whole filter, each a
//!   64-bit modulo and a likely cache miss, over a byte-at-a-time FNV-1a
//!   hash ([`key_hash_v2`]). Runs of this layout disappear as they merge.

/// Bloom filter bits per key and probes: ≈ 1 % false positives.
pub(super) const BLOOM_BITS_PER_KEY: usize = 10;
const BLOOM_PROBES: u64 = 7;
/// Words in one block of a blocked filter: 512 bits, one cache line.
pub(super) const BLOCK_WORDS: usize = 8;

/// A 64-bit finaliser (splitmix64's).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A key's hash for the blocked filters (`ASNTRUN3`): the key read as
/// little-endian 64-bit words (the last one zero-padded, the length mixed
/// in first), multiplied in, then finalised. Fixed forever: filters are
/// stored, so runs written on one machine read the same on any other.
pub fn key_hash(key: &[u8]) -> u64 {
    let mut h = (key.len() as u64) ^ 0x2545_f491_4f6c_dd1d;
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
    let tail = words.remainder();
    let mut b = [0u8; 8];
    b[..tail.len()].copy_from_slice(tail);
    mix(h ^ u64::from_le_bytes(b))
}

/// A key's hashes for the older filters (`ASNTRUN2`): FNV-1a, then a
/// 64-bit finaliser.
pub fn key_hash_v2(key: &[u8]) -> (u64, u64) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let a = mix(h);
    (a, mix(a ^ 0x9e37_79b9_7f4a_7c15) | 1)
}

/// A key as the filters see it: its hash for each layout, the older one
/// worked out only if a run of that layout is asked.
pub struct KeyHash<'a> {
    pub(super) key: &'a [u8],
    blocked: u64,
    v2: std::cell::OnceCell<(u64, u64)>,
}

impl<'a> KeyHash<'a> {
    pub fn new(key: &'a [u8]) -> KeyHash<'a> {
        KeyHash {
            key,
            blocked: key_hash(key),
            v2: std::cell::OnceCell::new(),
        }
    }

    fn v2(&self) -> (u64, u64) {
        *self.v2.get_or_init(|| key_hash_v2(self.key))
    }
}

/// A run's Bloom filter, in the layout its magic names.
#[derive(Debug)]
pub(super) enum Bloom {
    /// `ASNTRUN3`: whole 512-bit blocks.
    Blocked(Vec<u64>),
    /// `ASNTRUN2`: probes over the whole filter.
    Spread(Vec<u64>),
}

impl Bloom {
    pub(super) fn for_keys(n: usize) -> Bloom {
        let blocks = (n.max(1) * BLOOM_BITS_PER_KEY).div_ceil(BLOCK_WORDS * 64);
        Bloom::Blocked(vec![0; blocks * BLOCK_WORDS])
    }

    pub(super) fn words(&self) -> &[u64] {
        match self {
            Bloom::Blocked(w) | Bloom::Spread(w) => w,
        }
    }

    /// The first word of a blocked filter's block for hash `h`, and the bit
    /// masks of that block's 8 words. The block is the high half of `h`
    /// scaled to the block count; each probe is 9 bits (0..512) of a second
    /// mix of `h`.
    fn block_probes(words: usize, h: u64) -> (usize, [u64; BLOCK_WORDS]) {
        let blocks = (words / BLOCK_WORDS) as u64;
        // The high half of `h` scaled to [0, blocks); in 128 bits so that no
        // filter length read from a file can overflow it.
        let block = ((u128::from(h >> 32) * u128::from(blocks)) >> 32) as usize;
        let mut bits = mix(h ^ 0x9e37_79b9_7f4a_7c15);
        let mut masks = [0u64; BLOCK_WORDS];
        for _ in 0..BLOOM_PROBES {
            let bit = (bits & 511) as usize;
            masks[bit / 64] |= 1u64 << (bit % 64);
            bits >>= 9;
        }
        (block * BLOCK_WORDS, masks)
    }

    /// The (word, bit mask) probes of an `ASNTRUN2` filter of `words` words.
    pub(super) fn spread_probes(
        words: usize,
        (a, b): (u64, u64),
    ) -> impl Iterator<Item = (usize, u64)> {
        let bits = (words as u64 * 64).max(1);
        (0..BLOOM_PROBES).map(move |i| {
            let bit = a.wrapping_add(i.wrapping_mul(b)) % bits;
            ((bit / 64) as usize, 1u64 << (bit % 64))
        })
    }

    /// Adds a key by its [`key_hash`] (runs are written blocked only).
    pub(super) fn insert(&mut self, h: u64) {
        if let Bloom::Blocked(w) = self {
            let (at, masks) = Bloom::block_probes(w.len(), h);
            if let Some(block) = w.get_mut(at..at + BLOCK_WORDS) {
                for (word, m) in block.iter_mut().zip(masks) {
                    *word |= m;
                }
            }
        }
    }

    /// `false` only when the key is surely not in the run.
    pub(super) fn may_contain(&self, key: &KeyHash<'_>) -> bool {
        match self {
            Bloom::Blocked(w) => {
                if w.is_empty() {
                    return true;
                }
                let (at, masks) = Bloom::block_probes(w.len(), key.blocked);
                w.get(at..at + BLOCK_WORDS)
                    .is_none_or(|block| block.iter().zip(masks).all(|(word, m)| word & m == m))
            }
            Bloom::Spread(w) => {
                w.is_empty()
                    || Bloom::spread_probes(w.len(), key.v2())
                        .all(|(i, m)| w.get(i).is_some_and(|word| word & m != 0))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn asks(bloom: &Bloom, key: String) -> bool {
        bloom.may_contain(&KeyHash::new(key.as_bytes()))
    }

    #[test]
    fn the_filter_never_misses_a_key_and_rarely_admits_an_absent_one() {
        for n in [1usize, 50, 10_000] {
            let mut bloom = Bloom::for_keys(n);
            assert!(bloom.words().len().is_multiple_of(BLOCK_WORDS));
            for i in 0..n {
                bloom.insert(key_hash(format!("in/{i}").as_bytes()));
            }
            for i in 0..n {
                assert!(asks(&bloom, format!("in/{i}")), "{n} keys: in/{i} missed");
            }
            let admitted = (0..10_000)
                .filter(|i| asks(&bloom, format!("out/{i}")))
                .count();
            // ≈ 1 % at 10 bits a key (96 of 10,000 at 10,000 keys; the spread
            // filter admits 72); a small filter rounds up to a whole block.
            assert!(
                admitted < 250,
                "{n} keys: {admitted} of 10,000 absent keys admitted"
            );
        }
        // Filters are stored: the hashes must not change between builds.
        assert_eq!(key_hash(b"c/1"), 1_236_016_689_384_640_430);
        assert_eq!(
            key_hash(b"u/0123456789abcdef/1"),
            14_777_848_779_937_508_959
        );
        assert_eq!(key_hash_v2(b"c/1").0, 9_463_412_812_375_047_360);
    }

    #[test]
    fn an_older_spread_filter_is_read_with_its_own_hash() {
        let mut words = vec![0u64; 10_000 * BLOOM_BITS_PER_KEY / 64];
        for i in 0..10_000u32 {
            for (w, m) in
                Bloom::spread_probes(words.len(), key_hash_v2(format!("in/{i}").as_bytes()))
            {
                words[w] |= m;
            }
        }
        let bloom = Bloom::Spread(words);
        for i in 0..10_000u32 {
            assert!(asks(&bloom, format!("in/{i}")), "in/{i} missed");
        }
        let admitted = (0..10_000)
            .filter(|i| asks(&bloom, format!("out/{i}")))
            .count();
        assert!(admitted < 250, "{admitted} of 10,000 absent keys admitted");
    }
}
