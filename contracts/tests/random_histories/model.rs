//! The reference model of `random_histories_match_the_model`: the ops a
//! history is made of, how they are generated, and what the model predicts
//! for each tx and use from its own consents, policies, balances,
//! suspensions and nonces.

use std::collections::{BTreeMap, BTreeSet};

use assent_contracts::crypto::Keypair;
use assent_contracts::identity::{self, IdentityKind};
use assent_contracts::state::PolicyTarget;
use assent_contracts::state::StateExt;
use assent_contracts::terms::{Category, Level, Purpose, Sector};
use assent_contracts::tx::*;
use assent_contracts::*;
use proptest::prelude::*;

use super::common::*;
use super::referrals::MReferrals;

pub const CATS: [&str; 3] = ["Purchase", "Location", "BrowsingBehaviour"];
pub const PURPS: [&str; 3] = [
    "DirectMarketing",
    "ServiceUsageAnalytics",
    "PersonalisedAdvertising",
];
pub const LEVELS: [Level; 3] = [Level::Aggregate, Level::Pseudonymous, Level::Identified];
pub const N_CONSUMERS: usize = 3;
/// acme (retail, funded), bank (finance, funded), broke (retail, no points).
pub const N_ENTS: usize = 3;

use super::uses::UseSpec;

#[derive(Clone, Debug)]
pub enum Op {
    Register {
        c: usize,
    },
    Grant {
        c: usize,
        e: usize,
        cats: u8,
        purps: u8,
        level: u8,
        price: u64,
        max: Option<u64>,
        ttl: Option<u64>,
    },
    Revoke {
        c: usize,
        k: usize,
    },
    RevokeAll {
        c: usize,
        e: Option<usize>,
    },
    Pause {
        c: usize,
        k: usize,
    },
    Resume {
        c: usize,
        k: usize,
    },
    SetPolicy {
        c: usize,
        target: Result<usize, usize>,
        cats: u8,
        purps: u8,
        level: u8,
        price: u64,
    },
    ClearPolicy {
        c: usize,
        k: usize,
    },
    Use {
        e: usize,
        uses: Vec<UseSpec>,
    },
    Transfer {
        from: usize,
        to: usize,
        amount: u64,
    },
    Mint {
        authority: bool,
        to: usize,
        amount: u64,
    },
    Suspend {
        e: usize,
        suspend: bool,
    },
    /// `e == N_ENTS` names a key that is no enterprise.
    Link {
        c: usize,
        e: usize,
        kind: usize,
        salt: u8,
    },
    Unlink {
        c: usize,
        e: usize,
        kind: usize,
    },
    /// Consumer `c` names consumer `r` (maybe itself) as its referrer.
    Refer {
        c: usize,
        r: usize,
    },
    /// Governance sets referral terms (share bps, cap, period ms).
    Terms {
        terms: (u16, u64, u64),
    },
    /// Consumer `c`'s account moves to a fresh key: rotated by its own key,
    /// or (`recover`) recovered by the two other consumers as guardians.
    Rotate {
        c: usize,
        recover: Option<usize>,
    },
    /// Consumer `c` declares `n` tag commitments of round `epoch`.
    Tags {
        c: usize,
        n: usize,
        epoch: u64,
        shape: super::tags::Shape,
    },
    Replay {
        k: usize,
    },
    Forged {
        cross_chain: bool,
    },
    Wait {
        ms: u64,
    },
}

pub fn op() -> impl Strategy<Value = Op> {
    let c = 0..N_CONSUMERS;
    let e = 0..N_ENTS;
    let mask = 1u8..8;
    prop_oneof![
        2 => c.clone().prop_map(|c| Op::Register { c }),
        4 => (c.clone(), e.clone(), mask.clone(), mask.clone(), 0u8..3, prop_oneof![0u64..6, 10u64..80], prop::option::of(1u64..5), prop::option::of((1u64..8).prop_map(|s| s * 1_000)))
            .prop_map(|(c, e, cats, purps, level, price, max, ttl)| Op::Grant { c, e, cats, purps, level, price, max, ttl }),
        1 => (c.clone(), any::<usize>()).prop_map(|(c, k)| Op::Revoke { c, k }),
        1 => (c.clone(), prop::option::of(e.clone())).prop_map(|(c, e)| Op::RevokeAll { c, e }),
        1 => (c.clone(), any::<usize>()).prop_map(|(c, k)| Op::Pause { c, k }),
        1 => (c.clone(), any::<usize>()).prop_map(|(c, k)| Op::Resume { c, k }),
        2 => (c.clone(), prop_oneof![(0usize..2).prop_map(Ok), e.clone().prop_map(Err)], mask.clone(), mask.clone(), 0u8..3, 0u64..4)
            .prop_map(|(c, target, cats, purps, level, price)| Op::SetPolicy { c, target, cats, purps, level, price }),
        1 => (c.clone(), any::<usize>()).prop_map(|(c, k)| Op::ClearPolicy { c, k }),
        6 => (e.clone(), prop::collection::vec((c.clone(), any::<bool>(), any::<usize>(), 0usize..3, 0usize..3, 0u8..3, 1u32..4, prop::bool::weighted(0.8)), 1..6))
            .prop_map(|(e, uses)| Op::Use { e, uses }),
        1 => (0usize..10, 0usize..10, 0u64..60).prop_map(|(from, to, amount)| Op::Transfer { from, to, amount }),
        1 => (any::<bool>(), 0usize..10, 0u64..100).prop_map(|(authority, to, amount)| Op::Mint { authority, to, amount }),
        1 => (e.clone(), any::<bool>()).prop_map(|(e, suspend)| Op::Suspend { e, suspend }),
        2 => (c.clone(), 0..=N_ENTS, 0usize..4, any::<u8>()).prop_map(|(c, e, kind, salt)| Op::Link { c, e, kind, salt }),
        1 => (c.clone(), 0..=N_ENTS, 0usize..4).prop_map(|(c, e, kind)| Op::Unlink { c, e, kind }),
        2 => (c.clone(), c.clone()).prop_map(|(c, r)| Op::Refer { c, r }),
        1 => super::referrals::terms_strategy().prop_map(|terms| Op::Terms { terms }),
        1 => (c.clone(), prop::option::of(0usize..2)).prop_map(|(c, recover)| Op::Rotate { c, recover }),
        2 => super::tags::strategy(N_CONSUMERS),
        1 => any::<usize>().prop_map(|k| Op::Replay { k }),
        1 => any::<bool>().prop_map(|cross_chain| Op::Forged { cross_chain }),
        1 => (0u64..6).prop_map(|s| Op::Wait { ms: s * 1_000 }),
    ]
}

#[derive(Clone, Debug)]
pub struct MConsent {
    pub id: ConsentId,
    pub consumer: AccountId,
    pub ent: AccountId,
    pub cats: Vec<Category>,
    pub purps: Vec<Purpose>,
    pub level: Level,
    pub price: u64,
    pub max: Option<u64>,
    pub used: u64,
    pub expires: Option<u64>,
    /// 0 active, 1 paused, 2 revoked
    pub state: u8,
}

#[derive(Clone, Debug)]
pub struct MPolicy {
    pub id: PolicyId,
    pub consumer: AccountId,
    pub target: PolicyTarget,
    pub cats: Vec<Category>,
    pub purps: Vec<Purpose>,
    pub level: Level,
    pub price: u64,
    pub live: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    Applied,
    /// Applied RecordUse with per-use results: Ok((paid, to the consumer,
    /// to the referrer)) or Err(code).
    Uses(Vec<Result<(u64, u64, u64), ErrorCode>>),
    Rejected(ErrorCode),
}

/// What an applied RecordUse's events say of each use: paid, to the
/// consumer and to the referrer (`ReferralPaid` follows its `UseSettled`),
/// or the code that refused it.
pub fn uses_outcome(events: &[Event]) -> Expect {
    let mut uses = vec![];
    for e in events {
        match e {
            Event::UseSettled {
                paid, to_consumer, ..
            } => uses.push(Ok((paid.0, to_consumer.0, 0))),
            Event::UseRejected { code, .. } => uses.push(Err(*code)),
            Event::ReferralPaid { amount, .. } => match uses.last_mut() {
                Some(Ok((_, _, r))) => *r = amount.0,
                _ => panic!("ReferralPaid after no settled use"),
            },
            other => panic!("unexpected event {other:?}"),
        }
    }
    Expect::Uses(uses)
}

pub struct Model {
    pub registered: BTreeSet<AccountId>,
    pub consents: Vec<MConsent>,
    pub policies: Vec<MPolicy>,
    pub balances: BTreeMap<AccountId, u64>,
    pub pool: u64,
    pub supply: u64,
    pub suspended: BTreeSet<AccountId>,
    pub sectors: BTreeMap<AccountId, Sector>,
    pub operators: Vec<AccountId>,
    /// (consumer, enterprise, kind) → commitment.
    pub links: BTreeMap<(AccountId, AccountId, IdentityKind), LinkCommitment>,
    pub refs: MReferrals,
    pub keys: super::keys_model::MKeys,
    /// Each registered consumer's tag commitments (decision 33).
    pub tags: BTreeMap<AccountId, assent_contracts::tags::TagCommitments>,
}

pub fn pick<T: Clone>(items: &[T], mask: u8) -> Vec<T> {
    items
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, t)| t.clone())
        .collect()
}

impl Model {
    /// The model of the test genesis (`common::initial_state` with the
    /// referral terms of `referrals::genesis_terms`).
    pub fn new(w: &World) -> Model {
        Model {
            registered: BTreeSet::new(),
            consents: vec![],
            policies: vec![],
            balances: [(w.ents[0].account(), FUNDS), (w.ents[1].account(), FUNDS)]
                .into_iter()
                .collect(),
            pool: 0,
            supply: 2 * FUNDS,
            suspended: BTreeSet::new(),
            sectors: [
                (w.ents[0].account(), Sector::Retail),
                (w.ents[1].account(), Sector::Finance),
                (w.ents[2].account(), Sector::Retail),
            ]
            .into_iter()
            .collect(),
            operators: w.a.operators.iter().map(|k| k.account()).collect(),
            links: Default::default(),
            refs: MReferrals::new(),
            keys: Default::default(),
            tags: BTreeMap::new(),
        }
    }

    pub fn bal(&self, a: &AccountId) -> u64 {
        self.balances.get(a).copied().unwrap_or(0)
    }
    pub fn add(&mut self, a: AccountId, n: u64) {
        *self.balances.entry(a).or_insert(0) += n;
    }
    pub fn sub(&mut self, a: AccountId, n: u64) {
        *self.balances.entry(a).or_insert(0) -= n;
    }

    /// Predicts one use (without applying anything) and returns price × units or the code.
    pub fn judge_use(
        &self,
        ent: AccountId,
        u: &Use,
        time: u64,
    ) -> Result<(u64, Option<usize>), ErrorCode> {
        if !self.registered.contains(&u.consumer) {
            return Err(ErrorCode::NotConsumer);
        }
        let (price, idx) = match u.basis {
            UseBasis::Consent(id) => {
                let Some(i) = self.consents.iter().position(|c| c.id == id) else {
                    return Err(ErrorCode::UnknownConsent);
                };
                let c = &self.consents[i];
                if c.consumer != u.consumer || c.ent != ent {
                    return Err(ErrorCode::NotYourConsent);
                }
                match c.state {
                    2 => return Err(ErrorCode::ConsentRevoked),
                    1 => return Err(ErrorCode::ConsentPaused),
                    _ => {}
                }
                if c.expires.is_some_and(|t| t <= time) {
                    return Err(ErrorCode::ConsentExpired);
                }
                if !c.cats.contains(&u.category)
                    || !c.purps.contains(&u.purpose)
                    || u.level > c.level
                {
                    return Err(ErrorCode::NotCovered);
                }
                if c.max.is_some_and(|m| c.used + u.units as u64 > m) {
                    return Err(ErrorCode::ConsentExhausted);
                }
                (c.price, Some(i))
            }
            UseBasis::Policy(id) => {
                let Some(p) = self.policies.iter().find(|p| p.id == id && p.live) else {
                    return Err(ErrorCode::UnknownPolicy);
                };
                if p.consumer != u.consumer {
                    return Err(ErrorCode::NotYourConsent);
                }
                let admits = match p.target {
                    PolicyTarget::Sector(s) => self.sectors[&ent] == s,
                    PolicyTarget::Enterprise(e) => e == ent,
                };
                if !admits
                    || !p.cats.contains(&u.category)
                    || !p.purps.contains(&u.purpose)
                    || u.level > p.level
                {
                    return Err(ErrorCode::NotCovered);
                }
                (p.price, None)
            }
        };
        let paid = price * u.units as u64;
        if self.bal(&ent) < paid {
            return Err(ErrorCode::InsufficientFunds);
        }
        Ok((paid, idx))
    }
}

pub struct World {
    pub a: Actors,
    pub consumers: Vec<Keypair>,
    pub ents: Vec<Keypair>,
    /// Everyone who can send a transfer or receive a mint.
    pub everyone: Vec<Keypair>,
}

pub fn world() -> World {
    let a = actors();
    let consumers = vec![key(20), key(21), key(22)];
    let ents = vec![key(10), key(11), key(12)];
    let mut everyone: Vec<Keypair> = consumers
        .iter()
        .chain(&ents)
        .map(|k| Keypair::from_seed(k.seed()))
        .collect();
    everyone.extend(a.operators.iter().map(|k| Keypair::from_seed(k.seed())));
    everyone.extend([key(30), Keypair::from_seed(a.mint.seed())]);
    World {
        a,
        consumers,
        ents,
        everyone,
    }
}

/// A sample identifier of each kind, as a consumer would type it.
const IDS: [&str; 4] = [
    " ACME-0042 ",
    "+44 20 7946 0000",
    "Alice@Example.com",
    "wx8f2a0c1d|oAbC",
];

/// The sender and payload of a Link or Unlink op.
pub fn link_tx<'w>(w: &'w World, op: &Op) -> (&'w Keypair, Payload) {
    let ent = |e: usize| w.ents.get(e).map_or(key(30).account(), |k| k.account());
    match *op {
        Op::Link { c, e, kind, salt } => {
            let consumer = &w.consumers[c];
            let kind_ = IdentityKind::ALL[kind];
            let commitment = identity::commit_identifier(
                CHAIN,
                &consumer.account(),
                &ent(e),
                kind_,
                IDS[kind],
                &LinkSalt(Hash32([salt; 32])),
            )
            .unwrap();
            (
                consumer,
                Payload::LinkIdentity(LinkIdentity {
                    enterprise: ent(e),
                    kind: kind_,
                    commitment,
                }),
            )
        }
        Op::Unlink { c, e, kind } => (
            &w.consumers[c],
            Payload::UnlinkIdentity(UnlinkIdentity {
                enterprise: ent(e),
                kind: IdentityKind::ALL[kind],
            }),
        ),
        _ => panic!("not a link op: {op:?}"),
    }
}

impl Model {
    /// Predicts (and applies to the model) a LinkIdentity or UnlinkIdentity.
    pub fn judge_link(&mut self, sender: AccountId, p: &Payload) -> Expect {
        if !self.registered.contains(&sender) {
            return Expect::Rejected(ErrorCode::NotConsumer);
        }
        match p {
            Payload::LinkIdentity(l) => {
                if !self.sectors.contains_key(&l.enterprise) {
                    return Expect::Rejected(ErrorCode::UnknownEnterprise);
                }
                if self.suspended.contains(&l.enterprise) {
                    return Expect::Rejected(ErrorCode::EnterpriseSuspended);
                }
                match self.links.entry((sender, l.enterprise, l.kind)) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        Expect::Rejected(ErrorCode::AlreadyLinked)
                    }
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(l.commitment);
                        Expect::Applied
                    }
                }
            }
            Payload::UnlinkIdentity(u) => {
                match self.links.remove(&(sender, u.enterprise, u.kind)) {
                    Some(_) => Expect::Applied,
                    None => Expect::Rejected(ErrorCode::NotLinked),
                }
            }
            other => panic!("not a link tx: {other:?}"),
        }
    }

    /// The ledger holds exactly the model's links, and each still matches
    /// the identifier it was made from.
    pub fn check_links(&self, w: &World, store: &state::MemStore) -> Result<(), TestCaseError> {
        let mut held = BTreeMap::new();
        for c in &w.consumers {
            for (e, kind, link) in store.identity_links_of(&c.account()).unwrap() {
                held.insert((c.account(), e, kind), link.commitment);
            }
        }
        prop_assert_eq!(&held, &self.links);
        Ok(())
    }
}
