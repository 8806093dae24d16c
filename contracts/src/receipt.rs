//! Self-proving receipts: a signed transaction, the header of the block that
//! includes it, Merkle paths from the tx to the header's `txs_root` and from
//! the tx's result to its `results_root`, and the block's commit certificate.
//!
//! Anyone holding the chain's genesis (its id, hash and validator set) can
//! check a receipt offline, trusting no node: the certificate shows that more
//! than 2/3 of the validators committed the header, the paths show the tx and
//! its outcome are part of that header, and the tx signature shows who asked
//! for it. [`Receipt::verify`] does every check and says which one failed.
//!
//! The receipt's byte fields are the canonical encodings, as hex, so a single
//! changed byte anywhere makes a check fail.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::codec;
use crate::commit::{CertError, CommitCertificate, CommitCheck};
use crate::events::Event;
use crate::ids::{AccountId, BlockHash, Hash32, Height, Timestamp, TxId};
use crate::merkle;
use crate::state::Validator;
use crate::tx::{Payload, SignedTx, TxOutcome, TxResult};
use crate::validator_history::ValidatorHistory;

/// The `version` every receipt of this format carries.
pub const RECEIPT_VERSION: &str = "assent-receipt/1";

/// Largest tx a receipt may carry (the chain's own limit is lower).
const MAX_TX_BYTES: usize = 8 * 1024 * 1024;

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
    /// Hex of the canonical signed tx.
    pub tx: String,
    /// Position of the tx in its block, and the number of txs in the block.
    pub tx_index: u32,
    pub tx_count: u32,
    /// Audit path (hex hashes) from the tx's leaf to `txs_root`.
    pub tx_proof: Vec<String>,
    /// Hex of the canonical [`TxResult`] of the tx.
    pub result: String,
    /// Audit path from the result's leaf to `results_root` (tree of
    /// `tx_count + 1` leaves: the results, then the end-of-block events).
    pub result_proof: Vec<String>,
    /// Hex of the canonical block header.
    pub header: String,
    /// Hex of the canonical commit certificate of that block.
    pub certificate: String,
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

/// Why a receipt was refused. Each says which part failed.
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
    #[error("the tx is not in the block: its Merkle path does not lead to the header's txs_root")]
    TxNotInBlock,
    #[error("the result is for tx {result}, not for this tx {tx}")]
    ResultOfOtherTx { result: TxId, tx: TxId },
    #[error(
        "the result is not the block's: its Merkle path does not lead to the header's results_root"
    )]
    ResultNotInBlock,
    #[error("the receipt is about use #{index}, but {why}")]
    NoSuchUse { index: u32, why: String },
}

impl From<CertError> for ReceiptError {
    fn from(e: CertError) -> Self {
        ReceiptError::Certificate(e)
    }
}

/// What the tx did, as its result's events show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied(Vec<Event>),
    Rejected { code: String, reason: String },
}

/// Everything a valid receipt proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    pub chain_id: String,
    pub height: Height,
    pub time: Timestamp,
    pub block_hash: BlockHash,
    pub tx_id: TxId,
    /// Position of the tx in its block.
    pub tx_index: u32,
    pub tx: SignedTx,
    pub subject: Subject,
    pub outcome: Outcome,
    pub commit: CommitCheck,
}

fn hex_of(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn bytes_of(field: &str, text: &str) -> Result<Vec<u8>, ReceiptError> {
    hex::decode(text).map_err(|e| ReceiptError::Hex {
        field: field.to_string(),
        why: e.to_string(),
    })
}

fn hash_of(field: String, text: &str) -> Result<Hash32, ReceiptError> {
    let b = bytes_of(&field, text)?;
    let arr: [u8; 32] = b.try_into().map_err(|b: Vec<u8>| ReceiptError::Hex {
        field,
        why: format!("{} bytes, a hash is 32", b.len()),
    })?;
    Ok(Hash32(arr))
}

fn decode<T: serde::de::DeserializeOwned + Serialize>(
    field: &'static str,
    text: &str,
) -> Result<(T, Vec<u8>), ReceiptError> {
    let bytes = bytes_of(field, text)?;
    let v = codec::decode(&bytes).map_err(|e| ReceiptError::Decode {
        field,
        why: e.to_string(),
    })?;
    Ok((v, bytes))
}

impl Receipt {
    /// Builds a receipt from a committed block's parts. `txs` are the block's
    /// canonical signed-tx bytes and `results`/`end_events` its results, as stored.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        genesis_hash: Hash32,
        subject: Subject,
        header: &BlockHeader,
        certificate: &CommitCertificate,
        txs: &[Vec<u8>],
        results: &[TxResult],
        end_events: &[Event],
        index: usize,
    ) -> Option<Receipt> {
        let tx_leaves = crate::block::tx_leaves(txs.iter().map(|t| t.as_slice()));
        let result_leaves = crate::block::result_leaves(results, end_events);
        let tx_proof = merkle::proof(&tx_leaves, index)?;
        let result_proof = merkle::proof(&result_leaves, index)?;
        let hexes = |p: Vec<Hash32>| p.iter().map(|h| hex_of(&h.0)).collect();
        Some(Receipt {
            version: RECEIPT_VERSION.to_string(),
            chain_id: header.chain_id.clone(),
            genesis_hash: hex_of(&genesis_hash.0),
            subject,
            tx: hex_of(txs.get(index)?),
            tx_index: u32::try_from(index).ok()?,
            tx_count: u32::try_from(txs.len()).ok()?,
            tx_proof: hexes(tx_proof),
            result: hex_of(&codec::encode_infallible(results.get(index)?)),
            result_proof: hexes(result_proof),
            header: hex_of(&codec::encode_infallible(header)),
            certificate: hex_of(&codec::encode_infallible(certificate)),
        })
    }

    /// Checks everything, in order: format, chain, header, certificate, tx
    /// signature, tx inclusion, result inclusion, subject.
    pub fn verify(&self, trust: &Trust<'_>) -> Result<Proven, ReceiptError> {
        if self.version != RECEIPT_VERSION {
            return Err(ReceiptError::Version(self.version.clone()));
        }
        let receipt_genesis = hash_of("genesis_hash".into(), &self.genesis_hash)?;
        if self.chain_id != trust.chain_id || receipt_genesis != trust.genesis_hash {
            return Err(ReceiptError::OtherChain {
                receipt_chain: self.chain_id.clone(),
                receipt_genesis: self.genesis_hash.clone(),
                chain: trust.chain_id.to_string(),
                genesis: trust.genesis_hash.to_string(),
            });
        }
        let (header, _) = decode::<BlockHeader>("header", &self.header)?;
        if header.chain_id != trust.chain_id {
            return Err(ReceiptError::HeaderChain(header.chain_id));
        }
        let (cert, _) = decode::<CommitCertificate>("certificate", &self.certificate)?;
        let commit =
            cert.verify_for(trust.chain_id, &header, trust.validators_for(header.height))?;

        let tx_bytes = bytes_of("tx", &self.tx)?;
        let tx = SignedTx::decode(&tx_bytes, MAX_TX_BYTES).map_err(|e| ReceiptError::Decode {
            field: "tx",
            why: e.to_string(),
        })?;
        let tx_id = tx.id();
        let tx = tx
            .verify(trust.chain_id)
            .map_err(|e| ReceiptError::TxSignature(e.to_string()))?
            .into_signed();
        if self.tx_index >= self.tx_count {
            return Err(ReceiptError::Index {
                index: self.tx_index,
                count: self.tx_count,
            });
        }
        let path = self.path("tx_proof", &self.tx_proof)?;
        let root = merkle::root_from_proof(
            merkle::leaf_hash(&tx_bytes),
            self.tx_index as usize,
            self.tx_count as usize,
            &path,
        );
        if root != Some(header.txs_root) {
            return Err(ReceiptError::TxNotInBlock);
        }

        let (result, result_bytes) = decode::<TxResult>("result", &self.result)?;
        if result.tx_id != tx_id {
            return Err(ReceiptError::ResultOfOtherTx {
                result: result.tx_id,
                tx: tx_id,
            });
        }
        let path = self.path("result_proof", &self.result_proof)?;
        let root = merkle::root_from_proof(
            merkle::leaf_hash(&result_bytes),
            self.tx_index as usize,
            self.tx_count as usize + 1,
            &path,
        );
        if root != Some(header.results_root) {
            return Err(ReceiptError::ResultNotInBlock);
        }
        let outcome = match result.outcome {
            TxOutcome::Applied { events } => Outcome::Applied(events),
            TxOutcome::Rejected(e) => Outcome::Rejected {
                code: e.code.as_str().to_string(),
                reason: e.reason,
            },
        };
        if let Subject::Use { index } = self.subject {
            let Payload::RecordUse(r) = &tx.body.payload else {
                return Err(ReceiptError::NoSuchUse {
                    index,
                    why: format!("the tx is a {}, not a RecordUse", tx.body.payload.kind()),
                });
            };
            if index as usize >= r.uses.len() {
                return Err(ReceiptError::NoSuchUse {
                    index,
                    why: format!("the tx records {} uses", r.uses.len()),
                });
            }
        }
        Ok(Proven {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            block_hash: header.hash(),
            tx_id,
            tx_index: self.tx_index,
            tx,
            subject: self.subject,
            outcome,
            commit,
        })
    }

    fn path(&self, field: &str, items: &[String]) -> Result<Vec<Hash32>, ReceiptError> {
        items
            .iter()
            .enumerate()
            .map(|(i, h)| hash_of(format!("{field}[{i}]"), h))
            .collect()
    }
}

impl Proven {
    /// The event of use `index` (settled or rejected), if the tx was applied.
    pub fn use_event(&self, index: u32) -> Option<&Event> {
        let Outcome::Applied(events) = &self.outcome else {
            return None;
        };
        events.iter().find(|e| {
            matches!(e, Event::UseSettled { index: i, .. } | Event::UseRejected { index: i, .. } if *i == index)
        })
    }

    /// The advocacy share paid for use `index` (decision 29), if any.
    pub fn referral_event(&self, index: u32) -> Option<&Event> {
        let Outcome::Applied(events) = &self.outcome else {
            return None;
        };
        events
            .iter()
            .find(|e| matches!(e, Event::ReferralPaid { index: i, .. } if *i == index))
    }

    /// One sentence saying what the receipt proves. `name` gives a display
    /// name for an account (e.g. from the genesis or a keystore) or `None`.
    pub fn describe(&self, name: &dyn Fn(&AccountId) -> Option<String>) -> String {
        let who = |a: &AccountId| match name(a) {
            Some(n) => format!("{n} ({a})"),
            None => a.to_string(),
        };
        let sender = who(&self.tx.body.sender);
        let mut s = String::new();
        let events: &[Event] = match &self.outcome {
            Outcome::Applied(ev) => ev,
            Outcome::Rejected { code, reason } => {
                let _ = write!(
                    s,
                    "{sender}'s {} tx {} was included at height {} but REJECTED ({code}: {reason})",
                    self.tx.body.payload.kind(),
                    self.tx_id,
                    self.height
                );
                return self.finish(s);
            }
        };
        match (&self.subject, &self.tx.body.payload) {
            (Subject::Use { index }, _) => match self.use_event(*index) {
                Some(Event::UseSettled {
                    consumer,
                    enterprise,
                    category,
                    purpose,
                    units,
                    paid,
                    to_consumer,
                    ..
                }) => {
                    let referral = match self.referral_event(*index) {
                        Some(Event::ReferralPaid {
                            referrer, amount, ..
                        }) => format!(
                            ", {} to the consumer's referrer {} out of the operators' share",
                            amount.0,
                            who(referrer)
                        ),
                        _ => String::new(),
                    };
                    let _ = write!(
                        s,
                        "{} used {}'s {category} data for {purpose} ({units} unit(s)), settled: paid {} points, {} to the consumer{referral}, at height {}",
                        who(enterprise),
                        who(consumer),
                        paid.0,
                        to_consumer.0,
                        self.height
                    );
                }
                Some(Event::UseRejected {
                    consumer,
                    enterprise,
                    code,
                    reason,
                    ..
                }) => {
                    let _ = write!(
                        s,
                        "{} recorded a use of {}'s data that was REJECTED ({}: {reason}) at height {}",
                        who(enterprise),
                        who(consumer),
                        code.as_str(),
                        self.height
                    );
                }
                _ => {
                    let _ = write!(
                        s,
                        "use #{index} of tx {} has no result at height {}",
                        self.tx_id, self.height
                    );
                }
            },
            (Subject::Tx, Payload::GrantConsent(g)) => {
                let join = |v: Vec<String>| v.join(", ");
                let _ = write!(
                    s,
                    "{sender} granted {} {} on {} data at level {} for {} points per use (consent {}) at height {}",
                    who(&g.enterprise),
                    join(g.purposes.iter().map(|p| p.to_string()).collect()),
                    join(g.categories.iter().map(|c| c.to_string()).collect()),
                    g.level,
                    g.price_per_use.0,
                    self.tx_id,
                    self.height
                );
            }
            (Subject::Tx, payload) => {
                let mut parts: Vec<String> = Vec::new();
                for e in events {
                    let (verb, consent, enterprise) = match e {
                        Event::ConsentRevoked {
                            consent,
                            enterprise,
                            ..
                        } => ("revoked", consent, enterprise),
                        Event::ConsentPaused {
                            consent,
                            enterprise,
                            ..
                        } => ("paused", consent, enterprise),
                        Event::ConsentResumed {
                            consent,
                            enterprise,
                            ..
                        } => ("resumed", consent, enterprise),
                        _ => continue,
                    };
                    parts.push(format!("{verb} consent {consent} to {}", who(enterprise)));
                }
                if parts.is_empty() {
                    let _ = write!(
                        s,
                        "{sender}'s {} tx {} was applied at height {}",
                        payload.kind(),
                        self.tx_id,
                        self.height
                    );
                } else {
                    let _ = write!(s, "{sender} {} at height {}", parts.join("; "), self.height);
                }
            }
        }
        self.finish(s)
    }

    fn finish(&self, mut s: String) -> String {
        let _ = write!(
            s,
            ", committed by {} of {} validators",
            self.commit.signers, self.commit.validators
        );
        s
    }
}
