//! The receipt's JSON form, its errors, and how a node builds one from a
//! committed block.

use serde::{Deserialize, Serialize};

use crate::block::{self, BlockHeader};
use crate::codec;
use crate::commit::{CertError, CommitCertificate};
use crate::events::Event;
use crate::ids::{Hash32, Height, TxId};
use crate::merkle;
use crate::state::Validator;
use crate::tx::{Payload, SignedTx, TxOutcome, TxResult};
use crate::use_tree::{self, SignedUses, UsesCommitment, UsesResult};
use crate::validator_history::ValidatorHistory;

/// The `version` every receipt of this format carries (2: use receipts
/// prove one use, decision 34).
pub const RECEIPT_VERSION: &str = "assent-receipt/2";

/// What the receipt is about: a whole tx (a grant, revoke, pause, ...), or
/// one use inside a RecordUse tx.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Tx,
    Use { index: u32 },
}

/// A self-proving receipt, as JSON. Build with [`Receipt::build`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub version: String,
    pub chain_id: String,
    /// Hex of the genesis hash of the chain that issued it.
    pub genesis_hash: String,
    pub subject: Subject,
    /// Hex of the canonical signed tx; in a use receipt, of the RecordUse's
    /// [`SignedUses`] (its sender, nonce, number of uses, their root and
    /// the signature — none of the uses).
    pub tx: String,
    /// Position of the tx in its block, and the number of txs in the block.
    pub tx_index: u32,
    pub tx_count: u32,
    /// Audit path (hex hashes) from the tx's leaf to `txs_root`.
    pub tx_proof: Vec<String>,
    /// Hex of the canonical [`TxResult`] of the tx; in a use receipt, of
    /// the RecordUse's [`UsesResult`] (tx id, number of uses, root of their
    /// outcomes).
    pub result: String,
    /// Audit path from the result's leaf to `results_root` (tree of
    /// `tx_count + 1` leaves: the results, then the end-of-block events).
    pub result_proof: Vec<String>,
    /// Hex of the canonical block header.
    pub header: String,
    /// Hex of the canonical commit certificate of that block.
    pub certificate: String,
    /// The use a use receipt is about; absent from a tx receipt.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub used: Option<UsePart>,
}

/// One use and its outcome, each with its path inside its RecordUse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsePart {
    /// Hex of the canonical use (consumer, basis, terms, units, evidence hash).
    pub data: String,
    /// Audit path from the use's leaf to the signed `uses_root`.
    pub path: Vec<String>,
    /// Hex of the canonical events of the use's outcome (`UseSettled`, and
    /// `ReferralPaid` if the consumer's referrer was paid, or `UseRejected`).
    pub outcome: String,
    /// Audit path from the outcome's leaf to the result's `outcomes_root`.
    pub outcome_path: Vec<String>,
}

/// The chain a receipt is checked against (from its genesis).
#[derive(Clone, Debug)]
pub struct Trust<'a> {
    pub chain_id: &'a str,
    pub genesis_hash: Hash32,
    /// The genesis validator set.
    pub validators: &'a [Validator],
    /// The sets after later changes, if the chain changed its set (checked
    /// from the genesis: [`ValidatorHistory::follow`]).
    pub history: Option<&'a ValidatorHistory>,
}

impl Trust<'_> {
    /// The validator set that certifies block `h`.
    pub fn validators_for(&self, h: Height) -> &[Validator] {
        match self.history {
            Some(history) => history.certifying(h),
            None => self.validators,
        }
    }
}

/// Why a receipt was refused. Each says which check failed ([`Self::check`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("not an assent receipt: version is {0:?}, expected {RECEIPT_VERSION:?}")]
    Version(String),
    #[error(
        "the receipt is from another chain: chain {receipt_chain:?} (genesis {receipt_genesis}), \
         but the genesis given is chain {chain:?} (genesis {genesis}); check it against that chain's genesis file"
    )]
    OtherChain {
        receipt_chain: String,
        receipt_genesis: String,
        chain: String,
        genesis: String,
    },
    #[error("field {field} is not valid hex of the right length: {why}")]
    Hex { field: String, why: String },
    #[error("field {field} does not decode: {why}")]
    Decode { field: &'static str, why: String },
    #[error("the block header is for chain {0:?}, not this chain")]
    HeaderChain(String),
    #[error("the commit certificate does not commit this header: {0}")]
    Certificate(CertError),
    #[error("the tx signature does not verify for this chain: {0}")]
    TxSignature(String),
    #[error("tx_index {index} is outside a block of {count} txs")]
    Index { index: u32, count: u32 },
    #[error(
        "the tx is not in the block: its Merkle path (tx_proof) does not lead to the header's txs_root"
    )]
    TxNotInBlock,
    #[error("the result is for tx {result}, not for this tx {tx}")]
    ResultOfOtherTx { result: TxId, tx: TxId },
    #[error(
        "the result is not the block's: its Merkle path (result_proof) does not lead to the header's results_root"
    )]
    ResultNotInBlock,
    #[error("the receipt is about use #{index}, but {why}")]
    NoSuchUse { index: u32, why: String },
    #[error(
        "the use is not the tx's: its Merkle path (use.path) does not lead to the uses_root the enterprise signed"
    )]
    UseNotInTx,
    #[error(
        "the use's outcome is not the tx's: its Merkle path (use.outcome_path) does not lead to the result's outcomes_root"
    )]
    OutcomeNotInResult,
    #[error("the outcome is not that of use #{index} of this tx: {why}")]
    OutcomeOfOtherUse { index: u32, why: String },
}

impl ReceiptError {
    /// A stable name of the check that failed, for programs.
    pub fn check(&self) -> &'static str {
        match self {
            ReceiptError::Version(_) => "version",
            ReceiptError::OtherChain { .. } | ReceiptError::HeaderChain(_) => "chain",
            ReceiptError::Hex { .. } | ReceiptError::Decode { .. } => "encoding",
            ReceiptError::Certificate(_) => "certificate",
            ReceiptError::TxSignature(_) => "tx_signature",
            ReceiptError::Index { .. } | ReceiptError::TxNotInBlock => "tx_in_block",
            ReceiptError::ResultOfOtherTx { .. } | ReceiptError::ResultNotInBlock => {
                "result_in_block"
            }
            ReceiptError::NoSuchUse { .. } => "use_index",
            ReceiptError::UseNotInTx => "use_in_tx",
            ReceiptError::OutcomeNotInResult => "outcome_in_result",
            ReceiptError::OutcomeOfOtherUse { .. } => "outcome_of_use",
        }
    }
}

impl From<CertError> for ReceiptError {
    fn from(e: CertError) -> Self {
        ReceiptError::Certificate(e)
    }
}

pub(super) fn hex_of(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn hexes(p: &[Hash32]) -> Vec<String> {
    p.iter().map(|h| hex_of(&h.0)).collect()
}

impl Receipt {
    /// Builds one receipt from a committed block's parts; see
    /// [`ReceiptBuilder`] for several from one block.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        genesis_hash: Hash32,
        subject: Subject,
        header: &BlockHeader,
        certificate: &CommitCertificate,
        txs: &[SignedTx],
        results: &[TxResult],
        end_events: &[Event],
        index: usize,
    ) -> Option<Receipt> {
        let (tx_leaves, result_leaves) = block::leaves(txs, results, end_events);
        let parts = Parts {
            genesis_hash,
            header,
            certificate,
            txs,
            results,
            tx_leaves: &tx_leaves,
            result_leaves: &result_leaves,
        };
        parts.receipt(subject, index)
    }
}

/// Builds receipts of one committed block — its header, certificate, txs
/// and results, as stored — hashing the block's leaves once however many
/// receipts are taken (an export takes one per use).
#[derive(Debug, Clone)]
pub struct ReceiptBuilder {
    genesis_hash: Hash32,
    header: BlockHeader,
    certificate: CommitCertificate,
    txs: Vec<SignedTx>,
    results: Vec<TxResult>,
    tx_leaves: Vec<Hash32>,
    result_leaves: Vec<Hash32>,
}

impl ReceiptBuilder {
    pub fn new(
        genesis_hash: Hash32,
        header: BlockHeader,
        certificate: CommitCertificate,
        txs: Vec<SignedTx>,
        results: Vec<TxResult>,
        end_events: &[Event],
    ) -> ReceiptBuilder {
        let (tx_leaves, result_leaves) = block::leaves(&txs, &results, end_events);
        ReceiptBuilder {
            genesis_hash,
            header,
            certificate,
            txs,
            results,
            tx_leaves,
            result_leaves,
        }
    }

    /// The block's header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The receipt of the tx at `index`, or of one of its uses. `None` if
    /// there is no such tx, or the subject is a use and the tx is not an
    /// applied RecordUse with that use.
    pub fn receipt(&self, subject: Subject, index: usize) -> Option<Receipt> {
        Parts {
            genesis_hash: self.genesis_hash,
            header: &self.header,
            certificate: &self.certificate,
            txs: &self.txs,
            results: &self.results,
            tx_leaves: &self.tx_leaves,
            result_leaves: &self.result_leaves,
        }
        .receipt(subject, index)
    }
}

/// A block's parts and leaves, borrowed.
struct Parts<'a> {
    genesis_hash: Hash32,
    header: &'a BlockHeader,
    certificate: &'a CommitCertificate,
    txs: &'a [SignedTx],
    results: &'a [TxResult],
    tx_leaves: &'a [Hash32],
    result_leaves: &'a [Hash32],
}

impl Parts<'_> {
    fn receipt(&self, subject: Subject, index: usize) -> Option<Receipt> {
        let tx = self.txs.get(index)?;
        let result = self.results.get(index)?;
        let tx_proof = merkle::proof(self.tx_leaves, index)?;
        let result_proof = merkle::proof(self.result_leaves, index)?;
        let (tx_hex, result_hex, used) = match subject {
            Subject::Tx => (
                hex_of(&tx.encode()),
                hex_of(&codec::encode_infallible(result)),
                None,
            ),
            Subject::Use { index: u } => {
                let (signed, uses_result, part) = use_part(tx, result, u as usize)?;
                (
                    hex_of(&codec::encode_infallible(&signed)),
                    hex_of(&codec::encode_infallible(&uses_result)),
                    Some(part),
                )
            }
        };
        Some(Receipt {
            version: RECEIPT_VERSION.to_string(),
            chain_id: self.header.chain_id.clone(),
            genesis_hash: hex_of(&self.genesis_hash.0),
            subject,
            tx: tx_hex,
            tx_index: u32::try_from(index).ok()?,
            tx_count: u32::try_from(self.txs.len()).ok()?,
            tx_proof: hexes(&tx_proof),
            result: result_hex,
            result_proof: hexes(&result_proof),
            header: hex_of(&codec::encode_infallible(self.header)),
            certificate: hex_of(&codec::encode_infallible(self.certificate)),
            used,
        })
    }
}

/// What a use receipt carries of use `u` of the RecordUse `tx`.
fn use_part(
    tx: &SignedTx,
    result: &TxResult,
    u: usize,
) -> Option<(SignedUses, UsesResult, UsePart)> {
    let (Payload::RecordUse(r), TxOutcome::Applied { events }) =
        (&tx.body.payload, &result.outcome)
    else {
        return None;
    };
    let use_leaves = use_tree::use_leaves(&r.uses);
    let split = use_tree::outcomes_by_use(use_leaves.len(), events)?;
    let outcome_leaves = use_tree::outcome_leaves(&use_leaves, events)?;
    let commitment = UsesCommitment::from_leaves(tx.body.sender, tx.body.nonce, &use_leaves);
    let part = UsePart {
        data: hex_of(&codec::encode_infallible(r.uses.get(u)?)),
        path: hexes(&merkle::proof(&use_leaves, u)?),
        outcome: hex_of(&codec::encode_infallible(split.get(u)?)),
        outcome_path: hexes(&merkle::proof(&outcome_leaves, u)?),
    };
    let uses_result = UsesResult {
        tx_id: result.tx_id,
        count: commitment.count,
        outcomes_root: merkle::root(&outcome_leaves),
    };
    let signed = SignedUses {
        commitment,
        signature: tx.signature,
    };
    Some((signed, uses_result, part))
}
