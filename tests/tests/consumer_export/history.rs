//! The consumer-export scenario's history: a second enterprise admitted
//! and funded; alice's 100 consents (60 to acme, 40 to beta) and bob's two;
//! pauses, resumes, revocations one by one and all at once, expiries, a
//! policy, a transfer and a mint; two rounds of uses, settled and refused.

use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::PolicyTarget;
use assent_contracts::terms::{Level, Sector};
use assent_contracts::tx::*;
use assent_contracts::{Amount, ConsentId, Payload, PolicyId, SignedTx, Timestamp};
use assent_tests::{wait_until, Net};

use super::support::*;

/// What the checks need to know of the history.
pub struct History {
    /// Alice's consents, in the order she granted them.
    pub consents: Vec<ConsentId>,
    /// Bob's consents (none of which may appear in alice's export).
    pub bob_consents: Vec<ConsentId>,
    /// Alice's policy.
    pub policy: PolicyId,
}

/// Runs the whole history on `net` (every tx committed before it returns).
pub fn run(
    net: &Net,
    alice: &Keypair,
    acme: &Keypair,
    mint: &Keypair,
    beta: &Keypair,
    bob: &Keypair,
) -> History {
    let (a, b) = (alice.account(), bob.account());
    // A second enterprise, admitted by the operators (3 of 4), and funded.
    let ops: Vec<Keypair> = (0..3).map(|i| net.key(&format!("operator-{i}"))).collect();
    let propose = signed(
        net,
        &ops[0],
        net.next_nonce(0, &ops[0].account()),
        Payload::Propose(Propose {
            action: GovAction::AdmitEnterprise {
                account: beta.account(),
                name: "Beta Bank".into(),
                sector: Sector::Finance,
                jurisdiction: "EU".into(),
                policy_url: "https://beta.example/privacy".into(),
            },
        }),
    );
    let fund = signed(
        net,
        mint,
        net.next_nonce(0, &mint.account()),
        Payload::Mint(Mint {
            to: beta.account(),
            amount: Amount(1_000_000),
        }),
    );
    run_all(net, &[propose.clone(), fund]);
    let proposal = assent_contracts::ProposalId(propose.id().0);
    let votes: Vec<SignedTx> = ops[1..]
        .iter()
        .map(|k| {
            let n = net.next_nonce(0, &k.account());
            signed(
                net,
                k,
                n,
                Payload::Vote(Vote {
                    proposal,
                    yes: true,
                }),
            )
        })
        .collect();
    run_all(net, &votes);
    let e = net
        .get(0, &format!("/v1/enterprises/{}", beta.account()))
        .unwrap();
    assert_eq!(e["status"], "active", "{e}");

    // Alice registers and grants 100 consents (60 to acme, 40 to beta); bob registers and grants 2.
    let now = net.status(0).unwrap()["time_ms"].as_u64().unwrap();
    let expires = now + 6_000;
    let expiring = [5usize, 15, 65];
    let mut txs = vec![signed(
        net,
        alice,
        0,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: assent_cli::derive::tag_set(alice, &net.chain_id, &a, 0, &[term("runner")])
                .unwrap(),
        }),
    )];
    let purpose_of = |i: usize| {
        if i.is_multiple_of(3) {
            "Personalisation"
        } else {
            "DirectMarketing"
        }
    };
    let category_list = |i: usize| {
        if i.is_multiple_of(2) {
            vec![term("Purchase"), term("Location")]
        } else {
            vec![term("Purchase")]
        }
    };
    for i in 0..100usize {
        let enterprise = if i < 60 {
            acme.account()
        } else {
            beta.account()
        };
        txs.push(signed(
            net,
            alice,
            1 + i as u64,
            Payload::GrantConsent(GrantConsent {
                enterprise,
                categories: category_list(i),
                purposes: vec![term(purpose_of(i))],
                level: Level::Pseudonymous,
                price_per_use: Amount(1 + (i % 5) as u64 * 10),
                max_uses: (i % 10 == 7).then_some(2),
                expires_at: expiring.contains(&i).then_some(Timestamp(expires)),
                request: None,
            }),
        ));
    }
    let consents: Vec<ConsentId> = txs[1..].iter().map(|t| ConsentId(t.id().0)).collect();
    let mut alice_nonce = txs.len() as u64;
    let bob_grant = |n: u64| {
        signed(
            net,
            bob,
            n,
            Payload::GrantConsent(GrantConsent {
                enterprise: acme.account(),
                categories: vec![term("Purchase")],
                purposes: vec![term("DirectMarketing")],
                level: Level::Pseudonymous,
                price_per_use: Amount(3),
                max_uses: None,
                expires_at: None,
                request: None,
            }),
        )
    };
    let bob_txs = vec![
        signed(
            net,
            bob,
            0,
            Payload::RegisterConsumer(RegisterConsumer {
                tags: Default::default(),
            }),
        ),
        bob_grant(1),
        bob_grant(2),
    ];
    let bob_consents: Vec<ConsentId> = bob_txs[1..].iter().map(|t| ConsentId(t.id().0)).collect();
    txs.extend(bob_txs);
    run_all(net, &txs);

    // Pauses, resumes, revocations one by one, a policy; points by transfer and mint.
    let mut next = || {
        alice_nonce += 1;
        alice_nonce - 1
    };
    let mut txs = Vec::new();
    for c in &consents[10..30] {
        txs.push(signed(
            net,
            alice,
            next(),
            Payload::PauseConsent(PauseConsent { consent: *c }),
        ));
    }
    for c in &consents[10..20] {
        txs.push(signed(
            net,
            alice,
            next(),
            Payload::ResumeConsent(ResumeConsent { consent: *c }),
        ));
    }
    for c in &consents[25..40] {
        txs.push(signed(
            net,
            alice,
            next(),
            Payload::RevokeConsent(RevokeConsent { consent: *c }),
        ));
    }
    txs.push(signed(
        net,
        alice,
        next(),
        Payload::PauseConsent(PauseConsent {
            consent: consents[50],
        }),
    ));
    txs.push(signed(
        net,
        alice,
        next(),
        Payload::ResumeConsent(ResumeConsent {
            consent: consents[50],
        }),
    ));
    txs.push(signed(
        net,
        alice,
        next(),
        Payload::PauseConsent(PauseConsent {
            consent: consents[50],
        }),
    ));
    let policy_tx = signed(
        net,
        alice,
        next(),
        Payload::SetPolicy(SetPolicy {
            target: PolicyTarget::Sector(Sector::Retail),
            categories: vec![term("Purchase")],
            purposes: vec![term("Marketing")],
            level: Level::Pseudonymous,
            min_price: Amount(2),
        }),
    );
    let policy = PolicyId(policy_tx.id().0);
    txs.push(policy_tx);
    let mut acme_nonce = net.next_nonce(0, &acme.account());
    txs.push(signed(
        net,
        acme,
        acme_nonce,
        Payload::Transfer(Transfer {
            to: a,
            amount: Amount(77),
        }),
    ));
    acme_nonce += 1;
    txs.push(signed(
        net,
        mint,
        net.next_nonce(0, &mint.account()),
        Payload::Mint(Mint {
            to: a,
            amount: Amount(5),
        }),
    ));
    run_all(net, &txs);

    // Uses, round 1: two per consent (one in a category the odd ones do not
    // cover), uses under the policy, and bob's uses in the same txs.
    let mut n = 0u32;
    let mut uses_for = |range: std::ops::Range<usize>, extra: Vec<Use>| {
        let mut v = extra;
        for i in range {
            n += 2;
            v.push(a_use(
                a,
                UseBasis::Consent(consents[i]),
                "Purchase",
                purpose_of(i),
                n,
            ));
            v.push(a_use(
                a,
                UseBasis::Consent(consents[i]),
                "Location",
                purpose_of(i),
                n + 1,
            ));
        }
        v
    };
    let bob_use = |k: u32| {
        a_use(
            b,
            UseBasis::Consent(bob_consents[0]),
            "Purchase",
            "DirectMarketing",
            9000 + k,
        )
    };
    let pol = |k: u32| {
        a_use(
            a,
            UseBasis::Policy(policy),
            "Purchase",
            "Marketing",
            8000 + k,
        )
    };
    let mut beta_nonce = net.next_nonce(0, &beta.account());
    let record = |key: &Keypair, nonce: &mut u64, uses: Vec<Use>| {
        *nonce += 1;
        signed(net, key, *nonce - 1, Payload::RecordUse(RecordUse { uses }))
    };
    let txs = vec![
        record(
            acme,
            &mut acme_nonce,
            uses_for(0..20, vec![bob_use(1), pol(1), pol(2)]),
        ),
        record(
            acme,
            &mut acme_nonce,
            uses_for(20..40, vec![bob_use(2), pol(3)]),
        ),
        record(
            acme,
            &mut acme_nonce,
            uses_for(40..60, vec![bob_use(3), pol(4), pol(5)]),
        ),
        record(beta, &mut beta_nonce, uses_for(60..80, vec![pol(6)])),
        record(beta, &mut beta_nonce, uses_for(80..100, vec![])),
    ];
    run_all(net, &txs);

    // Round 2, after the expiring consents expired: one more use per consent.
    assert!(wait_until(
        "the expiring consents to expire",
        Duration::from_secs(20),
        || {
            net.status(0)
                .is_some_and(|s| s["time_ms"].as_u64().unwrap() > expires)
        }
    ));
    let mut one_each = |range: std::ops::Range<usize>, extra: Vec<Use>| {
        let mut v = extra;
        for i in range {
            n += 1;
            v.push(a_use(
                a,
                UseBasis::Consent(consents[i]),
                "Purchase",
                purpose_of(i),
                100_000 + n,
            ));
        }
        v
    };
    let txs = vec![
        record(acme, &mut acme_nonce, one_each(0..60, vec![bob_use(4)])),
        record(beta, &mut beta_nonce, one_each(60..100, vec![])),
    ];
    run_all(net, &txs);
    // Alice revokes everything she gave beta at once.
    let revoke_all = signed(
        net,
        alice,
        next(),
        Payload::RevokeAll(RevokeAll {
            enterprise: Some(beta.account()),
        }),
    );
    run_all(net, std::slice::from_ref(&revoke_all));
    History {
        consents,
        bob_consents,
        policy,
    }
}
