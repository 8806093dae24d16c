//! Mint: the mint authority issues points (enterprises buy points off-chain).
//! The only way total supply changes.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, Amount};
use crate::state::{Overlay, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Mint {
    pub to: AccountId,
    pub amount: Amount,
}

impl Handler for Mint {
    type Checked = Amount;

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.amount == Amount::ZERO {
            return reject(ErrorCode::ZeroAmount, "mint a positive amount");
        }
        check_key("recipient", &self.to)?;
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Amount> {
        if state.mint_authority()? != cx.sender {
            return rejected(
                ErrorCode::NotMintAuthority,
                format!("{} is not the mint authority of this chain", cx.sender),
            );
        }
        match state.supply()?.checked_add(self.amount) {
            Some(s) => Ok(s),
            None => rejected(ErrorCode::Overflow, "total supply would overflow"),
        }
    }

    fn apply(
        &self,
        _cx: &TxContext<'_>,
        supply: Amount,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        credit(out, &self.to, self.amount)?;
        out.put_supply(supply);
        Ok(vec![Event::Minted {
            to: self.to,
            amount: self.amount,
        }])
    }
}
