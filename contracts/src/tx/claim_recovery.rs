//! ClaimRecovery: the new key of an armed recovery takes the account over
//! once the delay has passed. It signs this tx itself (a fresh key, nonce
//! 0), which shows it holds the key the guardians named. The key that
//! signed for the account until now is retired.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::AccountId;
use crate::state::{ControlExt, Overlay, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct ClaimRecovery {
    pub account: AccountId,
}

impl Handler for ClaimRecovery {
    /// The key retired.
    type Checked = AccountId;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<AccountId> {
        let Some(r) = state.recovery(&self.account)? else {
            return rejected(
                ErrorCode::NoRecovery,
                format!("no recovery of account {} is under way", self.account),
            );
        };
        if r.new_key != cx.signer {
            return rejected(
                ErrorCode::NoRecovery,
                format!(
                    "the recovery of {} is to key {}, not to the key that signed this",
                    self.account, r.new_key
                ),
            );
        }
        let g = state.guardians(&self.account)?;
        let (Some(armed), Some(g)) = (r.armed_at, g) else {
            return rejected(
                ErrorCode::RecoveryNotDue,
                format!(
                    "only {} guardian(s) support the recovery of {} so far",
                    r.supporters.len(),
                    self.account
                ),
            );
        };
        let due = armed.0.saturating_add(g.delay_ms);
        if cx.block.time.0 < due {
            return rejected(
                ErrorCode::RecoveryNotDue,
                format!(
                    "the recovery of {} takes effect at block time {due} ms ({} s from this block); until then the account's key can cancel it",
                    self.account,
                    (due - cx.block.time.0).div_ceil(1000)
                ),
            );
        }
        // The new key must still be unused (it signs this tx, so its nonce
        // is already taken: the nonce record is its own, not an account's).
        if state.key_role(&cx.signer)?.is_some()
            || state.consumer(&cx.signer)?.is_some()
            || state.enterprise(&cx.signer)?.is_some()
        {
            return rejected(
                ErrorCode::KeyInUse,
                format!("key {} has become an account of its own", cx.signer),
            );
        }
        Ok(state.current_key(&self.account)?)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        old: AccountId,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        out.move_key(&self.account, &old, &cx.signer, cx.block.height);
        Ok(vec![Event::KeyRecovered {
            account: self.account,
            old_key: old,
            new_key: cx.signer,
        }])
    }
}
