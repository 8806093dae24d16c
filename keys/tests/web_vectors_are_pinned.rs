//! Golden vectors shared with the TypeScript package `web/assent-js`: a fixed
//! set of txs (fixed seeds, nonces and payloads), the use leaves, Merkle
//! roots and commitments a RecordUse is signed by (decision 34), and signed
//! reads (fixed time and nonce), with the bytes, ids and signatures the Rust
//! code makes for them, pinned in `web/assent-js/test/vectors.json`. The package's own tests
//! (`npm test`, run by `tests/tests/web_package_passes_its_tests.rs`) check its output
//! against the same file, so a change on either side alone fails a test.
//!
//! If a format change is intended, regenerate with
//! `UPDATE_GOLDEN=1 cargo test -p assent-keys --test web_vectors_are_pinned`,
//! change the package to match, and say so in the commit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use assent_contracts::codec;
use assent_contracts::crypto::Keypair;
use assent_contracts::state::PolicyTarget;
use assent_contracts::tags::{self, TagCommitments};
use assent_contracts::terms::{Category, Level, Purpose, Sector, Tag};
use assent_contracts::tx::*;
use assent_contracts::use_tree::{self, UsesCommitment};
use assent_contracts::*;
use assent_keys::derive;
use assent_keys::reads::{self, ReceivedSignature};
use serde_json::{json, Map, Value};

mod web_vectors;
use web_vectors::{
    invalid::invalid_bodies, reads::read_vectors, tag_sets::tag_set_vectors,
    uses_roots::uses_root_vectors,
};

const CHAIN: &str = "assent-web-vectors";

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/assent-js/test/vectors.json")
}

fn seed(byte: u8) -> [u8; 32] {
    [byte; 32]
}

/// A seed with 32 different bytes, so byte order mistakes show.
fn mixed_seed() -> [u8; 32] {
    Hash32::tagged("assent/web-vectors/seed", &[]).0
}

fn cat(s: &str) -> Category {
    Category(s.into())
}
fn purp(s: &str) -> Purpose {
    Purpose(s.into())
}
fn tag(s: &str) -> Tag {
    s.parse().unwrap()
}
fn h(b: u8) -> Hash32 {
    Hash32([b; 32])
}

/// The set the CLI declares (`assent consumer register` / `consumer tags`):
/// the signer's commitments to `tags` padded to [`MAX_TAGS`] and sorted,
/// with the tx's nonce as epoch (`cli/src/commands/tx/kinds.rs`).
fn cli_tag_set(seed: [u8; 32], nonce: u64, tags: &[&str]) -> TagCommitments {
    let key = Keypair::from_seed(seed);
    let tags: Vec<Tag> = tags.iter().map(|t| tag(t)).collect();
    let set = derive::tag_set(&key, CHAIN, &key.account(), nonce, &tags).unwrap();
    set.check(MAX_TAGS).unwrap();
    set
}

/// The plain tags behind the RegisterConsumer and SetTags vectors made by
/// [`cli_tag_set`] (epoch = nonce), so the package can show it makes the same set.
fn declared_tags(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "register_consumer" => Some(&["runner", "vegan"]),
        "register_consumer_no_tags" => Some(&[]),
        "set_tags" => Some(&["cyclist", "a-1"]),
        _ => None,
    }
}

/// `(name, signer seed, nonce, payload)`; the sender is the signer's account.
fn txs() -> Vec<(&'static str, [u8; 32], u64, Payload)> {
    let alice = seed(0x11);
    let acme = seed(0x22);
    let acme_id = Keypair::from_seed(acme).account();
    let bob_id = Keypair::from_seed(seed(0x33)).account();
    let alice_id = Keypair::from_seed(alice).account();
    let consent = ConsentId(h(0xc0));
    let declared = |name: &str, seed, nonce| cli_tag_set(seed, nonce, declared_tags(name).unwrap());
    vec![
        (
            "register_consumer",
            alice,
            0,
            Payload::RegisterConsumer(RegisterConsumer {
                tags: declared("register_consumer", alice, 0),
            }),
        ),
        (
            "register_consumer_no_tags",
            mixed_seed(),
            0,
            Payload::RegisterConsumer(RegisterConsumer {
                tags: declared("register_consumer_no_tags", mixed_seed(), 0),
            }),
        ),
        (
            "set_tags",
            alice,
            300,
            Payload::SetTags(SetTags {
                tags: declared("set_tags", alice, 300),
            }),
        ),
        (
            // The ledger also takes an empty set (it clears the tags); the
            // CLI always pads, but another client may send one.
            "set_tags_empty",
            alice,
            301,
            Payload::SetTags(SetTags {
                tags: TagCommitments {
                    epoch: 301,
                    commitments: vec![],
                },
            }),
        ),
        (
            "grant_consent_all_options",
            alice,
            1,
            Payload::GrantConsent(GrantConsent {
                enterprise: acme_id,
                categories: vec![cat("Purchase"), cat("Location")],
                purposes: vec![purp("DirectMarketing")],
                level: Level::Pseudonymous,
                price_per_use: Amount(3),
                max_uses: Some(100),
                expires_at: Some(Timestamp(1_800_086_400_000)),
                request: Some(RequestId(h(0x4e))),
            }),
        ),
        (
            "grant_consent_no_options",
            alice,
            251,
            Payload::GrantConsent(GrantConsent {
                enterprise: acme_id,
                categories: vec![cat("Purchase")],
                purposes: vec![purp("ServiceUsageAnalytics"), purp("DirectMarketing")],
                level: Level::Identified,
                price_per_use: Amount(0),
                max_uses: None,
                expires_at: None,
                request: None,
            }),
        ),
        (
            "revoke_consent",
            alice,
            65_535,
            Payload::RevokeConsent(RevokeConsent { consent }),
        ),
        (
            "pause_consent",
            alice,
            65_536,
            Payload::PauseConsent(PauseConsent { consent }),
        ),
        (
            "resume_consent",
            alice,
            u32::MAX as u64,
            Payload::ResumeConsent(ResumeConsent { consent }),
        ),
        (
            "revoke_all_one_enterprise",
            alice,
            1 << 32,
            Payload::RevokeAll(RevokeAll {
                enterprise: Some(acme_id),
            }),
        ),
        (
            "revoke_all_everyone",
            alice,
            2,
            Payload::RevokeAll(RevokeAll { enterprise: None }),
        ),
        (
            "set_policy_sector",
            alice,
            3,
            Payload::SetPolicy(SetPolicy {
                target: PolicyTarget::Sector(Sector::Public),
                categories: vec![cat("Purchase")],
                purposes: vec![purp("ServiceUsageAnalytics")],
                level: Level::Aggregate,
                min_price: Amount(7),
            }),
        ),
        (
            "set_policy_enterprise",
            alice,
            4,
            Payload::SetPolicy(SetPolicy {
                target: PolicyTarget::Enterprise(acme_id),
                categories: vec![cat("Location")],
                purposes: vec![purp("DirectMarketing")],
                level: Level::Pseudonymous,
                min_price: Amount(1_000),
            }),
        ),
        (
            "clear_policy",
            alice,
            5,
            Payload::ClearPolicy(ClearPolicy {
                policy: PolicyId(h(0x90)),
            }),
        ),
        (
            "post_request",
            acme,
            0,
            Payload::PostRequest(PostRequest {
                categories: vec![cat("Purchase"), cat("Location")],
                purposes: vec![purp("DirectMarketing")],
                level: Level::Pseudonymous,
                price_per_use: Amount(5),
                duration_ms: 30 * 86_400_000,
                target_tags: vec![tag("runner")],
            }),
        ),
        (
            "record_use",
            acme,
            1,
            Payload::RecordUse(RecordUse {
                uses: vec![
                    Use {
                        consumer: alice_id,
                        basis: UseBasis::Consent(consent),
                        category: cat("Purchase"),
                        purpose: purp("DirectMarketing"),
                        level: Level::Pseudonymous,
                        units: 2,
                        evidence_hash: h(0xe1),
                    },
                    Use {
                        consumer: bob_id,
                        basis: UseBasis::Policy(PolicyId(h(0x90))),
                        category: cat("Location"),
                        purpose: purp("ServiceUsageAnalytics"),
                        level: Level::Aggregate,
                        units: 70_000,
                        evidence_hash: Hash32::tagged("evidence", &[b"row 17"]),
                    },
                ],
            }),
        ),
        (
            "rate",
            alice,
            6,
            Payload::Rate(Rate {
                enterprise: acme_id,
                consent,
                score: 4,
            }),
        ),
        (
            "transfer_max_amount",
            acme,
            u64::MAX,
            Payload::Transfer(Transfer {
                to: bob_id,
                amount: Amount(u64::MAX),
            }),
        ),
        (
            "transfer_above_2_53",
            acme,
            (1 << 53) + 1,
            Payload::Transfer(Transfer {
                to: alice_id,
                amount: Amount(1_234_567),
            }),
        ),
    ]
}

/// Numbers above 2^53 - 1 become decimal text: JavaScript's JSON.parse would
/// round them. The package takes and gives u64s above 2^53 as such text.
fn safe_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(u) if u > (1 << 53) - 1 => Value::String(u.to_string()),
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(safe_numbers).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, safe_numbers(v))).collect())
        }
        other => other,
    }
}

/// The payload as the package takes it: the ledger's JSON (serde, snake_case
/// fields) of the variant's struct, plus its `kind`.
fn payload_json(p: &Payload) -> Value {
    let Value::Object(outer) = serde_json::to_value(p).unwrap() else {
        panic!("a payload is a JSON object")
    };
    let (_, inner) = outer.into_iter().next().unwrap();
    let Value::Object(fields) = inner else {
        panic!("a payload's struct is a JSON object")
    };
    let mut out = Map::new();
    out.insert("kind".into(), json!(p.kind()));
    out.extend(fields);
    safe_numbers(Value::Object(out))
}

fn tx_vectors() -> Vec<Value> {
    txs()
        .into_iter()
        .map(|(name, seed, nonce, payload)| {
            let key = Keypair::from_seed(seed);
            let body = TxBody {
                sender: key.account(),
                nonce,
                payload: payload.clone(),
            };
            let body_bytes = body.encode();
            let signed = body.clone().sign(CHAIN, &key);
            let bytes = signed.encode();
            // The Rust side reads its own bytes back and the signature verifies.
            let back = SignedTx::decode(&bytes, 1 << 20).unwrap();
            assert_eq!(back, signed, "{name}");
            back.verify(CHAIN).unwrap();
            let mut v = json!({
                "name": name,
                "seed": hex::encode(seed),
                "account": key.account().to_string(),
                "chain_id": CHAIN,
                "body": safe_numbers(json!({
                    "sender": key.account().to_string(),
                    "nonce": nonce,
                    "payload": payload_json(&payload),
                })),
                "body_hex": hex::encode(&body_bytes),
                "tx_id": signed.id().to_string(),
                // A RecordUse's covers its UsesCommitment (decision 34), any
                // other kind's its body.
                "signing_message_hex": hex::encode(signed.signing_message(CHAIN)),
                "signature": hex::encode(signed.signature.0),
                "signed_tx_hex": hex::encode(&bytes),
            });
            if let Some(tags) = declared_tags(name) {
                // Made with the tx's nonce as epoch, as the CLI makes it.
                v["declared_tags"] = json!(tags);
            }
            v
        })
        .collect()
}

fn render() -> Value {
    json!({
        "comment": "Golden vectors shared by the Rust ledger and web/assent-js. Generated by keys/tests/web_vectors_are_pinned.rs (UPDATE_GOLDEN=1); both sides' tests check them. Do not edit by hand.",
        "tagged_hash": {
            "tag": "assent/web-vectors/seed",
            "parts_hex": [],
            "hash": mixed_seed().iter().map(|b| format!("{b:02x}")).collect::<String>(),
        },
        "txs": tx_vectors(),
        "invalid_bodies": invalid_bodies(),
        "tag_sets": tag_set_vectors(),
        "uses_roots": uses_root_vectors(),
        "reads": read_vectors(),
    })
}

#[test]
fn web_vectors_match_the_rust_encodings() {
    let now = render();
    let path = vectors_path();
    if std::env::var("UPDATE_GOLDEN").is_ok() {
        let mut text = serde_json::to_string_pretty(&now).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
    }
    let pinned: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display())),
    )
    .unwrap();
    // Compared as JSON values, vector by vector, so the message names the one that changed.
    for section in ["txs", "invalid_bodies", "tag_sets", "uses_roots", "reads"] {
        let (want, got) = (
            pinned[section].as_array().unwrap(),
            now[section].as_array().unwrap(),
        );
        for (w, g) in want.iter().zip(got) {
            assert_eq!(
                w, g,
                "the pinned {section} vector {} changed; if intended, regenerate (see this file's doc) and change web/assent-js to match",
                w["name"]
            );
        }
        assert_eq!(want.len(), got.len(), "{section}: number of vectors");
    }
    assert_eq!(pinned, now);
}

#[test]
fn every_kind_the_package_signs_has_a_vector() {
    let kinds: std::collections::BTreeSet<&str> =
        txs().iter().map(|(_, _, _, p)| p.kind()).collect();
    let package = [
        "RegisterConsumer",
        "SetTags",
        "GrantConsent",
        "RevokeConsent",
        "RevokeAll",
        "PauseConsent",
        "ResumeConsent",
        "SetPolicy",
        "ClearPolicy",
        "PostRequest",
        "RecordUse",
        "Rate",
        "Transfer",
    ];
    assert_eq!(kinds, package.into_iter().collect());
}
