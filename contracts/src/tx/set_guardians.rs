//! SetGuardians: an account names the accounts that may recover it, how
//! many of them must agree and how long the account's own key then has to
//! object. No guardians turns social recovery off. A recovery under way
//! ends (the guardians it counted may no longer be guardians).

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::AccountId;
use crate::state::{Guardians, Overlay, StateRead};

/// Most guardians of one account.
pub const MAX_GUARDIANS: usize = 10;
/// Longest recovery delay: a year of block time.
pub const MAX_RECOVERY_DELAY_MS: u64 = 366 * 24 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SetGuardians {
    /// Distinct accounts; empty turns recovery off.
    pub guardians: Vec<AccountId>,
    /// How many must support a recovery (1 to the number of guardians; 0
    /// with no guardians).
    pub threshold: u8,
    /// Block time between the threshold being reached and the new key
    /// taking over, during which the account's key can cancel.
    pub delay_ms: u64,
}

impl Handler for SetGuardians {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.guardians.len() > MAX_GUARDIANS {
            return reject(
                ErrorCode::TooManyItems,
                format!(
                    "{} guardians given; at most {MAX_GUARDIANS}",
                    self.guardians.len()
                ),
            );
        }
        let mut sorted = self.guardians.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.guardians.len() {
            return reject(ErrorCode::DuplicateItem, "a guardian is listed twice");
        }
        for g in &self.guardians {
            check_key("guardian", g)?;
        }
        let n = self.guardians.len();
        let ok = if n == 0 {
            self.threshold == 0
        } else {
            self.threshold >= 1 && usize::from(self.threshold) <= n
        };
        if !ok {
            return reject(
                ErrorCode::InvalidField,
                format!(
                    "threshold {} with {n} guardian(s): give 1 to {n} (0 only with no guardians)",
                    self.threshold
                ),
            );
        }
        if self.delay_ms > MAX_RECOVERY_DELAY_MS {
            return reject(
                ErrorCode::InvalidField,
                format!(
                    "delay of {} ms: at most {MAX_RECOVERY_DELAY_MS} (a year)",
                    self.delay_ms
                ),
            );
        }
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, _: &dyn StateRead) -> ExecResult<()> {
        if self.guardians.contains(&cx.sender) {
            return rejected(
                ErrorCode::InvalidField,
                "an account cannot be its own guardian",
            );
        }
        Ok(())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        let mut guardians = self.guardians.clone();
        guardians.sort_unstable();
        out.delete_recovery(&cx.sender);
        if guardians.is_empty() {
            out.delete_guardians(&cx.sender);
        } else {
            out.put_guardians(
                &cx.sender,
                &Guardians {
                    guardians: guardians.clone(),
                    threshold: self.threshold,
                    delay_ms: self.delay_ms,
                    set_at: cx.block.height,
                },
            );
        }
        Ok(vec![Event::GuardiansSet {
            account: cx.sender,
            guardians,
            threshold: self.threshold,
            delay_ms: self.delay_ms,
        }])
    }
}
