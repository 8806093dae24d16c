//! How much one batch request offers: a window, in txs and in bytes, that
//! shrinks to twice what the node took after a refusal and grows back while
//! it takes everything, under a byte cap below the node's body limit.

use super::workload::Prepared;

/// Most txs in one batch request (the API takes up to 10,000).
pub const MAX_BATCH: usize = 5_000;
/// Most bytes of txs in one binary batch request (the node takes binary
/// batches up to 8 MiB): RecordUse txs with thousands of uses are ~250 KB
/// each.
pub const MAX_BATCH_BYTES: usize = 6 << 20;
/// Fewest txs a batch offers after the node refused some (see `window`).
const MIN_WINDOW: usize = 100;

/// Fewest bytes a batch offers after the node refused some: two heavy
/// RecordUse txs (see `Window`).
const MIN_WINDOW_BYTES: usize = 512 << 10;

/// How much the next batch request may offer, in txs and in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub txs: usize,
    pub bytes: usize,
}

impl Window {
    pub const FULL: Window = Window {
        txs: MAX_BATCH,
        bytes: MAX_BATCH_BYTES,
    };

    /// The next window after a node took `settled` txs (`settled_bytes`
    /// of them) of the `n` offered: twice what it took after a refusal (at
    /// least [`MIN_WINDOW`] txs and [`MIN_WINDOW_BYTES`]), so a busy node is
    /// not sent thousands of txs, or megabytes, to refuse again; and twice
    /// the window while it takes everything.
    pub fn next(self, settled: usize, settled_bytes: usize, n: usize) -> Window {
        if settled < n {
            Window {
                txs: (settled * 2).clamp(MIN_WINDOW, MAX_BATCH),
                bytes: (settled_bytes * 2).clamp(MIN_WINDOW_BYTES, MAX_BATCH_BYTES),
            }
        } else {
            Window {
                txs: (self.txs * 2).clamp(MIN_WINDOW, MAX_BATCH),
                bytes: (self.bytes * 2).clamp(MIN_WINDOW_BYTES, MAX_BATCH_BYTES),
            }
        }
    }
}

/// How many of `txs` (at least one, if any) fit in `cap` bytes of batch
/// (each tx with its length prefix).
pub fn fitting(txs: &[(u32, &Prepared)], cap: usize) -> usize {
    let mut bytes = 0usize;
    let fit = txs
        .iter()
        .take_while(|(_, p)| {
            bytes += p.bytes.len() + 9;
            bytes <= cap
        })
        .count();
    fit.max(txs.len().min(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::workload::{Kind, Prepared};

    #[test]
    fn a_refusal_shrinks_the_next_batch_to_twice_what_was_taken_and_success_grows_it_back() {
        let w = |txs, bytes| Window { txs, bytes };
        let full = Window::FULL;
        assert_eq!(full.next(300, 90_000, 5_000), w(600, MIN_WINDOW_BYTES));
        assert_eq!(
            w(600, 1 << 20).next(0, 0, 600),
            w(MIN_WINDOW, MIN_WINDOW_BYTES)
        );
        assert_eq!(
            w(MIN_WINDOW, 1 << 20).next(100, 30_000, 100),
            w(200, 2 << 20)
        );
        assert_eq!(w(4_000, 4 << 20).next(10, 3_000, 10), full);
        assert_eq!(
            full.next(4_999, MAX_BATCH_BYTES - 300, 5_000).txs,
            MAX_BATCH
        );
        // Heavy txs: a node that took 3 of 24 (750 KB) is offered 1.5 MB next.
        assert_eq!(full.next(3, 750_000, 24), w(MIN_WINDOW, 1_500_000));
    }

    #[test]
    fn a_batch_of_large_txs_stays_under_the_byte_cap_and_never_empty() {
        let tx = |bytes: usize| Prepared {
            kind: Kind::RecordUse,
            id: String::new(),
            bytes: vec![0xab; bytes],
            node: 0,
            uses: 2_000,
        };
        let big: Vec<Prepared> = (0..10).map(|_| tx(400_000)).collect();
        let items: Vec<(u32, &Prepared)> = big.iter().map(|p| (0, p)).collect();
        assert_eq!(fitting(&items, 1_000_000), 2);
        assert_eq!(fitting(&items, 100), 1, "one tx over the cap is still sent");
        assert_eq!(fitting(&items[..0], 100), 0);
        assert_eq!(fitting(&items, MAX_BATCH_BYTES), 10);
    }
}
