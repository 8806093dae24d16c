//! The node commands build a tx from the `tx build` flags, take the chain id
//! from `GET /v1/status` and the nonce from `GET /v1/accounts/{id}`, post the
//! signed tx as hex, poll `GET /v1/txs/{id}` until a block decides, and say
//! what happened — against a fake node that answers per the contract.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use assent_contracts::{AccountId, Payload, SignedTx};
use common::fake_node::{Answer, FakeNode, Request};
use common::{expect_clean_failure, hex32, json, Home, CHAIN};
use serde_json::json;

/// How the fake chain treats txs.
#[derive(Default)]
struct Chain {
    /// Polls of each tx so far (the first answer is always `pending`).
    polls: BTreeMap<String, u32>,
    txs: BTreeMap<String, SignedTx>,
    reject: bool,
    never_commit: bool,
    refuse: Option<(u16, &'static str, &'static str)>,
}

fn events_of(tx: &SignedTx) -> serde_json::Value {
    match &tx.body.payload {
        Payload::GrantConsent(g) => json!([{"consent_granted": {
            "consent": tx.id().to_string(),
            "consumer": tx.body.sender.to_string(),
            "enterprise": g.enterprise.to_string(),
        }}]),
        Payload::Transfer(t) => json!([{"transferred": {
            "from": tx.body.sender.to_string(),
            "to": t.to.to_string(),
            "amount": t.amount.0,
        }}]),
        Payload::RecordUse(r) if r.uses.len() == 1 => json!([{"use_rejected": {
            "use_id": hex32(2), "index": 0, "consumer": r.uses[0].consumer.to_string(),
            "enterprise": tx.body.sender.to_string(), "code": "consent_revoked",
            "reason": "consent was revoked at height 12"}}]),
        Payload::RecordUse(r) => {
            let u = &r.uses;
            json!([
                {"use_settled": {"use_id": hex32(1), "index": 0, "consumer": u[0].consumer.to_string(),
                    "enterprise": tx.body.sender.to_string(), "units": 1,
                    "paid": 3, "to_consumer": 3, "to_operators": 0}},
                {"use_rejected": {"use_id": hex32(2), "index": 1, "consumer": u[1].consumer.to_string(),
                    "enterprise": tx.body.sender.to_string(), "code": "consent_paused",
                    "reason": "consent is paused"}},
            ])
        }
        _ => json!([]),
    }
}

fn fake_node(chain: Arc<Mutex<Chain>>) -> FakeNode {
    FakeNode::start(move |r: &Request| {
        let mut c = chain.lock().unwrap();
        let path = r.path.as_str();
        match r.method.as_str() {
            "GET" if path == "/v1/status" => Answer::json(
                200,
                json!({"chain_id": CHAIN, "genesis_hash": hex32(9), "height": 56,
                       "block_hash": hex32(8), "state_root": hex32(7), "time_ms": 0,
                       "validators": [{"name": "validator-0", "consensus_key": "x", "power": 1}],
                       "peers": 3, "syncing": false, "mempool": 0, "moniker": "fake",
                       "validator_key": "x"}),
            ),
            "GET" if path.starts_with("/v1/accounts/") => Answer::json(
                200,
                json!({"account": &path[13..], "balance": 1000, "nonce": 4, "next_nonce": 5,
                       "roles": ["consumer"]}),
            ),
            "POST" if path == "/v1/txs" => {
                if let Some((status, code, message)) = c.refuse {
                    return Answer::json(status, json!({"code": code, "message": message}));
                }
                let text = String::from_utf8(r.body.clone()).unwrap_or_default();
                match hex::decode(text.trim())
                    .ok()
                    .and_then(|b| SignedTx::decode(&b, 1 << 20).ok())
                {
                    Some(tx) => {
                        let id = tx.id().to_string();
                        c.txs.insert(id.clone(), tx);
                        Answer::json(202, json!({"tx_id": id}))
                    }
                    None => Answer::json(400, json!({"code": "malformed", "message": "bad tx"})),
                }
            }
            "GET" if path.starts_with("/v1/txs/") => {
                let id = path[8..].to_string();
                let Some(tx) = c.txs.get(&id).cloned() else {
                    return Answer::json(200, json!({"tx_id": id, "status": "unknown"}));
                };
                let n = c.polls.entry(id.clone()).or_insert(0);
                *n += 1;
                if *n == 1 || c.never_commit {
                    Answer::json(200, json!({"tx_id": id, "status": "pending"}))
                } else if c.reject {
                    Answer::json(
                        200,
                        json!({"tx_id": id, "status": "rejected", "height": 58, "index": 0,
                               "code": "consent_revoked",
                               "reason": "consent was revoked at height 12"}),
                    )
                } else {
                    Answer::json(
                        200,
                        json!({"tx_id": id, "status": "committed", "height": 57, "index": 0,
                               "events": events_of(&tx)}),
                    )
                }
            }
            _ => Answer::json(
                404,
                json!({"code": "not_found", "message": "no such route"}),
            ),
        }
    })
}

struct Setup {
    home: Home,
    alice: String,
    acme: String,
    chain: Arc<Mutex<Chain>>,
    node: FakeNode,
}

fn setup() -> Setup {
    let home = Home::new();
    let alice = home.key("alice");
    let acme = home.key("acme");
    let chain = Arc::new(Mutex::new(Chain::default()));
    let node = fake_node(chain.clone());
    Setup {
        home,
        alice,
        acme,
        chain,
        node,
    }
}

const GRANT: [&str; 14] = [
    "consent",
    "grant",
    "--from",
    "alice",
    "--enterprise",
    "acme",
    "--category",
    "Purchase",
    "--purpose",
    "DirectMarketing",
    "--level",
    "pseudonymous",
    "--price",
    "3",
];

fn with_node<'a>(url: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--node", url];
    v.extend_from_slice(args);
    v
}

/// The one tx the fake node received.
fn posted(node: &FakeNode) -> SignedTx {
    let posts: Vec<Request> = node
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1, "{:?}", node.routes());
    assert!(
        posts[0].content_type.starts_with("text/plain"),
        "{}",
        posts[0].content_type
    );
    let text = String::from_utf8(posts[0].body.clone()).unwrap();
    SignedTx::decode(&hex::decode(text.trim()).unwrap(), 1 << 20).unwrap()
}

#[test]
fn grant_fetches_status_and_nonce_posts_hex_polls_and_prints_the_outcome() {
    let s = setup();
    let url = s.node.url();
    let out = s.home.ok(&with_node(&url, &GRANT));

    let tx = posted(&s.node);
    let id = tx.id().to_string();
    assert_eq!(tx.body.sender.to_string(), s.alice);
    assert_eq!(tx.body.nonce, 5, "the nonce is the node's next_nonce");
    assert!(
        tx.clone().verify(CHAIN).is_ok(),
        "signed for the node's chain"
    );
    match &tx.body.payload {
        Payload::GrantConsent(g) => {
            assert_eq!(g.enterprise, s.acme.parse::<AccountId>().unwrap());
            assert_eq!(g.price_per_use.0, 3);
        }
        other => panic!("posted {other:?}"),
    }
    let routes = s.node.routes();
    assert_eq!(
        &routes[..3],
        &[
            "GET /v1/status".to_string(),
            format!("GET /v1/accounts/{}", s.alice),
            "POST /v1/txs".to_string(),
        ]
    );
    let polls = routes
        .iter()
        .filter(|r| **r == format!("GET /v1/txs/{id}"))
        .count();
    assert_eq!(polls, 2, "pending once, then committed: {routes:?}");

    let line = out.trim();
    assert!(line.starts_with("alice granted acme (assent1"), "{line}");
    assert!(
        line.ends_with(&format!(
            "DirectMarketing on Purchase (pseudonymous) at 3 pts/use: consent {id} committed at height 57"
        )),
        "{line}"
    );

    // The same tx id can be looked up afterwards.
    let status = s.home.ok(&with_node(&url, &["tx", "status", &id]));
    assert!(
        status.starts_with(&format!("tx {id}: committed at height 57")),
        "{status}"
    );
    assert!(status.contains("consent_granted"), "{status}");
    assert!(status.contains("consumer=alice"), "{status}");
    let unknown = s.home.ok(&with_node(&url, &["tx", "status", &hex32(1)]));
    assert!(unknown.contains("unknown to this node"), "{unknown}");
}

#[test]
fn json_output_explicit_nonce_and_no_wait() {
    let s = setup();
    let url = s.node.url();
    let mut args = with_node(&url, &["--output", "json"]);
    args.extend_from_slice(&GRANT);
    args.extend_from_slice(&["--nonce", "9"]);
    let v = json(&s.home.ok(&args));
    assert_eq!(v["status"], "committed");
    assert_eq!(v["height"], 57);
    assert_eq!(v["nonce"], 9);
    assert_eq!(v["kind"], "GrantConsent");
    assert!(v["summary"]
        .as_str()
        .unwrap()
        .contains("alice granted acme"));
    assert_eq!(posted(&s.node).body.nonce, 9);
    assert!(
        !s.node
            .routes()
            .iter()
            .any(|r| r.starts_with("GET /v1/accounts")),
        "--nonce needs no account lookup"
    );

    let s = setup();
    let url = s.node.url();
    let mut args = with_node(&url, &GRANT);
    args.push("--no-wait");
    let out = s.home.ok(&args);
    let id = posted(&s.node).id().to_string();
    assert_eq!(out, format!("{id}\n"));
    assert!(!s.node.routes().iter().any(|r| r.starts_with("GET /v1/txs")));
}

#[test]
fn rejections_refusals_and_timeouts_are_one_line_errors() {
    let s = setup();
    let url = s.node.url();
    s.chain.lock().unwrap().reject = true;
    let consent = hex32(0xcd);
    let revoke = [
        "consent",
        "revoke",
        "--from",
        "alice",
        "--consent",
        consent.as_str(),
    ];
    let line = s.home.fails(&with_node(&url, &revoke));
    assert!(
        line.starts_with("error: rejected: consent_revoked: consent was revoked at height 12 (tx "),
        "{line}"
    );
    assert!(line.contains("block 58"), "{line}");

    s.chain.lock().unwrap().reject = false;
    s.chain.lock().unwrap().refuse = Some((422, "stale_nonce", "nonce 5 is not next (6)"));
    let line = s.home.fails(&with_node(&url, &revoke));
    assert_eq!(
        line,
        "error: the node refused POST /v1/txs: stale_nonce: nonce 5 is not next (6) (another tx of this account went first; run the command again)"
    );

    s.chain.lock().unwrap().refuse = None;
    s.chain.lock().unwrap().never_commit = true;
    let mut args = with_node(&url, &revoke);
    args.extend_from_slice(&["--timeout", "300ms"]);
    let line = s.home.fails(&args);
    assert!(
        line.contains("was not committed within 300ms (status: pending)")
            && line.contains("assent tx status"),
        "{line}"
    );
}

#[test]
fn tx_submit_sends_a_file_signed_offline_for_the_nodes_chain_only() {
    let s = setup();
    let url = s.node.url();
    let file = s.home.file("t.tx");
    let file = file.to_str().unwrap();
    let build = |chain: &str| {
        s.home.ok(&[
            "tx",
            "build",
            "transfer",
            "--to",
            "acme",
            "--amount",
            "7",
            "--from",
            "alice",
            "--nonce",
            "0",
            "--chain-id",
            chain,
            "--out",
            file,
        ]);
    };
    build("another-chain");
    let line = s.home.fails(&with_node(&url, &["tx", "submit", file]));
    assert!(
        line.contains(&format!("does not verify for the node's chain `{CHAIN}`"))
            && line.contains("nothing was sent"),
        "{line}"
    );
    assert!(!s.node.routes().iter().any(|r| r.starts_with("POST")));

    std::fs::remove_file(file).unwrap();
    build(CHAIN);
    let out = s.home.ok(&with_node(&url, &["tx", "submit", file]));
    assert!(
        out.starts_with("alice sent 7 points to acme (assent1")
            && out.contains("committed at height 57"),
        "{out}"
    );
    assert_eq!(posted(&s.node).body.sender.to_string(), s.alice);
}

#[test]
fn queries_print_text_or_the_nodes_json() {
    let s = setup();
    let url = s.node.url();
    let text = s.home.ok(&with_node(&url, &["balance", "alice"]));
    assert!(
        text.starts_with("alice (assent1")
            && text.contains("1000 points (nonce 4, next 5; consumer)"),
        "{text}"
    );
    let v = json(&s.home.ok(&with_node(
        &url,
        &["--output", "json", "balance", "--key", "acme"],
    )));
    assert_eq!(v["next_nonce"], 5);
    assert!(s
        .node
        .routes()
        .contains(&format!("GET /v1/accounts/{}", s.acme)));
    let text = s.home.ok(&with_node(&url, &["status"]));
    assert!(
        text.contains(CHAIN) && text.contains("height:      56"),
        "{text}"
    );

    // A route the node lacks is a clear one-line error, not a panic.
    let out = s.home.run(&with_node(&url, &["consent", "list", "alice"]));
    let line = expect_clean_failure(out, &["consent", "list"]);
    assert!(line.contains("not_found"), "{line}");
}

#[test]
fn a_batch_of_uses_from_a_file_reports_each_rejection() {
    let s = setup();
    let url = s.node.url();
    let h = hex32(0xab);
    let csv = format!(
        "consumer,consent,category,purpose,level,units,evidence_hash\n\
         {a},{h},Purchase,DirectMarketing,pseudonymous,1,{h}\n\
         {a},{h},Purchase,DirectMarketing,pseudonymous,1,{h}\n",
        a = s.alice
    );
    let file = s.home.file("uses.csv");
    std::fs::write(&file, csv).unwrap();
    let out = s.home.ok(&with_node(
        &url,
        &[
            "use",
            "record",
            "--from",
            "acme",
            "--file",
            file.to_str().unwrap(),
        ],
    ));
    assert!(
        out.starts_with(
            "acme recorded 2 uses: 1 settled (3 points paid, 3 to consumers), 1 rejected: committed at height 57\n  use #1 of alice rejected: consent_paused: consent is paused"
        ),
        "{out}"
    );
    match &posted(&s.node).body.payload {
        Payload::RecordUse(r) => assert_eq!(r.uses.len(), 2),
        other => panic!("posted {other:?}"),
    }
}

#[test]
fn a_single_use_that_is_rejected_is_an_error() {
    let s = setup();
    let url = s.node.url();
    let h = hex32(0xab);
    let line = s.home.fails(&with_node(
        &url,
        &[
            "use",
            "record",
            "--from",
            "acme",
            "--consumer",
            "alice",
            "--consent",
            &h,
            "--category",
            "Purchase",
            "--purpose",
            "DirectMarketing",
            "--level",
            "aggregate",
            "--evidence-hash",
            &h,
        ],
    ));
    assert!(
        line.starts_with(
            "error: rejected: consent_revoked: consent was revoked at height 12 (use of alice, tx "
        ) && line.ends_with("block 57)"),
        "{line}"
    );
    match &posted(&s.node).body.payload {
        Payload::RecordUse(r) => {
            assert_eq!(
                r.uses[0].consumer.to_string(),
                s.alice,
                "--consumer took a key name"
            )
        }
        other => panic!("posted {other:?}"),
    }
}
