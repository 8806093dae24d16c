//! Rate: a consumer who holds or held a consent with an enterprise rates it,
//! once per consent. Feeds the enterprise's reputation.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, ConsentId};
use crate::state::{Overlay, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Rate {
    pub enterprise: AccountId,
    pub consent: ConsentId,
    /// 1 (worst) to 5 (best).
    pub score: u8,
}

impl Handler for Rate {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        if !(1..=5).contains(&self.score) {
            return reject(
                ErrorCode::InvalidField,
                format!("score {} is out of range; give 1 to 5", self.score),
            );
        }
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        let Some(c) = state.consent(&self.consent)? else {
            return rejected(
                ErrorCode::UnknownConsent,
                format!("no consent has the id {}", self.consent),
            );
        };
        if c.consumer != cx.sender || c.enterprise != self.enterprise {
            return rejected(
                ErrorCode::NotYourConsent,
                format!("consent {} is not a consent of yours to {}; only its consumer can rate that enterprise with it", self.consent, self.enterprise),
            );
        }
        if state.rating(&self.consent)?.is_some() {
            return rejected(
                ErrorCode::AlreadyRated,
                format!(
                    "consent {} was already used to rate {}",
                    self.consent, self.enterprise
                ),
            );
        }
        Ok(())
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        out.put_rating(&self.consent, self.score);
        let mut rep = out.reputation(&self.enterprise)?;
        rep.ratings = rep.ratings.saturating_add(1);
        rep.score_sum = rep.score_sum.saturating_add(self.score as u64);
        out.put_reputation(&self.enterprise, &rep);
        Ok(vec![Event::Rated {
            enterprise: self.enterprise,
            consent: self.consent,
            consumer: cx.sender,
            score: self.score,
        }])
    }
}
