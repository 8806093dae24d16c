//! The one codec of every engine message: network (consensus gossip, proposal
//! parts, liveness, validator proofs), value sync, and the consensus WAL.
//!
//! Format: borsh (the engine crates' `borsh` features plus our types), except
//! for the two engine types without a borsh impl, encoded here by hand in the
//! same style (little-endian integers, `u32` length prefixes, `0/1` option
//! tags): [`ValidatorProof`] and the sync [`Response`] (whose
//! [`ExtendedCommitCertificate`] has no borsh impl).
//!
//! Invariants: decoding never panics, refuses inputs over [`MAX_MESSAGE_BYTES`]
//! before looking at them, and refuses trailing bytes. These bytes are the
//! wire format and the WAL format: changing them breaks WAL replay and
//! talking to older peers, so golden tests pin them.

use std::io;

use borsh::io::{Read, Write};
use borsh::{BorshDeserialize, BorshSerialize};
use bytes::Bytes;
use malachitebft_codec::{Codec, HasEncodedLen};
use malachitebft_core_consensus::{LivenessMsg, ProposedValue, SignedConsensusMsg};
use malachitebft_core_types::{
    CommitCertificate, ExtendedCommitCertificate, ExtendedCommitSignature, PolkaCertificate, Round,
    SignedExtension, ValidatorProof,
};
use malachitebft_engine::util::streaming::StreamMessage;
use malachitebft_sync::{RawDecidedValue, Request, Response, Status, ValueResponse};

use super::types::{Address, AssentContext, BlockId, Height, ProposalPart, Signature};

/// The largest message the codec encodes or decodes (16 MiB): above the sync
/// response limit (10 MiB), the gossip limit (4 MiB) and the largest block.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The largest public key or peer id accepted in a validator proof.
pub const MAX_PROOF_FIELD_BYTES: usize = 256;

/// Why bytes could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("malformed message: {0}")]
    Malformed(#[source] io::Error),
    #[error("could not encode message: {0}")]
    Encode(#[source] io::Error),
}

/// The codec handed to the engine for the network, sync and the WAL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireCodec;

fn check_len(len: usize) -> Result<(), CodecError> {
    if len > MAX_MESSAGE_BYTES {
        Err(CodecError::TooLarge {
            len,
            max: MAX_MESSAGE_BYTES,
        })
    } else {
        Ok(())
    }
}

fn decode_borsh<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, CodecError> {
    check_len(bytes.len())?;
    borsh::from_slice(bytes).map_err(CodecError::Malformed)
}

fn encode_borsh<T: BorshSerialize + ?Sized>(value: &T) -> Result<Bytes, CodecError> {
    let out = borsh::to_vec(value).map_err(CodecError::Encode)?;
    check_len(out.len())?;
    Ok(Bytes::from(out))
}

macro_rules! borsh_codec {
    ($($t:ty),* $(,)?) => {$(
        impl Codec<$t> for WireCodec {
            type Error = CodecError;

            fn decode(&self, bytes: Bytes) -> Result<$t, CodecError> {
                decode_borsh(&bytes)
            }

            fn encode(&self, msg: &$t) -> Result<Bytes, CodecError> {
                encode_borsh(msg)
            }
        }
    )*};
}

borsh_codec!(
    ProposalPart,
    SignedConsensusMsg<AssentContext>,
    LivenessMsg<AssentContext>,
    StreamMessage<ProposalPart>,
    Status<AssentContext>,
    Request<AssentContext>,
    ProposedValue<AssentContext>,
    PolkaCertificate<AssentContext>,
    CommitCertificate<AssentContext>,
);

fn invalid(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

fn write_len<W: Write>(w: &mut W, len: usize) -> io::Result<()> {
    let n = u32::try_from(len).map_err(|_| invalid("length does not fit in u32"))?;
    n.serialize(w)
}

fn write_bytes<W: Write>(w: &mut W, bytes: &[u8]) -> io::Result<()> {
    write_len(w, bytes.len())?;
    w.write_all(bytes)
}

/// Reads a `u32`-prefixed byte string of at most `max` bytes.
fn read_bytes<R: Read>(r: &mut R, max: usize) -> io::Result<Vec<u8>> {
    let len = u32::deserialize_reader(r)? as usize;
    if len > max {
        return Err(invalid("byte string too long"));
    }
    // Grow with the bytes actually present: a lying length cannot make us
    // allocate more than the input holds.
    let mut out = Vec::with_capacity(len.min(64 * 1024));
    r.take(len as u64).read_to_end(&mut out)?;
    if out.len() != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "truncated byte string",
        ));
    }
    Ok(out)
}

/// Capacity for a vector whose length came off the wire (each item is read,
/// so a lying length only fails; it never allocates much up front).
fn cautious(len: u32) -> usize {
    (len as usize).min(1024)
}

// ---- ValidatorProof: public_key (bytes) ‖ peer_id (bytes) ‖ signature (64) ----

struct ProofRef<'a>(&'a ValidatorProof<AssentContext>);

impl BorshSerialize for ProofRef<'_> {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        write_bytes(w, &self.0.public_key)?;
        write_bytes(w, &self.0.peer_id)?;
        self.0.signature.serialize(w)
    }
}

struct ProofOwned(ValidatorProof<AssentContext>);

impl BorshDeserialize for ProofOwned {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        let public_key = read_bytes(r, MAX_PROOF_FIELD_BYTES)?;
        let peer_id = read_bytes(r, MAX_PROOF_FIELD_BYTES)?;
        let signature = Signature::deserialize_reader(r)?;
        Ok(ProofOwned(ValidatorProof::new(
            public_key, peer_id, signature,
        )))
    }
}

impl Codec<ValidatorProof<AssentContext>> for WireCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ValidatorProof<AssentContext>, CodecError> {
        decode_borsh::<ProofOwned>(&bytes).map(|p| p.0)
    }

    fn encode(&self, msg: &ValidatorProof<AssentContext>) -> Result<Bytes, CodecError> {
        encode_borsh(&ProofRef(msg))
    }
}

// ---- ExtendedCommitCertificate: height ‖ round ‖ value id ‖ u32 n ‖ n × (address ‖ signature ‖ option<signed extension>) ----

fn write_ext_cert<W: Write>(
    w: &mut W,
    c: &ExtendedCommitCertificate<AssentContext>,
) -> io::Result<()> {
    c.height.serialize(w)?;
    c.round.serialize(w)?;
    c.value_id.serialize(w)?;
    write_len(w, c.commit_signatures.len())?;
    for s in &c.commit_signatures {
        s.address.serialize(w)?;
        s.signature.serialize(w)?;
        s.extension.serialize(w)?;
    }
    Ok(())
}

fn read_ext_cert<R: Read>(r: &mut R) -> io::Result<ExtendedCommitCertificate<AssentContext>> {
    let height = Height::deserialize_reader(r)?;
    let round = Round::deserialize_reader(r)?;
    let value_id = BlockId::deserialize_reader(r)?;
    let n = u32::deserialize_reader(r)?;
    let mut commit_signatures = Vec::with_capacity(cautious(n));
    for _ in 0..n {
        let address = Address::deserialize_reader(r)?;
        let signature = Signature::deserialize_reader(r)?;
        let extension = Option::<SignedExtension<AssentContext>>::deserialize_reader(r)?;
        commit_signatures.push(ExtendedCommitSignature::new(address, signature, extension));
    }
    Ok(ExtendedCommitCertificate {
        height,
        round,
        value_id,
        commit_signatures,
    })
}

fn round_len(round: Round) -> usize {
    if round.is_defined() {
        5
    } else {
        1
    }
}

fn ext_cert_len(c: &ExtendedCommitCertificate<AssentContext>) -> usize {
    let sigs: usize = c
        .commit_signatures
        .iter()
        .map(|s| 32 + 64 + 1 + s.extension.as_ref().map_or(0, |e| 4 + e.message.len() + 64))
        .sum();
    8 + round_len(c.round) + 32 + 4 + sigs
}

struct ExtCertRef<'a>(&'a ExtendedCommitCertificate<AssentContext>);

impl BorshSerialize for ExtCertRef<'_> {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        write_ext_cert(w, self.0)
    }
}

struct ExtCertOwned(ExtendedCommitCertificate<AssentContext>);

impl BorshDeserialize for ExtCertOwned {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        read_ext_cert(r).map(ExtCertOwned)
    }
}

impl Codec<ExtendedCommitCertificate<AssentContext>> for WireCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<ExtendedCommitCertificate<AssentContext>, CodecError> {
        decode_borsh::<ExtCertOwned>(&bytes).map(|c| c.0)
    }

    fn encode(&self, msg: &ExtendedCommitCertificate<AssentContext>) -> Result<Bytes, CodecError> {
        encode_borsh(&ExtCertRef(msg))
    }
}

// ---- sync Response: start height ‖ u32 n ‖ n × (value bytes ‖ extended certificate) ----

struct ResponseRef<'a>(&'a Response<AssentContext>);

impl BorshSerialize for ResponseRef<'_> {
    fn serialize<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let Response::ValueResponse(v) = self.0;
        v.start_height.serialize(w)?;
        write_len(w, v.values.len())?;
        for value in &v.values {
            write_bytes(w, &value.value_bytes)?;
            write_ext_cert(w, &value.certificate)?;
        }
        Ok(())
    }
}

struct ResponseOwned(Response<AssentContext>);

impl BorshDeserialize for ResponseOwned {
    fn deserialize_reader<R: Read>(r: &mut R) -> io::Result<Self> {
        let start_height = Height::deserialize_reader(r)?;
        let n = u32::deserialize_reader(r)?;
        let mut values = Vec::with_capacity(cautious(n));
        for _ in 0..n {
            let value_bytes = read_bytes(r, MAX_MESSAGE_BYTES)?;
            let certificate = read_ext_cert(r)?;
            values.push(RawDecidedValue::new(Bytes::from(value_bytes), certificate));
        }
        Ok(ResponseOwned(Response::ValueResponse(ValueResponse::new(
            start_height,
            values,
        ))))
    }
}

impl Codec<Response<AssentContext>> for WireCodec {
    type Error = CodecError;

    fn decode(&self, bytes: Bytes) -> Result<Response<AssentContext>, CodecError> {
        decode_borsh::<ResponseOwned>(&bytes).map(|r| r.0)
    }

    fn encode(&self, msg: &Response<AssentContext>) -> Result<Bytes, CodecError> {
        encode_borsh(&ResponseRef(msg))
    }
}

/// Computed, not encoded: the engine calls this once per value when it trims
/// a sync response to `max_response_size`.
impl HasEncodedLen<Response<AssentContext>> for WireCodec {
    fn encoded_len(&self, msg: &Response<AssentContext>) -> Result<usize, CodecError> {
        let Response::ValueResponse(v) = msg;
        let values: usize = v
            .values
            .iter()
            .map(|x| 4 + x.value_bytes.len() + ext_cert_len(&x.certificate))
            .sum();
        Ok(8 + 4 + values)
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
