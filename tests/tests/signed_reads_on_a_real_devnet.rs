//! Signed reads on four real `assentd` processes (issue 14, item 1): an
//! unsigned read of a consumer's consents is 401; another consumer's signed
//! read is 403; an expired or replayed signature is 401; each of two
//! enterprises sees the consent granted to it and not the other's; an
//! operator reads blocks and the event stream, and is counted; anyone reads
//! the aggregate figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_contracts::terms::{Level, Sector};
use assent_contracts::tx::*;
use assent_contracts::{Amount, Payload, ProposalId};
use assent_tests::Net;
use serde_json::Value;

fn grant(enterprise: &Keypair) -> Payload {
    Payload::GrantConsent(GrantConsent {
        enterprise: enterprise.account(),
        categories: vec!["Purchase".parse().unwrap()],
        purposes: vec!["DirectMarketing".parse().unwrap()],
        level: Level::Pseudonymous,
        price_per_use: Amount(5),
        max_uses: None,
        expires_at: None,
        request: None,
    })
}

/// (status, JSON body) of `GET path` on node `i` signed by `key`.
fn read_as(net: &Net, i: usize, key: &Keypair, path: &str) -> (u16, Value) {
    let r = net.signed_get_as(i, key, path).send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn unsigned(net: &Net, i: usize, path: &str) -> (u16, Value) {
    let r = reqwest::blocking::get(format!("{}{path}", net.nodes[i].api)).unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

#[test]
fn signed_reads_answer_each_reader_only_what_is_theirs() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let (alice, acme) = (net.key("alice"), net.key("acme"));
    let globex = Keypair::from_seed([61; 32]);
    let bob = Keypair::from_seed([62; 32]);

    // A second enterprise, admitted by three of the four operators.
    let ops: Vec<Keypair> = (0..3).map(|i| net.key(&format!("operator-{i}"))).collect();
    let r = net.run(
        0,
        &ops[0],
        Payload::Propose(Propose {
            action: GovAction::AdmitEnterprise {
                account: globex.account(),
                name: "Globex".into(),
                sector: Sector::Retail,
                jurisdiction: "EU".into(),
                policy_url: "https://globex.example/privacy".into(),
            },
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    let proposal: ProposalId = r["tx_id"].as_str().unwrap().parse().unwrap();
    for op in &ops[1..] {
        let r = net.run(
            0,
            op,
            Payload::Vote(Vote {
                proposal,
                yes: true,
            }),
        );
        assert_eq!(r["status"], "committed", "{r}");
    }
    assert_eq!(
        unsigned(&net, 1, &format!("/v1/enterprises/{}", globex.account())).0,
        200
    );

    // alice gives each enterprise a consent.
    let r = net.run(
        1,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: Default::default(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    for e in [&acme, &globex] {
        let r = net.run(1, &alice, grant(e));
        assert_eq!(r["status"], "committed", "{r}");
    }
    let consents = format!("/v1/consumers/{}/consents", alice.account());

    // Unsigned: 401, on every node.
    for i in 0..4 {
        let (s, v) = unsigned(&net, i, &consents);
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("unsigned")),
            "node {i}: {v}"
        );
    }
    // alice reads both of hers; another consumer nothing.
    let (s, v) = read_as(&net, 2, &alice, &consents);
    assert_eq!(
        (s, v["consents"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{v}"
    );
    let (s, v) = read_as(&net, 2, &bob, &consents);
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
    // Each enterprise sees the consent granted to it, and not the other's.
    for (e, other) in [(&acme, &globex), (&globex, &acme)] {
        let (s, v) = read_as(&net, 3, e, &consents);
        assert_eq!(s, 200, "{v}");
        let list = v["consents"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{v}");
        assert_eq!(list[0]["enterprise"], e.account().to_string());
        assert!(!v.to_string().contains(&other.account().to_string()), "{v}");
    }

    // An expired signature, and a replayed one.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let old = assent_keys::reads::sign(&alice, &net.chain_id, "GET", &consents, now - 400, 300);
    let h = assent_keys::reads::sign(&alice, &net.chain_id, "GET", &consents, now, 60);
    let http = reqwest::blocking::Client::new();
    let send = |h: &assent_keys::reads::SignedHeaders| {
        let r = http
            .get(format!("{}{consents}", net.nodes[0].api))
            .header("signature-input", &h.signature_input)
            .header("signature", &h.signature)
            .send()
            .unwrap();
        (
            r.status().as_u16(),
            r.json::<Value>().unwrap_or(Value::Null),
        )
    };
    let (s, v) = send(&old);
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("signature_expired")),
        "{v}"
    );
    assert_eq!(send(&h).0, 200);
    let (s, v) = send(&h);
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("replayed_signature")),
        "{v}"
    );

    // Blocks and the whole event stream are for operators.
    let op = &ops[0];
    assert_eq!(read_as(&net, 0, &alice, "/v1/blocks/1").0, 403);
    let (s, v) = read_as(&net, 0, op, "/v1/blocks/1");
    assert_eq!(s, 200, "{v}");
    assert!(v["header"].is_object(), "{v}");
    let resp = net
        .signed_get_as(0, op, "/v1/events?from=0:0")
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let first = BufReader::new(resp)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("event: "))
        .expect("the operator's stream carries events");
    assert!(first.len() > "event: ".len(), "{first}");
    assert!(net.metric(0, "assent_api_operator_reads_total") >= 2);

    // The aggregate figures are anyone's and name no one.
    let (s, v) = unsigned(&net, 0, "/v1/stats");
    assert_eq!((s, v["consents"]["live"].as_u64()), (200, Some(2)), "{v}");
    assert!(!v.to_string().contains("assent1"), "{v}");
}
