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

/// Body bytes the ledger's codec refuses; the package must refuse them too.
fn invalid_bodies() -> Vec<Value> {
    let key = Keypair::from_seed(seed(0x11));
    let enc = |nonce: u64, p: Payload| {
        TxBody {
            sender: key.account(),
            nonce,
            payload: p,
        }
        .encode()
    };
    let revoke_all = |e: Option<AccountId>| Payload::RevokeAll(RevokeAll { enterprise: e });
    // Sender (32 bytes), then the nonce varint: 5 as [5] is canonical, as
    // [251, 5, 0] it is over-long.
    let mut overlong = enc(5, revoke_all(None));
    overlong.splice(32..33, [251, 5, 0]);
    let mut trailing = enc(5, revoke_all(None));
    trailing.push(0);
    let mut bad_option = enc(5, revoke_all(None));
    *bad_option.last_mut().unwrap() = 2;
    let mut bad_variant = enc(5, revoke_all(None));
    bad_variant[33] = 200;
    let mut bad_level = enc(
        1,
        Payload::SetPolicy(SetPolicy {
            target: PolicyTarget::Sector(Sector::Retail),
            categories: vec![],
            purposes: vec![],
            level: Level::Aggregate,
            min_price: Amount(0),
        }),
    );
    // sender, nonce, variant 7, target (0, 0), two empty lists, then the level.
    assert_eq!(bad_level[32..], [1, 7, 0, 0, 0, 0, 0, 0]);
    bad_level[38] = 3;
    let mut bad_utf8 = enc(
        1,
        Payload::PostRequest(PostRequest {
            categories: vec![],
            purposes: vec![],
            level: Level::Aggregate,
            price_per_use: Amount(0),
            duration_ms: 1,
            target_tags: vec![tag("ab")],
        }),
    );
    let n = bad_utf8.len();
    bad_utf8[n - 1] = 0xff;
    let one_commitment = |epoch| {
        Payload::SetTags(SetTags {
            tags: TagCommitments {
                epoch,
                commitments: vec![TagCommitment(h(0x5a))],
            },
        })
    };
    // sender, nonce, variant 1, epoch 0, then the list length 1.
    let mut long_list = enc(1, one_commitment(0));
    assert_eq!(long_list[32..36], [1, 1, 0, 1]);
    long_list[35] = 2;
    // An epoch of 7 written as [251, 7, 0] is over-long.
    let mut overlong_epoch = enc(1, one_commitment(7));
    overlong_epoch.splice(34..35, [251, 7, 0]);
    let truncated = enc(
        5,
        Payload::PauseConsent(PauseConsent {
            consent: ConsentId(h(1)),
        }),
    );
    let truncated = truncated[..truncated.len() - 1].to_vec();
    let cases = [
        ("overlong_nonce", overlong),
        ("trailing_byte", trailing),
        ("option_tag_2", bad_option),
        ("unknown_payload_variant", bad_variant),
        ("unknown_level", bad_level),
        ("tag_not_utf8", bad_utf8),
        ("list_longer_than_bytes", long_list),
        ("overlong_epoch", overlong_epoch),
        ("truncated_hash", truncated),
    ];
    cases
        .into_iter()
        .map(|(name, bytes)| {
            assert!(
                codec::decode::<TxBody>(&bytes).is_err(),
                "the codec takes {name}"
            );
            json!({ "name": name, "body_hex": hex::encode(bytes) })
        })
        .collect()
}

/// A recovery to check: the recovering key's seed, the candidates, and what
/// it must find (tags, padding, unknown).
type Recovery = ([u8; 32], Vec<Tag>, (Vec<Tag>, usize, usize));

/// One tag-set vector: a key, the account it declares for, a chain, an
/// epoch and tags.
struct TagCase {
    name: &'static str,
    seed: [u8; 32],
    consumer: AccountId,
    chain: &'static str,
    epoch: u64,
    tags: Vec<Tag>,
    recover: Vec<Recovery>,
}

fn tag_cases() -> Vec<TagCase> {
    let tags = |ts: &[&str]| ts.iter().map(|t| tag(t)).collect::<Vec<_>>();
    let sixteen: Vec<Tag> = (0..MAX_TAGS).map(|i| tag(&format!("t{i:02}"))).collect();
    vec![
        TagCase {
            name: "two_tags_one_repeated",
            seed: seed(0x11),
            consumer: Keypair::from_seed(seed(0x11)).account(),
            chain: CHAIN,
            epoch: 0,
            tags: tags(&["vegan", "runner", "vegan"]),
            recover: vec![
                (
                    seed(0x11),
                    tags(&["cyclist", "runner", "vegan", "runner"]),
                    (tags(&["runner", "vegan"]), MAX_TAGS - 2, 0),
                ),
                // Another key (after a rotation, say) recognises nothing.
                (
                    seed(0x22),
                    tags(&["runner", "vegan"]),
                    (vec![], 0, MAX_TAGS),
                ),
            ],
        },
        TagCase {
            // The pinned salt of keys/src/derive.rs (`derivations_are_pinned`).
            name: "derive_rs_pinned_salt",
            seed: seed(7),
            consumer: Keypair::from_seed(seed(7)).account(),
            chain: "chain-a",
            epoch: 3,
            tags: tags(&["runner"]),
            recover: vec![(seed(7), vec![], (vec![], MAX_TAGS - 1, 1))],
        },
        TagCase {
            // A rotated-in key declares for another account; a full set (no
            // padding); an epoch above 2^53 (decimal text in JSON).
            name: "full_set_rotated_key_large_epoch",
            seed: mixed_seed(),
            consumer: Keypair::from_seed(seed(0x33)).account(),
            chain: "assent-devnet",
            epoch: (1 << 53) + 5,
            tags: sixteen.clone(),
            recover: vec![(
                mixed_seed(),
                [sixteen[..10].to_vec(), tags(&["zzz"])].concat(),
                (sixteen[..10].to_vec(), 0, MAX_TAGS - 10),
            )],
        },
        TagCase {
            name: "no_tags_all_padding",
            seed: seed(0x22),
            consumer: Keypair::from_seed(seed(0x22)).account(),
            chain: CHAIN,
            epoch: 1 << 32,
            tags: vec![],
            recover: vec![(seed(0x22), tags(&["runner"]), (vec![], MAX_TAGS, 0))],
        },
    ]
}

/// Tag salts, commitments and padded sets (keys/src/derive.rs,
/// contracts/src/tags.rs) for fixed inputs, and what recovery finds.
fn tag_set_vectors() -> Vec<Value> {
    tag_cases()
        .into_iter()
        .map(|c| {
            let key = Keypair::from_seed(c.seed);
            let set = derive::tag_set(&key, c.chain, &c.consumer, c.epoch, &c.tags).unwrap();
            set.check(MAX_TAGS).unwrap();
            assert_eq!(set.commitments.len(), MAX_TAGS, "{}", c.name);
            let distinct: std::collections::BTreeSet<&Tag> = c.tags.iter().collect();
            let each: Vec<Value> = distinct
                .iter()
                .map(|t| {
                    let salt = derive::tag_salt(&key, c.chain, &c.consumer, c.epoch, t);
                    let commitment = derive::tag_commitment(&key, c.chain, &c.consumer, c.epoch, t);
                    assert_eq!(
                        commitment,
                        tags::commitment(c.chain, &c.consumer, t, &salt)
                    );
                    assert!(set.contains(&commitment));
                    json!({ "tag": t.0, "salt": salt.to_string(), "commitment": commitment.to_string() })
                })
                .collect();
            let recover: Vec<Value> = c
                .recover
                .iter()
                .map(|(with, candidates, (tags, padding, unknown))| {
                    let r = derive::recover_tags(
                        &Keypair::from_seed(*with),
                        c.chain,
                        &c.consumer,
                        &set,
                        candidates,
                    );
                    assert_eq!(
                        (&r.tags, r.padding, r.unknown),
                        (tags, *padding, *unknown),
                        "{}",
                        c.name
                    );
                    json!({
                        "seed": hex::encode(with),
                        "candidates": candidates.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
                        "tags": r.tags.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
                        "padding": r.padding,
                        "unknown": r.unknown,
                    })
                })
                .collect();
            safe_numbers(json!({
                "name": c.name,
                "seed": hex::encode(c.seed),
                "consumer": c.consumer.to_string(),
                "chain_id": c.chain,
                "epoch": c.epoch,
                "tags": c.tags.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
                "each": each,
                "set": set,
                "recover": recover,
            }))
        })
        .collect()
}

/// `n` distinct uses (both bases, every level, units up to u32::MAX).
fn some_uses(n: usize) -> Vec<Use> {
    let levels = [Level::Aggregate, Level::Pseudonymous, Level::Identified];
    (0..n)
        .map(|i| {
            let b = i as u8;
            Use {
                consumer: Keypair::from_seed(seed(0x40 + b)).account(),
                basis: if i % 2 == 0 {
                    UseBasis::Consent(ConsentId(h(0xc0 + b)))
                } else {
                    UseBasis::Policy(PolicyId(h(0x90 + b)))
                },
                category: cat(["Purchase", "Location", "Age"][i % 3]),
                purpose: purp(["DirectMarketing", "ServiceUsageAnalytics"][i % 2]),
                level: levels[i % 3],
                units: if i == 4 { u32::MAX } else { 1 + i as u32 },
                evidence_hash: Hash32::tagged("evidence", &[&[b]]),
            }
        })
        .collect()
}

/// What a RecordUse's id and signature cover (contracts/src/use_tree.rs,
/// decision 34): each use's tagged leaf, the Merkle root over them
/// (contracts/src/merkle.rs, RFC 6962 shape) and the `UsesCommitment`, for
/// batches whose trees have every shape up to 7 leaves.
fn uses_root_vectors() -> Vec<Value> {
    let sender = Keypair::from_seed(seed(0x22)).account();
    [1usize, 2, 3, 4, 5, 7]
        .into_iter()
        .map(|n| {
            let uses = some_uses(n);
            let nonce = 40 + n as u64;
            let leaves = use_tree::use_leaves(&uses);
            let c = UsesCommitment::of(sender, nonce, &uses);
            assert_eq!(c.count, n as u64);
            // The commitment is what a RecordUse of these uses is identified by.
            let body = TxBody {
                sender,
                nonce,
                payload: Payload::RecordUse(RecordUse { uses: uses.clone() }),
            };
            assert_eq!(body.id(), c.id());
            json!({
                "name": format!("{n}_uses"),
                "sender": sender.to_string(),
                "nonce": nonce,
                "uses": safe_numbers(serde_json::to_value(&uses).unwrap()),
                "use_encodings_hex": uses.iter().map(|u| hex::encode(codec::encode(u).unwrap())).collect::<Vec<_>>(),
                "use_leaves": leaves.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
                "uses_root": c.uses_root.to_string(),
                "commitment_hex": hex::encode(c.encode()),
                "tx_id": c.id().to_string(),
            })
        })
        .collect()
}

fn read_vectors() -> Vec<Value> {
    let alice = Keypair::from_seed(seed(0x11));
    let acme = Keypair::from_seed(mixed_seed());
    let cases = [
        (
            "consumer_uses_with_query",
            &alice,
            CHAIN,
            "GET",
            format!("/v1/consumers/{}/uses?limit=5", alice.account()),
            1_764_850_000u64,
            1_764_850_060u64,
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "tx_status_no_query",
            &acme,
            CHAIN,
            "GET",
            format!("/v1/txs/{}", h(0xab)),
            1_800_000_000,
            1_800_000_300,
            "n",
        ),
        (
            "empty_query_other_chain",
            &acme,
            "assent-devnet",
            "GET",
            "/v1/events?".to_string(),
            1_700_000_000,
            1_700_000_001,
            "A-Z_a-z-0-9",
        ),
    ];
    cases
        .into_iter()
        .map(
            |(name, key, chain, method, target, created, expires, nonce)| {
                let signed = reads::sign_with(key, chain, method, &target, created, expires, nonce);
                let received =
                    ReceivedSignature::parse(&signed.signature_input, &signed.signature).unwrap();
                let (path, query) = reads::split_target(&target);
                received.verify(chain, method, path, query).unwrap();
                let base = reads::signature_base(method, path, query, &received.raw_params);
                json!({
                    "name": name,
                    "seed": hex::encode(key.seed()),
                    "chain_id": chain,
                    "method": method,
                    "target": target,
                    "created": created,
                    "expires": expires,
                    "nonce": nonce,
                    "signature_base": base,
                    "signature_input": signed.signature_input,
                    "signature": signed.signature,
                })
            },
        )
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
