//! How much one batch request offers: a window that halves to twice what
//! the node took after a refusal and grows back while it takes everything,
//! and a byte cap under the node's body limit.

use super::workload::Prepared;

/// Most txs in one batch request (the API takes up to 10,000).
pub const MAX_BATCH: usize = 5_000;
/// Most bytes of txs in one binary batch request (the node takes binary
/// batches up to 8 MiB): RecordUse txs with thousands of uses are ~250 KB
/// each.
pub const MAX_BATCH_BYTES: usize = 6 << 20;
/// Fewest txs a batch offers after the node refused some (see `window`).
const MIN_WINDOW: usize = 100;

/// The next batch's size after a node took `settled` of the `n` txs
/// offered in a batch of at most `window`: twice what it took after a
/// refusal (at least [`MIN_WINDOW`]), so a busy node is not sent thousands
/// of txs to refuse again, and twice the window while it takes everything.
pub fn next_window(window: usize, settled: usize, n: usize) -> usize {
    if settled < n {
        (settled * 2).clamp(MIN_WINDOW, MAX_BATCH)
    } else {
        (window * 2).clamp(MIN_WINDOW, MAX_BATCH)
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
        assert_eq!(next_window(MAX_BATCH, 300, 5_000), 600);
        assert_eq!(next_window(600, 0, 600), MIN_WINDOW);
        assert_eq!(next_window(MIN_WINDOW, 100, 100), 200);
        assert_eq!(next_window(4_000, 10, 10), MAX_BATCH);
        assert_eq!(next_window(MAX_BATCH, 4_999, 5_000), MAX_BATCH);
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
