//! Consensus signatures that must be checkable without a node: votes (whose
//! precommits form a block's commit certificate) and proposals.
//!
//! The node's consensus engine signs exactly these bytes, so a receipt that
//! carries a block header and its commit certificate can be verified offline
//! against the genesis validator set.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::crypto::{self, Signature};
use crate::ids::{AccountId, BlockHash, Height};
use crate::state::Validator;

/// Domain tag of consensus votes.
pub const VOTE_TAG: &[u8] = b"assent/vote/v1";
/// Domain tag of consensus proposals.
pub const PROPOSAL_TAG: &[u8] = b"assent/proposal/v1";
/// Domain tag of the proposer's signature over a streamed block.
pub const BLOCK_STREAM_TAG: &[u8] = b"assent/block-stream/v1";

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub enum VoteKind {
    Prevote,
    Precommit,
}

#[derive(bincode::Encode)]
struct VoteBody<'a> {
    kind: VoteKind,
    height: u64,
    round: Option<u32>,
    block: Option<BlockHash>,
    validator: &'a AccountId,
}

/// The message a validator signs (under [`VOTE_TAG`] and the chain id) to vote.
pub fn vote_message(
    kind: VoteKind,
    height: u64,
    round: Option<u32>,
    block: Option<BlockHash>,
    validator: &AccountId,
) -> Vec<u8> {
    codec::encode_infallible(&VoteBody {
        kind,
        height,
        round,
        block,
        validator,
    })
}

#[derive(bincode::Encode)]
struct ProposalBody<'a> {
    height: u64,
    round: Option<u32>,
    block: BlockHash,
    pol_round: Option<u32>,
    proposer: &'a AccountId,
}

/// The message a proposer signs (under [`PROPOSAL_TAG`] and the chain id).
pub fn proposal_message(
    height: u64,
    round: Option<u32>,
    block: BlockHash,
    pol_round: Option<u32>,
    proposer: &AccountId,
) -> Vec<u8> {
    codec::encode_infallible(&ProposalBody {
        height,
        round,
        block,
        pol_round,
        proposer,
    })
}

/// One validator's precommit signature in a commit certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct CommitSignature {
    pub validator: AccountId,
    pub signature: Signature,
}

/// Proof that more than 2/3 of the voting power precommitted a block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct CommitCertificate {
    pub height: Height,
    pub round: u32,
    pub block_hash: BlockHash,
    pub signatures: Vec<CommitSignature>,
}

/// Why a commit certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("validator {0} signed twice")]
    Duplicate(AccountId),
    #[error("{0} is not a validator of this chain")]
    UnknownValidator(AccountId),
    #[error("the signature of validator {0} does not verify")]
    BadSignature(AccountId),
    #[error("only {signed} of {total} voting power signed; more than 2/3 is needed")]
    NotEnoughPower { signed: u64, total: u64 },
    #[error("the certificate is for height {cert}, the block is at height {block}")]
    WrongHeight { cert: u64, block: u64 },
    #[error("the certificate commits block {cert}, not this block {block}")]
    WrongBlock { cert: BlockHash, block: BlockHash },
}

/// What a valid certificate showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitCheck {
    pub signed_power: u64,
    pub total_power: u64,
    pub signers: usize,
    pub validators: usize,
}

impl CommitCertificate {
    /// Checks every signature against `validators` (the set at that height):
    /// no duplicates, no strangers, every signature valid, and strictly more
    /// than 2/3 of the total power signed.
    pub fn verify(
        &self,
        chain_id: &str,
        validators: &[Validator],
    ) -> Result<CommitCheck, CertError> {
        let total: u64 = validators
            .iter()
            .fold(0u64, |t, v| t.saturating_add(v.power));
        let mut seen = BTreeSet::new();
        let mut signed: u64 = 0;
        for s in &self.signatures {
            if !seen.insert(s.validator) {
                return Err(CertError::Duplicate(s.validator));
            }
            let Some(v) = validators.iter().find(|v| v.consensus_key == s.validator) else {
                return Err(CertError::UnknownValidator(s.validator));
            };
            let msg = vote_message(
                VoteKind::Precommit,
                self.height.0,
                Some(self.round),
                Some(self.block_hash),
                &s.validator,
            );
            crypto::verify(
                &s.validator,
                VOTE_TAG,
                chain_id.as_bytes(),
                &msg,
                &s.signature,
            )
            .map_err(|_| CertError::BadSignature(s.validator))?;
            signed = signed.saturating_add(v.power);
        }
        if (signed as u128) * 3 <= (total as u128) * 2 {
            return Err(CertError::NotEnoughPower { signed, total });
        }
        Ok(CommitCheck {
            signed_power: signed,
            total_power: total,
            signers: seen.len(),
            validators: validators.len(),
        })
    }

    /// Checks that the certificate commits `header` and is valid.
    pub fn verify_for(
        &self,
        chain_id: &str,
        header: &crate::block::BlockHeader,
        validators: &[Validator],
    ) -> Result<CommitCheck, CertError> {
        if self.height != header.height {
            return Err(CertError::WrongHeight {
                cert: self.height.0,
                block: header.height.0,
            });
        }
        let hash = header.hash();
        if self.block_hash != hash {
            return Err(CertError::WrongBlock {
                cert: self.block_hash,
                block: hash,
            });
        }
        self.verify(chain_id, validators)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keypair;

    fn set(n: u8) -> (Vec<Keypair>, Vec<Validator>) {
        let keys: Vec<Keypair> = (0..n).map(|i| Keypair::from_seed([i + 1; 32])).collect();
        let vals = keys
            .iter()
            .enumerate()
            .map(|(i, k)| Validator {
                name: format!("v{i}"),
                consensus_key: k.account(),
                power: 1,
                p2p_address: String::new(),
            })
            .collect();
        (keys, vals)
    }

    fn sign(k: &Keypair, block: BlockHash) -> CommitSignature {
        let msg = vote_message(VoteKind::Precommit, 5, Some(0), Some(block), &k.account());
        CommitSignature {
            validator: k.account(),
            signature: k.sign(VOTE_TAG, b"c", &msg),
        }
    }

    #[test]
    fn three_of_four_commit_two_do_not() {
        let (keys, vals) = set(4);
        let block = BlockHash(crate::ids::Hash32([1; 32]));
        let mut cert = CommitCertificate {
            height: Height(5),
            round: 0,
            block_hash: block,
            signatures: keys[..3].iter().map(|k| sign(k, block)).collect(),
        };
        assert_eq!(cert.verify("c", &vals).unwrap().signed_power, 3);
        assert!(matches!(
            cert.verify("other-chain", &vals),
            Err(CertError::BadSignature(_))
        ));
        cert.signatures.pop();
        assert_eq!(
            cert.verify("c", &vals),
            Err(CertError::NotEnoughPower {
                signed: 2,
                total: 4
            })
        );
        cert.signatures.push(cert.signatures[0].clone());
        assert!(matches!(
            cert.verify("c", &vals),
            Err(CertError::Duplicate(_))
        ));
        let stranger = Keypair::from_seed([99; 32]);
        cert.signatures.pop();
        cert.signatures.push(sign(&stranger, block));
        assert!(matches!(
            cert.verify("c", &vals),
            Err(CertError::UnknownValidator(_))
        ));
        let other = BlockHash(crate::ids::Hash32([2; 32]));
        let forged = CommitCertificate {
            block_hash: other,
            ..CommitCertificate {
                height: Height(5),
                round: 0,
                block_hash: block,
                signatures: keys[..3].iter().map(|k| sign(k, block)).collect(),
            }
        };
        assert!(matches!(
            forged.verify("c", &vals),
            Err(CertError::BadSignature(_))
        ));
    }
}
