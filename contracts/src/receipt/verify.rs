//! [`Receipt::verify`]: every check, in order, each failing with its own
//! [`ReceiptError`].

use serde::Serialize;

use crate::block::{self, BlockHeader};
use crate::codec;
use crate::commit::{CommitCertificate, CommitCheck};
use crate::events::Event;
use crate::ids::{Hash32, TxId, UseId};
use crate::merkle;
use crate::tx::{SignedTx, TxOutcome, TxResult, Use};
use crate::use_tree::{self, SignedUses, UsesResult};

use super::{Item, Outcome, Proven, Receipt, ReceiptError, Subject, Trust, RECEIPT_VERSION};

/// Largest tx a receipt may carry (the chain's own limit is lower).
const MAX_TX_BYTES: usize = 8 * 1024 * 1024;

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

fn path(field: &str, items: &[String]) -> Result<Vec<Hash32>, ReceiptError> {
    items
        .iter()
        .enumerate()
        .map(|(i, h)| hash_of(format!("{field}[{i}]"), h))
        .collect()
}

/// Whether `leaf` at `index` of a tree of `size` leaves leads to `root`.
fn leads_to(leaf: Hash32, index: u64, size: u64, p: &[Hash32], root: Hash32) -> bool {
    let (Ok(index), Ok(size)) = (usize::try_from(index), usize::try_from(size)) else {
        return false;
    };
    merkle::root_from_proof(leaf, index, size, p) == Some(root)
}

/// What the checks of the tx's part establish.
struct TxPart {
    tx_id: TxId,
    signer: crate::ids::AccountId,
    item: Item,
    outcome: Outcome,
}

impl Receipt {
    /// Checks everything, in order: format, chain, header, certificate, tx
    /// signature, tx inclusion, result inclusion, and for a use receipt the
    /// use in the signed uses and its outcome in the result.
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
        let commit: CommitCheck =
            cert.verify_for(trust.chain_id, &header, trust.validators_for(header.height))?;
        if self.tx_index >= self.tx_count {
            return Err(ReceiptError::Index {
                index: self.tx_index,
                count: self.tx_count,
            });
        }
        let part = match self.subject {
            Subject::Tx => self.verify_tx(trust, &header)?,
            Subject::Use { index } => self.verify_use(trust, &header, index)?,
        };
        Ok(Proven {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            block_hash: header.hash(),
            tx_id: part.tx_id,
            tx_index: self.tx_index,
            signer: part.signer,
            item: part.item,
            subject: self.subject,
            outcome: part.outcome,
            commit,
        })
    }

    fn tx_in_block(&self, leaf: Hash32, header: &BlockHeader) -> Result<(), ReceiptError> {
        let p = path("tx_proof", &self.tx_proof)?;
        if leads_to(
            leaf,
            self.tx_index.into(),
            self.tx_count.into(),
            &p,
            header.txs_root,
        ) {
            Ok(())
        } else {
            Err(ReceiptError::TxNotInBlock)
        }
    }

    fn result_in_block(&self, leaf: Hash32, header: &BlockHeader) -> Result<(), ReceiptError> {
        let p = path("result_proof", &self.result_proof)?;
        if leads_to(
            leaf,
            self.tx_index.into(),
            u64::from(self.tx_count) + 1,
            &p,
            header.results_root,
        ) {
            Ok(())
        } else {
            Err(ReceiptError::ResultNotInBlock)
        }
    }

    /// A tx receipt: the whole signed tx and its whole result.
    fn verify_tx(&self, trust: &Trust<'_>, header: &BlockHeader) -> Result<TxPart, ReceiptError> {
        if self.used.is_some() {
            return Err(ReceiptError::Decode {
                field: "use",
                why: "a tx receipt carries no use; a use receipt has subject {\"kind\": \"use\"}"
                    .into(),
            });
        }
        let tx_bytes = bytes_of("tx", &self.tx)?;
        let tx = SignedTx::decode(&tx_bytes, MAX_TX_BYTES).map_err(|e| ReceiptError::Decode {
            field: "tx",
            why: e.to_string(),
        })?;
        let verified = tx
            .verify(trust.chain_id)
            .map_err(|e| ReceiptError::TxSignature(e.to_string()))?;
        let tx_id = verified.id();
        let tx = verified.into_signed();
        self.tx_in_block(block::tx_leaf(&tx_id, &tx.signature), header)?;

        let (result, _) = decode::<TxResult>("result", &self.result)?;
        if result.tx_id != tx_id {
            return Err(ReceiptError::ResultOfOtherTx {
                result: result.tx_id,
                tx: tx_id,
            });
        }
        self.result_in_block(block::result_leaf(Some(&tx), &result), header)?;
        let outcome = match result.outcome {
            TxOutcome::Applied { events } => Outcome::Applied(events),
            TxOutcome::Rejected(e) => Outcome::Rejected {
                code: e.code.as_str().to_string(),
                reason: e.reason,
            },
        };
        Ok(TxPart {
            tx_id,
            signer: tx.body.sender,
            item: Item::Tx(tx),
            outcome,
        })
    }

    /// A use receipt: the RecordUse's signed commitment, its result leaf,
    /// one use and one outcome.
    fn verify_use(
        &self,
        trust: &Trust<'_>,
        header: &BlockHeader,
        index: u32,
    ) -> Result<TxPart, ReceiptError> {
        let no_use = |why: String| ReceiptError::NoSuchUse { index, why };
        let (signed, _) = decode::<SignedUses>("tx", &self.tx)?;
        let c = &signed.commitment;
        c.verify(trust.chain_id, &signed.signature)
            .map_err(|e| ReceiptError::TxSignature(e.to_string()))?;
        let tx_id = c.id();
        self.tx_in_block(block::tx_leaf(&tx_id, &signed.signature), header)?;

        let (result, _) = decode::<UsesResult>("result", &self.result)?;
        if result.tx_id != tx_id {
            return Err(ReceiptError::ResultOfOtherTx {
                result: result.tx_id,
                tx: tx_id,
            });
        }
        self.result_in_block(result.leaf(), header)?;

        let Some(part) = &self.used else {
            return Err(no_use("the receipt carries no use".into()));
        };
        if u64::from(index) >= c.count {
            return Err(no_use(format!("the tx records {} uses", c.count)));
        }
        if result.count != c.count {
            return Err(ReceiptError::OutcomeOfOtherUse {
                index,
                why: format!(
                    "the result counts {} uses, the signed tx {}",
                    result.count, c.count
                ),
            });
        }
        let (data, _) = decode::<Use>("use.data", &part.data)?;
        let use_leaf = use_tree::use_leaf(&data);
        let p = path("use.path", &part.path)?;
        if !leads_to(use_leaf, index.into(), c.count, &p, c.uses_root) {
            return Err(ReceiptError::UseNotInTx);
        }
        let (events, events_bytes) = decode::<Vec<Event>>("use.outcome", &part.outcome)?;
        let p = path("use.outcome_path", &part.outcome_path)?;
        let leaf = use_tree::outcome_leaf(&use_leaf, &events_bytes);
        if !leads_to(leaf, index.into(), c.count, &p, result.outcomes_root) {
            return Err(ReceiptError::OutcomeNotInResult);
        }
        check_outcome(&events, &tx_id, index, &data)?;
        Ok(TxPart {
            tx_id,
            signer: c.sender,
            item: Item::Use {
                data,
                count: c.count,
            },
            outcome: Outcome::Applied(events),
        })
    }
}

/// The proven events are use `index`'s own: its settlement or rejection
/// first, every event of that use, and of that use's consumer.
fn check_outcome(events: &[Event], tx: &TxId, index: u32, u: &Use) -> Result<(), ReceiptError> {
    let other = |why: String| ReceiptError::OutcomeOfOtherUse { index, why };
    let use_id = UseId::derive(tx, index);
    match events.first() {
        Some(
            Event::UseSettled {
                use_id: id,
                consumer,
                ..
            }
            | Event::UseRejected {
                use_id: id,
                consumer,
                ..
            },
        ) => {
            if *id != use_id {
                return Err(other(format!("it is of use {id}, not {use_id}")));
            }
            if *consumer != u.consumer {
                return Err(other(format!(
                    "it names consumer {consumer}, the use {}",
                    u.consumer
                )));
            }
        }
        _ => {
            return Err(other(
                "it does not start with the use's settlement or rejection".into(),
            ))
        }
    }
    if let Some(e) = events
        .iter()
        .find(|e| use_tree::use_index(e) != Some(index))
    {
        return Err(other(format!("it holds an event of another use: {e:?}")));
    }
    Ok(())
}
