#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Pairwise identities (ARCHITECTURE.md decision 35), with the real `assent`
//! CLI against a real devnet: carol makes one master secret and, from it, one
//! account for acme and another for a second enterprise, globex; each
//! registers (tags as commitments), grants its own enterprise, and is paid
//! for uses. Then, in a fresh home holding nothing but the master's key
//! file (the one backup), `assent consumer master recover` finds both
//! accounts on the chain and `assent consumer earnings --master` adds up
//! exactly what the node says each earned. No tx on the chain names both
//! accounts; the master itself refuses to sign.

use std::process::Output;

use assent_contracts::terms::Sector;
use assent_contracts::tx::*;
use assent_contracts::{Amount, Payload};
use assent_tests::{assent_in, Net};
use serde_json::Value;

fn ok(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn json_of(out: Output, what: &str) -> Value {
    let text = ok(out, what);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"))
}

#[test]
fn two_pairwise_accounts_of_one_master_are_recovered_from_one_backup_and_their_earnings_add_up() {
    let net = Net::started(1);
    let home = net.dir.path();
    let cli = |args: &[&str], what: &str| ok(assent_in(&net, home, args), what);
    let cli_json = |args: &[&str], what: &str| {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        json_of(assent_in(&net, home, &all), what)
    };

    // A second enterprise, admitted by the devnet's one operator and funded.
    cli(&["keys", "new", "globex"], "keys new globex");
    let globex = net.key("globex");
    let admit = Payload::Propose(Propose {
        action: GovAction::AdmitEnterprise {
            account: globex.account(),
            name: "Globex Media".into(),
            sector: Sector::Media,
            jurisdiction: "EU".into(),
            policy_url: "https://globex.example/privacy".into(),
        },
    });
    let r = net.run(0, &net.key("operator-0"), admit);
    assert_eq!(r["status"], "committed", "{r}");
    let fund = Payload::Mint(Mint {
        to: globex.account(),
        amount: Amount(1_000_000),
    });
    assert_eq!(net.run(0, &net.key("mint"), fund)["status"], "committed");
    let e = net
        .get(0, &format!("/v1/enterprises/{}", globex.account()))
        .unwrap();
    assert_eq!(e["status"], "active", "{e}");

    // carol: one master secret; an account for each enterprise.
    cli(&["consumer", "master", "new", "carol"], "master new");
    let mut accounts = vec![];
    for (enterprise, tag, price, slug) in [
        ("acme", "runner", "3", "acme-retail"),
        ("globex", "vegan", "7", "globex-media"),
    ] {
        let d = cli_json(
            &[
                "consumer",
                "master",
                "derive",
                "carol",
                "--enterprise",
                enterprise,
            ],
            "master derive",
        );
        let key = d["key"].as_str().unwrap().to_string();
        assert_eq!(key, format!("carol-{slug}"));
        let account = d["account"].as_str().unwrap().to_string();
        cli(
            &["consumer", "register", "--from", &key, "--tag", tag],
            "register",
        );
        let grant = cli_json(
            &[
                "consent",
                "grant",
                "--from",
                &key,
                "--enterprise",
                enterprise,
                "--category",
                "Purchase",
                "--purpose",
                "DirectMarketing",
                "--level",
                "pseudonymous",
                "--price",
                price,
            ],
            "consent grant",
        );
        assert_eq!(grant["status"], "committed", "{grant}");
        let consent = grant["tx_id"].as_str().unwrap();
        for units in ["2", "3"] {
            // SHA-256 of the enterprise's own evidence: any 64 hex will do here.
            let evidence = format!(
                "{:064x}",
                accounts.len() * 10 + units.len() + units.as_bytes()[0] as usize
            );
            let used = cli_json(
                &[
                    "use",
                    "record",
                    "--from",
                    enterprise,
                    "--consumer",
                    &account,
                    "--consent",
                    consent,
                    "--category",
                    "Purchase",
                    "--purpose",
                    "DirectMarketing",
                    "--level",
                    "pseudonymous",
                    "--units",
                    units,
                    "--evidence-hash",
                    &evidence,
                ],
                "use record",
            );
            assert_eq!(used["status"], "committed", "{used}");
        }
        accounts.push((enterprise, account));
    }
    let (a, b) = (&accounts[0].1, &accounts[1].1);
    assert_ne!(a, b);

    // The master never signs: that would be one more account joining them.
    let refused = assent_in(&net, home, &["consumer", "register", "--from", "carol"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("is a master secret"), "{err}");

    // Bad input is one clear line: a key that is no master, one that signs
    // for an account, an enterprise that is not one.
    let fails = |args: &[&str]| {
        let out = assent_in(&net, home, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = fails(&["consumer", "earnings", "--master", "alice"]);
    assert!(e.contains("is not a master secret on this machine"), "{e}");
    let e = fails(&["consumer", "master", "recover", "carol-acme-retail"]);
    assert!(e.contains("has an account in use on the chain"), "{e}");
    let e = fails(&[
        "consumer",
        "master",
        "derive",
        "carol",
        "--enterprise",
        a.as_str(),
    ]);
    assert!(e.contains("is not an enterprise on this chain"), "{e}");

    // What the node says each account earned.
    let mut earned = 0;
    let mut uses = 0;
    for (_, account) in &accounts {
        let v = net
            .get(0, &format!("/v1/consumers/{account}/earnings"))
            .unwrap();
        assert!(v["earned"].as_u64().unwrap() > 0, "{v}");
        earned += v["earned"].as_u64().unwrap();
        uses += v["uses_settled"].as_u64().unwrap();
    }
    assert_eq!(uses, 10);

    // No tx on the chain names both accounts.
    let head = net.height(0).unwrap();
    for h in 1..=head {
        let block = net.get(0, &format!("/v1/blocks/{h}")).unwrap();
        for tx in block["txs"].as_array().into_iter().flatten() {
            let t = tx.to_string();
            assert!(
                !(t.contains(a.as_str()) && t.contains(b.as_str())),
                "block {h} joins them: {t}"
            );
        }
    }

    // The one backup: the master's key file, alone in a fresh home.
    let fresh = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fresh.path().join("keys")).unwrap();
    std::fs::copy(
        home.join("keys/carol.json"),
        fresh.path().join("keys/carol.json"),
    )
    .unwrap();
    let fresh_json = |args: &[&str], what: &str| {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        json_of(assent_in(&net, fresh.path(), &all), what)
    };
    let rec = fresh_json(
        &["consumer", "master", "recover", "carol"],
        "master recover",
    );
    let mut found: Vec<(String, String)> = rec["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["enterprise_name"].as_str().unwrap().to_string(),
                x["account"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("Acme Retail".to_string(), a.clone()),
            ("Globex Media".to_string(), b.clone())
        ],
        "{rec}"
    );
    // Their keys are back in the keystore, usable with --from.
    let keys = fresh_json(&["keys", "list"], "keys list");
    let held: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["account"].as_str().unwrap())
        .collect();
    assert!(
        held.contains(&a.as_str()) && held.contains(&b.as_str()),
        "{keys}"
    );
    // Recovering again changes nothing.
    let again = fresh_json(&["consumer", "master", "recover", "carol"], "recover again");
    assert_eq!(again["accounts"], rec["accounts"]);

    // Earnings add up across both accounts, on carol's side.
    let total = fresh_json(
        &["consumer", "earnings", "--master", "carol"],
        "earnings --master",
    );
    assert_eq!(total["earned"].as_u64(), Some(earned), "{total}");
    assert_eq!(total["uses_settled"].as_u64(), Some(uses), "{total}");
    assert_eq!(total["accounts"].as_array().unwrap().len(), 2, "{total}");
    let text = ok(
        assent_in(
            &net,
            fresh.path(),
            &["consumer", "earnings", "--master", "carol"],
        ),
        "earnings --master (text)",
    );
    assert!(
        text.contains(&format!(
            "2 pairwise account(s) earned {earned} points from {uses} settled use(s)"
        )),
        "{text}"
    );

    // Each recovered key still reads its own tags off the chain.
    let tags = fresh_json(
        &[
            "consumer",
            "my-tags",
            "--key",
            "carol-acme-retail",
            "--candidate",
            "runner,vegan",
        ],
        "my-tags",
    );
    assert_eq!(tags["tags"], serde_json::json!(["runner"]), "{tags}");
}
