#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use assent_contracts::state::{EnterpriseStatus, ProposalStatus, StateExt};
use assent_contracts::terms::Sector;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

fn proposed(o: &TxOutcome) -> ProposalId {
    match events(o).first() {
        Some(Event::ProposalCreated { proposal, .. }) => *proposal,
        e => panic!("{e:?}"),
    }
}

#[test]
fn an_enterprise_is_admitted_only_when_more_than_two_thirds_vote_yes() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let newco = key(40);
    let action = GovAction::AdmitEnterprise {
        account: newco.account(),
        name: "NewCo".into(),
        sector: Sector::Health,
        jurisdiction: "EU".into(),
        policy_url: "https://newco.example/privacy".into(),
    };
    let o = c.run(
        &a.acme,
        Payload::Propose(Propose {
            action: action.clone(),
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::NotOperator);

    let p = proposed(&c.run(&a.operators[0], Payload::Propose(Propose { action })));
    let vote = |yes| Payload::Vote(Vote { proposal: p, yes });
    events(&c.run(&a.operators[1], vote(true)));
    // 2 of 4 is not > 2/3.
    assert!(c.store.enterprise(&newco.account()).unwrap().is_none());
    assert_eq!(
        rejection(&c.run(&a.operators[1], vote(true))).code,
        ErrorCode::AlreadyVoted
    );
    let o = c.run(&a.operators[2], vote(true));
    assert!(events(&o).contains(&Event::ProposalPassed { proposal: p }));
    let e = c.store.enterprise(&newco.account()).unwrap().unwrap();
    assert_eq!(
        (e.name.as_str(), e.sector, e.status),
        ("NewCo", Sector::Health, EnterpriseStatus::Active)
    );
    assert_eq!(
        rejection(&c.run(&a.operators[3], vote(true))).code,
        ErrorCode::ProposalClosed
    );
}

#[test]
fn a_suspended_enterprise_settles_no_use_until_reinstated() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 4))));
    let p = proposed(&c.run(
        &a.operators[0],
        Payload::Propose(Propose {
            action: GovAction::SuspendEnterprise {
                account: a.acme.account(),
            },
        }),
    ));
    c.run(
        &a.operators[1],
        Payload::Vote(Vote {
            proposal: p,
            yes: true,
        }),
    );
    // The deciding vote and a use in the same block: the suspension binds the use.
    let vote = c.sign(
        &a.operators[2],
        Payload::Vote(Vote {
            proposal: p,
            yes: true,
        }),
    );
    let use_tx = c.sign(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    let out = c.block(vec![use_tx, vote]);
    assert_eq!(
        rejection(&out.results[0].outcome).code,
        ErrorCode::EnterpriseSuspended
    );
    let o = c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 4)));
    assert_eq!(rejection(&o).code, ErrorCode::EnterpriseSuspended);

    let p = proposed(&c.run(
        &a.operators[3],
        Payload::Propose(Propose {
            action: GovAction::ReinstateEnterprise {
                account: a.acme.account(),
            },
        }),
    ));
    c.run(
        &a.operators[0],
        Payload::Vote(Vote {
            proposal: p,
            yes: true,
        }),
    );
    c.run(
        &a.operators[1],
        Payload::Vote(Vote {
            proposal: p,
            yes: true,
        }),
    );
    let o = c.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
    );
    assert_eq!(use_outcomes(&o), vec![Ok(4)]);
}

#[test]
fn two_no_votes_of_four_reject_a_proposal() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let mut params = c.store.params().unwrap();
    params.operator_share_bps = BasisPoints(2_500);
    let p = proposed(&c.run(
        &a.operators[0],
        Payload::Propose(Propose {
            action: GovAction::SetParams { params },
        }),
    ));
    c.run(
        &a.operators[1],
        Payload::Vote(Vote {
            proposal: p,
            yes: false,
        }),
    );
    let o = c.run(
        &a.operators[2],
        Payload::Vote(Vote {
            proposal: p,
            yes: false,
        }),
    );
    assert!(events(&o).contains(&Event::ProposalRejected { proposal: p }));
    assert!(matches!(
        c.store.proposal(&p).unwrap().unwrap().status,
        ProposalStatus::Rejected { .. }
    ));
    assert_eq!(
        c.store.params().unwrap().operator_share_bps,
        BasisPoints(1_000)
    );
}

/// Operator 0 proposes `propose` and operators 1 and 2 vote yes: 3 of 4.
fn pass(c: &mut TestChain, a: &Actors, propose: Payload) {
    let p = proposed(&c.run(&a.operators[0], propose));
    for op in &a.operators[1..3] {
        c.run(
            op,
            Payload::Vote(Vote {
                proposal: p,
                yes: true,
            }),
        );
    }
}

#[test]
fn parameter_changes_and_validator_changes_apply_when_passed() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let mut params = c.store.params().unwrap();
    params.operator_share_bps = BasisPoints(2_500);
    let bad = GovAction::SetParams {
        params: state::Params {
            operator_share_bps: BasisPoints(10_001),
            ..params.clone()
        },
    };
    assert_eq!(
        rejection(&c.run(&a.operators[0], Payload::Propose(Propose { action: bad }))).code,
        ErrorCode::InvalidField
    );
    pass(
        &mut c,
        &a,
        Payload::Propose(Propose {
            action: GovAction::SetParams { params },
        }),
    );
    assert_eq!(
        c.store.params().unwrap().operator_share_bps,
        BasisPoints(2_500)
    );

    // Replacing a validator of four: removing it first would leave three,
    // any one of which could stop the chain — refused, naming the way.
    let gone = a.operators[3].account();
    let remove = Payload::Propose(Propose {
        action: GovAction::RemoveValidator {
            consensus_key: gone,
        },
    });
    let outcome = c.run(&a.operators[0], remove.clone());
    let why = rejection(&outcome);
    assert_eq!(why.code, ErrorCode::InvalidAction);
    assert!(
        why.reason
            .contains("one faulty validator could stop the chain")
            && why.reason.contains("add its replacement first"),
        "{why:?}"
    );
    // Its replacement first, then the removal.
    for action in [
        Payload::Propose(Propose {
            action: GovAction::AddValidator {
                validator: state::Validator {
                    name: "replacement".into(),
                    consensus_key: key(42).account(),
                    power: 1,
                    p2p_address: "/ip4/127.0.0.1/tcp/26698".into(),
                },
            },
        }),
        remove,
    ] {
        pass(&mut c, &a, action);
    }
    let vals = c.store.validators().unwrap();
    assert_eq!(vals.len(), 4);
    assert!(vals.iter().all(|v| v.consensus_key != gone));
    assert!(vals.iter().any(|v| v.consensus_key == key(42).account()));
}

#[test]
fn a_validator_whose_power_consensus_cannot_count_or_that_could_stop_the_chain_alone_is_refused() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let add = |power| {
        Payload::Propose(Propose {
            action: GovAction::AddValidator {
                validator: state::Validator {
                    name: "big".into(),
                    consensus_key: key(41).account(),
                    power,
                    p2p_address: "/ip4/127.0.0.1/tcp/26699".into(),
                },
            },
        })
    };
    // More than the whole set may ever hold: refused before it is proposed.
    let max = state::MAX_TOTAL_VOTING_POWER;
    assert_eq!(
        rejection(&c.run(&a.operators[0], add(max + 1))).code,
        ErrorCode::InvalidField
    );
    // Fits alone, but not with the validators already there.
    let outcome = c.run(&a.operators[0], add(max));
    let why = rejection(&outcome);
    assert_eq!(why.code, ErrorCode::InvalidAction);
    assert!(
        why.reason.contains("more than consensus can count"),
        "{why:?}"
    );
    // Within what consensus counts, but holding a third of the power or
    // more: one faulty validator could then stop a set that survives one.
    let total = c
        .store
        .validators()
        .unwrap()
        .iter()
        .map(|v| v.power)
        .sum::<u64>();
    let outcome = c.run(&a.operators[0], add(max - total));
    let why = rejection(&outcome);
    assert_eq!(why.code, ErrorCode::InvalidAction);
    assert!(
        why.reason.contains("a third or more") && why.reason.contains("lower its power"),
        "{why:?}"
    );
    let outcome = c.run(&a.operators[0], add(total / 2));
    let why = rejection(&outcome);
    assert!(why.reason.contains("a third or more"), "{why:?}");
    // Under a third of the new total is fine.
    events(&c.run(&a.operators[0], add((total - 1) / 2)));
}

#[test]
fn ratings_need_a_consent_with_that_enterprise_and_count_once() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    c.run(&a.bob, register());
    let consent = granted(&c.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 1))));
    let rate = |score, ent: &crypto::Keypair| {
        Payload::Rate(Rate {
            enterprise: ent.account(),
            consent,
            score,
        })
    };
    assert_eq!(
        rejection(&c.run(&a.bob, rate(5, &a.acme))).code,
        ErrorCode::NotYourConsent
    );
    assert_eq!(
        rejection(&c.run(&a.alice, rate(5, &a.bank))).code,
        ErrorCode::NotYourConsent
    );
    assert_eq!(
        rejection(&c.run(&a.alice, rate(6, &a.acme))).code,
        ErrorCode::InvalidField
    );
    // Held, then revoked: still allowed to rate.
    c.run(&a.alice, Payload::RevokeConsent(RevokeConsent { consent }));
    events(&c.run(&a.alice, rate(4, &a.acme)));
    assert_eq!(
        rejection(&c.run(&a.alice, rate(5, &a.acme))).code,
        ErrorCode::AlreadyRated
    );
    let rep = c.store.reputation(&a.acme.account()).unwrap();
    assert_eq!((rep.ratings, rep.score_sum), (1, 4));
}
