#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use assent_contracts::state::{PolicyTarget, StateExt};
use assent_contracts::terms::{Level, Sector};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

fn policy(target: PolicyTarget, price: u64) -> Payload {
    Payload::SetPolicy(SetPolicy {
        target,
        categories: vec![cat("Purchase")],
        purposes: vec![purp("DirectMarketing")],
        level: Level::Pseudonymous,
        min_price: Amount(price),
    })
}

#[test]
fn a_sector_policy_covers_every_enterprise_of_that_sector_until_cleared() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let o = c.run(&a.alice, policy(PolicyTarget::Sector(Sector::Retail), 3));
    let pid = match events(&o)[0] {
        Event::PolicySet { policy, .. } => policy,
        ref e => panic!("{e:?}"),
    };
    let u = a_use(&a.alice, UseBasis::Policy(pid), 2);
    assert_eq!(
        use_outcomes(&c.run(&a.acme, record(vec![u.clone()]))),
        vec![Ok(6)]
    );
    // bank is finance, not retail.
    assert_eq!(
        use_outcomes(&c.run(&a.bank, record(vec![u.clone()]))),
        vec![Err(ErrorCode::NotCovered)]
    );
    assert_eq!(c.store.policies_of(&a.alice.account()).unwrap(), vec![pid]);

    events(&c.run(&a.alice, Payload::ClearPolicy(ClearPolicy { policy: pid })));
    assert_eq!(
        use_outcomes(&c.run(&a.acme, record(vec![u]))),
        vec![Err(ErrorCode::UnknownPolicy)]
    );
    assert!(c.store.policies_of(&a.alice.account()).unwrap().is_empty());
    let again = c.run(&a.alice, Payload::ClearPolicy(ClearPolicy { policy: pid }));
    assert_eq!(rejection(&again).code, ErrorCode::UnknownPolicy);
}

#[test]
fn an_enterprise_policy_admits_only_that_enterprise() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    c.run(&a.bob, register());
    let o = c.run(
        &a.alice,
        policy(PolicyTarget::Enterprise(a.bank.account()), 2),
    );
    let pid = match events(&o)[0] {
        Event::PolicySet { policy, .. } => policy,
        ref e => panic!("{e:?}"),
    };
    let u = a_use(&a.alice, UseBasis::Policy(pid), 1);
    assert_eq!(
        use_outcomes(&c.run(&a.bank, record(vec![u.clone()]))),
        vec![Ok(2)]
    );
    assert_eq!(
        use_outcomes(&c.run(&a.acme, record(vec![u]))),
        vec![Err(ErrorCode::NotCovered)]
    );
    // bob cannot be charged under alice's policy.
    let bobs = a_use(&a.bob, UseBasis::Policy(pid), 1);
    assert_eq!(
        use_outcomes(&c.run(&a.bank, record(vec![bobs]))),
        vec![Err(ErrorCode::NotYourConsent)]
    );
    let bob_clears = c.run(&a.bob, Payload::ClearPolicy(ClearPolicy { policy: pid }));
    assert_eq!(rejection(&bob_clears).code, ErrorCode::NotYourConsent);
}

#[test]
fn a_grant_answering_a_request_must_stay_within_it() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let o = c.run(
        &a.acme,
        Payload::PostRequest(PostRequest {
            categories: vec![cat("Purchase"), cat("Location")],
            purposes: vec![purp("DirectMarketing")],
            level: Level::Pseudonymous,
            price_per_use: Amount(5),
            duration_ms: 60_000,
            target_tags: vec!["runner".parse().unwrap()],
        }),
    );
    let rid = match events(&o)[0] {
        Event::RequestPosted { request, .. } => request,
        ref e => panic!("{e:?}"),
    };
    let answer = |g: GrantConsent| {
        Payload::GrantConsent(GrantConsent {
            request: Some(rid),
            ..g
        })
    };
    let cheap = grant(&a.acme, 4);
    assert_eq!(
        rejection(&c.run(&a.alice, answer(cheap))).code,
        ErrorCode::RequestMismatch
    );
    let wider = GrantConsent {
        purposes: vec![purp("ServiceUsageAnalytics")],
        ..grant(&a.acme, 5)
    };
    assert_eq!(
        rejection(&c.run(&a.alice, answer(wider))).code,
        ErrorCode::RequestMismatch
    );
    let other_ent = grant(&a.bank, 5);
    assert_eq!(
        rejection(&c.run(&a.alice, answer(other_ent))).code,
        ErrorCode::RequestMismatch
    );
    events(&c.run(&a.alice, answer(grant(&a.acme, 5))));
    assert_eq!(c.store.request(&rid).unwrap().unwrap().grants, 1);
    c.advance(60_000);
    assert_eq!(
        rejection(&c.run(&a.alice, answer(grant(&a.acme, 5)))).code,
        ErrorCode::RequestExpired
    );

    let consumer_posts = c.run(
        &a.alice,
        Payload::PostRequest(PostRequest {
            categories: vec![cat("Purchase")],
            purposes: vec![purp("DirectMarketing")],
            level: Level::Aggregate,
            price_per_use: Amount(1),
            duration_ms: 1,
            target_tags: vec![],
        }),
    );
    assert_eq!(rejection(&consumer_posts).code, ErrorCode::NotEnterprise);
}
