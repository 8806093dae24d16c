//! `assent account`: rotate-key, guardians, recover, cancel-recovery and
//! claim sign exactly the key-control txs they say, with the right key;
//! bad lists are refused before anything is signed; `account show` warns of
//! a recovery under way and says how to cancel it — against a fake node.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use assent_contracts::{Payload, SignedTx};
use common::fake_node::{chain_basics, Answer, FakeNode, Request, TxLog};
use common::Home;
use serde_json::json;

fn fake_node(log: Arc<Mutex<TxLog>>, new_key: String, bob: String) -> FakeNode {
    FakeNode::start(move |r: &Request| {
        let account = json!({
            "current_key": null,
            "guardians": {"guardians": [bob], "threshold": 1, "delay_ms": 60_000, "set_at": 3},
            "recovery": {"new_key": new_key, "supporters": [bob], "started_at_ms": 0,
                         "armed_at_ms": 0, "effective_at_ms": 60_000},
        });
        match chain_basics(r, &mut log.lock().unwrap(), account, |_| {}) {
            Some(a) => a,
            None => Answer::json(404, json!({"code": "not_found", "message": r.path})),
        }
    })
}

fn at<'a>(url: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--node", url];
    v.extend_from_slice(args);
    v
}

fn last(log: &Arc<Mutex<TxLog>>) -> SignedTx {
    log.lock()
        .unwrap()
        .txs
        .last()
        .cloned()
        .expect("a tx was sent")
}

#[test]
fn key_control_commands_sign_what_they_say_with_the_right_key() {
    let home = Home::new();
    let alice = home.key("alice");
    let alice2 = home.key("alice-2");
    let bob = home.key("bob");
    let carol = home.key("carol");
    let fresh = home.key("alice-new");
    let log = Arc::new(Mutex::new(TxLog::default()));
    let node = fake_node(log.clone(), fresh.clone(), bob.clone());
    let url = node.url();

    home.ok(&at(
        &url,
        &[
            "account",
            "rotate-key",
            "--from",
            "alice",
            "--new-key",
            "alice-2",
        ],
    ));
    let tx = last(&log);
    assert_eq!(tx.body.sender.to_string(), alice);
    assert!(matches!(&tx.body.payload, Payload::RotateKey(r) if r.new_key.to_string() == alice2));

    // Guardians: a majority by default, a delay of 3 days.
    home.ok(&at(
        &url,
        &[
            "account",
            "guardians",
            "--from",
            "alice-2",
            "--guardian",
            "bob",
            "--guardian",
            "carol",
        ],
    ));
    let tx = last(&log);
    assert_eq!(tx.body.sender.to_string(), alice2);
    let Payload::SetGuardians(g) = &tx.body.payload else {
        panic!("{:?}", tx.body.payload)
    };
    let names: Vec<String> = g.guardians.iter().map(ToString::to_string).collect();
    assert_eq!(names, [bob.clone(), carol.clone()]);
    assert_eq!((g.threshold, g.delay_ms), (2, 3 * 24 * 3600 * 1000));

    // Refused before signing: nothing reaches the node.
    let sent = log.lock().unwrap().txs.len();
    let err = home.fails(&at(
        &url,
        &[
            "account",
            "guardians",
            "--from",
            "alice-2",
            "--guardian",
            "bob",
            "--threshold",
            "3",
        ],
    ));
    assert!(err.contains("threshold"), "{err}");
    let err = home.fails(&at(
        &url,
        &[
            "account",
            "guardians",
            "--from",
            "alice-2",
            "--guardian",
            "bob",
            "--delay",
            "soon",
        ],
    ));
    assert!(err.contains("--delay"), "{err}");
    assert_eq!(log.lock().unwrap().txs.len(), sent);

    // A guardian supports; the owner cancels; the new key claims.
    home.ok(&at(
        &url,
        &[
            "account",
            "recover",
            "--from",
            "bob",
            "--account",
            "alice",
            "--new-key",
            "alice-new",
        ],
    ));
    let tx = last(&log);
    assert_eq!(tx.body.sender.to_string(), bob);
    assert!(matches!(&tx.body.payload, Payload::SupportRecovery(s)
        if s.account.to_string() == alice && s.new_key.to_string() == fresh));
    home.ok(&at(
        &url,
        &["account", "cancel-recovery", "--from", "alice-2"],
    ));
    assert!(matches!(
        last(&log).body.payload,
        Payload::CancelRecovery(_)
    ));
    home.ok(&at(
        &url,
        &[
            "account",
            "claim",
            "--from",
            "alice-new",
            "--account",
            "alice",
        ],
    ));
    let tx = last(&log);
    assert_eq!(tx.body.sender.to_string(), fresh);
    assert!(
        matches!(&tx.body.payload, Payload::ClaimRecovery(c) if c.account.to_string() == alice)
    );

    // `show` warns of the recovery under way.
    let out = home.ok(&at(&url, &["account", "show", "alice"]));
    assert!(
        out.contains("RECOVERY UNDER WAY") && out.contains(&fresh),
        "{out}"
    );
    assert!(out.contains("cancel-recovery"), "{out}");
}
