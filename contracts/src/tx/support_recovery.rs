//! SupportRecovery: a guardian supports moving an account to a new key.
//! The first support starts the recovery; once `threshold` guardians
//! support the same key it is armed, and the new key can claim the account
//! (`ClaimRecovery`) `delay_ms` of block time later unless the account's
//! current key cancels it first.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, Timestamp};
use crate::state::{ControlExt, Guardians, Overlay, Recovery, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SupportRecovery {
    pub account: AccountId,
    pub new_key: AccountId,
}

impl Handler for SupportRecovery {
    type Checked = (Guardians, Recovery);

    fn check_stateless(&self) -> Result<(), TxError> {
        check_key("new_key", &self.new_key)
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Self::Checked> {
        let Some(g) = state.guardians(&self.account)? else {
            return rejected(
                ErrorCode::NotAGuardian,
                format!("account {} has named no guardians", self.account),
            );
        };
        if !g.guardians.contains(&cx.sender) {
            return rejected(
                ErrorCode::NotAGuardian,
                format!("you are not a guardian of account {}", self.account),
            );
        }
        let r = match state.recovery(&self.account)? {
            Some(r) if r.new_key != self.new_key => {
                return rejected(
                    ErrorCode::RecoveryPending,
                    format!(
                        "a recovery of {} to key {} is under way; support that one, or the account's key can cancel it",
                        self.account, r.new_key
                    ),
                )
            }
            Some(r) if r.supporters.contains(&cx.sender) => {
                return rejected(
                    ErrorCode::AlreadySupported,
                    format!("you already support this recovery of {}", self.account),
                )
            }
            Some(r) => r,
            None => {
                require_fresh_key(state, &self.account, &self.new_key)?;
                Recovery {
                    new_key: self.new_key,
                    supporters: Vec::new(),
                    started_at: cx.block.time,
                    armed_at: None,
                }
            }
        };
        Ok((g, r))
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        (g, mut r): Self::Checked,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        r.supporters.push(cx.sender);
        r.supporters.sort_unstable();
        let supporters = u8::try_from(r.supporters.len()).unwrap_or(u8::MAX);
        let mut events = vec![Event::RecoverySupported {
            account: self.account,
            guardian: cx.sender,
            new_key: self.new_key,
            supporters,
            threshold: g.threshold,
        }];
        if r.armed_at.is_none() && supporters >= g.threshold {
            r.armed_at = Some(cx.block.time);
            events.push(Event::RecoveryArmed {
                account: self.account,
                new_key: self.new_key,
                effective_at: Timestamp(cx.block.time.0.saturating_add(g.delay_ms)),
            });
        }
        out.put_recovery(&self.account, &r);
        Ok(events)
    }
}
