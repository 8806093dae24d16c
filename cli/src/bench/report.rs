//! The bench's table (for people) and JSON summary (for programs).

use serde_json::{json, Value};

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
                "p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms (submit to committed, {} txs)",
                r.percentile_ms(0.5),
                r.percentile_ms(0.9),
                r.percentile_ms(0.99),
                r.percentile_ms(1.0),
                r.latencies_us.len()
            ),
        ),
        ("refused", codes(&r.refused)),
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
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(k, v)| format!("  {k:<w$}  {v}\n"))
        .collect()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The JSON summary of one run.
pub fn json(r: &RunResult) -> Value {
    json!({
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
        "refused": r.refused,
        "rejected": r.rejected,
        "lost": r.lost,
        "uses_settled": r.uses_settled,
        "uses_settled_per_sec": round1(r.uses_per_sec()),
        "uses_rejected": r.uses_rejected,
        "blocks": r.blocks,
        "heights": [r.first_height, r.last_height],
        "max_block_txs": r.max_block_txs,
    })
}
