//! Tests of validator peer ids and the height estimate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::consensus::signing::ConsensusSigner;
use crate::consensus::types::{BlockId, Height, Signature};
use assent_contracts::state::Validator as LedgerValidator;
use malachitebft_core_types::{Context as _, NilOrVal, Round};
use malachitebft_signing::Signer as _;

const CHAIN: &str = "assent-test";

fn signers(n: u8) -> (Vec<ConsensusSigner>, ValidatorSet) {
    let signers: Vec<ConsensusSigner> = (0..n)
        .map(|i| ConsensusSigner::from_seed([i + 1; 32], CHAIN).unwrap())
        .collect();
    let ledger: Vec<LedgerValidator> = signers
        .iter()
        .enumerate()
        .map(|(i, s)| LedgerValidator {
            name: format!("v{i}"),
            consensus_key: s.address().account(),
            power: 1,
            p2p_address: String::new(),
        })
        .collect();
    (signers, ValidatorSet::from_ledger(&ledger).unwrap())
}

fn prevote(s: &ConsensusSigner, height: u64) -> SignedMessage<AssentContext, Vote> {
    let ctx = AssentContext::new(CHAIN);
    let vote = ctx.new_prevote(
        Height(height),
        Round::new(0),
        NilOrVal::Val(BlockId([7; 32])),
        s.address(),
    );
    futures::executor::block_on(s.sign_vote(vote)).unwrap()
}

#[test]
fn a_validators_peer_id_is_the_one_its_node_runs_with() {
    let (signers, set) = signers(4);
    let peers = ValidatorPeers::new(&set);
    assert_eq!(peers.len(), 4);
    for s in &signers {
        let running = s.libp2p_keypair().public().to_peer_id();
        let id = PeerId::from_bytes(&running.to_bytes()).unwrap();
        assert_eq!(peers.validator(&id), Some(s.address()));
    }
    let stranger = ConsensusSigner::from_seed([99; 32], CHAIN).unwrap();
    let id = stranger.libp2p_keypair().public().to_peer_id();
    assert_eq!(
        peers.validator(&PeerId::from_bytes(&id.to_bytes()).unwrap()),
        None
    );
}

#[test]
fn one_validator_claiming_a_huge_height_does_not_move_the_estimate() {
    let (signers, set) = signers(4);
    let mut est = HeightEstimate::new(ConsensusVerifier::new(CHAIN), set);
    for s in &signers[..3] {
        est.observe(Signed::Vote(&prevote(s, 10)));
    }
    assert_eq!(est.height(), 10);
    // A Byzantine validator signs a vote far in the future.
    est.observe(Signed::Vote(&prevote(&signers[3], u64::MAX / 2)));
    assert_eq!(est.height(), 10, "one of four is not more than a third");
    // A second validator (more than a third together) moves it.
    est.observe(Signed::Vote(&prevote(&signers[0], 12)));
    assert_eq!(est.height(), 12);
}

#[test]
fn unsigned_and_unknown_messages_do_not_count() {
    let (signers, set) = signers(4);
    let mut est = HeightEstimate::new(ConsensusVerifier::new(CHAIN), set);
    // Forged signatures, claiming to be validators 0 and 1.
    for s in &signers[..2] {
        let mut v = prevote(s, 1_000);
        v.signature = Signature([9; 64]);
        est.observe(Signed::Vote(&v));
    }
    // A properly signed vote from a key that is not a validator.
    let outsider = ConsensusSigner::from_seed([200; 32], CHAIN).unwrap();
    est.observe(Signed::Vote(&prevote(&outsider, 1_000)));
    assert_eq!(est.height(), 0);
    assert_eq!(est.refused(), 3);
    // A vote signed for another chain does not verify here.
    let other = ConsensusSigner::from_seed([1; 32], "another-chain").unwrap();
    est.observe(Signed::Vote(&prevote(&other, 1_000)));
    assert_eq!(est.refused(), 4);
}

#[test]
fn a_removed_validators_heights_are_forgotten() {
    let (signers, set) = signers(4);
    let mut est = HeightEstimate::new(ConsensusVerifier::new(CHAIN), set);
    for s in &signers[..2] {
        est.observe(Signed::Vote(&prevote(s, 50)));
    }
    assert_eq!(est.height(), 50);
    let (_, smaller) = self::signers(1);
    est.set_validators(smaller);
    assert_eq!(est.height(), 50, "validator 0 is still in the set");
    let stranger = ConsensusSigner::from_seed([100; 32], CHAIN).unwrap();
    let others = ValidatorSet::from_ledger(&[LedgerValidator {
        name: "x".into(),
        consensus_key: stranger.address().account(),
        power: 1,
        p2p_address: String::new(),
    }])
    .unwrap();
    est.set_validators(others);
    assert_eq!(est.height(), 0);
}
