//! A new network: its keys (in an encrypted keystore) and its genesis file.
//! One code path for `assent genesis new` and `assent devnet up`.
//!
//! Keys: `validator-N` (consensus key) and `operator-N` (governance) per
//! validator, `mint` (the mint authority), `acme` (an enterprise admitted at
//! genesis in sector retail with 1,000,000 points) and `alice` (a consumer).
//! The genesis file is written last, so a directory with a `genesis.toml`
//! holds a complete network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assent_contracts::{AccountId, Timestamp};
use assent_genesis::{
    devnet_genesis, DevnetEnterprise, DevnetSpec, DevnetValidator, Genesis, DEVNET_BASE_PORT,
};

use crate::keystore::{Keystore, KeystoreError};

/// Most validators a generated network has (a local network on one machine).
pub const MAX_VALIDATORS: usize = 100;

/// What to create.
#[derive(Clone, Debug)]
pub struct NetworkSpec {
    pub validators: usize,
    pub chain_id: String,
    pub genesis_time: Timestamp,
    /// Consensus port of validator 0; validator *i* listens on `base + 10 i`.
    pub base_port: u16,
}

/// What was created.
#[derive(Debug)]
pub struct Network {
    pub genesis: Genesis,
    /// The genesis file.
    pub file: PathBuf,
    /// Every key, in creation order, with its account.
    pub keys: Vec<(String, AccountId)>,
}

/// Why a network could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("--validators: {0} is out of range; give 1 to {MAX_VALIDATORS}")]
    Validators(usize),
    #[error("ports from {base} for {n} validators go past 65535; choose a lower base port")]
    Ports { base: u16, n: usize },
    #[error("{} already exists; choose another directory or remove it", .0.display())]
    GenesisExists(PathBuf),
    #[error("key file {} already exists; choose another directory", .0.display())]
    KeyExists(PathBuf),
    #[error("cannot create {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    #[error("{0}")]
    Genesis(String),
}

/// The names of the keys of an `n`-validator network, in creation order.
pub fn key_names(n: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..n)
        .flat_map(|i| [format!("validator-{i}"), format!("operator-{i}")])
        .collect();
    names.extend(["mint", "acme", "alice"].map(String::from));
    names
}

/// Consensus, gossip and API port of validator `i` when validator 0's
/// consensus port is `base`: `base + 10 i`, `+ 1`, `+ 2`.
pub fn ports(base: u16, i: usize) -> Option<[u16; 3]> {
    let c = u64::from(base).checked_add(u64::try_from(i).ok()?.checked_mul(10)?)?;
    let c = u16::try_from(c).ok()?;
    Some([c, c.checked_add(1)?, c.checked_add(2)?])
}

/// The default devnet base port (26600).
pub const DEFAULT_BASE_PORT: u16 = DEVNET_BASE_PORT;

/// Checks everything that needs no key or passphrase: the count, the ports,
/// and that nothing would be overwritten.
pub fn check(out: &Path, spec: &NetworkSpec, ks: &Keystore) -> Result<(), NetworkError> {
    let n = spec.validators;
    if n == 0 || n > MAX_VALIDATORS {
        return Err(NetworkError::Validators(n));
    }
    if ports(spec.base_port, n - 1).is_none() {
        return Err(NetworkError::Ports {
            base: spec.base_port,
            n,
        });
    }
    let file = out.join("genesis.toml");
    if file.exists() {
        return Err(NetworkError::GenesisExists(file));
    }
    for name in key_names(n) {
        let path = ks.path_of(&name)?;
        if path.exists() {
            return Err(NetworkError::KeyExists(path));
        }
    }
    Ok(())
}

/// Creates the keys (all with passphrase `pass`) in `ks` and then
/// `out/genesis.toml`. Call [`check`] first.
pub fn create(
    out: &Path,
    spec: &NetworkSpec,
    ks: &Keystore,
    pass: &str,
) -> Result<Network, NetworkError> {
    check(out, spec, ks)?;
    let n = spec.validators;
    std::fs::create_dir_all(out).map_err(|source| NetworkError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut accounts = BTreeMap::new();
    let mut keys = Vec::new();
    for name in key_names(n) {
        let key = ks.create(&name, pass)?;
        accounts.insert(name.clone(), key.account());
        keys.push((name, key.account()));
    }
    let account = |name: &str| {
        accounts
            .get(name)
            .copied()
            .ok_or_else(|| NetworkError::Genesis(format!("key {name} was not created")))
    };
    let mut validators = Vec::with_capacity(n);
    for i in 0..n {
        let [consensus, _, _] = ports(spec.base_port, i).ok_or(NetworkError::Ports {
            base: spec.base_port,
            n,
        })?;
        validators.push(DevnetValidator {
            name: format!("validator-{i}"),
            operator_name: format!("operator-{i}"),
            consensus_key: account(&format!("validator-{i}"))?,
            operator_account: account(&format!("operator-{i}"))?,
            p2p_address: format!("/ip4/127.0.0.1/tcp/{consensus}"),
        });
    }
    let devnet = DevnetSpec {
        chain_id: spec.chain_id.clone(),
        genesis_time: spec.genesis_time,
        mint_authority: account("mint")?,
        validators,
        enterprise: Some(DevnetEnterprise::acme_retail(account("acme")?)),
    };
    let genesis = devnet_genesis(&devnet).map_err(|e| NetworkError::Genesis(e.to_string()))?;
    let file = out.join("genesis.toml");
    genesis
        .save(&file)
        .map_err(|e| NetworkError::Genesis(e.to_string()))?;
    Ok(Network {
        genesis,
        file,
        keys,
    })
}

/// Now, in whole seconds (they read better in the file).
pub fn now() -> Option<Timestamp> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_millis();
    Some(Timestamp(u64::try_from(ms / 1_000 * 1_000).ok()?))
}
