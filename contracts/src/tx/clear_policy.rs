//! ClearPolicy: removes a standing policy; it covers no use from this block on.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::PolicyId;
use crate::state::{Overlay, Policy, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct ClearPolicy {
    pub policy: PolicyId,
}

impl Handler for ClearPolicy {
    type Checked = Policy;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Policy> {
        let Some(p) = state.policy(&self.policy)? else {
            return rejected(
                ErrorCode::UnknownPolicy,
                format!("no policy has the id {}", self.policy),
            );
        };
        if p.consumer != cx.sender {
            return rejected(
                ErrorCode::NotYourConsent,
                format!("policy {} was set by another consumer", self.policy),
            );
        }
        Ok(p)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        p: Policy,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        out.delete_policy(&p);
        Ok(vec![Event::PolicyCleared {
            policy: p.id,
            consumer: cx.sender,
        }])
    }
}
