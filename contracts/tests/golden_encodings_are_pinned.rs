//! Golden tests: the canonical encoding and id of a sample of every tx kind,
//! and the hash of a block, are pinned in `tests/golden/`. A change to any
//! signed, hashed or stored format fails here; if the change is intended,
//! regenerate with `UPDATE_GOLDEN=1 cargo test -p assent-contracts --test golden_encodings_are_pinned`
//! and say so in the commit (old chains cannot read the new format).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::identity::{self, IdentityKind};
use assent_contracts::state::{Params, PolicyTarget, ReferralTerms, StateExt, Validator};
use assent_contracts::tags::{self, TagCommitments};
use assent_contracts::terms::{Level, Sector};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

fn samples() -> Vec<Payload> {
    let a = actors();
    let consent = ConsentId(Hash32([0xc0; 32]));
    vec![
        Payload::RegisterConsumer(RegisterConsumer {
            tags: TagCommitments {
                epoch: 0,
                commitments: vec![
                    TagCommitment(Hash32([0x1a; 32])),
                    TagCommitment(Hash32([0x1b; 32])),
                ],
            },
        }),
        Payload::SetTags(SetTags {
            tags: TagCommitments {
                epoch: 7,
                commitments: vec![TagCommitment(Hash32([0x1c; 32]))],
            },
        }),
        Payload::GrantConsent(GrantConsent {
            max_uses: Some(100),
            expires_at: Some(Timestamp(T0 + 86_400_000)),
            request: Some(RequestId(Hash32([0x4e; 32]))),
            ..grant(&a.acme, 3)
        }),
        Payload::RevokeConsent(RevokeConsent { consent }),
        Payload::RevokeAll(RevokeAll {
            enterprise: Some(a.acme.account()),
        }),
        Payload::PauseConsent(PauseConsent { consent }),
        Payload::ResumeConsent(ResumeConsent { consent }),
        Payload::SetPolicy(SetPolicy {
            target: PolicyTarget::Sector(Sector::Retail),
            categories: vec![cat("Purchase")],
            purposes: vec![purp("ServiceUsageAnalytics")],
            level: Level::Aggregate,
            min_price: Amount(3),
        }),
        Payload::ClearPolicy(ClearPolicy {
            policy: PolicyId(Hash32([0x90; 32])),
        }),
        Payload::PostRequest(PostRequest {
            categories: vec![cat("Purchase"), cat("Location")],
            purposes: vec![purp("DirectMarketing")],
            level: Level::Pseudonymous,
            price_per_use: Amount(5),
            duration_ms: 30 * 86_400_000,
            target_tags: vec!["runner".parse().unwrap()],
        }),
        record(vec![
            a_use(&a.alice, UseBasis::Consent(consent), 2),
            a_use(&a.bob, UseBasis::Policy(PolicyId(Hash32([0x90; 32]))), 1),
        ]),
        Payload::Rate(Rate {
            enterprise: a.acme.account(),
            consent,
            score: 4,
        }),
        Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(1_234_567),
        }),
        Payload::Mint(Mint {
            to: a.acme.account(),
            amount: Amount(1_000_000),
        }),
        Payload::Propose(Propose {
            action: GovAction::AddValidator {
                validator: Validator {
                    name: "val9".into(),
                    consensus_key: key(99).account(),
                    power: 1,
                    p2p_address: "/ip4/127.0.0.1/tcp/26690".into(),
                },
            },
        }),
        Payload::Propose(Propose {
            action: GovAction::SetParams {
                params: Params::default(),
            },
        }),
        Payload::Vote(Vote {
            proposal: ProposalId(Hash32([0x77; 32])),
            yes: true,
        }),
        Payload::SetContact(SetContact {
            email: "privacy@acme.example".into(),
            phone: "+44 20 7946 0000".into(),
            address: "1 Market Street, London EC1A 1AA, GB".into(),
            notice_url: String::new(),
            notice_language: "en-GB".into(),
        }),
        Payload::LinkIdentity(LinkIdentity {
            enterprise: a.acme.account(),
            kind: IdentityKind::Email,
            commitment: LinkCommitment(Hash32([0x1c; 32])),
        }),
        Payload::UnlinkIdentity(UnlinkIdentity {
            enterprise: a.acme.account(),
            kind: IdentityKind::Openid,
        }),
        Payload::NameReferrer(NameReferrer {
            referrer: a.bob.account(),
        }),
        Payload::Propose(Propose {
            action: GovAction::SetReferralTerms {
                terms: ReferralTerms::default(),
            },
        }),
        Payload::RotateKey(RotateKey {
            new_key: key(40).account(),
        }),
        Payload::SetGuardians(SetGuardians {
            guardians: vec![a.bob.account(), key(22).account()],
            threshold: 2,
            delay_ms: 3 * 24 * 3600 * 1000,
        }),
        Payload::SupportRecovery(SupportRecovery {
            account: a.alice.account(),
            new_key: key(41).account(),
        }),
        Payload::CancelRecovery(CancelRecovery {}),
        Payload::ClaimRecovery(ClaimRecovery {
            account: a.alice.account(),
        }),
    ]
}

fn render() -> String {
    let signer = key(20);
    let mut out = String::from("# kind tx_id signed_tx_hex\n");
    let mut txs = Vec::new();
    for (i, p) in samples().into_iter().enumerate() {
        let tx = TxBody {
            sender: signer.account(),
            nonce: i as u64,
            payload: p,
        }
        .sign(CHAIN, &signer);
        out.push_str(&format!(
            "{} {} {}\n",
            tx.body.payload.kind(),
            tx.id(),
            hex::encode(tx.encode())
        ));
        txs.push(tx);
    }
    let verified: Vec<VerifiedTx> = txs
        .iter()
        .cloned()
        .map(|t| t.verify(CHAIN).unwrap())
        .collect();
    let header = BlockHeader {
        chain_id: CHAIN.into(),
        height: Height(7),
        time: Timestamp(T0),
        prev_hash: BlockHash(Hash32([0xbb; 32])),
        txs_root: assent_contracts::block::txs_root(&verified),
        results_root: Hash32([0x11; 32]),
        state_root: Hash32([0x22; 32]),
        proposer: key(2).account(),
    };
    let block = Block {
        header: header.clone(),
        txs,
    };
    out.push_str(&format!("block_hash {}\n", header.hash()));
    out.push_str(&format!("block_txs_root {}\n", header.txs_root));
    out.push_str(&format!(
        "block_encoding_sha256 {}\n",
        Hash32::tagged("golden", &[&block.encode()])
    ));
    let (scenario, uses_results_root) = scenario_roots();
    out.push_str(&format!("state_root_after_scenario {scenario}\n"));
    // What an enterprise recomputes off the chain: pinned, or every link
    // made before a change would stop matching.
    let a = actors();
    for (kind, id) in [
        (IdentityKind::MemberCard, "ACME-0042-1234"),
        (IdentityKind::Phone, "+44 20 7946 0000"),
        (IdentityKind::Email, "Alice@Example.com"),
        (IdentityKind::Openid, "wx8f2a0c1d|oAbC123xyz"),
    ] {
        let c = identity::commit_identifier(
            CHAIN,
            &a.alice.account(),
            &a.acme.account(),
            kind,
            id,
            &LinkSalt(Hash32([0x5a; 32])),
        )
        .unwrap();
        out.push_str(&format!("identity_link_commitment_{kind} {c}\n"));
    }
    // What a use receipt proves against (decision 34): the signed uses'
    // root of the sample RecordUse, and the results root of the scenario's
    // block of two uses (one leaf for their outcomes' root).
    let sample = samples()
        .into_iter()
        .find_map(|p| match p {
            Payload::RecordUse(r) => Some(r),
            _ => None,
        })
        .unwrap();
    let c = assent_contracts::use_tree::UsesCommitment::of(signer.account(), 10, &sample.uses);
    out.push_str(&format!("record_use_uses_root {}\n", c.uses_root));
    out.push_str(&format!(
        "results_root_of_a_two_use_record {uses_results_root}\n"
    ));
    // What a consumer's client recomputes to find its own tags (decision 33).
    let c = tags::commitment(
        CHAIN,
        &a.alice.account(),
        &"runner".parse().unwrap(),
        &TagSalt(Hash32([0x5b; 32])),
    );
    out.push_str(&format!("tag_commitment_runner {c}\n"));
    out
}

/// A fixed history touching every handler family; its state root pins
/// execution semantics. Also the results root of its block of two uses.
fn scenario_roots() -> (Hash32, Hash32) {
    let a = actors();
    let mut c = TestChain::new(&a);
    let genesis_root = c.root;
    c.run(&a.alice, register());
    c.run(&a.bob, register());
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 7))));
    c.run(
        &a.bob,
        Payload::SetPolicy(SetPolicy {
            target: PolicyTarget::Sector(Sector::Retail),
            categories: vec![cat("Purchase")],
            purposes: vec![purp("DirectMarketing")],
            level: Level::Identified,
            min_price: Amount(2),
        }),
    );
    let policy = PolicyId(c.store.policies_of(&a.bob.account()).unwrap()[0].0);
    let two_uses = c.sign(
        &a.acme,
        record(vec![
            a_use(&a.alice, UseBasis::Consent(consent), 3),
            a_use(&a.bob, UseBasis::Policy(policy), 5),
        ]),
    );
    let uses_results_root = c.block(vec![two_uses]).results_root;
    c.run(
        &a.alice,
        Payload::Rate(Rate {
            enterprise: a.acme.account(),
            consent,
            score: 5,
        }),
    );
    c.run(&a.alice, Payload::RevokeConsent(RevokeConsent { consent }));
    c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    c.run(
        &a.mint,
        Payload::Mint(Mint {
            to: a.broke.account(),
            amount: Amount(50),
        }),
    );
    assert_ne!(c.root, genesis_root);
    (c.root, uses_results_root)
}

#[test]
fn encodings_ids_and_block_hash_match_the_pinned_values() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/encodings.txt");
    let now = render();
    if std::env::var("UPDATE_GOLDEN").is_ok() {
        std::fs::write(&path, &now).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).expect("tests/golden/encodings.txt exists");
    for (want, got) in pinned.lines().zip(now.lines()) {
        assert_eq!(want, got, "a pinned encoding changed");
    }
    assert_eq!(pinned.lines().count(), now.lines().count());
    // Every tx kind (DESIGN.md's sixteen, SetContact, LinkIdentity,
    // UnlinkIdentity, NameReferrer and the five of key control) has a
    // sample.
    let kinds: std::collections::BTreeSet<&str> = now
        .lines()
        .skip(1)
        .filter_map(|l| l.split(' ').next())
        .filter(|k| k.chars().next().is_some_and(char::is_uppercase))
        .collect();
    assert_eq!(kinds.len(), 25, "{kinds:?}");
}

#[test]
fn every_pinned_tx_decodes_back_to_the_same_bytes_and_verifies() {
    for line in render().lines().skip(1).take(27) {
        let parts: Vec<&str> = line.split(' ').collect();
        let bytes = hex::decode(parts[2]).unwrap();
        let tx = SignedTx::decode(&bytes, 1 << 20).unwrap();
        assert_eq!(tx.encode(), bytes);
        assert_eq!(tx.id().to_string(), parts[1]);
        assert!(tx.verify(CHAIN).is_ok());
    }
}

#[test]
fn serde_and_bincodes_own_code_write_the_same_bytes() {
    // The ledger's types derive both paths of the one codec (codec.rs);
    // every tx kind, and a block of them, reads and writes the same either way.
    let mut txs = Vec::new();
    for line in render().lines().skip(1).take(27) {
        let bytes = hex::decode(line.split(' ').nth(2).unwrap()).unwrap();
        let via_serde: SignedTx = codec::decode(&bytes).unwrap();
        let native: SignedTx = codec::decode_native(&bytes).unwrap();
        assert_eq!(via_serde, native);
        assert_eq!(codec::encode(&native).unwrap(), bytes);
        assert_eq!(codec::encode_native(&via_serde).unwrap(), bytes);
        txs.push(native);
    }
    let verified: Vec<VerifiedTx> = txs
        .iter()
        .cloned()
        .map(|t| t.verify(CHAIN).unwrap())
        .collect();
    let block = Block {
        header: BlockHeader {
            chain_id: CHAIN.into(),
            height: Height(7),
            time: Timestamp(T0),
            prev_hash: BlockHash(Hash32([0xbb; 32])),
            txs_root: assent_contracts::block::txs_root(&verified),
            results_root: Hash32([0x11; 32]),
            state_root: Hash32([0x22; 32]),
            proposer: key(2).account(),
        },
        txs,
    };
    let bytes = block.encode();
    assert_eq!(codec::encode(&block).unwrap(), bytes);
    assert_eq!(codec::decode::<Block>(&bytes).unwrap(), block);
}
