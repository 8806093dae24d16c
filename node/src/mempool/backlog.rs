//! Backpressure (issue 13, item 5): the pool admits new client txs only
//! while it holds less than about `backlog_ms` of the commit rate this node
//! measures, so a tx that is admitted waits a bounded time, and a client
//! over the network's capacity hears "slow down" (`429 overloaded` with a
//! `Retry-After`) instead of queueing for minutes. Txs from gossip are not
//! held back: another validator already admitted them.
//!
//! The rate is measured over the blocks committed in the last
//! [`WINDOW`]: committed txs ÷ the time they took. The backlog allowed is
//! `rate × backlog_ms`, but never less than `min_txs` (a block's worth), so
//! an idle chain, whose measured rate is near 0, still takes a burst and
//! blocks stay full under load.
//!
//! The pool keeps two of these rules: one counts txs, the other bytes of
//! txs ([`Backlog::of_bytes`], floor [`MIN_BACKLOG_BYTES`]). A tx's bytes
//! follow its work (a RecordUse of 2,000 uses is ≈ 2,000 times a grant's),
//! so a pool of heavy txs fills by bytes long before it fills by count: by
//! count alone, 1,000 pending RecordUse txs of 2,000 uses each were two
//! minutes of work (BENCHMARKS.md).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back commits count toward the rate.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Longest `Retry-After` given.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Shortest wait given: a client told to wait whole seconds (the
/// `Retry-After` header) would leave the pool empty for most of a second
/// when it holds half a second of work, so answers also carry the wait in
/// milliseconds (`retry_after_ms`), which clients that can use it follow.
pub const MIN_RETRY_AFTER: Duration = Duration::from_millis(100);

/// The byte rule's floor: about a second of heavy txs (a RecordUse of
/// 2,000 uses is ≈ 100 KB and settles in ≈ 0.13 s here).
pub const MIN_BACKLOG_BYTES: usize = 1 << 20;

/// The backlog rule's settings (config `mempool.backlog_ms`,
/// `mempool.min_backlog_txs`, `mempool.min_backlog_mb`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BacklogLimits {
    /// The queue allowed, in milliseconds of the measured commit rate; 0
    /// turns backpressure off (only the pool's hard limits apply).
    pub backlog_ms: u64,
    /// The queue always allowed, in txs.
    pub min_txs: usize,
    /// The queue always allowed, in bytes of txs ([`Backlog::of_bytes`]).
    pub min_bytes: usize,
}

impl Default for BacklogLimits {
    fn default() -> BacklogLimits {
        BacklogLimits {
            backlog_ms: 500,
            min_txs: 2_000,
            min_bytes: MIN_BACKLOG_BYTES,
        }
    }
}

/// Recent commits and the rule they give.
#[derive(Debug)]
pub struct Backlog {
    limits: BacklogLimits,
    /// What it counts, for messages: "txs" or "bytes of txs".
    unit: &'static str,
    /// (when, txs committed) of each block in the window, oldest first.
    commits: VecDeque<(Instant, usize)>,
}

/// "Not now": how long a client should wait before sending again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overloaded {
    pub pending: usize,
    pub allowed: usize,
    pub retry_after: Duration,
    /// What `pending` and `allowed` count: "txs" or "bytes of txs".
    pub unit: &'static str,
}

impl Backlog {
    pub fn new(limits: BacklogLimits) -> Backlog {
        Backlog {
            limits,
            unit: "txs",
            commits: VecDeque::new(),
        }
    }

    /// The same rule counting bytes of txs: `backlog_ms` from `limits`,
    /// floor `limits.min_bytes`.
    pub fn of_bytes(limits: BacklogLimits) -> Backlog {
        Backlog {
            limits: BacklogLimits {
                min_txs: limits.min_bytes,
                ..limits
            },
            unit: "bytes of txs",
            commits: VecDeque::new(),
        }
    }

    pub fn limits(&self) -> BacklogLimits {
        self.limits
    }

    /// A block with `txs` txs committed at `at`.
    pub fn committed(&mut self, at: Instant, txs: usize) {
        self.commits.push_back((at, txs));
        while let Some(&(first, _)) = self.commits.front() {
            if at.saturating_duration_since(first) <= WINDOW || self.commits.len() <= 2 {
                break;
            }
            self.commits.pop_front();
        }
    }

    /// Committed txs per second over the window as of `now`: the txs of
    /// every block after the first ÷ the time from the first to `now`.
    /// 0 until two blocks are known.
    pub fn rate(&self, now: Instant) -> f64 {
        let Some(&(first, _)) = self.commits.front() else {
            return 0.0;
        };
        let span = now.saturating_duration_since(first).as_secs_f64();
        if self.commits.len() < 2 || span <= 0.0 {
            return 0.0;
        }
        let txs: usize = self.commits.iter().skip(1).map(|c| c.1).sum();
        txs as f64 / span
    }

    /// The most txs the pool may hold for new client txs to be admitted.
    pub fn allowed(&self, now: Instant) -> usize {
        let by_rate = self.rate(now) * self.limits.backlog_ms as f64 / 1000.0;
        (by_rate as usize).max(self.limits.min_txs)
    }

    /// How many new client txs may be admitted with `pending` in the pool,
    /// or why none may.
    pub fn room(&self, now: Instant, pending: usize) -> Result<usize, Overloaded> {
        if self.limits.backlog_ms == 0 {
            return Ok(usize::MAX);
        }
        let allowed = self.allowed(now);
        if pending < allowed {
            return Ok(allowed - pending);
        }
        // Long enough for the excess to drain at the measured rate, so the
        // client is back before the pool runs dry; a second when the rate
        // is unknown.
        let rate = self.rate(now);
        let drain = if rate > 0.0 {
            Duration::from_secs_f64(((pending - allowed) as f64 + 1.0) / rate)
        } else {
            Duration::from_secs(1)
        };
        Err(Overloaded {
            pending,
            allowed,
            retry_after: drain.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER),
            unit: self.unit,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits(backlog_ms: u64, min_txs: usize) -> BacklogLimits {
        BacklogLimits {
            backlog_ms,
            min_txs,
            min_bytes: MIN_BACKLOG_BYTES,
        }
    }

    #[test]
    fn an_idle_chain_takes_a_block_s_worth() {
        let b = Backlog::new(limits(500, 1_000));
        let now = Instant::now();
        assert_eq!(b.rate(now), 0.0);
        assert_eq!(b.room(now, 0), Ok(1_000));
        assert_eq!(b.room(now, 999), Ok(1));
        let e = b.room(now, 1_000).unwrap_err();
        assert_eq!((e.pending, e.allowed), (1_000, 1_000));
        assert_eq!(e.retry_after, Duration::from_secs(1));
    }

    #[test]
    fn the_measured_rate_sets_the_backlog() {
        let mut b = Backlog::new(limits(500, 100));
        let t0 = Instant::now();
        // 4,000 txs a second: a block of 2,000 every half second.
        for i in 0..=8u32 {
            b.committed(t0 + Duration::from_millis(500) * i, 2_000);
        }
        let now = t0 + Duration::from_secs(4);
        assert!((b.rate(now) - 4_000.0).abs() < 1.0, "{}", b.rate(now));
        assert_eq!(b.allowed(now), 2_000);
        assert_eq!(b.room(now, 500), Ok(1_500));
        let e = b.room(now, 6_000).unwrap_err();
        // 4,001 over at 4,000/s: about a second.
        assert!(e.retry_after >= Duration::from_secs(1), "{e:?}");
        assert!(e.retry_after < Duration::from_millis(1_100), "{e:?}");
        // Far over: capped.
        let e = b.room(now, 1_000_000).unwrap_err();
        assert_eq!(e.retry_after, MAX_RETRY_AFTER);
    }

    #[test]
    fn old_commits_leave_the_window_and_a_stall_lowers_the_rate() {
        let mut b = Backlog::new(limits(500, 10));
        let t0 = Instant::now();
        for i in 0..100u32 {
            b.committed(t0 + Duration::from_millis(100) * i, 100);
        }
        assert!(b.commits.len() <= 102, "{}", b.commits.len());
        let last = t0 + Duration::from_millis(9_900);
        assert!((b.rate(last) - 1_000.0).abs() < 20.0, "{}", b.rate(last));
        // No block for 10 more seconds: the rate halves, the backlog too.
        let later = last + Duration::from_secs(10);
        assert!(b.rate(later) < 520.0, "{}", b.rate(later));
    }

    #[test]
    fn the_byte_rule_holds_heavy_txs_to_about_a_second_of_work() {
        let mut b = Backlog::of_bytes(limits(500, 1_000));
        let now = Instant::now();
        // Idle: a megabyte, about ten RecordUse txs of 2,000 uses each.
        assert_eq!(b.room(now, 0), Ok(MIN_BACKLOG_BYTES));
        let e = b.room(now, 20 * 100_000).unwrap_err();
        assert_eq!(
            (e.pending, e.allowed, e.unit),
            (2_000_000, MIN_BACKLOG_BYTES, "bytes of txs")
        );
        // 8 MB/s measured: half a second is 4 MB.
        let t0 = now;
        for i in 0..=8u32 {
            b.committed(t0 + Duration::from_millis(500) * i, 4_000_000);
        }
        let later = t0 + Duration::from_secs(4);
        assert_eq!(b.allowed(later), 4_000_000);
        assert_eq!(b.room(later, 3_000_000), Ok(1_000_000));
    }

    #[test]
    fn zero_turns_it_off() {
        let b = Backlog::new(limits(0, 1));
        assert_eq!(b.room(Instant::now(), 10_000_000), Ok(usize::MAX));
    }

    #[test]
    fn a_busy_chain_asks_for_less_than_a_second_so_the_pool_never_runs_dry() {
        let mut b = Backlog::new(limits(500, 100));
        let t0 = Instant::now();
        for i in 1..=10u64 {
            b.committed(t0 + Duration::from_millis(100 * i), 200);
        }
        let now = t0 + Duration::from_secs(1);
        // About 2,000 txs/s: 1,000 allowed; just over it, the wait is the
        // floor, far below the second it takes to drain the pool.
        assert!(b.rate(now) > 1_900.0, "{}", b.rate(now));
        let e = b.room(now, 1_010).unwrap_err();
        assert_eq!(e.retry_after, MIN_RETRY_AFTER);
        // Far over it: long enough for the excess to drain.
        let e = b.room(now, 5_000).unwrap_err();
        assert!(e.retry_after > Duration::from_secs(1) && e.retry_after < Duration::from_secs(3));
    }
}
