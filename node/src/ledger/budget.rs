//! Blocks sized by time: how much work a block this node proposes may hold.
//!
//! A tx's work is counted in units: one per tx, plus one per use a
//! RecordUse records (a use costs about what a grant does to execute: the
//! `execute_block` bench measures ≈ 5 µs for each on this machine). Every
//! block this node executes — built, validated or recovered — updates a
//! running average of nanoseconds per unit, so the estimate follows the
//! machine, its load and the state's size. The proposer stops adding txs
//! when the block's estimated execution time reaches the budget
//! (`consensus.block_budget_ms`), which keeps a height's build, transfer
//! and re-execution well inside the propose timeout however heavy its txs.
//!
//! The estimate only sizes this node's own proposals; it is not consensus
//! data, and validators never judge a block by it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assent_contracts::{Payload, VerifiedTx};

/// Where the estimate starts before any block was executed: a slow
/// machine's cost, so the first blocks err small.
const INITIAL_NS_PER_UNIT: u64 = 20_000;
/// The estimate stays within these bounds whatever one block measured.
const MIN_NS_PER_UNIT: u64 = 100;
const MAX_NS_PER_UNIT: u64 = 10_000_000;
/// Weight of the newest block in the running average, in 1/16ths.
const NEW_WEIGHT_16THS: u64 = 3;

/// The work units of one tx.
pub fn work(tx: &VerifiedTx) -> u64 {
    match &tx.tx().body.payload {
        Payload::RecordUse(r) => 1 + r.uses.len() as u64,
        _ => 1,
    }
}

/// The running estimate of execution time per work unit.
#[derive(Debug)]
pub struct ExecCost {
    ns_per_unit: AtomicU64,
}

impl Default for ExecCost {
    fn default() -> ExecCost {
        ExecCost {
            ns_per_unit: AtomicU64::new(INITIAL_NS_PER_UNIT),
        }
    }
}

impl ExecCost {
    /// Nanoseconds per work unit, as estimated now.
    pub fn ns_per_unit(&self) -> u64 {
        self.ns_per_unit.load(Ordering::Relaxed)
    }

    /// A block of `units` (its txs' work plus one for the block itself)
    /// took `took` to execute.
    pub fn observe(&self, units: u64, took: Duration) {
        let measured = (took.as_nanos() / u128::from(units.max(1)))
            .clamp(u128::from(MIN_NS_PER_UNIT), u128::from(MAX_NS_PER_UNIT))
            as u64;
        let _ = self
            .ns_per_unit
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(
                    ((old * (16 - NEW_WEIGHT_16THS) + measured * NEW_WEIGHT_16THS) / 16)
                        .clamp(MIN_NS_PER_UNIT, MAX_NS_PER_UNIT),
                )
            });
    }

    /// The most work units a block may hold to execute within `budget`
    /// (at least one, so a tx heavier than the budget still gets a block
    /// of its own).
    pub fn units_within(&self, budget: Duration) -> u64 {
        let units = budget.as_nanos() / u128::from(self.ns_per_unit().max(1));
        u64::try_from(units).unwrap_or(u64::MAX).max(1)
    }
}

/// Txs, and their work units, that a pool holds or a block waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub txs: usize,
    pub work: u64,
}

/// How much longer a proposer waits before it builds its block
/// (ARCHITECTURE decision 16): until `interval` after its last commit, so
/// a loaded network runs fewer, larger heights (each height costs every
/// validator a fixed amount of CPU). At once if `pending` already reaches
/// `full` in txs (a full block: waiting could not make it larger) or in
/// work (the units that take `interval` to execute: the height's fixed cost
/// is already spread over an interval of work, and waiting would only
/// leave the cores idle while the clients are held back).
pub fn pacing_wait(
    since_commit: Duration,
    interval: Duration,
    pending: Load,
    full: Load,
) -> Duration {
    if pending.txs >= full.txs || pending.work >= full.work {
        Duration::ZERO
    } else {
        interval.saturating_sub(since_commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assent_contracts::crypto::Keypair;
    use assent_contracts::tx::{RecordUse, Transfer, Use, UseBasis};
    use assent_contracts::{terms, Amount, Hash32, TxBody};

    fn verified(payload: Payload) -> VerifiedTx {
        let key = Keypair::from_seed([7; 32]);
        TxBody {
            sender: key.account(),
            nonce: 0,
            payload,
        }
        .sign("test", &key)
        .verify("test")
        .expect("signed just now")
    }

    #[test]
    fn a_record_use_weighs_one_plus_its_uses_and_anything_else_one() {
        let consumer = Keypair::from_seed([8; 32]).account();
        let a_use = Use {
            consumer,
            basis: UseBasis::Policy(assent_contracts::PolicyId(Hash32([1; 32]))),
            category: "Purchase".parse().expect("a standard category"),
            purpose: "DirectMarketing".parse().expect("a standard purpose"),
            level: terms::Level::Pseudonymous,
            units: 1,
            evidence_hash: Hash32([9; 32]),
        };
        let uses = verified(Payload::RecordUse(RecordUse {
            uses: vec![a_use; 2_000],
        }));
        assert_eq!(work(&uses), 2_001);
        let transfer = verified(Payload::Transfer(Transfer {
            to: consumer,
            amount: Amount(1),
        }));
        assert_eq!(work(&transfer), 1);
    }

    #[test]
    fn the_estimate_follows_what_blocks_measure_and_sizes_the_budget() {
        let c = ExecCost::default();
        let budget = Duration::from_millis(250);
        // Before any block: the slow machine's cost.
        assert_eq!(c.units_within(budget), 12_500);
        // Blocks at 5 µs per unit pull the estimate down to about that.
        for _ in 0..60 {
            c.observe(10_000, Duration::from_millis(50));
        }
        let ns = c.ns_per_unit();
        assert!((5_000..5_100).contains(&ns), "{ns} ns per unit");
        let units = c.units_within(budget);
        assert!((49_000..=50_000).contains(&units), "{units} units");
        // A machine that slows down (or a state that grew) shrinks blocks.
        for _ in 0..60 {
            c.observe(1_000, Duration::from_millis(50));
        }
        assert!(
            c.units_within(budget) <= 5_100,
            "{}",
            c.units_within(budget)
        );
    }

    #[test]
    fn absurd_measurements_stay_bounded_and_one_unit_always_fits() {
        let c = ExecCost::default();
        c.observe(0, Duration::from_secs(3_600));
        for _ in 0..200 {
            c.observe(1, Duration::from_secs(3_600));
        }
        // The running average reaches the bound to within its rounding.
        assert!(
            c.ns_per_unit() > MAX_NS_PER_UNIT / 100 * 99,
            "{}",
            c.ns_per_unit()
        );
        assert!(c.ns_per_unit() <= MAX_NS_PER_UNIT);
        assert_eq!(c.units_within(Duration::from_millis(1)), 1);
        for _ in 0..200 {
            c.observe(u64::MAX, Duration::ZERO);
        }
        assert!((MIN_NS_PER_UNIT..=MIN_NS_PER_UNIT + 10).contains(&c.ns_per_unit()));
    }

    #[test]
    fn a_proposer_waits_out_the_interval_unless_a_full_block_or_an_interval_of_work_waits() {
        let ms = Duration::from_millis;
        let load = |txs, work| Load { txs, work };
        let full = load(2_000, 8_000);
        // (ms since the last commit, interval, pending, ms to wait, why)
        let cases = [
            (30, 100, load(700, 2_100), 70, "a few txs: the rest"),
            (0, 100, load(0, 0), 100, "empty blocks are paced too"),
            (150, 100, load(5, 5), 0, "the interval is over"),
            (1, 100, load(2_000, 2_000), 0, "a full block waits"),
            (1, 100, load(9_000, 9_000), 0, "more than a full block"),
            (1, 100, load(4, 8_004), 0, "an interval of work waits"),
            (1, 100, load(3, 7_999), 99, "just under it"),
            (0, 0, load(0, 0), 0, "no interval configured"),
        ];
        for (since, interval, pending, wait, why) in cases {
            assert_eq!(
                pacing_wait(ms(since), ms(interval), pending, full),
                ms(wait),
                "{why}"
            );
        }
    }
}
