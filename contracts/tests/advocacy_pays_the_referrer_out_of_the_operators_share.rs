//! The advocacy share (issue 16, item 2; ARCHITECTURE.md decision 29): a
//! consumer names who referred them once; the referrer earns a published
//! share of the referred consumer's settled uses, out of the operators'
//! share, for a bounded amount and period; the referred consumer's own
//! earnings never change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use assent_contracts::crypto::Keypair;
use assent_contracts::state::{ReferralTerms, StateExt};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

fn terms(share_bps: u16, max_points: u64, period_ms: u64) -> ReferralTerms {
    ReferralTerms {
        share_bps: BasisPoints(share_bps),
        max_points: Amount(max_points),
        period_ms,
    }
}

fn name(referrer: &Keypair) -> Payload {
    Payload::NameReferrer(NameReferrer {
        referrer: referrer.account(),
    })
}

/// bob registers, names `referrer` (if any) and grants acme 100 points a use.
fn bob_referred_by(c: &mut TestChain, a: &Actors, referrer: Option<&Keypair>) -> ConsentId {
    c.run(&a.alice, register());
    c.run(&a.bob, register());
    if let Some(r) = referrer {
        events(&c.run(&a.bob, name(r)));
    }
    granted(&c.run(&a.bob, Payload::GrantConsent(grant(&a.acme, 100))))
}

/// acme records one unit of use under `consent`; the use's events.
fn use_once(c: &mut TestChain, a: &Actors, consent: ConsentId) -> Vec<Event> {
    let o = c.run(
        &a.acme,
        record(vec![a_use(&a.bob, UseBasis::Consent(consent), 1)]),
    );
    events(&o).to_vec()
}

fn referral_paid(evs: &[Event]) -> Option<u64> {
    evs.iter().find_map(|e| match e {
        Event::ReferralPaid { amount, .. } => Some(amount.0),
        _ => None,
    })
}

fn split(evs: &[Event]) -> (u64, u64, u64) {
    match &evs[0] {
        Event::UseSettled {
            paid,
            to_consumer,
            to_operators,
            ..
        } => (paid.0, to_consumer.0, to_operators.0),
        e => panic!("{e:?}"),
    }
}

#[test]
fn the_referrer_is_paid_the_share_out_of_the_operators_share() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, terms(500, 1_000, 0));
    let consent = bob_referred_by(&mut c, &a, Some(&a.alice));
    let supply = c.store.supply().unwrap().0;
    let evs = use_once(&mut c, &a, consent);
    // 100 paid: the operators' 10 % is 10, of which alice's 5 % of 100 = 5.
    assert_eq!(split(&evs), (100, 90, 5));
    let Event::UseSettled { use_id, .. } = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(
        evs[1],
        Event::ReferralPaid {
            use_id: *use_id,
            index: 0,
            referrer: a.alice.account(),
            consumer: a.bob.account(),
            amount: Amount(5),
        }
    );
    assert_eq!(c.balance(&a.alice.account()), 5);
    assert_eq!(c.balance(&a.bob.account()), 90);
    let totals = c.store.referrer_totals(&a.alice.account()).unwrap();
    assert_eq!((totals.referred, totals.earned.0), (1, 5));
    let r = c.store.referral(&a.bob.account()).unwrap().unwrap();
    assert_eq!((r.referrer, r.paid.0), (a.alice.account(), 5));
    // The consumer's own earnings count only its share, as without a referrer.
    let bob = c.store.consumer(&a.bob.account()).unwrap().unwrap();
    assert_eq!(bob.earned.0, 90);
    assert_eq!(c.total_points(), supply);
    assert_eq!(c.store.supply().unwrap().0, supply);
}

#[test]
fn the_referred_consumers_earnings_are_the_same_as_without_a_referrer() {
    let a = actors();
    let mut with = TestChain::with_referrals(&a, terms(500, 1_000, 0));
    let mut without = TestChain::with_referrals(&a, terms(500, 1_000, 0));
    let c1 = bob_referred_by(&mut with, &a, Some(&a.alice));
    let c2 = bob_referred_by(&mut without, &a, None);
    for units in [1, 3, 7] {
        for (chain, consent) in [(&mut with, c1), (&mut without, c2)] {
            let o = chain.run(
                &a.acme,
                record(vec![a_use(&a.bob, UseBasis::Consent(consent), units)]),
            );
            events(&o);
        }
        assert_eq!(
            with.balance(&a.bob.account()),
            without.balance(&a.bob.account())
        );
    }
    // The enterprise paid the same too; only the operators' side differs.
    assert_eq!(
        with.balance(&a.acme.account()),
        without.balance(&a.acme.account())
    );
    assert!(with.balance(&a.alice.account()) > 0);
    assert_eq!(without.balance(&a.alice.account()), 0);
}

#[test]
fn the_operators_get_the_rest_and_supply_is_conserved() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, terms(500, 1_000, 0));
    let consent = bob_referred_by(&mut c, &a, Some(&a.alice));
    let supply = c.store.supply().unwrap().0;
    let ops: u64 = a.operators.iter().map(|o| c.balance(&o.account())).sum();
    let evs = use_once(&mut c, &a, consent);
    assert_eq!(split(&evs), (100, 90, 5));
    // 5 points to the pool, paid out 1 each to the 4 operators, 1 kept.
    let ops_after: u64 = a.operators.iter().map(|o| c.balance(&o.account())).sum();
    assert_eq!(ops_after - ops + c.store.operator_pool().unwrap().0, 5);
    assert_eq!(c.total_points(), supply);
}

#[test]
fn the_referrer_never_gets_more_than_the_operators_share() {
    let a = actors();
    // 30 % asked, but the operators' share is 10 %.
    let mut c = TestChain::with_referrals(&a, terms(3_000, 0, 60_000));
    let consent = bob_referred_by(&mut c, &a, Some(&a.alice));
    let evs = use_once(&mut c, &a, consent);
    assert_eq!(split(&evs), (100, 90, 0));
    assert_eq!(referral_paid(&evs), Some(10));
    // Small uses round down: 10 % of 3 is 0, so nothing is paid and no event.
    let o = c.run(
        &a.bob,
        Payload::GrantConsent(GrantConsent {
            purposes: vec![purp("ServiceUsageAnalytics")],
            ..grant(&a.acme, 3)
        }),
    );
    let small = granted(&o);
    let mut u = a_use(&a.bob, UseBasis::Consent(small), 1);
    u.purpose = purp("ServiceUsageAnalytics");
    let evs = events(&c.run(&a.acme, record(vec![u]))).to_vec();
    assert_eq!(split(&evs), (3, 3, 0));
    assert_eq!(referral_paid(&evs), None);
}

#[test]
fn the_cap_ends_the_payout() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, terms(500, 7, 0));
    let consent = bob_referred_by(&mut c, &a, Some(&a.alice));
    assert_eq!(referral_paid(&use_once(&mut c, &a, consent)), Some(5));
    // 2 left under the cap: the operators get 8 of their 10.
    let evs = use_once(&mut c, &a, consent);
    assert_eq!((referral_paid(&evs), split(&evs).2), (Some(2), 8));
    let evs = use_once(&mut c, &a, consent);
    assert_eq!((referral_paid(&evs), split(&evs)), (None, (100, 90, 10)));
    assert_eq!(c.balance(&a.alice.account()), 7);
    assert_eq!(c.balance(&a.bob.account()), 270);
}

#[test]
fn the_period_ends_the_payout() {
    let a = actors();
    // Blocks are 1 s apart; the referral pays for 5 s after its block.
    let mut c = TestChain::with_referrals(&a, terms(500, 0, 5_000));
    let consent = bob_referred_by(&mut c, &a, Some(&a.alice));
    // The grant's block is 1 s after the referral's, this use 2 s.
    assert_eq!(referral_paid(&use_once(&mut c, &a, consent)), Some(5));
    c.advance(2_000); // next block: 5 s after the referral
    let evs = use_once(&mut c, &a, consent);
    assert_eq!((referral_paid(&evs), split(&evs).2), (None, 10));
    assert_eq!(c.balance(&a.alice.account()), 5);
}

#[test]
fn with_no_terms_in_genesis_a_referral_is_recorded_but_pays_nothing() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let consent = bob_referred_by(&mut c, &a, Some(&a.alice));
    assert!(c.store.referral_terms().unwrap().is_none());
    let evs = use_once(&mut c, &a, consent);
    assert_eq!((referral_paid(&evs), split(&evs)), (None, (100, 90, 10)));
    assert_eq!(
        c.store
            .referral(&a.bob.account())
            .unwrap()
            .unwrap()
            .referrer,
        a.alice.account()
    );
}

#[test]
fn a_consumer_cannot_refer_themself() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, ReferralTerms::default());
    c.run(&a.bob, register());
    let o = c.run(&a.bob, name(&a.bob));
    assert_eq!(rejection(&o).code, ErrorCode::SelfReferral);
}

#[test]
fn a_referrer_is_named_once_and_never_changed() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, ReferralTerms::default());
    let carol = key(22);
    c.run(&carol, register());
    bob_referred_by(&mut c, &a, Some(&a.alice));
    let o = c.run(&a.bob, name(&carol));
    let e = rejection(&o);
    assert_eq!(e.code, ErrorCode::AlreadyReferred);
    assert!(e.reason.contains("never changed"), "{e}");
    let o = c.run(&a.bob, name(&a.alice));
    assert_eq!(rejection(&o).code, ErrorCode::AlreadyReferred);
    assert_eq!(
        c.store
            .referral(&a.bob.account())
            .unwrap()
            .unwrap()
            .referrer,
        a.alice.account()
    );
}

#[test]
fn an_unknown_referrer_or_an_unregistered_sender_is_refused() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, ReferralTerms::default());
    c.run(&a.bob, register());
    // alice never registered; acme is an enterprise, not a consumer.
    assert_eq!(
        rejection(&c.run(&a.bob, name(&a.alice))).code,
        ErrorCode::UnknownReferrer
    );
    assert_eq!(
        rejection(&c.run(&a.bob, name(&a.acme))).code,
        ErrorCode::UnknownReferrer
    );
    assert_eq!(
        rejection(&c.run(&a.alice, name(&a.bob))).code,
        ErrorCode::NotConsumer
    );
}

#[test]
fn a_referral_that_would_close_a_cycle_is_refused() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, ReferralTerms::default());
    let carol = key(22);
    for k in [&a.alice, &a.bob, &carol] {
        c.run(k, register());
    }
    // bob was referred by alice: alice cannot then name bob.
    events(&c.run(&a.bob, name(&a.alice)));
    assert_eq!(
        rejection(&c.run(&a.alice, name(&a.bob))).code,
        ErrorCode::ReferralCycle
    );
    // carol by bob: alice cannot name carol either (carol → bob → alice).
    events(&c.run(&carol, name(&a.bob)));
    let o = c.run(&a.alice, name(&carol));
    assert_eq!(rejection(&o).code, ErrorCode::ReferralCycle);
    assert!(c.store.referral(&a.alice.account()).unwrap().is_none());
}

#[test]
fn governance_can_change_the_share() {
    let a = actors();
    let mut c = TestChain::with_referrals(&a, terms(500, 1_000, 0));
    let consent = bob_referred_by(&mut c, &a, Some(&a.alice));
    // Terms with no bound are refused before anything is proposed.
    let unbounded = GovAction::SetReferralTerms {
        terms: terms(500, 0, 0),
    };
    let o = c.run(
        &a.operators[0],
        Payload::Propose(Propose { action: unbounded }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::InvalidField);

    let action = GovAction::SetReferralTerms {
        terms: terms(800, 1_000, 0),
    };
    let o = c.run(&a.operators[0], Payload::Propose(Propose { action }));
    let proposal = match events(&o).first() {
        Some(Event::ProposalCreated { proposal, .. }) => *proposal,
        e => panic!("{e:?}"),
    };
    for op in &a.operators[1..3] {
        events(&c.run(
            op,
            Payload::Vote(Vote {
                proposal,
                yes: true,
            }),
        ));
    }
    assert_eq!(
        c.store.referral_terms().unwrap(),
        Some(terms(800, 1_000, 0))
    );
    let evs = use_once(&mut c, &a, consent);
    assert_eq!(split(&evs), (100, 90, 2));
    assert_eq!(referral_paid(&evs), Some(8));
}

#[test]
fn a_use_receipt_shows_the_referrers_share() {
    use assent_contracts::receipt::Subject;
    let a = actors();
    let mut chain = common::certs::CertChain::new(&a, 2..6, "advocacy");
    chain.c = TestChain::with_referrals(&a, terms(500, 1_000, 0));
    chain.run(&a.alice, register(), &[]);
    chain.run(&a.bob, register(), &[]);
    chain.run(&a.bob, name(&a.alice), &[]);
    let at = chain.run(&a.bob, Payload::GrantConsent(grant(&a.acme, 100)), &[]);
    let consent = granted(chain.outcome(at));
    let at = chain.run(
        &a.acme,
        record(vec![a_use(&a.bob, UseBasis::Consent(consent), 1)]),
        &[],
    );
    let proven = chain
        .receipt(at, Subject::Use { index: 0 })
        .verify(&chain.trust())
        .unwrap();
    assert!(proven.referral_event(0).is_some());
    let text = proven.describe(&|id| (*id == a.alice.account()).then(|| "alice".to_string()));
    assert!(
        text.contains("paid 100 points, 90 to the consumer, 5 to the consumer's referrer alice ("),
        "{text}"
    );
}
