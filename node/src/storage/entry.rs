//! The journal's block record: a committed block's bytes as proposed, its
//! commit certificate and its results, as one journal payload.

use assent_contracts::commit::CommitCertificate;
use assent_contracts::{codec, BlockHeader, Event};

use super::records::BlockResults;
use super::StoreError;

/// A journal block record: `len(block) u32 LE ‖ block ‖ codec((cert, results))`.
/// The block's bytes are stored as they are, not re-encoded.
///
/// Returned as the parts around the block, `(len(block), tail)`: the
/// journal writes the record as `[len, block, tail]` from the caller's
/// buffers, so a block of megabytes is not copied into a record first.
pub(crate) fn entry_parts(
    block: &[u8],
    cert: &CommitCertificate,
    results: &[assent_contracts::tx::TxResult],
    end_events: &[Event],
) -> ([u8; 4], Vec<u8>) {
    // The ledger's types, through bincode's own path of the codec (the
    // same bytes as serde's): a tuple encodes as the struct it replaced.
    let tail = codec::encode_native(&(cert, results, end_events)).unwrap_or_default();
    ((block.len() as u32).to_le_bytes(), tail)
}

/// One committed block as the journal returns it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub block: Vec<u8>,
    pub certificate: CommitCertificate,
    pub results: BlockResults,
}

pub(crate) fn decode_entry(h: u64, payload: &[u8]) -> Result<Entry, StoreError> {
    let (block, certificate, results) = split(h, payload)?;
    Ok(Entry {
        block: block.to_vec(),
        certificate,
        results,
    })
}

/// A journal block record's header and results, without copying its txs:
/// what the use and history indexes point into.
pub(crate) fn decode_results(
    h: u64,
    payload: &[u8],
) -> Result<(BlockHeader, BlockResults), StoreError> {
    let (block, _, results) = split(h, payload)?;
    let header = codec::decode_stored_prefix(block).map_err(|e| StoreError::Corrupt {
        what: format!("header of block {h}"),
        why: e.to_string(),
    })?;
    Ok((header, results))
}

/// A journal block record's commit certificate alone: the first field of
/// its tail, read without copying the block or decoding the results (a
/// block of heavy txs is megabytes; the certificate a few hundred bytes).
pub(crate) fn decode_certificate(h: u64, payload: &[u8]) -> Result<CommitCertificate, StoreError> {
    let (_, tail) = block_and_tail(h, payload)?;
    codec::decode_stored_prefix(tail).map_err(|e| corrupt(h, e.to_string()))
}

fn split(h: u64, payload: &[u8]) -> Result<(&[u8], CommitCertificate, BlockResults), StoreError> {
    let (block, tail) = block_and_tail(h, payload)?;
    let (certificate, results, end_events): (
        CommitCertificate,
        Vec<assent_contracts::tx::TxResult>,
        Vec<Event>,
    ) = codec::decode_stored_native(tail).map_err(|e| corrupt(h, e.to_string()))?;
    Ok((
        block,
        certificate,
        BlockResults {
            results,
            end_events,
        },
    ))
}

/// A record's block bytes and the encoded tail after them.
fn block_and_tail(h: u64, payload: &[u8]) -> Result<(&[u8], &[u8]), StoreError> {
    let len = payload
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| corrupt(h, "shorter than its length field".into()))? as usize;
    let block = payload
        .get(4..4 + len)
        .ok_or_else(|| corrupt(h, format!("block length {len} runs past the record")))?;
    Ok((block, &payload[4 + len..]))
}

fn corrupt(h: u64, why: String) -> StoreError {
    StoreError::Corrupt {
        what: format!("journal entry of block {h}"),
        why,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use assent_contracts::commit::CommitSignature;
    use assent_contracts::crypto::Signature;
    use assent_contracts::ids::Hash32;
    use assent_contracts::{AccountId, BlockHash, Height, TxId, TxOutcome, TxResult};

    #[test]
    fn the_certificate_alone_reads_as_the_whole_entry_does_and_damage_is_an_error() {
        let cert = CommitCertificate {
            height: Height(7),
            round: 1,
            block_hash: BlockHash(Hash32([3; 32])),
            signatures: vec![CommitSignature {
                validator: AccountId([4; 32]),
                signature: Signature([5; 64]),
            }],
        };
        let results = vec![
            TxResult {
                tx_id: TxId(Hash32([6; 32])),
                outcome: TxOutcome::Applied { events: Vec::new() },
            };
            3
        ];
        let block = [9; 1000];
        let (len, tail) = entry_parts(&block, &cert, &results, &[]);
        let payload = [&len[..], &block, &tail].concat();
        assert_eq!(decode_certificate(7, &payload).unwrap(), cert);
        assert_eq!(decode_entry(7, &payload).unwrap().certificate, cert);
        // A length field past the record, a record cut inside the
        // certificate, or no length at all: errors naming the block.
        let mut bad = payload.clone();
        bad[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        for damaged in [&bad[..], &payload[..1010], &payload[..2]] {
            let err = decode_certificate(7, damaged).unwrap_err().to_string();
            assert!(err.contains("journal entry of block 7"), "{err}");
        }
    }
}
