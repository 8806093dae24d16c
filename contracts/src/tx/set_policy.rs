//! SetPolicy: a consumer's standing permission for a sector or one enterprise
//! ("any retail enterprise may use my purchase history for analytics at 3 points").

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::TxError;
use crate::events::Event;
use crate::ids::{Amount, PolicyId};
use crate::state::{Overlay, Policy, PolicyTarget, StateRead};
use crate::terms::{Category, Level, Purpose};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SetPolicy {
    pub target: PolicyTarget,
    pub categories: Vec<Category>,
    pub purposes: Vec<Purpose>,
    pub level: Level,
    /// Price per unit of use under this policy.
    pub min_price: Amount,
}

impl Handler for SetPolicy {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        check_terms(&self.categories, &self.purposes)
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_consumer(state, &cx.sender)?;
        if let PolicyTarget::Enterprise(e) = &self.target {
            require_enterprise(state, e)?;
        }
        Ok(())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        let policy = Policy {
            id: PolicyId(cx.tx_id.0),
            consumer: cx.sender,
            target: self.target,
            categories: self.categories.clone(),
            purposes: self.purposes.clone(),
            level: self.level,
            min_price: self.min_price,
            set_height: cx.block.height,
        };
        out.put_policy(&policy);
        Ok(vec![Event::PolicySet {
            policy: policy.id,
            consumer: cx.sender,
        }])
    }
}
