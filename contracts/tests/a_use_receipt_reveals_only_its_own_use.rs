//! A consumer's receipt of one use in a 2,000-use RecordUse proves that use
//! — its terms, what it paid or why it was refused — against the certified
//! block, and carries no other consumer of the batch: not their account,
//! not their use (decision 34). A flipped byte in its paths fails with the
//! check it breaks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use assent_contracts::crypto::Keypair;
use assent_contracts::receipt::{Item, Receipt, ReceiptError, Subject};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::certs::*;
use common::*;

const BATCH: usize = 2_000;
/// The uses whose consumers registered and granted: they settle; every
/// other consumer never registered, so theirs are rejected.
const GRANTED: [usize; 3] = [0, 1_234, BATCH - 1];

struct Batch {
    chain: CertChain,
    at: (usize, usize),
    consumers: Vec<Keypair>,
}

fn consumer(i: usize) -> Keypair {
    let mut seed = [0xa5; 32];
    seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Keypair::from_seed(seed)
}

fn batch() -> Batch {
    let a = actors();
    let mut chain = CertChain::new(&a, 2..6, "main");
    let consumers: Vec<Keypair> = (0..BATCH).map(consumer).collect();
    let regs = GRANTED
        .iter()
        .map(|&i| chain.c.sign(&consumers[i], register()))
        .collect();
    chain.commit(regs);
    let grants = GRANTED
        .iter()
        .map(|&i| {
            chain
                .c
                .sign(&consumers[i], Payload::GrantConsent(grant(&a.acme, 3)))
        })
        .collect();
    let b = chain.commit(grants);
    let consent_of = |i: usize| {
        let k = GRANTED.iter().position(|&g| g == i).unwrap();
        granted(&chain.blocks[b].out.results[k].outcome)
    };
    let uses: Vec<Use> = (0..BATCH)
        .map(|i| {
            let basis = if GRANTED.contains(&i) {
                UseBasis::Consent(consent_of(i))
            } else {
                UseBasis::Consent(ConsentId(Hash32([7; 32])))
            };
            Use {
                evidence_hash: Hash32::tagged("evidence", &[&(i as u64).to_le_bytes()]),
                ..a_use(&consumers[i], basis, 1)
            }
        })
        .collect();
    let at = chain.run(&a.acme, record(uses), &[&a.bank, &a.bob]);
    Batch {
        chain,
        at,
        consumers,
    }
}

/// The receipt's JSON and every hex field decoded: where an account would
/// appear, as text or as bytes.
fn everything_in(r: &Receipt) -> Vec<u8> {
    let json = serde_json::to_string(r).unwrap();
    let mut all = json.clone().into_bytes();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    fn walk(v: &serde_json::Value, out: &mut Vec<u8>) {
        match v {
            serde_json::Value::String(s) => {
                if let Ok(b) = hex::decode(s) {
                    out.extend(b);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(&v, &mut all);
    all
}

/// Which of the batch's consumers appear in `r`, as bech32 text, hex text
/// or raw bytes.
fn consumers_named(b: &Batch, r: &Receipt) -> Vec<usize> {
    let all = everything_in(r);
    let text_len = b.consumers[0].account().to_string().len();
    let windows = |n: usize| -> HashSet<&[u8]> { all.windows(n).collect() };
    let (raw, hex64, text) = (windows(32), windows(64), windows(text_len));
    b.consumers
        .iter()
        .enumerate()
        .filter(|(_, k)| {
            let id = k.account();
            raw.contains(&id.0[..])
                || text.contains(id.to_string().as_bytes())
                || hex64.contains(hex::encode(id.0).as_bytes())
        })
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn a_use_receipt_from_a_2000_use_batch_names_only_its_consumer_and_verifies() {
    let b = batch();
    let trust = b.chain.trust();
    let results = &b.chain.blocks[b.at.0].out.results;
    assert_eq!(use_outcomes(&results[b.at.1].outcome).len(), BATCH);

    // The whole tx (the enterprise's receipt) names the whole batch; the
    // search below finds an account wherever it is.
    let whole = b.chain.receipt(b.at, Subject::Tx);
    whole.verify(&trust).unwrap();
    assert_eq!(consumers_named(&b, &whole).len(), BATCH);

    for (i, settled) in [
        (0, true),
        (1_234, true),
        (BATCH - 1, true),
        (1, false),
        (999, false),
    ] {
        let r = b.chain.receipt(b.at, Subject::Use { index: i as u32 });
        // Through JSON, as a consumer would hold it.
        let r: Receipt = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(consumers_named(&b, &r), vec![i], "use #{i}");
        let size = serde_json::to_string(&r).unwrap().len();
        assert!(size < 8 * 1024, "use #{i}: a {size}-byte receipt");

        let p = r.verify(&trust).unwrap();
        let Item::Use { data, count } = &p.item else {
            panic!("a use receipt proves a use");
        };
        assert_eq!(
            (data.consumer, *count),
            (b.consumers[i].account(), BATCH as u64)
        );
        assert_eq!(
            data.evidence_hash,
            Hash32::tagged("evidence", &[&(i as u64).to_le_bytes()])
        );
        let text = p.describe(&|_| None);
        let who = b.consumers[i].account();
        if settled {
            assert!(
                text.contains(&format!(
                    "used {who}'s Purchase data for DirectMarketing (1 unit(s)), settled: paid 3 points"
                )),
                "{text}"
            );
        } else {
            assert!(
                text.contains(&format!(
                    "a use of {who}'s data that was REJECTED (not_consumer:"
                )),
                "{text}"
            );
        }
    }
}

#[test]
fn a_flipped_byte_in_a_use_receipt_fails_with_the_check_it_breaks() {
    let b = batch();
    let trust = b.chain.trust();
    let good = b.chain.receipt(b.at, Subject::Use { index: 1_234 });
    let part = good.used.clone().unwrap();
    // 2,000 leaves: eleven levels.
    assert_eq!((part.path.len(), part.outcome_path.len()), (11, 11));
    let flip = |h: &str, i: usize| {
        let mut v = hex::decode(h).unwrap();
        v[i] ^= 0x80;
        hex::encode(v)
    };
    let fails = |r: Receipt, check: &str| {
        let e = r.verify(&trust).unwrap_err();
        assert_eq!(e.check(), check, "{e}");
        e
    };
    for level in [0, 5, 10] {
        let mut r = good.clone();
        r.used.as_mut().unwrap().path[level] = flip(&part.path[level], 7);
        let e = fails(r, "use_in_tx");
        assert_eq!(e, ReceiptError::UseNotInTx);
        assert!(e.to_string().contains("use.path"), "{e}");

        let mut r = good.clone();
        r.used.as_mut().unwrap().outcome_path[level] = flip(&part.outcome_path[level], 31);
        assert_eq!(
            fails(r, "outcome_in_result"),
            ReceiptError::OutcomeNotInResult
        );
    }
    // The use itself: another consumer, more units, another evidence hash.
    let data_len = part.data.len() / 2;
    for i in [0, 31, data_len - 1] {
        let mut r = good.clone();
        r.used.as_mut().unwrap().data = flip(&part.data, i);
        fails(r, "use_in_tx");
    }
    // The signature over the uses' root, the root itself, the result's root.
    let tx_len = good.tx.len() / 2;
    let mut r = good.clone();
    r.tx = flip(&good.tx, tx_len - 1);
    fails(r, "tx_signature");
    let mut r = good.clone();
    r.tx = flip(&good.tx, 45);
    fails(r, "tx_signature");
    let result_len = good.result.len() / 2;
    let mut r = good.clone();
    r.result = flip(&good.result, result_len - 1);
    assert_eq!(fails(r, "result_in_block"), ReceiptError::ResultNotInBlock);
    let mut r = good.clone();
    r.tx_proof[0] = flip(&good.tx_proof[0], 0);
    assert_eq!(fails(r, "tx_in_block"), ReceiptError::TxNotInBlock);
    // Another chain's genesis refuses it before anything else.
    let a = actors();
    let other = CertChain::new(&a, 30..34, "other");
    assert_eq!(good.verify(&other.trust()).unwrap_err().check(), "chain");
    good.verify(&trust).unwrap();
}
