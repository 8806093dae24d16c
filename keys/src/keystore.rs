//! The encrypted keystore: one JSON file per key under `HOME/keys/NAME.json`.
//!
//! A key file holds an ed25519 seed encrypted with ChaCha20-Poly1305 under a
//! 32-byte key derived from the passphrase with Argon2id. The KDF parameters
//! and salt are stored in the file, so a file made with any cost opens later.
//! The associated data binds the ciphertext to the file version and the
//! account, and the account is recomputed from the decrypted seed and compared,
//! so a file whose account was edited does not open.
//!
//! Files are written to a temporary file (mode 0600) and hard-linked into
//! place, which is atomic and never overwrites an existing key.
//!
//! File format (version 1):
//!
//! ```json
//! {
//!   "version": 1,
//!   "name": "alice",
//!   "account": "assent1...",
//!   "kdf": { "algorithm": "argon2id", "m_cost_kib": 19456, "t_cost": 2, "p_cost": 1 },
//!   "salt": "<16 bytes hex>",
//!   "cipher": "chacha20poly1305",
//!   "nonce": "<12 bytes hex>",
//!   "ciphertext": "<48 bytes hex: 32-byte seed + 16-byte tag>"
//! }
//! ```

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Version};
use assent_contracts::crypto::Keypair;
use assent_contracts::AccountId;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

/// Version of the key file format this code writes and reads.
pub const FILE_VERSION: u32 = 1;
/// Environment variable that selects a cheap KDF for tests (`ASSENT_KDF=fast`).
pub const KDF_ENV: &str = "ASSENT_KDF";
/// Longest key name.
pub const MAX_NAME_LEN: usize = 64;

const KDF_ALGORITHM: &str = "argon2id";
const CIPHER: &str = "chacha20poly1305";
const AAD_TAG: &[u8] = b"assent/keystore/v1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
// Bounds on parameters read from a file, so a hostile file cannot ask for
// gigabytes of memory or hours of work.
const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

/// Why a keystore operation failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("`{name}` is not a valid key name: use 1-64 characters of a-z, 0-9, _ and -")]
    InvalidName { name: String },
    #[error("key `{name}` already exists ({}); choose another name or move that file away", path.display())]
    Exists { name: String, path: PathBuf },
    #[error("no key named `{name}` in {}; create it with `assent keys new {name}` or list keys with `assent keys list`", dir.display())]
    NotFound { name: String, dir: PathBuf },
    #[error("wrong passphrase for key {name} (decryption failed)")]
    WrongPassphrase { name: String },
    #[error("the passphrase is empty; choose a non-empty passphrase")]
    EmptyPassphrase,
    #[error("key file {} is not a valid assent key file: {why}", path.display())]
    Corrupt { path: PathBuf, why: String },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{KDF_ENV}` is set to `{value}`; the only accepted value is `fast` (for tests), or leave it unset")]
    BadKdfEnv { value: String },
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

/// Argon2id cost parameters, stored in every key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The default cost: 19 MiB, 2 iterations, 1 lane (OWASP's argon2id baseline).
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// A cheap cost for tests and throwaway devnet keys only (`ASSENT_KDF=fast`).
    pub const FAST: KdfParams = KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    /// [`KdfParams::FAST`] if `ASSENT_KDF=fast`, else [`KdfParams::DEFAULT`].
    pub fn from_env() -> Result<KdfParams, KeystoreError> {
        match std::env::var(KDF_ENV) {
            Err(_) => Ok(KdfParams::DEFAULT),
            Ok(v) if v.is_empty() => Ok(KdfParams::DEFAULT),
            Ok(v) if v == "fast" => Ok(KdfParams::FAST),
            Ok(value) => Err(KeystoreError::BadKdfEnv { value }),
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.m_cost_kib > MAX_M_COST_KIB || self.t_cost > MAX_T_COST || self.p_cost > MAX_P_COST
        {
            return Err(format!(
                "kdf parameters {self:?} exceed the limits (m_cost_kib <= {MAX_M_COST_KIB}, t_cost <= {MAX_T_COST}, p_cost <= {MAX_P_COST})"
            ));
        }
        Ok(())
    }

    fn derive(&self, pass: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
        self.check().map_err(KeystoreError::Kdf)?;
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| KeystoreError::Kdf(e.to_string()))?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(pass.as_bytes(), salt, out.as_mut())
            .map_err(|e| KeystoreError::Kdf(e.to_string()))?;
        Ok(out)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct KdfSection {
    algorithm: String,
    #[serde(flatten)]
    params: KdfParams,
}

/// The on-disk form of one key.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    version: u32,
    name: String,
    account: String,
    kdf: KdfSection,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

/// A key's public facts, readable without the passphrase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub name: String,
    pub account: AccountId,
    pub file: PathBuf,
}

/// The keystore of one home directory.
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
    kdf: KdfParams,
}

/// Whether `name` is a valid key name: `[a-z0-9_-]{1,64}`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn aad(account: &AccountId) -> Vec<u8> {
    let mut a = AAD_TAG.to_vec();
    a.extend_from_slice(&FILE_VERSION.to_le_bytes());
    a.extend_from_slice(account.as_bytes());
    a
}

impl Keystore {
    /// The keystore in `HOME/keys`; nothing is created until a key is.
    /// New keys use [`KdfParams::DEFAULT`]; see [`Keystore::with_kdf`].
    pub fn open(home: &Path) -> Keystore {
        Keystore {
            dir: home.join("keys"),
            kdf: KdfParams::DEFAULT,
        }
    }

    /// Uses `kdf` for keys created from now on (existing files keep theirs).
    pub fn with_kdf(mut self, kdf: KdfParams) -> Keystore {
        self.kdf = kdf;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the file of key `name` (which may not exist).
    pub fn path_of(&self, name: &str) -> Result<PathBuf, KeystoreError> {
        if !valid_name(name) {
            return Err(KeystoreError::InvalidName {
                name: name.to_string(),
            });
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Generates a new key from the OS random source and stores it encrypted.
    pub fn create(&self, name: &str, pass: &str) -> Result<Keypair, KeystoreError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(seed.as_mut());
        self.create_from_seed(name, *seed, pass)
    }

    /// Stores the key with the given seed, encrypted. Refuses an existing name.
    pub fn create_from_seed(
        &self,
        name: &str,
        mut seed: [u8; 32],
        pass: &str,
    ) -> Result<Keypair, KeystoreError> {
        let path = self.path_of(name)?;
        if pass.is_empty() {
            seed.zeroize();
            return Err(KeystoreError::EmptyPassphrase);
        }
        if path.exists() {
            seed.zeroize();
            return Err(KeystoreError::Exists {
                name: name.to_string(),
                path,
            });
        }
        let key = Keypair::from_seed(seed);
        let account = key.account();
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut nonce);
        let derived = self.kdf.derive(pass, &salt)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(derived.as_ref()));
        let aad = aad(&account);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &seed,
                    aad: &aad,
                },
            )
            .map_err(|_| KeystoreError::Kdf("encryption failed".into()));
        seed.zeroize();
        let file = KeyFile {
            version: FILE_VERSION,
            name: name.to_string(),
            account: account.to_string(),
            kdf: KdfSection {
                algorithm: KDF_ALGORITHM.into(),
                params: self.kdf,
            },
            salt: hex::encode(salt),
            cipher: CIPHER.into(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ct?),
        };
        let mut text = serde_json::to_string_pretty(&file).map_err(|e| KeystoreError::Corrupt {
            path: path.clone(),
            why: e.to_string(),
        })?;
        text.push('\n');
        self.write_new(name, &path, text.as_bytes())?;
        Ok(key)
    }

    /// Decrypts key `name` with `pass`.
    pub fn load(&self, name: &str, pass: &str) -> Result<Keypair, KeystoreError> {
        let path = self.path_of(name)?;
        let file = self.read(name, &path)?;
        let account = parse_public(&file, &path)?;
        let corrupt = |why: &str| KeystoreError::Corrupt {
            path: path.clone(),
            why: why.to_string(),
        };
        if file.kdf.algorithm != KDF_ALGORITHM || file.cipher != CIPHER {
            return Err(corrupt(
                "unknown kdf or cipher (expected argon2id and chacha20poly1305)",
            ));
        }
        file.kdf.params.check().map_err(|e| corrupt(&e))?;
        let salt = hex::decode(&file.salt).map_err(|_| corrupt("salt is not hex"))?;
        let mut nonce = [0u8; NONCE_LEN];
        hex::decode_to_slice(&file.nonce, &mut nonce)
            .map_err(|_| corrupt("nonce is not 12 bytes of hex"))?;
        let ct = hex::decode(&file.ciphertext).map_err(|_| corrupt("ciphertext is not hex"))?;
        let derived = file.kdf.params.derive(pass, &salt)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(derived.as_ref()));
        let aad = aad(&account);
        let plain = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: &ct,
                        aad: &aad,
                    },
                )
                .map_err(|_| KeystoreError::WrongPassphrase {
                    name: name.to_string(),
                })?,
        );
        let mut seed = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(corrupt("the decrypted seed is not 32 bytes"));
        }
        seed.copy_from_slice(&plain);
        let key = Keypair::from_seed(*seed);
        if key.account() != account {
            return Err(corrupt(
                "the decrypted seed does not match the stored account",
            ));
        }
        Ok(key)
    }

    /// Name and account of key `name`, without the passphrase.
    pub fn info(&self, name: &str) -> Result<KeyInfo, KeystoreError> {
        let path = self.path_of(name)?;
        let file = self.read(name, &path)?;
        let account = parse_public(&file, &path)?;
        Ok(KeyInfo {
            name: name.to_string(),
            account,
            file: path,
        })
    }

    /// Every key, sorted by name. A missing keystore directory is an empty list.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeystoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(self.io("cannot read the keystore directory", source)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.io("cannot read the keystore directory", e))?;
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if !valid_name(name) {
                continue;
            }
            out.push(self.info(name)?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn io(&self, what: &'static str, source: std::io::Error) -> KeystoreError {
        KeystoreError::Io {
            what,
            path: self.dir.clone(),
            source,
        }
    }

    fn read(&self, name: &str, path: &Path) -> Result<KeyFile, KeystoreError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeystoreError::NotFound {
                    name: name.to_string(),
                    dir: self.dir.clone(),
                })
            }
            Err(source) => {
                return Err(KeystoreError::Io {
                    what: "cannot read key file",
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        serde_json::from_str(&text).map_err(|e| KeystoreError::Corrupt {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
    }

    /// Writes a new file atomically without ever replacing an existing one.
    fn write_new(&self, name: &str, path: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
        create_private_dir(&self.dir)
            .map_err(|e| self.io("cannot create the keystore directory", e))?;
        let mut rnd = [0u8; 8];
        OsRng.fill_bytes(&mut rnd);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", hex::encode(rnd)));
        let io = |what: &'static str, p: &Path| {
            let p = p.to_path_buf();
            move |source| KeystoreError::Io {
                what,
                path: p,
                source,
            }
        };
        let result = (|| {
            let mut f = open_private(&tmp).map_err(io("cannot create key file", &tmp))?;
            f.write_all(bytes)
                .map_err(io("cannot write key file", &tmp))?;
            f.sync_all().map_err(io("cannot write key file", &tmp))?;
            match fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(KeystoreError::Exists {
                        name: name.to_string(),
                        path: path.to_path_buf(),
                    })
                }
                Err(e) => Err(io("cannot create key file", path)(e)),
            }
        })();
        // The temporary name is only a staging area; losing it is harmless.
        let _ = fs::remove_file(&tmp);
        result
    }
}

fn parse_public(file: &KeyFile, path: &Path) -> Result<AccountId, KeystoreError> {
    if file.version != FILE_VERSION {
        return Err(KeystoreError::Corrupt {
            path: path.to_path_buf(),
            why: format!(
                "format version {} is not supported (this build reads version {FILE_VERSION})",
                file.version
            ),
        });
    }
    file.account
        .parse::<AccountId>()
        .map_err(|e| KeystoreError::Corrupt {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn store() -> (tempfile::TempDir, Keystore) {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::open(dir.path()).with_kdf(KdfParams::FAST);
        (dir, ks)
    }

    #[test]
    fn a_created_key_loads_with_its_passphrase_only() {
        let (_d, ks) = store();
        let k = ks.create_from_seed("alice", [9u8; 32], "pw").unwrap();
        assert_eq!(ks.load("alice", "pw").unwrap().account(), k.account());
        assert!(matches!(
            ks.load("alice", "nope"),
            Err(KeystoreError::WrongPassphrase { .. })
        ));
        assert!(matches!(
            ks.create("alice", "pw"),
            Err(KeystoreError::Exists { .. })
        ));
        let list = ks.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].account, k.account());
    }

    #[test]
    fn an_edited_account_does_not_open() {
        let (_d, ks) = store();
        ks.create_from_seed("bob", [1u8; 32], "pw").unwrap();
        let other = Keypair::from_seed([2u8; 32]).account().to_string();
        let path = ks.path_of("bob").unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let mine = ks.info("bob").unwrap().account.to_string();
        fs::write(&path, text.replace(&mine, &other)).unwrap();
        assert!(ks.load("bob", "pw").is_err());
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("a-b_c9"));
        for bad in ["", "A", "a b", "../x", "é", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
