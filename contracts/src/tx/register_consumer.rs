//! RegisterConsumer: a key becomes a consumer, with self-declared interest
//! tags as salted commitments only (decision 33, [`crate::tags`]).

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::Amount;
use crate::state::{Consumer, Overlay, StateExt, StateRead};
use crate::tags::TagCommitments;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct RegisterConsumer {
    /// The first set of interests (sorted, at most [`MAX_TAGS`]; may be empty).
    pub tags: TagCommitments,
}

impl Handler for RegisterConsumer {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        self.tags.check(MAX_TAGS)
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        check_key("consumer key", &cx.sender)?;
        if state.consumer(&cx.sender)?.is_some() {
            return rejected(
                ErrorCode::AlreadyRegistered,
                format!("{} is already a registered consumer", cx.sender),
            );
        }
        if let Some(role) = has_other_role(state, &cx.sender)? {
            return rejected(
                ErrorCode::RoleConflict,
                format!(
                    "{} is {role}; register as a consumer with a key of your own",
                    cx.sender
                ),
            );
        }
        Ok(())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        let consumer = Consumer {
            tags: self.tags.clone(),
            registered_at: cx.block.height,
            earned: Amount::ZERO,
            uses_settled: 0,
        };
        out.put_consumer(&cx.sender, &consumer);
        Ok(vec![Event::ConsumerRegistered {
            consumer: cx.sender,
        }])
    }
}
