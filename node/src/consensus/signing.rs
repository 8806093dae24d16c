//! Consensus signatures: the engine's [`Signer`] and [`Verifier`].
//!
//! Every preimage is `tag ‖ u8 len(chain_id) ‖ chain_id ‖ message`
//! ([`crypto::signing_message`]), with a distinct tag per kind:
//! - votes: [`VOTE_TAG`] over the ledger's [`commit::vote_message`] (the
//!   extension is never signed with the vote), so the precommits the engine
//!   collects form certificates the ledger verifies offline
//!   ([`commit::CommitCertificate::verify`]);
//! - proposals: [`PROPOSAL_TAG`] over [`commit::proposal_message`];
//! - vote extensions (unused): [`VOTE_EXTENSION_TAG`] over the precommit scope
//!   and the extension bytes;
//! - streamed blocks: [`BLOCK_STREAM_TAG`] over (height, round, block hash),
//!   carried by the `Fin` proposal part;
//! - the validator proof (engine format): exactly
//!   `ValidatorProof::signing_bytes(public_key, peer_id)`, no prefix.
//!
//! Signing goes through the ledger's [`Keypair`] (ed25519-dalek), verifying
//! through `ed25519-consensus` (ZIP-215), the ledger's one signature rule.

use std::fmt;
use std::sync::Arc;

use assent_contracts::commit::{self, BLOCK_STREAM_TAG, PROPOSAL_TAG, VOTE_TAG};
use assent_contracts::crypto::{self, Keypair, SignatureError};
use async_trait::async_trait;
use malachitebft_core_types::{NilOrVal, Round, SignedMessage, ValidatorProof, VoteExtensionScope};
use malachitebft_signing::{Error as SignError, Signer, VerificationResult, Verifier};

use super::types::{
    vote_kind, Address, AssentContext, BlockId, Height, PrivateKey, Proposal, PublicKey, Signature,
    Vote,
};

/// Domain tag of vote-extension signatures (extensions are disabled, but the
/// engine's API must be complete).
pub const VOTE_EXTENSION_TAG: &[u8] = b"assent/vote-ext/v1";

/// Why a signer could not be built or refused to sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    #[error("the consensus key {0} is invalid or small-order; generate a new key")]
    WeakKey(assent_contracts::AccountId),
    #[error("could not derive the network key from the consensus key: {0}")]
    NetworkKey(String),
    #[error("asked to sign a {what} for {claimed}, but this node's key is {ours}")]
    NotOurs {
        what: &'static str,
        claimed: Address,
        ours: Address,
    },
}

/// The exact bytes a validator signs for `vote` on chain `chain_id`.
pub fn vote_signing_bytes(chain_id: &str, vote: &Vote) -> Vec<u8> {
    crypto::signing_message(VOTE_TAG, chain_id.as_bytes(), &vote_message(vote))
}

fn vote_message(vote: &Vote) -> Vec<u8> {
    let block = match vote.value {
        NilOrVal::Nil => None,
        NilOrVal::Val(id) => Some(id.hash()),
    };
    commit::vote_message(
        vote_kind(vote.vote_type),
        vote.height.0,
        vote.round.as_u32(),
        block,
        &vote.validator.account(),
    )
}

/// The exact bytes a proposer signs for `proposal` on chain `chain_id`.
pub fn proposal_signing_bytes(chain_id: &str, proposal: &Proposal) -> Vec<u8> {
    crypto::signing_message(
        PROPOSAL_TAG,
        chain_id.as_bytes(),
        &proposal_message(proposal),
    )
}

fn proposal_message(p: &Proposal) -> Vec<u8> {
    commit::proposal_message(
        p.height.0,
        p.round.as_u32(),
        p.value.id.hash(),
        p.pol_round.as_u32(),
        &p.proposer.account(),
    )
}

fn push_round(out: &mut Vec<u8>, round: Round) {
    match round.as_u32() {
        None => out.push(0),
        Some(r) => {
            out.push(1);
            out.extend_from_slice(&r.to_be_bytes());
        }
    }
}

/// Message (before tag and chain id) of a vote extension:
/// `height u64 BE ‖ round ‖ value id ‖ validator ‖ u32 BE len ‖ extension`,
/// where a round is `0x00` (nil) or `0x01 ‖ u32 BE`.
fn vote_extension_message(scope: &VoteExtensionScope<AssentContext>, extension: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + 5 + 32 + 32 + 4 + extension.len());
    m.extend_from_slice(&scope.height.0.to_be_bytes());
    push_round(&mut m, scope.round);
    m.extend_from_slice(scope.value_id.as_bytes());
    m.extend_from_slice(scope.validator_address.as_bytes());
    m.extend_from_slice(&(extension.len() as u32).to_be_bytes());
    m.extend_from_slice(extension);
    m
}

/// Message (before tag and chain id) of a block-stream signature:
/// `height u64 BE ‖ round ‖ block hash` (round as in vote extensions).
pub fn block_stream_message(height: Height, round: Round, block_hash: BlockId) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + 5 + 32);
    m.extend_from_slice(&height.0.to_be_bytes());
    push_round(&mut m, round);
    m.extend_from_slice(block_hash.as_bytes());
    m
}

/// Verifies consensus signatures; needs no key (full nodes use it alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusVerifier {
    chain_id: String,
}

impl ConsensusVerifier {
    pub fn new(chain_id: impl Into<String>) -> Self {
        ConsensusVerifier {
            chain_id: chain_id.into(),
        }
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    fn check(&self, pk: &PublicKey, tag: &[u8], message: &[u8], sig: &Signature) -> bool {
        pk.verify(
            &crypto::signing_message(tag, self.chain_id.as_bytes(), message),
            sig,
        )
    }

    pub fn vote_is_valid(&self, vote: &Vote, sig: &Signature, pk: &PublicKey) -> bool {
        self.check(pk, VOTE_TAG, &vote_message(vote), sig)
    }

    pub fn proposal_is_valid(&self, proposal: &Proposal, sig: &Signature, pk: &PublicKey) -> bool {
        self.check(pk, PROPOSAL_TAG, &proposal_message(proposal), sig)
    }

    /// Checks the proposer's `Fin` signature of a streamed block.
    pub fn verify_block_stream(
        &self,
        proposer: &PublicKey,
        height: Height,
        round: Round,
        block_hash: impl Into<BlockId>,
        signature: &Signature,
    ) -> Result<(), SignatureError> {
        let msg = block_stream_message(height, round, block_hash.into());
        if self.check(proposer, BLOCK_STREAM_TAG, &msg, signature) {
            Ok(())
        } else {
            Err(SignatureError::Invalid)
        }
    }
}

#[async_trait]
impl Verifier<AssentContext> for ConsensusVerifier {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SignError> {
        Ok(VerificationResult::from_bool(
            self.vote_is_valid(vote, signature, public_key),
        ))
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SignError> {
        Ok(VerificationResult::from_bool(
            self.proposal_is_valid(proposal, signature, public_key),
        ))
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<AssentContext>,
        extension: &Vec<u8>,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SignError> {
        let msg = vote_extension_message(scope, extension);
        Ok(VerificationResult::from_bool(self.check(
            public_key,
            VOTE_EXTENSION_TAG,
            &msg,
            signature,
        )))
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<AssentContext>,
    ) -> Result<VerificationResult, SignError> {
        // A malformed or weak key makes the proof invalid, not the verifier broken.
        let Ok(pk) = PublicKey::from_bytes(&proof.public_key) else {
            return Ok(VerificationResult::Invalid);
        };
        Ok(VerificationResult::from_bool(
            pk.verify(&proof.preimage(), &proof.signature),
        ))
    }
}

/// A validator's signer: the consensus key, plus the network key derived from
/// the same seed. Also verifies (it holds a [`ConsensusVerifier`]).
#[derive(Clone)]
pub struct ConsensusSigner {
    verifier: ConsensusVerifier,
    key: PrivateKey,
    /// The same seed as an `ed25519-consensus` key: signs raw bytes (the
    /// validator proof), which the ledger's `Keypair` never does.
    raw: ed25519_consensus::SigningKey,
    address: Address,
    public_key: PublicKey,
    network: libp2p::identity::Keypair,
}

impl fmt::Debug for ConsensusSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsensusSigner")
            .field("chain_id", &self.verifier.chain_id)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl ConsensusSigner {
    /// The signer of `keypair` on chain `chain_id`. Fails only for a key no
    /// seed produces in practice (small-order) or a network-key derivation error.
    pub fn new(keypair: Keypair, chain_id: impl Into<String>) -> Result<Self, SignerError> {
        let account = keypair.account();
        let public_key =
            PublicKey::from_account(&account).map_err(|_| SignerError::WeakKey(account))?;
        let mut seed = keypair.seed();
        let raw = ed25519_consensus::SigningKey::from(seed);
        // Zeroizes `seed` in place.
        let network = libp2p::identity::Keypair::ed25519_from_bytes(&mut seed)
            .map_err(|e| SignerError::NetworkKey(e.to_string()))?;
        Ok(ConsensusSigner {
            verifier: ConsensusVerifier::new(chain_id),
            key: PrivateKey(Arc::new(keypair)),
            raw,
            address: Address::from(account),
            public_key,
            network,
        })
    }

    pub fn from_seed(seed: [u8; 32], chain_id: impl Into<String>) -> Result<Self, SignerError> {
        ConsensusSigner::new(Keypair::from_seed(seed), chain_id)
    }

    pub fn chain_id(&self) -> &str {
        &self.verifier.chain_id
    }

    pub fn address(&self) -> Address {
        self.address
    }

    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// A keyless verifier for the same chain.
    pub fn verifier(&self) -> ConsensusVerifier {
        self.verifier.clone()
    }

    /// The ed25519 libp2p identity derived from the consensus seed (its peer
    /// id is stable across restarts). libp2p's own signatures (noise, gossip)
    /// use prefixes that never collide with the `assent/…` tags or "PoV".
    pub fn libp2p_keypair(&self) -> libp2p::identity::Keypair {
        self.network.clone()
    }

    fn sign_tagged(&self, tag: &[u8], message: &[u8]) -> Signature {
        self.key
            .0
            .sign(tag, self.verifier.chain_id.as_bytes(), message)
            .into()
    }

    fn ensure_ours(&self, what: &'static str, claimed: Address) -> Result<(), SignError> {
        if claimed == self.address {
            Ok(())
        } else {
            Err(SignError::from_source(SignerError::NotOurs {
                what,
                claimed,
                ours: self.address,
            }))
        }
    }

    /// The proposer's signature binding a streamed block to (height, round).
    pub fn sign_block_stream(
        &self,
        height: Height,
        round: Round,
        block_hash: impl Into<BlockId>,
    ) -> Signature {
        let msg = block_stream_message(height, round, block_hash.into());
        self.sign_tagged(BLOCK_STREAM_TAG, &msg)
    }

    /// See [`ConsensusVerifier::verify_block_stream`].
    pub fn verify_block_stream(
        &self,
        proposer: &PublicKey,
        height: Height,
        round: Round,
        block_hash: impl Into<BlockId>,
        signature: &Signature,
    ) -> Result<(), SignatureError> {
        self.verifier
            .verify_block_stream(proposer, height, round, block_hash, signature)
    }
}

#[async_trait]
impl Signer<AssentContext> for ConsensusSigner {
    async fn sign_vote(&self, vote: Vote) -> Result<SignedMessage<AssentContext, Vote>, SignError> {
        self.ensure_ours("vote", vote.validator)?;
        let signature = self.sign_tagged(VOTE_TAG, &vote_message(&vote));
        Ok(SignedMessage::new(vote, signature))
    }

    async fn sign_proposal(
        &self,
        proposal: Proposal,
    ) -> Result<SignedMessage<AssentContext, Proposal>, SignError> {
        self.ensure_ours("proposal", proposal.proposer)?;
        let signature = self.sign_tagged(PROPOSAL_TAG, &proposal_message(&proposal));
        Ok(SignedMessage::new(proposal, signature))
    }

    async fn sign_vote_extension(
        &self,
        scope: VoteExtensionScope<AssentContext>,
        extension: Vec<u8>,
    ) -> Result<SignedMessage<AssentContext, Vec<u8>>, SignError> {
        self.ensure_ours("vote extension", scope.validator_address)?;
        let signature = self.sign_tagged(
            VOTE_EXTENSION_TAG,
            &vote_extension_message(&scope, &extension),
        );
        Ok(SignedMessage::new(extension, signature))
    }

    async fn sign_validator_proof(
        &self,
        public_key: Vec<u8>,
        peer_id: Vec<u8>,
    ) -> Result<ValidatorProof<AssentContext>, SignError> {
        if public_key.as_slice() != self.public_key.as_bytes().as_slice() {
            let claimed = PublicKey::from_bytes(&public_key)
                .map(|pk| pk.address())
                .unwrap_or(Address([0; 32]));
            return Err(SignError::from_source(SignerError::NotOurs {
                what: "validator proof",
                claimed,
                ours: self.address,
            }));
        }
        let bytes = ValidatorProof::<AssentContext>::signing_bytes(&public_key, &peer_id);
        let signature = Signature(self.raw.sign(&bytes).to_bytes());
        Ok(ValidatorProof::new(public_key, peer_id, signature))
    }
}

#[async_trait]
impl Verifier<AssentContext> for ConsensusSigner {
    async fn verify_signed_vote(
        &self,
        vote: &Vote,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SignError> {
        self.verifier
            .verify_signed_vote(vote, signature, public_key)
            .await
    }

    async fn verify_signed_proposal(
        &self,
        proposal: &Proposal,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SignError> {
        self.verifier
            .verify_signed_proposal(proposal, signature, public_key)
            .await
    }

    async fn verify_signed_vote_extension(
        &self,
        scope: &VoteExtensionScope<AssentContext>,
        extension: &Vec<u8>,
        signature: &Signature,
        public_key: &PublicKey,
    ) -> Result<VerificationResult, SignError> {
        self.verifier
            .verify_signed_vote_extension(scope, extension, signature, public_key)
            .await
    }

    async fn verify_validator_proof(
        &self,
        proof: &ValidatorProof<AssentContext>,
    ) -> Result<VerificationResult, SignError> {
        self.verifier.verify_validator_proof(proof).await
    }
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
