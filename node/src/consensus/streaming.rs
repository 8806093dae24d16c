//! Proposal streaming: splitting a block into proposal parts (proposer side)
//! and reassembling parts from the gossip network (receiver side).
//!
//! A stream is `Data(Init)`, `Data(Data chunk)…`, `Data(Fin{roots,
//! signature})` with sequences `0..n`, then `StreamContent::Fin` with
//! sequence `n`. The chunks are the block with both roots zero; the `Fin`
//! part carries them, so a proposer can send the rest before it executes. Streams are
//! keyed by (publisher peer id, stream id); a publisher never reuses a stream
//! id (ours are height ‖ round ‖ nonce).
//!
//! Invariants of [`PartStreams`]:
//! - a stream is opened (every part in but the `Fin` part, see
//!   [`Progress::Opened`]) at most once, found by counting parts as they
//!   come, not by scanning the stream at each one;
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

use super::types::{Address, Height, ProposalPart, Roots, Signature};

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

/// What a stream's `Init` part says of its proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opening {
    pub height: Height,
    pub round: Round,
    pub pol_round: Round,
    pub proposer: Address,
}

/// The first parts of a proposal: `Init`, then `block_bytes` (the block
/// without its roots) in chunks of `part_size` bytes (at least 1).
pub fn opening_parts(o: &Opening, block_bytes: &[u8], part_size: usize) -> Vec<ProposalPart> {
    let chunks = block_bytes.chunks(part_size.max(1));
    let mut parts = Vec::with_capacity(chunks.len() + 2);
    parts.push(ProposalPart::Init {
        height: o.height,
        round: o.round,
        pol_round: o.pol_round,
        proposer: o.proposer,
        data_parts: u32::try_from(chunks.len()).unwrap_or(u32::MAX),
    });
    parts.extend(chunks.map(|c| ProposalPart::Data(c.to_vec())));
    parts
}

/// All the parts of a proposal: [`opening_parts`], then `Fin` with the
/// block's roots and the proposer's block-stream signature.
pub fn split_block(
    o: &Opening,
    block_bytes: &[u8],
    roots: Roots,
    signature: Signature,
    part_size: usize,
) -> Vec<ProposalPart> {
    let mut parts = opening_parts(o, block_bytes, part_size);
    parts.push(ProposalPart::Fin { roots, signature });
    parts
}

/// Numbers the messages of one outgoing stream: each part as `Data` with
/// sequences `0..n`, then the `Fin` marker with sequence `n`.
#[derive(Debug)]
pub struct Outgoing {
    id: StreamId,
    next: u64,
}

impl Outgoing {
    pub fn new(id: StreamId) -> Outgoing {
        Outgoing { id, next: 0 }
    }

    /// The message for the next part.
    pub fn part(&mut self, part: ProposalPart) -> StreamMessage<ProposalPart> {
        let msg = StreamMessage::new(self.id.clone(), self.next, StreamContent::Data(part));
        self.next += 1;
        msg
    }

    /// The end marker, after the last part.
    pub fn end(self) -> StreamMessage<ProposalPart> {
        StreamMessage::new(self.id, self.next, StreamContent::Fin)
    }
}

/// The messages to publish for `parts`: each part as `Data` with sequences
/// `0..n`, then the `Fin` marker with sequence `n`.
pub fn stream_messages(
    stream_id: StreamId,
    parts: Vec<ProposalPart>,
) -> Vec<StreamMessage<ProposalPart>> {
    let mut out = Outgoing::new(stream_id);
    let mut msgs: Vec<_> = parts.into_iter().map(|p| out.part(p)).collect();
    msgs.push(out.end());
    msgs
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
    /// The block without its roots (both zero).
    pub block_bytes: Vec<u8>,
    /// The `Fin` part's roots of the block.
    pub roots: Roots,
    /// The `Fin` part's signature over (height, round, block hash).
    pub signature: Signature,
}

/// A proposal stream whose `Init` and every `Data` part have arrived, its
/// `Fin` part not yet: the block without its roots, which a validator can
/// execute while the proposer does (structure checked, nothing signed yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedStream {
    pub publisher: PeerId,
    pub height: Height,
    pub round: Round,
    pub proposer: Address,
    /// The block without its roots (both zero), as the `Data` parts carry it.
    pub block_bytes: Vec<u8>,
}

/// What one message did to its stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Every part before the `Fin` part is in: each stream is opened at
    /// most once, and never if one message completes it.
    Opened(OpenedStream),
    /// The stream is complete.
    Completed(CompletedStream),
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
    /// The `Init` part's count of `Data` parts, once it is in.
    data_parts: Option<u64>,
    /// Parts in at sequences `1..=data_parts` (kept as parts come, so
    /// opening costs one pass over the stream, not one per part).
    data_in: u64,
    /// Whether the stream was tried for [`Progress::Opened`] (once).
    opened: bool,
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
    /// this message opens or completes it (see [`Progress`]), `Ok(None)`
    /// otherwise (or when the message is a duplicate or belongs to a closed
    /// stream), and an error when the stream was malformed or too large (it
    /// is then dropped).
    pub fn insert(
        &mut self,
        publisher: PeerId,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<Progress>, StreamError> {
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
            Ok(Some(Progress::Completed(_))) => self.close(&key),
            Ok(Some(Progress::Opened(_)) | None) => {}
        }
        result
    }

    fn apply(
        &mut self,
        key: &Key,
        msg: StreamMessage<ProposalPart>,
    ) -> Result<Option<Progress>, StreamError> {
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
            data_parts: None,
            data_in: 0,
            opened: false,
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
                if let ProposalPart::Init { data_parts, .. } = &part {
                    let n = u64::from(*data_parts);
                    buf.data_parts = Some(n);
                    buf.data_in = buf.parts.range(1..=n).count() as u64;
                } else if buf
                    .data_parts
                    .is_some_and(|n| (1..=n).contains(&msg.sequence))
                {
                    buf.data_in += 1;
                }
                buf.parts.insert(msg.sequence, part);
            }
        }
        let complete = buf.fin_seq.is_some_and(|f| buf.parts.len() as u64 == f);
        if !complete {
            if buf.opened || buf.data_parts != Some(buf.data_in) {
                return Ok(None);
            }
            buf.opened = true;
            return Ok(opening(key.0, &buf.parts).map(Progress::Opened));
        }
        let Some(buf) = self.streams.remove(key) else {
            return Ok(None);
        };
        self.total_bytes = self.total_bytes.saturating_sub(buf.bytes);
        assemble(key.0, buf).map(|c| Some(Progress::Completed(c)))
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

/// The opened stream of `parts`, whose `Init` and the parts at all the
/// sequences it counts for `Data` are in; `None` if one of those is not a
/// `Data` part (the stream is malformed; assembly will say so).
fn opening(publisher: PeerId, parts: &BTreeMap<u64, ProposalPart>) -> Option<OpenedStream> {
    let Some(ProposalPart::Init {
        height,
        round,
        proposer,
        data_parts,
        ..
    }) = parts.get(&0)
    else {
        return None;
    };
    let n = u64::from(*data_parts);
    let mut block_bytes = Vec::new();
    for part in parts.range(1..=n).map(|(_, p)| p) {
        let ProposalPart::Data(d) = part else {
            return None;
        };
        block_bytes.extend_from_slice(d);
    }
    Some(OpenedStream {
        publisher,
        height: *height,
        round: *round,
        proposer: *proposer,
        block_bytes,
    })
}

/// Checks the order of a complete stream's parts and joins the block.
fn assemble(publisher: PeerId, buf: Buffer) -> Result<CompletedStream, StreamError> {
    let mut parts = buf.parts.into_values();
    let Some(ProposalPart::Init {
        height,
        round,
        pol_round,
        proposer,
        data_parts,
    }) = parts.next()
    else {
        return Err(StreamError::Malformed("first part is not Init"));
    };
    let mut block_bytes = Vec::with_capacity(buf.bytes);
    let mut data = 0u32;
    let mut fin = None;
    for part in parts {
        match (part, fin) {
            (ProposalPart::Data(d), None) => {
                data = data.saturating_add(1);
                block_bytes.extend_from_slice(&d);
            }
            (ProposalPart::Fin { roots, signature }, None) => fin = Some((roots, signature)),
            (ProposalPart::Init { .. }, _) => {
                return Err(StreamError::Malformed("second Init part"))
            }
            (_, Some(_)) => return Err(StreamError::Malformed("part after the Fin part")),
        }
    }
    let Some((roots, signature)) = fin else {
        return Err(StreamError::Malformed("no Fin part"));
    };
    if data != data_parts {
        return Err(StreamError::Malformed(
            "the Init part counts other Data parts than sent",
        ));
    }
    Ok(CompletedStream {
        publisher,
        height,
        round,
        pol_round,
        proposer,
        block_bytes,
        roots,
        signature,
    })
}

#[cfg(test)]
#[path = "streaming_tests.rs"]
mod tests;
