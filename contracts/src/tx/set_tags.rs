//! SetTags: a consumer replaces their interest tags — as salted commitments
//! only (decision 33, [`crate::tags`]): no tag reaches the chain.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::TxError;
use crate::events::Event;
use crate::state::{Consumer, Overlay, StateRead};
use crate::tags::TagCommitments;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SetTags {
    /// The new set (sorted, at most [`MAX_TAGS`]); empty clears it.
    pub tags: TagCommitments,
}

impl Handler for SetTags {
    type Checked = Consumer;

    fn check_stateless(&self) -> Result<(), TxError> {
        self.tags.check(MAX_TAGS)
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Consumer> {
        require_consumer(state, &cx.sender)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        mut consumer: Consumer,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        consumer.tags = self.tags.clone();
        out.put_consumer(&cx.sender, &consumer);
        Ok(vec![Event::TagsSet {
            consumer: cx.sender,
        }])
    }
}
