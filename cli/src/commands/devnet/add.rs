//! `assent devnet add-node`: a node added to the running devnet — a
//! validator for governance to admit, or (`--full`) a full node.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use assent_cli::client::Node;
use assent_cli::devnet::{self, PID_FILE};
use assent_cli::devnet_join::{self, Kind};
use assent_cli::keystore::{KdfParams, Keystore};
use serde_json::json;

use super::procs;
use super::{absolute, devnet_passphrase, existing_genesis, AddNodeArgs};
use crate::commands::context::Ctx;

pub fn add_node(ctx: &Ctx, dir: &Path, args: AddNodeArgs) -> Result<()> {
    let genesis = existing_genesis(dir)?;
    let assentd = if args.no_start {
        None
    } else {
        Some(procs::find_assentd(args.assentd.clone())?)
    };
    let abs = absolute(dir)?;
    let plans = devnet::plan(&abs, &genesis)?;
    // The chain must be running: the new node follows it from the
    // validators' APIs.
    let upstream = plans
        .iter()
        .find_map(|p| {
            Node::new(&format!("http://{}", p.api), Duration::from_secs(2))
                .ok()?
                .status()
                .ok()
        })
        .ok_or_else(|| {
            anyhow!(
                "no validator of the devnet in {} answers; start it first with `assent devnet up --home {} --detach`",
                abs.display(),
                abs.display()
            )
        })?;
    let (pass, _) = devnet_passphrase()?;
    let kind = if args.full {
        Kind::Full
    } else {
        Kind::Validator
    };
    let ks = Keystore::open(&abs).with_kdf(KdfParams::from_env()?);
    let added = devnet_join::add(&abs, &genesis, kind, &ks, &pass)?;
    let plan = &added.plan;
    let name = devnet::node_dir_name(plan.index);
    let config = devnet::read_config(&plan.dir.join("config.toml"))?;
    for (port, what) in config.ports() {
        if procs::port_in_use(port) {
            bail!(
                "port {port} ({what} of {name}) is already in use; stop what holds it (`lsof -i :{port}`), remove {} and run again",
                plan.dir.display()
            );
        }
    }
    let api = config.api_url();
    let mut height = None;
    if let Some(assentd) = assentd {
        let mut run = procs::start(&assentd, &name, &plan.dir, &pass)?;
        let pid_file = abs.join(PID_FILE);
        let mut entries = devnet::read_pids(&pid_file)?;
        entries.push(run.entry());
        devnet::write_pids(&pid_file, &entries)?;
        // Caught up: at the height the validators had when we asked.
        let target = upstream.0.height;
        let client = Node::new(&api, Duration::from_secs(2))?;
        let deadline = Instant::now() + Duration::from_millis(args.wait);
        loop {
            if let Some(how) = run.exited() {
                let log = plan.dir.join(devnet::LOG_FILE);
                bail!(
                    "{name} (assentd) exited while starting ({how}); its log {} ends with: {}",
                    log.display(),
                    procs::log_tail(&log)
                );
            }
            if let Ok((s, _)) = client.status() {
                if s.height >= target {
                    height = Some(s.height);
                    break;
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "{name} did not catch up to height {target} within {} s; it keeps running (see {}; stop the devnet with `assent devnet down`)",
                    args.wait / 1000,
                    plan.dir.join(devnet::LOG_FILE).display()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let mut text = vec![match (kind, height) {
        (Kind::Full, Some(h)) => format!(
            "{name}: a full node at {api}, caught up to height {h}; it checks every block's certificate, re-executes it and serves the API (txs it is given are checked and forwarded to a validator)"
        ),
        (Kind::Full, None) => format!("{name}: a full node laid out in {}", plan.dir.display()),
        (Kind::Validator, Some(h)) => format!(
            "{name}: a validator-to-be at {api}, caught up to height {h}; it follows the chain until governance admits its key"
        ),
        (Kind::Validator, None) => {
            format!("{name}: a validator-to-be laid out in {}", plan.dir.display())
        }
    }];
    if let Some(key) = &added.key {
        text.push(format!(
            "its consensus key: {key} (key `{}` in {}/keys); admit it with:\n  assent gov propose add-validator --name {} --consensus-key {} --power 1 --p2p-address {} --from operator-0\nthen have more than two thirds of the operators vote yes (`assent gov vote --proposal ID --yes --from operator-N`).",
            plan.name,
            abs.display(),
            plan.name,
            plan.name,
            plan.consensus
        ));
    }
    ctx.emit(
        &text.join("\n"),
        &json!({
            "node": name,
            "kind": match kind { Kind::Full => "full", Kind::Validator => "validator" },
            "dir": plan.dir.display().to_string(),
            "api": api,
            "p2p_address": plan.consensus,
            "consensus_key": added.key.map(|k| k.to_string()),
            "key_name": (kind == Kind::Validator).then(|| plan.name.clone()),
            "height": height,
        }),
    )
}
