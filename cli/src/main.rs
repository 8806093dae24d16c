//! `assent`: the command-line tool of the assent consent ledger.
//!
//! ```text
//! assent [--home DIR] [--output text|json]
//!   keys new NAME | import NAME --seed-hex HEX | list | show NAME
//!   tx build <kind> [kind flags] --from KEY --nonce N --chain-id ID [--sign-only] [--out FILE|-]
//!     kinds: register-consumer set-tags grant-consent revoke-consent revoke-all
//!            pause-consent resume-consent set-policy clear-policy post-request
//!            record-use rate transfer mint vote
//!            propose admit-enterprise|suspend-enterprise|reinstate-enterprise|
//!                    add-validator|remove-validator|set-params|json
//!   tx decode FILE|- [--chain-id ID] [--format auto|hex|raw]
//!   genesis new [--validators N] --out DIR [--chain-id ID] [--genesis-time T]
//!   genesis validate FILE
//! ```
//!
//! Every failure ends the same way: one line `error: ...` on stderr saying
//! what was wrong and what to do, and a non-zero exit (2 for usage errors,
//! 1 otherwise). Bad input never panics; a bug that does is reported on one
//! line too, without a backtrace.

#![forbid(unsafe_code)]

mod commands;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand};

use commands::context::{Ctx, GlobalArgs};

#[derive(Debug, Parser)]
#[command(
    name = "assent",
    version,
    about = "assent: keys, transactions and queries for the assent consent ledger",
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// One variant per command group; each group is a module of `commands/`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Manage the encrypted keystore (HOME/keys)
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Build and sign transactions offline; decode signed transactions
    #[command(subcommand)]
    Tx(commands::tx::TxCommand),
    /// Create a network's genesis and keys; validate genesis files
    #[command(subcommand)]
    Genesis(commands::genesis::GenesisCommand),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Keys(cmd) => commands::keys::run(&ctx, cmd),
        Command::Tx(cmd) => commands::tx::run(&ctx, cmd),
        Command::Genesis(cmd) => commands::genesis::run(&ctx, cmd),
    }
}

/// Collapses a message onto one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The command a usage error is about (`assent tx build vote`), read from its usage line.
fn command_path(rendered: &str) -> String {
    rendered
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(|u| {
            u.split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "assent".to_string())
}

/// A clap usage error as one line; help and version pass through unchanged.
fn clap_error(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Printing help can only fail on a closed pipe; nothing to add then.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
        _ => {}
    }
    let flag = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.split_whitespace().next().map(str::to_string),
        _ => None,
    };
    let source = std::error::Error::source(&err).map(|s| s.to_string());
    let msg = match (err.kind(), flag, source) {
        (ErrorKind::ValueValidation, Some(flag), Some(why)) => format!("{flag}: {why}"),
        _ => {
            // The rendered error's first paragraph holds the whole message.
            let rendered = err.render().to_string();
            let para: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage:"))
                .collect();
            let text = one_line(&para.join(" "));
            let text = text
                .strip_prefix("error:")
                .unwrap_or(&text)
                .trim()
                .to_string();
            format!("{text} (see `{} --help`)", command_path(&rendered))
        }
    };
    eprintln!("error: {}", one_line(&msg));
    ExitCode::from(2)
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!(
            "error: internal error: {} (this is a bug in assent; please report it)",
            one_line(&what)
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_tree_is_consistent() {
        // clap checks a subcommand's definition only when it is used; check all now.
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
