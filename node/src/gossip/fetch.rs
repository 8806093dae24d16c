//! Fetching a proposal's txs from a peer: a request-response protocol on
//! the gossip swarm (allowlisted validators only).
//!
//! A validator that lacks some txs a compact proposal names
//! ([`crate::consensus::compact`]) asks a peer that holds the block — its
//! proposer first — for them by (height, block hash, indices). The answer is
//! the txs' canonical bytes in the order asked, or nothing when the peer
//! does not hold that block. The asker checks every tx against the slot it
//! fills; nothing here is believed.
//!
//! Bounds: a request names at most [`MAX_FETCH_TXS`] indices, a response
//! carries at most [`MAX_RESPONSE_BYTES`]; each is one length-prefixed
//! canonical encoding, refused before it is read when its length is over
//! the bound. The swarm serves at most [`MAX_SERVING`] requests at once
//! ([`MAX_SERVING_PER_PEER`] per peer) and drops the rest.

use std::io;

use assent_contracts::codec;
use assent_contracts::BlockHash;
use futures::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use libp2p::{PeerId, StreamProtocol};
use tokio::sync::oneshot;

/// The protocol's name on the wire.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/assent/proposal-txs/1");
/// Most txs one request names (more than any block holds).
pub const MAX_FETCH_TXS: usize = 65_536;
/// Largest encoded request: `MAX_FETCH_TXS` indices of at most 5 bytes.
const MAX_REQUEST_BYTES: usize = 64 + MAX_FETCH_TXS * 5;
/// Largest encoded response: above the largest block (4 MiB by default,
/// the stream limit is 9 MiB) with room for framing.
pub const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;
/// Requests served at once, from all peers; more are dropped.
pub const MAX_SERVING: usize = 16;
/// Requests served at once for one peer.
pub const MAX_SERVING_PER_PEER: usize = 4;

/// Txs of the block `hash` at `height`, by their index in the block.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct FetchRequest {
    pub height: u64,
    pub hash: BlockHash,
    pub indices: Vec<u32>,
}

/// The answer: the txs asked for, in the order asked, or `Unknown` when the
/// peer does not hold the block (or an index is past its end).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum FetchResponse {
    Txs(Vec<Vec<u8>>),
    Unknown,
}

/// Why a fetch got no txs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the request names {0} txs; at most {MAX_FETCH_TXS} may be asked at once")]
    TooMany(usize),
    #[error("the peer does not hold that block")]
    Unknown,
    #[error("the fetch failed: {0}")]
    Failed(String),
    #[error("the gossip actor is gone")]
    Gone,
}

/// A request from a peer, for the node to answer through `reply` (dropping
/// it answers nothing; the peer sees the stream close).
#[derive(Debug)]
pub struct Serve {
    pub from: PeerId,
    pub request: FetchRequest,
    pub reply: oneshot::Sender<FetchResponse>,
}

/// The codec: a u32 big-endian length, then the canonical encoding.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchCodec;

async fn read_framed<T, R>(io: &mut R, max: usize) -> io::Result<T>
where
    T: bincode::Decode<()> + bincode::Encode,
    R: AsyncRead + Unpin + Send,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {len} bytes; the limit is {max}"),
        ));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    codec::decode_native(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

async fn write_framed<T, W>(io: &mut W, value: &T, max: usize) -> io::Result<()>
where
    T: bincode::Encode,
    W: AsyncWrite + Unpin + Send,
{
    let bytes =
        codec::encode_native(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    if bytes.len() > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("message of {} bytes; the limit is {max}", bytes.len()),
        ));
    }
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
}

#[async_trait::async_trait]
impl libp2p::request_response::Codec for FetchCodec {
    type Protocol = StreamProtocol;
    type Request = FetchRequest;
    type Response = FetchResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<FetchRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        let r: FetchRequest = read_framed(io, MAX_REQUEST_BYTES).await?;
        if r.indices.len() > MAX_FETCH_TXS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                FetchError::TooMany(r.indices.len()),
            ));
        }
        Ok(r)
    }

    async fn read_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> io::Result<FetchResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_framed(io, MAX_RESPONSE_BYTES).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: FetchRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_framed(io, &req, MAX_REQUEST_BYTES).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: FetchResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_framed(io, &res, MAX_RESPONSE_BYTES).await
    }
}

/// Counts requests being served, in all and per peer (the swarm's bound).
#[derive(Debug, Default)]
pub struct Serving {
    total: usize,
    per_peer: std::collections::BTreeMap<PeerId, usize>,
}

impl Serving {
    /// Takes a slot for `peer`, or `false` when a bound is reached.
    pub fn start(&mut self, peer: PeerId) -> bool {
        let mine = self.per_peer.get(&peer).copied().unwrap_or(0);
        if self.total >= MAX_SERVING || mine >= MAX_SERVING_PER_PEER {
            return false;
        }
        self.total += 1;
        self.per_peer.insert(peer, mine + 1);
        true
    }

    /// Gives back a slot of `peer`.
    pub fn done(&mut self, peer: PeerId) {
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.per_peer.get_mut(&peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_peer.remove(&peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use libp2p::request_response::Codec as _;

    fn request(n: usize) -> FetchRequest {
        FetchRequest {
            height: 7,
            hash: BlockHash(assent_contracts::Hash32([3; 32])),
            indices: (0..n as u32).collect(),
        }
    }

    #[tokio::test]
    async fn requests_and_responses_cross_the_codec_unchanged() {
        let mut c = FetchCodec;
        let mut wire = futures::io::Cursor::new(Vec::new());
        c.write_request(&PROTOCOL, &mut wire, request(3))
            .await
            .unwrap();
        wire.set_position(0);
        assert_eq!(
            c.read_request(&PROTOCOL, &mut wire).await.unwrap(),
            request(3)
        );

        let res = FetchResponse::Txs(vec![vec![1, 2, 3], vec![]]);
        let mut wire = futures::io::Cursor::new(Vec::new());
        c.write_response(&PROTOCOL, &mut wire, res.clone())
            .await
            .unwrap();
        wire.set_position(0);
        assert_eq!(c.read_response(&PROTOCOL, &mut wire).await.unwrap(), res);
    }

    #[tokio::test]
    async fn oversized_truncated_and_garbage_messages_are_refused() {
        let mut c = FetchCodec;
        // A length over the bound is refused before anything is read.
        let mut wire = futures::io::Cursor::new(u32::MAX.to_be_bytes().to_vec());
        let e = c.read_response(&PROTOCOL, &mut wire).await.unwrap_err();
        assert!(e.to_string().contains("the limit is"), "{e}");
        // Too many indices.
        let mut wire = futures::io::Cursor::new(Vec::new());
        write_framed(&mut wire, &request(MAX_FETCH_TXS + 1), usize::MAX)
            .await
            .unwrap();
        wire.set_position(0);
        let e = c.read_request(&PROTOCOL, &mut wire).await.unwrap_err();
        assert!(e.to_string().contains("at most 65536"), "{e}");
        // A length longer than the stream.
        let mut wire = futures::io::Cursor::new(vec![0, 0, 0, 9, 1, 2]);
        assert!(c.read_request(&PROTOCOL, &mut wire).await.is_err());
        // Garbage of the announced length.
        let mut wire = futures::io::Cursor::new(vec![0, 0, 0, 3, 0xff, 0xff, 0xff]);
        let e = c.read_response(&PROTOCOL, &mut wire).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn serving_is_bounded_in_all_and_per_peer() {
        let (a, b) = (PeerId::random(), PeerId::random());
        let mut s = Serving::default();
        for _ in 0..MAX_SERVING_PER_PEER {
            assert!(s.start(a));
        }
        assert!(!s.start(a), "a peer's own bound");
        s.done(a);
        assert!(s.start(a), "a finished request gives its slot back");
        let mut taken = MAX_SERVING_PER_PEER;
        let mut others = Vec::new();
        while taken < MAX_SERVING {
            let p = PeerId::random();
            assert!(s.start(p));
            others.push(p);
            taken += 1;
        }
        assert!(!s.start(b), "the bound in all");
        s.done(others[0]);
        assert!(s.start(b));
    }
}
