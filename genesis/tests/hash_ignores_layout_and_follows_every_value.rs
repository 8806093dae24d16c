//! The genesis hash covers values, not text: reformatting, comments, key order
//! and spelling variants keep it; changing any value changes it. Writing a
//! genesis back out gives the same genesis.

// Tests fail by panicking; the workspace's no-panic lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use assent_genesis::Genesis;
use common::{edit, example, key};

fn hash_of(text: &str) -> assent_contracts::Hash32 {
    Genesis::from_toml_str(text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .hash()
}

#[test]
fn reformatting_keeps_the_hash() {
    let original = example("four-validators.toml");
    let h = hash_of(&original);

    // No comments, no blank lines, extra spaces.
    let stripped: String = original
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim_end())
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{}\n", l.replace(" = ", "   =   ")))
        .collect();
    assert_eq!(hash_of(&stripped), h);

    // Written back by the crate (all params spelled out, its own comments).
    let g = Genesis::from_toml_str(&original).expect("valid");
    assert_eq!(hash_of(&g.to_toml_string()), h);

    // Params as an inline table in another key order; bare date-time;
    // sector in capitals; key order inside a table swapped.
    let params_start = original.find("[params]").expect("params");
    let params_end = original.find("[[operators]]").expect("operators");
    let mut reordered = format!(
        "{}params = {{ proposal_ttl_ms = 604800000, max_uses_per_record = 4096, max_tx_bytes = 262144, \
         max_block_bytes = 4194304, max_block_txs = 20000, operator_share_bps = 1000 }}\n\n{}",
        &original[..params_start],
        &original[params_end..]
    );
    reordered = edit(
        &reordered,
        "\"2026-11-22T00:00:00Z\"",
        "2026-11-22T00:00:00Z",
    );
    reordered = edit(&reordered, "sector = \"retail\"", "sector = \"Retail\"");
    reordered = edit(&reordered, "name = \"Bluebird Bank\"\n", "");
    reordered = edit(
        &reordered,
        "sector = \"finance\"",
        "sector = \"finance\"\nname = \"Bluebird Bank\"",
    );
    assert_eq!(hash_of(&reordered), h);

    // Parameters equal to the defaults may be left out.
    let defaults_omitted = format!("{}{}", &original[..params_start], &original[params_end..]);
    assert_eq!(hash_of(&defaults_omitted), h);

    // Power 1 is the default.
    assert_eq!(hash_of(&original.replace("power = 1\n", "")), h);
}

#[test]
fn every_value_changes_the_hash() {
    let base = example("four-validators.toml");
    let variants: Vec<(&str, String)> = vec![
        (
            "chain_id",
            edit(&base, "\"assent-devnet-1\"", "\"assent-devnet-2\""),
        ),
        ("genesis_time", edit(&base, "00:00:00Z", "00:00:00.001Z")),
        (
            "mint_authority",
            edit(&base, &key(1).to_string(), &key(12).to_string()),
        ),
        (
            "operator_share_bps",
            edit(
                &base,
                "operator_share_bps = 1000",
                "operator_share_bps = 1001",
            ),
        ),
        (
            "max_block_txs",
            edit(&base, "max_block_txs = 20000", "max_block_txs = 20001"),
        ),
        (
            "max_block_bytes",
            edit(
                &base,
                "max_block_bytes = 4194304",
                "max_block_bytes = 4194303",
            ),
        ),
        (
            "max_tx_bytes",
            edit(&base, "max_tx_bytes = 262144", "max_tx_bytes = 262145"),
        ),
        (
            "max_uses_per_record",
            edit(
                &base,
                "max_uses_per_record = 4096",
                "max_uses_per_record = 4097",
            ),
        ),
        (
            "proposal_ttl_ms",
            edit(
                &base,
                "proposal_ttl_ms = 604800000",
                "proposal_ttl_ms = 604800001",
            ),
        ),
        (
            "operator name",
            edit(&base, "\"University Lab\"", "\"University Lab.\""),
        ),
        (
            "validator name",
            edit(&base, "\"validator-3\"", "\"validator-9\""),
        ),
        (
            "validator key",
            edit(&base, &key(9).to_string(), &key(12).to_string()),
        ),
        ("validator power", edit(&base, "power = 1", "power = 2")),
        ("validator address", edit(&base, "tcp/26630", "tcp/26631")),
        ("validator operator", {
            let t = edit(
                &base,
                &format!("operator = \"{}\"", key(8)),
                &format!("operator = \"{}\"", key(2)),
            );
            t
        }),
        (
            "enterprise name",
            edit(&base, "\"Acme Retail\"", "\"Acme Retail Ltd\""),
        ),
        (
            "enterprise sector",
            edit(&base, "sector = \"finance\"", "sector = \"insurance\""),
        ),
        (
            "enterprise jurisdiction",
            edit(&base, "\"US-CA\"", "\"US-NY\""),
        ),
        (
            "enterprise policy_url",
            edit(&base, "/privacy\"", "/privacy2\""),
        ),
        (
            "no policy_url",
            edit(
                &base,
                "policy_url = \"https://acme-retail.example/privacy\"",
                "",
            ),
        ),
        (
            "balance amount",
            edit(&base, "amount = 250000", "amount = 250001"),
        ),
        (
            "balance account",
            edit(
                &base,
                &format!("account = \"{}\"  # Bluebird Bank", key(11)),
                &format!("account = \"{}\"", key(12)),
            ),
        ),
        (
            "no balances",
            base[..base.find("[[balances]]").expect("balances")].to_owned(),
        ),
        ("validator order", swap_first_two(&base, "[[validators]]")),
        ("operator order", swap_first_two(&base, "[[operators]]")),
    ];
    let mut hashes = BTreeSet::new();
    hashes.insert(hash_of(&base));
    for (what, text) in &variants {
        assert!(
            hashes.insert(hash_of(text)),
            "changing {what} kept an earlier hash"
        );
    }
}

/// Swaps the first two `header` tables (each running to the next blank line).
fn swap_first_two(text: &str, header: &str) -> String {
    let blocks: Vec<&str> = text.split("\n\n").collect();
    let idx: Vec<usize> = blocks
        .iter()
        .enumerate()
        .filter(|(_, b)| b.trim_start().starts_with(header))
        .map(|(i, _)| i)
        .take(2)
        .collect();
    let mut out: Vec<&str> = blocks.clone();
    out.swap(idx[0], idx[1]);
    out.join("\n\n")
}

#[test]
fn written_toml_loads_back_equal() {
    for name in ["single-validator.toml", "four-validators.toml"] {
        let g = Genesis::from_toml_str(&example(name)).expect("valid");
        let text = g.to_toml_string();
        let back = Genesis::from_toml_str(&text).expect("written genesis loads");
        assert_eq!(back, g);
        assert_eq!(back.to_toml_string(), text, "writing is a fixed point");
        assert_eq!(Genesis::from_file(&g.to_file()).expect("valid"), g);
    }
}

#[test]
fn awkward_text_survives_the_round_trip() {
    let base = example("four-validators.toml");
    let t = edit(
        &base,
        "\"University Lab\"",
        "\"Uni \\\"Lab\\\" \\\\ Zürich 🧪 '#' [x]\"",
    );
    let g = Genesis::from_toml_str(&t).expect("valid");
    assert_eq!(g.operators()[3].name, "Uni \"Lab\" \\ Zürich 🧪 '#' [x]");
    let back = Genesis::from_toml_str(&g.to_toml_string()).expect("loads");
    assert_eq!(back, g);
}

#[test]
fn save_then_load_is_the_same_genesis() {
    let g = Genesis::from_toml_str(&example("four-validators.toml")).expect("valid");
    let dir = std::env::temp_dir().join(format!("assent-genesis-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("genesis.toml");
    g.save(&path).expect("saved");
    let back = Genesis::load(&path).expect("loaded");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(back, g);
}
