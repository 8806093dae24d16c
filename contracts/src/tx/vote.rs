//! Vote: an operator votes on an open proposal, once.

use serde::{Deserialize, Serialize};

use super::context::*;
use super::governance::{require_operator, tally};
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::ProposalId;
use crate::state::{Overlay, Proposal, ProposalStatus, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Vote {
    pub proposal: ProposalId,
    pub yes: bool,
}

impl Handler for Vote {
    type Checked = Proposal;

    fn check_stateless(&self) -> Result<(), TxError> {
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Proposal> {
        require_operator(state, &cx.sender)?;
        let Some(p) = state.proposal(&self.proposal)? else {
            return rejected(
                ErrorCode::UnknownProposal,
                format!("no proposal has the id {}", self.proposal),
            );
        };
        if p.status != ProposalStatus::Open {
            return rejected(
                ErrorCode::ProposalClosed,
                format!("proposal {} is already decided", p.id),
            );
        }
        if p.expires_at <= cx.block.time {
            return rejected(
                ErrorCode::ProposalClosed,
                format!("proposal {} expired", p.id),
            );
        }
        if p.yes.contains(&cx.sender) || p.no.contains(&cx.sender) {
            return rejected(
                ErrorCode::AlreadyVoted,
                format!("{} already voted on proposal {}", cx.sender, p.id),
            );
        }
        Ok(p)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        mut p: Proposal,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        let list = if self.yes { &mut p.yes } else { &mut p.no };
        list.push(cx.sender);
        list.sort();
        let mut events = vec![Event::Voted {
            proposal: p.id,
            operator: cx.sender,
            yes: self.yes,
        }];
        events.extend(tally(cx, p, out)?);
        Ok(events)
    }
}
