//! Transfer: moves points from the sender to another account.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, Amount};
use crate::state::{Overlay, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Transfer {
    pub to: AccountId,
    pub amount: Amount,
}

impl Handler for Transfer {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.amount == Amount::ZERO {
            return reject(ErrorCode::ZeroAmount, "transfer a positive amount");
        }
        check_key("recipient", &self.to)?;
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, _state: &dyn StateRead) -> ExecResult<()> {
        if self.to == cx.sender {
            return rejected(
                ErrorCode::InvalidField,
                "a transfer to yourself changes nothing",
            );
        }
        Ok(())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        move_points(out, &cx.sender, &self.to, self.amount)?;
        Ok(vec![Event::Transferred {
            from: cx.sender,
            to: self.to,
            amount: self.amount,
        }])
    }
}
