//! Background work that shares the CPU with the consensus path: busy at
//! most a set share of its wall time, sleeping the rest.
//!
//! Every validator runs the same background work at the same heights (index
//! merges, state snapshots), so where validators share cores it came due on
//! all of them at once and took the cores from consensus for seconds
//! (BENCHMARKS.md). Busy time is wall time: work waiting for a core counts
//! as busy, so under contention it backs off further.

use std::time::{Duration, Instant};

/// Work items between looks at the clock.
const EVERY: u32 = 1024;

/// Tracks one piece of work's busy time and sleeps to keep its share.
#[derive(Debug)]
pub struct Pacer {
    busy_percent: u32,
    started: Instant,
    slept: Duration,
    count: u32,
}

impl Pacer {
    pub fn new(busy_percent: u32) -> Pacer {
        Pacer {
            busy_percent: busy_percent.clamp(1, 100),
            started: Instant::now(),
            slept: Duration::ZERO,
            count: 0,
        }
    }

    /// Called once per work item (an entry, a record); now and then sleeps
    /// until the busy time is within its share of the wall time.
    pub fn tick(&mut self) {
        self.done(1);
    }

    /// [`Pacer::tick`] for `items` work items at once.
    pub fn done(&mut self, items: usize) {
        self.count = self
            .count
            .saturating_add(u32::try_from(items).unwrap_or(u32::MAX));
        if self.count < EVERY {
            return;
        }
        self.count = 0;
        if let Some(wait) = wait(self.started.elapsed(), self.slept, self.busy_percent) {
            std::thread::sleep(wait);
            self.slept += wait;
        }
    }

    /// Time slept so far.
    pub fn slept(&self) -> Duration {
        self.slept
    }
}

/// How long work that has run `wall` and slept `slept` of it must sleep to
/// be busy at most `busy_percent` of its time; `None` when it is within.
fn wait(wall: Duration, slept: Duration, busy_percent: u32) -> Option<Duration> {
    let busy = wall.saturating_sub(slept);
    let due = busy * 100 / busy_percent.clamp(1, 100);
    due.checked_sub(wall).filter(|w| !w.is_zero())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn work_sleeps_until_it_is_within_its_share() {
        let ms = Duration::from_millis;
        // Busy 10 ms of 10 at 25 %: 30 ms more; then within its share.
        assert_eq!(wait(ms(10), ms(0), 25), Some(ms(30)));
        assert_eq!(wait(ms(40), ms(30), 25), None);
        assert_eq!(wait(ms(50), ms(30), 25), Some(ms(30)));
        assert_eq!(wait(ms(10), ms(0), 100), None);
        // A share of 0 is taken as 1 %, not a division by zero.
        assert_eq!(wait(ms(1), ms(0), 0), Some(ms(99)));
    }

    #[test]
    fn a_pacer_sleeps_once_per_batch_of_items() {
        let mut p = Pacer::new(50);
        for _ in 0..EVERY - 1 {
            p.tick();
        }
        assert_eq!(p.slept(), Duration::ZERO, "no look at the clock yet");
        std::hint::black_box((0..200_000u64).sum::<u64>());
        p.tick();
        assert!(p.slept() > Duration::ZERO, "busy, then paced");
    }
}
