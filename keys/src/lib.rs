//! # assent-keys: keys at rest and detached signatures
//!
//! The two pieces of key handling that both the `assent` CLI and the `assentd`
//! node need, kept apart so that the node does not link the CLI (its bench
//! driver, devnet launcher and HTTP client):
//!
//! - [`keystore`]: the encrypted keystore under `HOME/keys/` (Argon2id +
//!   ChaCha20-Poly1305, file mode 0600, never overwritten).
//! - [`derive`]: what a consumer's client derives from one secret: the salts
//!   of its interest-tag commitments (decision 33) and a pairwise key per
//!   enterprise from one master secret (decision 35), both HKDF-SHA256.
//! - [`reads`]: signed read requests (RFC 9421 HTTP message signatures).
//! - [`jws`]: compact EdDSA JWS (RFC 7515 / RFC 8037), with which a node signs
//!   standard-format consent receipts and `assent receipt verify` checks them.
//!
//! Invariant: a secret seed is only ever on disk encrypted.

#![forbid(unsafe_code)]

pub mod derive;
pub mod jws;
pub mod keystore;
pub mod reads;
