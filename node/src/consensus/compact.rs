//! Compact proposals: a proposal names the txs its validators already hold
//! instead of sending them again (ARCHITECTURE decision 45).
//!
//! What a proposer streams is a [`CompactBlock`]: the block's header and,
//! for each tx in block order, either the whole tx ([`Slot::Full`]) or its
//! id and signature ([`Slot::Held`]) — the two things its leaf in the
//! header's `txs_root` binds, so a held tx stands for exactly one tx. A
//! validator fills held slots from its mempool, asks a peer for the ones it
//! lacks ([`crate::gossip::fetch`]) and checks each fetched tx against its
//! slot before it is used. The block it then judges is byte for byte the
//! block the proposer signed (the stream's signature covers the header hash,
//! checked before anything is fetched).

use assent_contracts::codec::{self, CodecError};
use assent_contracts::crypto::Signature;
use assent_contracts::{Block, BlockHeader, Hash32, Height, SignedTx, TxId, VerifiedTx};
use std::sync::Arc;
use tokio::sync::mpsc;

use super::types::Roots;
use crate::gossip::fetch::{FetchRequest, FetchResponse, Serve};
use crate::ledger::chain::Chain;

/// One tx of a compact block.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum Slot {
    /// The tx itself.
    Full(SignedTx),
    /// A tx the validators are expected to hold: its id and signature.
    Held { id: TxId, signature: Signature },
}

/// A block as a proposal carries it.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct CompactBlock {
    pub header: BlockHeader,
    pub slots: Vec<Slot>,
}

impl CompactBlock {
    /// Every tx whole: what a restream of stored block bytes sends.
    pub fn whole(block: Block) -> CompactBlock {
        CompactBlock {
            header: block.header,
            slots: block.txs.into_iter().map(Slot::Full).collect(),
        }
    }

    /// The txs of a block not executed yet, all held by the validators
    /// (they came through the proposer's mempool, so gossip took them to
    /// the others); the header's roots are zero.
    pub fn named(header: BlockHeader, txs: &[VerifiedTx]) -> CompactBlock {
        let slots = txs
            .iter()
            .map(|t| Slot::Held {
                id: t.id(),
                signature: t.tx().signature,
            })
            .collect();
        CompactBlock { header, slots }
    }

    /// The block as its proposal streams it: the header's roots taken out
    /// (they travel in the `Fin` part) and left zero.
    pub fn without_roots(mut self) -> (CompactBlock, Roots) {
        let h = &mut self.header;
        let roots = Roots {
            results_root: std::mem::take(&mut h.results_root).0,
            state_root: std::mem::take(&mut h.state_root).0,
        };
        (self, roots)
    }

    /// Whether the header's roots are both zero, as a proposal sends them.
    pub fn roots_are_zero(&self) -> bool {
        self.header.results_root == Hash32::ZERO && self.header.state_root == Hash32::ZERO
    }

    /// Decodes the `Data` bytes of a peer's proposal stream: a compact
    /// block in canonical form whose roots are zero (they travel in the
    /// `Fin` part only, so each proposal has one form).
    pub fn decode_proposal(bytes: &[u8]) -> Result<CompactBlock, ProposalBytesError> {
        let compact = CompactBlock::decode(bytes).map_err(ProposalBytesError::Undecodable)?;
        if !compact.roots_are_zero() {
            return Err(ProposalBytesError::RootsOutsideFin);
        }
        Ok(compact)
    }

    /// Puts a proposal's roots (from its `Fin` part) into the header.
    pub fn set_roots(&mut self, roots: &Roots) {
        self.header.results_root = Hash32(roots.results_root);
        self.header.state_root = Hash32(roots.state_root);
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode_native(self).unwrap_or_default()
    }

    /// Decodes a peer's bytes (canonical form checked).
    pub fn decode(bytes: &[u8]) -> Result<CompactBlock, CodecError> {
        codec::decode_native(bytes)
    }

    /// Fills held slots through `lookup` (the mempool by id). Returns the
    /// txs in block order, `None` where a held tx was not found — or found
    /// with another signature, which is another tx — and the indices of
    /// those, which must be fetched.
    pub fn resolve(
        self,
        lookup: impl Fn(&TxId) -> Option<VerifiedTx>,
    ) -> (BlockHeader, Vec<Filled>, Vec<u32>) {
        let mut missing = Vec::new();
        let txs = self
            .slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| match slot {
                Slot::Full(t) => Filled::Sent(t),
                Slot::Held { id, signature } => {
                    match lookup(&id).filter(|v| v.tx().signature == signature) {
                        Some(v) => Filled::Pool(v.into_signed()),
                        None => {
                            missing.push(u32::try_from(i).unwrap_or(u32::MAX));
                            Filled::Missing { id, signature }
                        }
                    }
                }
            })
            .collect();
        (self.header, txs, missing)
    }
}

/// Why a proposal stream's `Data` bytes are not a block to judge.
#[derive(Debug, thiserror::Error)]
pub enum ProposalBytesError {
    #[error("proposal parts do not decode to a block: {0}")]
    Undecodable(CodecError),
    #[error("proposal parts carry the block's roots outside the Fin part")]
    RootsOutsideFin,
}

/// A slot after [`CompactBlock::resolve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filled {
    /// Sent whole in the proposal.
    Sent(SignedTx),
    /// Found in this node's mempool.
    Pool(SignedTx),
    /// Fetched from a peer and matched to its slot (signature not checked yet).
    Fetched(SignedTx),
    /// Held, not found here: to fetch.
    Missing { id: TxId, signature: Signature },
}

/// Why fetched txs do not fill a compact block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    #[error("the peer sent {got} txs for {want} missing ones")]
    Count { got: usize, want: usize },
    #[error("fetched tx {index} does not decode: {why}")]
    Undecodable { index: u32, why: String },
    #[error("fetched tx {index} is not the one the proposal names")]
    NotNamed { index: u32 },
}

/// Fills the missing slots, in the order of `missing`, with `fetched` (a
/// peer's bytes). Each must decode canonically and carry the slot's id and
/// signature; on any error nothing is filled.
/// `max_tx_bytes` bounds each tx as admission does.
pub fn fill(
    txs: &mut [Filled],
    missing: &[u32],
    fetched: &[Vec<u8>],
    max_tx_bytes: usize,
) -> Result<(), FillError> {
    if fetched.len() != missing.len() {
        return Err(FillError::Count {
            got: fetched.len(),
            want: missing.len(),
        });
    }
    let mut found = Vec::with_capacity(missing.len());
    for (&index, bytes) in missing.iter().zip(fetched) {
        let tx = SignedTx::decode(bytes, max_tx_bytes).map_err(|e| FillError::Undecodable {
            index,
            why: e.to_string(),
        })?;
        match txs.get(index as usize) {
            Some(Filled::Missing { id, signature })
                if tx.signature == *signature && tx.id() == *id =>
            {
                found.push((index as usize, tx));
            }
            _ => return Err(FillError::NotNamed { index }),
        }
    }
    for (i, tx) in found {
        txs[i] = Filled::Fetched(tx);
    }
    Ok(())
}

/// The block of a fully filled compact block and its canonical bytes;
/// `None` while a slot is missing.
pub fn assemble(header: BlockHeader, txs: Vec<Filled>) -> Option<(Block, Vec<u8>)> {
    let txs = txs
        .into_iter()
        .map(|f| match f {
            Filled::Sent(t) | Filled::Pool(t) | Filled::Fetched(t) => Some(t),
            Filled::Missing { .. } => None,
        })
        .collect::<Option<Vec<SignedTx>>>()?;
    let block = Block { header, txs };
    let bytes = block.encode();
    Some((block, bytes))
}

/// The encodings of `txs` at `indices`; `None` if an index is past the end.
pub fn txs_at(txs: &[SignedTx], indices: &[u32]) -> Option<Vec<Vec<u8>>> {
    indices
        .iter()
        .map(|&i| txs.get(i as usize).map(SignedTx::encode))
        .collect()
}

/// Answers a peer's fetch from a block this node holds: in memory (executed,
/// or offered as proposer by the hash of its header without roots), kept
/// undecided on disk, or committed.
pub fn answer(chain: &Chain, r: &FetchRequest) -> FetchResponse {
    if let Ok(Some(txs)) = chain.txs_in_memory(&r.hash, &r.indices) {
        return FetchResponse::Txs(txs);
    }
    let h = Height(r.height);
    let store = chain.store();
    let bytes = match store.undecided(h, &r.hash) {
        Ok(Some(b)) => Some(b),
        _ => store.block_bytes(h).ok().flatten(),
    };
    bytes
        .and_then(|b| Block::decode(&b).ok())
        .filter(|b| b.header.hash() == r.hash)
        .and_then(|b| txs_at(&b.txs, &r.indices))
        .map_or(FetchResponse::Unknown, FetchResponse::Txs)
}

/// Answers peers' fetches (from the gossip swarm) until it closes; each
/// answer is read off the async workers.
pub async fn serve(chain: Arc<Chain>, mut requests: mpsc::Receiver<Serve>) {
    while let Some(s) = requests.recv().await {
        let chain = chain.clone();
        let request = s.request;
        let answer = tokio::task::spawn_blocking(move || answer(&chain, &request))
            .await
            .unwrap_or(FetchResponse::Unknown);
        tracing::debug!(target: "assent::consensus", peer = %s.from, "served a proposal's txs");
        let _ = s.reply.send(answer);
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
