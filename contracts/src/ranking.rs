//! Enterprise rankings: the public signal of which enterprises pay for the
//! data they use and honour consent best, read from their reputation
//! records (every figure is on the chain and provable with a state proof).
//!
//! An order is one of four keys, each with the same tie-breaks at the end
//! (more uses settled, then the enterprise id), so two nodes at one height
//! give the same ranking:
//! - **points paid** to consumers, most first;
//! - **honoured**: the share of recorded uses that settled within a live
//!   consent's terms, highest first (enterprises that recorded no use last);
//! - **rating**: the consumers' average score, highest first (unrated
//!   last), then more ratings;
//! - **revocations**: uses recorded under consents already revoked, fewest
//!   first — an enterprise that keeps trying to use data after people said
//!   no sinks.
//!
//! Integer arithmetic only (basis points, hundredths): no floats.

use std::cmp::Ordering;

use crate::ids::AccountId;
use crate::state::Reputation;

/// What a ranking orders by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankBy {
    PointsPaid,
    Honoured,
    Rating,
    Revocations,
}

impl RankBy {
    pub const ALL: [RankBy; 4] = [
        RankBy::PointsPaid,
        RankBy::Honoured,
        RankBy::Rating,
        RankBy::Revocations,
    ];

    /// Its name in the API and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            RankBy::PointsPaid => "points_paid",
            RankBy::Honoured => "honoured",
            RankBy::Rating => "rating",
            RankBy::Revocations => "revocations",
        }
    }

    /// The order named `name`, or a message listing the names.
    pub fn parse(name: &str) -> Result<RankBy, String> {
        RankBy::ALL
            .into_iter()
            .find(|b| b.name() == name)
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a ranking order; use one of {}",
                    RankBy::ALL.map(RankBy::name).join(", ")
                )
            })
    }
}

/// Uses that settled, in basis points of the uses recorded (settled and
/// refused); `None` when none were recorded.
pub fn honoured_bps(r: &Reputation) -> Option<u64> {
    let recorded = u128::from(r.uses_settled) + u128::from(r.uses_rejected);
    (recorded > 0).then(|| (u128::from(r.uses_settled) * 10_000 / recorded) as u64)
}

/// The average score (1–5) in hundredths, rounded down; `None` when unrated.
pub fn average_x100(r: &Reputation) -> Option<u64> {
    (r.ratings > 0).then(|| (u128::from(r.score_sum) * 100 / u128::from(r.ratings)) as u64)
}

/// `Some` before `None`, larger first.
fn desc(a: Option<u64>, b: Option<u64>) -> Ordering {
    b.cmp(&a)
}

fn compare(by: RankBy, a: &(AccountId, Reputation), b: &(AccountId, Reputation)) -> Ordering {
    let (ra, rb) = (&a.1, &b.1);
    let key = match by {
        RankBy::PointsPaid => rb.points_paid.0.cmp(&ra.points_paid.0),
        RankBy::Honoured => desc(honoured_bps(ra), honoured_bps(rb)),
        RankBy::Rating => {
            desc(average_x100(ra), average_x100(rb)).then(rb.ratings.cmp(&ra.ratings))
        }
        RankBy::Revocations => ra.uses_after_revocation.cmp(&rb.uses_after_revocation),
    };
    key.then(rb.uses_settled.cmp(&ra.uses_settled))
        .then(a.0.cmp(&b.0))
}

/// Enterprises with their reputations, best first by `by`.
pub fn rank(
    mut standings: Vec<(AccountId, Reputation)>,
    by: RankBy,
) -> Vec<(AccountId, Reputation)> {
    standings.sort_by(|a, b| compare(by, a, b));
    standings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Amount;

    fn rep(paid: u64, settled: u64, rejected: u64, after: u64, ratings: &[u64]) -> Reputation {
        Reputation {
            ratings: ratings.len() as u64,
            score_sum: ratings.iter().sum(),
            uses_settled: settled,
            uses_rejected: rejected,
            points_paid: Amount(paid),
            uses_after_revocation: after,
        }
    }

    #[test]
    fn each_order_ranks_by_its_own_figure_and_ties_break_the_same_way() {
        let (a, b, c, d) = (
            AccountId([1; 32]),
            AccountId([2; 32]),
            AccountId([3; 32]),
            AccountId([4; 32]),
        );
        let all = vec![
            (a, rep(100, 10, 0, 0, &[5, 4])),
            (b, rep(500, 50, 50, 20, &[2])),
            (c, rep(0, 0, 0, 0, &[])),
            (d, rep(100, 10, 0, 0, &[5, 4])),
        ];
        let ids = |by| {
            rank(all.clone(), by)
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>()
        };
        // b paid most; a and d tie and break by id; c paid nothing.
        assert_eq!(ids(RankBy::PointsPaid), vec![b, a, d, c]);
        // a and d honoured every use, b half; c recorded none: last.
        assert_eq!(ids(RankBy::Honoured), vec![a, d, b, c]);
        // a and d average 4.5; b 2; c unrated: last.
        assert_eq!(ids(RankBy::Rating), vec![a, d, b, c]);
        // b kept using revoked consents: last; the rest tie at 0 and break
        // by uses settled, then id.
        assert_eq!(ids(RankBy::Revocations), vec![a, d, c, b]);
        assert_eq!(honoured_bps(&all[1].1), Some(5_000));
        assert_eq!(average_x100(&all[0].1), Some(450));
        assert_eq!(average_x100(&all[2].1), None);
    }

    #[test]
    fn orders_parse_by_name_and_a_wrong_one_lists_them() {
        for by in RankBy::ALL {
            assert_eq!(RankBy::parse(by.name()), Ok(by));
        }
        assert_eq!(
            RankBy::parse("best").unwrap_err(),
            "`best` is not a ranking order; use one of points_paid, honoured, rating, revocations"
        );
    }
}
