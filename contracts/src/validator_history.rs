//! The validator sets of a chain over time: its genesis set, then the set
//! after each height that changed it, each shown by a state proof of the
//! `validators` record checked against a header that the set before it
//! certified. With it, receipts and state proofs of blocks after a
//! validator-set change verify offline (the node serves the proofs at
//! `GET /v1/validator-sets`), and a node syncing from a snapshot knows which
//! set certifies the snapshot's block.
//!
//! What it cannot show is that no change was left out: a left-out change
//! makes later certificates fail (their signers are not the set followed),
//! or is caught where the current set is known — a snapshot's own
//! `validators` record.

use crate::ids::{Hash32, Height};
use crate::receipt::Trust;
use crate::state::Validator;
use crate::state_proof::{Record, RecordRef, StateProof, StateProofError};

/// Why a list of validator-set proofs was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("validator-set proof #{index} is for height {height}, not after the previous one; the proofs must be in height order")]
    Order { index: usize, height: Height },
    #[error("validator-set proof #{index} (height {height}) is not a proof of the validator set")]
    NotASet { index: usize, height: Height },
    #[error("validator-set proof #{index} (height {height}) does not verify: {error}")]
    Proof {
        index: usize,
        height: Height,
        error: StateProofError,
    },
}

/// A chain's validator sets, checked from its genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorHistory {
    /// (the height after which the set holds, the set), oldest first; the
    /// first is the genesis set (height 0).
    sets: Vec<(Height, Vec<Validator>)>,
}

impl ValidatorHistory {
    /// Follows `proofs` (oldest first) from `genesis_set` (ordered by key,
    /// as the state keeps it): each must verify under the set before it.
    pub fn follow(
        chain_id: &str,
        genesis_hash: Hash32,
        mut genesis_set: Vec<Validator>,
        proofs: &[StateProof],
    ) -> Result<ValidatorHistory, HistoryError> {
        genesis_set.sort_by_key(|v| v.consensus_key);
        let mut sets = vec![(Height(0), genesis_set)];
        for (index, p) in proofs.iter().enumerate() {
            let (after, current) = &sets[sets.len() - 1];
            if p.height <= *after {
                return Err(HistoryError::Order {
                    index,
                    height: p.height,
                });
            }
            if p.record != RecordRef::Validators {
                return Err(HistoryError::NotASet {
                    index,
                    height: p.height,
                });
            }
            let trust = Trust {
                chain_id,
                genesis_hash,
                validators: current,
                history: None,
            };
            let proven = p.verify(&trust).map_err(|error| HistoryError::Proof {
                index,
                height: p.height,
                error,
            })?;
            let Some(Record::Validators(next)) = proven.value else {
                return Err(HistoryError::NotASet {
                    index,
                    height: p.height,
                });
            };
            sets.push((p.height, next));
        }
        Ok(ValidatorHistory { sets })
    }

    /// The set that certifies block `h`: the set after `h - 1`.
    pub fn certifying(&self, h: Height) -> &[Validator] {
        self.sets
            .iter()
            .rev()
            .find(|(after, _)| *after < h)
            .map_or(&self.sets[0].1, |(_, set)| set)
    }

    /// The set after the last change followed.
    pub fn latest(&self) -> &[Validator] {
        &self.sets[self.sets.len() - 1].1
    }

    /// Heights whose blocks changed the set, oldest first.
    pub fn changes(&self) -> Vec<Height> {
        self.sets.iter().skip(1).map(|(h, _)| *h).collect()
    }
}
