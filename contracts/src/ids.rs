//! Newtypes for identities, ids, heights, amounts and times.
//!
//! Binary encodings (the canonical codec) carry raw bytes and integers; text
//! encodings (JSON, TOML, CLI, logs) carry one readable form per type:
//! accounts as bech32m (`assent1…`, checksummed), 32-byte hashes as lowercase hex.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Human-readable part of account addresses.
pub const ACCOUNT_HRP: &str = "assent";

/// Why a text id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdParseError {
    #[error("`{input}` is not an account address: {why} (expected bech32m text starting with `assent1`)")]
    Account { input: String, why: String },
    #[error("`{input}` is not a {kind}: expected 64 hex characters")]
    Hash { input: String, kind: &'static str },
}

/// A 32-byte SHA-256 digest.
///
/// The byte ids carry both encodings of the one canonical codec
/// (`codec.rs`): serde's, written here by hand for JSON's hex, and bincode's
/// own, derived, which writes the array as its bytes in one copy where serde
/// visits them one by one. Both give the same bytes (`codec` tests).
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, bincode::Encode, bincode::Decode,
)]
pub struct Hash32(pub [u8; 32]);

impl Hash32 {
    pub const ZERO: Hash32 = Hash32([0u8; 32]);

    /// SHA-256 over a domain tag and the given parts, each part length-prefixed
    /// so that no two different part lists hash alike.
    pub fn tagged(tag: &str, parts: &[&[u8]]) -> Hash32 {
        let mut h = tagged_start(tag);
        for p in parts {
            tagged_part(&mut h, p);
        }
        Hash32(h.finalize().into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A [`Hash32::tagged`] hasher after its tag.
fn tagged_start(tag: &str) -> Sha256 {
    let mut h = Sha256::new();
    tagged_part(&mut h, tag.as_bytes());
    h
}

/// Writes one part of a [`Hash32::tagged`] hash: its length, then its bytes.
fn tagged_part(h: &mut Sha256, part: &[u8]) {
    tagged_len(h, part.len());
    h.update(part);
}

fn tagged_len(h: &mut Sha256, len: usize) {
    h.update((len as u64).to_le_bytes());
}

impl fmt::Display for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(&self.0[..8]))
    }
}

impl FromStr for Hash32 {
    type Err = IdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Hash32(parse_hex32(s, "hash")?))
    }
}

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for Hash32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(Hash32(<[u8; 32]>::deserialize(d)?))
        }
    }
}

fn parse_hex32(s: &str, kind: &'static str) -> Result<[u8; 32], IdParseError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut out).map_err(|_| IdParseError::Hash {
        input: s.to_string(),
        kind,
    })?;
    Ok(out)
}

macro_rules! hash_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, bincode::Encode, bincode::Decode,
        )]
        pub struct $name(pub Hash32);

        impl $name {
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0 .0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($kind, ":{:?}"), self.0)
            }
        }
        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name(Hash32(parse_hex32(s, $kind)?)))
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.collect_str(self)
                } else {
                    self.0 .0.serialize(s)
                }
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let s = String::deserialize(d)?;
                    s.parse().map_err(serde::de::Error::custom)
                } else {
                    Ok($name(Hash32(<[u8; 32]>::deserialize(d)?)))
                }
            }
        }
    };
}

hash_id!(
    /// Id of a transaction: the tagged hash of its canonical body (a
    /// RecordUse's: of its `use_tree::UsesCommitment`), never of its signature.
    TxId, "tx id"
);
hash_id!(
    /// Id of a consent: the id of the GrantConsent tx that created it.
    ConsentId, "consent id"
);
hash_id!(
    /// Id of a standing policy: the id of the SetPolicy tx that created it.
    PolicyId, "policy id"
);
hash_id!(
    /// Id of an access request: the id of the PostRequest tx that created it.
    RequestId, "request id"
);
hash_id!(
    /// Id of a governance proposal: the id of the Propose tx that created it.
    ProposalId, "proposal id"
);
hash_id!(
    /// Id of one recorded use: tagged hash of the RecordUse tx id and the use's index.
    UseId, "use id"
);
hash_id!(
    /// Hash of a block header.
    BlockHash, "block hash"
);

hash_id!(
    /// A salted commitment to one identifier a consumer bound for one
    /// enterprise (see [`crate::identity`]); the identifier itself is never on the chain.
    LinkCommitment, "link commitment"
);
hash_id!(
    /// A salted commitment to one interest tag a consumer declared (see
    /// [`crate::tags`]); the tag itself is never on the chain.
    TagCommitment, "tag commitment"
);
hash_id!(
    /// The secret that blinds one tag commitment: derived by the consumer's
    /// client from its key (`assent_keys::derive`), revealed only by the
    /// consumer, e.g. to show one enterprise one tag.
    TagSalt, "tag salt"
);
hash_id!(
    /// The 32 random bytes that blind one identity link. The consumer's CLI
    /// draws it and hands it to that enterprise only, off the chain.
    LinkSalt, "link salt"
);

/// Tag of a use's id.
const USE_ID_TAG: &str = "assent/use/v1";

impl UseId {
    pub fn derive(tx: &TxId, index: u32) -> UseId {
        UseId(Hash32::tagged(
            USE_ID_TAG,
            &[tx.as_bytes(), &index.to_le_bytes()],
        ))
    }
}

/// The ids of one tx's uses, each [`UseId::derive`] of that tx and its
/// index. The first 64 of the 73 bytes hashed for an id are the same for
/// every use of a tx (the tag, the tx id, the index's length), so their
/// compression is done once and each use costs one more, not two.
#[derive(Clone, Debug)]
pub struct UseIds(Sha256);

impl UseIds {
    pub fn of(tx: &TxId) -> UseIds {
        let mut h = tagged_start(USE_ID_TAG);
        tagged_part(&mut h, tx.as_bytes());
        // The index's part: its length is the same for every use.
        tagged_len(&mut h, std::mem::size_of::<u32>());
        UseIds(h)
    }

    pub fn id(&self, index: u32) -> UseId {
        let mut h = self.0.clone();
        h.update(index.to_le_bytes());
        UseId(Hash32(h.finalize().into()))
    }
}

/// An account: an ed25519 verifying key.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, bincode::Encode, bincode::Decode,
)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = bech32::Hrp::parse_unchecked(ACCOUNT_HRP);
        match bech32::encode::<bech32::Bech32m>(hrp, &self.0) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for AccountId {
    type Err = IdParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: String| IdParseError::Account {
            input: s.to_string(),
            why,
        };
        let checked =
            bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32m>(s.trim())
                .map_err(|e| err(e.to_string()))?;
        if checked.hrp().as_str() != ACCOUNT_HRP {
            return Err(err(format!("prefix is `{}`", checked.hrp())));
        }
        let bytes: Vec<u8> = checked.byte_iter().collect();
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| err(format!("holds {} bytes, not 32", b.len())))?;
        Ok(AccountId(arr))
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            s.parse().map_err(serde::de::Error::custom)
        } else {
            Ok(AccountId(<[u8; 32]>::deserialize(d)?))
        }
    }
}

/// A block height. Genesis state is height 0; the first block is height 1.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(transparent)]
pub struct Height(pub u64);

impl Height {
    pub fn next(self) -> Height {
        Height(self.0.saturating_add(1))
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Block time: milliseconds since the Unix epoch, set by the proposer.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub fn plus_ms(self, ms: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }
}

/// An amount of points, the ledger's token. Integer only; arithmetic is checked.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(transparent)]
pub struct Amount(pub u64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    pub fn checked_add(self, o: Amount) -> Option<Amount> {
        self.0.checked_add(o.0).map(Amount)
    }
    pub fn checked_sub(self, o: Amount) -> Option<Amount> {
        self.0.checked_sub(o.0).map(Amount)
    }
    pub fn checked_mul(self, n: u64) -> Option<Amount> {
        self.0.checked_mul(n).map(Amount)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} pts", self.0)
    }
}

/// A share in basis points: 10,000 = 100 %.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(transparent)]
pub struct BasisPoints(pub u16);

impl BasisPoints {
    pub const MAX: u16 = 10_000;

    /// `amount * bps / 10_000`, rounded down (the remainder stays with the caller).
    pub fn share_of(self, amount: Amount) -> Amount {
        // u128 intermediate: cannot overflow for any u64 amount and bps <= 10_000.
        let v = (amount.0 as u128) * (self.0.min(Self::MAX) as u128) / (Self::MAX as u128);
        Amount(v as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_text_round_trips_and_detects_typos() {
        let a = AccountId([7u8; 32]);
        let s = a.to_string();
        assert!(s.starts_with("assent1"));
        assert_eq!(s.parse::<AccountId>().unwrap(), a);
        let mut typo = s.clone().into_bytes();
        let last = typo.len() - 1;
        typo[last] = if typo[last] == b'q' { b'p' } else { b'q' };
        let err = String::from_utf8(typo)
            .unwrap()
            .parse::<AccountId>()
            .unwrap_err();
        assert!(err.to_string().contains("not an account address"), "{err}");
    }

    #[test]
    fn hash_ids_parse_hex_and_refuse_garbage() {
        let id = ConsentId(Hash32([0xab; 32]));
        assert_eq!(id.to_string().parse::<ConsentId>().unwrap(), id);
        let err = "xyz".parse::<ConsentId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`xyz` is not a consent id: expected 64 hex characters"
        );
    }

    #[test]
    fn a_tx_use_ids_are_each_derived_from_the_tx_and_index() {
        for seed in [0u8, 1, 0x5a, 0xff] {
            let tx = TxId(Hash32([seed; 32]));
            let ids = UseIds::of(&tx);
            for index in [0, 1, 7, 255, 256, 65_535, 65_536, u32::MAX] {
                assert_eq!(ids.id(index), UseId::derive(&tx, index), "{seed} {index}");
            }
            assert_ne!(ids.id(0), ids.id(1));
        }
    }

    #[test]
    fn share_rounds_down() {
        assert_eq!(BasisPoints(1_000).share_of(Amount(15)), Amount(1));
        assert_eq!(
            BasisPoints(10_000).share_of(Amount(u64::MAX)),
            Amount(u64::MAX)
        );
        assert_eq!(BasisPoints(0).share_of(Amount(99)), Amount(0));
    }
}
