//! CancelRecovery: the account's current key ends a recovery under way —
//! the owner still holds their key, so the guardians' move is refused.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::state::{ControlExt, Overlay, Recovery, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct CancelRecovery {}

impl Handler for CancelRecovery {
    type Checked = Recovery;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Recovery> {
        match state.recovery(&cx.sender)? {
            Some(r) => Ok(r),
            None => rejected(
                ErrorCode::NoRecovery,
                format!("no recovery of account {} is under way", cx.sender),
            ),
        }
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        r: Recovery,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        out.delete_recovery(&cx.sender);
        Ok(vec![Event::RecoveryCancelled {
            account: cx.sender,
            new_key: r.new_key,
        }])
    }
}
