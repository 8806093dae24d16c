//! SetTags: a consumer replaces their interest tags.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::TxError;
use crate::events::Event;
use crate::state::{Consumer, Overlay, StateRead};
use crate::terms::Tag;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetTags {
    pub tags: Vec<Tag>,
}

impl Handler for SetTags {
    type Checked = Consumer;

    fn check_stateless(&self) -> Result<(), TxError> {
        check_tags(&self.tags)
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
            tags: self.tags.clone(),
        }])
    }
}
