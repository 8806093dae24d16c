//! Every use of every applied RecordUse gets a receipt that verifies
//! against a certificate of the block and proves exactly the model's
//! outcome of that use, naming no consumer but its own (and the referrer
//! it pays, if any) — decision 34.

use std::collections::BTreeSet;

use assent_contracts::block::BlockHeader;
use assent_contracts::receipt::{Item, Outcome, ReceiptBuilder, Subject, Trust};
use assent_contracts::*;
use proptest::prelude::*;

use super::common::certs::certify;
use super::common::*;
use super::model::*;

pub fn check(
    w: &World,
    chain: &TestChain,
    txs: &[SignedTx],
    out: &BlockOutput,
    expect: &[Option<Expect>],
) -> Result<(), TestCaseError> {
    let validators = initial_state(&w.a).validators;
    let header = BlockHeader {
        chain_id: CHAIN.into(),
        height: chain.height,
        time: chain.time,
        prev_hash: BlockHash(Hash32([0xbb; 32])),
        txs_root: out.txs_root,
        results_root: out.results_root,
        state_root: out.state_root,
        proposer: w.a.operators[0].account(),
    };
    let cert = certify(&w.a.operators[..3], &header);
    let genesis_hash = Hash32([0x6e; 32]);
    let trust = Trust {
        chain_id: CHAIN,
        genesis_hash,
        validators: &validators,
        history: None,
    };
    let builder = ReceiptBuilder::new(
        genesis_hash,
        header,
        cert,
        txs.to_vec(),
        out.results.clone(),
        &out.end_events,
    );
    for (i, tx) in txs.iter().enumerate() {
        let (Payload::RecordUse(r), Some(Expect::Uses(want))) = (&tx.body.payload, &expect[i])
        else {
            continue;
        };
        for (j, u) in r.uses.iter().enumerate() {
            let receipt = builder
                .receipt(Subject::Use { index: j as u32 }, i)
                .expect("a receipt of every use of an applied RecordUse");
            let p = receipt
                .verify(&trust)
                .map_err(|e| TestCaseError::fail(format!("use #{j} of tx #{i}: {e}")))?;
            prop_assert_eq!(
                &p.item,
                &Item::Use {
                    data: u.clone(),
                    count: r.uses.len() as u64
                }
            );
            let Outcome::Applied(events) = &p.outcome else {
                return Err(TestCaseError::fail("a use receipt proves the use's events"));
            };
            prop_assert_eq!(
                uses_outcome(events),
                Expect::Uses(vec![want[j]]),
                "use #{} of tx #{}",
                j,
                i
            );
            // Nobody else of the batch is in it.
            let mut allowed = BTreeSet::from([u.consumer]);
            for e in events {
                if let Event::ReferralPaid { referrer, .. } = e {
                    allowed.insert(*referrer);
                }
            }
            let json = serde_json::to_string(&receipt).unwrap();
            let mut bytes = json.clone().into_bytes();
            for field in [&receipt.tx, &receipt.result] {
                bytes.extend(hex::decode(field).unwrap());
            }
            let part = receipt.used.as_ref().unwrap();
            bytes.extend(hex::decode(&part.data).unwrap());
            bytes.extend(hex::decode(&part.outcome).unwrap());
            for c in &w.consumers {
                let id = c.account();
                if allowed.contains(&id) {
                    continue;
                }
                prop_assert!(
                    !bytes.windows(32).any(|win| win == id.0)
                        && !json.contains(&id.to_string())
                        && !json.contains(&hex::encode(id.0)),
                    "use #{} of tx #{}: the receipt names another consumer {}",
                    j,
                    i,
                    id
                );
            }
        }
    }
    Ok(())
}
