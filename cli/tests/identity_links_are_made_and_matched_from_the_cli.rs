//! `assent consumer link` draws a salt, puts only the commitment on the chain
//! and writes a link token without the identifier; `assent enterprise
//! match-link` recomputes the commitment from the enterprise's own record and
//! says match (exit 0), no match or no such link (exit 1); malformed
//! identifiers are refused before anything is sent — against a fake node
//! that keeps the links the txs make.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use assent_contracts::{Payload, SignedTx};
use common::fake_node::{chain_basics, Answer, FakeNode, Request, TxLog};
use common::{hex32, json, Home, CHAIN};
use serde_json::json;

/// (consumer, enterprise, kind) → commitment.
type Links = BTreeMap<(String, String, String), String>;

fn fake_node(log: Arc<Mutex<TxLog>>, links: Arc<Mutex<Links>>) -> FakeNode {
    FakeNode::start(move |r: &Request| {
        let mut links = links.lock().unwrap();
        let keep = |tx: &SignedTx| {
            let sender = tx.body.sender.to_string();
            match &tx.body.payload {
                Payload::LinkIdentity(k) => {
                    links.insert(
                        (sender, k.enterprise.to_string(), k.kind.to_string()),
                        k.commitment.to_string(),
                    );
                }
                Payload::UnlinkIdentity(u) => {
                    links.remove(&(sender, u.enterprise.to_string(), u.kind.to_string()));
                }
                other => panic!("unexpected tx {other:?}"),
            }
        };
        if let Some(a) = chain_basics(r, &mut log.lock().unwrap(), json!({}), keep) {
            return a;
        }
        let path = r.path.as_str();
        let parts: Vec<&str> = path.split('/').collect();
        match (r.method.as_str(), parts.as_slice()) {
            ("GET", ["", "v1", "consumers", c, "links", e, k]) => {
                match links.get(&(c.to_string(), e.to_string(), k.to_string())) {
                    Some(commitment) => Answer::json(
                        200,
                        json!({"consumer": c, "enterprise": e, "enterprise_name": "Acme",
                               "kind": k, "commitment": commitment, "linked_at": 11, "height": 12}),
                    ),
                    None => Answer::json(
                        404,
                        json!({"code": "unknown_link", "message": "no such link at height 12"}),
                    ),
                }
            }
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
fn a_link_token_lets_the_enterprise_match_its_own_record_and_nothing_else() {
    let home = Home::new();
    let alice = home.key("alice");
    let acme = home.key("acme");
    let bank = home.key("bank");
    let links = Arc::new(Mutex::new(Links::new()));
    let node = fake_node(Arc::default(), links.clone());
    let url = node.url();
    let token = home.file("alice-acme.json");
    let token_s = token.to_str().unwrap();

    let out = home.ok(&at(
        &url,
        &[
            "consumer",
            "link",
            "--from",
            "alice",
            "--enterprise",
            "acme",
            "--kind",
            "email",
            "--id",
            " Alice@Example.com ",
            "--out",
            token_s,
        ],
    ));
    assert!(out.contains("link token written to"), "{out}");
    assert!(out.contains("only to acme"), "{out}");
    let t = json(&std::fs::read_to_string(&token).unwrap());
    assert_eq!(t["version"], 1);
    assert_eq!(t["chain_id"], CHAIN);
    assert_eq!(t["consumer"], alice);
    assert_eq!(t["enterprise"], acme);
    assert_eq!(t["kind"], "email");
    assert_eq!(t["salt"].as_str().unwrap().len(), 64);
    let raw = std::fs::read_to_string(&token).unwrap().to_lowercase();
    assert!(!raw.contains("alice@example.com"), "{raw}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the token is readable by others: {mode:o}");
    }
    // Nothing but the commitment reached the node.
    for r in node.requests() {
        let body = String::from_utf8_lossy(&r.body).to_lowercase();
        assert!(!body.contains("example.com") && !r.path.contains("example.com"));
    }

    // A second email link for acme is refused before a token is written.
    let again = home.file("again.json");
    let line = home.fails(&at(
        &url,
        &[
            "consumer",
            "link",
            "--from",
            "alice",
            "--enterprise",
            "acme",
            "--kind",
            "email",
            "--id",
            "alice@work.example",
            "--out",
            again.to_str().unwrap(),
        ],
    ));
    assert!(
        line.contains("already linked") && line.contains("unlink"),
        "{line}"
    );
    assert!(!again.exists());

    // acme matches its own record, as its CRM holds it.
    let m = |id: &str| {
        home.run(&at(
            &url,
            &["enterprise", "match-link", "--token", token_s, "--id", id],
        ))
    };
    let ok = m("alice@example.com");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let text = String::from_utf8(ok.stdout).unwrap();
    assert!(text.starts_with("match: "), "{text}");
    let no = m("alice@example.org");
    assert_eq!(no.status.code(), Some(1));
    let line = common::expect_clean_failure(no, &["match-link"]);
    assert!(line.contains("no match"), "{line}");

    // The same by flags, as JSON.
    let salt = t["salt"].as_str().unwrap();
    let v = json(&home.ok(&at(
        &url,
        &[
            "--output",
            "json",
            "enterprise",
            "match-link",
            "--consumer",
            &alice,
            "--enterprise",
            "acme",
            "--kind",
            "email",
            "--salt",
            salt,
            "--id",
            "ALICE@example.com",
        ],
    )));
    assert_eq!(v["result"], "match");
    // Another salt does not match.
    let line = home.fails(&at(
        &url,
        &[
            "enterprise",
            "match-link",
            "--consumer",
            "alice",
            "--enterprise",
            "acme",
            "--kind",
            "email",
            "--salt",
            &hex32(1),
            "--id",
            "alice@example.com",
        ],
    ));
    assert!(line.contains("no match"), "{line}");

    // A link of the same identifier for the bank has another salt and commitment.
    let v = json(&home.ok(&at(
        &url,
        &[
            "--output",
            "json",
            "consumer",
            "link",
            "--from",
            "alice",
            "--enterprise",
            &bank,
            "--kind",
            "email",
            "--id",
            "alice@example.com",
        ],
    )));
    assert_ne!(v["link_token"]["salt"], t["salt"]);
    assert_eq!(v["link_token"]["enterprise"], bank);
    {
        let l = links.lock().unwrap();
        let c: Vec<&String> = l.values().collect();
        assert_eq!(c.len(), 2);
        assert_ne!(c[0], c[1]);
    }

    // alice unlinks acme: acme's match now finds no link.
    home.ok(&at(
        &url,
        &[
            "consumer",
            "unlink",
            "--from",
            "alice",
            "--enterprise",
            "acme",
            "--kind",
            "email",
        ],
    ));
    let gone = m("alice@example.com");
    assert_eq!(gone.status.code(), Some(1));
    let line = common::expect_clean_failure(gone, &["match-link"]);
    assert!(line.contains("no such link"), "{line}");
}

#[test]
fn malformed_identifiers_tokens_and_flags_are_refused_before_anything_is_sent() {
    let home = Home::new();
    home.key("alice");
    home.key("acme");
    let node = fake_node(Arc::default(), Arc::default());
    let url = node.url();
    for (kind, id, why) in [
        ("email", "alice.example.com", "exactly one @"),
        ("phone", "020 7946 0000", "country code"),
        ("openid", "wx8f2a0c1d", "no `|`"),
        ("member_card", "  ", "is empty"),
    ] {
        let line = home.fails(&at(
            &url,
            &[
                "consumer",
                "link",
                "--from",
                "alice",
                "--enterprise",
                "acme",
                "--kind",
                kind,
                "--id",
                id,
            ],
        ));
        assert!(
            line.contains("--id") && line.contains(why),
            "{kind}: {line}"
        );
    }
    assert!(node.requests().is_empty(), "{:?}", node.routes());

    let line = home.fails(&at(
        &url,
        &[
            "consumer",
            "link",
            "--from",
            "alice",
            "--enterprise",
            "acme",
            "--kind",
            "passport",
            "--id",
            "x",
        ],
    ));
    assert!(
        line.contains("member_card, phone, email or openid"),
        "{line}"
    );

    // An existing --out is kept unless --force.
    let file = home.file("kept.json");
    std::fs::write(&file, "old").unwrap();
    let line = home.fails(&at(
        &url,
        &[
            "consumer",
            "link",
            "--from",
            "alice",
            "--enterprise",
            "acme",
            "--kind",
            "email",
            "--id",
            "alice@example.com",
            "--out",
            file.to_str().unwrap(),
        ],
    ));
    assert!(line.contains("--force"), "{line}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");

    // match-link: a file that is no token, a token with flags, missing flags.
    let line = home.fails(&at(
        &url,
        &[
            "enterprise",
            "match-link",
            "--token",
            file.to_str().unwrap(),
            "--id",
            "a@b.cd",
        ],
    ));
    assert!(line.contains("is not a link token"), "{line}");
    let line = home.fails(&at(
        &url,
        &[
            "enterprise",
            "match-link",
            "--consumer",
            "alice",
            "--id",
            "a@b.cd",
        ],
    ));
    assert!(line.contains("--enterprise is missing"), "{line}");
    let line = home.fails(&at(
        &url,
        &[
            "enterprise",
            "match-link",
            "--token",
            file.to_str().unwrap(),
            "--kind",
            "email",
            "--id",
            "a@b.cd",
        ],
    ));
    assert!(line.contains("cannot be used with"), "{line}");
}
