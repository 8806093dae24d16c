//! Random histories of every tx kind, checked against a small reference model.
//!
//! The model keeps its own consents, policies, balances, suspensions and
//! nonces and predicts, for every tx, whether it applies or which code rejects
//! it, and for every recorded use whether it settles (and for how much) or why
//! not. The ledger must agree exactly. After every block: balances equal the
//! model's, supply changes only by Mint, points are conserved, no use has
//! settled without a live covering consent or policy at its block, the
//! ledger holds exactly the model's identity links, and referrals (named,
//! refused as self, repeated, unknown or cyclic, terms changed by
//! governance) pay each referrer out of the operators' share while every
//! consumer earns exactly what it would with no referrer — so no consumer
//! ever pays. Accounts move to new keys (rotated, or recovered by their
//! guardians) and keep every consent, policy, balance and link, while the
//! keys they left sign for nothing. Consumers declare interest tags as
//! commitments (well formed or not), and each record holds the model's set.
//! Every use of every applied RecordUse has a receipt that verifies, proves
//! the model's outcome of that use and names no other consumer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::{keys, ConsentState, PolicyTarget, StateExt, StateRead, StateTree};
use assent_contracts::terms::Sector;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;
use proptest::prelude::*;

#[path = "random_histories/keys.rs"]
mod keys_model;
#[path = "random_histories/model.rs"]
mod model;
#[path = "random_histories/receipts.rs"]
mod receipts;
#[path = "random_histories/referrals.rs"]
mod referrals;
#[path = "random_histories/tags.rs"]
mod tags;
#[path = "random_histories/uses.rs"]
mod uses;
use model::*;

fn check_history(blocks: Vec<Vec<Op>>) -> Result<(), TestCaseError> {
    let w = world();
    let mut chain = TestChain::with_referrals(&w.a, referrals::genesis_terms());
    let mut m = Model::new(&w);
    let mut committed: Vec<SignedTx> = vec![];
    let mut signing = keys_model::Keys::new();

    for ops in blocks {
        // Build the block: signed txs plus, per tx, a closure-free description the model replays.
        let mut txs: Vec<SignedTx> = vec![];
        let mut plans: Vec<Op> = vec![];
        let block_time = chain.time.0 + 1_000;
        let mut wait = 0;
        for op in ops {
            let (sender, payload): (&Keypair, Payload) = match &op {
                Op::Wait { ms } => {
                    wait += ms;
                    continue;
                }
                Op::Forged { cross_chain } => {
                    let body = TxBody {
                        sender: w.ents[0].account(),
                        nonce: 0,
                        payload: Payload::Transfer(Transfer {
                            to: w.consumers[0].account(),
                            amount: Amount(1),
                        }),
                    };
                    let t = if *cross_chain {
                        body.sign("assent-elsewhere", &w.ents[0])
                    } else {
                        body.sign(CHAIN, &w.consumers[0])
                    };
                    prop_assert!(
                        t.verify(CHAIN).is_err(),
                        "a forged or cross-chain tx verified"
                    );
                    continue;
                }
                Op::Replay { k } => {
                    if committed.is_empty() {
                        continue;
                    }
                    txs.push(committed[k % committed.len()].clone());
                    plans.push(op.clone());
                    continue;
                }
                Op::Rotate { c, recover } => {
                    for (k, p) in keys_model::txs(&w, &mut signing, *c, *recover) {
                        txs.push(chain.sign(&k, p));
                        plans.push(op.clone());
                    }
                    continue;
                }
                Op::Link { .. } | Op::Unlink { .. } => link_tx(&w, &op),
                Op::Refer { .. } => referrals::refer_tx(&w, &op),
                Op::Tags { .. } => tags::tx(&w, &op),
                Op::Register { c } => (
                    &w.consumers[*c],
                    Payload::RegisterConsumer(RegisterConsumer {
                        tags: Default::default(),
                    }),
                ),
                Op::Grant {
                    c,
                    e,
                    cats,
                    purps,
                    level,
                    price,
                    max,
                    ttl,
                } => (
                    &w.consumers[*c],
                    Payload::GrantConsent(GrantConsent {
                        enterprise: w.ents[*e].account(),
                        categories: pick(&CATS, *cats).into_iter().map(cat).collect(),
                        purposes: pick(&PURPS, *purps).into_iter().map(purp).collect(),
                        level: LEVELS[*level as usize],
                        price_per_use: Amount(*price),
                        max_uses: *max,
                        expires_at: ttl.map(|t| Timestamp(block_time + t)),
                        request: None,
                    }),
                ),
                Op::Revoke { c, k } | Op::Pause { c, k } | Op::Resume { c, k } => {
                    if m.consents.is_empty() {
                        continue;
                    }
                    let consent = m.consents[k % m.consents.len()].id;
                    let p = match op {
                        Op::Revoke { .. } => Payload::RevokeConsent(RevokeConsent { consent }),
                        Op::Pause { .. } => Payload::PauseConsent(PauseConsent { consent }),
                        _ => Payload::ResumeConsent(ResumeConsent { consent }),
                    };
                    (&w.consumers[*c], p)
                }
                Op::RevokeAll { c, e } => (
                    &w.consumers[*c],
                    Payload::RevokeAll(RevokeAll {
                        enterprise: e.map(|e| w.ents[e].account()),
                    }),
                ),
                Op::SetPolicy {
                    c,
                    target,
                    cats,
                    purps,
                    level,
                    price,
                } => (
                    &w.consumers[*c],
                    Payload::SetPolicy(SetPolicy {
                        target: match target {
                            Ok(s) => PolicyTarget::Sector([Sector::Retail, Sector::Finance][*s]),
                            Err(e) => PolicyTarget::Enterprise(w.ents[*e].account()),
                        },
                        categories: pick(&CATS, *cats).into_iter().map(cat).collect(),
                        purposes: pick(&PURPS, *purps).into_iter().map(purp).collect(),
                        level: LEVELS[*level as usize],
                        min_price: Amount(*price),
                    }),
                ),
                Op::ClearPolicy { c, k } => {
                    if m.policies.is_empty() {
                        continue;
                    }
                    (
                        &w.consumers[*c],
                        Payload::ClearPolicy(ClearPolicy {
                            policy: m.policies[k % m.policies.len()].id,
                        }),
                    )
                }
                Op::Use { e, uses } => (
                    &w.ents[*e],
                    Payload::RecordUse(RecordUse {
                        uses: uses::of(&w, &m, *e, uses),
                    }),
                ),
                Op::Transfer { from, to, amount } => (
                    &w.everyone[*from],
                    Payload::Transfer(Transfer {
                        to: w.everyone[*to].account(),
                        amount: Amount(*amount),
                    }),
                ),
                Op::Mint {
                    authority,
                    to,
                    amount,
                } => (
                    if *authority { &w.a.mint } else { &w.ents[0] },
                    Payload::Mint(Mint {
                        to: w.everyone[*to].account(),
                        amount: Amount(*amount),
                    }),
                ),
                Op::Suspend { .. } | Op::Terms { .. } => {
                    let action = match op {
                        Op::Suspend { e, suspend: true } => GovAction::SuspendEnterprise {
                            account: w.ents[e].account(),
                        },
                        Op::Suspend { e, .. } => GovAction::ReinstateEnterprise {
                            account: w.ents[e].account(),
                        },
                        Op::Terms { terms } => GovAction::SetReferralTerms {
                            terms: referrals::terms_of(terms),
                        },
                        _ => unreachable!(),
                    };
                    let prop = chain.sign(&w.a.operators[0], Payload::Propose(Propose { action }));
                    let proposal = ProposalId(prop.id().0);
                    txs.push(prop);
                    plans.push(op.clone());
                    for voter in &w.a.operators[1..3] {
                        txs.push(chain.sign(
                            voter,
                            Payload::Vote(Vote {
                                proposal,
                                yes: true,
                            }),
                        ));
                        plans.push(Op::Wait { ms: 0 }); // marker: a vote, judged with its proposal
                    }
                    continue;
                }
            };
            // Every account signs with its current key.
            txs.push(chain.sign(signing.signer(sender), payload));
            plans.push(op);
        }

        // The model's execution order: senders who record uses go last.
        let recorders: BTreeSet<AccountId> = txs
            .iter()
            .filter(|t| matches!(t.body.payload, Payload::RecordUse(_)))
            .map(|t| t.body.sender)
            .collect();
        let mut order: Vec<usize> = (0..txs.len())
            .filter(|i| !recorders.contains(&txs[*i].body.sender))
            .collect();
        order.extend((0..txs.len()).filter(|i| recorders.contains(&txs[*i].body.sender)));

        let mut expect: Vec<Option<Expect>> = vec![None; txs.len()];
        for &i in &order {
            let tx = &txs[i];
            let signer = tx.body.sender;
            let sender = match m.keys.account_of(signer) {
                Ok(a) => a,
                Err(e) => {
                    expect[i] = Some(e);
                    continue;
                }
            };
            let e = match (&plans[i], &tx.body.payload) {
                (Op::Replay { .. }, _) => Expect::Rejected(ErrorCode::BadNonce),
                (Op::Rotate { .. }, p) => m.keys.judge(sender, signer, p),
                (Op::Wait { .. }, _) => continue, // votes: judged with their proposal below
                (_, Payload::RegisterConsumer(_)) => {
                    if m.registered.insert(sender) {
                        m.tags.insert(sender, Default::default());
                        Expect::Applied
                    } else {
                        Expect::Rejected(ErrorCode::AlreadyRegistered)
                    }
                }
                (_, Payload::GrantConsent(g)) => {
                    if !m.registered.contains(&sender) {
                        Expect::Rejected(ErrorCode::NotConsumer)
                    } else if m.suspended.contains(&g.enterprise) {
                        Expect::Rejected(ErrorCode::EnterpriseSuspended)
                    } else {
                        m.consents.push(MConsent {
                            id: ConsentId(tx.id().0),
                            consumer: sender,
                            ent: g.enterprise,
                            cats: g.categories.clone(),
                            purps: g.purposes.clone(),
                            level: g.level,
                            price: g.price_per_use.0,
                            max: g.max_uses,
                            used: 0,
                            expires: g.expires_at.map(|t| t.0),
                            state: 0,
                        });
                        Expect::Applied
                    }
                }
                (
                    op,
                    Payload::RevokeConsent(RevokeConsent { consent })
                    | Payload::PauseConsent(PauseConsent { consent })
                    | Payload::ResumeConsent(ResumeConsent { consent }),
                ) => {
                    let c = m
                        .consents
                        .iter_mut()
                        .find(|c| &c.id == consent)
                        .expect("model consent");
                    if c.consumer != sender {
                        Expect::Rejected(ErrorCode::NotYourConsent)
                    } else if c.state == 2 {
                        Expect::Rejected(ErrorCode::ConsentRevoked)
                    } else {
                        match op {
                            Op::Revoke { .. } => {
                                c.state = 2;
                                Expect::Applied
                            }
                            Op::Pause { .. } if c.state == 1 => {
                                Expect::Rejected(ErrorCode::ConsentPaused)
                            }
                            Op::Pause { .. } => {
                                c.state = 1;
                                Expect::Applied
                            }
                            _ if c.state != 1 => Expect::Rejected(ErrorCode::ConsentNotPaused),
                            _ => {
                                c.state = 0;
                                Expect::Applied
                            }
                        }
                    }
                }
                (_, Payload::RevokeAll(r)) => {
                    if !m.registered.contains(&sender) {
                        Expect::Rejected(ErrorCode::NotConsumer)
                    } else {
                        let mut n = 0;
                        for c in m.consents.iter_mut().filter(|c| {
                            c.consumer == sender
                                && c.state != 2
                                && r.enterprise.is_none_or(|e| e == c.ent)
                        }) {
                            c.state = 2;
                            n += 1;
                        }
                        if n == 0 {
                            Expect::Rejected(ErrorCode::NothingToRevoke)
                        } else {
                            Expect::Applied
                        }
                    }
                }
                (_, Payload::SetPolicy(p)) => {
                    if !m.registered.contains(&sender) {
                        Expect::Rejected(ErrorCode::NotConsumer)
                    } else {
                        m.policies.push(MPolicy {
                            id: PolicyId(tx.id().0),
                            consumer: sender,
                            target: p.target,
                            cats: p.categories.clone(),
                            purps: p.purposes.clone(),
                            level: p.level,
                            price: p.min_price.0,
                            live: true,
                        });
                        Expect::Applied
                    }
                }
                (_, Payload::ClearPolicy(ClearPolicy { policy })) => {
                    let p = m
                        .policies
                        .iter_mut()
                        .find(|p| &p.id == policy)
                        .expect("model policy");
                    if !p.live {
                        Expect::Rejected(ErrorCode::UnknownPolicy)
                    } else if p.consumer != sender {
                        Expect::Rejected(ErrorCode::NotYourConsent)
                    } else {
                        p.live = false;
                        Expect::Applied
                    }
                }
                (_, Payload::RecordUse(r)) => {
                    if m.suspended.contains(&sender) {
                        Expect::Rejected(ErrorCode::EnterpriseSuspended)
                    } else {
                        let mut outs = vec![];
                        for u in &r.uses {
                            match m.judge_use(sender, u, block_time) {
                                Ok((paid, idx)) => {
                                    let (to_consumer, to_referrer) =
                                        m.settle_use(sender, u.consumer, paid, block_time);
                                    if let Some(i) = idx {
                                        m.consents[i].used += u.units as u64;
                                    }
                                    outs.push(Ok((paid, to_consumer, to_referrer)));
                                }
                                Err(code) => outs.push(Err(code)),
                            }
                        }
                        Expect::Uses(outs)
                    }
                }
                (_, Payload::Transfer(t)) => {
                    if t.amount.0 == 0 {
                        Expect::Rejected(ErrorCode::ZeroAmount)
                    } else if t.to == sender {
                        Expect::Rejected(ErrorCode::InvalidField)
                    } else if m.bal(&sender) < t.amount.0 {
                        Expect::Rejected(ErrorCode::InsufficientFunds)
                    } else {
                        m.sub(sender, t.amount.0);
                        m.add(t.to, t.amount.0);
                        Expect::Applied
                    }
                }
                (_, Payload::Mint(mint)) => {
                    if mint.amount.0 == 0 {
                        Expect::Rejected(ErrorCode::ZeroAmount)
                    } else if sender != w.a.mint.account() {
                        Expect::Rejected(ErrorCode::NotMintAuthority)
                    } else {
                        m.add(mint.to, mint.amount.0);
                        m.supply += mint.amount.0;
                        Expect::Applied
                    }
                }
                (_, p @ (Payload::LinkIdentity(_) | Payload::UnlinkIdentity(_))) => {
                    m.judge_link(sender, p)
                }
                (_, p @ Payload::NameReferrer(_)) => m.judge_refer(sender, p, block_time),
                (_, Payload::SetTags(t)) => m.judge_tags(sender, t),
                (Op::Terms { terms }, Payload::Propose(_)) => {
                    let (e, votes) = if m.judge_terms(*terms) {
                        (Expect::Applied, Expect::Applied)
                    } else {
                        // Refused by its stateless check: no proposal exists.
                        (
                            Expect::Rejected(ErrorCode::InvalidField),
                            Expect::Rejected(ErrorCode::UnknownProposal),
                        )
                    };
                    expect[i + 1] = Some(votes.clone());
                    expect[i + 2] = Some(votes);
                    e
                }
                (Op::Suspend { e, suspend }, Payload::Propose(_)) => {
                    let account = w.ents[*e].account();
                    let valid = m.suspended.contains(&account) != *suspend;
                    if valid {
                        if *suspend {
                            m.suspended.insert(account);
                        } else {
                            m.suspended.remove(&account);
                        }
                        expect[i + 1] = Some(Expect::Applied);
                        expect[i + 2] = Some(Expect::Applied);
                        Expect::Applied
                    } else {
                        expect[i + 1] = Some(Expect::Rejected(ErrorCode::UnknownProposal));
                        expect[i + 2] = Some(Expect::Rejected(ErrorCode::UnknownProposal));
                        Expect::Rejected(ErrorCode::InvalidAction)
                    }
                }
                (op, p) => panic!("unplanned {op:?} {p:?}"),
            };
            expect[i] = Some(e);
        }

        let out = chain.block(txs.clone());
        receipts::check(&w, &chain, &txs, &out, &expect)?;
        chain.advance(wait);
        for (i, (res, exp)) in out.results.iter().zip(&expect).enumerate() {
            let exp = exp.clone().expect("every tx has an expectation");
            let got = match &res.outcome {
                TxOutcome::Rejected(e) => Expect::Rejected(e.code),
                TxOutcome::Applied { events }
                    if matches!(txs[i].body.payload, Payload::RecordUse(_)) =>
                {
                    uses_outcome(events)
                }
                TxOutcome::Applied { .. } => Expect::Applied,
            };
            prop_assert_eq!(
                &got,
                &exp,
                "tx #{} {:?} at height {}",
                i,
                plans[i],
                chain.height
            );
        }
        for (i, t) in txs.into_iter().enumerate() {
            if !matches!(plans[i], Op::Replay { .. }) {
                committed.push(t);
            }
        }

        // End of block: the pool pays out in equal shares.
        let n = m.operators.len() as u64;
        if m.pool >= n {
            let each = m.pool / n;
            for op in m.operators.clone() {
                m.add(op, each);
            }
            m.pool -= each * n;
        }

        for k in &w.everyone {
            prop_assert_eq!(
                chain.balance(&k.account()),
                m.bal(&k.account()),
                "balance of {}",
                k.account()
            );
        }
        prop_assert_eq!(chain.store.operator_pool().unwrap().0, m.pool);
        prop_assert_eq!(
            chain.store.supply().unwrap().0,
            m.supply,
            "supply changed other than by Mint"
        );
        prop_assert_eq!(
            chain.total_points(),
            m.supply,
            "points were created or destroyed"
        );
        m.check_links(&w, &chain.store)?;
        m.keys.check(&w, &chain.store)?;
        m.check_referrals(&w, &chain.store)?;
        m.check_tags(&w, &chain.store)?;
        for mc in &m.consents {
            let c = chain
                .store
                .consent(&mc.id)
                .unwrap()
                .expect("consent stored");
            let state = match c.state {
                ConsentState::Active => 0,
                ConsentState::Paused { .. } => 1,
                ConsentState::Revoked { .. } => 2,
            };
            prop_assert_eq!((state, c.used), (mc.state, mc.used));
            // The model's view of the consent is what its state proof proves.
            let p = chain.tree.prove(&keys::consent(&mc.id)).unwrap();
            let bytes = chain.store.get(&keys::consent(&mc.id)).unwrap();
            prop_assert_eq!(
                p.root(&keys::consent(&mc.id), bytes.as_deref()).unwrap(),
                chain.tree.root()
            );
        }
        // The header's root commits to the whole state: the tree built from
        // every record equals the one carried block to block.
        let all = chain.store.scan_prefix(b"").unwrap();
        let rebuilt =
            StateTree::from_records(all.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        prop_assert_eq!(rebuilt.root(), chain.tree.root());
        prop_assert_eq!(
            assent_contracts::state::tree::state_root(chain.height, &rebuilt.root()),
            chain.root
        );
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_match_the_reference_model(
        referred in any::<bool>(),
        mut blocks in prop::collection::vec(prop::collection::vec(op(), 1..10), 1..8),
    ) {
        // Half the histories start with every consumer registered and a
        // chain of referrals (c2 → c1 → c0), so referred uses are common.
        if referred {
            blocks.insert(0, referrals::referred_start());
        }
        check_history(blocks)?;
    }
}
