//! `GET /v1/consumers/{id}/links` and `…/links/{enterprise}/{kind}`: a
//! consumer's identity links and the one an enterprise looks up to match its
//! own record. The node answers commitments only (it holds no identifier or
//! salt); the enterprise's recomputed commitment matches; after an unlink
//! the lookup at the next height is 404; bad input is refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use assent_contracts::identity::{self, IdentityKind};
use assent_contracts::tx::{LinkIdentity, UnlinkIdentity};
use assent_contracts::{Hash32, LinkCommitment, LinkSalt, Payload};
use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;

const EMAIL: &str = "Alice@Example.com";
const CARD: &str = "ACME-0042-1234";

fn commit_to(t: &TestNode, kind: IdentityKind, id: &str, salt: &LinkSalt) -> LinkCommitment {
    identity::commit_identifier(
        CHAIN_ID,
        &t.keys.alice.account(),
        &t.keys.acme.account(),
        kind,
        id,
        salt,
    )
    .unwrap()
}

#[tokio::test]
async fn an_enterprise_reads_the_commitment_it_recomputes_and_an_unlink_removes_it_at_the_next_height(
) {
    let t = node();
    let (alice, acme) = (t.keys.alice.account(), t.keys.acme.account());
    let (s_email, s_card) = (LinkSalt(Hash32([0x11; 32])), LinkSalt(Hash32([0x22; 32])));
    let link = |nonce, kind, id: &str, salt: &LinkSalt| {
        sign(
            &t.keys.alice,
            nonce,
            Payload::LinkIdentity(LinkIdentity {
                enterprise: acme,
                kind,
                commitment: commit_to(&t, kind, id, salt),
            }),
        )
    };
    commit(
        &t,
        vec![
            register(&t.keys.alice, 0),
            link(1, IdentityKind::Email, EMAIL, &s_email),
            link(2, IdentityKind::MemberCard, CARD, &s_card),
        ],
    );
    let linked_at = t.shared.chain.head().height.0;

    let (status, all) = get(&t.router, &format!("/v1/consumers/{alice}/links")).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["consumer"], alice.to_string());
    assert_eq!(all["height"], linked_at);
    let links = all["links"].as_array().unwrap();
    let kinds: Vec<&str> = links.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["member_card", "email"]);
    for l in links {
        assert_eq!(l["enterprise"], acme.to_string());
        assert_eq!(l["enterprise_name"], "Acme Retail");
        assert_eq!(l["linked_at"], linked_at);
        assert_eq!(l["commitment"].as_str().unwrap().len(), 64);
    }
    // No identifier in any form is in an answer.
    let text = all.to_string().to_lowercase();
    assert!(
        !text.contains("alice@example.com") && !text.contains("acme-0042"),
        "{text}"
    );

    // The enterprise looks up one link and recomputes it from its own record.
    let one = format!("/v1/consumers/{alice}/links/{acme}/email");
    let (status, got) = get(&t.router, &one).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["kind"], "email");
    assert_eq!(got["height"], linked_at);
    let on_chain: LinkCommitment = got["commitment"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        on_chain,
        commit_to(&t, IdentityKind::Email, "alice@example.com", &s_email)
    );
    assert_ne!(
        on_chain,
        commit_to(&t, IdentityKind::Email, "alice@example.org", &s_email)
    );
    assert_ne!(
        on_chain,
        commit_to(&t, IdentityKind::Email, "alice@example.com", &s_card)
    );
    // Kinds are accepted in the CLI's spellings too.
    let (status, _) = get(
        &t.router,
        &format!("/v1/consumers/{alice}/links/{acme}/Member-Card"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // alice's export lists her links the same way.
    let store = t.shared.chain.store();
    wait_for(Duration::from_secs(10), || {
        store.indexed_height().0 >= linked_at
    })
    .await;
    let (status, tar_bytes) = send(
        &t.router,
        signed_get(&format!("/v1/consumers/{alice}/export"), &operator_key())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mut archive = tar::Archive::new(tar_bytes.as_slice());
    let mut consumer_json = None;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        assert!(
            !text.to_lowercase().contains("alice@example.com"),
            "{path} holds the identifier"
        );
        if path.ends_with("/consumer.json") {
            consumer_json = Some(serde_json::from_str::<serde_json::Value>(&text).unwrap());
        }
    }
    let c = consumer_json.expect("consumer.json in the export");
    assert_eq!(c["counts"]["identity_links"], 2);
    assert_eq!(c["identity_links"][1]["kind"], "email");
    assert_eq!(c["identity_links"][1]["commitment"], on_chain.to_string());
    assert_eq!(c["identity_links"][1]["enterprise_name"], "Acme Retail");

    // alice removes the email link: from the next height on there is none.
    commit(
        &t,
        vec![sign(
            &t.keys.alice,
            3,
            Payload::UnlinkIdentity(UnlinkIdentity {
                enterprise: acme,
                kind: IdentityKind::Email,
            }),
        )],
    );
    let gone = get(&t.router, &one).await;
    assert_error(&gone, StatusCode::NOT_FOUND, "unknown_link");
    let msg = gone.1["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("at height {}", linked_at + 1)) && msg.contains("removed"),
        "{msg}"
    );
    let (_, all) = get(&t.router, &format!("/v1/consumers/{alice}/links")).await;
    assert_eq!(all["links"].as_array().unwrap().len(), 1);
    assert_eq!(all["links"][0]["kind"], "member_card");
}

#[tokio::test]
async fn a_bad_account_enterprise_or_kind_is_refused_by_name_and_a_stranger_has_no_links() {
    let t = node();
    let (alice, acme) = (t.keys.alice.account(), t.keys.acme.account());
    assert_error(
        &get(&t.router, "/v1/consumers/nobody/links").await,
        StatusCode::BAD_REQUEST,
        "bad_account",
    );
    assert_error(
        &get(
            &t.router,
            &format!("/v1/consumers/{alice}/links/acme/email"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_enterprise",
    );
    let bad_kind = get(
        &t.router,
        &format!("/v1/consumers/{alice}/links/{acme}/passport"),
    )
    .await;
    assert_error(&bad_kind, StatusCode::BAD_REQUEST, "bad_kind");
    assert!(bad_kind.1["message"]
        .as_str()
        .unwrap()
        .contains("member_card, phone, email or openid"));
    assert_error(
        &get(
            &t.router,
            &format!("/v1/consumers/{alice}/links/{acme}/phone"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown_link",
    );
    let (status, none) = get(&t.router, &format!("/v1/consumers/{alice}/links")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["links"].as_array().unwrap().len(), 0);
}
