//! State proofs from the store: a record (or its absence) at a committed
//! height, with its path in that height's state tree, the header and the
//! commit certificate ([`StateProof`]).

use assent_contracts::state::tree;
use assent_contracts::state::StateRead;
use assent_contracts::state_proof::{RecordRef, StateProof};
use assent_contracts::Height;

use super::keys;
use super::trees::NotKept;
use super::{Store, StoreError};

/// Why a state proof cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    #[error("height {height} is not committed yet; the head is at {head}")]
    NotCommitted { height: Height, head: Height },
    #[error("height 0 is the genesis: its state is the genesis file's and has no commit certificate; ask for height 1 or later")]
    Genesis,
    #[error("this node keeps the state of heights {oldest} to {head} for proofs (store.proof_history_mb); ask for one of them — a proof once fetched stays valid for good")]
    HeightNotKept { oldest: Height, head: Height },
    #[error("the record changed after height {height}, and the value it had then was written before height {oldest}, the oldest this node keeps for proofs; ask for a later height")]
    ValueNotKept { height: Height, oldest: Height },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ledger store read failed: {0}")]
    Ledger(#[from] assent_contracts::state::StoreError),
    #[error("this node's state tree disagrees with its own header at height {0}; its store is damaged: tell its operator")]
    SelfCheck(Height),
}

impl Store {
    /// The proof of `record` as of committed height `at` (default: the head).
    pub fn state_proof(
        &self,
        record: RecordRef,
        at: Option<Height>,
    ) -> Result<StateProof, ProofError> {
        let snap = self.snapshot();
        let head = snap.height();
        let h = at.unwrap_or(head);
        if h > head {
            return Err(ProofError::NotCommitted { height: h, head });
        }
        if h.0 == 0 {
            return Err(ProofError::Genesis);
        }
        let key = record.key();
        let (t, past) = {
            let trees = self.core().trees();
            let not_kept = |e: NotKept| match e {
                NotKept::Height { oldest } => ProofError::HeightNotKept { oldest, head },
                NotKept::Value { oldest } => ProofError::ValueNotKept { height: h, oldest },
            };
            let t = trees.at(h).map_err(not_kept)?;
            (t, trees.value_at(&key, h).map_err(not_kept)?)
        };
        // Unchanged since `h` (up to the newest kept version, which is at or
        // above the snapshot): the snapshot's value is the one.
        let value = match past {
            Some(v) => v,
            None => snap.get(&key)?,
        };
        drop(snap);
        let missing = |what: &str| StoreError::Corrupt {
            what: format!("{what} {h}"),
            why: "committed but missing from the journal".into(),
        };
        let block = self.block(h)?.ok_or_else(|| missing("block"))?;
        let cert = self.certificate(h)?.ok_or_else(|| missing("certificate"))?;
        let proof = StateProof::build(
            self.genesis_hash(),
            record,
            value.as_deref(),
            &t,
            &block.header,
            &cert,
        )?;
        // The proof must check against the node's own header; if not, the
        // node's state is damaged and says so rather than hand out a bad proof.
        match proof.proof.root(&key, value.as_deref()) {
            Ok(root) if tree::state_root(h, &root) == block.header.state_root => Ok(proof),
            _ => Err(ProofError::SelfCheck(h)),
        }
    }
}

impl Store {
    /// [`Self::save_validator_set_proof`] on the commit path: the block is
    /// committed whatever happens here, so a failure is logged, not
    /// returned. A missing proof makes a later state sync from this node
    /// fail its validator-set check (it never makes one succeed wrongly).
    pub(crate) fn keep_validator_set_proof(&self, h: Height) {
        if let Err(e) = self.save_validator_set_proof(h) {
            tracing::error!(target: "assent::storage", height = h.0, error = %e, "could not keep the proof of a validator-set change; nodes syncing from this one will refuse its snapshots");
        }
    }

    /// Keeps the proof of the validator set after `h`, a height whose block
    /// changed it, for good: a node syncing from a snapshot follows the set
    /// from the genesis through these.
    pub(crate) fn save_validator_set_proof(&self, h: Height) -> Result<(), StoreError> {
        let proof = match self.state_proof(RecordRef::Validators, Some(h)) {
            Ok(p) => p,
            Err(ProofError::Store(e)) => return Err(e),
            Err(e) => {
                return Err(StoreError::Corrupt {
                    what: format!("validator set proof at height {h}"),
                    why: e.to_string(),
                })
            }
        };
        let bytes = serde_json::to_vec(&proof).unwrap_or_default();
        self.core()
            .backend
            .apply(vec![(keys::validator_set_proof(h), Some(bytes))], true)
    }

    /// The proofs of every validator-set change up to `to`, oldest first.
    pub fn validator_set_proofs(&self, to: Height) -> Result<Vec<StateProof>, StoreError> {
        let from = keys::VALIDATOR_SET_PROOFS;
        let end = keys::validator_set_proof(Height(to.0.saturating_add(1)));
        self.core()
            .backend
            .range(from, &end, false, usize::MAX)?
            .into_iter()
            .map(|(k, v)| {
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                    what: format!("validator set proof {}", hex::encode(&k)),
                    why: e.to_string(),
                })
            })
            .collect()
    }
}
