//! LinkIdentity: a consumer binds an identifier an enterprise already holds
//! (member card, phone, email, OpenID subject) to their account for that
//! enterprise, as a salted commitment only (`crate::identity`). One link per
//! (consumer, enterprise, kind); to bind another identifier of the same kind,
//! unlink first.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::identity::IdentityKind;
use crate::ids::{AccountId, Hash32, LinkCommitment};
use crate::state::{EnterpriseStatus, IdentityLink, Overlay, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct LinkIdentity {
    pub enterprise: AccountId,
    pub kind: IdentityKind,
    /// `identity::commitment` of the normalised identifier and a fresh salt.
    pub commitment: LinkCommitment,
}

impl Handler for LinkIdentity {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        check_key("enterprise", &self.enterprise)?;
        if self.commitment.0 == Hash32::ZERO {
            return reject(
                ErrorCode::InvalidField,
                "commitment is all zeros; compute it from the identifier and a fresh salt (`assent consumer link` does)",
            );
        }
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_consumer(state, &cx.sender)?;
        let ent = require_enterprise(state, &self.enterprise)?;
        if ent.status == EnterpriseStatus::Suspended {
            return rejected(
                ErrorCode::EnterpriseSuspended,
                format!(
                    "enterprise {} is suspended; an identity cannot be linked to it now",
                    ent.name
                ),
            );
        }
        if let Some(l) = state.identity_link(&cx.sender, &self.enterprise, self.kind)? {
            return rejected(
                ErrorCode::AlreadyLinked,
                format!(
                    "you already linked your {} for {} at height {}; unlink it first to link another",
                    self.kind.noun(),
                    ent.name,
                    l.linked_at
                ),
            );
        }
        Ok(())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        out.put_identity_link(
            &cx.sender,
            &self.enterprise,
            self.kind,
            &IdentityLink {
                commitment: self.commitment,
                linked_at: cx.block.height,
            },
        );
        Ok(vec![Event::IdentityLinked {
            consumer: cx.sender,
            enterprise: self.enterprise,
            kind: self.kind,
            commitment: self.commitment,
        }])
    }
}
