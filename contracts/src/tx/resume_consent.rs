//! ResumeConsent: a paused consent covers uses again from this block on.

use serde::{Deserialize, Serialize};

use super::context::*;
use super::revoke_consent::own_consent;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::ConsentId;
use crate::state::{Consent, ConsentState, Overlay, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct ResumeConsent {
    pub consent: ConsentId,
}

impl Handler for ResumeConsent {
    type Checked = Consent;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Consent> {
        let c = own_consent(state, &cx.sender, &self.consent)?;
        if !matches!(c.state, ConsentState::Paused { .. }) {
            return rejected(
                ErrorCode::ConsentNotPaused,
                format!("consent {} is not paused", c.id),
            );
        }
        Ok(c)
    }

    fn apply(
        &self,
        _cx: &TxContext<'_>,
        mut c: Consent,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        c.state = ConsentState::Active;
        out.put_consent(&c);
        Ok(vec![Event::ConsentResumed {
            consent: c.id,
            consumer: c.consumer,
            enterprise: c.enterprise,
        }])
    }
}
