//! RevokeConsent: ends a consent from the block that contains the revocation on.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, ConsentId};
use crate::state::{Consent, ConsentState, Overlay, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct RevokeConsent {
    pub consent: ConsentId,
}

/// The sender's own consent, or a rejection.
pub(crate) fn own_consent(
    state: &dyn StateRead,
    sender: &AccountId,
    id: &ConsentId,
) -> ExecResult<Consent> {
    let Some(c) = state.consent(id)? else {
        return rejected(
            ErrorCode::UnknownConsent,
            format!("no consent has the id {id}"),
        );
    };
    if &c.consumer != sender {
        return rejected(
            ErrorCode::NotYourConsent,
            format!("consent {id} was granted by another consumer"),
        );
    }
    if let ConsentState::Revoked { height, .. } = c.state {
        return rejected(
            ErrorCode::ConsentRevoked,
            format!("consent {id} was already revoked at height {height}"),
        );
    }
    Ok(c)
}

impl Handler for RevokeConsent {
    type Checked = Consent;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Consent> {
        own_consent(state, &cx.sender, &self.consent)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        mut c: Consent,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        c.state = ConsentState::Revoked {
            height: cx.block.height,
            time: cx.block.time,
        };
        out.put_consent(&c);
        Ok(vec![Event::ConsentRevoked {
            consent: c.id,
            consumer: c.consumer,
            enterprise: c.enterprise,
        }])
    }
}
