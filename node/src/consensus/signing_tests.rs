//! Tests of [`super`] (`signing.rs`), kept in their own file.

use super::*;
use crate::consensus::types::{to_ledger_certificate, BlockValue, ValidatorSet};
use assent_contracts::state::Validator as LedgerValidator;
use malachitebft_core_types::{CertificateError, CommitCertificate, Context as _, ThresholdParams};
use malachitebft_signing::VerifierExt;

const CHAIN: &str = "assent-test";

fn signers(n: u8) -> (Vec<ConsensusSigner>, Vec<LedgerValidator>) {
    let signers: Vec<ConsensusSigner> = (0..n)
        .map(|i| ConsensusSigner::from_seed([i + 1; 32], CHAIN).unwrap())
        .collect();
    let ledger = signers
        .iter()
        .enumerate()
        .map(|(i, s)| LedgerValidator {
            name: format!("v{i}"),
            consensus_key: s.address().account(),
            power: 1,
            p2p_address: String::new(),
        })
        .collect();
    (signers, ledger)
}

async fn precommits(
    signers: &[ConsensusSigner],
    height: Height,
    round: Round,
    id: BlockId,
) -> Vec<SignedMessage<AssentContext, Vote>> {
    let ctx = AssentContext::new(CHAIN);
    let mut out = Vec::new();
    for s in signers {
        let vote = ctx.new_precommit(height, round, NilOrVal::Val(id), s.address());
        out.push(s.sign_vote(vote).await.unwrap());
    }
    out
}

#[tokio::test]
async fn engine_certificate_verifies_offline_and_in_the_engine() {
    let ctx = AssentContext::new(CHAIN);
    let (signers, ledger) = signers(4);
    let set = ValidatorSet::from_ledger(&ledger).unwrap();
    let (height, round, id) = (Height(7), Round::new(2), BlockId([0x5a; 32]));
    let votes = precommits(&signers[..3], height, round, id).await;
    let cert = CommitCertificate::new(height, round, id, votes);
    assert_eq!(cert.commit_signatures.len(), 3);

    let offline = to_ledger_certificate(&cert);
    let check = offline.verify(CHAIN, &ledger).unwrap();
    assert_eq!((check.signed_power, check.total_power), (3, 4));
    assert!(offline.verify("other-chain", &ledger).is_err());

    let verifier = ConsensusVerifier::new(CHAIN);
    verifier
        .verify_commit_certificate(&ctx, &cert, &set, ThresholdParams::default())
        .await
        .unwrap();
    signers[3]
        .verify_commit_certificate(&ctx, &cert, &set, ThresholdParams::default())
        .await
        .unwrap();

    // Two of four is not enough, for either checker.
    let weak = CommitCertificate::new(
        height,
        round,
        id,
        precommits(&signers[..2], height, round, id).await,
    );
    assert!(to_ledger_certificate(&weak).verify(CHAIN, &ledger).is_err());
    let err = verifier
        .verify_commit_certificate(&ctx, &weak, &set, ThresholdParams::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CertificateError::NotEnoughVotingPower { .. }));

    // A certificate from another chain is refused by the engine too.
    let other = ConsensusVerifier::new("other-chain");
    assert!(other
        .verify_commit_certificate(&ctx, &cert, &set, ThresholdParams::default())
        .await
        .is_err());
}

#[test]
fn vote_bytes_are_the_ledger_vote_message() {
    let vote = AssentContext::new(CHAIN).new_precommit(
        Height(3),
        Round::new(1),
        NilOrVal::Val(BlockId([9; 32])),
        Address([4; 32]),
    );
    let ledger = commit::vote_message(
        commit::VoteKind::Precommit,
        3,
        Some(1),
        Some(BlockId([9; 32]).hash()),
        &Address([4; 32]).account(),
    );
    assert_eq!(
        vote_signing_bytes(CHAIN, &vote),
        crypto::signing_message(VOTE_TAG, CHAIN.as_bytes(), &ledger)
    );
}

#[tokio::test]
async fn votes_and_proposals_sign_and_verify() {
    let ctx = AssentContext::new(CHAIN);
    let s = ConsensusSigner::from_seed([1; 32], CHAIN).unwrap();
    let pk = s.public_key();
    let vote = ctx.new_prevote(Height(1), Round::new(0), NilOrVal::Nil, s.address());
    let signed = s.sign_vote(vote.clone()).await.unwrap();
    assert!(s
        .verify_signed_vote(&vote, &signed.signature, &pk)
        .await
        .unwrap()
        .is_valid());
    // The extension is not part of the vote's signed bytes.
    let extended = malachitebft_core_types::Vote::extend(
        vote.clone(),
        SignedMessage::new(vec![1], Signature([0; 64])),
    );
    assert!(s
        .verify_signed_vote(&extended, &signed.signature, &pk)
        .await
        .unwrap()
        .is_valid());
    let later = ctx.new_prevote(Height(1), Round::new(1), NilOrVal::Nil, s.address());
    assert!(s
        .verify_signed_vote(&later, &signed.signature, &pk)
        .await
        .unwrap()
        .is_invalid());

    let proposal = ctx.new_proposal(
        Height(1),
        Round::new(0),
        BlockValue::new(BlockId([2; 32])),
        Round::Nil,
        s.address(),
    );
    let signed = s.sign_proposal(proposal.clone()).await.unwrap();
    let v = ConsensusVerifier::new(CHAIN);
    assert!(v
        .verify_signed_proposal(&proposal, &signed.signature, &pk)
        .await
        .unwrap()
        .is_valid());
    let moved = Proposal {
        pol_round: Round::new(0),
        ..proposal.clone()
    };
    assert!(v
        .verify_signed_proposal(&moved, &signed.signature, &pk)
        .await
        .unwrap()
        .is_invalid());
    // A proposal signature is not a vote signature (distinct tags).
    let other = ConsensusSigner::from_seed([2; 32], CHAIN).unwrap();
    assert!(v
        .verify_signed_proposal(&proposal, &signed.signature, &other.public_key())
        .await
        .unwrap()
        .is_invalid());
}

#[tokio::test]
async fn refuses_to_sign_for_another_validator() {
    let ctx = AssentContext::new(CHAIN);
    let s = ConsensusSigner::from_seed([1; 32], CHAIN).unwrap();
    let vote = ctx.new_prevote(Height(1), Round::new(0), NilOrVal::Nil, Address([3; 32]));
    assert!(s.sign_vote(vote).await.is_err());
    let proof = s.sign_validator_proof(vec![7; 32], b"peer".to_vec()).await;
    assert!(proof.is_err());
}

#[tokio::test]
async fn vote_extensions_are_bound_to_their_scope() {
    let s = ConsensusSigner::from_seed([1; 32], CHAIN).unwrap();
    let scope = VoteExtensionScope::new(Height(4), Round::new(0), BlockId([1; 32]), s.address());
    let signed = s
        .sign_vote_extension(scope.clone(), vec![1, 2, 3])
        .await
        .unwrap();
    let pk = s.public_key();
    let ok = s.verify_signed_vote_extension(&scope, &signed.message, &signed.signature, &pk);
    assert!(ok.await.unwrap().is_valid());
    let other_round = VoteExtensionScope {
        round: Round::new(1),
        ..scope.clone()
    };
    let bad = s.verify_signed_vote_extension(&other_round, &signed.message, &signed.signature, &pk);
    assert!(bad.await.unwrap().is_invalid());
    let shorter = vec![1, 2];
    let bad = s.verify_signed_vote_extension(&scope, &shorter, &signed.signature, &pk);
    assert!(bad.await.unwrap().is_invalid());
}

#[tokio::test]
async fn validator_proof_binds_the_peer_id() {
    let s = ConsensusSigner::from_seed([1; 32], CHAIN).unwrap();
    let peer = s.libp2p_keypair().public().to_peer_id().to_bytes();
    let proof = s
        .sign_validator_proof(s.public_key().as_bytes().to_vec(), peer.clone())
        .await
        .unwrap();
    // Exactly the engine's preimage, no prefix.
    assert!(s.public_key().verify(
        &ValidatorProof::<AssentContext>::signing_bytes(s.public_key().as_bytes(), &peer),
        &proof.signature
    ));
    let v = ConsensusVerifier::new("any-chain-the-proof-is-chain-agnostic");
    assert!(v.verify_validator_proof(&proof).await.unwrap().is_valid());
    let mut other = proof.clone();
    other.peer_id.push(0);
    assert!(v.verify_validator_proof(&other).await.unwrap().is_invalid());
    let mut garbage = proof.clone();
    garbage.public_key = vec![0; 3];
    assert!(v
        .verify_validator_proof(&garbage)
        .await
        .unwrap()
        .is_invalid());
}

#[test]
fn block_stream_signature_binds_height_round_and_hash() {
    let s = ConsensusSigner::from_seed([1; 32], CHAIN).unwrap();
    let (h, r, id) = (Height(5), Round::new(0), BlockId([3; 32]));
    let sig = s.sign_block_stream(h, r, id);
    let pk = s.public_key();
    assert_eq!(s.verify_block_stream(&pk, h, r, id, &sig), Ok(()));
    let v = ConsensusVerifier::new(CHAIN);
    assert!(v
        .verify_block_stream(&pk, h, Round::new(1), id, &sig)
        .is_err());
    assert!(v.verify_block_stream(&pk, Height(6), r, id, &sig).is_err());
    assert!(v
        .verify_block_stream(&pk, h, r, BlockId([4; 32]), &sig)
        .is_err());
    assert!(ConsensusVerifier::new("x")
        .verify_block_stream(&pk, h, r, id, &sig)
        .is_err());
}

#[test]
fn network_key_is_derived_from_the_consensus_seed() {
    let a = ConsensusSigner::from_seed([1; 32], CHAIN).unwrap();
    let b = ConsensusSigner::from_seed([1; 32], "other").unwrap();
    let c = ConsensusSigner::from_seed([2; 32], CHAIN).unwrap();
    let peer = |s: &ConsensusSigner| s.libp2p_keypair().public().to_peer_id();
    assert_eq!(peer(&a), peer(&b));
    assert_ne!(peer(&a), peer(&c));
    let ed = a.libp2p_keypair().public().try_into_ed25519().unwrap();
    assert_eq!(&ed.to_bytes(), a.public_key().as_bytes());
}
