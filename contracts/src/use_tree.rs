//! A RecordUse's uses as Merkle trees, so that one use can be proven alone
//! (decision 34).
//!
//! - The enterprise signs, instead of its list of uses, their number and the
//!   root of a tree over them: [`UsesCommitment`] (sender, nonce, count,
//!   `uses_root`), under its own signature tag. The tx id is the tagged hash
//!   of the same commitment. The uses still travel in the tx; the root is
//!   always recomputed from them, never read from the wire.
//! - Once the tx applied, each use's outcome (its `UseSettled`, with the
//!   `ReferralPaid` that follows it, or its `UseRejected`) is a leaf of a
//!   second tree, bound to its use's leaf; the tx's leaf in the block's
//!   `results_root` is [`UsesResult`] (tx id, count, `outcomes_root`).
//!
//! So a use receipt carries the commitment and signature, one use, one
//! outcome and their paths: nothing of any other use but sibling hashes.
//! Those hide the other uses as well as the enterprise's evidence hashes
//! (part of each leaf on both trees) are unguessable.

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::crypto::{self, Keypair, Signature, SignatureError, USES_SIGNATURE_TAG};
use crate::events::Event;
use crate::ids::{AccountId, Hash32, TxId};
use crate::merkle;
use crate::tx::Use;

/// Tag of a use's leaf in its RecordUse's uses tree.
pub const USE_LEAF_TAG: &str = "assent/use-leaf/v1";
/// Tag of a use's outcome's leaf in its RecordUse's outcomes tree.
pub const OUTCOME_LEAF_TAG: &str = "assent/use-outcome-leaf/v1";
/// Tag of an applied RecordUse's leaf in the block's results tree.
pub const USES_RESULT_LEAF_TAG: &str = "assent/uses-result-leaf/v1";
/// Tag of a RecordUse's tx id (other txs' ids are tagged `assent/txid/v1`).
pub const USES_TXID_TAG: &str = "assent/txid-uses/v1";

/// The leaf of one use: its canonical bytes under [`USE_LEAF_TAG`].
pub fn use_leaf(u: &Use) -> Hash32 {
    merkle::tagged_leaf(USE_LEAF_TAG, &[&codec::encode_infallible(u)])
}

pub fn use_leaves(uses: &[Use]) -> Vec<Hash32> {
    uses.iter().map(use_leaf).collect()
}

/// What a RecordUse's id and signature cover in place of its uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct UsesCommitment {
    /// The signing key (the envelope's sender).
    pub sender: AccountId,
    pub nonce: u64,
    /// How many uses the tx records.
    pub count: u64,
    /// Merkle root over the uses' leaves, in tx order.
    pub uses_root: Hash32,
}

impl UsesCommitment {
    /// The commitment of a RecordUse's body.
    pub fn of(sender: AccountId, nonce: u64, uses: &[Use]) -> UsesCommitment {
        UsesCommitment::from_leaves(sender, nonce, &use_leaves(uses))
    }

    /// The commitment to uses whose leaves are `leaves`.
    pub fn from_leaves(sender: AccountId, nonce: u64, leaves: &[Hash32]) -> UsesCommitment {
        UsesCommitment {
            sender,
            nonce,
            count: leaves.len() as u64,
            uses_root: merkle::root(leaves),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode_infallible(self)
    }

    /// The tx id of the RecordUse it commits to.
    pub fn id(&self) -> TxId {
        TxId(Hash32::tagged(USES_TXID_TAG, &[&self.encode()]))
    }

    pub fn sign(&self, chain_id: &str, key: &Keypair) -> Signature {
        key.sign(USES_SIGNATURE_TAG, chain_id.as_bytes(), &self.encode())
    }

    /// Checks the sender's signature for `chain_id`.
    pub fn verify(&self, chain_id: &str, sig: &Signature) -> Result<(), SignatureError> {
        crypto::verify(
            &self.sender,
            USES_SIGNATURE_TAG,
            chain_id.as_bytes(),
            &self.encode(),
            sig,
        )
    }
}

/// A RecordUse as a use receipt carries it: the commitment and its
/// signature, none of the uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SignedUses {
    pub commitment: UsesCommitment,
    pub signature: Signature,
}

/// An applied RecordUse's leaf content in the block's results tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct UsesResult {
    pub tx_id: TxId,
    /// How many uses (leaves of the outcomes tree).
    pub count: u64,
    /// Merkle root over the uses' outcome leaves, in use order.
    pub outcomes_root: Hash32,
}

impl UsesResult {
    pub fn leaf(&self) -> Hash32 {
        merkle::tagged_leaf(USES_RESULT_LEAF_TAG, &[&codec::encode_infallible(self)])
    }
}

/// The leaf of one use's outcome: the use's own leaf and the canonical
/// bytes of its events (`Vec<Event>`).
pub fn outcome_leaf(use_leaf: &Hash32, events_bytes: &[u8]) -> Hash32 {
    merkle::tagged_leaf(OUTCOME_LEAF_TAG, &[&use_leaf.0, events_bytes])
}

/// The use an event of a RecordUse belongs to.
pub fn use_index(e: &Event) -> Option<u32> {
    match e {
        Event::UseSettled { index, .. }
        | Event::UseRejected { index, .. }
        | Event::ReferralPaid { index, .. } => Some(*index),
        _ => None,
    }
}

/// An applied RecordUse's events split by use, in use order — `None` unless
/// every event belongs to one of its `count` uses and they come in use
/// order (what the handler emits), so the split loses nothing.
pub fn outcomes_by_use(count: usize, events: &[Event]) -> Option<Vec<Vec<Event>>> {
    Some(
        outcome_ranges(count, events)?
            .into_iter()
            .map(|r| events[r].to_vec())
            .collect(),
    )
}

/// [`outcomes_by_use`] as where each use's events are in `events` (they
/// come in use order, so each use's are one run), without copying them.
fn outcome_ranges(count: usize, events: &[Event]) -> Option<Vec<std::ops::Range<usize>>> {
    let mut out = vec![0..0; count];
    let mut last = 0usize;
    for (at, e) in events.iter().enumerate() {
        let i = use_index(e)? as usize;
        if i >= count || i < last {
            return None;
        }
        if out[i].is_empty() {
            out[i] = at..at;
        }
        out[i].end = at + 1;
        last = i;
    }
    Some(out)
}

/// The outcome leaves of a RecordUse whose uses have leaves `use_leaves`,
/// or `None` if its events do not split by use.
pub fn outcome_leaves(use_leaves: &[Hash32], events: &[Event]) -> Option<Vec<Hash32>> {
    // A slice encodes as the `Vec<Event>` it would be: the same bytes.
    let ranges = outcome_ranges(use_leaves.len(), events)?;
    Some(
        use_leaves
            .iter()
            .zip(ranges)
            .map(|(l, r)| outcome_leaf(l, &codec::encode_infallible(&events[r])))
            .collect(),
    )
}
