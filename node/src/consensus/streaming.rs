//! Proposal streaming: splitting a block into proposal parts (proposer side)
//! and reassembling parts from the gossip network (receiver side).
//!
//! A stream is `Data(Init)`, `Data(Data chunk)…`, `Data(Fin{signature})` with
//! sequences `0..n`, then `StreamContent::Fin` with sequence `n`. Streams are
//! keyed by (publisher peer id, stream id); a publisher never reuses a stream
//! id (ours are height ‖ round ‖ nonce).
//!
//! Invariants of [`PartStreams`]:
//! - a stream completes at most once: finished, dropped and evicted streams
//!   are removed and remembered in a bounded list of closed keys, so late
//!   duplicates are ignored instead of starting a new stream;
//! - memory is bounded: at most `max_streams` open streams (and
//!   `max_streams_per_publisher` per publisher), each holding at most
//!   `max_stream_bytes` (a part costs its data plus [`PART_OVERHEAD`]); the
//!   least recently touched stream is evicted first;
//! - reassembly checks structure only (Init first, Fin part last, Data
//!   between). The caller checks the Fin signature
//!   (`ConsensusVerifier::verify_block_stream`) and decodes the block.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use bytes::Bytes;
use malachitebft_core_types::Round;
use malachitebft_engine::util::streaming::{StreamContent, StreamId, StreamMessage};
use malachitebft_peer::PeerId;
use tracing::debug;

use super::types::{Address, Height, ProposalPart, Signature};

/// A good part size: well below the 4 MiB gossip message limit.
pub const DEFAULT_PART_SIZE: usize = 256 * 1024;

/// Longest stream id accepted (ours are 16 bytes).
pub const MAX_STREAM_ID_BYTES: usize = 64;

/// Bytes charged per buffered part on top of its data (bookkeeping).
pub const PART_OVERHEAD: usize = 64;

/// Our stream id: `height u64 BE ‖ round u32 BE ‖ nonce u32 BE` (a nil
/// round, which never proposes, is written as `u32::MAX`). Pick a fresh nonce
/// for every stream, restreams included.
pub fn stream_id(height: Height, round: Round, nonce: u32) -> StreamId {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&height.0.to_be_bytes());
    b.extend_from_slice(&round.as_u32().unwrap_or(u32::MAX).to_be_bytes());
    b.extend_from_slice(&nonce.to_be_bytes());
    StreamId::new(Bytes::from(b))
}

/// The parts of a proposal: `Init`, the block in chunks of `part_size` bytes
/// (at least 1), then `Fin` with the proposer's block-stream signature.
pub fn split_block(
    height: Height,
    round: Round,
    pol_round: Round,
    proposer: Address,
    block_bytes: &[u8],
    signature: Signature,
    part_size: usize,
) -> Vec<ProposalPart> {
    let chunks = block_bytes.chunks(part_size.max(1));
    let mut parts = Vec::with_capacity(chunks.len() + 2);
    parts.push(ProposalPart::Init {
        height,
        round,
        pol_round,
        proposer,
    });
    parts.extend(chunks.map(|c| ProposalPart::Data(c.to_vec())));
    parts.push(ProposalPart::Fin { signature });
    parts
}

/// The messages to publish for `parts`: each part as `Data` with sequences
/// `0..n`, then the `Fin` marker with sequence `n`.
pub fn stream_messages(
    stream_id: StreamId,
    parts: Vec<ProposalPart>,
) -> Vec<StreamMessage<ProposalPart>> {
    let mut out = Vec::with_capacity(parts.len() + 1);
    let mut seq: u64 = 0;
    for part in parts {
        out.push(StreamMessage::new(
            stream_id.clone(),
            seq,
            StreamContent::Data(part),
        ));
        seq += 1;
    }
    out.push(StreamMessage::new(stream_id, seq, StreamContent::Fin));
    out
}

/// A fully received proposal stream (structure checked, signature NOT checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletedStream {
    /// The network peer that published the stream.
    pub publisher: PeerId,
    pub height: Height,
    pub round: Round,
    pub pol_round: Round,
    pub proposer: Address,
    pub block_bytes: Vec<u8>,
    /// The `Fin` part's signature over (height, round, block hash).
    pub signature: Signature,
}

/// Memory bounds of [`PartStreams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    /// Open streams, all publishers together.
    pub max_streams: usize,
    /// Open streams of one publisher.
    pub max_streams_per_publisher: usize,
    /// Buffered bytes of one stream (data + [`PART_OVERHEAD`] per part); must
    /// exceed the largest encoded block plus the per-part overhead.
    pub max_stream_bytes: usize,
    /// Closed stream keys remembered to ignore late duplicates.
    pub max_closed: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_streams: 16,
            max_streams_per_publisher: 4,
            max_stream_bytes: 9 * 1024 * 1024,
            max_closed: 256,
        }
    }
}

/// Why a stream message (and its stream) was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    #[error("stream id of {len} bytes is longer than {max}")]
    StreamIdTooLong { len: usize, max: usize },
    #[error("stream exceeds {max_bytes} buffered bytes or its sequence numbers run too high")]
    TooLarge { max_bytes: usize },
    #[error("malformed stream: {0}")]
    Malformed(&'static str),
}

#[derive(Debug)]
struct Buffer {
    parts: BTreeMap<u64, ProposalPart>,
    /// Sequence of the `StreamContent::Fin` marker = number of parts.
    fin_seq: Option<u64>,
    bytes: usize,
    last_touch: u64,
}

type Key = (PeerId, StreamId);

/// Reassembles proposal streams; see the module docs for its invariants.
#[derive(Debug)]
pub struct PartStreams {
    limits: StreamLimits,
    streams: HashMap<Key, Buffer>,
    closed: HashSet<Key>,
    closed_order: VecDeque<Key>,
    total_bytes: usize,
    clock: u64,
}

fn part_cost(part: &ProposalPart) -> usize {
    match part {
        ProposalPart::Data(d) => PART_OVERHEAD.saturating_add(d.len()),
        _ => PART_OVERHEAD,
    }
}

impl Default for PartStreams {
    fn default() -> Self {
        PartStreams::new()
    }
}

impl PartStreams {
    /// A reassembler with [`StreamLimits::default`].
    pub fn new() -> Self {
        PartStreams::with_limits(StreamLimits::default())
    }

    pub fn with_limits(limits: StreamLimits) -> Self {
        let limits = StreamLimits {
            max_streams: limits.max_streams.max(1),
            max_streams_per_publisher: limits.max_streams_per_publisher.max(1),
            ..limits
        };
        PartStreams {
            limits,
            streams: HashMap::new(),
            closed: HashSet::new(),
            closed_order: VecDeque::new(),
            total_bytes: 0,
            clock: 0,
        }
    }

    /// Sets the open-stream limits: `per_publisher` streams each, `total`
    /// in all (the intake sets `total` to cover every validator, so one
    /// publisher's streams never evict another's).
    pub fn set_publisher_limits(&mut self, per_publisher: usize, total: usize) {
        self.limits.max_streams_per_publisher = per_publisher.max(1);
        self.limits.max_streams = total.max(1);
    }

    /// Open (incomplete) streams.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    /// Bytes charged to open streams (data plus per-part overhead).
    pub fn buffered_bytes(&self) -> usize {
        self.total_bytes
    }

    /// Drops every open stream whose `Init` names a height below `height`
    /// (call when a height is finalized).
    pub fn prune_below(&mut self, height: Height) {
        let old: Vec<Key> = self
            .streams
            .iter()
            .filter(|(_, b)| {
                matches!(b.parts.get(&0), Some(ProposalPart::Init { height: h, .. }) if *h < height)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in old {
            self.close(&key);
        }
    }

    /// Adds one message published by `publisher`. Returns the stream when
    /// this message completes it, `Ok(None)` while it is incomplete (or the
    /// message is a duplicate or belongs to a closed stream), and an error
    /// when the stream was malformed or too large (it is then dropped).
    pub fn insert(
        &mut self,
        publisher: PeerId,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<CompletedStream>, StreamError> {
        let id_len = msg.stream_id.to_bytes().len();
        if id_len > MAX_STREAM_ID_BYTES {
            return Err(StreamError::StreamIdTooLong {
                len: id_len,
                max: MAX_STREAM_ID_BYTES,
            });
        }
        let key: Key = (publisher, msg.stream_id.clone());
        if self.closed.contains(&key) {
            return Ok(None);
        }
        let result = self.apply(&key, msg);
        match &result {
            Err(e) => {
                debug!(target: "assent::consensus", %publisher, stream = %key.1, error = %e, "dropping proposal stream");
                self.close(&key);
            }
            Ok(Some(_)) => self.close(&key),
            Ok(None) => {}
        }
        result
    }

    fn apply(
        &mut self,
        key: &Key,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<CompletedStream>, StreamError> {
        let max_bytes = self.limits.max_stream_bytes;
        // Every part costs at least PART_OVERHEAD, so a longer stream cannot fit.
        let max_seq = (max_bytes / PART_OVERHEAD) as u64;
        if msg.sequence > max_seq {
            return Err(StreamError::TooLarge { max_bytes });
        }
        match &msg.content {
            StreamContent::Data(ProposalPart::Init { .. }) if msg.sequence != 0 => {
                return Err(StreamError::Malformed("Init part after sequence 0"))
            }
            StreamContent::Data(ProposalPart::Data(_) | ProposalPart::Fin { .. })
                if msg.sequence == 0 =>
            {
                return Err(StreamError::Malformed("sequence 0 is not an Init part"))
            }
            StreamContent::Fin if msg.sequence == 0 => {
                return Err(StreamError::Malformed("stream without parts"))
            }
            _ => {}
        }
        if !self.streams.contains_key(key) {
            self.make_room(&key.0);
        }
        self.clock += 1;
        let clock = self.clock;
        let buf = self.streams.entry(key.clone()).or_insert_with(|| Buffer {
            parts: BTreeMap::new(),
            fin_seq: None,
            bytes: 0,
            last_touch: clock,
        });
        buf.last_touch = clock;
        match msg.content {
            StreamContent::Fin => {
                match buf.fin_seq {
                    Some(f) if f == msg.sequence => return Ok(None),
                    Some(_) => return Err(StreamError::Malformed("two different end markers")),
                    None => {}
                }
                if buf
                    .parts
                    .keys()
                    .next_back()
                    .is_some_and(|&last| last >= msg.sequence)
                {
                    return Err(StreamError::Malformed("part after the end marker"));
                }
                buf.fin_seq = Some(msg.sequence);
            }
            StreamContent::Data(part) => {
                if buf.fin_seq.is_some_and(|f| msg.sequence >= f) {
                    return Err(StreamError::Malformed("part after the end marker"));
                }
                if buf.parts.contains_key(&msg.sequence) {
                    return Ok(None);
                }
                let cost = part_cost(&part);
                if buf.bytes.saturating_add(cost) > max_bytes {
                    return Err(StreamError::TooLarge { max_bytes });
                }
                buf.bytes += cost;
                self.total_bytes += cost;
                buf.parts.insert(msg.sequence, part);
            }
        }
        let complete = buf.fin_seq.is_some_and(|f| buf.parts.len() as u64 == f);
        if !complete {
            return Ok(None);
        }
        let Some(buf) = self.streams.remove(key) else {
            return Ok(None);
        };
        self.total_bytes = self.total_bytes.saturating_sub(buf.bytes);
        assemble(key.0, buf).map(Some)
    }

    /// Before opening a stream of `publisher`: evicts that publisher's least
    /// recently touched stream if it is at its limit, then the globally least
    /// recently touched one if all streams together are.
    fn make_room(&mut self, publisher: &PeerId) {
        let own = self.streams.keys().filter(|k| &k.0 == publisher).count();
        if own >= self.limits.max_streams_per_publisher {
            if let Some(key) = self.lru(|k| &k.0 == publisher) {
                debug!(target: "assent::consensus", %publisher, stream = %key.1, "evicting proposal stream (publisher limit)");
                self.close(&key);
            }
        }
        if self.streams.len() >= self.limits.max_streams {
            if let Some(key) = self.lru(|_| true) {
                debug!(target: "assent::consensus", publisher = %key.0, stream = %key.1, "evicting proposal stream (stream limit)");
                self.close(&key);
            }
        }
    }

    fn lru(&self, filter: impl Fn(&Key) -> bool) -> Option<Key> {
        self.streams
            .iter()
            .filter(|(k, _)| filter(k))
            .min_by_key(|(_, b)| b.last_touch)
            .map(|(k, _)| k.clone())
    }

    /// Removes an open stream (if any) and remembers its key as closed.
    fn close(&mut self, key: &Key) {
        if let Some(buf) = self.streams.remove(key) {
            self.total_bytes = self.total_bytes.saturating_sub(buf.bytes);
        }
        if self.limits.max_closed == 0 || !self.closed.insert(key.clone()) {
            return;
        }
        self.closed_order.push_back(key.clone());
        while self.closed_order.len() > self.limits.max_closed {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
    }
}

/// Checks the order of a complete stream's parts and joins the block.
fn assemble(publisher: PeerId, buf: Buffer) -> Result<CompletedStream, StreamError> {
    let mut parts = buf.parts.into_values();
    let Some(ProposalPart::Init {
        height,
        round,
        pol_round,
        proposer,
    }) = parts.next()
    else {
        return Err(StreamError::Malformed("first part is not Init"));
    };
    let mut block_bytes = Vec::with_capacity(buf.bytes);
    let mut signature = None;
    for part in parts {
        match (part, signature) {
            (ProposalPart::Data(d), None) => block_bytes.extend_from_slice(&d),
            (ProposalPart::Fin { signature: s }, None) => signature = Some(s),
            (ProposalPart::Init { .. }, _) => {
                return Err(StreamError::Malformed("second Init part"))
            }
            (_, Some(_)) => return Err(StreamError::Malformed("part after the Fin part")),
        }
    }
    let Some(signature) = signature else {
        return Err(StreamError::Malformed("no Fin part"));
    };
    Ok(CompletedStream {
        publisher,
        height,
        round,
        pol_round,
        proposer,
        block_bytes,
        signature,
    })
}

#[cfg(test)]
#[path = "streaming_tests.rs"]
mod tests;
