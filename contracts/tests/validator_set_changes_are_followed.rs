//! A chain whose validator set changed: receipts and state proofs of blocks
//! after the change verify once the proof of the change is followed from
//! the genesis set; without it they are refused, and a tampered or
//! misordered change proof is refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::commit::CertError;
use assent_contracts::crypto::Keypair;
use assent_contracts::receipt::{ReceiptError, Subject, Trust};
use assent_contracts::state::{keys, Writes};
use assent_contracts::state_proof::{RecordRef, StateProof, StateProofError};
use assent_contracts::validator_history::{HistoryError, ValidatorHistory};
use assent_contracts::*;
use common::certs::*;
use common::*;

struct Changed {
    chain: CertChain,
    /// The proof of the new set, after the block that changed it.
    set_proof: StateProof,
    change_height: Height,
    before: (usize, usize),
    after: (usize, usize),
    consent: ConsentId,
}

/// alice registers under the genesis set; the set changes to four other
/// validators; alice grants acme a consent under the new set.
fn changed() -> (Actors, Changed) {
    let a = actors();
    let mut chain = CertChain::new(&a, 2..6, "main");
    let before = chain.run(&a.alice, register(), &[&a.acme]);
    let new_keys: Vec<Keypair> = (40..44).map(key).collect();
    let mut new_set = validator_set(&new_keys);
    new_set.sort_by_key(|v| v.consensus_key);
    chain.commit_writes(Writes::from([(
        keys::VALIDATORS.to_vec(),
        Some(codec::encode(&new_set).unwrap()),
    )]));
    let set_proof = chain.state_proof(RecordRef::Validators);
    let change_height = set_proof.height;
    chain.signers = new_keys;
    let g = chain.run(
        &a.alice,
        Payload::GrantConsent(grant(&a.acme, 3)),
        &[&a.bank],
    );
    let consent = granted(chain.outcome(g));
    (
        a,
        Changed {
            chain,
            set_proof,
            change_height,
            before: (before.0, before.1),
            after: g,
            consent,
        },
    )
}

fn follow(c: &Changed, proofs: &[StateProof]) -> Result<ValidatorHistory, HistoryError> {
    ValidatorHistory::follow(
        CHAIN,
        c.chain.genesis_hash,
        c.chain.validators.clone(),
        proofs,
    )
}

#[test]
fn receipts_and_proofs_after_a_set_change_verify_with_the_followed_sets() {
    let (_, c) = changed();
    let receipt = c.chain.receipt(c.after, Subject::Tx);
    let status = c.chain.state_proof(RecordRef::Consent(c.consent));
    // The genesis set alone does not know the new signers.
    assert!(matches!(
        receipt.verify(&c.chain.trust()),
        Err(ReceiptError::Certificate(CertError::UnknownValidator(_)))
    ));
    assert!(matches!(
        status.verify(&c.chain.trust()),
        Err(StateProofError::Certificate(CertError::UnknownValidator(_)))
    ));

    let history = follow(&c, std::slice::from_ref(&c.set_proof)).unwrap();
    assert_eq!(history.changes(), vec![c.change_height]);
    // The block that changed the set was certified by the set before it.
    let mut genesis_set = c.chain.validators.clone();
    genesis_set.sort_by_key(|v| v.consensus_key);
    assert_eq!(history.certifying(c.change_height), genesis_set.as_slice());
    assert_ne!(
        history.certifying(c.change_height.next()),
        genesis_set.as_slice()
    );
    let trust = Trust {
        history: Some(&history),
        ..c.chain.trust()
    };
    receipt.verify(&trust).unwrap();
    assert!(status.verify(&trust).unwrap().value.is_some());
    // Blocks before the change still verify under the genesis set.
    c.chain
        .receipt(c.before, Subject::Tx)
        .verify(&trust)
        .unwrap();
}

#[test]
fn a_tampered_or_misordered_change_proof_is_refused_by_name() {
    let (_, c) = changed();
    let mut tampered = c.set_proof.clone();
    let mut bytes = hex::decode(tampered.value.as_ref().unwrap()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    tampered.value = Some(hex::encode(bytes));
    assert!(matches!(
        follow(&c, &[tampered]),
        Err(HistoryError::Proof {
            index: 0,
            error: StateProofError::StateRoot,
            ..
        })
    ));
    let twice = [c.set_proof.clone(), c.set_proof.clone()];
    assert!(matches!(
        follow(&c, &twice),
        Err(HistoryError::Order { index: 1, .. })
    ));
    // A proof of another record is not a set change.
    let other = c.chain.state_proof(RecordRef::Consent(c.consent));
    assert!(matches!(
        follow(&c, &[other]),
        Err(HistoryError::NotASet { .. })
    ));
    // Another chain's genesis set cannot follow this chain's changes.
    let stranger = CertChain::new(&actors(), 50..54, "main");
    let e = ValidatorHistory::follow(
        CHAIN,
        c.chain.genesis_hash,
        stranger.validators.clone(),
        std::slice::from_ref(&c.set_proof),
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not verify"), "{e}");
}
