//! Propose: an operator proposes a governance action; the proposer's own vote
//! counts as yes. It passes at > 2/3 of the operators.

use serde::{Deserialize, Serialize};

use super::context::*;
use super::governance::{require_operator, tally, GovAction};
use crate::error::TxError;
use crate::events::Event;
use crate::ids::ProposalId;
use crate::state::{Overlay, Proposal, ProposalStatus, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Propose {
    pub action: GovAction,
}

impl Handler for Propose {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        self.action.check_stateless()
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_operator(state, &cx.sender)?;
        self.action.check(state)
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        let p = Proposal {
            id: ProposalId(cx.tx_id.0),
            proposer: cx.sender,
            action: self.action.clone(),
            yes: vec![cx.sender],
            no: vec![],
            created_height: cx.block.height,
            expires_at: cx.block.time.plus_ms(cx.params.proposal_ttl_ms),
            status: ProposalStatus::Open,
        };
        let mut events = vec![
            Event::ProposalCreated {
                proposal: p.id,
                proposer: cx.sender,
            },
            Event::Voted {
                proposal: p.id,
                operator: cx.sender,
                yes: true,
            },
        ];
        events.extend(tally(cx, p, out)?);
        Ok(events)
    }
}
