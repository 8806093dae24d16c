//! Reads of the committed chain from the block journal: blocks, their
//! headers, results and commit certificates (written by
//! [`Store::commit_block`](super::Store::commit_block)).

use assent_contracts::codec;
use assent_contracts::commit::CommitCertificate;
use assent_contracts::{Block, BlockHeader, Height};

use super::backend::StoreError;
use super::entry::{decode_certificate, Entry};
use super::journal::{KIND_BLOCK, KIND_CERTIFICATE};
use super::records::BlockResults;
use super::store::{decode, enc};
use super::Store;

impl Store {
    /// Keeps a fuller certificate of a committed block (Finalized may carry
    /// more signatures than Decided).
    pub fn put_certificate(&self, h: Height, cert: &CommitCertificate) -> Result<(), StoreError> {
        let payload = enc(cert);
        self.core()
            .backend
            .journal_append(&[(KIND_CERTIFICATE, h.0, &[&payload])])?;
        self.core()
            .metrics
            .journal_bytes
            .inc_by(payload.len() as u64);
        Ok(())
    }

    pub fn entry(&self, h: Height) -> Result<Option<Entry>, StoreError> {
        self.core().entry(h)
    }

    pub fn block_bytes(&self, h: Height) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.entry(h)?.map(|e| e.block))
    }

    pub fn block(&self, h: Height) -> Result<Option<Block>, StoreError> {
        match self.entry(h)? {
            Some(e) => decode(&format!("block {h}"), &e.block).map(Some),
            None => Ok(None),
        }
    }

    /// A stored block's header, without decoding its txs.
    pub fn block_header(&self, h: Height) -> Result<Option<BlockHeader>, StoreError> {
        match self.entry(h)? {
            Some(e) => codec::decode_stored_prefix(&e.block)
                .map(Some)
                .map_err(|e| StoreError::Corrupt {
                    what: format!("header of block {h}"),
                    why: e.to_string(),
                }),
            None => Ok(None),
        }
    }

    pub fn results(&self, h: Height) -> Result<Option<BlockResults>, StoreError> {
        Ok(self.entry(h)?.map(|e| e.results))
    }

    /// The fullest certificate this node keeps for a committed block.
    pub fn certificate(&self, h: Height) -> Result<Option<CommitCertificate>, StoreError> {
        if h.0 == 0 || h > self.head().height {
            return Ok(None);
        }
        self.journal_certificate(h)
    }

    /// The fullest certificate in the journal at `h`, whether or not
    /// recovery reached it.
    pub fn journal_certificate(&self, h: Height) -> Result<Option<CommitCertificate>, StoreError> {
        if let Some(c) = self.core().backend.journal_get(KIND_CERTIFICATE, h.0)? {
            return decode(&format!("certificate {h}"), &c).map(Some);
        }
        match self.core().backend.journal_get(KIND_BLOCK, h.0)? {
            Some(p) => decode_certificate(h.0, &p).map(Some),
            None => Ok(None),
        }
    }
}
