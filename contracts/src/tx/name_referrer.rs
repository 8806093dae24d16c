//! NameReferrer: a registered consumer names the consumer who referred them
//! (issue 16, item 2; decision 29). Once only, never changed; not themself;
//! the referrer must be a registered consumer whose own chain of referrers
//! does not lead back to the sender (walked at most
//! [`MAX_REFERRAL_CHAIN`](crate::referral::MAX_REFERRAL_CHAIN) links).

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, Amount};
use crate::referral::MAX_REFERRAL_CHAIN;
use crate::state::{Overlay, Referral, StateExt, StateRead};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct NameReferrer {
    pub referrer: AccountId,
}

impl Handler for NameReferrer {
    type Checked = ();

    fn check_stateless(&self) -> Result<(), TxError> {
        check_key("referrer", &self.referrer)
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<()> {
        require_consumer(state, &cx.sender)?;
        if self.referrer == cx.sender {
            return rejected(
                ErrorCode::SelfReferral,
                "you cannot name yourself as your referrer; name the consumer who referred you",
            );
        }
        if let Some(r) = state.referral(&cx.sender)? {
            return rejected(
                ErrorCode::AlreadyReferred,
                format!(
                    "you already named {} as your referrer at height {}; a referrer is named once and never changed",
                    r.referrer, r.named_at
                ),
            );
        }
        if state.consumer(&self.referrer)?.is_none() {
            return rejected(
                ErrorCode::UnknownReferrer,
                format!(
                    "{} is not a registered consumer; only a consumer can refer you",
                    self.referrer
                ),
            );
        }
        // The new link sender → referrer closes a cycle exactly when the
        // referrer's own chain reaches the sender.
        let mut at = self.referrer;
        for _ in 0..MAX_REFERRAL_CHAIN {
            let Some(up) = state.referral(&at)? else {
                return Ok(());
            };
            if up.referrer == cx.sender {
                return rejected(
                    ErrorCode::ReferralCycle,
                    format!(
                        "{} was referred (directly or through others) by you; naming them would make a cycle",
                        self.referrer
                    ),
                );
            }
            at = up.referrer;
        }
        rejected(
            ErrorCode::ReferralCycle,
            format!(
                "{}'s chain of referrers is longer than {MAX_REFERRAL_CHAIN}; the ledger does not follow it, so it cannot rule out a cycle",
                self.referrer
            ),
        )
    }

    fn apply(&self, cx: &TxContext<'_>, _: (), out: &mut Overlay<'_>) -> ExecResult<Vec<Event>> {
        out.put_referral(
            &cx.sender,
            &Referral {
                referrer: self.referrer,
                named_at: cx.block.height,
                named_time: cx.block.time,
                paid: Amount::ZERO,
            },
        );
        let mut totals = out.referrer_totals(&self.referrer)?;
        totals.referred = totals.referred.saturating_add(1);
        out.put_referrer_totals(&self.referrer, &totals);
        Ok(vec![Event::ReferrerNamed {
            consumer: cx.sender,
            referrer: self.referrer,
        }])
    }
}
