//! Validators and validator sets as the engine sees them.

use std::collections::BTreeSet;

use assent_contracts::ids::AccountId;
use assent_contracts::state::Validator as LedgerValidator;
use malachitebft_core_types::{self as mc, Round, VotingPower};

use super::{Address, AssentContext, Height, PublicKey};

// The ledger's bound must be one the engine can count.
const _: () = assert!(ValidatorSet::MAX_TOTAL_POWER <= u64::MAX / 3);

/// One validator as consensus sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub address: Address,
    pub public_key: PublicKey,
    pub voting_power: VotingPower,
}

impl mc::Validator<AssentContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Why a validator set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    #[error("the validator set is empty; consensus needs at least one validator")]
    Empty,
    #[error("validator {0} appears more than once")]
    Duplicate(AccountId),
    #[error("validator {0} has an invalid or small-order consensus key")]
    WeakKey(AccountId),
    #[error("validator {0} has zero voting power")]
    ZeroPower(AccountId),
    #[error("the total voting power exceeds {max}; lower the powers")]
    TotalPowerTooLarge { max: u64 },
}

/// The validators of one height, in CometBFT order (power descending, then
/// address ascending). Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total_power: VotingPower,
}

impl ValidatorSet {
    /// The largest total power: the ledger's bound (genesis and governance
    /// refuse more), below `u64::MAX / 3` as the engine computes `total * 3`.
    pub const MAX_TOTAL_POWER: u64 = assent_contracts::state::MAX_TOTAL_VOTING_POWER;

    /// Builds the set from the ledger's validators (any order).
    pub fn from_ledger(validators: &[LedgerValidator]) -> Result<ValidatorSet, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(validators.len());
        let mut total: u64 = 0;
        for v in validators {
            let key = v.consensus_key;
            if !seen.insert(key) {
                return Err(ValidatorSetError::Duplicate(key));
            }
            let public_key =
                PublicKey::from_account(&key).map_err(|_| ValidatorSetError::WeakKey(key))?;
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(key));
            }
            let max = Self::MAX_TOTAL_POWER;
            total = (total.checked_add(v.power).filter(|t| *t <= max))
                .ok_or(ValidatorSetError::TotalPowerTooLarge { max })?;
            out.push(Validator {
                address: Address::from(key),
                public_key,
                voting_power: v.power,
            });
        }
        out.sort_by(|a, b| {
            b.voting_power
                .cmp(&a.voting_power)
                .then(a.address.cmp(&b.address))
        });
        Ok(ValidatorSet {
            validators: out,
            total_power: total,
        })
    }

    /// The validators in set order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false (a set is never empty).
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    pub fn total_power(&self) -> VotingPower {
        self.total_power
    }

    pub fn get(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }

    /// The proposer of `(height, round)`: plain round-robin over the set
    /// order, index = (height + round) mod n (a Nil round counts as 0). Every
    /// validator proposes equally often whatever its power; deterministic
    /// because the set order is.
    pub fn proposer(&self, height: Height, round: Round) -> &Validator {
        // The set is never empty (checked in `from_ledger`): the index is in range.
        let n = self.validators.len().max(1) as u128;
        let r = u128::from(round.as_u32().unwrap_or(0));
        &self.validators[((u128::from(height.0) + r) % n) as usize]
    }
}

impl mc::ValidatorSet<AssentContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.total_power
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.get(address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
    }
}
