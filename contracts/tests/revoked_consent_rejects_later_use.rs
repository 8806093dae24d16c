#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use assent_contracts::state::StateExt;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

#[test]
fn a_use_after_the_revoking_block_is_rejected_with_consent_revoked() {
    let a = actors();
    let mut c = TestChain::new(&a);
    events(&c.run(&a.alice, register()));
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 10))));

    let o = c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    assert_eq!(use_outcomes(&o), vec![Ok(10)]);

    events(&c.run(&a.alice, Payload::RevokeConsent(RevokeConsent { consent })));
    let o = c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    assert_eq!(use_outcomes(&o), vec![Err(ErrorCode::ConsentRevoked)]);
    match &events(&o)[0] {
        Event::UseRejected { reason, .. } => {
            assert!(reason.contains("revoked at height 4"), "{reason}")
        }
        e => panic!("{e:?}"),
    }
    // The enterprise's public record counts it: one use honoured, one
    // refused, and that one after a revocation.
    let rep = c.store.reputation(&a.acme.account()).unwrap();
    assert_eq!(
        (
            rep.uses_settled,
            rep.uses_rejected,
            rep.uses_after_revocation
        ),
        (1, 1, 1)
    );
}

#[test]
fn a_revocation_binds_every_use_in_its_own_block_whatever_the_order() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 10))));

    // The proposer puts the use before the revocation; the revocation still binds it.
    let use_tx = c.sign(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    let revoke = c.sign(&a.alice, Payload::RevokeConsent(RevokeConsent { consent }));
    let out = c.block(vec![use_tx, revoke]);
    assert_eq!(
        use_outcomes(&out.results[0].outcome),
        vec![Err(ErrorCode::ConsentRevoked)]
    );
    events(&out.results[1].outcome);
    assert_eq!(c.balance(&a.alice.account()), 0);
}

#[test]
fn pause_binds_from_its_block_and_resume_restores_coverage() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 10))));

    let use_tx = c.sign(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    let pause = c.sign(&a.alice, Payload::PauseConsent(PauseConsent { consent }));
    let out = c.block(vec![use_tx, pause]);
    assert_eq!(
        use_outcomes(&out.results[0].outcome),
        vec![Err(ErrorCode::ConsentPaused)]
    );
    // Refused while paused, which is not a use after revocation.
    let rep = c.store.reputation(&a.acme.account()).unwrap();
    assert_eq!((rep.uses_rejected, rep.uses_after_revocation), (1, 0));

    let again = c.run(&a.alice, Payload::PauseConsent(PauseConsent { consent }));
    assert_eq!(rejection(&again).code, ErrorCode::ConsentPaused);

    events(&c.run(&a.alice, Payload::ResumeConsent(ResumeConsent { consent })));
    let o = c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 2)]),
    );
    assert_eq!(use_outcomes(&o), vec![Ok(20)]);
    let not_paused = c.run(&a.alice, Payload::ResumeConsent(ResumeConsent { consent }));
    assert_eq!(rejection(&not_paused).code, ErrorCode::ConsentNotPaused);
}

#[test]
fn revoke_all_ends_every_consent_to_one_enterprise_or_to_all() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let to_acme_1 = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 1))));
    let to_acme_2 = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 2))));
    let to_bank = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.bank, 3))));

    let o = c.run(
        &a.alice,
        Payload::RevokeAll(RevokeAll {
            enterprise: Some(a.acme.account()),
        }),
    );
    assert_eq!(events(&o).len(), 2);
    let uses = |id| a_use(&a.alice, UseBasis::Consent(id), 1);
    let o = c.run(&a.acme, record(vec![uses(to_acme_1), uses(to_acme_2)]));
    assert_eq!(use_outcomes(&o), vec![Err(ErrorCode::ConsentRevoked); 2]);
    let o = c.run(&a.bank, record(vec![uses(to_bank)]));
    assert_eq!(use_outcomes(&o), vec![Ok(3)]);

    events(&c.run(&a.alice, Payload::RevokeAll(RevokeAll { enterprise: None })));
    let o = c.run(&a.bank, record(vec![uses(to_bank)]));
    assert_eq!(use_outcomes(&o), vec![Err(ErrorCode::ConsentRevoked)]);
    let nothing = c.run(&a.alice, Payload::RevokeAll(RevokeAll { enterprise: None }));
    assert_eq!(rejection(&nothing).code, ErrorCode::NothingToRevoke);
}

#[test]
fn only_the_consumer_who_granted_can_revoke() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    c.run(&a.bob, register());
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 10))));
    let o = c.run(&a.bob, Payload::RevokeConsent(RevokeConsent { consent }));
    assert_eq!(rejection(&o).code, ErrorCode::NotYourConsent);
    let o = c.run(&a.acme, Payload::RevokeConsent(RevokeConsent { consent }));
    assert_eq!(rejection(&o).code, ErrorCode::NotYourConsent);
    events(&c.run(&a.alice, Payload::RevokeConsent(RevokeConsent { consent })));
    let twice = c.run(&a.alice, Payload::RevokeConsent(RevokeConsent { consent }));
    assert_eq!(rejection(&twice).code, ErrorCode::ConsentRevoked);
}
