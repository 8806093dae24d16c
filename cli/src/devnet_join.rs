//! Nodes added to a running devnet (`assent devnet add-node`): a validator
//! that governance has yet to admit, or a full node (no validator key).
//!
//! ```text
//! DIR/node-i/config.toml     ports 26600 + 10 i, +1, +2 like the genesis nodes;
//!                            p2p peers = the genesis validators; [state_sync]
//!                            peers = their APIs (the node follows the chain
//!                            from them until it is a validator, or for good)
//! DIR/node-i/genesis.toml    a copy of DIR/genesis.toml
//! DIR/keys/validator-i.json  a new validator's key (also copied into node-i/keys)
//! DIR/node-i/keys/operator-0.json  the key it signs its reads of peers with
//! ```
//!
//! Node directories past the genesis validators are "added nodes"; `devnet
//! up` resumes them with the rest.

use std::path::{Path, PathBuf};

use assent_contracts::AccountId;
use assent_genesis::Genesis;

use crate::devnet::{multiaddr_port, node_dir_name, plan, DevnetError, NodePlan};
use crate::keystore::Keystore;

/// The devnet key an added node signs its reads of peers with.
pub const READ_KEY: &str = "operator-0";

/// What an added node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Has a validator key; follows the chain until governance admits it.
    Validator,
    /// No key: follows the chain and serves the API.
    Full,
}

/// A node added to devnet `home`.
#[derive(Clone, Debug)]
pub struct Added {
    pub plan: NodePlan,
    pub kind: Kind,
    /// The new validator key's account (a validator).
    pub key: Option<AccountId>,
}

fn bad(path: &Path, why: String) -> DevnetError {
    DevnetError::Bad {
        path: path.to_path_buf(),
        why,
    }
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DevnetError {
    let path = path.to_path_buf();
    move |source| DevnetError::Io { what, path, source }
}

/// The added nodes' directories of `home` (node-i for i past the genesis
/// validators, each with a config.toml), in index order.
pub fn added_dirs(home: &Path, genesis: &Genesis) -> Vec<(usize, PathBuf)> {
    let first = genesis.validators().len();
    (first..)
        .map(|i| (i, home.join(node_dir_name(i))))
        .take_while(|(_, d)| d.join("config.toml").exists())
        .collect()
}

/// Lays out the next added node of `home` (a new key for a validator,
/// encrypted with `pass`). Nothing is started.
pub fn add(
    home: &Path,
    genesis: &Genesis,
    kind: Kind,
    keystore: &Keystore,
    pass: &str,
) -> Result<Added, DevnetError> {
    let plans = plan(home, genesis)?;
    let first = plans
        .first()
        .ok_or_else(|| bad(&home.join("genesis.toml"), "lists no validator".into()))?;
    let index = plans.len() + added_dirs(home, genesis).len();
    let dir = home.join(node_dir_name(index));
    if dir.exists() {
        return Err(bad(
            &dir,
            "exists without a config.toml (an interrupted add-node?); remove it and run again"
                .into(),
        ));
    }
    let base = multiaddr_port(&first.consensus)
        .ok_or_else(|| bad(&home.join("genesis.toml"), "no /tcp/PORT".into()))?;
    let port = u16::try_from(index)
        .ok()
        .and_then(|i| i.checked_mul(10))
        .and_then(|o| base.checked_add(o))
        .filter(|p| p.checked_add(2).is_some())
        .ok_or_else(|| bad(&dir, format!("no ports left above {base} for node {index}")))?;
    let name = match kind {
        Kind::Validator => format!("validator-{index}"),
        Kind::Full => format!("full-{index}"),
    };
    let node = NodePlan {
        index,
        name: name.clone(),
        dir: dir.clone(),
        consensus: format!("/ip4/127.0.0.1/tcp/{port}"),
        gossip: format!("/ip4/127.0.0.1/tcp/{}", port + 1),
        api: format!("127.0.0.1:{}", port + 2),
    };
    let keys_dir = dir.join("keys");
    std::fs::create_dir_all(&keys_dir).map_err(io("cannot create", &keys_dir))?;
    let gsrc = home.join("genesis.toml");
    std::fs::copy(&gsrc, dir.join("genesis.toml")).map_err(io("cannot copy", &gsrc))?;
    let key = match kind {
        Kind::Validator => {
            let k = keystore.create(&name, pass)?;
            let src = keystore.path_of(&name)?;
            let dst = Keystore::open(&dir).path_of(&name)?;
            std::fs::copy(&src, &dst).map_err(io("cannot copy", &src))?;
            Some(k.account())
        }
        Kind::Full => None,
    };
    // Peers answer reads of blocks and snapshots to operators and current
    // validators only: until it is admitted (a full node: for good) the
    // node reads them as the devnet's first operator.
    let src = keystore.path_of(READ_KEY)?;
    let dst = Keystore::open(&dir).path_of(READ_KEY)?;
    std::fs::copy(&src, &dst).map_err(io("cannot copy", &src))?;
    // The config last: its presence makes the directory an added node.
    let config = dir.join("config.toml");
    std::fs::write(&config, config_toml(&node, &plans, kind))
        .map_err(io("cannot write", &config))?;
    Ok(Added {
        plan: node,
        kind,
        key,
    })
}

fn list(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.map(|s| format!("\"{s}\"")).collect();
    format!("[{}]", v.join(", "))
}

/// An added node's config.toml (docs/node-interfaces.md).
pub fn config_toml(node: &NodePlan, validators: &[NodePlan], kind: Kind) -> String {
    let keys = match kind {
        Kind::Validator => format!(
            "[keys]\nvalidator_key = \"{}\"   # a validator once governance admits it; until then it follows the chain\nread_key = \"{READ_KEY}\"   # signs its reads of the peers' blocks (an operator's key)\n",
            node.name
        ),
        Kind::Full => format!("# No validator_key: a full node. It follows the chain from [state_sync] peers,\n# checks every block's certificate and re-executes it, and serves the API.\n[keys]\nread_key = \"{READ_KEY}\"   # signs its reads of the peers' blocks (an operator's key)\n"),
    };
    format!(
        "# assentd config of {dir}, added to a local devnet (written by `assent devnet add-node`).\n\
         moniker = \"{moniker}\"\n\
         \n\
         {keys}\
         \n\
         [p2p]\n\
         listen = \"{listen}\"\n\
         gossip_listen = \"{gossip}\"\n\
         peers = {peers}\n\
         gossip_peers = {gossip_peers}\n\
         \n\
         [api]\n\
         listen = \"{api}\"\n\
         \n\
         [state_sync]\n\
         peers = {apis}\n\
         \n\
         [log]\n\
         format = \"text\"\n",
        dir = node_dir_name(node.index),
        moniker = node.name,
        listen = node.consensus,
        gossip = node.gossip,
        peers = list(validators.iter().map(|v| v.consensus.clone())),
        gossip_peers = list(validators.iter().map(|v| v.gossip.clone())),
        api = node.api,
        apis = list(validators.iter().map(|v| format!("http://{}", v.api))),
    )
}
