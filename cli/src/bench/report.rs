//! The bench's table (for people) and JSON summary (for programs).

use serde_json::{json, Value};

use super::costs::Costs;
use super::driver::RunResult;

fn codes(m: &std::collections::BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table of one run.
pub fn table(r: &RunResult) -> String {
    let rows: Vec<(&str, String)> = vec![
        ("run", r.label.clone()),
        (
            "offered",
            if r.offered_rate == 0 {
                format!("{:.0} tx/s (as fast as accepted)", r.offered_tps())
            } else {
                format!("{:.0} tx/s (target {})", r.offered_tps(), r.offered_rate)
            },
        ),
        (
            "submitted",
            format!("{} txs in {:.1} s", r.submitted, r.submit_secs),
        ),
        (
            "committed",
            format!(
                "{} txs, {:.0} tx/s (first submit to last commit, {:.1} s)",
                r.committed,
                r.committed_tps(),
                r.commit_secs
            ),
        ),
        (
            "latency",
            format!(
                "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms (admitted submission to committed, {} txs)",
                r.percentile_ms(0.5),
                r.percentile_ms(0.9),
                r.percentile_ms(0.99),
                r.percentile_ms(1.0),
                r.latencies_us.len()
            ),
        ),
        (
            "from schedule",
            if r.from_due_us.is_empty() {
                "not measured (no target rate)".into()
            } else {
                format!(
                    "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms (when the target rate made the tx due to committed: waits at the client count)",
                    r.from_due_ms(0.5),
                    r.from_due_ms(0.9),
                    r.from_due_ms(0.99),
                    r.from_due_ms(1.0),
                )
            },
        ),
        ("refused", codes(&r.refused)),
        (
            "backpressure",
            format!(
                "{} refusal(s) `overloaded` waited out (Retry-After) and sent again",
                r.deferred
            ),
        ),
        ("rejected in block", codes(&r.rejected)),
        ("lost", format!("{} (admitted, never committed)", r.lost)),
        (
            "uses settled",
            format!("{} ({:.0} uses/s)", r.uses_settled, r.uses_per_sec()),
        ),
        ("uses rejected", codes(&r.uses_rejected)),
        (
            "blocks",
            format!(
                "{} (heights {}–{}), at most {} of these txs in one block",
                r.blocks, r.first_height, r.last_height, r.max_block_txs
            ),
        ),
    ];
    let mut rows = rows;
    if let Some(c) = &r.costs {
        rows.extend(cost_rows(c));
    }
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("  {k:<w$}  {v}\n"))
        .collect()
}

/// The rows of what the run cost; "not measured" where a figure is null
/// (the notes say why).
fn cost_rows(c: &Costs) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        (
            "validator CPU",
            match (c.validator_cpu_us_per_tx, c.validator_cpu_seconds) {
                (Some(us), Some(s)) => format!(
                    "{us:.0} µs per tx per validator ({} validators sampled, {s:.2} CPU s in all)",
                    c.validators_sampled
                ),
                (None, Some(s)) => format!(
                    "not measured per tx ({} validators sampled, {s:.2} CPU s in all)",
                    c.validators_sampled
                ),
                _ => "not measured".into(),
            },
        ),
        (
            "machine idle",
            match c.machine_idle_pct {
                Some(p) => format!(
                    "{p:.0} % of all cores' CPU over the run (/proc/stat; the bench's own work counts as busy)"
                ),
                None => "not measured".into(),
            },
        ),
        (
            "bytes written",
            match c.bytes_written_per_tx {
                Some(b) => format!("{b:.0} bytes per tx (all validators, /proc/PID/io write_bytes)"),
                None => "not measured".into(),
            },
        ),
        (
            "yardstick",
            match (c.openssl_verify_per_sec, c.r) {
                (Some(v), Some(r)) => format!(
                    "openssl ed25519 {v:.0} verify/s per core; R = {r:.3} (committed tx/s ÷ (verify/s × {} cores ÷ {} validators))",
                    c.cores, c.validators
                ),
                (Some(v), None) => format!("openssl ed25519 {v:.0} verify/s per core"),
                _ => "not measured".into(),
            },
        ),
    ];
    rows.extend(c.notes.iter().map(|n| ("note", n.clone())));
    rows
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `x` to 4 significant digits: R is a small ratio that one decimal would erase.
fn round_sig4(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(3 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// The JSON summary of one run.
pub fn json(r: &RunResult) -> Value {
    let mut v = json!({
        "run": r.label,
        "target_rate": r.offered_rate,
        "submitted": r.submitted,
        "offered_tps": round1(r.offered_tps()),
        "committed": r.committed,
        "committed_tps": round1(r.committed_tps()),
        "submit_secs": round1(r.submit_secs),
        "commit_secs": round1(r.commit_secs),
        "latency_ms": {
            "p50": round1(r.percentile_ms(0.5)),
            "p90": round1(r.percentile_ms(0.9)),
            "p99": round1(r.percentile_ms(0.99)),
            "max": round1(r.percentile_ms(1.0)),
            "samples": r.latencies_us.len(),
        },
        "latency_from_schedule_ms": if r.from_due_us.is_empty() {
            Value::Null
        } else {
            json!({
                "p50": round1(r.from_due_ms(0.5)),
                "p90": round1(r.from_due_ms(0.9)),
                "p99": round1(r.from_due_ms(0.99)),
                "max": round1(r.from_due_ms(1.0)),
            })
        },
        "refused": r.refused,
        "deferred_overloaded": r.deferred,
        "rejected": r.rejected,
        "lost": r.lost,
        "uses_settled": r.uses_settled,
        "uses_settled_per_sec": round1(r.uses_per_sec()),
        "uses_rejected": r.uses_rejected,
        "blocks": r.blocks,
        "heights": [r.first_height, r.last_height],
        "max_block_txs": r.max_block_txs,
    });
    if let (Some(c), Some(m)) = (&r.costs, v.as_object_mut()) {
        let round = |x: Option<f64>, f: fn(f64) -> f64| x.map(f);
        m.insert("validators_sampled".into(), c.validators_sampled.into());
        m.insert(
            "validator_cpu_seconds".into(),
            json!(round(c.validator_cpu_seconds, |x| (x * 1000.0).round() / 1000.0)),
        );
        m.insert(
            "validator_cpu_us_per_tx".into(),
            json!(round(c.validator_cpu_us_per_tx, round1)),
        );
        m.insert(
            "bytes_written_per_tx".into(),
            json!(round(c.bytes_written_per_tx, round1)),
        );
        m.insert(
            "openssl_verify_per_sec".into(),
            json!(round(c.openssl_verify_per_sec, round1)),
        );
        m.insert("cores".into(), c.cores.into());
        m.insert("validators".into(), c.validators.into());
        m.insert("r".into(), json!(round(c.r, round_sig4)));
        m.insert(
            "machine_idle_pct".into(),
            json!(round(c.machine_idle_pct, round1)),
        );
        m.insert("notes".into(), json!(c.notes));
    }
    v
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn measured(costs: Costs) -> RunResult {
        RunResult {
            label: "run".into(),
            committed: 900,
            commit_secs: 3.0,
            costs: Some(costs),
            ..RunResult::default()
        }
    }

    #[test]
    fn bench_report_names_what_the_run_cost() {
        let r = measured(Costs {
            validators_sampled: 4,
            validator_cpu_seconds: Some(2.345_678),
            validator_cpu_us_per_tx: Some(651.577_2),
            bytes_written_per_tx: Some(1_234.56),
            openssl_verify_per_sec: Some(4_959.0),
            cores: 2,
            validators: 4,
            r: Some(0.120_991_3),
            machine_idle_pct: Some(26.37),
            notes: vec![],
        });
        let j = json(&r);
        assert_eq!(j["validators_sampled"], 4);
        assert_eq!(j["validator_cpu_seconds"], 2.346);
        assert_eq!(j["validator_cpu_us_per_tx"], 651.6);
        assert_eq!(j["bytes_written_per_tx"], 1234.6);
        assert_eq!(j["openssl_verify_per_sec"], 4959.0);
        assert_eq!(j["r"], 0.121);
        assert_eq!(j["machine_idle_pct"], 26.4);
        assert_eq!(j["notes"], json!([]));
        let t = table(&r);
        assert!(t.contains("652 µs per tx per validator"), "{t}");
        assert!(t.contains("1235 bytes per tx"), "{t}");
        assert!(t.contains("4959 verify/s per core; R = 0.121"), "{t}");
        assert!(t.contains("26 % of all cores' CPU over the run"), "{t}");
    }

    #[test]
    fn bench_report_unmeasured_costs_are_null_with_their_notes() {
        let r = measured(Costs {
            cores: 2,
            validators: 4,
            notes: vec!["openssl_verify_per_sec and r are null: openssl is not installed".into()],
            ..Costs::default()
        });
        let j = json(&r);
        for k in [
            "validator_cpu_seconds",
            "validator_cpu_us_per_tx",
            "bytes_written_per_tx",
            "openssl_verify_per_sec",
            "r",
            "machine_idle_pct",
        ] {
            assert!(j[k].is_null(), "{k}: {j}");
        }
        assert_eq!(j["notes"].as_array().unwrap().len(), 1);
        let t = table(&r);
        assert!(
            t.contains("not measured") && t.contains("openssl is not installed"),
            "{t}"
        );
        // The setup run has no costs and no such fields.
        let setup = json(&RunResult::default());
        assert!(setup.get("r").is_none() && setup.get("notes").is_none());
        assert_eq!(round_sig4(0.000_012_345_6), 0.000_012_35);
    }
}
