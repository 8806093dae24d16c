//! `assent devnet`: a local network of `assentd` validators on 127.0.0.1.
//!
//! `up` creates the network the first time (the `genesis new` code path,
//! then one directory per node, docs/node-interfaces.md) and resumes it on
//! later runs (same keys, same data); it starts one `assentd` per
//! validator, waits until every node has committed height 2, prints how to
//! use it, and stays in the foreground until Ctrl-C (or returns at once
//! with `--detach`). `down` stops the nodes listed in DIR/devnet.pids;
//! `status` asks each node for its height.

mod add;
mod procs;
mod show;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::client::Node;
use assent_cli::devnet::{self, NodeConfig, NodePlan, PidEntry, DEVNET_PASSPHRASE, PID_FILE};
use assent_cli::duration::parse_ms;
use assent_cli::keystore::{KdfParams, Keystore, KeystoreError};
use assent_cli::network::{self, NetworkSpec, DEFAULT_BASE_PORT};
use assent_genesis::{Genesis, DEVNET_CHAIN_ID};
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{print_stdout, Ctx};
use super::passphrase::PASSPHRASE_ENV;
use procs::{Running, Signals, Stopped};

/// Height every node must reach before `up` reports the devnet ready.
const READY_HEIGHT: u64 = 2;
/// How long a node has to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Subcommand)]
pub enum DevnetCommand {
    /// Create (first run) or resume (later runs) a local network in DIR and run its nodes
    ///
    /// DIR is --home (or ASSENT_HOME), default ./devnet. The first run writes
    /// DIR/genesis.toml, every key in DIR/keys (validator-N, operator-N,
    /// mint, acme, alice) and DIR/node-N for each validator; later runs start
    /// the same nodes on the same data. Keys are encrypted with
    /// ASSENT_PASSPHRASE or, if it is unset, the well-known devnet
    /// passphrase `assent-devnet` (devnet only).
    Up(UpArgs),
    /// Stop the devnet's nodes (those in DIR/devnet.pids): SIGTERM, then SIGKILL after 10 s
    Down,
    /// Each node's API, height and process
    Status,
    /// Add a node to the running devnet: a validator that follows the chain until governance admits its key, or (--full) a full node that serves the API
    ///
    /// It gets the next node-N directory (ports 26600 + 10 N, +1, +2), the
    /// genesis validators as peers and their APIs as [state_sync] peers; a
    /// validator gets a new key `validator-N` in DIR/keys. The command starts
    /// it, waits until it has caught up and prints how to admit it.
    AddNode(AddNodeArgs),
}

#[derive(Debug, Args)]
pub struct AddNodeArgs {
    /// A full node (no validator key) instead of a validator
    #[arg(long)]
    pub full: bool,
    /// The node binary [default: `assentd` next to `assent`, else on PATH]
    #[arg(long, env = "ASSENT_ASSENTD", value_name = "PATH")]
    pub assentd: Option<PathBuf>,
    /// How long the node has to catch up
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_ms)]
    pub wait: u64,
    /// Only lay out the node; start nothing (for tests)
    #[arg(long, hide = true)]
    pub no_start: bool,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Number of validators (first run only; a resumed devnet keeps its own) [default: 4]
    #[arg(long, value_name = "N")]
    pub validators: Option<usize>,
    /// Return once every node runs, leaving them in the background; stop them with `assent devnet down`
    #[arg(long)]
    pub detach: bool,
    /// The node binary [default: `assentd` next to `assent`, else on PATH]
    #[arg(long, env = "ASSENT_ASSENTD", value_name = "PATH")]
    pub assentd: Option<PathBuf>,
    /// How long every node has to reach height 2
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_ms)]
    pub wait: u64,
    /// Consensus port of node 0 on the first run; node i uses base + 10 i (consensus), +1 (gossip), +2 (API)
    #[arg(long, value_name = "PORT", default_value_t = DEFAULT_BASE_PORT, hide = true)]
    pub base_port: u16,
    /// Only create (or check) DIR's layout; start nothing (for tests)
    #[arg(long, hide = true)]
    pub no_start: bool,
}

pub fn run(ctx: &Ctx, cmd: DevnetCommand) -> Result<()> {
    let dir = ctx
        .home_given()
        .unwrap_or_else(|| PathBuf::from(devnet::DEFAULT_DIR));
    match cmd {
        DevnetCommand::Up(args) => up(ctx, &dir, args),
        DevnetCommand::Down => down(ctx, &dir),
        DevnetCommand::Status => status(ctx, &dir),
        DevnetCommand::AddNode(args) => add::add_node(ctx, &dir, args),
    }
}

/// Prints a progress line in text mode (JSON mode prints one value at the end).
fn progress(ctx: &Ctx, line: &str) -> Result<()> {
    if ctx.is_json() {
        return Ok(());
    }
    print_stdout(line)
}

/// The passphrase of the devnet's keys, and whether it is the well-known one.
pub(crate) fn devnet_passphrase() -> Result<(String, bool)> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) if !p.is_empty() => Ok((p, false)),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok((DEVNET_PASSPHRASE.to_string(), true)),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("{PASSPHRASE_ENV} is not valid UTF-8; set it to the passphrase text")
        }
    }
}

/// An absolute path (the nodes and the pid file must not depend on the cwd).
fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))
}

/// A devnet directory ready to run.
struct Layout {
    dir: PathBuf,
    genesis: Genesis,
    nodes: Vec<(NodePlan, NodeConfig)>,
    /// Made by this run (not resumed).
    created: bool,
}

fn is_nonempty_dir(p: &Path) -> bool {
    std::fs::read_dir(p)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
}

/// Creates the network on the first run, or checks the existing one, and
/// completes every node directory.
fn prepare(ctx: &Ctx, dir: &Path, args: &UpArgs, pass: &str, default_pass: bool) -> Result<Layout> {
    let gfile = dir.join("genesis.toml");
    let created = !gfile.exists();
    let genesis = if created {
        if is_nonempty_dir(&dir.join("keys")) {
            bail!(
                "{} holds keys but no genesis.toml (an interrupted `devnet up`?); remove {} and run again",
                dir.join("keys").display(),
                dir.display()
            );
        }
        let spec = NetworkSpec {
            validators: args.validators.unwrap_or(4),
            chain_id: DEVNET_CHAIN_ID.to_string(),
            genesis_time: network::now()
                .ok_or_else(|| anyhow!("the system clock is before 1970"))?,
            base_port: args.base_port,
        };
        let ks = Keystore::open(dir).with_kdf(KdfParams::from_env()?);
        network::check(dir, &spec, &ks)?;
        let which = if default_pass {
            format!("the well-known devnet passphrase `{DEVNET_PASSPHRASE}` ({PASSPHRASE_ENV} is unset; devnet only)")
        } else {
            format!("the passphrase in {PASSPHRASE_ENV}")
        };
        progress(
            ctx,
            &format!(
                "creating a {}-validator devnet in {}; keys are encrypted with {which}",
                spec.validators,
                dir.display()
            ),
        )?;
        network::create(dir, &spec, &ks, pass)?.genesis
    } else {
        let g = Genesis::load(&gfile).map_err(|e| anyhow!("{e}"))?;
        let n = g.validators().len();
        if let Some(asked) = args.validators.filter(|v| *v != n) {
            bail!(
                "{} holds a {n}-validator devnet, not {asked}; leave out --validators to resume it, or remove {} to create a new one",
                dir.display(),
                dir.display()
            );
        }
        progress(
            ctx,
            &format!(
                "resuming the {n}-validator devnet in {} (chain {})",
                dir.display(),
                g.chain_id()
            ),
        )?;
        g
    };
    let abs = absolute(dir)?;
    let plans = devnet::plan(&abs, &genesis)?;
    let mut nodes = Vec::new();
    for p in &plans {
        let prepared = devnet::prepare_node(&abs, p, &plans)?;
        if !created && !prepared.created.is_empty() {
            progress(
                ctx,
                &format!(
                    "completed {} ({} file(s) recreated)",
                    p.dir.display(),
                    prepared.created.len()
                ),
            )?;
        }
        let config = devnet::read_config(&p.dir.join("config.toml"))?;
        nodes.push((p.clone(), config));
    }
    // Nodes added with `devnet add-node` resume with the rest.
    for (index, node_dir) in assent_cli::devnet_join::added_dirs(&abs, &genesis) {
        let config = devnet::read_config(&node_dir.join("config.toml"))?;
        let plan = NodePlan {
            index,
            name: config.moniker.clone(),
            dir: node_dir,
            consensus: config.p2p_listen.clone(),
            gossip: config.gossip_listen.clone(),
            api: config.api_listen.clone(),
        };
        nodes.push((plan, config));
    }
    if !created {
        check_passphrase(&nodes, pass, default_pass)?;
    }
    Ok(Layout {
        dir: abs,
        genesis,
        nodes,
        created,
    })
}

/// The nodes will unlock their keys with `pass`: check one now.
fn check_passphrase(
    nodes: &[(NodePlan, NodeConfig)],
    pass: &str,
    default_pass: bool,
) -> Result<()> {
    let Some((plan, Some(key))) = nodes.first().map(|(p, c)| (p, c.validator_key.as_ref())) else {
        return Ok(());
    };
    match Keystore::open(&plan.dir).load(key, pass) {
        Ok(_) => Ok(()),
        Err(KeystoreError::WrongPassphrase { .. }) if default_pass => bail!(
            "the devnet's keys are not encrypted with the devnet passphrase; set {PASSPHRASE_ENV} to the passphrase they were created with"
        ),
        Err(KeystoreError::WrongPassphrase { .. }) => bail!(
            "{PASSPHRASE_ENV} does not unlock the devnet's keys; set it to the passphrase they were created with (or unset it if they use the devnet passphrase)"
        ),
        Err(e) => Err(e.into()),
    }
}

fn up(ctx: &Ctx, dir: &Path, args: UpArgs) -> Result<()> {
    // Everything that can fail cheaply fails before anything is written or started.
    let assentd = if args.no_start {
        None
    } else {
        Some(procs::find_assentd(args.assentd.clone())?)
    };
    let (pass, default_pass) = devnet_passphrase()?;
    let layout = prepare(ctx, dir, &args, &pass, default_pass)?;
    let pid_file = layout.dir.join(PID_FILE);

    let Some(assentd) = assentd else {
        return show::print_layout(ctx, &layout);
    };
    let running: Vec<PidEntry> = devnet::read_pids(&pid_file)?
        .into_iter()
        .filter(procs::is_running)
        .collect();
    if !running.is_empty() {
        let list: Vec<String> = running
            .iter()
            .map(|e| format!("{} pid {}", e.node, e.pid))
            .collect();
        bail!(
            "the devnet in {} is already running ({}); stop it with `assent devnet down --home {}`",
            layout.dir.display(),
            list.join(", "),
            layout.dir.display()
        );
    }
    for (plan, config) in &layout.nodes {
        for (port, what) in config.ports() {
            if procs::port_in_use(port) {
                bail!(
                    "port {port} ({what} of {}) is already in use: is another devnet running? stop it with `assent devnet down --home DIR`, or find the program with `lsof -i :{port}`",
                    devnet::node_dir_name(plan.index)
                );
            }
        }
    }

    let signals = Signals::install()?;
    let mut nodes: Vec<Running> = Vec::new();
    for (plan, _) in &layout.nodes {
        let name = devnet::node_dir_name(plan.index);
        match procs::start(&assentd, &name, &plan.dir, &pass) {
            Ok(r) => {
                progress(
                    ctx,
                    &format!(
                        "started {name} (pid {}; log {})",
                        r.pid(),
                        plan.dir.join(devnet::LOG_FILE).display()
                    ),
                )?;
                nodes.push(r);
                let entries: Vec<PidEntry> = nodes.iter().map(Running::entry).collect();
                if let Err(e) = devnet::write_pids(&pid_file, &entries) {
                    procs::stop_children(&mut nodes, STOP_GRACE);
                    return Err(e.into());
                }
            }
            Err(e) => {
                procs::stop_children(&mut nodes, STOP_GRACE);
                let _ = std::fs::remove_file(&pid_file);
                return Err(e);
            }
        }
    }

    progress(
        ctx,
        &format!("waiting for every node to reach height {READY_HEIGHT}…"),
    )?;
    let heights = match wait_ready(
        &layout,
        &mut nodes,
        Duration::from_millis(args.wait),
        &signals,
    ) {
        Ok(h) => h,
        Err(e) => {
            procs::stop_children(&mut nodes, STOP_GRACE);
            let _ = std::fs::remove_file(&pid_file);
            return Err(e);
        }
    };
    show::print_ready(ctx, &layout, &nodes, &heights, default_pass, args.detach)?;
    if args.detach {
        return Ok(());
    }
    let why = wait_for_stop(&mut nodes, &signals);
    progress(ctx, &format!("{why}; stopping the nodes…"))?;
    let stopped = procs::stop_children(&mut nodes, STOP_GRACE);
    let _ = std::fs::remove_file(&pid_file);
    let lines: Vec<String> = stopped
        .iter()
        .map(|(n, pid, s)| format!("{n} (pid {pid}) {}", s.words()))
        .collect();
    progress(ctx, &lines.join("\n"))
}

/// Polls every node's status until each commits blocks (height at least
/// [`READY_HEIGHT`] and above the first height it reported); fails if a node
/// exits, a signal arrives or the deadline passes. The heights reached.
fn wait_ready(
    layout: &Layout,
    nodes: &mut [Running],
    within: Duration,
    signals: &Signals,
) -> Result<Vec<u64>> {
    let deadline = Instant::now() + within;
    let clients: Vec<Node> = layout
        .nodes
        .iter()
        .map(|(_, c)| Node::new(&c.api_url(), Duration::from_secs(2)))
        .collect::<Result<_, _>>()?;
    let mut heights: Vec<Option<u64>> = vec![None; nodes.len()];
    // A resumed node reports its stored height at once; it is ready when it
    // commits a new block (and, on a new chain, reaches READY_HEIGHT).
    let mut first_seen: Vec<Option<u64>> = vec![None; nodes.len()];
    let mut last_error: Vec<String> = vec!["no answer yet".into(); nodes.len()];
    loop {
        if let Some(which) = signals.received() {
            bail!("{which} while waiting for the nodes to start; the nodes were stopped");
        }
        for (i, node) in nodes.iter_mut().enumerate() {
            if heights[i].is_some() {
                continue;
            }
            if let Some(how) = node.exited() {
                let log = node.dir.join(devnet::LOG_FILE);
                bail!(
                    "{} (assentd) exited while starting ({how}); its log {} ends with: {}",
                    node.node,
                    log.display(),
                    procs::log_tail(&log)
                );
            }
            match clients[i].status() {
                Ok((s, _)) => {
                    let first = *first_seen[i].get_or_insert(s.height);
                    if s.height >= READY_HEIGHT.max(first.saturating_add(1)) {
                        heights[i] = Some(s.height);
                    } else {
                        last_error[i] = format!("still at height {}", s.height);
                    }
                }
                Err(e) => last_error[i] = e.to_string(),
            }
        }
        if heights.iter().all(Option::is_some) {
            return Ok(heights.into_iter().map(Option::unwrap_or_default).collect());
        }
        if Instant::now() >= deadline {
            let i = heights.iter().position(Option::is_none).unwrap_or(0);
            let log = nodes[i].dir.join(devnet::LOG_FILE);
            bail!(
                "{} did not commit blocks within {} s ({}); the nodes were stopped; see {}",
                nodes[i].node,
                within.as_secs(),
                last_error[i],
                log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Blocks until Ctrl-C, SIGTERM, or every node has exited; says which.
fn wait_for_stop(nodes: &mut [Running], signals: &Signals) -> String {
    let mut reported = vec![false; nodes.len()];
    loop {
        if let Some(which) = signals.received() {
            return which.to_string();
        }
        for (i, n) in nodes.iter_mut().enumerate() {
            if reported[i] {
                continue;
            }
            if let Some(how) = n.exited() {
                reported[i] = true;
                let log = n.dir.join(devnet::LOG_FILE);
                eprintln!(
                    "note: {} (pid {}) exited ({how}); its log {} ends with: {}",
                    n.node,
                    n.pid(),
                    log.display(),
                    procs::log_tail(&log)
                );
            }
        }
        if reported.iter().all(|r| *r) {
            return "every node exited".to_string();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn down(ctx: &Ctx, dir: &Path) -> Result<()> {
    let pid_file = dir.join(PID_FILE);
    let entries = devnet::read_pids(&pid_file)?;
    if entries.is_empty() {
        let _ = std::fs::remove_file(&pid_file);
        return ctx.emit(
            &format!(
                "no devnet nodes to stop in {} (no {PID_FILE})",
                dir.display()
            ),
            &json!({"dir": dir.display().to_string(), "stopped": []}),
        );
    }
    let stopped = procs::stop_listed(&entries, STOP_GRACE);
    std::fs::remove_file(&pid_file)
        .with_context(|| format!("cannot remove {}", pid_file.display()))?;
    let text: Vec<String> = stopped
        .iter()
        .map(|(e, s)| format!("{} (pid {}) {}", e.node, e.pid, s.words()))
        .collect();
    let list: Vec<_> = stopped
        .iter()
        .map(|(e, s)| {
            json!({
                "node": e.node,
                "pid": e.pid,
                "result": match s {
                    Stopped::Term => "stopped",
                    Stopped::Killed => "killed",
                    Stopped::NotRunning => "not_running",
                },
            })
        })
        .collect();
    ctx.emit(
        &text.join("\n"),
        &json!({"dir": dir.display().to_string(), "stopped": list}),
    )
}

/// The genesis of the existing devnet in `dir`, or a clear error if there is none.
fn existing_genesis(dir: &Path) -> Result<Genesis> {
    let gfile = dir.join("genesis.toml");
    if !gfile.exists() {
        bail!(
            "no devnet in {}: create one with `assent devnet up --home {}`",
            dir.display(),
            dir.display()
        );
    }
    Genesis::load(&gfile).map_err(|e| anyhow!("{e}"))
}

fn status(ctx: &Ctx, dir: &Path) -> Result<()> {
    let genesis = existing_genesis(dir)?;
    let abs = absolute(dir)?;
    let pids = devnet::read_pids(&abs.join(PID_FILE))?;
    let mut text = vec![format!(
        "devnet in {}: {} validators, chain {}",
        abs.display(),
        genesis.validators().len(),
        genesis.chain_id()
    )];
    let mut list = Vec::new();
    let mut dirs: Vec<(usize, PathBuf)> = devnet::plan(&abs, &genesis)?
        .into_iter()
        .map(|p| (p.index, p.dir))
        .collect();
    dirs.extend(assent_cli::devnet_join::added_dirs(&abs, &genesis));
    for (index, node_dir) in dirs {
        let name = devnet::node_dir_name(index);
        let fallback = devnet::plan(&abs, &genesis)?
            .get(index)
            .map(|p| format!("http://{}", p.api))
            .unwrap_or_default();
        let api = match devnet::read_config(&node_dir.join("config.toml")) {
            Ok(c) => c.api_url(),
            Err(_) => fallback,
        };
        let answer = Node::new(&api, Duration::from_secs(2)).and_then(|n| n.status());
        let pid = pids.iter().find(|e| e.node == name);
        let process = match pid {
            Some(e) if procs::is_running(e) => format!("pid {}", e.pid),
            Some(e) => format!("pid {} not running", e.pid),
            None => "not running".into(),
        };
        match &answer {
            Ok((s, _)) => text.push(format!("  {name}  {api}  height {}  {process}", s.height)),
            Err(e) => text.push(format!(
                "  {name}  {api}  down ({})  {process}",
                short_reason(e)
            )),
        }
        list.push(json!({
            "node": name,
            "api": api,
            "height": answer.as_ref().ok().map(|(s, _)| s.height),
            "error": answer.as_ref().err().map(short_reason),
            "pid": pid.map(|e| e.pid),
            "running": pid.is_some_and(procs::is_running),
        }));
    }
    ctx.emit(
        &text.join("\n"),
        &json!({
            "dir": abs.display().to_string(),
            "chain_id": genesis.chain_id(),
            "nodes": list,
        }),
    )
}

/// A node error without the advice meant for single commands.
fn short_reason(e: &assent_cli::client::NodeError) -> String {
    match e {
        assent_cli::client::NodeError::Unreachable { why, .. } => why.clone(),
        other => other.to_string(),
    }
}
