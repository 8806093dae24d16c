//! `assent tx build` refuses unknown DPV terms, malformed values and
//! payloads the contracts' stateless check rejects, before asking for a
//! passphrase or signing anything.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{hex32, Home, CHAIN};

#[test]
fn unknown_terms_and_bad_values_are_refused_before_signing() {
    let home = Home::new();
    let ent = home.key("ent");
    home.key("me");
    let grant = |purpose: &str, category: &str, level: &str| {
        home.fails(&[
            "tx",
            "build",
            "grant-consent",
            "--enterprise",
            &ent,
            "--category",
            category,
            "--purpose",
            purpose,
            "--level",
            level,
            "--price",
            "1",
            "--from",
            "me",
            "--nonce",
            "0",
            "--chain-id",
            CHAIN,
        ])
    };
    let line = grant("marketing", "Purchase", "aggregate");
    assert!(
        line.starts_with("error: --purpose: `marketing` is not a DPV purpose term (did you mean"),
        "{line}"
    );
    let line = grant("Sector", "Purchase", "aggregate");
    assert!(
        line.starts_with("error: --purpose: `Sector` is not a DPV purpose term: in DPV, dpv:Sector is the sector of activity"),
        "{line}"
    );
    let line = grant("Marketing", "Shoes", "aggregate");
    assert!(
        line.starts_with("error: --category: `Shoes` is not a DPV"),
        "{line}"
    );
    let line = grant("Marketing", "Purchase", "secret");
    assert!(
        line.starts_with("error: --level: `secret` is not a level"),
        "{line}"
    );
    let line = grant("Marketing,Marketing", "Purchase", "aggregate");
    assert!(
        line.contains("refused before signing: duplicate_item"),
        "{line}"
    );

    let sign = ["--from", "me", "--nonce", "0", "--chain-id", CHAIN];
    let mut rate = vec!["tx", "build", "rate", "--enterprise", &ent, "--score", "9"];
    let id = hex32(1);
    rate.extend_from_slice(&["--consent", &id]);
    rate.extend_from_slice(&sign);
    let line = home.fails(&rate);
    assert!(
        line.contains("invalid_field: score 9 is out of range"),
        "{line}"
    );

    let mut transfer = vec![
        "tx",
        "build",
        "transfer",
        "--to",
        "assent1nope",
        "--amount",
        "1",
    ];
    transfer.extend_from_slice(&sign);
    let line = home.fails(&transfer);
    assert!(
        line.starts_with("error: --to: `assent1nope` is not an account address"),
        "{line}"
    );

    // SetContact: a malformed email or notice language is refused, naming it.
    for (email, language, named) in [
        ("privacy.acme.example", "en", "email"),
        ("privacy@acme.example", "English", "notice_language"),
    ] {
        let mut contact = vec![
            "tx",
            "build",
            "set-contact",
            "--email",
            email,
            "--address",
            "1 Market Street",
            "--notice-language",
            language,
        ];
        contact.extend_from_slice(&sign);
        let line = home.fails(&contact);
        assert!(
            line.contains("refused before signing: invalid_field") && line.contains(named),
            "{line}"
        );
    }

    // Tags: more than a set holds is refused before the passphrase (the
    // commitments are made with the key, so nothing is checked later that
    // could have been checked now); a malformed tag names itself.
    let many: Vec<String> = (0..17).map(|i| format!("t{i}")).collect();
    let many = many.join(",");
    let mut tags = vec!["tx", "build", "set-tags", "--tag", &many];
    tags.extend_from_slice(&sign);
    let line = home.fails(&tags);
    assert!(line.contains("17 tags given; at most 16"), "{line}");
    let mut bad_tag = vec!["tx", "build", "register-consumer", "--tag", "Not OK"];
    bad_tag.extend_from_slice(&sign);
    let line = home.fails(&bad_tag);
    assert!(line.contains("must be 1-32 characters"), "{line}");

    let mut zero = vec!["tx", "build", "transfer", "--to", &ent, "--amount", "0"];
    zero.extend_from_slice(&sign);
    assert!(home.fails(&zero).contains("zero_amount"));

    let mut no_nonce = vec!["tx", "build", "transfer", "--to", &ent, "--amount", "1"];
    no_nonce.extend_from_slice(&["--from", "me", "--chain-id", CHAIN]);
    assert!(home.fails(&no_nonce).contains("--nonce"));

    let mut bad_duration = vec![
        "tx",
        "build",
        "post-request",
        "--category",
        "Purchase",
        "--purpose",
        "Marketing",
        "--level",
        "aggregate",
        "--price",
        "1",
        "--duration",
        "soon",
    ];
    bad_duration.extend_from_slice(&sign);
    assert!(home
        .fails(&bad_duration)
        .contains("--duration: `soon` is not a duration"));

    let mut half_use = vec![
        "tx",
        "build",
        "record-use",
        "--consumer",
        &ent,
        "--consent",
        &id,
    ];
    half_use.extend_from_slice(&sign);
    assert!(home.fails(&half_use).contains("--category"));

    let mut bad_action = vec!["tx", "build", "propose", "json", "--action", "{\"fly\":1}"];
    bad_action.extend_from_slice(&sign);
    assert!(home
        .fails(&bad_action)
        .contains("--action is not a governance action"));

    let mut bad_chain = vec!["tx", "build", "transfer", "--to", &ent, "--amount", "1"];
    bad_chain.extend_from_slice(&["--from", "me", "--nonce", "0", "--chain-id", ""]);
    assert!(home.fails(&bad_chain).contains("--chain-id"));
}
