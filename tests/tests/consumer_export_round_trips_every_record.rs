//! A consumer with a few hundred records (100 consents to two enterprises,
//! paused, resumed, revoked one by one and all at once, expired; ~300 uses
//! settled or rejected, under consents and a policy; points by Transfer and
//! Mint) exports them with `assent consumer export`. Every consent, state
//! change, use and reward the ledger holds — read back independently from
//! the consents and uses API and by walking every block — appears in the
//! export exactly once with the same fields, nothing else does (not a
//! second consumer's records), the CSVs hold the same rows as the JSONs,
//! and the receipts verify offline against the genesis. An unknown or
//! garbage account is one clear error and exit 1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use assent_contracts::crypto::Keypair;
use assent_contracts::receipt::{Receipt, Subject, Trust};
use assent_contracts::Event;
use assent_tests::Net;
use serde_json::Value;

#[path = "consumer_export/support.rs"]
mod support;
use support::*;
#[path = "consumer_export/history.rs"]
mod history;
use history::History;

#[test]
fn consumer_export_round_trips_every_record() {
    let started = Instant::now();
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let alice = net.key("alice");
    let acme = net.key("acme");
    let mint = net.key("mint");
    let beta = Keypair::from_seed([41; 32]);
    let bob = Keypair::from_seed([42; 32]);
    let (a, b) = (alice.account(), bob.account());

    let History {
        consents,
        bob_consents,
        policy,
    } = history::run(&net, &alice, &acme, &mint, &beta, &bob);
    let setup_done = started.elapsed();

    // Export through the CLI (it talks to node 1).
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("alice-export");
    let o = assent(
        &net,
        &[
            "consumer",
            "export",
            "--as",
            "alice",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("100 consent(s)"), "{stdout}");

    let consumer = read_json(&dir, "consumer.json");
    let h = consumer["as_of"]["height"].as_u64().unwrap();
    let head_time = consumer["as_of"]["time"].as_u64().unwrap();
    assert_eq!(consumer["account"], a.to_string());
    assert_eq!(consumer["as_of"]["chain_id"], net.chain_id);
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("height {h}")) && readme.contains(&net.chain_id),
        "{readme}"
    );
    assert!(readme.contains("assent receipt verify"), "{readme}");

    // The independent truth: the API (nothing of alice changed after the export's height) and the blocks.
    let truth = walk_blocks(&net, &a, h);
    let api_consents = net.get(2, &format!("/v1/consumers/{a}/consents")).unwrap();
    let api_uses = net
        .get(3, &format!("/v1/consumers/{a}/uses?limit=1000"))
        .unwrap();
    let earnings = net.get(0, &format!("/v1/consumers/{a}/earnings")).unwrap();
    assert_eq!(consumer["earned"], earnings["earned"]);
    assert_eq!(consumer["uses_settled"], earnings["uses_settled"]);
    assert_eq!(consumer["balance"], earnings["balance"]);
    // Tags are commitments (decision 33): only alice's key reads them back.
    let tags: assent_contracts::tags::TagCommitments =
        serde_json::from_value(consumer["tags"].clone()).unwrap();
    assert_eq!(tags.commitments.len(), assent_contracts::tx::MAX_TAGS);
    let runner = ["runner".parse().unwrap()];
    let found = assent_cli::derive::recover_tags(&alice, &net.chain_id, &a, &tags, &runner);
    assert_eq!(found.tags, runner);

    // Consents: the same set, the same record fields, the history the blocks show.
    let exported = read_json(&dir, "consents.json");
    let exported = exported["consents"].as_array().unwrap();
    assert_eq!(exported.len(), 100);
    let api: BTreeMap<String, &Value> = api_consents["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect();
    assert_eq!(api.len(), 100);
    let ids: BTreeSet<String> = exported
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        api.keys().cloned().collect::<BTreeSet<_>>(),
        "each consent exactly once"
    );
    assert_eq!(ids, truth.changes.keys().cloned().collect::<BTreeSet<_>>());
    let mut history_rows = Vec::new();
    for c in exported {
        let id = c["id"].as_str().unwrap();
        let want = api[id];
        for f in [
            "consumer",
            "enterprise",
            "categories",
            "purposes",
            "level",
            "price_per_use",
            "max_uses",
            "used",
            "expires_at",
            "request",
            "granted_height",
            "granted_time",
            "state",
            "status",
        ] {
            assert_eq!(c[f], want[f], "consent {id} field {f}");
        }
        let hist = c["history"].as_array().unwrap();
        let from_txs: Vec<(String, u64, String)> = hist
            .iter()
            .filter(|x| !x["tx_id"].is_null())
            .map(|x| {
                (
                    x["change"].as_str().unwrap().to_string(),
                    x["height"].as_u64().unwrap(),
                    x["tx_id"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(from_txs, truth.changes[id], "history of consent {id}");
        let expiry: Vec<&Value> = hist.iter().filter(|x| x["change"] == "expired").collect();
        let expected_expiry = want["expires_at"].as_u64().is_some_and(|t| t <= head_time);
        assert_eq!(
            expiry.len(),
            usize::from(expected_expiry),
            "consent {id}: {hist:?}"
        );
        assert_eq!(
            hist.last().unwrap()["status"],
            want["status"],
            "consent {id}: {hist:?}"
        );
        for (k, x) in hist.iter().enumerate() {
            assert_eq!(x["seq"].as_u64(), Some(k as u64 + 1));
            history_rows.push((id.to_string(), x.clone()));
        }
    }
    // The story of a few consents in words.
    let hist_of = |i: usize| -> Vec<String> {
        let c = exported
            .iter()
            .find(|c| c["id"] == consents[i].to_string())
            .unwrap();
        c["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["change"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(hist_of(15), ["granted", "paused", "resumed", "expired"]);
    assert_eq!(hist_of(65), ["granted", "expired", "revoked"]);
    assert_eq!(hist_of(50), ["granted", "paused", "resumed", "paused"]);
    assert_eq!(hist_of(27), ["granted", "paused", "revoked"]);
    let c70 = exported
        .iter()
        .find(|c| c["id"] == consents[70].to_string())
        .unwrap();
    assert_eq!(c70["history"][1]["tx_kind"], "RevokeAll");
    assert_eq!(c70["status"], "ConsentWithdrawn");
    assert_eq!(c70["enterprise_name"], "Beta Bank");

    // Uses: every one once, the same fields as the API and the blocks.
    let uses_json = read_json(&dir, "uses.json");
    let uses = uses_json["uses"].as_array().unwrap();
    let api_uses: BTreeMap<String, &Value> = api_uses["uses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["use_id"].as_str().unwrap().to_string(), u))
        .collect();
    assert_eq!(uses.len(), truth.uses.len());
    assert!(uses.len() >= 300, "a few hundred uses: {}", uses.len());
    assert_eq!(api_uses.len(), uses.len());
    let use_ids: BTreeSet<String> = uses
        .iter()
        .map(|u| u["use_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(use_ids.len(), uses.len(), "each use exactly once");
    assert_eq!(use_ids, truth.uses.keys().cloned().collect::<BTreeSet<_>>());
    let (mut settled, mut rejected) = (0, 0);
    for u in uses {
        let id = u["use_id"].as_str().unwrap();
        let want = api_uses[id];
        for f in [
            "height",
            "tx_id",
            "index",
            "tx_index",
            "enterprise",
            "category",
            "purpose",
            "units",
            "settled",
            "paid",
            "to_consumer",
            "to_operators",
            "to_referrer",
            "referrer",
            "code",
            "reason",
        ] {
            assert_eq!(u[f], want[f], "use {id} field {f}");
        }
        let (kind, basis_id) = want["basis"].as_object().unwrap().iter().next().unwrap();
        assert_eq!(u["basis_kind"], kind.as_str());
        assert_eq!(u["basis_id"], *basis_id);
        let (height, tx, event) = &truth.uses[id];
        assert_eq!(
            (u["height"].as_u64().unwrap(), u["tx_id"].as_str().unwrap()),
            (*height, tx.as_str())
        );
        match event {
            Event::UseSettled { to_operators, .. } => {
                settled += 1;
                assert_eq!(u["to_operators"], to_operators.0);
            }
            _ => rejected += 1,
        }
    }
    assert!(
        settled > 100 && rejected > 50,
        "{settled} settled, {rejected} rejected"
    );
    assert_eq!(consumer["counts"]["uses_settled"], settled);

    // Rewards: each settled use's share, the transfer and the mint; nothing else.
    let rewards_json = read_json(&dir, "rewards.json");
    let rewards = rewards_json["rewards"].as_array().unwrap();
    let got: Vec<(String, String, u64, String)> = rewards
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["tx_id"].as_str().unwrap().to_string(),
                r["amount"].as_u64().unwrap(),
                r["use_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(got.len(), truth.rewards.len(), "each reward exactly once");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), truth.rewards);
    assert_eq!(rewards.len(), settled + 2);
    let total: u64 = got.iter().map(|r| r.2).sum();
    assert_eq!(rewards_json["total"], total);
    assert_eq!(
        earnings["earned"].as_u64().unwrap() + 82,
        total,
        "earned from uses + 77 transferred + 5 minted"
    );

    // Policies.
    let policies = read_json(&dir, "policies.json");
    assert_eq!(policies["policies"][0]["id"], policy.to_string());
    assert_eq!(policies["changes"].as_array().unwrap().len(), 1);

    // The CSVs hold the same rows as the JSONs.
    let rows = csv_rows(&dir, "consents.csv");
    assert_eq!(rows.len(), exported.len());
    for (r, c) in rows.iter().zip(exported) {
        assert_eq!(r["consent_id"], cell(&c["id"]));
        for f in [
            "enterprise",
            "enterprise_name",
            "categories",
            "purposes",
            "level",
            "price_per_use",
            "max_uses",
            "used",
            "expires_at",
            "request",
            "granted_height",
            "granted_time",
            "status",
            "rating",
        ] {
            assert_eq!(r[f], cell(&c[f]), "consents.csv {f}");
        }
        assert_eq!(
            r["changes"],
            c["history"].as_array().unwrap().len().to_string()
        );
    }
    let rows = csv_rows(&dir, "consent_history.csv");
    assert_eq!(rows.len(), history_rows.len());
    for (r, (id, x)) in rows.iter().zip(&history_rows) {
        assert_eq!(&r["consent_id"], id);
        for f in [
            "seq", "change", "status", "height", "time", "tx_id", "tx_kind", "receipt",
        ] {
            assert_eq!(r[f], cell(&x[f]), "consent_history.csv {f}");
        }
    }
    let rows = csv_rows(&dir, "uses.csv");
    assert_eq!(rows.len(), uses.len());
    for (r, u) in rows.iter().zip(uses) {
        for (f, _) in u.as_object().unwrap() {
            assert_eq!(r[f.as_str()], cell(&u[f]), "uses.csv {f}");
        }
    }
    let rows = csv_rows(&dir, "rewards.csv");
    assert_eq!(rows.len(), rewards.len());
    for (r, x) in rows.iter().zip(rewards) {
        for (f, _) in x.as_object().unwrap() {
            assert_eq!(r[f.as_str()], cell(&x[f]), "rewards.csv {f}");
        }
    }

    // Nothing else: exactly the listed files and one receipt per change with a tx and per use.
    let mut referenced: BTreeSet<String> = history_rows
        .iter()
        .filter_map(|(_, x)| x["receipt"].as_str().map(str::to_string))
        .collect();
    referenced.extend(
        uses.iter()
            .map(|u| u["receipt"].as_str().unwrap().to_string()),
    );
    let tx_changes = history_rows
        .iter()
        .filter(|(_, x)| !x["tx_id"].is_null())
        .count();
    assert_eq!(referenced.len(), tx_changes + uses.len());
    let mut expected: BTreeSet<String> = [
        "README.md",
        "consumer.json",
        "consents.json",
        "consents.csv",
        "consent_history.csv",
        "uses.json",
        "uses.csv",
        "rewards.json",
        "rewards.csv",
        "policies.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.extend(referenced.iter().cloned());
    assert_eq!(files_under(&dir), expected);
    // Not a trace of bob (his account, consents or uses) outside the receipts'
    // hex (which hold whole RecordUse txs, bob's uses included).
    let bob_use_ids: Vec<String> = {
        let u = net.get(0, &format!("/v1/consumers/{b}/uses")).unwrap();
        u["uses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["use_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(bob_use_ids.len(), 4);
    for f in expected.iter().filter(|f| !f.starts_with("receipts/")) {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(!text.contains(&b.to_string()), "{f} mentions bob");
        for id in bob_consents
            .iter()
            .map(|c| c.to_string())
            .chain(bob_use_ids.iter().cloned())
        {
            assert!(!text.contains(&id), "{f} holds bob's record {id}");
        }
    }
    for r in &referenced {
        let text = std::fs::read_to_string(dir.join(r)).unwrap();
        assert!(!text.contains(&b.to_string()));
    }

    // Receipts verify offline against the genesis and are about what they are named for.
    let genesis = assent_genesis::Genesis::load(net.dir.path().join("genesis.toml")).unwrap();
    let validators = genesis.initial_state().validators;
    let trust = Trust {
        chain_id: genesis.chain_id(),
        genesis_hash: genesis.hash(),
        validators: &validators,
        history: None,
    };
    let mut checked = 0;
    for (k, (_, x)) in history_rows.iter().enumerate().filter(|(k, _)| k % 9 == 0) {
        let Some(file) = x["receipt"].as_str() else {
            continue;
        };
        let r: Receipt = serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let p = r
            .verify(&trust)
            .unwrap_or_else(|e| panic!("{file} ({k}): {e}"));
        assert_eq!(p.tx_id.to_string(), x["tx_id"].as_str().unwrap());
        assert_eq!(p.height.0, x["height"].as_u64().unwrap());
        checked += 1;
    }
    for u in uses.iter().step_by(13) {
        let file = u["receipt"].as_str().unwrap();
        let r: Receipt = serde_json::from_slice(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let p = r.verify(&trust).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(p.tx_id.to_string(), u["tx_id"].as_str().unwrap());
        let index = u["index"].as_u64().unwrap() as u32;
        assert_eq!(p.subject, Subject::Use { index });
        match p.use_event(index).unwrap() {
            Event::UseSettled {
                use_id, consumer, ..
            }
            | Event::UseRejected {
                use_id, consumer, ..
            } => {
                assert_eq!(use_id.to_string(), u["use_id"].as_str().unwrap());
                assert_eq!(*consumer, a);
            }
            e => panic!("{e:?}"),
        }
        checked += 1;
    }
    assert!(checked > 40, "{checked} receipts checked");

    // Refusals: a non-empty DIR, an unknown consumer, garbage: one clear line, exit 1.
    let again = assent(
        &net,
        &[
            "consumer",
            "export",
            "--as",
            "alice",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    let stranger = Keypair::from_seed([99; 32]).account().to_string();
    let other = out.path().join("x");
    for (who, says) in [
        // No key of that account here: the node asks for a signed read.
        (stranger.as_str(), "unsigned"),
        ("assent1notanaccount", "--account"),
        ("!!garbage!!", "--account"),
    ] {
        let o = assent(
            &net,
            &[
                "consumer",
                "export",
                "--account",
                who,
                "--out",
                other.to_str().unwrap(),
            ],
        );
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{who}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(says) && err.trim().lines().count() == 1,
            "{who}: {err}"
        );
        assert!(!other.exists(), "nothing written for {who}");
    }
    eprintln!(
        "setup {setup_done:?}, total {:?}; {} uses, {} consent changes; {stdout}",
        started.elapsed(),
        uses.len(),
        history_rows.len()
    );
}
