//! The block journal's record header: `magic "ASJ\x01" (4) | kind u8 |
//! height u64 | len u32 | crc u32 | hcrc u32`, little endian, where `crc`
//! covers bytes 0..17 plus the payload and `hcrc` bytes 0..21 (see
//! [`journal`](super::journal)).

pub(super) const MAGIC: [u8; 4] = *b"ASJ\x01";
pub(super) const HEADER_LEN: usize = 25;

/// A header whose `hcrc` matched: (kind, height, payload len, record crc).
pub(super) struct Header(pub u8, pub u64, pub u32, pub u32);

pub(super) enum Parsed {
    Good(Header),
    BadMagic,
    /// Magic right but `hcrc` wrong: (height, len) are untrusted guesses.
    BadCrc(u64, u32),
}

pub(super) fn le<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

pub(super) fn record_crc(header: &[u8], payload: &[u8]) -> u32 {
    record_crc_parts(header, &[payload])
}

/// The record CRC of a payload given as consecutive parts.
fn record_crc_parts(header: &[u8], parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&header[..17]);
    for part in parts {
        h.update(part);
    }
    h.finalize()
}

/// The header of a record whose payload is `parts`, one after another.
/// The caller has checked that the payload is at most `MAX_PAYLOAD`
/// bytes, so its length fits a u32.
pub(super) fn encode_header(kind: u8, height: u64, parts: &[&[u8]]) -> [u8; HEADER_LEN] {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut b = [0u8; HEADER_LEN];
    b[..4].copy_from_slice(&MAGIC);
    b[4] = kind;
    b[5..13].copy_from_slice(&height.to_le_bytes());
    b[13..17].copy_from_slice(&(len as u32).to_le_bytes());
    let crc = record_crc_parts(&b, parts);
    b[17..21].copy_from_slice(&crc.to_le_bytes());
    let hcrc = crc32fast::hash(&b[..21]);
    b[21..].copy_from_slice(&hcrc.to_le_bytes());
    b
}

/// `b` must hold at least HEADER_LEN bytes.
pub(super) fn parse_header(b: &[u8]) -> Parsed {
    if b[..4] != MAGIC {
        return Parsed::BadMagic;
    }
    let (height, len) = (u64::from_le_bytes(le(b, 5)), u32::from_le_bytes(le(b, 13)));
    if crc32fast::hash(&b[..21]) != u32::from_le_bytes(le(b, 21)) {
        return Parsed::BadCrc(height, len);
    }
    Parsed::Good(Header(b[4], height, len, u32::from_le_bytes(le(b, 17))))
}
