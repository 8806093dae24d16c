//! The model's referrals (decision 29): who named whom, what each referral
//! has paid, the terms in force, and what every consumer earned from its own
//! uses — computed here from the rules in words, not from the contracts'
//! `referral` module.

use std::collections::BTreeMap;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::{ReferralTerms, StateExt};
use assent_contracts::tx::*;
use assent_contracts::*;
use proptest::prelude::*;

use super::model::{Expect, Model, Op, World};

/// The terms the model's genesis starts with: small enough that the cap and
/// the period end payouts within a history.
pub fn genesis_terms() -> ReferralTerms {
    ReferralTerms {
        share_bps: BasisPoints(500),
        max_points: Amount(6),
        period_ms: 3_000,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MReferral {
    pub referrer: AccountId,
    pub named_time: u64,
    pub paid: u64,
}

#[derive(Default)]
pub struct MReferrals {
    pub by_consumer: BTreeMap<AccountId, MReferral>,
    /// (share bps, cap, period ms) in force.
    pub terms: (u64, u64, u64),
    /// What each consumer earned from uses of its own data.
    pub earned: BTreeMap<AccountId, u64>,
    /// What each referrer earned, and how many named it.
    pub referrer: BTreeMap<AccountId, (u64, u64)>,
}

impl MReferrals {
    pub fn new() -> MReferrals {
        let t = genesis_terms();
        MReferrals {
            terms: (u64::from(t.share_bps.0), t.max_points.0, t.period_ms),
            ..Default::default()
        }
    }
}

pub fn terms_of((share, cap, period): (u16, u64, u64)) -> ReferralTerms {
    ReferralTerms {
        share_bps: BasisPoints(share),
        max_points: Amount(cap),
        period_ms: period,
    }
}

/// Generated terms for governance: some unbounded (refused), some that pay
/// more than the operators' share (capped by it).
pub fn terms_strategy() -> impl Strategy<Value = (u16, u64, u64)> {
    (
        prop::sample::select(vec![0u16, 500, 2_000, 10_000]),
        prop::sample::select(vec![0u64, 3, 40]),
        prop::sample::select(vec![0u64, 2_000, 20_000]),
    )
}

/// A first block: every consumer registers, c1 names c0 and c2 names c1.
pub fn referred_start() -> Vec<Op> {
    let mut ops: Vec<Op> = (0..super::model::N_CONSUMERS)
        .map(|c| Op::Register { c })
        .collect();
    ops.push(Op::Refer { c: 1, r: 0 });
    ops.push(Op::Refer { c: 2, r: 1 });
    ops
}

/// The sender and payload of a Refer op.
pub fn refer_tx<'w>(w: &'w World, op: &Op) -> (&'w Keypair, Payload) {
    match *op {
        Op::Refer { c, r } => (
            &w.consumers[c],
            Payload::NameReferrer(NameReferrer {
                referrer: w.consumers[r].account(),
            }),
        ),
        _ => panic!("not a refer op: {op:?}"),
    }
}

impl Model {
    /// Predicts (and applies) a NameReferrer at block time `time`.
    pub fn judge_refer(&mut self, sender: AccountId, p: &Payload, time: u64) -> Expect {
        let Payload::NameReferrer(n) = p else {
            panic!("not a NameReferrer: {p:?}")
        };
        if !self.registered.contains(&sender) {
            return Expect::Rejected(ErrorCode::NotConsumer);
        }
        if n.referrer == sender {
            return Expect::Rejected(ErrorCode::SelfReferral);
        }
        if self.refs.by_consumer.contains_key(&sender) {
            return Expect::Rejected(ErrorCode::AlreadyReferred);
        }
        if !self.registered.contains(&n.referrer) {
            return Expect::Rejected(ErrorCode::UnknownReferrer);
        }
        // A cycle: the referrer's chain reaches the sender.
        let mut at = n.referrer;
        while let Some(up) = self.refs.by_consumer.get(&at) {
            if up.referrer == sender {
                return Expect::Rejected(ErrorCode::ReferralCycle);
            }
            at = up.referrer;
        }
        self.refs.by_consumer.insert(
            sender,
            MReferral {
                referrer: n.referrer,
                named_time: time,
                paid: 0,
            },
        );
        self.refs.referrer.entry(n.referrer).or_default().1 += 1;
        Expect::Applied
    }

    /// Governance sets new terms: whether the proposal is valid.
    pub fn judge_terms(&mut self, (share, cap, period): (u16, u64, u64)) -> bool {
        if share > 0 && cap == 0 && period == 0 {
            return false;
        }
        self.refs.terms = (u64::from(share), cap, period);
        true
    }

    /// Settles the money of one use that paid `paid`: the enterprise pays,
    /// the consumer gets everything but the operators' 10 % (referrer or
    /// not), the referrer what the terms give out of the operators' 10 %.
    /// Returns (to the consumer, to the referrer).
    pub fn settle_use(
        &mut self,
        ent: AccountId,
        consumer: AccountId,
        paid: u64,
        time: u64,
    ) -> (u64, u64) {
        let ops = paid * 1_000 / 10_000;
        let to_consumer = paid - ops;
        let (share, cap, period) = self.refs.terms;
        let mut to_referrer = 0;
        if let Some(r) = self.refs.by_consumer.get_mut(&consumer) {
            let in_period = period == 0 || time < r.named_time + period;
            let left = if cap == 0 {
                u64::MAX
            } else {
                cap.saturating_sub(r.paid)
            };
            if share > 0 && in_period && left > 0 {
                to_referrer = (paid * share / 10_000).min(ops).min(left);
            }
            r.paid += to_referrer;
            let referrer = r.referrer;
            if to_referrer > 0 {
                self.refs.referrer.entry(referrer).or_default().0 += to_referrer;
                self.add(referrer, to_referrer);
            }
        }
        self.sub(ent, paid);
        self.add(consumer, to_consumer);
        self.pool += ops - to_referrer;
        *self.refs.earned.entry(consumer).or_insert(0) += to_consumer;
        (to_consumer, to_referrer)
    }

    /// The ledger holds exactly the model's referrals and totals, and each
    /// consumer's earnings are those of a consumer with no referrer.
    pub fn check_referrals(&self, w: &World, store: &state::MemStore) -> Result<(), TestCaseError> {
        for c in &w.consumers {
            let id = c.account();
            let held = store.referral(&id).unwrap().map(|r| MReferral {
                referrer: r.referrer,
                named_time: r.named_time.0,
                paid: r.paid.0,
            });
            prop_assert_eq!(held.as_ref(), self.refs.by_consumer.get(&id));
            let t = store.referrer_totals(&id).unwrap();
            let want = self.refs.referrer.get(&id).copied().unwrap_or_default();
            prop_assert_eq!((t.earned.0, t.referred), want);
            if let Some(consumer) = store.consumer(&id).unwrap() {
                prop_assert_eq!(
                    consumer.earned.0,
                    self.refs.earned.get(&id).copied().unwrap_or(0),
                    "a consumer's own earnings changed with its referral"
                );
            }
        }
        let t = store.referral_terms().unwrap().unwrap();
        prop_assert_eq!(
            (u64::from(t.share_bps.0), t.max_points.0, t.period_ms),
            self.refs.terms
        );
        Ok(())
    }
}
