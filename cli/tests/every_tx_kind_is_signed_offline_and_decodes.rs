//! `assent tx build` signs every transaction kind offline; `assent tx decode`
//! reads it back, and the signature holds for its chain and no other.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{hex32, json, Home, CHAIN};

/// Builds one tx into a file, checks what build reports and what decode reads.
fn build_and_check(home: &Home, args: &[&str], kind: &str, from: &str, sender: &str, nonce: u64) {
    let out = home.file(&format!("{kind}-{nonce}.tx"));
    let out_s = out.to_str().unwrap();
    let nonce_s = nonce.to_string();
    let mut full: Vec<&str> = vec!["tx", "build"];
    full.extend_from_slice(args);
    full.extend_from_slice(&[
        "--from",
        from,
        "--nonce",
        &nonce_s,
        "--chain-id",
        CHAIN,
        "--sign-only",
        "--out",
        out_s,
        "--output",
        "json",
    ]);
    let built = json(&home.ok(&full));
    assert_eq!(built["kind"], kind, "{built}");
    assert_eq!(built["sender"], sender);
    assert_eq!(built["nonce"], nonce);
    assert_eq!(built["file"], out_s);
    let tx_id = built["tx_id"].as_str().unwrap().to_string();
    assert_eq!(tx_id.len(), 64);

    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n') && text.trim().chars().all(|c| c.is_ascii_hexdigit()));

    let decoded = json(&home.ok(&[
        "tx",
        "decode",
        out_s,
        "--chain-id",
        CHAIN,
        "--output",
        "json",
    ]));
    assert_eq!(decoded["kind"], kind);
    assert_eq!(decoded["tx_id"], tx_id.as_str());
    assert_eq!(decoded["body"]["sender"], sender);
    assert_eq!(decoded["body"]["nonce"], nonce);
    assert_eq!(decoded["signature_valid"], true);
    if kind == "RegisterConsumer" || kind == "SetTags" {
        // Tags are signed as salted commitments (decision 33): the tx holds
        // sixteen, for the tx's nonce, and no tag.
        let variant = if kind == "SetTags" {
            "set_tags"
        } else {
            "register_consumer"
        };
        let tags = &decoded["body"]["payload"][variant]["tags"];
        assert_eq!(tags["epoch"], nonce, "{decoded}");
        assert_eq!(
            tags["commitments"].as_array().unwrap().len(),
            16,
            "{decoded}"
        );
        let hex = std::fs::read_to_string(&out).unwrap();
        let bytes = hex::decode(hex.trim()).unwrap();
        for tag in ["sports", "books", "travel", "music"] {
            assert!(!decoded.to_string().contains(tag), "{decoded}");
            assert!(!bytes.windows(tag.len()).any(|w| w == tag.as_bytes()));
        }
    }

    let wrong = home.run(&[
        "tx",
        "decode",
        out_s,
        "--chain-id",
        "another-chain",
        "--output",
        "json",
    ]);
    let stdout = String::from_utf8(wrong.stdout.clone()).unwrap();
    let line = common::expect_clean_failure(wrong, &["tx", "decode"]);
    assert!(
        line.contains("does not verify for chain `another-chain`"),
        "{line}"
    );
    assert_eq!(json(&stdout)["signature_valid"], false);
}

#[test]
fn all_sixteen_kinds_sign_decode_and_verify_only_for_their_chain() {
    let home = Home::new();
    let consumer = home.key("consumer");
    let enterprise = home.key("enterprise");
    let operator = home.key("operator");
    let id = hex32(0xab);
    let evidence = hex32(0xee);

    let consumer_txs: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "register-consumer",
                "--tag",
                "sports",
                "--tag",
                "books,travel",
            ],
            "RegisterConsumer",
        ),
        (vec!["set-tags", "--tag", "music"], "SetTags"),
        (
            vec![
                "grant-consent",
                "--enterprise",
                &enterprise,
                "--category",
                "Purchase",
                "--category",
                "Location",
                "--purpose",
                "ServiceOptimisation,DirectMarketing",
                "--level",
                "pseudonymous",
                "--price",
                "3",
                "--max-uses",
                "10",
                "--expires-at",
                "1900000000000",
                "--request",
                &id,
            ],
            "GrantConsent",
        ),
        (vec!["revoke-consent", "--consent", &id], "RevokeConsent"),
        (vec!["revoke-all"], "RevokeAll"),
        (vec!["revoke-all", "--enterprise", &enterprise], "RevokeAll"),
        (vec!["pause-consent", "--consent", &id], "PauseConsent"),
        (vec!["resume-consent", "--consent", &id], "ResumeConsent"),
        (
            vec![
                "set-policy",
                "--sector",
                "retail",
                "--category",
                "Purchase",
                "--purpose",
                "ServiceOptimisation",
                "--level",
                "aggregate",
                "--min-price",
                "2",
            ],
            "SetPolicy",
        ),
        (
            vec![
                "set-policy",
                "--enterprise",
                &enterprise,
                "--category",
                "Purchase",
                "--purpose",
                "ServiceOptimisation",
                "--level",
                "identified",
                "--min-price",
                "5",
            ],
            "SetPolicy",
        ),
        (vec!["clear-policy", "--policy", &id], "ClearPolicy"),
        (
            vec![
                "rate",
                "--enterprise",
                &enterprise,
                "--consent",
                &id,
                "--score",
                "4",
            ],
            "Rate",
        ),
        (
            vec!["transfer", "--to", &enterprise, "--amount", "7"],
            "Transfer",
        ),
        (
            vec![
                "link-identity",
                "--enterprise",
                &enterprise,
                "--kind",
                "openid",
                "--commitment",
                &id,
            ],
            "LinkIdentity",
        ),
        (
            vec![
                "unlink-identity",
                "--enterprise",
                &enterprise,
                "--kind",
                "phone",
            ],
            "UnlinkIdentity",
        ),
        (
            vec!["name-referrer", "--referrer", &enterprise],
            "NameReferrer",
        ),
        (vec!["rotate-key", "--new-key", &operator], "RotateKey"),
        (
            vec![
                "set-guardians",
                "--guardian",
                &enterprise,
                "--guardian",
                &operator,
                "--delay",
                "1d",
            ],
            "SetGuardians",
        ),
        (
            vec![
                "support-recovery",
                "--account",
                &enterprise,
                "--new-key",
                &operator,
            ],
            "SupportRecovery",
        ),
        (vec!["cancel-recovery"], "CancelRecovery"),
        (
            vec!["claim-recovery", "--account", &enterprise],
            "ClaimRecovery",
        ),
    ];
    for (nonce, (args, kind)) in consumer_txs.iter().enumerate() {
        build_and_check(&home, args, kind, "consumer", &consumer, nonce as u64);
    }

    let enterprise_txs: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "post-request",
                "--category",
                "Purchase",
                "--purpose",
                "ServiceOptimisation",
                "--level",
                "aggregate",
                "--price",
                "4",
                "--duration",
                "30d",
                "--target-tag",
                "sports",
            ],
            "PostRequest",
        ),
        (
            vec![
                "record-use",
                "--consumer",
                &consumer,
                "--consent",
                &id,
                "--category",
                "Purchase",
                "--purpose",
                "ServiceOptimisation",
                "--level",
                "aggregate",
                "--units",
                "2",
                "--evidence-hash",
                &evidence,
            ],
            "RecordUse",
        ),
        (
            vec![
                "record-use",
                "--consumer",
                &consumer,
                "--policy",
                &id,
                "--category",
                "Purchase",
                "--purpose",
                "ServiceOptimisation",
                "--level",
                "aggregate",
                "--evidence-hash",
                &evidence,
            ],
            "RecordUse",
        ),
    ];
    for (nonce, (args, kind)) in enterprise_txs.iter().enumerate() {
        build_and_check(&home, args, kind, "enterprise", &enterprise, nonce as u64);
    }

    let params_json = format!(r#"{{"suspend_enterprise":{{"account":"{enterprise}"}}}}"#);
    let operator_txs: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["mint", "--to", &enterprise, "--amount", "1000"],
            "Mint",
        ),
        (
            vec![
                "propose",
                "admit-enterprise",
                "--account",
                &enterprise,
                "--name",
                "Acme Retail",
                "--sector",
                "retail",
                "--jurisdiction",
                "EU",
                "--policy-url",
                "https://acme.example/privacy",
            ],
            "Propose",
        ),
        (
            vec!["propose", "suspend-enterprise", "--account", &enterprise],
            "Propose",
        ),
        (
            vec!["propose", "reinstate-enterprise", "--account", &enterprise],
            "Propose",
        ),
        (
            vec![
                "propose",
                "add-validator",
                "--name",
                "v5",
                "--consensus-key",
                &consumer,
                "--power",
                "10",
                "--p2p-address",
                "/ip4/127.0.0.1/tcp/26656",
            ],
            "Propose",
        ),
        (
            vec!["propose", "remove-validator", "--consensus-key", &consumer],
            "Propose",
        ),
        (
            vec![
                "propose",
                "set-params",
                "--operator-share-bps",
                "1500",
                "--max-block-txs",
                "1000",
                "--max-block-bytes",
                "1048576",
                "--max-tx-bytes",
                "65536",
                "--max-uses-per-record",
                "512",
                "--proposal-ttl",
                "7d",
            ],
            "Propose",
        ),
        (
            vec![
                "propose",
                "referral-terms",
                "--share-bps",
                "500",
                "--max-points",
                "1000",
                "--period",
                "180d",
            ],
            "Propose",
        ),
        (vec!["propose", "json", "--action", &params_json], "Propose"),
        (vec!["vote", "--proposal", &id, "--yes"], "Vote"),
        (vec!["vote", "--proposal", &id, "--no"], "Vote"),
    ];
    for (nonce, (args, kind)) in operator_txs.iter().enumerate() {
        build_and_check(&home, args, kind, "operator", &operator, nonce as u64);
    }

    let kinds: std::collections::BTreeSet<&str> = consumer_txs
        .iter()
        .chain(&enterprise_txs)
        .chain(&operator_txs)
        .map(|(_, k)| *k)
        .collect();
    // DESIGN.md's sixteen, LinkIdentity, UnlinkIdentity, NameReferrer and
    // the five of key control.
    assert_eq!(kinds.len(), 24, "{kinds:?}");
}

#[test]
fn decoded_payload_keeps_the_flags_given() {
    let home = Home::new();
    let ent = home.key("ent");
    home.key("me");
    let out = home.file("grant.tx");
    home.ok(&[
        "tx",
        "build",
        "grant-consent",
        "--enterprise",
        &ent,
        "--category",
        "Purchase,Location",
        "--purpose",
        "ServiceOptimisation",
        "--level",
        "identified",
        "--price",
        "3",
        "--from",
        "me",
        "--nonce",
        "5",
        "--chain-id",
        CHAIN,
        "--out",
        out.to_str().unwrap(),
    ]);
    let d = json(&home.ok(&["tx", "decode", out.to_str().unwrap(), "--output", "json"]));
    let g = &d["body"]["payload"]["grant_consent"];
    assert_eq!(g["enterprise"], ent.as_str());
    assert_eq!(g["categories"], serde_json::json!(["Purchase", "Location"]));
    assert_eq!(g["level"], "identified");
    assert_eq!(g["price_per_use"], 3);
    assert_eq!(g["max_uses"], serde_json::Value::Null);
    assert!(d.get("signature_valid").is_none());
}

#[test]
fn default_output_file_is_named_by_tx_id_and_stdout_can_be_piped() {
    let home = Home::new();
    let to = home.key("to");
    home.key("me");
    let args = [
        "tx",
        "build",
        "transfer",
        "--to",
        &to,
        "--amount",
        "9",
        "--from",
        "me",
        "--nonce",
        "0",
        "--chain-id",
        CHAIN,
        "--output",
        "json",
    ];
    let built = json(&home.ok(&args));
    let expected = home
        .path()
        .join(format!("txs/{}.tx", built["tx_id"].as_str().unwrap()));
    assert_eq!(built["file"], expected.to_str().unwrap());
    let in_file = std::fs::read_to_string(&expected).unwrap();

    let mut to_stdout = args.to_vec();
    to_stdout.extend_from_slice(&["--out", "-"]);
    assert_eq!(home.ok(&to_stdout), in_file);

    use std::io::Write;
    let mut child = home
        .cmd(&["tx", "decode", "-", "--chain-id", CHAIN, "--output", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(in_file.as_bytes())
        .unwrap();
    let decoded = json(&common::expect_ok(
        child.wait_with_output().unwrap(),
        &["decode -"],
    ));
    assert_eq!(decoded["tx_id"], built["tx_id"]);
    assert_eq!(decoded["signature_valid"], true);
}

#[test]
fn record_use_batches_come_from_json_and_csv_files() {
    let home = Home::new();
    let consumer = home.key("consumer");
    let ent = home.key("ent");
    let (c, p, e) = (hex32(1), hex32(2), hex32(3));
    let csv = format!(
        "# two uses\nconsumer,consent,policy,category,purpose,level,units,evidence_hash\n\
         {consumer},{c},,Purchase,ServiceOptimisation,aggregate,1,{e}\n\
         {consumer},,{p},Location,DirectMarketing,identified,3,{e}\n"
    );
    let json_uses = format!(
        r#"{{"uses":[{{"consumer":"{consumer}","consent":"{c}","category":"Purchase","purpose":"ServiceOptimisation","level":"aggregate","units":1,"evidence_hash":"{e}"}},
            {{"consumer":"{consumer}","policy":"{p}","category":"Location","purpose":"DirectMarketing","level":"identified","units":3,"evidence_hash":"{e}"}}]}}"#
    );
    std::fs::write(home.file("uses.csv"), csv).unwrap();
    std::fs::write(home.file("uses.json"), json_uses).unwrap();
    let mut payloads = Vec::new();
    for (i, f) in ["uses.csv", "uses.json"].iter().enumerate() {
        let out = home.file(&format!("batch{i}.tx"));
        home.ok(&[
            "tx",
            "build",
            "record-use",
            "--file",
            home.file(f).to_str().unwrap(),
            "--from",
            "ent",
            "--nonce",
            "0",
            "--chain-id",
            CHAIN,
            "--out",
            out.to_str().unwrap(),
        ]);
        let d = json(&home.ok(&["tx", "decode", out.to_str().unwrap(), "--output", "json"]));
        assert_eq!(d["body"]["sender"], ent.as_str());
        let uses = d["body"]["payload"]["record_use"]["uses"].clone();
        assert_eq!(uses.as_array().unwrap().len(), 2);
        assert_eq!(uses[1]["basis"]["policy"], p.as_str());
        assert_eq!(uses[1]["units"], 3);
        payloads.push(uses);
    }
    assert_eq!(payloads[0], payloads[1]);

    std::fs::write(
        home.file("bad.csv"),
        format!("consumer,consent,category,purpose,level,units,evidence_hash\n{consumer},{c},Purchase,marketing,aggregate,1,{e}\n"),
    )
    .unwrap();
    let line = home.fails(&[
        "tx",
        "build",
        "record-use",
        "--file",
        home.file("bad.csv").to_str().unwrap(),
        "--from",
        "ent",
        "--nonce",
        "0",
        "--chain-id",
        CHAIN,
    ]);
    assert!(
        line.contains("line 2: purpose: `marketing` is not a DPV purpose"),
        "{line}"
    );
}
