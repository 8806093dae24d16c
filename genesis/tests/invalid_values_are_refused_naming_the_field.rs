//! Each validation rule refuses a bad value with a message that names the key
//! by its path, says what is wrong and what to do.

// Tests fail by panicking; the workspace's no-panic lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::AccountId;
use assent_genesis::{Genesis, GenesisError};
use common::{edit, example, invalid, key, refused};

fn base() -> String {
    example("four-validators.toml")
}

/// `base()` with a whole `[[table]]` entry removed (from its header to the next blank line).
fn without_table(text: &str, header: &str, nth: usize) -> String {
    let mut out = Vec::new();
    let mut seen = 0;
    let mut skipping = false;
    for line in text.lines() {
        if line.trim() == header {
            skipping = seen == nth;
            seen += 1;
        } else if line.trim().is_empty() {
            skipping = false;
        }
        if !skipping {
            out.push(line);
        }
    }
    out.join("\n")
}

fn without_all(text: &str, header: &str) -> String {
    let mut t = text.to_owned();
    while t.lines().any(|l| l.trim() == header) {
        t = without_table(&t, header, 0);
    }
    t
}

#[test]
fn chain_id_must_be_short_lowercase_text() {
    let (f, p) = invalid(&edit(&base(), "\"assent-devnet-1\"", "\"Assent_1\""));
    assert_eq!(f, "chain_id");
    assert!(
        p.starts_with("\"Assent_1\" is not a chain id; use 1-64 characters of a-z, 0-9 and -"),
        "{p}"
    );
    let long = format!("\"{}\"", "a".repeat(65));
    assert_eq!(
        invalid(&edit(&base(), "\"assent-devnet-1\"", &long)).0,
        "chain_id"
    );
    assert_eq!(
        invalid(&edit(&base(), "\"assent-devnet-1\"", "\"\"")).0,
        "chain_id"
    );
    // 64 characters is fine.
    let max = format!("\"{}\"", "a".repeat(64));
    assert!(Genesis::from_toml_str(&edit(&base(), "\"assent-devnet-1\"", &max)).is_ok());
}

#[test]
fn genesis_time_must_be_rfc3339_utc() {
    let msg = refused(&edit(&base(), "\"2026-11-22T00:00:00Z\"", "\"yesterday\""));
    assert_eq!(
        msg,
        "genesis_time: \"yesterday\" is not an RFC 3339 UTC time like 2026-11-22T00:00:00Z"
    );
    let msg = refused(&edit(
        &base(),
        "\"2026-11-22T00:00:00Z\"",
        "\"2026-11-22T00:00:00+01:00\"",
    ));
    assert!(
        msg.starts_with("genesis_time:") && msg.contains("end the time with Z"),
        "{msg}"
    );
    let msg = refused(&edit(
        &base(),
        "\"2026-11-22T00:00:00Z\"",
        "\"2026-02-30T00:00:00Z\"",
    ));
    assert!(msg.contains("2026-02 has no day 30"), "{msg}");
    // A bare TOML date-time is the same value.
    let bare = Genesis::from_toml_str(&edit(
        &base(),
        "\"2026-11-22T00:00:00Z\"",
        "2026-11-22T00:00:00Z",
    ))
    .expect("bare date-time accepted");
    assert_eq!(bare.genesis_time().0, 1_795_305_600_000);
    // A bare local date (no time, no zone) is not.
    let msg = refused(&edit(&base(), "\"2026-11-22T00:00:00Z\"", "2026-11-22"));
    assert!(msg.starts_with("genesis_time:"), "{msg}");
}

#[test]
fn accounts_must_be_addresses_of_usable_keys() {
    let mint = key(1).to_string();
    let (f, p) = invalid(&edit(
        &base(),
        &format!("mint_authority = \"{mint}\""),
        "mint_authority = \"assent1nope\"",
    ));
    assert_eq!(f, "mint_authority");
    assert!(p.contains("is not an account address"), "{p}");

    // A typo breaks the checksum.
    let typo = format!("{}x", &mint[..mint.len() - 1]);
    assert_eq!(invalid(&edit(&base(), &mint, &typo)).0, "mint_authority");

    // The identity point: a small-order key anyone can sign for under ZIP-215.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let weak = AccountId(weak).to_string();
    let (f, p) = invalid(&edit(&base(), &key(3).to_string(), &weak));
    assert_eq!(f, "validators[0].consensus_key");
    assert!(p.contains("is not a usable ed25519 public key"), "{p}");
}

#[test]
fn operators_are_required_distinct_and_named() {
    let no_ops = without_all(&base(), "[[operators]]");
    assert_eq!(
        refused(&no_ops),
        "operators: at least one operator is required; add an [[operators]] table with name and account"
    );
    let dup = edit(
        &base(),
        &format!("account = \"{}\"  # seed 4", key(4)),
        &format!("account = \"{}\"", key(2)),
    );
    assert_eq!(
        refused(&dup),
        "operators[1].account: duplicate of operators[0].account; list each operator once"
    );
    let dup_name = edit(&base(), "\"University Lab\"", "\"Retail Federation\"");
    assert_eq!(invalid(&dup_name).0, "operators[3].name");
    let (f, p) = invalid(&edit(&base(), "\"University Lab\"", "\"  \""));
    assert_eq!(
        (f.as_str(), p.as_str()),
        ("operators[3].name", "must not be empty")
    );
    let (f, p) = invalid(&edit(&base(), "\"University Lab\"", "\"Uni\\u0007Lab\""));
    assert_eq!(f, "operators[3].name");
    assert!(p.contains("control character"), "{p}");
    let long = format!("\"{}\"", "x".repeat(257));
    let (f, p) = invalid(&edit(&base(), "\"University Lab\"", &long));
    assert_eq!(f, "operators[3].name");
    assert_eq!(p, "is 257 bytes long; at most 256");
}

#[test]
fn validators_are_required_distinct_and_run_by_listed_operators() {
    let no_vals = without_all(&base(), "[[validators]]");
    assert_eq!(
        refused(&no_vals),
        "validators: at least one validator is required; add a [[validators]] table"
    );
    let dup_key = edit(&base(), &key(7).to_string(), &key(3).to_string());
    assert_eq!(
        refused(&dup_key),
        "validators[2].consensus_key: duplicate of validators[0].consensus_key; each validator needs its own key"
    );
    let dup_name = edit(&base(), "\"validator-3\"", "\"validator-1\"");
    assert_eq!(
        refused(&dup_name),
        "validators[3].name: duplicate of validators[1].name; give each validator its own name"
    );
    let stranger = edit(
        &base(),
        &format!("operator = \"{}\"", key(4)),
        &format!("operator = \"{}\"", key(12)),
    );
    let (f, p) = invalid(&stranger);
    assert_eq!(f, "validators[1].operator");
    assert!(
        p.contains(&key(12).to_string()) && p.contains("is not listed in [[operators]]"),
        "{p}"
    );
}

#[test]
fn validator_power_and_address_are_checked() {
    let zero = edit(
        &base(),
        "power = 1\np2p_address = \"/ip4/127.0.0.1/tcp/26610\"",
        "power = 0\np2p_address = \"/ip4/127.0.0.1/tcp/26610\"",
    );
    assert_eq!(
        refused(&zero),
        "validators[1].power: 0; a validator's power must be at least 1"
    );
    // Powers that fit a u64 (and TOML) but add up to more than consensus can
    // count (3 x total must fit a u64): refused here, not at the first height.
    let huge = edit(&base(), "power = 1", "power = 9223372036854775807");
    let huge = edit(&huge, "power = 1", "power = 9223372036854775807");
    let huge = edit(&huge, "power = 1", "power = 9223372036854775807");
    let (f, p) = invalid(&huge);
    assert_eq!(f, "validators[0].power");
    assert!(p.contains("power adds up to more than"), "{p}");
    // Four validators: 2^59 - 1, 2^59 - 1, 1, 1 add up to exactly the maximum.
    let half = (assent_contracts::state::MAX_TOTAL_VOTING_POWER / 2 - 1).to_string();
    let at_max = edit(&base(), "power = 1", &format!("power = {half}"));
    let at_max = edit(&at_max, "power = 1", &format!("power = {half}"));
    assert!(
        Genesis::from_toml_str(&at_max).is_ok(),
        "exactly the maximum is fine"
    );
    let over = edit(&at_max, "power = 1", "power = 3");
    let (f, p) = invalid(&over);
    assert_eq!(f, "validators[2].power");
    assert!(p.contains("more than consensus can count"), "{p}");

    let empty = edit(&base(), "\"/ip4/127.0.0.1/tcp/26620\"", "\"\"");
    let (f, p) = invalid(&empty);
    assert_eq!(f, "validators[2].p2p_address");
    assert!(p.starts_with("must not be empty"), "{p}");
    let relative = edit(
        &base(),
        "\"/ip4/127.0.0.1/tcp/26620\"",
        "\"127.0.0.1:26620\"",
    );
    let (f, p) = invalid(&relative);
    assert_eq!(f, "validators[2].p2p_address");
    assert!(p.contains("is not a libp2p multiaddr"), "{p}");
    let dup = edit(
        &base(),
        "\"/ip4/127.0.0.1/tcp/26620\"",
        "\"/ip4/127.0.0.1/tcp/26600\"",
    );
    assert_eq!(
        refused(&dup),
        "validators[2].p2p_address: duplicate of validators[0].p2p_address; each validator needs its own address"
    );
}

#[test]
fn enterprises_need_a_sector_and_keys_of_their_own() {
    let bakery = edit(&base(), "sector = \"retail\"", "sector = \"bakery\"");
    assert_eq!(
        refused(&bakery),
        "enterprises[0].sector: \"bakery\" is not a sector; use one of: retail, finance, health, \
         insurance, telecom, media, advertising, travel, education, technology, energy, public"
    );
    let op_key = edit(
        &base(),
        &format!("account = \"{}\"  # seed 11", key(11)),
        &format!("account = \"{}\"", key(6)),
    );
    assert_eq!(
        refused(&op_key),
        "enterprises[1].account: same key as operators[2].account; an enterprise needs a key of its own"
    );
    let mint_key = edit(
        &base(),
        &format!("account = \"{}\"  # seed 11", key(11)),
        &format!("account = \"{}\"", key(1)),
    );
    assert_eq!(
        refused(&mint_key),
        "enterprises[1].account: same key as mint_authority; an enterprise needs a key of its own"
    );
    let dup = edit(
        &base(),
        &format!("account = \"{}\"  # seed 11", key(11)),
        &format!("account = \"{}\"", key(10)),
    );
    assert_eq!(
        refused(&dup),
        "enterprises[1].account: duplicate of enterprises[0].account; list each enterprise once"
    );
    let long = format!("jurisdiction = \"{}\"", "E".repeat(300));
    let (f, _) = invalid(&edit(&base(), "jurisdiction = \"EU\"", &long));
    assert_eq!(f, "enterprises[0].jurisdiction");
    let (f, _) = invalid(&edit(&base(), "name = \"Acme Retail\"", "name = \"\""));
    assert_eq!(f, "enterprises[0].name");
}

#[test]
fn balances_are_distinct_positive_and_fit_the_supply() {
    let acme = key(10).to_string();
    let bank = key(11).to_string();
    let dup = edit(
        &base(),
        &format!("account = \"{bank}\"  # Bluebird Bank"),
        &format!("account = \"{acme}\""),
    );
    assert_eq!(
        refused(&dup),
        "balances[1].account: duplicate of balances[0].account; merge the two entries into one"
    );
    let zero = edit(&base(), "amount = 250000", "amount = 0");
    let (f, p) = invalid(&zero);
    assert_eq!(f, "balances[1].amount");
    assert!(p.starts_with("0; remove the entry"), "{p}");

    let max = i64::MAX;
    let mut t = edit(&base(), "amount = 1000000", &format!("amount = {max}"));
    t = edit(&t, "amount = 250000", &format!("amount = {max}"));
    assert!(
        Genesis::from_toml_str(&t).is_ok(),
        "2 * i64::MAX still fits a u64"
    );
    t.push_str(&format!(
        "\n[[balances]]\naccount = \"{}\"\namount = {max}\n",
        key(12)
    ));
    let (f, p) = invalid(&t);
    assert_eq!(f, "balances[2].amount");
    assert!(p.contains("largest possible supply"), "{p}");
}

#[test]
fn params_are_checked_by_name() {
    let share = edit(
        &base(),
        "operator_share_bps = 1000",
        "operator_share_bps = 12000",
    );
    let msg = refused(&share);
    assert!(
        msg.starts_with("params.operator_share_bps: 12000 is more than 10000 (100 %)"),
        "{msg}"
    );
    let zero = edit(&base(), "max_block_txs = 20000", "max_block_txs = 0");
    assert_eq!(
        refused(&zero),
        "params.max_block_txs: 0; must be at least 1"
    );
    let big = edit(
        &base(),
        "max_block_txs = 20000",
        "max_block_txs = 4294967296",
    );
    assert_eq!(
        refused(&big),
        "params.max_block_txs: 4294967296 is more than 4294967295"
    );
    let tx = edit(&base(), "max_tx_bytes = 262144", "max_tx_bytes = 5000000");
    assert_eq!(
        refused(&tx),
        "params.max_tx_bytes: 5000000 is more than max_block_bytes (4194304); a transaction must fit in a block"
    );
    let block = edit(
        &base(),
        "max_block_bytes = 4194304",
        "max_block_bytes = 4194305",
    );
    let (f, _) = invalid(&block);
    assert_eq!(f, "params.max_block_bytes");
    let ttl = edit(
        &base(),
        "proposal_ttl_ms = 604800000",
        "proposal_ttl_ms = 0",
    );
    assert_eq!(
        refused(&ttl),
        "params.proposal_ttl_ms: 0; must be at least 1"
    );
    // Omitted keys take the defaults.
    let g = Genesis::from_toml_str(&example("single-validator.toml")).expect("valid");
    assert_eq!(g.params(), &assent_contracts::state::Params::default());
}

#[test]
fn misspelled_keys_and_wrong_types_are_parse_errors_with_a_position() {
    let typo = edit(&base(), "power = 1", "powr = 1");
    let msg = refused(&typo);
    assert!(
        msg.contains("line 39") && msg.contains("unknown field `powr`"),
        "{msg}"
    );
    let top = edit(&base(), "chain_id =", "chain =");
    assert!(refused(&top).contains("unknown field `chain`"));
    let param = edit(&base(), "max_block_txs =", "max_block_tx =");
    assert!(refused(&param).contains("unknown field `max_block_tx`"));
    let wrong = edit(&base(), "power = 1", "power = \"one\"");
    let msg = refused(&wrong);
    assert!(
        msg.contains("line 39, column 9") && msg.contains("invalid type: string \"one\""),
        "{msg}"
    );
    let negative = edit(&base(), "amount = 250000", "amount = -5");
    assert!(refused(&negative).contains("invalid value: integer `-5`"));
    let missing = edit(&base(), "mint_authority =", "# mint_authority =");
    assert!(refused(&missing).contains("missing field `mint_authority`"));
    let time_type = edit(&base(), "\"2026-11-22T00:00:00Z\"", "20261122");
    assert!(refused(&time_type).contains("expected an RFC 3339 UTC time like"));
    assert!(matches!(
        Genesis::from_toml_str("chain_id = "),
        Err(GenesisError::Parse { path: None, .. })
    ));
}

#[test]
fn unreadable_files_name_their_path() {
    let err = Genesis::load("/definitely/not/here/genesis.toml").unwrap_err();
    assert!(matches!(err, GenesisError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with("genesis file /definitely/not/here/genesis.toml:"),
        "{err}"
    );
}

#[test]
fn referral_terms_need_a_bound_and_at_most_the_whole() {
    let with = |body: &str| format!("{}\n\n[referral]\n{body}\n", base());
    let (f, p) = invalid(&with("share_bps = 500\nmax_points = 0\nperiod_ms = 0"));
    assert_eq!(f, "referral");
    assert!(p.contains("needs a bound"), "{p}");
    let (f, p) = invalid(&with("share_bps = 10001"));
    assert_eq!(f, "referral.share_bps");
    assert!(p.contains("basis points"), "{p}");
    // Omitted keys take the defaults; a zero share needs no bound.
    let g = Genesis::from_toml_str(&with("share_bps = 0\nmax_points = 0\nperiod_ms = 0")).unwrap();
    assert_eq!(g.referral_terms().unwrap().share_bps.0, 0);
    let g = Genesis::from_toml_str(&with("share_bps = 700")).unwrap();
    let t = g.referral_terms().unwrap();
    assert_eq!((t.share_bps.0, t.max_points.0), (700, 1_000));
    // Without the table no referral is paid, and the file hashes as before.
    assert!(Genesis::from_toml_str(&base())
        .unwrap()
        .referral_terms()
        .is_none());
}
