//! A consumer's side of the advocacy share (ARCHITECTURE.md decision 29):
//! who referred them and what that referral has paid its referrer, and what
//! they earned as a referrer themselves. Shown in the earnings view
//! (`GET /v1/consumers/{id}/earnings`) and in the export's `consumer.json`.

use assent_contracts::state::{StateExt, StateRead};
use assent_contracts::AccountId;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;

/// Who referred a consumer (named once, never changed).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReferredBy {
    #[schema(value_type = String)]
    pub referrer: AccountId,
    /// Height and block time (ms) of the block that named the referrer.
    pub named_at: u64,
    pub named_time: u64,
    /// Points this referral has paid the referrer so far, out of the
    /// operators' share of this consumer's uses (never out of theirs).
    pub paid_to_referrer: u64,
}

/// What a consumer's referrals add up to.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ReferralSummary {
    /// Points earned as a referrer, all time.
    pub referral_earned: u64,
    /// Consumers who named this one as their referrer.
    pub referred_consumers: u64,
    /// Who referred this consumer; null if nobody was named.
    pub referred_by: Option<ReferredBy>,
}

/// The referral records of `id` in `state`.
pub(crate) fn summary<S: StateRead + ?Sized>(
    state: &S,
    id: &AccountId,
) -> Result<ReferralSummary, ApiError> {
    let totals = state.referrer_totals(id)?;
    let referred_by = state.referral(id)?.map(|r| ReferredBy {
        referrer: r.referrer,
        named_at: r.named_at.0,
        named_time: r.named_time.0,
        paid_to_referrer: r.paid.0,
    });
    Ok(ReferralSummary {
        referral_earned: totals.earned.0,
        referred_consumers: totals.referred,
        referred_by,
    })
}
