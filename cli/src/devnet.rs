//! The on-disk layout of a local devnet (docs/node-interfaces.md):
//!
//! ```text
//! DIR/genesis.toml, DIR/keys/*.json      the network (`genesis new` code path)
//! DIR/node-i/config.toml                  node i's config (ports 26600 + 10 i, +1, +2)
//! DIR/node-i/genesis.toml                 a copy of DIR/genesis.toml
//! DIR/node-i/keys/validator-i.json        a copy of node i's encrypted validator key
//! DIR/node-i/keys/operator-i.json         a copy of its operator's key, which signs its reads of peers
//! DIR/node-i/assentd.log                  the node's output
//! DIR/devnet.pids                         `node pid dir` per running node
//! ```
//!
//! Everything a node directory holds is derived from DIR's genesis and keys,
//! so a missing piece can be recreated on resume and an existing one is
//! never overwritten (a copy that differs from its source is an error).

use std::path::{Path, PathBuf};

use assent_genesis::Genesis;

use crate::keystore::{Keystore, KeystoreError};

/// The well-known passphrase of devnet keys when `ASSENT_PASSPHRASE` is unset. Devnet only.
pub const DEVNET_PASSPHRASE: &str = "assent-devnet";
/// The devnet directory when none is given.
pub const DEFAULT_DIR: &str = "devnet";
/// Running nodes, in DIR.
pub const PID_FILE: &str = "devnet.pids";
/// A node's output, in its directory.
pub const LOG_FILE: &str = "assentd.log";

/// Why a devnet directory is not usable.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {why}", path.display())]
    Bad { path: PathBuf, why: String },
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DevnetError {
    let path = path.to_path_buf();
    move |source| DevnetError::Io { what, path, source }
}

/// One node of the devnet, as its genesis places it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePlan {
    pub index: usize,
    /// The validator's name in genesis; also its moniker and its key's name.
    pub name: String,
    /// DIR/node-i.
    pub dir: PathBuf,
    /// Consensus listen multiaddr (the validator's genesis p2p address).
    pub consensus: String,
    /// Gossip listen multiaddr (consensus port + 1).
    pub gossip: String,
    /// API listen address `127.0.0.1:port` (consensus port + 2).
    pub api: String,
}

/// The TCP port of `/ip4/A/tcp/PORT` (or `/dns/…/tcp/PORT`).
pub fn multiaddr_port(addr: &str) -> Option<u16> {
    let parts: Vec<&str> = addr.split('/').collect();
    let i = parts.iter().position(|p| *p == "tcp")?;
    parts.get(i + 1)?.parse().ok()
}

/// The host of `/ip4/A/tcp/PORT`.
fn multiaddr_host(addr: &str) -> Option<&str> {
    let parts: Vec<&str> = addr.split('/').collect();
    match parts.as_slice() {
        ["", "ip4" | "ip6" | "dns" | "dns4" | "dns6", host, ..] => Some(host),
        _ => None,
    }
}

/// `node-i`.
pub fn node_dir_name(i: usize) -> String {
    format!("node-{i}")
}

/// Where each validator of `genesis` runs in devnet `home`.
pub fn plan(home: &Path, genesis: &Genesis) -> Result<Vec<NodePlan>, DevnetError> {
    let gfile = home.join("genesis.toml");
    let mut out = Vec::new();
    for (i, v) in genesis.validators().iter().enumerate() {
        let bad = |why: String| DevnetError::Bad {
            path: gfile.clone(),
            why,
        };
        let port = multiaddr_port(&v.p2p_address).ok_or_else(|| {
            bad(format!(
                "validator {}: p2p_address `{}` has no /tcp/PORT",
                v.name, v.p2p_address
            ))
        })?;
        let host = multiaddr_host(&v.p2p_address).unwrap_or("127.0.0.1");
        let (Some(gossip), Some(api)) = (port.checked_add(1), port.checked_add(2)) else {
            return Err(bad(format!(
                "validator {}: port {port} is too high",
                v.name
            )));
        };
        if !crate::keystore::valid_name(&v.name) {
            return Err(bad(format!(
                "validator name `{}` is not a key name (a devnet keeps each validator's key under its name)",
                v.name
            )));
        }
        out.push(NodePlan {
            index: i,
            name: v.name.clone(),
            dir: home.join(node_dir_name(i)),
            consensus: v.p2p_address.clone(),
            gossip: format!("/ip4/{host}/tcp/{gossip}"),
            api: format!("{host}:{api}"),
        });
    }
    Ok(out)
}

fn toml_str(s: &str) -> String {
    // Basic TOML string: escape backslash and quote; our values have no control characters.
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn toml_list(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// The config.toml of `node` in a devnet of `all` (docs/node-interfaces.md).
pub fn config_toml(node: &NodePlan, all: &[NodePlan]) -> String {
    let others: Vec<&NodePlan> = all.iter().filter(|n| n.index != node.index).collect();
    let peers: Vec<&str> = others.iter().map(|n| n.consensus.as_str()).collect();
    let gossip_peers: Vec<&str> = others.iter().map(|n| n.gossip.as_str()).collect();
    let apis: Vec<String> = others.iter().map(|n| format!("http://{}", n.api)).collect();
    let apis: Vec<&str> = apis.iter().map(String::as_str).collect();
    format!(
        "# assentd config of {dir} in a local devnet (written by `assent devnet up`).\n\
         moniker = {moniker}\n\
         \n\
         [keys]\n\
         validator_key = {key}   # key name in keys/; unlocked with ASSENT_PASSPHRASE\n\
         read_key = {read_key}   # its operator's key: signs its reads of peers' blocks, also once it is no validator\n\
         \n\
         [p2p]\n\
         listen = {listen}\n\
         gossip_listen = {gossip}\n\
         peers = {peers}\n\
         gossip_peers = {gossip_peers}\n\
         \n\
         [api]\n\
         listen = {api}\n\
         \n\
         # The other nodes' APIs: a node with no data/store starts from their\n\
         # state snapshot, and a node whose key governance removes from the\n\
         # validator set follows the chain from them as a full node.\n\
         [state_sync]\n\
         peers = {apis}\n\
         \n\
         # [consensus] (optional; LAN defaults)\n\
         # propose_timeout_ms = 1000\n\
         # prevote_timeout_ms = 200\n\
         # precommit_timeout_ms = 200\n\
         # timeout_delta_ms = 100\n\
         # block_interval_ms = 100\n\
         # max_block_txs = 2000\n\
         # block_budget_ms = 250\n\
         \n\
         # [store] (optional)\n\
         # cache_mb = 64\n\
         # state_cache_mb = 128\n\
         # unpersisted_mb = 256\n\
         # persist_interval_ms = 1000\n\
         # state_tree_mb = 3072\n\
         \n\
         # [index] (optional)\n\
         # enabled = true\n\
         \n\
         [log]\n\
         format = \"text\"\n",
        dir = node_dir_name(node.index),
        moniker = toml_str(&node.name),
        key = toml_str(&node.name),
        read_key = toml_str(&operator_name(node.index)),
        listen = toml_str(&node.consensus),
        gossip = toml_str(&node.gossip),
        peers = toml_list(&peers),
        gossip_peers = toml_list(&gossip_peers),
        api = toml_str(&node.api),
        apis = toml_list(&apis),
    )
}

/// What [`prepare_node`] had to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prepared {
    pub created: Vec<PathBuf>,
}

/// Writes `content` to `path` unless it exists; an existing file must equal
/// `expect` when given.
fn ensure_file(
    path: &Path,
    content: &[u8],
    must_match: bool,
    prepared: &mut Prepared,
) -> Result<(), DevnetError> {
    match std::fs::read(path) {
        Ok(existing) => {
            if must_match && existing != content {
                return Err(DevnetError::Bad {
                    path: path.to_path_buf(),
                    why: "differs from the devnet's own copy; remove the node directory to have it recreated".into(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(path, content).map_err(io("cannot write", path))?;
            prepared.created.push(path.to_path_buf());
            Ok(())
        }
        Err(e) => Err(io("cannot read", path)(e)),
    }
}

/// Creates what node `node` of devnet `home` lacks: its directory, config,
/// genesis copy and validator key copy. Existing files are kept (the config
/// may have been edited); copies of the genesis and the key must match.
pub fn prepare_node(
    home: &Path,
    node: &NodePlan,
    all: &[NodePlan],
) -> Result<Prepared, DevnetError> {
    let mut prepared = Prepared::default();
    let keys_dir = node.dir.join("keys");
    std::fs::create_dir_all(&keys_dir).map_err(io("cannot create", &keys_dir))?;

    let config = node.dir.join("config.toml");
    ensure_file(
        &config,
        config_toml(node, all).as_bytes(),
        false,
        &mut prepared,
    )?;

    let gsrc = home.join("genesis.toml");
    let genesis = std::fs::read(&gsrc).map_err(io("cannot read", &gsrc))?;
    ensure_file(
        &node.dir.join("genesis.toml"),
        &genesis,
        true,
        &mut prepared,
    )?;

    for name in [node.name.clone(), operator_name(node.index)] {
        let key_src = Keystore::open(home).path_of(&name)?;
        let key = std::fs::read(&key_src).map_err(io("cannot read the node's key", &key_src))?;
        let key_dst = Keystore::open(&node.dir).path_of(&name)?;
        let fresh = !key_dst.exists();
        ensure_file(&key_dst, &key, true, &mut prepared)?;
        if fresh {
            restrict(&key_dst)?;
        }
    }
    Ok(prepared)
}

/// The devnet key of the operator running genesis validator `index`; the
/// node signs its reads of peers with it (`keys.read_key`).
pub fn operator_name(index: usize) -> String {
    format!("operator-{index}")
}

/// Key files are readable by their owner only.
fn restrict(path: &Path) -> Result<(), DevnetError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(io("cannot set permissions of", path))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The parts of a node's config.toml the devnet commands read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    pub moniker: String,
    /// `None`: a full node.
    pub validator_key: Option<String>,
    pub p2p_listen: String,
    pub gossip_listen: String,
    pub api_listen: String,
}

impl NodeConfig {
    /// The API's URL: `http://HOST:PORT` (an unspecified host is reached on 127.0.0.1).
    pub fn api_url(&self) -> String {
        let l = self
            .api_listen
            .replace("0.0.0.0:", "127.0.0.1:")
            .replace("[::]:", "[::1]:");
        format!("http://{l}")
    }

    /// Every TCP port the node listens on, with what it is for.
    pub fn ports(&self) -> Vec<(u16, &'static str)> {
        let mut v = Vec::new();
        if let Some(p) = multiaddr_port(&self.p2p_listen) {
            v.push((p, "consensus"));
        }
        if let Some(p) = multiaddr_port(&self.gossip_listen) {
            v.push((p, "gossip"));
        }
        if let Some(p) = self
            .api_listen
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
        {
            v.push((p, "API"));
        }
        v
    }
}

/// Reads `path` (a node's config.toml).
pub fn read_config(path: &Path) -> Result<NodeConfig, DevnetError> {
    let text = std::fs::read_to_string(path).map_err(io("cannot read", path))?;
    let v: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| DevnetError::Bad {
            path: path.to_path_buf(),
            why: format!("not valid TOML: {}", e.message()),
        })?;
    let get = |section: Option<&str>, key: &str| -> Result<String, DevnetError> {
        let table = match section {
            Some(s) => v.get(s).and_then(toml::Value::as_table),
            None => Some(&v),
        };
        table
            .and_then(|t| t.get(key))
            .and_then(toml::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| DevnetError::Bad {
                path: path.to_path_buf(),
                why: format!(
                    "`{}{key}` is missing or not a string",
                    section.map(|s| format!("{s}.")).unwrap_or_default()
                ),
            })
    };
    Ok(NodeConfig {
        moniker: get(None, "moniker")?,
        // A full node's [keys] has only read_key.
        validator_key: match v.get("keys").and_then(|k| k.get("validator_key")) {
            None => None,
            Some(_) => Some(get(Some("keys"), "validator_key")?),
        },
        p2p_listen: get(Some("p2p"), "listen")?,
        gossip_listen: get(Some("p2p"), "gossip_listen")?,
        api_listen: get(Some("api"), "listen")?,
    })
}

/// One running node in the pid file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PidEntry {
    pub node: String,
    pub pid: u32,
    /// The node's home, as passed to `assentd start --home`.
    pub dir: PathBuf,
}

/// The nodes listed in `path`; none if the file does not exist.
pub fn read_pids(path: &Path) -> Result<Vec<PidEntry>, DevnetError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("cannot read", path)(e)),
    };
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(node), Some(pid), Some(dir)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DevnetError::Bad {
                path: path.to_path_buf(),
                why: format!("line {}: expected `NODE PID DIR`", n + 1),
            });
        };
        let pid = pid
            .parse::<u32>()
            .ok()
            .filter(|p| *p > 1)
            .ok_or_else(|| DevnetError::Bad {
                path: path.to_path_buf(),
                why: format!("line {}: `{pid}` is not a process id", n + 1),
            })?;
        out.push(PidEntry {
            node: node.to_string(),
            pid,
            dir: PathBuf::from(dir),
        });
    }
    Ok(out)
}

/// Writes the pid file (replacing it).
pub fn write_pids(path: &Path, entries: &[PidEntry]) -> Result<(), DevnetError> {
    let mut text = String::from("# assent devnet: NODE PID DIR of each running assentd\n");
    for e in entries {
        text.push_str(&format!("{} {} {}\n", e.node, e.pid, e.dir.display()));
    }
    let tmp = path.with_extension("pids.tmp");
    std::fs::write(&tmp, text).map_err(io("cannot write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("cannot write", path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn plans() -> Vec<NodePlan> {
        (0..3)
            .map(|i| {
                let p = 26600 + 10 * i as u16;
                NodePlan {
                    index: i,
                    name: format!("validator-{i}"),
                    dir: PathBuf::from(format!("/d/node-{i}")),
                    consensus: format!("/ip4/127.0.0.1/tcp/{p}"),
                    gossip: format!("/ip4/127.0.0.1/tcp/{}", p + 1),
                    api: format!("127.0.0.1:{}", p + 2),
                }
            })
            .collect()
    }

    #[test]
    fn config_is_the_contracts_toml() {
        let all = plans();
        let text = config_toml(&all[1], &all);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &text).unwrap();
        let c = read_config(&path).unwrap();
        assert_eq!(c.moniker, "validator-1");
        assert_eq!(c.p2p_listen, "/ip4/127.0.0.1/tcp/26610");
        assert_eq!(c.gossip_listen, "/ip4/127.0.0.1/tcp/26611");
        assert_eq!(c.api_url(), "http://127.0.0.1:26612");
        let t: toml::Table = text.parse().unwrap();
        let peers = t["p2p"]["peers"].as_array().unwrap();
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[0].as_str(), Some("/ip4/127.0.0.1/tcp/26600"));
        assert_eq!(
            t["p2p"]["gossip_peers"][1].as_str(),
            Some("/ip4/127.0.0.1/tcp/26621")
        );
    }

    #[test]
    fn pid_files_round_trip_and_refuse_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PID_FILE);
        assert!(read_pids(&path).unwrap().is_empty());
        let e = vec![PidEntry {
            node: "node-0".into(),
            pid: 4242,
            dir: PathBuf::from("/a dir/node-0"),
        }];
        write_pids(&path, &e).unwrap();
        assert_eq!(read_pids(&path).unwrap(), e);
        std::fs::write(&path, "node-0 x /d\n").unwrap();
        assert!(read_pids(&path)
            .unwrap_err()
            .to_string()
            .contains("not a process id"));
    }
}
