//! Writes a [`GenesisFile`] as readable TOML: top-level keys, then `[params]`
//! with every key, then one table per list entry, with short comments.
//!
//! Written by hand rather than through a serializer so the output is laid out
//! for people and writing cannot fail.

use std::fmt::Write;

use crate::file::GenesisFile;

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(crate) fn write(f: &GenesisFile) -> String {
    let mut o = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(
        o,
        "# assent genesis. Every node of the chain must load exactly these values;"
    );
    let _ = writeln!(
        o,
        "# comments and layout do not change the genesis hash, any value does."
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "chain_id = {}", quote(&f.chain_id));
    let _ = writeln!(o, "genesis_time = {}", quote(&f.genesis_time));
    let _ = writeln!(o, "mint_authority = {}", quote(&f.mint_authority));

    let p = &f.params;
    let _ = writeln!(o, "\n[params]");
    let params = [
        (
            "operator_share_bps",
            p.operator_share_bps,
            "  # operators' share of each settled use, in basis points",
        ),
        ("max_block_txs", p.max_block_txs, ""),
        ("max_block_bytes", p.max_block_bytes, ""),
        ("max_tx_bytes", p.max_tx_bytes, ""),
        ("max_uses_per_record", p.max_uses_per_record, ""),
        (
            "proposal_ttl_ms",
            p.proposal_ttl_ms,
            "  # how long a governance proposal stays open",
        ),
    ];
    for (key, value, comment) in params {
        if let Some(v) = value {
            let _ = writeln!(o, "{key} = {v}{comment}");
        }
    }

    for op in &f.operators {
        let _ = writeln!(o, "\n[[operators]]");
        let _ = writeln!(o, "name = {}", quote(&op.name));
        let _ = writeln!(o, "account = {}", quote(&op.account));
    }
    for v in &f.validators {
        let _ = writeln!(o, "\n[[validators]]");
        let _ = writeln!(o, "name = {}", quote(&v.name));
        let _ = writeln!(o, "consensus_key = {}", quote(&v.consensus_key));
        let _ = writeln!(o, "power = {}", v.power);
        let _ = writeln!(o, "p2p_address = {}", quote(&v.p2p_address));
        let _ = writeln!(o, "operator = {}", quote(&v.operator));
    }
    for e in &f.enterprises {
        let _ = writeln!(o, "\n[[enterprises]]");
        let _ = writeln!(o, "name = {}", quote(&e.name));
        let _ = writeln!(o, "account = {}", quote(&e.account));
        let _ = writeln!(o, "sector = {}", quote(&e.sector));
        if let Some(j) = &e.jurisdiction {
            let _ = writeln!(o, "jurisdiction = {}", quote(j));
        }
        if let Some(u) = &e.policy_url {
            let _ = writeln!(o, "policy_url = {}", quote(u));
        }
    }
    for b in &f.balances {
        let _ = writeln!(o, "\n[[balances]]");
        let _ = writeln!(o, "account = {}", quote(&b.account));
        let _ = writeln!(o, "amount = {}", b.amount);
    }
    if let Some(r) = &f.referral {
        let _ = writeln!(
            o,
            "\n[referral]  # the advocacy share: paid to a consumer's referrer out of the operators' share"
        );
        let keys = [
            (
                "share_bps",
                r.share_bps,
                "  # of each of the referred consumer's settled uses",
            ),
            (
                "max_points",
                r.max_points,
                "  # at most this many points per referral (0 = no cap)",
            ),
            (
                "period_ms",
                r.period_ms,
                "  # for this long after the referral (0 = no limit)",
            ),
        ];
        for (key, value, comment) in keys {
            if let Some(v) = value {
                let _ = writeln!(o, "{key} = {v}{comment}");
            }
        }
    }
    o
}
