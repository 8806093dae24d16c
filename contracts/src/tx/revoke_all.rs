//! RevokeAll: ends every live consent of the sender (to one enterprise, or to all) in one tx.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::AccountId;
use crate::state::{Consent, ConsentState, Overlay, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct RevokeAll {
    /// Only consents to this enterprise; `None` = every enterprise.
    pub enterprise: Option<AccountId>,
}

impl Handler for RevokeAll {
    type Checked = Vec<Consent>;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Vec<Consent>> {
        require_consumer(state, &cx.sender)?;
        let mut live = Vec::new();
        for id in state.consents_of(&cx.sender)? {
            let Some(c) = state.consent(&id)? else {
                continue;
            };
            let matches = self.enterprise.is_none_or(|e| e == c.enterprise);
            if matches && !matches!(c.state, ConsentState::Revoked { .. }) {
                live.push(c);
            }
        }
        if live.is_empty() {
            let scope = match self.enterprise {
                Some(e) => format!("to {e}"),
                None => "at all".to_string(),
            };
            return rejected(
                ErrorCode::NothingToRevoke,
                format!("{} has no live consents {scope}", cx.sender),
            );
        }
        Ok(live)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        live: Vec<Consent>,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        let mut events = Vec::with_capacity(live.len());
        for mut c in live {
            c.state = ConsentState::Revoked {
                height: cx.block.height,
                time: cx.block.time,
            };
            out.put_consent(&c);
            events.push(Event::ConsentRevoked {
                consent: c.id,
                consumer: c.consumer,
                enterprise: c.enterprise,
            });
        }
        Ok(events)
    }
}
