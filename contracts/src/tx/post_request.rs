//! PostRequest: an enterprise asks consumers for access on stated terms.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{Amount, RequestId};
use crate::state::{Overlay, Request, StateRead};
use crate::terms::{Category, Level, Purpose, Tag};

/// Longest a request may stay open: 366 days.
pub const MAX_REQUEST_DURATION_MS: u64 = 366 * 24 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct PostRequest {
    pub categories: Vec<Category>,
    pub purposes: Vec<Purpose>,
    pub level: Level,
    pub price_per_use: Amount,
    /// How long the request stays open, in milliseconds of block time.
    pub duration_ms: u64,
    /// Interests of the consumers it is meant for (informational; may be empty).
    pub target_tags: Vec<Tag>,
}

impl Handler for PostRequest {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        check_terms(&self.categories, &self.purposes)?;
        check_tags(&self.target_tags)?;
        if self.duration_ms == 0 || self.duration_ms > MAX_REQUEST_DURATION_MS {
            return reject(
                ErrorCode::InvalidField,
                format!(
                    "duration must be between 1 ms and {MAX_REQUEST_DURATION_MS} ms (366 days)"
                ),
            );
        }
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_active_sender_enterprise(state, &cx.sender).map(|_| ())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        let req = Request {
            id: RequestId(cx.tx_id.0),
            enterprise: cx.sender,
            categories: self.categories.clone(),
            purposes: self.purposes.clone(),
            level: self.level,
            price_per_use: self.price_per_use,
            target_tags: self.target_tags.clone(),
            posted_height: cx.block.height,
            expires_at: cx.block.time.plus_ms(self.duration_ms),
            grants: 0,
        };
        out.put_request(&req);
        Ok(vec![Event::RequestPosted {
            request: req.id,
            enterprise: cx.sender,
        }])
    }
}
