//! `assent consumer register --referrer` registers and then names the
//! referrer (two txs, in nonce order); `assent consumer refer` names one
//! later; `assent consumer earnings` shows who referred a consumer and what
//! a referrer earned (decision 29) — against a fake node.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use assent_contracts::Payload;
use common::fake_node::{chain_basics, Answer, FakeNode, Request, TxLog};
use common::{json, Home};
use serde_json::json;

fn fake_node(ledger: Arc<Mutex<TxLog>>, bob: String, alice: String) -> FakeNode {
    FakeNode::start(move |r: &Request| {
        let mut l = ledger.lock().unwrap();
        if let Some(a) = chain_basics(r, &mut l, json!({}), |_| {}) {
            return a;
        }
        let path = r.path.as_str();
        let parts: Vec<&str> = path.split('/').collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["", "v1", "consumers", c, "earnings"]) if *c == alice => Answer::json(
                200,
                json!({"consumer": c, "earned": 180, "uses_settled": 2, "balance": 180,
                       "referral_earned": 0, "referred_consumers": 0,
                       "referred_by": {"referrer": bob, "named_at": 11, "named_time": 0,
                                       "paid_to_referrer": 10}}),
            ),
            ("GET", ["", "v1", "consumers", c, "earnings"]) => Answer::json(
                200,
                json!({"consumer": c, "earned": 0, "uses_settled": 0, "balance": 10,
                       "referral_earned": 10, "referred_consumers": 1, "referred_by": null}),
            ),
            _ => Answer::json(404, json!({"code": "not_found", "message": path})),
        }
    })
}

fn at<'a>(url: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--node", url];
    v.extend_from_slice(args);
    v
}

#[test]
fn a_referrer_is_named_at_registration_or_later_and_earnings_show_both_sides() {
    let home = Home::new();
    let alice = home.key("alice");
    let bob = home.key("bob");
    let carol = home.key("carol");
    let ledger = Arc::new(Mutex::new(TxLog::default()));
    let node = fake_node(ledger.clone(), bob.clone(), alice.clone());
    let url = node.url();

    home.ok(&at(
        &url,
        &[
            "consumer",
            "register",
            "--from",
            "alice",
            "--tag",
            "runner",
            "--referrer",
            "bob",
        ],
    ));
    home.ok(&at(&url, &["consumer", "register", "--from", "carol"]));
    let out = home.ok(&at(
        &url,
        &["consumer", "refer", "--from", "carol", "--referrer", &bob],
    ));
    assert!(out.contains("named bob"), "{out}");
    {
        let l = ledger.lock().unwrap();
        let got: Vec<(String, u64, String)> = l
            .txs
            .iter()
            .map(|t| {
                let what = match &t.body.payload {
                    Payload::RegisterConsumer(_) => "register".to_string(),
                    Payload::NameReferrer(n) => format!("refer {}", n.referrer),
                    other => panic!("unexpected tx {other:?}"),
                };
                (t.body.sender.to_string(), t.body.nonce, what)
            })
            .collect();
        assert_eq!(
            got,
            [
                (alice.clone(), 0, "register".to_string()),
                (alice.clone(), 1, format!("refer {bob}")),
                (carol.clone(), 0, "register".to_string()),
                (carol.clone(), 1, format!("refer {bob}")),
            ]
        );
    }

    let a = home.ok(&at(&url, &["consumer", "earnings", "alice"]));
    assert!(a.contains("earned 180 points"), "{a}");
    assert!(
        a.contains("referred by bob (") && a.contains("paid them 10 points"),
        "{a}"
    );
    let b = home.ok(&at(&url, &["consumer", "earnings", "bob"]));
    assert!(
        b.contains("referral: earned 10 points from the uses of 1 consumer(s) you referred"),
        "{b}"
    );
    let v = json(&home.ok(&at(
        &url,
        &["--output", "json", "consumer", "earnings", "bob"],
    )));
    assert_eq!(v["referral_earned"], 10);

    // A referrer that is neither a key name nor an account is refused before
    // anything is sent.
    let sent = ledger.lock().unwrap().txs.len();
    let line = home.fails(&at(
        &url,
        &[
            "consumer",
            "refer",
            "--from",
            "alice",
            "--referrer",
            "nobody",
        ],
    ));
    assert!(line.contains("--referrer"), "{line}");
    assert_eq!(ledger.lock().unwrap().txs.len(), sent);
}
