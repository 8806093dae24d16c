//! Blocks checked ahead of execution, in any order, handed out in order.
//!
//! The checker threads, and the executing thread while its next block is
//! not checked yet, each take the lowest height nobody has taken, at most
//! `reach` past the one executing (which bounds the blocks held). So the
//! executing thread checks a block itself instead of idling, and a replay
//! whose signature checks are its bound uses every core for them.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::{block_err, ReplayError};

/// Checks one height.
type Check<'f, T> = &'f (dyn Fn(u64) -> Result<T, ReplayError> + Sync);

pub(super) struct Ahead<'f, T> {
    check: Check<'f, T>,
    to: u64,
    reach: u64,
    state: Mutex<State<T>>,
    changed: Condvar,
}

struct State<T> {
    /// The lowest height nobody has taken.
    next: u64,
    executing: u64,
    checked: BTreeMap<u64, Result<T, ReplayError>>,
    /// Set when the replay ends (done or failed): nothing more is taken.
    stop: bool,
}

/// A height taken for checking. Its result is put back, or an error if
/// the check never finished (its thread panicked), so the executing
/// thread never waits for it forever.
struct Taken<'a, 'f, T> {
    ahead: &'a Ahead<'f, T>,
    h: u64,
    done: bool,
}

impl<T> Taken<'_, '_, T> {
    fn check(mut self) {
        let r = (self.ahead.check)(self.h);
        self.ahead.put(self.h, r);
        self.done = true;
    }
}

impl<T> Drop for Taken<'_, '_, T> {
    fn drop(&mut self) {
        if !self.done {
            let why = "the signature checker stopped";
            self.ahead.put(self.h, Err(block_err(self.h, why)));
        }
    }
}

/// Ends the checkers when dropped.
pub(super) struct StopOnDrop<'a, 'f, T>(&'a Ahead<'f, T>);

impl<T> Drop for StopOnDrop<'_, '_, T> {
    fn drop(&mut self) {
        self.0.lock().stop = true;
        self.0.changed.notify_all();
    }
}

impl<'f, T> Ahead<'f, T> {
    /// Heights `1..=to`, checked by `check`, at most `reach` ahead.
    pub fn new(to: u64, reach: u64, check: Check<'f, T>) -> Ahead<'f, T> {
        Ahead {
            check,
            to,
            reach,
            state: Mutex::new(State {
                next: 1,
                executing: 1,
                checked: BTreeMap::new(),
                stop: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'g>(&self, g: MutexGuard<'g, State<T>>) -> MutexGuard<'g, State<T>> {
        self.changed.wait(g).unwrap_or_else(PoisonError::into_inner)
    }

    fn take<'a>(&'a self, s: &mut State<T>) -> Option<Taken<'a, 'f, T>> {
        if s.stop || s.next > self.to || s.next > s.executing.saturating_add(self.reach) {
            return None;
        }
        s.next += 1;
        Some(Taken {
            ahead: self,
            h: s.next - 1,
            done: false,
        })
    }

    fn put(&self, h: u64, r: Result<T, ReplayError>) {
        self.lock().checked.insert(h, r);
        self.changed.notify_all();
    }

    /// Stops the checkers when the returned guard is dropped (also by a
    /// panic), so a scope that joins them does not wait forever.
    pub fn stop_on_drop(&self) -> StopOnDrop<'_, 'f, T> {
        StopOnDrop(self)
    }

    /// A checker thread: checks heights until none is left or the replay ends.
    pub fn checker(&self) {
        loop {
            let mut s = self.lock();
            let taken = loop {
                if s.stop || s.next > self.to {
                    return;
                }
                match self.take(&mut s) {
                    Some(t) => break t,
                    None => s = self.wait(s),
                }
            };
            drop(s);
            taken.check();
        }
    }

    /// Height `h` checked, as the next to execute (heights are asked for
    /// in order). While it is not ready, this thread checks the next
    /// height nobody has taken.
    pub fn block(&self, h: u64) -> Result<T, ReplayError> {
        let mut s = self.lock();
        s.executing = h;
        self.changed.notify_all();
        loop {
            if let Some(r) = s.checked.remove(&h) {
                return r;
            }
            match self.take(&mut s) {
                Some(t) => {
                    drop(s);
                    t.check();
                    s = self.lock();
                }
                None => s = self.wait(s),
            }
        }
    }

    /// How many checked heights wait to be executed.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock().checked.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Runs heights `1..=to` through `checkers` threads and the executing
    /// one, as a replay does; returns what each height gave, in order.
    fn run(
        to: u64,
        reach: u64,
        checkers: usize,
        check: &(dyn Fn(u64) -> Result<u64, ReplayError> + Sync),
        most_held: &AtomicUsize,
    ) -> Vec<Result<u64, String>> {
        let ahead = Ahead::new(to, reach, check);
        std::thread::scope(|s| {
            let _stop = ahead.stop_on_drop();
            for _ in 0..checkers {
                s.spawn(|| ahead.checker());
            }
            (1..=to)
                .map(|h| {
                    most_held.fetch_max(ahead.held(), Ordering::Relaxed);
                    ahead.block(h).map_err(|e| e.to_string())
                })
                .collect()
        })
    }

    #[test]
    fn heights_come_out_in_order_whoever_checked_them() {
        for checkers in [0, 1, 3] {
            let by_executor = AtomicUsize::new(0);
            let executor = std::thread::current().id();
            let check = |h: u64| {
                if std::thread::current().id() == executor {
                    by_executor.fetch_add(1, Ordering::Relaxed);
                }
                // Uneven work, so checks finish out of order.
                let spin = (h % 7) * 20_000;
                let x = (0..spin).fold(h, |a, i| a.wrapping_mul(31).wrapping_add(i));
                std::hint::black_box(x);
                Ok(h * 10)
            };
            let most_held = AtomicUsize::new(0);
            let got = run(300, 6, checkers, &check, &most_held);
            let want: Vec<Result<u64, String>> = (1..=300).map(|h| Ok(h * 10)).collect();
            assert_eq!(got, want, "{checkers} checkers");
            // Never more checked and waiting than the reach allows (plus
            // the ones in flight when the executing height moved on).
            let held = most_held.load(Ordering::Relaxed);
            assert!(
                held <= 6 + 1 + checkers,
                "{held} held with {checkers} checkers"
            );
            if checkers == 0 {
                assert_eq!(by_executor.load(Ordering::Relaxed), 300);
            }
        }
    }

    #[test]
    fn a_failed_height_is_reported_at_that_height_and_ends_the_checkers() {
        let check = |h: u64| {
            if h == 57 {
                Err(block_err(h, "tx 00ab has a bad signature"))
            } else {
                Ok(h)
            }
        };
        let ahead = Ahead::new(200, 8, &check);
        let first_error = std::thread::scope(|s| {
            let _stop = ahead.stop_on_drop();
            for _ in 0..2 {
                s.spawn(|| ahead.checker());
            }
            (1..=200).find_map(|h| ahead.block(h).err().map(|e| (h, e.to_string())))
        });
        assert_eq!(
            first_error,
            Some((57, "block 57: tx 00ab has a bad signature".to_string()))
        );
        // The checkers stopped near the failure instead of checking the rest.
        assert!(ahead.lock().next <= 57 + 8 + 1 + 2, "{}", ahead.lock().next);
    }

    #[test]
    fn a_checker_that_panics_is_an_error_not_a_hang() {
        let check = |h: u64| {
            if h == 5 {
                panic!("a bug in a check");
            }
            Ok(h)
        };
        let ahead = Ahead::new(20, 4, &check);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::thread::scope(|s| {
                let _stop = ahead.stop_on_drop();
                s.spawn(|| ahead.checker());
                (1..=20).find_map(|h| ahead.block(h).err().map(|e| (h, e.to_string())))
            })
        }));
        // Either the executing thread met the failed height, or it checked
        // height 5 itself and panicked: never a wait without end. The
        // scope re-raises a checker's panic once everything is joined.
        assert!(outcome.is_err(), "the panic was swallowed: {outcome:?}");
        let s = ahead.lock();
        assert!(s.stop, "the checkers were not stopped");
    }
}
