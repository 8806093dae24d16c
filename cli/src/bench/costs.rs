//! What the measured run cost the validators: CPU time and bytes written,
//! from `/proc` samples taken when the run starts and after it drains; how
//! much of the machine's CPU stayed idle meanwhile (so a reader sees
//! whether the run was bound by the cores or by something else); and the
//! run's throughput against the machine's signature-verify yardstick.
//!
//! A validator that exited or was replaced between the two samples is left
//! out of the sums with a note: its counters restarted, so any delta would
//! be wrong. Every figure that could not be measured is `None` with a note
//! saying why, never a zero.

use std::path::Path;
use std::time::{Duration, Instant};

use assent_genesis::Genesis;

use super::proc::{self, MachineTicks, Stat, Validator};
use super::yardstick::YardstickError;

/// The counters of one validator at one moment.
#[derive(Clone, Debug)]
pub struct Sample {
    pub stat: Result<Stat, String>,
    pub write_bytes: Result<u64, String>,
}

impl Sample {
    pub fn take(pid: u32) -> Sample {
        Sample {
            stat: proc::read_stat(pid),
            write_bytes: proc::read_write_bytes(pid),
        }
    }
}

/// Samples taken at the start of the measured run.
#[derive(Debug)]
pub struct Probe {
    validators: Vec<Validator>,
    start: Vec<Sample>,
    machine_start: Result<MachineTicks, String>,
    ticks_per_sec: u64,
    started: Instant,
    notes: Vec<String>,
}

impl Probe {
    /// Finds the devnet's validators and samples them; call right before the run.
    pub fn start(dir: &Path, genesis: &Genesis) -> Probe {
        let found = proc::find_validators(dir, genesis);
        let ticks_per_sec = proc::clock_ticks_per_sec();
        let start = found
            .validators
            .iter()
            .map(|v| Sample::take(v.pid))
            .collect();
        Probe {
            validators: found.validators,
            start,
            machine_start: proc::read_machine_ticks(),
            ticks_per_sec,
            started: Instant::now(),
            notes: found.notes,
        }
    }

    /// Samples again; call right after the run drained.
    pub fn finish(self) -> Usage {
        let end: Vec<Sample> = self
            .validators
            .iter()
            .map(|v| Sample::take(v.pid))
            .collect();
        let mut u = usage(
            &self.validators,
            &self.start,
            &end,
            self.ticks_per_sec,
            self.started.elapsed(),
        );
        let mut notes = self.notes;
        notes.append(&mut u.notes);
        match idle_pct(&self.machine_start, &proc::read_machine_ticks()) {
            Ok(pct) => u.machine_idle_pct = Some(pct),
            Err(e) => notes.push(format!("machine_idle_pct is null: {e}")),
        }
        u.notes = notes;
        u
    }
}

/// The share of the machine's CPU time (all cores) that was idle between
/// two samples of `/proc/stat`, in percent.
pub fn idle_pct(
    start: &Result<MachineTicks, String>,
    end: &Result<MachineTicks, String>,
) -> Result<f64, String> {
    let (a, b) = match (start, end) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err(e.clone()),
    };
    let total = b.total.checked_sub(a.total).filter(|t| *t > 0);
    let idle = b.idle.checked_sub(a.idle);
    match (total, idle) {
        (Some(t), Some(i)) if i <= t => Ok(i as f64 * 100.0 / t as f64),
        _ => Err(format!(
            "/proc/stat did not advance between the samples ({a:?} then {b:?})"
        )),
    }
}

/// The validators' counters over the run.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    /// Validators whose CPU time is in `cpu_us`.
    pub sampled: usize,
    /// utime + stime of the sampled validators, in microseconds.
    pub cpu_us: u64,
    /// `write_bytes` of the sampled validators; `None` if any could not be read.
    pub write_bytes: Option<u64>,
    /// From the first sample to the last.
    pub wall: Duration,
    /// The machine's idle CPU over the run, all cores, in percent.
    pub machine_idle_pct: Option<f64>,
    pub notes: Vec<String>,
}

/// The deltas between two samples of each validator.
pub fn usage(
    validators: &[Validator],
    start: &[Sample],
    end: &[Sample],
    ticks_per_sec: u64,
    wall: Duration,
) -> Usage {
    let mut u = Usage {
        wall,
        write_bytes: Some(0),
        ..Usage::default()
    };
    let mut ticks = 0u64;
    let mut io_error: Option<String> = None;
    for ((v, a), b) in validators.iter().zip(start).zip(end) {
        let left_out = |why: String| {
            format!(
                "{} (pid {}) {why}: left out of validator CPU and bytes written",
                v.name, v.pid
            )
        };
        let (sa, sb) = match (&a.stat, &b.stat) {
            (Ok(sa), Ok(sb)) => (sa, sb),
            (Err(e), _) => {
                u.notes
                    .push(left_out(format!("could not be sampled at the start ({e})")));
                continue;
            }
            (_, Err(_)) => {
                u.notes.push(left_out("exited during the run".into()));
                continue;
            }
        };
        if sa.start_time != sb.start_time || sb.cpu_ticks() < sa.cpu_ticks() {
            u.notes.push(left_out(
                "was replaced during the run (its start time changed)".into(),
            ));
            continue;
        }
        u.sampled += 1;
        ticks += sb.cpu_ticks() - sa.cpu_ticks();
        match (&a.write_bytes, &b.write_bytes) {
            (Ok(wa), Ok(wb)) => {
                u.write_bytes = u.write_bytes.map(|w| w + wb.saturating_sub(*wa));
            }
            (Err(e), _) | (_, Err(e)) => {
                io_error.get_or_insert_with(|| e.clone());
            }
        }
    }
    u.cpu_us = (ticks as u128 * 1_000_000 / ticks_per_sec.max(1) as u128) as u64;
    if let Some(e) = io_error {
        u.write_bytes = None;
        u.notes.push(format!("bytes_written_per_tx is null: {e}"));
    }
    if u.sampled == 0 {
        u.write_bytes = None;
    }
    u
}

/// What the report shows of the run's cost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Costs {
    pub validators_sampled: usize,
    /// CPU seconds of the sampled validators over the run.
    pub validator_cpu_seconds: Option<f64>,
    /// CPU µs per committed tx per sampled validator.
    pub validator_cpu_us_per_tx: Option<f64>,
    /// Bytes the sampled validators sent to storage, per committed tx (all validators together).
    pub bytes_written_per_tx: Option<f64>,
    /// Ed25519 verifies per second on one core (`openssl speed`).
    pub openssl_verify_per_sec: Option<f64>,
    /// Cores of this machine, shared by the validators.
    pub cores: usize,
    /// Validators of the chain (sharing those cores).
    pub validators: usize,
    /// committed tx/s ÷ (verify/s × cores ÷ validators): the share of each
    /// validator's signature-checking budget the committed load used.
    pub r: Option<f64>,
    /// The machine's idle CPU over the run, all cores, in percent (the
    /// bench's own work counts as busy): well above zero means the run was
    /// bound by something other than the cores.
    pub machine_idle_pct: Option<f64>,
    pub notes: Vec<String>,
}

/// The report's figures, from the run's counters and the yardstick.
pub fn costs(
    usage: Usage,
    committed: usize,
    committed_tps: f64,
    yardstick: Result<f64, YardstickError>,
    cores: usize,
    validators: usize,
) -> Costs {
    let mut notes = usage.notes;
    let has_txs = committed > 0;
    if !has_txs {
        notes.push("no tx was committed: the per-tx figures are null".into());
    }
    if usage.sampled == 0 {
        notes.push("no validator was sampled: validator CPU and bytes written are null".into());
    }
    let sampled = usage.sampled > 0;
    let per_tx = |x: f64| has_txs.then(|| x / committed as f64);
    let verify = match yardstick {
        Ok(v) => Some(v),
        Err(e) => {
            notes.push(format!("openssl_verify_per_sec and r are null: {e}"));
            None
        }
    };
    let budget = verify.map(|v| v * cores as f64 / validators.max(1) as f64);
    let r = budget.filter(|b| *b > 0.0).map(|b| committed_tps / b);
    Costs {
        validators_sampled: usage.sampled,
        validator_cpu_seconds: sampled.then(|| usage.cpu_us as f64 / 1e6),
        validator_cpu_us_per_tx: if sampled {
            per_tx(usage.cpu_us as f64 / usage.sampled as f64)
        } else {
            None
        },
        bytes_written_per_tx: usage.write_bytes.and_then(|b| per_tx(b as f64)),
        openssl_verify_per_sec: verify,
        cores,
        validators,
        r,
        machine_idle_pct: usage.machine_idle_pct,
        notes,
    }
}

/// Cores this process may run on (what the validators share on a devnet).
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn v(i: u32) -> Validator {
        Validator {
            name: format!("node-{i}"),
            pid: 100 + i,
        }
    }

    fn s(ticks: u64, start_time: u64, written: u64) -> Sample {
        Sample {
            stat: Ok(Stat {
                comm: "assentd".into(),
                utime: ticks - ticks / 4,
                stime: ticks / 4,
                start_time,
            }),
            write_bytes: Ok(written),
        }
    }

    fn gone() -> Sample {
        Sample {
            stat: Err("cannot read /proc/103/stat: No such file or directory".into()),
            write_bytes: Err("cannot read /proc/103/io: No such file or directory".into()),
        }
    }

    #[test]
    fn bench_costs_sum_deltas_and_leave_out_dead_or_replaced_validators() {
        let vs = [v(0), v(1), v(2), v(3)];
        let start = [s(1000, 7, 0), s(2000, 7, 10), s(3000, 7, 0), s(50, 7, 0)];
        // node-2 was restarted under the same pid; node-3 exited.
        let end = [s(1400, 7, 4096), s(2600, 7, 8202), s(10, 9, 0), gone()];
        let u = usage(&vs, &start, &end, 100, Duration::from_secs(5));
        assert_eq!(u.sampled, 2);
        assert_eq!(u.cpu_us, 10_000_000); // 1,000 ticks at 100 Hz
        assert_eq!(u.write_bytes, Some(4096 + 8192));
        assert_eq!(u.notes.len(), 2, "{:?}", u.notes);
        assert!(u.notes[0].starts_with("node-2 (pid 102) was replaced"));
        assert!(u.notes[1].starts_with("node-3 (pid 103) exited"));

        let c = costs(u, 500, 100.0, Ok(5000.0), 2, 4);
        assert_eq!(c.validators_sampled, 2);
        assert_eq!(c.validator_cpu_seconds, Some(10.0));
        // 10 s of CPU over 2 validators and 500 txs.
        assert_eq!(c.validator_cpu_us_per_tx, Some(10_000.0));
        assert_eq!(c.bytes_written_per_tx, Some(12288.0 / 500.0));
        // 100 tx/s ÷ (5,000 verify/s × 2 cores ÷ 4 validators).
        assert_eq!(c.r, Some(0.04));
        assert_eq!(c.notes.len(), 2);
    }

    #[test]
    fn bench_costs_unreadable_io_or_missing_openssl_are_null_with_a_note() {
        let vs = [v(0)];
        let mut a = s(100, 1, 0);
        a.write_bytes = Err("cannot read /proc/100/io: Permission denied".into());
        let u = usage(&vs, &[a], &[s(300, 1, 0)], 100, Duration::from_secs(1));
        assert_eq!(u.sampled, 1);
        assert_eq!(u.write_bytes, None);
        let c = costs(u, 10, 10.0, Err(YardstickError::NotInstalled), 2, 1);
        assert_eq!(c.validator_cpu_us_per_tx, Some(200_000.0));
        assert_eq!(c.bytes_written_per_tx, None);
        assert_eq!((c.openssl_verify_per_sec, c.r), (None, None));
        assert!(c.notes[0].contains("Permission denied"), "{:?}", c.notes);
        assert!(
            c.notes[1].contains("openssl is not installed"),
            "{:?}",
            c.notes
        );
    }

    #[test]
    fn bench_idle_share_is_the_idle_ticks_over_all_ticks_or_an_error() {
        let t = |idle, total| Ok(MachineTicks { idle, total });
        assert_eq!(idle_pct(&t(1_000, 4_000), &t(1_300, 5_000)), Ok(30.0));
        assert_eq!(idle_pct(&t(1_000, 4_000), &t(1_000, 4_200)), Ok(0.0));
        // No time passed, or the counters went back: no figure.
        assert!(idle_pct(&t(1_000, 4_000), &t(1_000, 4_000)).is_err());
        assert!(idle_pct(&t(1_000, 4_000), &t(900, 5_000)).is_err());
        let unread: Result<MachineTicks, String> = Err("cannot read /proc/stat".into());
        assert_eq!(
            idle_pct(&unread, &t(1, 2)),
            Err("cannot read /proc/stat".into())
        );
        // The share reaches the report's figures.
        let u = Usage {
            machine_idle_pct: Some(30.0),
            ..Usage::default()
        };
        let c = costs(u, 1, 1.0, Err(YardstickError::Skipped), 2, 4);
        assert_eq!(c.machine_idle_pct, Some(30.0));
    }

    #[test]
    fn bench_costs_with_nothing_sampled_or_committed_are_null_not_zero() {
        let u = usage(&[], &[], &[], 100, Duration::from_secs(1));
        let c = costs(u, 0, 0.0, Err(YardstickError::Skipped), 2, 4);
        assert_eq!(c.validators_sampled, 0);
        assert_eq!(c.validator_cpu_seconds, None);
        assert_eq!(c.validator_cpu_us_per_tx, None);
        assert_eq!(c.bytes_written_per_tx, None);
        assert_eq!(c.r, None);
        assert_eq!(c.notes.len(), 3, "{:?}", c.notes);
    }
}
