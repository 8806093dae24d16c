#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use assent_contracts::terms::Level;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

fn setup() -> (Actors, TestChain) {
    let a = actors();
    let mut c = TestChain::new(&a);
    events(&c.run(&a.alice, register()));
    (a, c)
}

#[test]
fn each_use_outside_the_terms_is_rejected_and_the_rest_of_the_batch_settles() {
    let (a, mut c) = setup();
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 7))));
    let basis = UseBasis::Consent(consent);
    let ok = a_use(&a.alice, basis, 1);
    let wrong_cat = Use {
        category: cat("Location"),
        ..ok.clone()
    };
    let wrong_purpose = Use {
        purpose: purp("ServiceUsageAnalytics"),
        ..ok.clone()
    };
    let too_identified = Use {
        level: Level::Identified,
        ..ok.clone()
    };
    let lower_level = Use {
        level: Level::Aggregate,
        ..ok.clone()
    };
    let unknown = a_use(&a.alice, UseBasis::Consent(ConsentId(Hash32([3; 32]))), 1);
    let not_registered = a_use(&a.bob, basis, 1);

    let o = c.run(
        &a.acme,
        record(vec![
            ok.clone(),
            wrong_cat,
            wrong_purpose,
            too_identified,
            lower_level,
            unknown,
            not_registered,
            ok,
        ]),
    );
    assert_eq!(
        use_outcomes(&o),
        vec![
            Ok(7),
            Err(ErrorCode::NotCovered),
            Err(ErrorCode::NotCovered),
            Err(ErrorCode::NotCovered),
            Ok(7),
            Err(ErrorCode::UnknownConsent),
            Err(ErrorCode::NotConsumer),
            Ok(7),
        ]
    );
    let rep = assent_contracts::state::StateExt::reputation(&c.store, &a.acme.account()).unwrap();
    assert_eq!((rep.uses_settled, rep.uses_rejected), (3, 5));
}

#[test]
fn another_enterprise_cannot_use_a_consent_given_to_acme() {
    let (a, mut c) = setup();
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 7))));
    let o = c.run(
        &a.bank,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    assert_eq!(use_outcomes(&o), vec![Err(ErrorCode::NotYourConsent)]);
}

#[test]
fn an_expired_consent_covers_nothing() {
    let (a, mut c) = setup();
    let expires = Timestamp(c.time.0 + 10_000);
    let g = GrantConsent {
        expires_at: Some(expires),
        ..grant(&a.acme, 5)
    };
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(g)));
    let o = c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    assert_eq!(use_outcomes(&o), vec![Ok(5)]);
    c.advance(10_000);
    let o = c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    assert_eq!(use_outcomes(&o), vec![Err(ErrorCode::ConsentExpired)]);

    let past = GrantConsent {
        expires_at: Some(Timestamp(T0)),
        ..grant(&a.acme, 5)
    };
    assert_eq!(
        rejection(&c.run(&a.alice, Payload::GrantConsent(past))).code,
        ErrorCode::AlreadyExpired
    );
}

#[test]
fn max_uses_counts_units_and_is_never_exceeded() {
    let (a, mut c) = setup();
    let g = GrantConsent {
        max_uses: Some(3),
        ..grant(&a.acme, 5)
    };
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(g)));
    let basis = UseBasis::Consent(consent);
    let o = c.run(
        &a.acme,
        record(vec![
            a_use(&a.alice, basis, 2),
            a_use(&a.alice, basis, 2),
            a_use(&a.alice, basis, 1),
        ]),
    );
    assert_eq!(
        use_outcomes(&o),
        vec![Ok(10), Err(ErrorCode::ConsentExhausted), Ok(5)]
    );
    let o = c.run(&a.acme, record(vec![a_use(&a.alice, basis, 1)]));
    assert_eq!(use_outcomes(&o), vec![Err(ErrorCode::ConsentExhausted)]);
}

#[test]
fn an_enterprise_that_cannot_pay_settles_nothing() {
    let (a, mut c) = setup();
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.broke, 5))));
    let o = c.run(
        &a.broke,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    assert_eq!(use_outcomes(&o), vec![Err(ErrorCode::InsufficientFunds)]);
    assert_eq!(c.balance(&a.alice.account()), 0);
}

#[test]
fn a_consumer_who_is_not_registered_cannot_grant_and_non_enterprises_cannot_record() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let o = c.run(&a.bob, Payload::GrantConsent(grant(&a.acme, 1)));
    assert_eq!(rejection(&o).code, ErrorCode::NotConsumer);
    c.run(&a.bob, register());
    let o = c.run(
        &a.bob,
        record(vec![a_use(
            &a.bob,
            UseBasis::Consent(ConsentId::default()),
            1,
        )]),
    );
    assert_eq!(rejection(&o).code, ErrorCode::NotEnterprise);
    let o = c.run(&a.bob, Payload::GrantConsent(grant(&a.bob, 1)));
    assert_eq!(rejection(&o).code, ErrorCode::UnknownEnterprise);
    let o = c.run(&a.acme, register());
    assert_eq!(rejection(&o).code, ErrorCode::RoleConflict);
    assert_eq!(
        rejection(&c.run(&a.bob, register())).code,
        ErrorCode::AlreadyRegistered
    );
}

#[test]
fn stateless_checks_refuse_malformed_terms() {
    let (a, mut c) = setup();
    let bad = GrantConsent {
        purposes: vec![terms::Purpose("Marketingg".into())],
        ..grant(&a.acme, 1)
    };
    assert_eq!(
        check_stateless(&Payload::GrantConsent(bad.clone()))
            .unwrap_err()
            .code,
        ErrorCode::UnknownPurpose
    );
    assert_eq!(
        rejection(&c.run(&a.alice, Payload::GrantConsent(bad))).code,
        ErrorCode::UnknownPurpose
    );
    let dup = GrantConsent {
        categories: vec![cat("Purchase"), cat("Purchase")],
        ..grant(&a.acme, 1)
    };
    assert_eq!(
        check_stateless(&Payload::GrantConsent(dup))
            .unwrap_err()
            .code,
        ErrorCode::DuplicateItem
    );
    let empty = GrantConsent {
        categories: vec![],
        ..grant(&a.acme, 1)
    };
    assert_eq!(
        check_stateless(&Payload::GrantConsent(empty))
            .unwrap_err()
            .code,
        ErrorCode::EmptyList
    );
    let zero = GrantConsent {
        max_uses: Some(0),
        ..grant(&a.acme, 1)
    };
    assert_eq!(
        check_stateless(&Payload::GrantConsent(zero))
            .unwrap_err()
            .code,
        ErrorCode::InvalidField
    );
    let no_uses = record(vec![]);
    assert_eq!(
        check_stateless(&no_uses).unwrap_err().code,
        ErrorCode::EmptyList
    );
    let zero_units = record(vec![a_use(
        &a.alice,
        UseBasis::Consent(ConsentId::default()),
        0,
    )]);
    assert_eq!(
        check_stateless(&zero_units).unwrap_err().code,
        ErrorCode::InvalidField
    );
    // Tag commitments out of order would let their order tell a tag from padding.
    let bad_tag = Payload::SetTags(SetTags {
        tags: assent_contracts::tags::TagCommitments {
            epoch: 1,
            commitments: vec![
                TagCommitment(Hash32([2; 32])),
                TagCommitment(Hash32([1; 32])),
            ],
        },
    });
    assert_eq!(
        check_stateless(&bad_tag).unwrap_err().code,
        ErrorCode::InvalidField
    );
    assert_eq!(
        rejection(&c.run(&a.alice, bad_tag)).code,
        ErrorCode::InvalidField
    );
}
