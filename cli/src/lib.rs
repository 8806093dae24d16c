//! # assent-cli: the `assent` command-line tool
//!
//! The binary (`src/main.rs`, `src/commands/`) is a clap-derive tree with one
//! module per command group. This library holds the parts other crates reuse
//! (the devnet launcher, tests), each with typed errors:
//!
//! - [`keystore`]: the encrypted keystore under `HOME/keys/` (re-exported from
//!   `assent-keys`, which the node uses too).
//! - [`accounts`]: accounts given as `assent1…` or as a key name.
//! - [`client`]: a blocking client of a node's HTTP API.
//! - [`network`]: a new network's keys and genesis (`genesis new`, `devnet up`).
//! - [`devnet`]: the layout of a local devnet: node directories, configs, pid file.
//! - [`devnet_join`]: nodes added to a running devnet (a validator to admit, a full node).
//! - [`txfile`]: signed transaction files (hex of the canonical bytes).
//! - [`usefile`]: batches of data uses (JSON or CSV) for `record-use`.
//! - [`duration`]: `30d` / `12h` / `500ms` durations.
//! - [`derive`]: tag salts and pairwise keys a consumer derives from its
//!   secrets (from `assent-keys`).
//! - [`jws`]: compact EdDSA JWS, for signed standard-format receipts (also
//!   from `assent-keys`).
//!
//! Invariants: a secret seed is only ever on disk encrypted (Argon2id +
//! ChaCha20-Poly1305, file mode 0600, never overwritten); every transaction
//! the tool signs has passed the contracts' stateless check; decoding is the
//! contracts' strict decode, never a lenient one of our own.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod bench;
pub mod client;
pub mod devnet;
pub mod devnet_join;
pub mod duration;
pub use assent_keys::{derive, jws, keystore};
pub mod network;
pub mod txfile;
pub mod usefile;
