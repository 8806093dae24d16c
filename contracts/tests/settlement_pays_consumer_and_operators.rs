#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use assent_contracts::state::StateExt;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

#[test]
fn price_times_units_splits_into_operator_share_and_consumer_remainder() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    // 10 % operator share (genesis default): 7 × 3 = 21 -> 2 to operators (rounded down), 19 to alice.
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 7))));
    let supply = c.store.supply().unwrap().0;
    let tx = c_sign_use(&mut c, &a, consent, 3);
    let out = c.block(vec![tx]);
    match &events(&out.results[0].outcome)[0] {
        Event::UseSettled {
            paid,
            to_consumer,
            to_operators,
            ..
        } => {
            assert_eq!((paid.0, to_consumer.0, to_operators.0), (21, 19, 2));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(c.balance(&a.alice.account()), 19);
    assert_eq!(c.balance(&a.acme.account()), FUNDS - 21);
    let consumer = c.store.consumer(&a.alice.account()).unwrap().unwrap();
    assert_eq!((consumer.earned.0, consumer.uses_settled), (19, 3));
    // 2 points and 4 operators: the pool keeps them until it can pay each one.
    assert_eq!(c.store.operator_pool().unwrap().0, 2);
    assert!(out.end_events.is_empty());
    assert_eq!(c.total_points(), supply);

    let tx = c_sign_use(&mut c, &a, consent, 3);
    let out = c.block(vec![tx]);
    assert_eq!(
        out.end_events,
        vec![Event::OperatorRewards {
            each: Amount(1),
            operators: 4
        }]
    );
    for op in &a.operators {
        assert_eq!(c.balance(&op.account()), 1);
    }
    assert_eq!(c.store.operator_pool().unwrap().0, 0);
    assert_eq!(c.total_points(), supply);
    assert_eq!(c.store.supply().unwrap().0, supply);
}

fn c_sign_use(c: &mut TestChain, a: &Actors, consent: ConsentId, units: u32) -> SignedTx {
    c.sign(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), units)]),
    )
}

#[test]
fn only_mint_changes_supply_and_only_the_mint_authority_mints() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let before = c.store.supply().unwrap().0;
    let o = c.run(
        &a.acme,
        Payload::Mint(Mint {
            to: a.acme.account(),
            amount: Amount(5),
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::NotMintAuthority);
    events(&c.run(
        &a.mint,
        Payload::Mint(Mint {
            to: a.broke.account(),
            amount: Amount(500),
        }),
    ));
    assert_eq!(c.store.supply().unwrap().0, before + 500);
    assert_eq!(c.total_points(), before + 500);
    let o = c.run(
        &a.mint,
        Payload::Mint(Mint {
            to: a.broke.account(),
            amount: Amount(u64::MAX),
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::Overflow);
    assert_eq!(c.total_points(), before + 500);
}

#[test]
fn transfers_move_points_and_never_overdraw() {
    let a = actors();
    let mut c = TestChain::new(&a);
    events(&c.run(
        &a.acme,
        Payload::Transfer(Transfer {
            to: a.alice.account(),
            amount: Amount(40),
        }),
    ));
    assert_eq!(c.balance(&a.alice.account()), 40);
    let o = c.run(
        &a.alice,
        Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(41),
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::InsufficientFunds);
    assert_eq!(c.balance(&a.alice.account()), 40);
    let o = c.run(
        &a.alice,
        Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(0),
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::ZeroAmount);
    let o = c.run(
        &a.alice,
        Payload::Transfer(Transfer {
            to: a.alice.account(),
            amount: Amount(1),
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::InvalidField);
    // No points to a key anyone could sign for, or to bytes that are not
    // a key at all; asked again after a good transfer, the same answers
    // (a strong key is remembered, a weak one never is).
    let small_order = AccountId([0; 32]); // y = 0: a point of order 4
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2; // y = 2 has no x on the curve
    for round in 0..2 {
        for to in [small_order, AccountId(not_a_point)] {
            let o = c.run(
                &a.alice,
                Payload::Transfer(Transfer {
                    to,
                    amount: Amount(1),
                }),
            );
            assert_eq!(
                rejection(&o).code,
                ErrorCode::WeakKey,
                "round {round}: {to}"
            );
        }
        events(&c.run(
            &a.alice,
            Payload::Transfer(Transfer {
                to: a.bob.account(),
                amount: Amount(1),
            }),
        ));
    }
    assert_eq!(c.balance(&a.alice.account()), 38);
}

#[test]
fn consumers_pay_nothing_to_register_grant_revoke_or_set_policies() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 3))));
    c.run(&a.alice, Payload::PauseConsent(PauseConsent { consent }));
    c.run(&a.alice, Payload::ResumeConsent(ResumeConsent { consent }));
    c.run(&a.alice, Payload::RevokeConsent(RevokeConsent { consent }));
    assert_eq!(c.balance(&a.alice.account()), 0);
    assert_eq!(c.store.account(&a.alice.account()).unwrap().nonce, 5);
}
