//! PauseConsent: a paused consent covers no use until it is resumed.

use serde::{Deserialize, Serialize};

use super::context::*;
use super::revoke_consent::own_consent;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::ConsentId;
use crate::state::{Consent, ConsentState, Overlay, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct PauseConsent {
    pub consent: ConsentId,
}

impl Handler for PauseConsent {
    type Checked = Consent;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Consent> {
        let c = own_consent(state, &cx.sender, &self.consent)?;
        if let ConsentState::Paused { height, .. } = c.state {
            return rejected(
                ErrorCode::ConsentPaused,
                format!("consent {} is already paused since height {height}", c.id),
            );
        }
        Ok(c)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        mut c: Consent,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        c.state = ConsentState::Paused {
            height: cx.block.height,
            time: cx.block.time,
        };
        out.put_consent(&c);
        Ok(vec![Event::ConsentPaused {
            consent: c.id,
            consumer: c.consumer,
            enterprise: c.enterprise,
        }])
    }
}
