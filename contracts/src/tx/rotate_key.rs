//! RotateKey: the account's current key moves the account to a new key. The
//! account id, its consents, policies, balance and history stay; the old key
//! signs for nothing from this block on. A recovery under way ends.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::TxError;
use crate::events::Event;
use crate::ids::AccountId;
use crate::state::{Overlay, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct RotateKey {
    pub new_key: AccountId,
}

impl Handler for RotateKey {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        check_key("new_key", &self.new_key)
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_fresh_key(state, &cx.sender, &self.new_key)
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        out.move_key(&cx.sender, &cx.signer, &self.new_key, cx.block.height);
        Ok(vec![Event::KeyRotated {
            account: cx.sender,
            old_key: cx.signer,
            new_key: self.new_key,
        }])
    }
}
