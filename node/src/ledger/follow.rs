//! Following the chain without voting: a full node (no validator key), or
//! a validator whose key is not (yet) in the validator set, fetches
//! committed blocks from the API of the peers in `[state_sync] peers`
//! (`GET /v1/certified-blocks`) and commits each one only after:
//!
//! 1. its commit certificate verifies under the validator set this node's
//!    own state holds for that height (validators of more than two thirds
//!    of the power signed exactly this header), and
//! 2. re-executing it on this node's state gives the header's roots (the
//!    same [`Chain::validate_block`] that checks a proposal).
//!
//! A peer is believed in nothing else: a peer that serves a block that
//! fails either check is dropped for this round and the next one is asked.
//! Validator-set changes are followed block by block, so a set that
//! governance changed is the one that checks the next certificate.

use super::peer_reads::PeerReader;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_contracts::block::Block;
use assent_contracts::commit::CommitCertificate;
use assent_contracts::{codec, AccountId, Height};

use super::chain::{Chain, ChainError};
use super::state_sync::CertifiedBlocks;

/// How often an idle follower asks for new blocks.
const POLL: Duration = Duration::from_millis(200);
/// Most bytes of one answer.
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// Why following stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Followed {
    /// This node's key is a validator from the height after `at`.
    BecameValidator { at: Height },
    /// The node is shutting down.
    Stopped,
}

/// A failure that stops the node (its own store), not a peer's fault.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// What a peer did wrong, for the log.
#[derive(Debug, thiserror::Error)]
enum PeerFault {
    #[error("unreachable or refused: {0}")]
    Fetch(String),
    #[error("block {height}: {why}")]
    Bad { height: u64, why: String },
}

/// Where the follower reports how far the peers are and that it runs.
pub trait Progress: Send + Sync {
    /// A peer whose blocks verified says its head is `height`.
    fn peer_head(&self, height: u64);
    /// The follower has heard from a peer at least once.
    fn started(&self);
}

/// Follows the chain from `peers` until `me` is in the validator set, or
/// `stop` is set. Blocking: run it on its own thread.
pub fn follow(
    chain: &Arc<Chain>,
    peers: &[String],
    me: Option<AccountId>,
    stop: &AtomicBool,
    progress: &dyn Progress,
    reader: &PeerReader,
) -> Result<Followed, FollowError> {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| FollowError::Client(e.to_string()))?;
    let mut next_peer = 0;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(Followed::Stopped);
        }
        if let Some(me) = me {
            if chain.validators()?.iter().any(|v| v.consensus_key == me) {
                return Ok(Followed::BecameValidator {
                    at: chain.head().height,
                });
            }
        }
        let mut got = 0;
        for k in 0..peers.len() {
            let peer = &peers[(next_peer + k) % peers.len()];
            match fetch_and_commit(&http, reader, chain, peer, progress) {
                Ok(n) => {
                    progress.started();
                    got = n;
                    next_peer = (next_peer + k) % peers.len();
                    break;
                }
                Err(Fault::Peer(f)) => {
                    tracing::warn!(target: "assent::follow", %peer, error = %f, "peer skipped")
                }
                Err(Fault::Node(e)) => return Err(e),
            }
        }
        if got == 0 {
            let until = Instant::now() + POLL;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

enum Fault {
    Peer(PeerFault),
    Node(FollowError),
}

impl From<ChainError> for Fault {
    fn from(e: ChainError) -> Fault {
        Fault::Node(e.into())
    }
}

/// Asks `peer` for the blocks after the head and commits those that check;
/// the number committed.
fn fetch_and_commit(
    http: &reqwest::blocking::Client,
    reader: &PeerReader,
    chain: &Chain,
    peer: &str,
    progress: &dyn Progress,
) -> Result<usize, Fault> {
    let from = chain.head().height.0 + 1;
    let answer = fetch(http, reader, peer, from).map_err(Fault::Peer)?;
    let mut committed = 0;
    for (i, b) in answer.blocks.iter().enumerate() {
        let height = from + i as u64;
        let bad = |why: String| Fault::Peer(PeerFault::Bad { height, why });
        let bytes = hex::decode(&b.block).map_err(|e| bad(format!("block hex: {e}")))?;
        let cert_bytes =
            hex::decode(&b.certificate).map_err(|e| bad(format!("certificate hex: {e}")))?;
        let block = Block::decode(&bytes).map_err(|e| bad(format!("block: {e}")))?;
        let cert: CommitCertificate =
            codec::decode(&cert_bytes).map_err(|e| bad(format!("certificate: {e}")))?;
        if block.header.height.0 != height {
            return Err(bad(format!(
                "the peer sent height {} in its place",
                block.header.height.0
            )));
        }
        let validators = chain.validators()?;
        cert.verify_for(chain.chain_id(), &block.header, &validators)
            .map_err(|e| bad(format!("not certified by the validator set: {e}")))?;
        let hash = block.header.hash();
        let executed = chain
            .validate_block(block, bytes, None, &|_| None, None)?
            .map_err(|why| bad(format!("does not re-execute to its header: {why}")))?;
        chain.remember(executed)?;
        chain.commit(Height(height), hash, &cert, &|_| None)?;
        committed += 1;
    }
    // Believed only from a peer whose blocks just verified (or that had
    // nothing new): it only decides whether this node reports `syncing`.
    progress.peer_head(answer.head);
    Ok(committed)
}

fn fetch(
    http: &reqwest::blocking::Client,
    reader: &PeerReader,
    peer: &str,
    from: u64,
) -> Result<CertifiedBlocks, PeerFault> {
    use std::io::Read as _;
    let resp = reader
        .get(http, peer, &format!("/v1/certified-blocks?from={from}"))
        .send()
        .map_err(|e| PeerFault::Fetch(e.to_string()))?;
    match resp.status().as_u16() {
        s if (200..300).contains(&s) => {}
        s @ (401 | 403) => {
            return Err(PeerFault::Fetch(format!(
                "HTTP {s}: the peer refused this node's read; {}",
                reader.hint()
            )))
        }
        s => return Err(PeerFault::Fetch(format!("HTTP {s}"))),
    }
    let mut body = Vec::new();
    resp.take(MAX_ANSWER + 1)
        .read_to_end(&mut body)
        .map_err(|e| PeerFault::Fetch(e.to_string()))?;
    if body.len() as u64 > MAX_ANSWER {
        return Err(PeerFault::Fetch(format!("answer over {MAX_ANSWER} bytes")));
    }
    serde_json::from_slice(&body).map_err(|e| PeerFault::Fetch(format!("answer: {e}")))
}
