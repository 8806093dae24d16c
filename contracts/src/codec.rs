//! The one canonical codec for everything signed, hashed or stored.
//!
//! bincode 2.0.1 with a fixed configuration (little endian, variable-length
//! integers) and a decode size limit. Decoding is strict: trailing bytes are
//! refused, and the input must be exactly the bytes the value encodes to, so
//! every value has one and only one accepted encoding.
//!
//! One format, two ways in. The ledger's own types derive both serde's
//! traits and bincode's: [`encode`] and [`decode`] go through serde (any
//! serializable value, such as a node's own records), and the `_native`
//! functions through bincode's derived code, which copies byte arrays and
//! byte vectors whole where serde visits them one byte at a time (a third of
//! block execution's decoding). bincode writes the same bytes either way
//! for the shapes the ledger uses (structs, enums, integers, byte arrays,
//! strings, vectors, options, ordered maps); the tests below and the golden
//! fixtures pin that.

use serde::{de::DeserializeOwned, Serialize};

/// Largest encoded value the codec will decode (8 MiB). Blocks are bounded far
/// below this by the genesis parameters; the limit stops a hostile length prefix
/// from asking for a huge allocation.
pub const MAX_DECODE_BYTES: usize = 8 * 1024 * 1024;

const CONFIG: bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<MAX_DECODE_BYTES>,
> = bincode::config::standard().with_limit::<MAX_DECODE_BYTES>();

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("input is {len} bytes, more than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    #[error("malformed encoding: {0}")]
    Malformed(String),
    #[error("{extra} trailing bytes after the encoded value")]
    TrailingBytes { extra: usize },
    #[error("non-canonical encoding: the value re-encodes to different bytes")]
    NonCanonical,
    #[error("value cannot be encoded: {0}")]
    Encode(String),
}

/// Encodes a value canonically.
///
/// Encoding the ledger's own types cannot fail (no maps with non-string keys,
/// no unsized sequences); the error exists for foreign types.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    // Most values (state records, events, txs) are a few hundred bytes:
    // encoded on the stack and copied out once at their size, instead of
    // into a vector that grows (and moves) five or six times on the way.
    let mut small = [0u8; SMALL];
    match bincode::serde::encode_into_slice(value, &mut small, CONFIG) {
        Ok(n) => Ok(small[..n].to_vec()),
        Err(bincode::error::EncodeError::UnexpectedEnd) => {
            bincode::serde::encode_to_vec(value, CONFIG)
                .map_err(|e| CodecError::Encode(e.to_string()))
        }
        Err(e) => Err(CodecError::Encode(e.to_string())),
    }
}

/// Values up to this size are encoded on the stack first ([`encode`]).
const SMALL: usize = 512;

/// Encodes a value canonically through bincode's own derived code: the
/// bytes of [`encode`], faster.
pub fn encode_native<T: bincode::Encode + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut small = [0u8; SMALL];
    match bincode::encode_into_slice(value, &mut small, CONFIG) {
        Ok(n) => Ok(small[..n].to_vec()),
        Err(bincode::error::EncodeError::UnexpectedEnd) => {
            bincode::encode_to_vec(value, CONFIG).map_err(|e| CodecError::Encode(e.to_string()))
        }
        Err(e) => Err(CodecError::Encode(e.to_string())),
    }
}

/// Encodes a ledger value whose encoding is infallible by construction.
pub(crate) fn encode_infallible<T: bincode::Encode + ?Sized>(value: &T) -> Vec<u8> {
    // Every type passed here is a plain struct/enum of integers, byte arrays,
    // strings, vectors and options, which bincode always encodes.
    encode_native(value).unwrap_or_default()
}

/// Decodes bytes that must hold exactly one canonically encoded value.
pub fn decode<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            max: MAX_DECODE_BYTES,
        });
    }
    let (value, read): (T, usize) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if read != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - read,
        });
    }
    // Variable-length integers admit over-long forms; refuse them so an id or
    // signature computed over re-encoded bytes always matches the wire bytes.
    if encode(&value)? != bytes {
        return Err(CodecError::NonCanonical);
    }
    Ok(value)
}

/// The `T` at the front of stored bytes, the rest not read: a block's
/// header from the stored block (the header is its first field), without
/// decoding its txs. For bytes this node wrote itself, like
/// [`decode_stored`].
pub fn decode_stored_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, _read): (T, usize) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    Ok(value)
}

/// Decodes bytes this ledger wrote itself (its own state records): the size
/// limit and trailing-byte check of [`decode`], without the canonical
/// re-encoding check. Bytes from the outside (txs, blocks, messages) must go
/// through [`decode`]. State records are only ever written by [`encode`], so
/// both give the same value; this one is about twice as fast on the
/// execution hot path.
pub fn decode_stored<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            max: MAX_DECODE_BYTES,
        });
    }
    let (value, read): (T, usize) = bincode::serde::decode_from_slice(bytes, CONFIG)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if read != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - read,
        });
    }
    Ok(value)
}

/// [`decode`] through bincode's own derived code: bytes from the outside
/// (txs, blocks, messages), held to the same size limit, trailing-byte
/// check and canonical form.
pub fn decode_native<T: bincode::Decode<()> + bincode::Encode>(
    bytes: &[u8],
) -> Result<T, CodecError> {
    let value: T = decode_stored_native(bytes)?;
    if encode_native(&value)? != bytes {
        return Err(CodecError::NonCanonical);
    }
    Ok(value)
}

/// [`decode_stored`] through bincode's own derived code: bytes this ledger
/// wrote itself.
pub fn decode_stored_native<T: bincode::Decode<()>>(bytes: &[u8]) -> Result<T, CodecError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            max: MAX_DECODE_BYTES,
        });
    }
    let (value, read): (T, usize) = bincode::decode_from_slice(bytes, CONFIG)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if read != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - read,
        });
    }
    Ok(value)
}

/// A list of byte strings (the framing of tx gossip batches and binary
/// tx batches: a varint count, then each entry as a varint length and its
/// bytes), borrowed from `bytes` rather than copied. As strict as
/// [`decode_native`]: the size limit, no trailing bytes, canonical form.
///
/// Canonical form is checked by length, without re-encoding: the entries'
/// bytes are taken as they are, so the only other framing of the same list
/// writes a varint longer than it needs, and that is longer in all.
pub fn decode_byte_strings(bytes: &[u8]) -> Result<Vec<&[u8]>, CodecError> {
    if bytes.len() > MAX_DECODE_BYTES {
        return Err(CodecError::TooLarge {
            len: bytes.len(),
            max: MAX_DECODE_BYTES,
        });
    }
    let (list, read): (Vec<&[u8]>, usize) = bincode::borrow_decode_from_slice(bytes, CONFIG)
        .map_err(|e| CodecError::Malformed(e.to_string()))?;
    if read != bytes.len() {
        return Err(CodecError::TrailingBytes {
            extra: bytes.len() - read,
        });
    }
    let mut size =
        bincode::enc::EncoderImpl::new(bincode::enc::write::SizeWriter::default(), CONFIG);
    bincode::Encode::encode(&list, &mut size).map_err(|e| CodecError::Encode(e.to_string()))?;
    if size.into_writer().bytes_written != bytes.len() {
        return Err(CodecError::NonCanonical);
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_trailing_bytes() {
        let v: (u64, String) = (300, "purchase".into());
        let mut bytes = encode(&v).unwrap();
        assert_eq!(decode::<(u64, String)>(&bytes).unwrap(), v);
        bytes.push(0);
        assert_eq!(
            decode::<(u64, String)>(&bytes),
            Err(CodecError::TrailingBytes { extra: 1 })
        );
    }

    #[test]
    fn values_on_either_side_of_the_stack_buffer_encode_as_bincode_does() {
        // Up to SMALL bytes take the stack path, longer ones the growing
        // vector: both give exactly bincode's bytes, and round-trip.
        for len in [
            0,
            1,
            SMALL - 3,
            SMALL - 2,
            SMALL - 1,
            SMALL,
            SMALL + 1,
            70_000,
        ] {
            let v: (u8, Vec<u8>) = (7, vec![0xAB; len]);
            let bytes = encode(&v).unwrap();
            assert_eq!(
                bytes,
                bincode::serde::encode_to_vec(&v, CONFIG).unwrap(),
                "{len}"
            );
            assert_eq!(decode::<(u8, Vec<u8>)>(&bytes).unwrap(), v, "{len}");
            // bincode's own path: the same bytes, the same value back.
            assert_eq!(encode_native(&v).unwrap(), bytes, "{len}");
            assert_eq!(decode_native::<(u8, Vec<u8>)>(&bytes).unwrap(), v, "{len}");
        }
    }

    #[test]
    fn the_native_path_is_as_strict_as_serdes() {
        assert_eq!(
            decode_native::<u64>(&[251, 5, 0]),
            Err(CodecError::NonCanonical)
        );
        let mut bytes = encode_native(&(300u64, String::from("purchase"))).unwrap();
        bytes.push(0);
        assert_eq!(
            decode_native::<(u64, String)>(&bytes),
            Err(CodecError::TrailingBytes { extra: 1 })
        );
        let huge = [255u8, 255, 255, 255, 255, 255, 255, 255, 255];
        assert!(matches!(
            decode_native::<Vec<u8>>(&huge),
            Err(CodecError::Malformed(_))
        ));
        // Not UTF-8: refused, as serde's path refuses it.
        assert!(matches!(
            decode_native::<String>(&[2, 0xff, 0xfe]),
            Err(CodecError::Malformed(_))
        ));
        assert!(decode::<String>(&[2, 0xff, 0xfe]).is_err());
    }

    #[test]
    fn byte_strings_borrow_and_refuse_what_the_owned_decode_refuses() {
        let list: Vec<Vec<u8>> = vec![vec![], vec![7; 3], vec![0xAB; 300]];
        let bytes = encode_native(&list).unwrap();
        let borrowed = decode_byte_strings(&bytes).unwrap();
        assert_eq!(borrowed, list.iter().map(Vec::as_slice).collect::<Vec<_>>());
        // The second entry's length 3 written as a u16 varint: the same
        // list, framed two bytes longer.
        let mut long = vec![3u8, 0, 251, 3, 0];
        long.extend_from_slice(&[7; 3]);
        long.extend_from_slice(&bytes[6..]);
        assert_eq!(
            decode_native::<Vec<Vec<u8>>>(&long),
            Err(CodecError::NonCanonical)
        );
        assert_eq!(decode_byte_strings(&long), Err(CodecError::NonCanonical));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            decode_byte_strings(&trailing),
            Err(CodecError::TrailingBytes { extra: 1 })
        );
        assert!(matches!(
            decode_byte_strings(&bytes[..bytes.len() - 1]),
            Err(CodecError::Malformed(_))
        ));
        // A count far past the bytes: refused without allocating for it.
        assert!(matches!(
            decode_byte_strings(&[253, 255, 255, 255, 255, 255, 255, 255, 127]),
            Err(CodecError::Malformed(_))
        ));
    }

    #[test]
    fn refuses_overlong_varint() {
        // 5 encoded minimally is [5]; as a u16-marked varint it is [251, 5, 0].
        assert_eq!(encode(&5u64).unwrap(), vec![5]);
        assert_eq!(decode::<u64>(&[251, 5, 0]), Err(CodecError::NonCanonical));
    }

    #[test]
    fn refuses_huge_length_prefix_without_allocating() {
        // A vector claiming u64::MAX elements.
        let bytes = [255u8, 255, 255, 255, 255, 255, 255, 255, 255];
        assert!(matches!(
            decode::<Vec<u8>>(&bytes),
            Err(CodecError::Malformed(_))
        ));
    }
}
