//! (b) Through the HTTP API of different nodes: alice registers and grants
//! acme; acme records a use and alice is paid; alice revokes; acme's next use
//! is rejected with `consent_revoked` and alice is not paid again. The
//! public ranking (`assent enterprise rankings`) then shows acme's record:
//! what it paid, the share of uses it honoured, its use after a revocation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::terms::Level;
use assent_contracts::tx::*;
use assent_contracts::{Amount, ConsentId, Hash32, Payload};
use assent_tests::Net;

fn record(alice: &assent_contracts::AccountId, consent: ConsentId) -> Payload {
    Payload::RecordUse(RecordUse {
        uses: vec![Use {
            consumer: *alice,
            basis: UseBasis::Consent(consent),
            category: "Purchase".parse().unwrap(),
            purpose: "DirectMarketing".parse().unwrap(),
            level: Level::Pseudonymous,
            units: 2,
            evidence_hash: Hash32([7; 32]),
        }],
    })
}

#[test]
fn granted_use_is_paid_and_revoked_use_is_rejected() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let alice = net.key("alice");
    let acme = net.key("acme");

    let r = net.run(
        0,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: assent_cli::derive::tag_set(
                &alice,
                &net.chain_id,
                &alice.account(),
                0,
                &["runner".parse().unwrap()],
            )
            .unwrap(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    let grant = Payload::GrantConsent(GrantConsent {
        enterprise: acme.account(),
        categories: vec!["Purchase".parse().unwrap()],
        purposes: vec!["DirectMarketing".parse().unwrap()],
        level: Level::Pseudonymous,
        price_per_use: Amount(5),
        max_uses: None,
        expires_at: None,
        request: None,
    });
    let tx = net.sign(1, &alice, grant);
    let consent = ConsentId(tx.id().0);
    assert_eq!(net.submit(1, &tx).0, 202);
    assert_eq!(net.wait_tx(1, &tx.id().to_string())["status"], "committed");
    // Node 1 admitted it from its API; the others got it by gossip, and
    // say so in how they admitted their batches.
    let admissions = |i: usize, origin: &str| -> u64 {
        net.metric_lines(i, "assent_admission_batch_txs_count")
            .iter()
            .find(|l| l.contains(&format!("origin=\"{origin}\"")))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0)
    };
    assert!(
        admissions(1, "client") >= 1,
        "node 1 counted no client admission"
    );
    assert!(
        assent_tests::wait_until("a gossip admission", Duration::from_secs(30), || {
            [0, 2, 3]
                .iter()
                .map(|&i| admissions(i, "gossip"))
                .sum::<u64>()
                > 0
        }),
        "no validator counted a gossip admission"
    );

    // 2 units at 5 points: 10 paid, 1 to the operators (10 %), 9 to alice.
    let r = net.run(2, &acme, record(&alice.account(), consent));
    assert_eq!(r["status"], "committed", "{r}");
    let settled = &r["events"][0]["use_settled"];
    assert_eq!(settled["paid"], 10, "{r}");
    assert_eq!(settled["to_consumer"], 9, "{r}");
    // Node 3 answers once it has committed that block too.
    net.wait_tx(3, r["tx_id"].as_str().unwrap());
    let earnings = net
        .get(3, &format!("/v1/consumers/{}/earnings", alice.account()))
        .unwrap();
    assert_eq!(earnings["earned"], 9, "{earnings}");

    let r = net.run(3, &alice, Payload::RevokeConsent(RevokeConsent { consent }));
    assert_eq!(r["status"], "committed", "{r}");
    let revoked_at = r["height"].as_u64().unwrap();

    let r = net.run(0, &acme, record(&alice.account(), consent));
    assert!(r["height"].as_u64().unwrap() > revoked_at);
    let rejected = &r["events"][0]["use_rejected"];
    assert_eq!(rejected["code"], "consent_revoked", "{r}");
    assert!(
        rejected["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("revoked at height {revoked_at}")),
        "{r}"
    );
    for i in [1, 2] {
        net.wait_tx(i, r["tx_id"].as_str().unwrap());
    }

    let consents = net
        .get(1, &format!("/v1/consumers/{}/consents", alice.account()))
        .unwrap();
    assert_eq!(
        consents["consents"][0]["status"], "ConsentWithdrawn",
        "{consents}"
    );
    let earnings = net
        .get(2, &format!("/v1/consumers/{}/earnings", alice.account()))
        .unwrap();
    assert_eq!(
        earnings["earned"], 9,
        "no payment after revocation: {earnings}"
    );
    let uses = net
        .get(0, &format!("/v1/consumers/{}/uses", alice.account()))
        .unwrap();
    assert_eq!(uses["uses"].as_array().unwrap().len(), 2, "{uses}");

    let out = net.cli(3, &["enterprise", "rankings", "--by", "revocations"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("by revocations")
            && text.contains("1. Acme Retail")
            && text.contains("paid 10 pts to consumers; 50.00 % of uses honoured; 1 use(s) after a revocation; unrated"),
        "{text}"
    );
    // A consumer deciding on acme's request sees the same standing.
    let r = net.run(
        0,
        &acme,
        Payload::PostRequest(PostRequest {
            categories: vec!["Purchase".parse().unwrap()],
            purposes: vec!["DirectMarketing".parse().unwrap()],
            level: Level::Aggregate,
            price_per_use: Amount(2),
            duration_ms: 3_600_000,
            target_tags: vec![],
        }),
    );
    net.wait_tx(3, r["tx_id"].as_str().unwrap());
    let out = net.cli(3, &["request", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.contains("1 request(s):")
            && text.contains(
                "standing: paid 10 pts to consumers; 50.00 % of uses honoured; 1 use(s) after a revocation"
            ),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = net.cli(3, &["enterprise", "rankings", "--sector", "finance"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "no enterprises in finance"
    );
    let bad = net.cli(3, &["enterprise", "rankings", "--by", "best"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("`best` is not a ranking order"),
        "{err}"
    );
}
