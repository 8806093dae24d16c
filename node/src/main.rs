//! `assentd`: the assent validator node.
//!
//! ```text
//! assentd start --home DIR     run the node whose config is DIR/config.toml
//! assentd replay --home DIR    re-execute and check a stopped node's stored chain
//! ```
//! Startup problems (missing genesis, a key that is not a validator, a port in
//! use, a corrupt store) end the process with one clear line and exit code 1.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// jemalloc, not the system allocator: sled allocates and frees many small
/// page buffers per write; under glibc malloc that was ~17 % of a loaded
/// validator's CPU, and setup throughput rose from ~2,000 to ~3,000 tx/s
/// with jemalloc (BENCHMARKS.md).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
#[command(
    name = "assentd",
    version,
    about = "assentd: the assent validator node"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the node: consensus, gossip, HTTP API (stops cleanly on Ctrl-C / SIGTERM)
    Start {
        /// Node home: config.toml, genesis.toml, keys/, data/
        #[arg(long, env = "ASSENTD_HOME", value_name = "DIR")]
        home: PathBuf,
    },
    /// Re-execute a stopped node's stored blocks from genesis, checking every
    /// signature, certificate and root, and report the speed
    Replay {
        /// Node home (the node must be stopped)
        #[arg(long, env = "ASSENTD_HOME", value_name = "DIR")]
        home: PathBuf,
        /// Stop after this height (default: the last stored block)
        #[arg(long, value_name = "HEIGHT")]
        to: Option<u64>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let home = match cli.command {
        Command::Start { home } => home,
        Command::Replay { home, to } => return replay(&home, to),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(assent_node::run::run(&home));
    // Stop the engine's tasks first, so that the error below is the last
    // line the node prints (they log their own shutdown).
    runtime.shutdown_timeout(std::time::Duration::from_secs(3));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(target: "assent::node", error = %e, "assentd stopped");
            eprintln!(
                "error: {}",
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            ExitCode::FAILURE
        }
    }
}

fn replay(home: &std::path::Path, to: Option<u64>) -> ExitCode {
    let mut progress = |line: &str| eprintln!("{line}");
    match assent_node::ledger::replay::replay(home, to, &mut progress) {
        Ok(r) => {
            println!(
                "replayed {} blocks, {} txs ({} signatures checked) in {:.2} s: {:.0} tx/s; height {}, state root {}",
                r.blocks,
                r.txs,
                r.signatures,
                r.secs,
                r.tx_per_sec(),
                r.height,
                r.state_root
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
