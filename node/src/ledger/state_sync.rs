//! State sync: a node with no store starts from a peer's state snapshot
//! instead of replaying every block since the genesis, trusting no peer.
//!
//! 1. Ask every peer in `[state_sync] peers` for its snapshots; try the
//!    highest height any offers first, the next one if no holder can back
//!    it with a certified block.
//! 2. Follow the validator set from the genesis: each validator-set change
//!    comes as a state proof of the new set, checked against a header
//!    certified by the set before it.
//! 3. Check the snapshot's block (bytes, header, txs and results roots)
//!    against its commit certificate under that set, then the manifest
//!    against the block's `state_root`.
//! 4. Fetch each chunk from the peers in turn; a chunk that does not match
//!    the manifest is refused and fetched from the next peer.
//! 5. Check that the snapshot's own validator set is the one followed (a
//!    peer that held back a change is caught here), then install the store
//!    ([`Installer`]). The node then follows the chain from the next height
//!    through consensus sync.

use super::peer_reads::PeerReader;
use std::time::{Duration, Instant};

use assent_contracts::block::{result_leaves, tx_leaves, Block, BlockHeader};
use assent_contracts::commit::CommitCertificate;
use assent_contracts::snapshot::{self, Manifest, CHUNKS, MAX_CHUNK_BYTES};
use assent_contracts::state::{keys, Validator};
use assent_contracts::state_proof::StateProof;
use assent_contracts::tx::TxResult;
use assent_contracts::validator_history::ValidatorHistory;
use assent_contracts::{codec, merkle, Event, Height};
use assent_genesis::Genesis;
use serde::{Deserialize, Serialize};

use crate::config::NodeConfig;
use crate::storage::install::Installer;

/// What a state sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub height: u64,
    pub records: u64,
    pub bytes: u64,
    pub millis: u64,
}

/// Why a state sync failed. Nothing is installed then.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no peer in [state_sync] peers offers a snapshot of chain {chain}: {why}")]
    NoSnapshot { chain: String, why: String },
    #[error("peer {peer}: {why}")]
    Peer { peer: String, why: String },
    #[error("no peer served a valid chunk {index} of the snapshot at height {height}: {why}")]
    Chunk {
        index: usize,
        height: u64,
        why: String,
    },
    #[error("the snapshot's validator set is not the one its peers' validator-set changes lead to: a peer held back a change; sync from other peers")]
    ValidatorSet,
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
}

/// `GET /v1/snapshots`.
#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotList {
    pub snapshots: Vec<Manifest>,
}

/// `GET /v1/snapshots/{height}/anchor`: the snapshot's block as committed.
#[derive(Debug, Serialize, Deserialize)]
pub struct Anchor {
    /// Hex of the block's bytes as proposed.
    pub block: String,
    /// Hex of the canonical commit certificate.
    pub certificate: String,
    /// Hex of the canonical (per-tx results, end-of-block events).
    pub results: String,
}

/// `GET /v1/certified-blocks`: blocks from a height on, each with the
/// certificate that committed it.
#[derive(Debug, Serialize, Deserialize)]
pub struct CertifiedBlocks {
    /// The serving node's head when it answered.
    pub head: u64,
    pub blocks: Vec<CertifiedBlock>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CertifiedBlock {
    /// Hex of the block's bytes as proposed.
    pub block: String,
    /// Hex of the canonical commit certificate.
    pub certificate: String,
}

/// `GET /v1/validator-sets`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ValidatorSets {
    pub proofs: Vec<StateProof>,
}

struct Client {
    http: reqwest::blocking::Client,
    reader: PeerReader,
}

fn peer_err(peer: &str, why: impl std::fmt::Display) -> SyncError {
    SyncError::Peer {
        peer: peer.to_string(),
        why: why.to_string(),
    }
}

impl Client {
    fn get(&self, peer: &str, path: &str, max: u64) -> Result<Vec<u8>, SyncError> {
        let resp = self
            .reader
            .get(&self.http, peer, path)
            .send()
            .map_err(|e| peer_err(peer, format!("GET {path}: {e}")))?;
        if matches!(resp.status().as_u16(), 401 | 403) {
            return Err(peer_err(
                peer,
                format!("GET {path}: HTTP {}: {}", resp.status(), self.reader.hint()),
            ));
        }
        if !resp.status().is_success() {
            return Err(peer_err(
                peer,
                format!("GET {path}: HTTP {}", resp.status()),
            ));
        }
        if resp.content_length().is_some_and(|n| n > max) {
            return Err(peer_err(
                peer,
                format!("GET {path}: answer over {max} bytes"),
            ));
        }
        let mut body = Vec::new();
        use std::io::Read;
        resp.take(max + 1)
            .read_to_end(&mut body)
            .map_err(|e| peer_err(peer, format!("GET {path}: {e}")))?;
        if body.len() as u64 > max {
            return Err(peer_err(
                peer,
                format!("GET {path}: answer over {max} bytes"),
            ));
        }
        Ok(body)
    }

    fn json<T: serde::de::DeserializeOwned>(&self, peer: &str, path: &str) -> Result<T, SyncError> {
        const MAX_JSON: u64 = 64 * 1024 * 1024;
        let body = self.get(peer, path, MAX_JSON)?;
        serde_json::from_slice(&body).map_err(|e| peer_err(peer, format!("GET {path}: {e}")))
    }
}

fn hex_field(peer: &str, what: &str, text: &str) -> Result<Vec<u8>, SyncError> {
    hex::decode(text).map_err(|e| peer_err(peer, format!("{what}: {e}")))
}

/// The checked block of the snapshot, and its results.
struct Checked {
    bytes: Vec<u8>,
    header: BlockHeader,
    cert: CommitCertificate,
    results: Vec<TxResult>,
    end_events: Vec<Event>,
}

fn check_anchor(
    peer: &str,
    a: &Anchor,
    chain_id: &str,
    validators: &[Validator],
) -> Result<Checked, SyncError> {
    let bytes = hex_field(peer, "block", &a.block)?;
    let block = Block::decode(&bytes).map_err(|e| peer_err(peer, format!("block: {e}")))?;
    let cert: CommitCertificate = codec::decode(&hex_field(peer, "certificate", &a.certificate)?)
        .map_err(|e| peer_err(peer, format!("certificate: {e}")))?;
    cert.verify_for(chain_id, &block.header, validators)
        .map_err(|e| peer_err(peer, format!("the snapshot's block is not certified: {e}")))?;
    if merkle::root(&tx_leaves(&block.txs)) != block.header.txs_root {
        return Err(peer_err(
            peer,
            "the snapshot's block txs do not match its txs_root",
        ));
    }
    let (results, end_events): (Vec<TxResult>, Vec<Event>) =
        codec::decode(&hex_field(peer, "results", &a.results)?)
            .map_err(|e| peer_err(peer, format!("results: {e}")))?;
    if merkle::root(&result_leaves(&block.txs, &results, &end_events)) != block.header.results_root
    {
        return Err(peer_err(
            peer,
            "the snapshot's block results do not match its results_root",
        ));
    }
    Ok(Checked {
        bytes,
        header: block.header,
        cert,
        results,
        end_events,
    })
}

/// Syncs the store of the node at `cfg` from its `[state_sync] peers`.
pub fn sync(
    cfg: &NodeConfig,
    genesis: &Genesis,
    reader: &PeerReader,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let client = Client {
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| peer_err("-", e))?,
        reader: reader.clone(),
    };
    let chain_id = genesis.chain_id().to_string();
    let peers = &cfg.state_sync_peers;

    // 1. The highest snapshot offered, and who offers it.
    let mut offers: Vec<(String, Manifest)> = Vec::new();
    let mut whys = Vec::new();
    // A bounded wait for the lists: a peer that is down refuses at once (its
    // API binds only once it runs), but one that hangs must not hold this
    // node's start for the two minutes a chunk may take.
    let quick = Client {
        http: reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| peer_err("-", e))?,
        reader: reader.clone(),
    };
    for p in peers {
        match quick.json::<SnapshotList>(p, "/v1/snapshots") {
            Ok(l) => offers.extend(
                l.snapshots
                    .into_iter()
                    .filter(|m| m.chain_id == chain_id)
                    .map(|m| (p.clone(), m)),
            ),
            Err(e) => whys.push(e.to_string()),
        }
    }
    if offers.is_empty() {
        return Err(SyncError::NoSnapshot {
            chain: chain_id,
            why: if whys.is_empty() {
                "none has one yet".into()
            } else {
                whys.join("; ")
            },
        });
    }
    // The highest height first; a height no holder can back with a
    // certified block (a peer may offer any height) gives way to the next.
    let mut heights: Vec<Height> = offers.iter().map(|(_, m)| m.height).collect();
    heights.sort_unstable_by(|a, b| b.cmp(a));
    heights.dedup();
    let genesis_set = genesis.initial_state().validators;
    let mut last_err = None;
    let mut found = None;
    'heights: for height in heights {
        let holders: Vec<String> = offers
            .iter()
            .filter(|(_, m)| m.height == height)
            .map(|(p, _)| p.clone())
            .collect();
        tracing::info!(target: "assent::sync", height = height.0, peers = holders.len(), "trying the state snapshot");
        // 2-3. The validator set up to the snapshot, then its block, from
        // the first holder that gives a consistent answer.
        for p in &holders {
            match anchored(&client, p, &chain_id, genesis.hash(), &genesis_set, height) {
                Ok(ok) => {
                    found = Some((height, holders.clone(), ok));
                    break 'heights;
                }
                Err(e) => {
                    tracing::warn!(target: "assent::sync", peer = %p, height = height.0, error = %e, "peer's snapshot refused");
                    last_err = Some(e);
                }
            }
        }
    }
    let Some((height, holders, (manifest, checked, validators))) = found else {
        return Err(last_err.unwrap_or(SyncError::NoSnapshot {
            chain: chain_id,
            why: "no peer holds one".into(),
        }));
    };

    // 4. The chunks, each checked on arrival.
    let installer = Installer::create(&cfg.store_path(), cfg.store_cache_bytes)?;
    let mut snapshot_set: Option<Vec<Validator>> = None;
    let mut bytes = 0u64;
    for index in 0..CHUNKS {
        let want = manifest.chunks[index].bytes.min(MAX_CHUNK_BYTES);
        let mut why = Vec::new();
        let mut got = None;
        for k in 0..holders.len() {
            let p = &holders[(index + k) % holders.len()];
            let path = format!("/v1/snapshots/{}/chunks/{index}", height.0);
            match client.get(p, &path, want).and_then(|b| {
                snapshot::check_chunk(&manifest, index, &b).map_err(|e| peer_err(p, e))
            }) {
                Ok(records) => {
                    got = Some(records);
                    break;
                }
                Err(e) => {
                    tracing::warn!(target: "assent::sync", peer = %p, index, error = %e, "snapshot chunk refused; trying the next peer");
                    why.push(e.to_string());
                }
            }
        }
        let records = got.ok_or_else(|| SyncError::Chunk {
            index,
            height: height.0,
            why: why.join("; "),
        })?;
        bytes += manifest.chunks[index].bytes;
        for (k, v) in &records {
            if k.as_slice() == keys::VALIDATORS {
                snapshot_set = codec::decode(v).ok();
            }
        }
        installer.put_chunk(records)?;
    }
    // Every chunk matched the manifest, whose chunk hashes join into the
    // certified state root (the store checks the whole tree again on open).
    // 5. The snapshot's validator set must be the followed one.
    if snapshot_set.as_deref() != Some(validators.as_slice()) {
        return Err(SyncError::ValidatorSet);
    }
    installer.finish(
        genesis.hash(),
        &checked.bytes,
        &checked.header,
        &checked.cert,
        &checked.results,
        &checked.end_events,
    )?;
    Ok(SyncReport {
        height: height.0,
        records: manifest.records(),
        bytes,
        millis: started.elapsed().as_millis() as u64,
    })
}

/// From one peer: the validator set followed to `height`, the snapshot's
/// block checked under it, and the manifest checked against the block.
fn anchored(
    client: &Client,
    peer: &str,
    chain_id: &str,
    genesis_hash: assent_contracts::Hash32,
    genesis_set: &[Validator],
    height: Height,
) -> Result<(Manifest, Checked, Vec<Validator>), SyncError> {
    let sets: ValidatorSets = client.json(peer, &format!("/v1/validator-sets?to={}", height.0))?;
    if sets.proofs.iter().any(|p| p.height > height) {
        return Err(peer_err(
            peer,
            "sent validator-set proofs above the snapshot",
        ));
    }
    let history =
        ValidatorHistory::follow(chain_id, genesis_hash, genesis_set.to_vec(), &sets.proofs)
            .map_err(|e| peer_err(peer, e))?;
    // Block `height` is certified by the set before its own change, if any.
    let anchor_set = history.certifying(height).to_vec();
    let set = history.latest().to_vec();
    let anchor: Anchor = client.json(peer, &format!("/v1/snapshots/{}/anchor", height.0))?;
    let checked = check_anchor(peer, &anchor, chain_id, &anchor_set)?;
    let list: SnapshotList = client.json(peer, "/v1/snapshots")?;
    let manifest = list
        .snapshots
        .into_iter()
        .find(|m| m.height == height)
        .ok_or_else(|| peer_err(peer, format!("no longer offers the snapshot at {height}")))?;
    manifest
        .check(&checked.header)
        .map_err(|e| peer_err(peer, e))?;
    Ok((manifest, checked, set))
}
