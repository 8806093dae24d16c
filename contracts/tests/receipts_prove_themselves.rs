//! Receipts of every kind verify offline against the genesis and say what
//! they prove; a single flipped byte anywhere, or another chain's genesis,
//! is refused with the check that failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::commit::{CertError, CommitCertificate};
use assent_contracts::consent_proof::{
    Change, ConsentProof, ConsentProofError, CONSENT_PROOF_VERSION,
};
use assent_contracts::receipt::{Receipt, ReceiptError, Subject, Trust, UsePart};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::certs::*;
use common::*;

struct Story {
    chain: CertChain,
    grant: (usize, usize),
    pause: (usize, usize),
    resume: (usize, usize),
    settled_use: (usize, usize),
    rejected_use: (usize, usize),
    revoke: (usize, usize),
    revoke_all: (usize, usize),
    consent: ConsentId,
    consent_to_bank: ConsentId,
}

/// alice grants acme, pauses, resumes; acme's use settles; alice revokes;
/// acme's next use is rejected; alice grants bank and revokes all.
fn story() -> (Actors, Story) {
    let a = actors();
    let mut chain = CertChain::new(&a, 2..6, "main");
    let filler = [&a.acme, &a.bank];
    chain.run(&a.alice, register(), &filler);
    let grant = chain.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 3)), &filler);
    let consent = granted(chain.outcome(grant));
    let pause = chain.run(
        &a.alice,
        Payload::PauseConsent(PauseConsent { consent }),
        &filler,
    );
    let resume = chain.run(
        &a.alice,
        Payload::ResumeConsent(ResumeConsent { consent }),
        &filler,
    );
    // bob is no consumer: his use is rejected, alice's settles.
    let settled_use = chain.run(
        &a.acme,
        record(vec![
            a_use(&a.alice, UseBasis::Consent(consent), 2),
            a_use(&a.bob, UseBasis::Consent(consent), 1),
        ]),
        &[&a.bank],
    );
    let revoke = chain.run(
        &a.alice,
        Payload::RevokeConsent(RevokeConsent { consent }),
        &filler,
    );
    let rejected_use = chain.run(
        &a.acme,
        record(vec![a_use(&a.alice, UseBasis::Consent(consent), 1)]),
        &[&a.bank],
    );
    let to_bank = chain.run(
        &a.alice,
        Payload::GrantConsent(common::grant(&a.bank, 5)),
        &[],
    );
    let consent_to_bank = granted(chain.outcome(to_bank));
    let revoke_all = chain.run(
        &a.alice,
        Payload::RevokeAll(RevokeAll { enterprise: None }),
        &filler,
    );
    (
        a,
        Story {
            chain,
            grant,
            pause,
            resume,
            settled_use,
            rejected_use,
            revoke,
            revoke_all,
            consent,
            consent_to_bank,
        },
    )
}

fn namer(a: &Actors) -> impl Fn(&AccountId) -> Option<String> {
    let known = [
        (a.alice.account(), "alice".to_string()),
        (a.acme.account(), "acme".to_string()),
        (a.bank.account(), "bank".to_string()),
    ];
    move |id| known.iter().find(|(k, _)| k == id).map(|(_, n)| n.clone())
}

#[test]
fn a_receipt_of_every_kind_verifies_and_says_what_it_proves() {
    let (a, s) = story();
    let name = namer(&a);
    let alice = format!("alice ({})", a.alice.account());
    let acme = format!("acme ({})", a.acme.account());
    let check = |at, subject, expect: &[&str]| {
        let r = s.chain.receipt(at, subject);
        // The receipt is plain JSON and survives a round trip.
        let r: Receipt = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        let p = r.verify(&s.chain.trust()).unwrap();
        let b = &s.chain.blocks[at.0];
        assert_eq!(p.height, b.header.height);
        assert_eq!(p.time, b.header.time);
        assert_eq!(p.block_hash, b.header.hash());
        assert_eq!(p.tx_index as usize, at.1);
        assert_eq!((p.commit.signers, p.commit.validators), (3, 4));
        let text = p.describe(&name);
        for e in expect {
            assert!(text.contains(e), "{text:?} lacks {e:?}");
        }
        assert!(
            text.ends_with(&format!(
                "at height {}, committed by 3 of 4 validators",
                b.header.height
            )),
            "{text}"
        );
        p
    };
    check(
        s.grant,
        Subject::Tx,
        &[&format!(
            "{alice} granted {acme} DirectMarketing on Purchase data at level pseudonymous for 3 points per use (consent {})",
            s.consent
        )],
    );
    check(
        s.pause,
        Subject::Tx,
        &[&format!("{alice} paused consent {} to {acme}", s.consent)],
    );
    check(
        s.resume,
        Subject::Tx,
        &[&format!("{alice} resumed consent {} to {acme}", s.consent)],
    );
    check(
        s.revoke,
        Subject::Tx,
        &[&format!("{alice} revoked consent {} to {acme}", s.consent)],
    );
    let p = check(
        s.revoke_all,
        Subject::Tx,
        &[&format!("revoked consent {} to bank (", s.consent_to_bank)],
    );
    assert!(matches!(
        p.tx().unwrap().body.payload,
        Payload::RevokeAll(_)
    ));
    check(
        s.settled_use,
        Subject::Use { index: 0 },
        &[&format!(
            "{acme} used {alice}'s Purchase data for DirectMarketing (2 unit(s)), settled: paid 6 points, 6 to the consumer"
        )],
    );
    check(
        s.settled_use,
        Subject::Use { index: 1 },
        &[&format!(
            "{acme} recorded a use of {}'s data that was REJECTED (not_consumer:",
            a.bob.account()
        )],
    );
    check(
        s.rejected_use,
        Subject::Use { index: 0 },
        &[&format!(
            "{acme} recorded a use of {alice}'s data that was REJECTED (consent_revoked:"
        )],
    );
    // Without names, accounts appear as addresses.
    let r = s.chain.receipt(s.grant, Subject::Tx);
    let text = r.verify(&s.chain.trust()).unwrap().describe(&|_| None);
    assert!(
        text.starts_with(&format!(
            "{} granted {}",
            a.alice.account(),
            a.acme.account()
        )),
        "{text}"
    );
}

#[test]
fn a_consent_proof_tells_the_consents_history_in_chain_order() {
    let (_a, s) = story();
    let proof = |steps: &[(usize, usize)], consent| ConsentProof {
        version: CONSENT_PROOF_VERSION.into(),
        consent,
        receipts: steps
            .iter()
            .map(|at| s.chain.receipt(*at, Subject::Tx))
            .collect(),
    };
    let full = proof(&[s.grant, s.pause, s.resume, s.revoke], s.consent);
    let p = full.verify(&s.chain.trust()).unwrap();
    let changes: Vec<Change> = p.steps.iter().map(|s| s.change).collect();
    assert_eq!(
        changes,
        vec![
            Change::Granted,
            Change::Paused,
            Change::Resumed,
            Change::Revoked
        ]
    );
    assert_eq!(p.status(), "ConsentWithdrawn");
    assert_eq!(p.describe(&|_| None).len(), 4);

    let p = proof(&[s.grant], s.consent)
        .verify(&s.chain.trust())
        .unwrap();
    assert_eq!(p.status(), "ConsentGiven");
    let p = proof(&[s.grant, s.pause], s.consent)
        .verify(&s.chain.trust())
        .unwrap();
    assert_eq!(p.status(), "ConsentPaused");

    // A revoke-all counts as the revocation of each consent it ended.
    let bank_grant = (s.revoke_all.0 - 1, 0);
    let p = proof(&[bank_grant, s.revoke_all], s.consent_to_bank)
        .verify(&s.chain.trust())
        .unwrap();
    assert_eq!(p.status(), "ConsentWithdrawn");

    let err = |pr: ConsentProof| pr.verify(&s.chain.trust()).unwrap_err();
    assert!(matches!(
        err(proof(&[s.grant, s.resume, s.pause], s.consent)),
        ConsentProofError::OutOfOrder { index: 2 }
    ));
    assert!(matches!(
        err(proof(&[s.pause, s.resume], s.consent)),
        ConsentProofError::NotTheGrant { .. }
    ));
    assert!(matches!(
        err(proof(&[s.grant], s.consent_to_bank)),
        ConsentProofError::NotTheGrant { .. }
    ));
    assert!(matches!(
        err(proof(&[bank_grant, s.revoke], s.consent_to_bank)),
        ConsentProofError::NotAChange { index: 1, .. }
    ));
    assert!(matches!(
        err(proof(&[], s.consent)),
        ConsentProofError::Empty
    ));
    let mut bad = proof(&[s.grant, s.revoke], s.consent);
    bad.receipts[1].tx_proof[0].replace_range(0..1, "f");
    bad.receipts[1].tx_proof[0].replace_range(1..2, "0");
    assert!(matches!(
        err(bad),
        ConsentProofError::Receipt {
            index: 1,
            error: ReceiptError::TxNotInBlock
        }
    ));
    let mut v = proof(&[s.grant], s.consent);
    v.version = "assent-consent-proof/0".into();
    assert!(matches!(err(v), ConsentProofError::Version(_)));
}

/// The hex text with byte `i` flipped.
fn flip(hex_text: &str, i: usize) -> String {
    let mut b = hex::decode(hex_text).unwrap();
    b[i] ^= 0x01;
    hex::encode(b)
}

fn byte_len(hex_text: &str) -> usize {
    hex_text.len() / 2
}

#[test]
fn flipping_any_single_byte_fails_with_the_check_it_breaks() {
    let (_a, s) = story();
    let trust = s.chain.trust();
    for (at, subject) in [
        (s.grant, Subject::Tx),
        (s.revoke_all, Subject::Tx),
        (s.settled_use, Subject::Use { index: 0 }),
        (s.settled_use, Subject::Use { index: 1 }),
    ] {
        let good = s.chain.receipt(at, subject);
        good.verify(&trust).unwrap();
        assert!(!good.tx_proof.is_empty() && !good.result_proof.is_empty());
        if let Some(u) = &good.used {
            assert!(!u.path.is_empty() && !u.outcome_path.is_empty());
            flip_use_part(&good, &trust);
        }

        for i in 0..byte_len(&good.tx) {
            let mut r = good.clone();
            r.tx = flip(&good.tx, i);
            match r.verify(&trust) {
                Err(ReceiptError::Decode { field: "tx", .. } | ReceiptError::TxSignature(_)) => {}
                other => panic!("tx byte {i}: {other:?}"),
            }
        }
        for (p, el) in good.tx_proof.iter().enumerate() {
            for i in 0..32 {
                let mut r = good.clone();
                r.tx_proof[p] = flip(el, i);
                assert_eq!(
                    r.verify(&trust),
                    Err(ReceiptError::TxNotInBlock),
                    "tx_proof[{p}] byte {i}"
                );
            }
        }
        for (p, el) in good.result_proof.iter().enumerate() {
            for i in 0..32 {
                let mut r = good.clone();
                r.result_proof[p] = flip(el, i);
                assert_eq!(
                    r.verify(&trust),
                    Err(ReceiptError::ResultNotInBlock),
                    "result_proof[{p}] byte {i}"
                );
            }
        }
        for i in 0..byte_len(&good.result) {
            let mut r = good.clone();
            r.result = flip(&good.result, i);
            match r.verify(&trust) {
                Err(
                    ReceiptError::Decode {
                        field: "result", ..
                    }
                    | ReceiptError::ResultOfOtherTx { .. }
                    | ReceiptError::ResultNotInBlock,
                ) => {}
                other => panic!("result byte {i}: {other:?}"),
            }
        }
        for i in 0..byte_len(&good.header) {
            let mut r = good.clone();
            r.header = flip(&good.header, i);
            match r.verify(&trust) {
                Err(
                    ReceiptError::Decode {
                        field: "header", ..
                    }
                    | ReceiptError::HeaderChain(_)
                    | ReceiptError::Certificate(
                        CertError::WrongBlock { .. } | CertError::WrongHeight { .. },
                    ),
                ) => {}
                other => panic!("header byte {i}: {other:?}"),
            }
        }
        // Each byte of each certificate signature.
        let cert: CommitCertificate =
            codec::decode(&hex::decode(&good.certificate).unwrap()).unwrap();
        for (k, sig) in cert.signatures.iter().enumerate() {
            for i in 0..64 {
                let mut c = cert.clone();
                c.signatures[k].signature.0[i] ^= 0x01;
                let mut r = good.clone();
                r.certificate = hex::encode(codec::encode(&c).unwrap());
                assert_eq!(
                    r.verify(&trust),
                    Err(ReceiptError::Certificate(CertError::BadSignature(
                        sig.validator
                    ))),
                    "signature {k} byte {i}"
                );
            }
        }
        // Any other byte of the certificate fails on the certificate too.
        for i in 0..byte_len(&good.certificate) {
            let mut r = good.clone();
            r.certificate = flip(&good.certificate, i);
            match r.verify(&trust) {
                Err(
                    ReceiptError::Decode {
                        field: "certificate",
                        ..
                    }
                    | ReceiptError::Certificate(_),
                ) => {}
                other => panic!("certificate byte {i}: {other:?}"),
            }
        }
        // Another position or tree size breaks the path.
        // (An RFC 6962 path does not pin the tree size by itself: a path
        // that also fits a bigger tx tree is caught by the results tree.)
        for (index, count) in [
            (good.tx_index ^ 1, good.tx_count),
            (good.tx_index, good.tx_count + 1),
            (good.tx_index, good.tx_count + 2),
        ] {
            let mut r = good.clone();
            (r.tx_index, r.tx_count) = (index, count);
            match r.verify(&trust) {
                Err(ReceiptError::TxNotInBlock | ReceiptError::ResultNotInBlock) => {}
                other => panic!("index {index} of {count}: {other:?}"),
            }
        }
        let mut r = good.clone();
        r.tx_index = r.tx_count;
        assert!(matches!(r.verify(&trust), Err(ReceiptError::Index { .. })));
        // Dropping a signature leaves too little power.
        let mut c = cert.clone();
        c.signatures.pop();
        let mut r = good.clone();
        r.certificate = hex::encode(codec::encode(&c).unwrap());
        assert!(matches!(
            r.verify(&trust),
            Err(ReceiptError::Certificate(CertError::NotEnoughPower {
                signed: 2,
                total: 4
            }))
        ));
        // Not hex at all.
        let mut r = good.clone();
        r.header.push('x');
        assert!(matches!(r.verify(&trust), Err(ReceiptError::Hex { .. })));
    }

    // A use receipt pointing at a use the tx does not have, or at its
    // other use with this one's proof.
    let mut r = s.chain.receipt(s.settled_use, Subject::Use { index: 0 });
    r.subject = Subject::Use { index: 3 };
    assert!(matches!(
        r.verify(&trust),
        Err(ReceiptError::NoSuchUse { index: 3, .. })
    ));
    r.subject = Subject::Use { index: 1 };
    assert_eq!(r.verify(&trust), Err(ReceiptError::UseNotInTx));
    r.subject = Subject::Use { index: 0 };
    r.verify(&trust).unwrap();
    // No receipt of a use is built for a tx that records none; a tx
    // receipt passed off as a use receipt does not decode as one.
    assert!(s
        .chain
        .try_receipt(s.grant, Subject::Use { index: 0 })
        .is_none());
    let mut grant_as_use = s.chain.receipt(s.grant, Subject::Tx);
    grant_as_use.subject = Subject::Use { index: 0 };
    assert!(matches!(
        grant_as_use.verify(&trust),
        Err(ReceiptError::Decode { field: "tx", .. })
    ));
    let mut use_as_tx = s.chain.receipt(s.settled_use, Subject::Use { index: 0 });
    use_as_tx.subject = Subject::Tx;
    assert!(matches!(
        use_as_tx.verify(&trust),
        Err(ReceiptError::Decode { field: "use", .. })
    ));
}

/// Every byte of a use receipt's use, its outcome and their paths.
fn flip_use_part(good: &Receipt, trust: &Trust<'_>) {
    let part = good.used.clone().unwrap();
    let with = |f: &dyn Fn(&mut UsePart)| {
        let mut r = good.clone();
        f(r.used.as_mut().unwrap());
        r.verify(trust)
    };
    for (p, el) in part.path.iter().enumerate() {
        for i in 0..32 {
            let e = with(&|u| u.path[p] = flip(el, i)).unwrap_err();
            assert_eq!(e, ReceiptError::UseNotInTx, "use.path[{p}] byte {i}");
            assert_eq!(e.check(), "use_in_tx");
            assert!(e.to_string().contains("use.path"), "{e}");
        }
    }
    for (p, el) in part.outcome_path.iter().enumerate() {
        for i in 0..32 {
            let e = with(&|u| u.outcome_path[p] = flip(el, i)).unwrap_err();
            assert_eq!(
                e,
                ReceiptError::OutcomeNotInResult,
                "use.outcome_path[{p}] byte {i}"
            );
            assert_eq!(e.check(), "outcome_in_result");
        }
    }
    for i in 0..byte_len(&part.data) {
        match with(&|u| u.data = flip(&part.data, i)) {
            Err(
                ReceiptError::Decode {
                    field: "use.data", ..
                }
                | ReceiptError::UseNotInTx,
            ) => {}
            other => panic!("use.data byte {i}: {other:?}"),
        }
    }
    for i in 0..byte_len(&part.outcome) {
        match with(&|u| u.outcome = flip(&part.outcome, i)) {
            Err(
                ReceiptError::Decode {
                    field: "use.outcome",
                    ..
                }
                | ReceiptError::OutcomeNotInResult,
            ) => {}
            other => panic!("use.outcome byte {i}: {other:?}"),
        }
    }
    // A use receipt without its use.
    let mut r = good.clone();
    r.used = None;
    assert!(matches!(
        r.verify(trust),
        Err(ReceiptError::NoSuchUse { .. })
    ));
}

#[test]
fn a_receipt_checked_against_another_genesis_is_refused() {
    let (a, s) = story();
    let r = s.chain.receipt(s.grant, Subject::Tx);

    // Another chain id, another genesis hash: refused before anything else.
    let other = CertChain::new(&a, 30..34, "other");
    let wrong_hash = other.trust();
    let e = r.verify(&wrong_hash).unwrap_err();
    assert!(matches!(e, ReceiptError::OtherChain { .. }), "{e:?}");
    assert!(e.to_string().contains("another chain"), "{e}");
    let wrong_id = Trust {
        chain_id: "assent-other-1",
        ..s.chain.trust()
    };
    assert!(matches!(
        r.verify(&wrong_id),
        Err(ReceiptError::OtherChain { .. })
    ));

    // The right chain id and hash but another validator set: the
    // certificate's signers are strangers.
    let strangers = Trust {
        validators: &other.validators,
        history: None,
        ..s.chain.trust()
    };
    assert!(matches!(
        r.verify(&strangers),
        Err(ReceiptError::Certificate(CertError::UnknownValidator(_)))
    ));

    // A receipt from another chain (same chain id, other validators and
    // genesis) whose genesis_hash is forged to ours fails on the certificate.
    let mut other = CertChain::new(&a, 30..34, "other");
    other.run(&a.alice, register(), &[]);
    let g = other.run(&a.alice, Payload::GrantConsent(grant(&a.acme, 3)), &[]);
    let foreign = other.receipt(g, Subject::Tx);
    foreign.verify(&other.trust()).unwrap();
    assert!(matches!(
        foreign.verify(&s.chain.trust()),
        Err(ReceiptError::OtherChain { .. })
    ));
    let mut forged = foreign.clone();
    forged.genesis_hash = hex::encode(s.chain.genesis_hash.0);
    assert!(matches!(
        forged.verify(&s.chain.trust()),
        Err(ReceiptError::Certificate(CertError::UnknownValidator(_)))
    ));
    // Rewriting the chain id too does not help: the header names its chain.
    let mut forged = foreign;
    forged.genesis_hash = hex::encode(s.chain.genesis_hash.0);
    forged.chain_id = CHAIN.into();
    let trust_other_id = Trust {
        chain_id: CHAIN,
        ..s.chain.trust()
    };
    assert!(forged.verify(&trust_other_id).is_err());
}

#[test]
fn special_categories_are_known_from_the_vocabulary() {
    assert!(cat("HealthRecord").is_special());
    assert!(cat("Fingerprint").is_special());
    assert!(cat("ReligiousBelief").is_special());
    assert!(!cat("Purchase").is_special());
    assert!(!cat("Location").is_special());
}
