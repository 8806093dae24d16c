//! `assentd`: the assent validator node.
//!
//! ```text
//! assentd start --home DIR     run the node whose config is DIR/config.toml
//! ```
//! Startup problems (missing genesis, a key that is not a validator, a port in
//! use, a corrupt store) end the process with one clear line and exit code 1.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    let Command::Start { home } = cli.command;
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
    match runtime.block_on(assent_node::run::run(&home)) {
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
