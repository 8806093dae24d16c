#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use assent_contracts::crypto::SignatureError;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

#[test]
fn a_replayed_tx_is_rejected_with_bad_nonce_and_changes_nothing() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let tx = c.sign(
        &a.acme,
        Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(10),
        }),
    );
    c.block(vec![tx.clone()]);
    let before = c.store.clone();
    let out = c.block(vec![tx]);
    let e = rejection(&out.results[0].outcome);
    assert_eq!(e.code, ErrorCode::BadNonce);
    assert!(e.reason.contains("already used"), "{}", e.reason);
    assert_eq!(c.store, before, "a replay must not write anything");
    assert_eq!(c.balance(&a.bob.account()), 10);
}

#[test]
fn txs_out_of_nonce_order_are_refused() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let first = c.sign(
        &a.acme,
        Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(1),
        }),
    );
    let second = c.sign(
        &a.acme,
        Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(2),
        }),
    );
    let out = c.block(vec![second.clone(), first]);
    assert_eq!(rejection(&out.results[0].outcome).code, ErrorCode::BadNonce);
    assert!(rejection(&out.results[0].outcome)
        .reason
        .contains("skips ahead"));
    events(&out.results[1].outcome);
    assert_eq!(c.balance(&a.bob.account()), 1);
    // Once the gap is filled, the same tx is valid.
    let out = c.block(vec![second]);
    events(&out.results[0].outcome);
    assert_eq!(c.balance(&a.bob.account()), 3);
}

#[test]
fn a_tx_signed_for_another_chain_does_not_verify_here() {
    let a = actors();
    let body = TxBody {
        sender: a.acme.account(),
        nonce: 0,
        payload: Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(1),
        }),
    };
    let other = body.clone().sign("assent-other-chain", &a.acme);
    assert_eq!(
        other.clone().verify(CHAIN).unwrap_err(),
        SignatureError::Invalid
    );
    assert!(other.verify("assent-other-chain").is_ok());
    // The id is the body's, so it is the same on both chains; only the signature differs.
    assert_eq!(body.clone().sign(CHAIN, &a.acme).id(), body.id());
}

#[test]
fn a_tx_signed_by_anyone_but_its_sender_is_refused() {
    let a = actors();
    let body = TxBody {
        sender: a.acme.account(),
        nonce: 0,
        payload: Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(1),
        }),
    };
    let forged = body.sign(CHAIN, &a.bob);
    assert_eq!(forged.verify(CHAIN).unwrap_err(), SignatureError::Invalid);
}

#[test]
fn a_changed_body_or_signature_byte_breaks_verification() {
    let a = actors();
    let tx = TxBody {
        sender: a.acme.account(),
        nonce: 3,
        payload: Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(1),
        }),
    }
    .sign(CHAIN, &a.acme);
    let mut more = tx.clone();
    more.body.payload = Payload::Transfer(Transfer {
        to: a.bob.account(),
        amount: Amount(1_000),
    });
    assert!(more.verify(CHAIN).is_err());
    let mut sig = tx.clone();
    sig.signature.0[10] ^= 1;
    assert!(sig.verify(CHAIN).is_err());
    assert!(tx.verify(CHAIN).is_ok());
}

#[test]
fn batch_verification_gives_the_same_answer_as_one_by_one() {
    let a = actors();
    let mut txs = Vec::new();
    // 200 txs: the first chunk of 64 has bad signatures (wrong signer,
    // wrong chain, flipped bit), the next chunks none, and the last one bad
    // one near the end (chunks pass or fall back to single checks alone).
    for i in 0..200u64 {
        let bad = i < 64 || i == 190;
        let signer = if bad && i % 7 == 3 { &a.bob } else { &a.acme };
        let chain = if bad && i % 11 == 5 {
            "assent-other"
        } else {
            CHAIN
        };
        let mut t = TxBody {
            sender: a.acme.account(),
            nonce: i,
            payload: Payload::Transfer(Transfer {
                to: a.bob.account(),
                amount: Amount(1),
            }),
        }
        .sign(chain, signer);
        if bad && (i % 13 == 4 || i == 190) {
            t.signature.0[0] ^= 0x80;
        }
        txs.push(t);
    }
    let single: Vec<bool> = txs
        .iter()
        .map(|t| t.clone().verify(CHAIN).is_ok())
        .collect();
    let batch: Vec<bool> = verify_batch(CHAIN, txs.clone(), rand::rngs::OsRng)
        .iter()
        .map(|r| r.is_ok())
        .collect();
    assert_eq!(single, batch);
    assert!(single.iter().any(|ok| *ok) && single.iter().any(|ok| !*ok));
    let good: Vec<SignedTx> = txs
        .into_iter()
        .zip(&single)
        .filter(|(_, ok)| **ok)
        .map(|(t, _)| t)
        .collect();
    assert!(verify_batch(CHAIN, good, rand::rngs::OsRng)
        .iter()
        .all(|r| r.is_ok()));
}

#[test]
fn a_tx_larger_than_the_chain_allows_is_rejected() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let uses: Vec<Use> = (0..20_000)
        .map(|_| a_use(&a.alice, UseBasis::Consent(ConsentId::default()), 1))
        .collect();
    let o = c.run(&a.acme, record(uses));
    assert_eq!(rejection(&o).code, ErrorCode::TxTooLarge);
}
