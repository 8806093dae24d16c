//! The ledger state a chain starts from. The genesis crate parses and
//! validates the genesis file and hands this over.

use serde::{Deserialize, Serialize};

use crate::block::next_state;
use crate::ids::{AccountId, Amount, Hash32, Height};
use crate::state::{
    Account, Enterprise, MemStore, Operator, Overlay, Params, ReferralTerms, StateTree, Validator,
    Writes,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct InitialState {
    pub chain_id: String,
    pub params: Params,
    pub mint_authority: AccountId,
    pub operators: Vec<Operator>,
    pub validators: Vec<Validator>,
    pub enterprises: Vec<(AccountId, Enterprise)>,
    pub balances: Vec<(AccountId, Amount)>,
    /// The advocacy share's terms; `None` writes no record (no referral is
    /// paid until governance sets them), which keeps the state root of a
    /// genesis written before referrals existed.
    pub referral: Option<ReferralTerms>,
}

/// Why an initial state cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitialStateError {
    #[error("initial balances add up to more than the largest possible supply")]
    SupplyOverflow,
    #[error("account {0} has two initial balances")]
    DuplicateBalance(AccountId),
    #[error("the initial state tree: {0}")]
    Tree(#[from] crate::state::StoreError),
}

impl InitialState {
    /// The writes that create the state, and the state root at height 0.
    pub fn writes(&self) -> Result<(Writes, Hash32), InitialStateError> {
        let (writes, _, root) = self.build()?;
        Ok((writes, root))
    }

    /// The writes, the state tree and the state root at height 0.
    pub fn build(&self) -> Result<(Writes, StateTree, Hash32), InitialStateError> {
        let empty = MemStore::new();
        let mut o = Overlay::new(&empty);
        o.put(crate::state::keys::CHAIN_ID.to_vec(), &self.chain_id);
        o.put(
            crate::state::keys::MINT_AUTHORITY.to_vec(),
            &self.mint_authority,
        );
        o.put_params(&self.params);
        if let Some(t) = &self.referral {
            o.put_referral_terms(t);
        }
        let mut ops = self.operators.clone();
        ops.sort();
        o.put_operators(&ops);
        let mut vals = self.validators.clone();
        vals.sort_by_key(|v| v.consensus_key);
        o.put_validators(&vals);
        for (id, e) in &self.enterprises {
            o.put_enterprise(id, e);
        }
        let mut supply = Amount::ZERO;
        let mut seen = std::collections::BTreeSet::new();
        for (id, amount) in &self.balances {
            if !seen.insert(*id) {
                return Err(InitialStateError::DuplicateBalance(*id));
            }
            supply = supply
                .checked_add(*amount)
                .ok_or(InitialStateError::SupplyOverflow)?;
            o.put_account(
                id,
                &Account {
                    nonce: 0,
                    balance: *amount,
                },
            );
        }
        o.put_supply(supply);
        let writes = o.into_writes();
        let (tree, root) = next_state(&StateTree::new(), Height(0), &writes)?;
        Ok((writes, tree, root))
    }

    /// A fresh in-memory state from this genesis, and its tree.
    pub fn to_mem_store(&self) -> Result<(MemStore, StateTree), InitialStateError> {
        let (writes, tree, _) = self.build()?;
        let mut s = MemStore::new();
        s.apply(&writes);
        Ok((s, tree))
    }
}
