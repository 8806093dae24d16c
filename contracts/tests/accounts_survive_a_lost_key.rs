//! Accounts that survive a lost key: the account id stays while its key
//! rotates (the current key signs the rotation); guardians named by the
//! account can move it to a new key, which takes effect after a delay unless
//! the current key cancels; consents, policies, balance and history follow
//! the account; receipts signed before and after a rotation verify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::consent_proof::{ConsentProof, CONSENT_PROOF_VERSION};
use assent_contracts::crypto::Keypair;
use assent_contracts::error::ErrorCode;
use assent_contracts::receipt::Subject;
use assent_contracts::state::{self, ControlExt, KeyRole, StateExt};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::certs::*;
use common::*;

fn rotate(to: &Keypair) -> Payload {
    Payload::RotateKey(RotateKey {
        new_key: to.account(),
    })
}

fn guardians(list: &[&Keypair], threshold: u8, delay_ms: u64) -> Payload {
    Payload::SetGuardians(SetGuardians {
        guardians: list.iter().map(|k| k.account()).collect(),
        threshold,
        delay_ms,
    })
}

fn support(account: &Keypair, new_key: &Keypair) -> Payload {
    Payload::SupportRecovery(SupportRecovery {
        account: account.account(),
        new_key: new_key.account(),
    })
}

fn claim(account: &Keypair) -> Payload {
    Payload::ClaimRecovery(ClaimRecovery {
        account: account.account(),
    })
}

/// The events of an applied tx (owned).
fn applied(o: TxOutcome) -> Vec<Event> {
    events(&o).to_vec()
}

fn code(o: &TxOutcome) -> ErrorCode {
    rejection(o).code
}

/// alice registered and granted acme, with three other registered consumers
/// (bob, carol, dave) around to be guardians.
fn setup() -> (Actors, TestChain, ConsentId, [Keypair; 2]) {
    let a = actors();
    let mut c = TestChain::new(&a);
    let (carol, dave) = (key(22), key(23));
    for k in [&a.alice, &a.bob, &carol, &dave] {
        events(&c.run(k, register()));
    }
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 5))));
    (a, c, consent, [carol, dave])
}

#[test]
fn a_rotated_key_signs_for_the_same_account_and_the_old_key_signs_for_nothing() {
    let (a, mut c, consent, _) = setup();
    let alice = a.alice.account();
    let k2 = key(40);
    let e = applied(c.run(&a.alice, rotate(&k2)));
    assert_eq!(
        e,
        [Event::KeyRotated {
            account: alice,
            old_key: alice,
            new_key: k2.account()
        }]
    );
    assert_eq!(c.store.current_key(&alice).unwrap(), k2.account());
    assert!(matches!(
        c.store.key_role(&alice).unwrap(),
        Some(KeyRole::Retired { account, .. }) if account == alice
    ));

    // The new key grants for alice: the consent is alice's.
    let second = granted(&c.run(&k2, Payload::GrantConsent(grant(&a.bank, 7))));
    assert_eq!(c.store.consent(&second).unwrap().unwrap().consumer, alice);
    let mut all = c.store.consents_of(&alice).unwrap();
    all.sort_unstable();
    let mut want = vec![consent, second];
    want.sort_unstable();
    assert_eq!(all, want);
    // acme's use of the consent alice granted with her old key pays alice.
    let before = c.balance(&alice);
    events(&c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 2)]),
    ));
    assert!(c.balance(&alice) > before, "alice was paid");

    // The old key's tx has no effect at all, not even on its nonce.
    let nonce = c.store.account(&alice).unwrap().nonce;
    let o = c.run(&a.alice, Payload::RevokeConsent(RevokeConsent { consent }));
    assert_eq!(code(&o), ErrorCode::KeyRotated, "{o:?}");
    assert_eq!(c.store.account(&alice).unwrap().nonce, nonce);
    assert_eq!(
        c.store.consent(&consent).unwrap().unwrap().state,
        state::ConsentState::Active
    );
    // The new key has nonces of its own, from 0.
    assert_eq!(c.store.account(&k2.account()).unwrap().nonce, 1);
}

#[test]
fn a_key_moves_only_to_a_key_never_used() {
    let (a, mut c, _, [carol, _]) = setup();
    let alice = a.alice.account();
    for (to, what) in [
        (&a.bob, "a consumer"),
        (&a.acme, "an enterprise"),
        (&a.alice, "itself"),
    ] {
        let o = c.run(&a.alice, rotate(to));
        assert_eq!(code(&o), ErrorCode::KeyInUse, "{what}: {o:?}");
    }
    let k2 = key(40);
    events(&c.run(&a.alice, rotate(&k2)));
    // Neither back to the retired key nor to another account's current key.
    let o = c.run(&k2, rotate(&a.alice));
    assert_eq!(code(&o), ErrorCode::KeyInUse);
    let k3 = key(41);
    events(&c.run(&carol, rotate(&k3)));
    let o = c.run(&k2, rotate(&k3));
    assert_eq!(code(&o), ErrorCode::KeyInUse);
    assert_eq!(c.store.current_key(&alice).unwrap(), k2.account());
}

#[test]
fn guardians_recover_a_lost_key_after_the_delay_and_the_account_keeps_everything() {
    let (a, mut c, consent, [carol, dave]) = setup();
    let alice = a.alice.account();
    let e = applied(c.run(&a.alice, guardians(&[&a.bob, &carol, &dave], 2, 60_000)));
    assert!(matches!(&e[0], Event::GuardiansSet { threshold: 2, .. }));
    let balance = c.balance(&alice);
    let history: Vec<_> = c.store.consents_of(&alice).unwrap();

    // alice loses her key. One guardian is not enough.
    let k3 = key(42);
    let e = applied(c.run(&a.bob, support(&a.alice, &k3)));
    assert_eq!(e.len(), 1, "not armed yet: {e:?}");
    let o = c.run(&k3, claim(&a.alice));
    assert_eq!(code(&o), ErrorCode::RecoveryNotDue, "{o:?}");
    // Two are; the delay then runs.
    let e = applied(c.run(&carol, support(&a.alice, &k3)));
    let Some(Event::RecoveryArmed { effective_at, .. }) = e.get(1) else {
        panic!("armed: {e:?}")
    };
    let o = c.run(&k3, claim(&a.alice));
    assert_eq!(code(&o), ErrorCode::RecoveryNotDue, "{o:?}");
    c.advance(60_000);
    assert!(c.time.0 + 1_000 >= effective_at.0);
    let e = applied(c.run(&k3, claim(&a.alice)));
    assert_eq!(
        e,
        [Event::KeyRecovered {
            account: alice,
            old_key: alice,
            new_key: k3.account()
        }]
    );

    // Everything stayed with the account; the lost key is retired.
    assert_eq!(c.balance(&alice), balance);
    assert_eq!(c.store.consents_of(&alice).unwrap(), history);
    assert!(c.store.consumer(&alice).unwrap().is_some());
    let o = c.run(&a.alice, Payload::PauseConsent(PauseConsent { consent }));
    assert_eq!(code(&o), ErrorCode::KeyRotated);
    let e = applied(c.run(&k3, Payload::RevokeConsent(RevokeConsent { consent })));
    assert!(
        matches!(&e[0], Event::ConsentRevoked { consumer, .. } if *consumer == alice),
        "{e:?}"
    );
    assert!(c.store.recovery(&alice).unwrap().is_none());
}

#[test]
fn the_accounts_key_cancels_a_recovery_it_did_not_ask_for() {
    let (a, mut c, _, [carol, dave]) = setup();
    events(&c.run(&a.alice, guardians(&[&a.bob, &carol, &dave], 2, 60_000)));
    // Two guardians (colluding, or tricked) arm a move to their own key.
    let theirs = key(43);
    events(&c.run(&a.bob, support(&a.alice, &theirs)));
    events(&c.run(&carol, support(&a.alice, &theirs)));
    // alice still holds her key and cancels within the delay.
    let e = applied(c.run(&a.alice, Payload::CancelRecovery(CancelRecovery {})));
    assert!(
        matches!(&e[0], Event::RecoveryCancelled { new_key, .. } if *new_key == theirs.account())
    );
    c.advance(120_000);
    let o = c.run(&theirs, claim(&a.alice));
    assert_eq!(code(&o), ErrorCode::NoRecovery, "{o:?}");
    assert_eq!(
        c.store.current_key(&a.alice.account()).unwrap(),
        a.alice.account()
    );
    let o = c.run(&a.alice, Payload::CancelRecovery(CancelRecovery {}));
    assert_eq!(code(&o), ErrorCode::NoRecovery);
    // A rotation by the owner also ends a recovery under way. (`theirs`
    // has signed a tx since, so it is no longer a fresh key.)
    let o = c.run(&a.bob, support(&a.alice, &theirs));
    assert_eq!(code(&o), ErrorCode::KeyInUse);
    events(&c.run(&a.bob, support(&a.alice, &key(47))));
    events(&c.run(&a.alice, rotate(&key(44))));
    assert!(c.store.recovery(&a.alice.account()).unwrap().is_none());
}

#[test]
fn only_guardians_support_a_recovery_and_only_the_named_key_claims_it() {
    let (a, mut c, _, [carol, dave]) = setup();
    let (k3, other) = (key(45), key(46));
    // No guardians named yet.
    let o = c.run(&a.bob, support(&a.alice, &k3));
    assert_eq!(code(&o), ErrorCode::NotAGuardian);
    events(&c.run(&a.alice, guardians(&[&a.bob, &carol], 2, 0)));
    let o = c.run(&dave, support(&a.alice, &k3));
    assert_eq!(code(&o), ErrorCode::NotAGuardian);
    // A used key cannot be recovered to.
    let o = c.run(&a.bob, support(&a.alice, &dave));
    assert_eq!(code(&o), ErrorCode::KeyInUse);
    events(&c.run(&a.bob, support(&a.alice, &k3)));
    let o = c.run(&a.bob, support(&a.alice, &k3));
    assert_eq!(code(&o), ErrorCode::AlreadySupported);
    let o = c.run(&carol, support(&a.alice, &other));
    assert_eq!(code(&o), ErrorCode::RecoveryPending);
    events(&c.run(&carol, support(&a.alice, &k3)));
    // Armed with no delay: only the named key claims.
    let o = c.run(&other, claim(&a.alice));
    assert_eq!(code(&o), ErrorCode::NoRecovery, "{o:?}");
    events(&c.run(&k3, claim(&a.alice)));
    assert_eq!(
        c.store.current_key(&a.alice.account()).unwrap(),
        k3.account()
    );
}

#[test]
fn guardian_lists_are_checked_before_anything_is_signed() {
    let a = actors();
    let (b, cc) = (key(22), key(23));
    let bad = [
        (guardians(&[&b, &cc], 0, 0), "threshold"),
        (guardians(&[&b, &cc], 3, 0), "threshold"),
        (guardians(&[], 1, 0), "threshold"),
        (guardians(&[&b, &b], 1, 0), "twice"),
        (guardians(&[&b], 1, MAX_RECOVERY_DELAY_MS + 1), "delay"),
    ];
    for (p, why) in bad {
        let e = check_stateless(&p).unwrap_err();
        assert!(e.reason.contains(why), "{why}: {e}");
    }
    let many: Vec<Keypair> = (50..50 + MAX_GUARDIANS as u8 + 1).map(key).collect();
    let refs: Vec<&Keypair> = many.iter().collect();
    assert_eq!(
        check_stateless(&guardians(&refs, 1, 0)).unwrap_err().code,
        ErrorCode::TooManyItems
    );
    // Not its own guardian; an empty list turns recovery off.
    let mut c = TestChain::new(&a);
    events(&c.run(&a.alice, register()));
    let o = c.run(&a.alice, guardians(&[&a.alice, &b], 1, 0));
    assert_eq!(code(&o), ErrorCode::InvalidField);
    events(&c.run(&a.alice, guardians(&[&b], 1, 0)));
    assert!(c.store.guardians(&a.alice.account()).unwrap().is_some());
    events(&c.run(&a.alice, guardians(&[], 0, 0)));
    assert!(c.store.guardians(&a.alice.account()).unwrap().is_none());
}

#[test]
fn receipts_signed_before_and_after_a_rotation_verify() {
    let a = actors();
    let mut chain = CertChain::new(&a, 2..6, "rotation");
    chain.run(&a.alice, register(), &[]);
    let g = chain.run(
        &a.alice,
        Payload::GrantConsent(grant(&a.acme, 5)),
        &[&a.acme],
    );
    let consent = granted(chain.outcome(g));
    let k2 = key(40);
    chain.run(&a.alice, rotate(&k2), &[]);
    let pause = chain.run(
        &k2,
        Payload::PauseConsent(PauseConsent { consent }),
        &[&a.acme],
    );
    let proof = ConsentProof {
        version: CONSENT_PROOF_VERSION.into(),
        consent,
        receipts: [g, pause]
            .iter()
            .map(|at| chain.receipt(*at, Subject::Tx))
            .collect(),
    };
    let p = proof.verify(&chain.trust()).unwrap();
    assert_eq!(p.consumer, a.alice.account());
    assert_eq!(p.steps.len(), 2);
    // The grant's receipt alone, signed by the key retired since, verifies.
    chain
        .receipt(g, Subject::Tx)
        .verify(&chain.trust())
        .unwrap();
}
