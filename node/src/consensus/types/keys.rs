//! Keys and signatures as the engine sees them: ed25519, verified under
//! ZIP-215 (`ed25519-consensus`), the same rule as the ledger's.

use std::fmt;
use std::sync::Arc;

use assent_contracts::crypto::{self, Keypair};
use assent_contracts::ids::AccountId;
use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types as mc;

use super::Address;

/// A 64-byte ed25519 signature (the bytes of the ledger's [`crypto::Signature`]).
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sig:{}", hex::encode(&self.0[..8]))
    }
}

impl From<crypto::Signature> for Signature {
    fn from(s: crypto::Signature) -> Self {
        Signature(s.0)
    }
}

impl From<Signature> for crypto::Signature {
    fn from(s: Signature) -> Self {
        crypto::Signature(s.0)
    }
}

/// Why a public key or signature could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a public key is 32 bytes, got {0}")]
    Length(usize),
    #[error("{0} is not a valid ed25519 key or is a small-order (weak) key")]
    Weak(AccountId),
    #[error("a signature is 64 bytes, got {0}")]
    SignatureLength(usize),
}

/// An ed25519 verification key, verified under ZIP-215 (`ed25519-consensus`).
/// Never a small-order key.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(ed25519_consensus::VerificationKey);

impl PublicKey {
    /// The key of `account`; refuses invalid and small-order keys.
    pub fn from_account(account: &AccountId) -> Result<PublicKey, KeyError> {
        if crypto::is_weak_key(account) {
            return Err(KeyError::Weak(*account));
        }
        let vk = ed25519_consensus::VerificationKey::try_from(account.0);
        vk.map(PublicKey).map_err(|_| KeyError::Weak(*account))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Length(bytes.len()))?;
        PublicKey::from_account(&AccountId(arr))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn address(&self) -> Address {
        Address(*self.0.as_bytes())
    }

    /// ZIP-215 verification of `sig` over exactly `message`.
    pub fn verify(&self, message: &[u8], sig: &Signature) -> bool {
        let sig = ed25519_consensus::Signature::from(sig.0);
        self.0.verify(&sig, message).is_ok()
    }
}

/// The consensus private key (shared, never copied out of the keypair).
#[derive(Clone)]
pub struct PrivateKey(pub Arc<Keypair>);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.0.account())
    }
}

/// ed25519 with ZIP-215 verification, and borsh-encodable signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ed25519Scheme;

impl mc::SigningScheme for Ed25519Scheme {
    type DecodingError = KeyError;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = PrivateKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, KeyError> {
        let arr = <[u8; 64]>::try_from(bytes);
        arr.map(Signature)
            .map_err(|_| KeyError::SignatureLength(bytes.len()))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        PublicKey::from_bytes(bytes)
    }

    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.as_bytes().to_vec()
    }
}
