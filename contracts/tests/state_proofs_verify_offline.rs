//! State proofs verify offline against the genesis: a consent's status
//! (live, paused, revoked), a balance, an enterprise's standing, and the
//! absence of a record. A proof is bound to its height, refused by another
//! chain's genesis, and a flipped byte anywhere fails a named check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::state::{ConsentState, StateExt};
use assent_contracts::state_proof::{Record, RecordRef, StateProof, StateProofError};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::certs::*;
use common::*;

/// Round-trips through JSON, as a proof travels.
fn json(p: &StateProof) -> StateProof {
    serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap()
}

fn consent_state(p: &StateProof, chain: &CertChain) -> ConsentState {
    match json(p).verify(&chain.trust()).unwrap().value {
        Some(Record::Consent(c)) => c.state,
        other => panic!("not a consent: {other:?}"),
    }
}

struct Proofs {
    chain: CertChain,
    live: StateProof,
    paused: StateProof,
    revoked: StateProof,
    absent: StateProof,
    balance: StateProof,
    acme: StateProof,
}

fn proofs() -> (Actors, Proofs) {
    let a = actors();
    let mut chain = CertChain::new(&a, 2..6, "main");
    let filler = [&a.acme, &a.bank];
    chain.run(&a.alice, register(), &filler);
    let g = chain.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 3)), &filler);
    let consent = granted(chain.outcome(g));
    let live = chain.state_proof(RecordRef::Consent(consent));
    chain.run(
        &a.alice,
        Payload::PauseConsent(PauseConsent { consent }),
        &filler,
    );
    let paused = chain.state_proof(RecordRef::Consent(consent));
    chain.run(
        &a.alice,
        Payload::ResumeConsent(ResumeConsent { consent }),
        &filler,
    );
    chain.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 2)]),
        &[&a.bank],
    );
    chain.run(
        &a.alice,
        Payload::RevokeConsent(RevokeConsent { consent }),
        &filler,
    );
    let revoked = chain.state_proof(RecordRef::Consent(consent));
    let absent = chain.state_proof(RecordRef::Consent(ConsentId(Hash32([0x5a; 32]))));
    let balance = chain.state_proof(RecordRef::Account(a.alice.account()));
    let acme = chain.state_proof(RecordRef::Enterprise(a.acme.account()));
    (
        a,
        Proofs {
            chain,
            live,
            paused,
            revoked,
            absent,
            balance,
            acme,
        },
    )
}

#[test]
fn a_live_a_paused_and_a_revoked_consent_each_prove_their_status() {
    let (_, p) = proofs();
    assert_eq!(consent_state(&p.live, &p.chain), ConsentState::Active);
    assert!(matches!(
        consent_state(&p.paused, &p.chain),
        ConsentState::Paused { .. }
    ));
    assert!(matches!(
        consent_state(&p.revoked, &p.chain),
        ConsentState::Revoked { .. }
    ));
    let proven = p.revoked.verify(&p.chain.trust()).unwrap();
    let text = proven.describe();
    assert!(
        text.contains("ConsentWithdrawn (revoked at height"),
        "{text}"
    );
    assert!(text.contains("2 unit(s) used"), "{text}");
    assert!(text.contains("committed by 3 of 4 validators"), "{text}");
}

#[test]
fn an_unknown_consent_proves_absent_and_a_balance_and_a_standing_prove_their_values() {
    let (a, p) = proofs();
    assert!(p.absent.is_absence());
    let proven = json(&p.absent).verify(&p.chain.trust()).unwrap();
    assert_eq!(proven.value, None);
    assert!(
        proven.describe().contains("no consent 5a5a"),
        "{}",
        proven.describe()
    );
    // An absence proof cannot be passed off as a record.
    let mut forged = p.absent.clone();
    forged.value = p.revoked.value.clone();
    assert!(forged.verify(&p.chain.trust()).is_err());

    let balance = p.chain.c.store.account(&a.alice.account()).unwrap().balance;
    match json(&p.balance).verify(&p.chain.trust()).unwrap().value {
        Some(Record::Account(acct)) => assert_eq!(acct.balance, balance),
        other => panic!("{other:?}"),
    }
    match json(&p.acme).verify(&p.chain.trust()).unwrap().value {
        Some(Record::Enterprise(e)) => assert_eq!(e.name, "acme"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_proof_for_one_height_fails_against_the_next_heights_header() {
    let (_, p) = proofs();
    let h = p.live.height;
    let next = p
        .chain
        .blocks
        .iter()
        .find(|b| b.header.height == h.next())
        .unwrap();
    let mut moved = p.live.clone();
    moved.header = hex::encode(codec::encode(&next.header).unwrap());
    moved.certificate = hex::encode(codec::encode(&next.cert).unwrap());
    assert!(matches!(
        moved.verify(&p.chain.trust()),
        Err(StateProofError::Height { .. })
    ));
    // Relabelled as the next height too: the state root binds the height.
    moved.height = h.next();
    assert_eq!(
        moved.verify(&p.chain.trust()),
        Err(StateProofError::StateRoot)
    );
}

fn flip(hex_text: &str, i: usize) -> String {
    let mut b = hex::decode(hex_text).unwrap();
    b[i] ^= 0x01;
    hex::encode(b)
}

#[test]
fn flipping_any_single_byte_fails_with_a_named_check() {
    let (_, p) = proofs();
    let trust = p.chain.trust();
    let proof = &p.revoked;
    assert!(proof.verify(&trust).is_ok());
    let value = proof.value.clone().unwrap();
    for i in 0..value.len() / 2 {
        let mut f = proof.clone();
        f.value = Some(flip(&value, i));
        let e = f.verify(&trust).unwrap_err();
        assert!(
            matches!(e, StateProofError::StateRoot),
            "value byte {i}: {e}"
        );
    }
    for i in 0..proof.header.len() / 2 {
        let mut f = proof.clone();
        f.header = flip(&proof.header, i);
        let e = f.verify(&trust).unwrap_err();
        assert!(
            matches!(
                e,
                StateProofError::Decode {
                    field: "header",
                    ..
                } | StateProofError::HeaderChain(_)
                    | StateProofError::Certificate(_)
            ),
            "header byte {i}: {e}"
        );
    }
    for i in 0..proof.certificate.len() / 2 {
        let mut f = proof.clone();
        f.certificate = flip(&proof.certificate, i);
        let e = f.verify(&trust).unwrap_err();
        assert!(
            matches!(
                e,
                StateProofError::Decode {
                    field: "certificate",
                    ..
                } | StateProofError::Certificate(_)
            ),
            "certificate byte {i}: {e}"
        );
    }
    for s in 0..proof.proof.siblings.len() {
        for i in 0..32 {
            let mut f = proof.clone();
            f.proof.siblings[s].0[i] ^= 0x01;
            assert_eq!(
                f.verify(&trust),
                Err(StateProofError::StateRoot),
                "sibling {s} byte {i}"
            );
        }
    }
    // The record named: another consent's id derives another key.
    let mut f = proof.clone();
    f.record = RecordRef::Consent(ConsentId(Hash32([1; 32])));
    assert_eq!(f.verify(&trust), Err(StateProofError::StateRoot));
    // A dropped or an extra sibling.
    let mut f = proof.clone();
    f.proof.siblings.pop();
    assert_eq!(f.verify(&trust), Err(StateProofError::StateRoot));
    let mut f = proof.clone();
    f.proof.siblings.push(Hash32::ZERO);
    assert_eq!(f.verify(&trust), Err(StateProofError::StateRoot));
    let mut f = proof.clone();
    f.version = "assent-state-proof/0".into();
    assert!(matches!(f.verify(&trust), Err(StateProofError::Version(_))));
}

#[test]
fn another_chains_genesis_refuses_the_proof() {
    let (a, p) = proofs();
    let other = CertChain::new(&a, 10..14, "other");
    let e = p.live.verify(&other.trust()).unwrap_err();
    assert!(matches!(e, StateProofError::OtherChain { .. }), "{e}");
    assert!(e.to_string().contains("another chain"), "{e}");
    // Same chain id and genesis hash claimed, other validators: the
    // certificate does not check.
    let mut trust = other.trust();
    trust.genesis_hash = p.chain.genesis_hash;
    let e = p.live.verify(&trust).unwrap_err();
    assert!(matches!(e, StateProofError::Certificate(_)), "{e}");
}
