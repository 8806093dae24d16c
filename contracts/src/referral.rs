//! The advocacy share (issue 16, item 2; ARCHITECTURE.md decision 29): a
//! consumer names who referred them (`NameReferrer`, once), and while the
//! published [`ReferralTerms`] allow, the referrer earns a share of each of
//! the referred consumer's settled uses.
//!
//! The share comes out of the operators' share of the use, never out of the
//! consumer's: for a use that pays `paid`, the consumer gets exactly what it
//! would get with no referrer (`paid − operator_share_bps × paid`), the
//! referrer `min(share_bps × paid, the operators' share, what the cap has
//! left)` (each product rounded down), and the operators' pool the rest. So
//! supply is conserved and nobody but the enterprise pays.

use crate::ids::{Amount, Timestamp};
use crate::state::{Referral, ReferralTerms};

/// Most links of a referrer's own chain of referrers that a `NameReferrer`
/// walks looking for the sender. A longer chain is refused like a cycle, so
/// the check's cost is bounded whatever the history.
pub const MAX_REFERRAL_CHAIN: usize = 64;

/// Checks referral terms on their own (genesis and governance): a share of
/// at most 100 %, and a bounded payout — a cap, a period, or both — unless
/// the share is zero.
pub fn check_terms(t: &ReferralTerms) -> Result<(), String> {
    if t.share_bps.0 > crate::ids::BasisPoints::MAX {
        return Err(format!(
            "referral share_bps is {}; at most 10000 (100 %), and only the operators' share is ever paid",
            t.share_bps.0
        ));
    }
    if t.share_bps.0 > 0 && t.max_points.0 == 0 && t.period_ms == 0 {
        return Err(
            "a referral share needs a bound: set max_points (points per referral) or period_ms (time after the referral), or both".into(),
        );
    }
    Ok(())
}

/// Whether a referral still pays at block time `now` under `terms`.
pub fn still_pays(terms: &ReferralTerms, referral: &Referral, now: Timestamp) -> bool {
    let in_period =
        terms.period_ms == 0 || now.0 < referral.named_time.0.saturating_add(terms.period_ms);
    let under_cap = terms.max_points.0 == 0 || referral.paid < terms.max_points;
    terms.share_bps.0 > 0 && in_period && under_cap
}

/// The referrer's share of one settled use that paid `paid`, of which
/// `to_operators` is the operators' share before the referral.
pub fn payout(
    terms: Option<&ReferralTerms>,
    referral: &Referral,
    paid: Amount,
    to_operators: Amount,
    now: Timestamp,
) -> Amount {
    let Some(t) = terms else {
        return Amount::ZERO;
    };
    if !still_pays(t, referral, now) {
        return Amount::ZERO;
    }
    let mut amount = t.share_bps.share_of(paid).min(to_operators);
    if t.max_points.0 > 0 {
        amount = amount.min(Amount(t.max_points.0.saturating_sub(referral.paid.0)));
    }
    amount
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, BasisPoints, Height};

    fn referral(paid: u64) -> Referral {
        Referral {
            referrer: AccountId([1; 32]),
            named_at: Height(1),
            named_time: Timestamp(1_000),
            paid: Amount(paid),
        }
    }

    #[test]
    fn the_share_is_capped_by_the_operators_share_the_cap_and_the_period() {
        let t = ReferralTerms {
            share_bps: BasisPoints(500),
            max_points: Amount(10),
            period_ms: 5_000,
        };
        let now = Timestamp(2_000);
        // 5 % of 100 = 5, operators' share 10.
        assert_eq!(
            payout(Some(&t), &referral(0), Amount(100), Amount(10), now),
            Amount(5)
        );
        // Never more than the operators' share.
        assert_eq!(
            payout(Some(&t), &referral(0), Amount(100), Amount(3), now),
            Amount(3)
        );
        // What the cap has left.
        assert_eq!(
            payout(Some(&t), &referral(8), Amount(100), Amount(10), now),
            Amount(2)
        );
        assert_eq!(
            payout(Some(&t), &referral(10), Amount(100), Amount(10), now),
            Amount::ZERO
        );
        // The period ends 5 s after the referral, exclusive.
        assert_eq!(
            payout(
                Some(&t),
                &referral(0),
                Amount(100),
                Amount(10),
                Timestamp(5_999)
            ),
            Amount(5)
        );
        assert_eq!(
            payout(
                Some(&t),
                &referral(0),
                Amount(100),
                Amount(10),
                Timestamp(6_000)
            ),
            Amount::ZERO
        );
        // No terms, no payout; rounds down.
        assert_eq!(
            payout(None, &referral(0), Amount(100), Amount(10), now),
            Amount::ZERO
        );
        assert_eq!(
            payout(Some(&t), &referral(0), Amount(39), Amount(3), now),
            Amount(1)
        );
    }

    #[test]
    fn terms_need_a_bound_and_at_most_the_whole() {
        let mut t = ReferralTerms::default();
        assert!(check_terms(&t).is_ok());
        t.max_points = Amount::ZERO;
        t.period_ms = 0;
        assert!(check_terms(&t).is_err());
        t.share_bps = BasisPoints(0);
        assert!(check_terms(&t).is_ok());
        t.share_bps = BasisPoints(10_001);
        t.period_ms = 1;
        assert!(check_terms(&t).is_err());
    }
}
