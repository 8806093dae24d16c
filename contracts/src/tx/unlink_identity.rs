//! UnlinkIdentity: a consumer removes one of their identity links. The block
//! that holds it deletes the record, so from the next height on the
//! enterprise's lookup finds nothing. Always allowed, whatever the
//! enterprise's standing.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::identity::IdentityKind;
use crate::ids::AccountId;
use crate::state::{Overlay, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct UnlinkIdentity {
    pub enterprise: AccountId,
    pub kind: IdentityKind,
}

impl Handler for UnlinkIdentity {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_consumer(state, &cx.sender)?;
        if state
            .identity_link(&cx.sender, &self.enterprise, self.kind)?
            .is_none()
        {
            return rejected(
                ErrorCode::NotLinked,
                format!(
                    "you have no {} link for {}; `assent consumer links` lists yours",
                    self.kind, self.enterprise
                ),
            );
        }
        Ok(())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        out.delete_identity_link(&cx.sender, &self.enterprise, self.kind);
        Ok(vec![Event::IdentityUnlinked {
            consumer: cx.sender,
            enterprise: self.enterprise,
            kind: self.kind,
        }])
    }
}
