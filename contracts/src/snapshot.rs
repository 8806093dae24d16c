//! Verified state snapshots: the whole ledger state at one height, cut into
//! [`CHUNKS`] chunks by the first byte of each record's tree path, so each
//! chunk is one subtree at depth 8 of the state tree.
//!
//! A [`Manifest`] lists each chunk's subtree hash, record count and size.
//! A node that syncs from a snapshot trusts no serving peer:
//! - [`Manifest::check`] joins the chunk hashes into the tree root and checks
//!   that root, bound to the height, is the `state_root` of the header —
//!   which the caller has checked against a commit certificate of the
//!   validator set;
//! - [`check_chunk`] checks one chunk's records against its manifest entry,
//!   so a bad chunk is refused on arrival and fetched from another peer.

use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::codec;
use crate::ids::{Hash32, Height};
use crate::state::tree::{self, Path};

/// The `version` of every manifest of this format.
pub const SNAPSHOT_VERSION: &str = "assent-snapshot/1";
/// Chunks per snapshot: one per value of a path's first byte.
pub const CHUNKS: usize = 256;
/// Largest chunk a node accepts (bounds memory while syncing; at 256 chunks
/// that is a state of up to 64 GiB).
pub const MAX_CHUNK_BYTES: u64 = 256 * 1024 * 1024;

/// A chunk's records: (key, value) in tree-path order.
pub type Chunk = Vec<(Vec<u8>, Vec<u8>)>;

/// A chunk's bytes: each record as `len u32 LE ‖ codec((key, value))`, so a
/// chunk of any size decodes record by record under the codec's limit.
pub fn encode_chunk(records: &Chunk) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let b = codec::encode_infallible(r);
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(&b);
    }
    out
}

/// The records of a chunk's bytes, each strictly decoded.
pub fn decode_chunk(bytes: &[u8]) -> Result<Chunk, codec::CodecError> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = rest
            .get(..4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| codec::CodecError::Malformed("a record's length is cut off".into()))?
            as usize;
        let frame = rest.get(4..4 + len).ok_or_else(|| {
            codec::CodecError::Malformed(format!("a {len}-byte record runs past the chunk"))
        })?;
        records.push(codec::decode_native(frame)?);
        rest = &rest[4 + len..];
    }
    Ok(records)
}

/// One chunk as the manifest describes it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(deny_unknown_fields)]
pub struct ChunkInfo {
    /// Hash of the subtree at depth 8 the chunk's records form.
    pub hash: Hash32,
    pub records: u64,
    /// Length of the chunk's encoding.
    pub bytes: u64,
}

/// What a snapshot holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: String,
    pub chain_id: String,
    pub height: Height,
    /// The header's `state_root` at `height`.
    pub state_root: Hash32,
    pub chunks: Vec<ChunkInfo>,
}

/// Why a snapshot, or a part of one, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not an assent snapshot manifest: version {0:?}, expected {SNAPSHOT_VERSION:?}")]
    Version(String),
    #[error("the manifest is for chain {got:?} at height {height}, but the header is chain {want:?} at height {header}")]
    OtherBlock {
        got: String,
        height: Height,
        want: String,
        header: Height,
    },
    #[error("the manifest lists {0} chunks; a snapshot has {CHUNKS}")]
    ChunkCount(usize),
    #[error("chunk {index} is {bytes} bytes, over the {MAX_CHUNK_BYTES}-byte limit")]
    ChunkTooLarge { index: usize, bytes: u64 },
    #[error("the manifest's chunks do not join into the header's state_root")]
    StateRoot,
    #[error("chunk {index} is {got} bytes; the manifest says {want}")]
    ChunkSize { index: usize, got: u64, want: u64 },
    #[error("chunk {index} does not decode: {why}")]
    Decode { index: usize, why: String },
    #[error(
        "chunk {index} holds a record of another chunk or out of path order (record {record})"
    )]
    Order { index: usize, record: usize },
    #[error("chunk {index}'s records do not hash to the manifest's subtree hash")]
    ChunkHash { index: usize },
}

/// The chunk a record belongs in.
pub fn chunk_index(key: &[u8]) -> usize {
    usize::from(tree::key_path(key)[0])
}

fn leaves(index: usize, records: &Chunk) -> Result<Vec<(Path, Hash32)>, SnapshotError> {
    let mut out: Vec<(Path, Hash32)> = Vec::with_capacity(records.len());
    for (i, (k, v)) in records.iter().enumerate() {
        let p = tree::key_path(k);
        let ordered = out.last().is_none_or(|(last, _)| *last < p);
        if usize::from(p[0]) != index || !ordered {
            return Err(SnapshotError::Order { index, record: i });
        }
        out.push((p, tree::value_hash(v)));
    }
    Ok(out)
}

/// Puts a chunk's records in path order and describes it; `bytes` is its
/// encoding, as served.
pub fn seal_chunk(mut records: Chunk) -> (ChunkInfo, Vec<u8>) {
    records.sort_by_cached_key(|(k, _)| tree::key_path(k));
    let leaves: Vec<(Path, Hash32)> = records
        .iter()
        .map(|(k, v)| (tree::key_path(k), tree::value_hash(v)))
        .collect();
    let bytes = encode_chunk(&records);
    let info = ChunkInfo {
        hash: tree::subtree_root(8, &leaves),
        records: records.len() as u64,
        bytes: bytes.len() as u64,
    };
    (info, bytes)
}

/// Checks chunk `index` of `manifest`; its records on success.
pub fn check_chunk(
    manifest: &Manifest,
    index: usize,
    bytes: &[u8],
) -> Result<Chunk, SnapshotError> {
    let info = manifest
        .chunks
        .get(index)
        .ok_or(SnapshotError::ChunkCount(manifest.chunks.len()))?;
    if bytes.len() as u64 != info.bytes {
        return Err(SnapshotError::ChunkSize {
            index,
            got: bytes.len() as u64,
            want: info.bytes,
        });
    }
    let records: Chunk = decode_chunk(bytes).map_err(|e| SnapshotError::Decode {
        index,
        why: e.to_string(),
    })?;
    let leaves = leaves(index, &records)?;
    if leaves.len() as u64 != info.records || tree::subtree_root(8, &leaves) != info.hash {
        return Err(SnapshotError::ChunkHash { index });
    }
    Ok(records)
}

impl Manifest {
    /// Checks the manifest against a header (which the caller has checked
    /// against a commit certificate): same chain and height, and the chunk
    /// hashes join into the header's state root.
    pub fn check(&self, header: &BlockHeader) -> Result<(), SnapshotError> {
        if self.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version(self.version.clone()));
        }
        if self.chain_id != header.chain_id || self.height != header.height {
            return Err(SnapshotError::OtherBlock {
                got: self.chain_id.clone(),
                height: self.height,
                want: header.chain_id.clone(),
                header: header.height,
            });
        }
        if self.chunks.len() != CHUNKS {
            return Err(SnapshotError::ChunkCount(self.chunks.len()));
        }
        if let Some((index, c)) = self
            .chunks
            .iter()
            .enumerate()
            .find(|(_, c)| c.bytes > MAX_CHUNK_BYTES)
        {
            return Err(SnapshotError::ChunkTooLarge {
                index,
                bytes: c.bytes,
            });
        }
        let parts: Vec<(Hash32, u64)> = self.chunks.iter().map(|c| (c.hash, c.records)).collect();
        let root = tree::join_subtrees(&parts).ok_or(SnapshotError::StateRoot)?;
        if self.state_root != header.state_root
            || tree::state_root(self.height, &root.0) != header.state_root
        {
            return Err(SnapshotError::StateRoot);
        }
        Ok(())
    }

    /// Records in the whole snapshot.
    pub fn records(&self) -> u64 {
        self.chunks.iter().map(|c| c.records).sum()
    }
}
