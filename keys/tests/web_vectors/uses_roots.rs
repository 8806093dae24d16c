//! Uses-root vectors: use leaves, the Merkle root and the signed commitment of RecordUse batches.

use crate::*;

/// `n` distinct uses (both bases, every level, units up to u32::MAX).
fn some_uses(n: usize) -> Vec<Use> {
    let levels = [Level::Aggregate, Level::Pseudonymous, Level::Identified];
    (0..n)
        .map(|i| {
            let b = i as u8;
            Use {
                consumer: Keypair::from_seed(seed(0x40 + b)).account(),
                basis: if i % 2 == 0 {
                    UseBasis::Consent(ConsentId(h(0xc0 + b)))
                } else {
                    UseBasis::Policy(PolicyId(h(0x90 + b)))
                },
                category: cat(["Purchase", "Location", "Age"][i % 3]),
                purpose: purp(["DirectMarketing", "ServiceUsageAnalytics"][i % 2]),
                level: levels[i % 3],
                units: if i == 4 { u32::MAX } else { 1 + i as u32 },
                evidence_hash: Hash32::tagged("evidence", &[&[b]]),
            }
        })
        .collect()
}

/// What a RecordUse's id and signature cover (contracts/src/use_tree.rs,
/// decision 34): each use's tagged leaf, the Merkle root over them
/// (contracts/src/merkle.rs, RFC 6962 shape) and the `UsesCommitment`, for
/// batches whose trees have every shape up to 7 leaves.
pub fn uses_root_vectors() -> Vec<Value> {
    let sender = Keypair::from_seed(seed(0x22)).account();
    [1usize, 2, 3, 4, 5, 7]
        .into_iter()
        .map(|n| {
            let uses = some_uses(n);
            let nonce = 40 + n as u64;
            let leaves = use_tree::use_leaves(&uses);
            let c = UsesCommitment::of(sender, nonce, &uses);
            assert_eq!(c.count, n as u64);
            // The commitment is what a RecordUse of these uses is identified by.
            let body = TxBody {
                sender,
                nonce,
                payload: Payload::RecordUse(RecordUse { uses: uses.clone() }),
            };
            assert_eq!(body.id(), c.id());
            json!({
                "name": format!("{n}_uses"),
                "sender": sender.to_string(),
                "nonce": nonce,
                "uses": safe_numbers(serde_json::to_value(&uses).unwrap()),
                "use_encodings_hex": uses.iter().map(|u| hex::encode(codec::encode(u).unwrap())).collect::<Vec<_>>(),
                "use_leaves": leaves.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
                "uses_root": c.uses_root.to_string(),
                "commitment_hex": hex::encode(c.encode()),
                "tx_id": c.id().to_string(),
            })
        })
        .collect()
}
