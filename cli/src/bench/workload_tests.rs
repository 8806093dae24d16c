//! Tests of the workload: the mix, the fresh keys per run, nonces in sequence.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::*;
use assent_contracts::SignedTx;
use std::collections::{BTreeMap, BTreeSet};

fn workload() -> Workload {
    let ents = (0..3)
        .map(|i| (derive_key(7, "enterprise", i), 5))
        .collect();
    Workload::new("bench-chain", 4, 42, 500, ents)
}

#[test]
fn mixes_parse_and_refuse_garbage_with_a_reason() {
    let m: Mix = Mix::DEFAULT.parse().unwrap();
    assert_eq!(m.weight(Kind::Grant), 30);
    assert_eq!(m.to_string(), Mix::DEFAULT);
    assert!("use=1".parse::<Mix>().is_ok());
    assert!("grant".parse::<Mix>().unwrap_err().contains("KIND=WEIGHT"));
    assert!("mint=3"
        .parse::<Mix>()
        .unwrap_err()
        .contains("unknown kind"));
    assert!("use=x".parse::<Mix>().unwrap_err().contains("whole number"));
    assert!("use=0".parse::<Mix>().unwrap_err().contains("above 0"));
}

#[test]
fn every_planned_tx_is_signed_and_each_sender_counts_nonces_up_on_one_node() {
    let mut w = workload();
    let mut all = w.setup(100);
    assert_eq!(all.len(), 200);
    all.extend(w.plan(3000, Mix::DEFAULT.parse().unwrap(), 8, 50));
    let mut next: BTreeMap<AccountId, (u64, usize)> = BTreeMap::new();
    let mut kinds = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for p in &all {
        let tx = SignedTx::decode(&p.bytes, 1 << 20).unwrap();
        assert_eq!(tx.id().to_string(), p.id);
        assert!(ids.insert(p.id.clone()), "duplicate tx");
        let tx = tx.verify("bench-chain").expect("signed for the chain");
        let sender = tx.sender();
        let (nonce, node) = next.entry(sender).or_insert((
            if w.enterprises.iter().any(|e| e.account() == sender) {
                5
            } else {
                0
            },
            p.node,
        ));
        assert_eq!(tx.tx().body.nonce, *nonce, "nonces run in sequence");
        assert_eq!(p.node, *node, "one node per sender");
        *nonce += 1;
        kinds.insert(p.kind);
    }
    assert_eq!(kinds.len(), 5, "every kind appears: {kinds:?}");
}

#[test]
fn uses_only_name_consents_granted_at_least_lag_positions_earlier() {
    let mut w = workload();
    let lag = 100;
    let plan = w.plan(4000, "register=20,grant=40,use=40".parse().unwrap(), 4, lag);
    let mut granted_at: BTreeMap<String, usize> = BTreeMap::new();
    let mut uses = 0;
    for (pos, p) in plan.iter().enumerate() {
        let tx = SignedTx::decode(&p.bytes, 1 << 20).unwrap();
        match &tx.body.payload {
            Payload::GrantConsent(_) => {
                granted_at.insert(p.id.clone(), pos);
            }
            Payload::RecordUse(r) => {
                for u in &r.uses {
                    let UseBasis::Consent(c) = u.basis else {
                        panic!()
                    };
                    let at = granted_at[&c.to_string()];
                    assert!(pos >= at + lag, "use at {pos} of a consent granted at {at}");
                    uses += 1;
                }
            }
            _ => {}
        }
    }
    assert!(uses > 1000, "{uses}");
}
