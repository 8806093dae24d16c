//! Signatures: signing with ed25519-dalek, verifying with one rule everywhere.
//!
//! The validity rule is ZIP-215 as implemented by `ed25519-consensus`: single and
//! batch verification give exactly the same answer for every input, so a node
//! that batch-verifies and a node that verifies one by one never disagree.
//! Single checks run in `ed25519-consensus`; the batch equation runs in
//! [`batch`] on curve25519-dalek 4 (its vector backend), pinned to the same
//! answers by tests.
//! Every kind of signed message carries its own domain tag.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::AccountId;

mod batch;
mod strong_keys;

pub use batch::{SignerKeys, SIGNER_KEYS_PER_GENERATION};

/// Domain tag of transaction signatures.
pub const TX_SIGNATURE_TAG: &[u8] = b"assent/tx/v1";

/// Domain tag of a RecordUse's signature, which covers its uses' count and
/// Merkle root instead of the uses themselves (decision 34,
/// [`crate::use_tree::UsesCommitment`]).
pub const USES_SIGNATURE_TAG: &[u8] = b"assent/tx-uses/v1";

/// A 64-byte ed25519 signature (both codec paths, as [`crate::Hash32`]).
#[derive(Clone, Copy, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sig:{}", hex::encode(&self.0[..8]))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(&hex::encode(self.0))
        } else {
            use serde::ser::SerializeTuple;
            let mut t = s.serialize_tuple(64)?;
            for b in &self.0 {
                t.serialize_element(b)?;
            }
            t.end()
        }
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            let mut out = [0u8; 64];
            hex::decode_to_slice(&s, &mut out)
                .map_err(|_| de::Error::custom("a signature is 128 hex characters"))?;
            return Ok(Signature(out));
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Signature;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 signature bytes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Signature, A::Error> {
                let mut out = [0u8; 64];
                for (i, b) in out.iter_mut().enumerate() {
                    *b = seq
                        .next_element()?
                        .ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                Ok(Signature(out))
            }
        }
        d.deserialize_tuple(64, V)
    }
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signer's key is not a valid ed25519 public key")]
    BadKey,
    #[error("the signature does not verify for this signer, message and chain")]
    Invalid,
}

/// Whether a key is a small-order point (or not a point at all). Under the
/// ZIP-215 rule anyone can make a valid signature for such a key, so the
/// ledger refuses to give one a role or points.
///
/// A key found strong is remembered (a bounded cache, the same answers),
/// so a key checked again costs no second point decompression.
pub fn is_weak_key(key: &AccountId) -> bool {
    if strong_keys::known(&key.0) {
        return false;
    }
    let weak = match ed25519_dalek::VerifyingKey::from_bytes(&key.0) {
        Ok(vk) => vk.is_weak(),
        Err(_) => true,
    };
    if !weak {
        strong_keys::keep([key.0]);
    }
    weak
}

/// A signing key. Key generation lives outside the pure crate: keys come in as seeds.
pub struct Keypair {
    signing: ed25519_dalek::SigningKey,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({})", self.account())
    }
}

impl Keypair {
    /// The key whose 32-byte secret seed is `seed`.
    pub fn from_seed(seed: [u8; 32]) -> Keypair {
        Keypair {
            signing: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    /// The secret seed; handle with care (the keystore encrypts it).
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn account(&self) -> AccountId {
        AccountId(self.signing.verifying_key().to_bytes())
    }

    /// Signs `message` under the domain `tag`.
    pub fn sign(&self, tag: &[u8], context: &[u8], message: &[u8]) -> Signature {
        use ed25519_dalek::Signer;
        let msg = signing_message(tag, context, message);
        Signature(self.signing.sign(&msg).to_bytes())
    }
}

/// The exact bytes signed: `tag || len(context) || context || message`.
pub fn signing_message(tag: &[u8], context: &[u8], message: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(tag.len() + 2 + context.len() + message.len());
    m.extend_from_slice(tag);
    // Contexts (chain ids) are at most 64 bytes, checked by genesis validation.
    m.push(context.len().min(255) as u8);
    m.extend_from_slice(context);
    m.extend_from_slice(message);
    m
}

/// Verifies one signature under the ZIP-215 rule.
pub fn verify(
    signer: &AccountId,
    tag: &[u8],
    context: &[u8],
    message: &[u8],
    sig: &Signature,
) -> Result<(), SignatureError> {
    let vk = ed25519_consensus::VerificationKey::try_from(signer.0)
        .map_err(|_| SignatureError::BadKey)?;
    vk.verify(
        &ed25519_consensus::Signature::from(sig.0),
        &signing_message(tag, context, message),
    )
    .map_err(|_| SignatureError::Invalid)
}

/// Items per batch equation when [`verify_batch`] looks for bad signatures.
pub const VERIFY_CHUNK: usize = 64;

/// Verifies many `(signer, message, signature)` items (messages already framed
/// with [`signing_message`]) and returns one answer per item, equal to what
/// [`verify`] would say. One batch equation over all items runs first (the
/// common case: all good). If it fails, chunks of [`VERIFY_CHUNK`] are checked
/// by batch equations and only the items of failing chunks one by one, so one
/// bad signature among 10,000 costs two batch passes and 64 single checks, not
/// 10,000 single checks. `rng` only blinds the batch equations; the answers
/// do not depend on it.
pub fn verify_batch<R: rand_core::RngCore + rand_core::CryptoRng>(
    items: &[(AccountId, &[u8], Signature)],
    rng: R,
) -> Vec<Result<(), SignatureError>> {
    verify_batch_with(items, rng, None)
}

/// [`verify_batch`], taking signers' decompressed keys from `keys` and
/// keeping those of batches that hold; the answers are the same.
pub fn verify_batch_with<R: rand_core::RngCore + rand_core::CryptoRng>(
    items: &[(AccountId, &[u8], Signature)],
    mut rng: R,
    keys: Option<&SignerKeys>,
) -> Vec<Result<(), SignatureError>> {
    if batch::holds(items, &mut rng, keys) {
        return items.iter().map(|_| Ok(())).collect();
    }
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(VERIFY_CHUNK) {
        if chunk.len() < items.len() && batch::holds(chunk, &mut rng, keys) {
            out.extend(chunk.iter().map(|_| Ok(())));
            continue;
        }
        out.extend(chunk.iter().map(|(signer, msg, sig)| {
            let vk = ed25519_consensus::VerificationKey::try_from(signer.0)
                .map_err(|_| SignatureError::BadKey)?;
            vk.verify(&ed25519_consensus::Signature::from(sig.0), msg)
                .map_err(|_| SignatureError::Invalid)
        }));
    }
    out
}
