//! `GET /v1/enterprises` ranks enterprises by what they paid consumers, the
//! share of uses they honoured, their rating and their uses after a
//! revocation — per sector and paged — and refuses a bad query by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use assent_contracts::crypto::Keypair;
use assent_contracts::terms::{Category, Level, Purpose, Sector};
use assent_contracts::tx::{
    GovAction, GrantConsent, Mint, Propose, RecordUse, RevokeConsent, Use, UseBasis,
};
use assent_contracts::{Amount, ConsentId, Hash32, Payload};
use axum::http::StatusCode;
use serde_json::Value;

fn bank() -> Keypair {
    Keypair::from_seed([9; 32])
}

/// Acme (retail, from genesis) settles one use of alice's data and has one
/// refused (10 points paid); the bank (finance, admitted by governance)
/// settles two cheap uses (2 points), then records one more after alice
/// revoked its consent.
fn scenario(t: &TestNode) {
    let bank = bank();
    let admit = Payload::Propose(Propose {
        action: GovAction::AdmitEnterprise {
            account: bank.account(),
            name: "Bank of Trust".into(),
            sector: Sector::Finance,
            jurisdiction: "EU".into(),
            policy_url: "https://bank.example/privacy".into(),
        },
    });
    let acme_grant = grant(t, 1, None);
    let acme_consent = ConsentId(acme_grant.id().0);
    commit(
        t,
        vec![
            sign(&t.keys.operator, 0, admit),
            sign(
                &t.keys.mint,
                0,
                Payload::Mint(Mint {
                    to: bank.account(),
                    amount: Amount(1_000),
                }),
            ),
            register(&t.keys.alice, 0),
            acme_grant,
        ],
    );
    let bank_grant = sign(
        &t.keys.alice,
        2,
        Payload::GrantConsent(GrantConsent {
            enterprise: bank.account(),
            categories: vec![Category("Purchase".into())],
            purposes: vec![Purpose("DirectMarketing".into())],
            level: Level::Pseudonymous,
            price_per_use: Amount(1),
            max_uses: None,
            expires_at: None,
            request: None,
        }),
    );
    let bank_consent = ConsentId(bank_grant.id().0);
    commit(t, vec![bank_grant, record_uses(t, 0, acme_consent)]);
    let bank_uses = |n: usize| {
        Payload::RecordUse(RecordUse {
            uses: vec![
                Use {
                    consumer: t.keys.alice.account(),
                    basis: UseBasis::Consent(bank_consent),
                    category: Category("Purchase".into()),
                    purpose: Purpose("DirectMarketing".into()),
                    level: Level::Aggregate,
                    units: 1,
                    evidence_hash: Hash32([8; 32]),
                };
                n
            ],
        })
    };
    commit(t, vec![sign(&bank, 0, bank_uses(2))]);
    commit(
        t,
        vec![sign(
            &t.keys.alice,
            3,
            Payload::RevokeConsent(RevokeConsent {
                consent: bank_consent,
            }),
        )],
    );
    commit(t, vec![sign(&bank, 1, bank_uses(1))]);
}

fn names(v: &Value) -> Vec<(u64, String)> {
    v["enterprises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rank"].as_u64().unwrap(),
                e["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn ranked(pairs: &[(u64, &str)]) -> Vec<(u64, String)> {
    pairs.iter().map(|(r, n)| (*r, n.to_string())).collect()
}

#[tokio::test]
async fn each_order_ranks_by_its_own_figure() {
    let t = node();
    scenario(&t);
    let (status, v) = get(&t.router, "/v1/enterprises").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // The default order: points paid.
    assert_eq!(v["by"], "points_paid");
    assert_eq!(v["total"], 2);
    assert_eq!(v["height"], 5);
    assert_eq!(
        names(&v),
        ranked(&[(1, "Acme Retail"), (2, "Bank of Trust")])
    );
    let second = &v["enterprises"][1];
    assert_eq!(second["account"], bank().account().to_string());
    assert_eq!(second["sector"], "finance");
    let rep = &second["reputation"];
    assert_eq!(
        (
            rep["points_paid"].as_u64(),
            rep["uses_settled"].as_u64(),
            rep["uses_rejected"].as_u64(),
            rep["uses_after_revocation"].as_u64(),
            rep["honoured_bps"].as_u64()
        ),
        (Some(2), Some(2), Some(1), Some(1), Some(6_666))
    );
    assert_eq!(v["enterprises"][0]["reputation"]["honoured_bps"], 5_000);

    for (by, want) in [
        // The bank honoured 2 of 3 uses, acme 1 of 2.
        ("honoured", [(1, "Bank of Trust"), (2, "Acme Retail")]),
        // The bank used data after a revocation: last.
        ("revocations", [(1, "Acme Retail"), (2, "Bank of Trust")]),
        // Both unrated: more uses settled first.
        ("rating", [(1, "Bank of Trust"), (2, "Acme Retail")]),
    ] {
        let (status, v) = get(&t.router, &format!("/v1/enterprises?by={by}")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["by"], by);
        assert_eq!(names(&v), ranked(&want), "by {by}");
    }
}

#[tokio::test]
async fn a_sector_and_a_page_narrow_the_ranking() {
    let t = node();
    scenario(&t);
    let (_, v) = get(&t.router, "/v1/enterprises?sector=finance").await;
    assert_eq!(
        (v["total"].as_u64(), v["sector"].as_str()),
        (Some(1), Some("finance"))
    );
    assert_eq!(names(&v), ranked(&[(1, "Bank of Trust")]));
    let (_, v) = get(&t.router, "/v1/enterprises?sector=health").await;
    assert_eq!(v["total"], 0);
    assert!(names(&v).is_empty());
    // The second of two, one per page: its rank is still 2.
    let (_, v) = get(&t.router, "/v1/enterprises?offset=1&limit=1").await;
    assert_eq!(
        (v["total"].as_u64(), v["offset"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(names(&v), ranked(&[(2, "Bank of Trust")]));
    let (_, v) = get(&t.router, "/v1/enterprises?offset=5").await;
    assert!(names(&v).is_empty());
}

#[tokio::test]
async fn a_bad_query_is_refused_by_name() {
    let t = node();
    scenario(&t);
    for (query, says) in [
        (
            "by=best",
            "`best` is not a ranking order; use one of points_paid, honoured, rating, revocations",
        ),
        ("sector=spaceships", "sector:"),
        ("limit=0", "limit: 0 is out of range; give 1 to 100"),
        ("limit=101", "limit: 101 is out of range"),
        ("offset=-1", "offset"),
    ] {
        let got = get(&t.router, &format!("/v1/enterprises?{query}")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "bad_query");
        let message = got.1["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{query}: {message}");
    }
}
