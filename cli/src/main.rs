//! `assent`: the command-line tool of the assent consent ledger.
//!
//! ```text
//! assent [--home DIR] [--node URL] [--output text|json]
//!   keys new NAME | import NAME --seed-file FILE|- | export-seed NAME | list | show NAME
//!   status                                         the node's chain, height, validators
//!   consumer register|tags --from KEY [--tag T] | my-tags --key NAME | requests --key NAME [--matching] | earnings [ACCOUNT|--key NAME|--master M]
//!   consumer master new M | derive M --enterprise E | recover M
//!   consumer link --enterprise E --kind K --id ID [--out FILE] --from KEY | unlink --enterprise E --kind K --from KEY | links [ACCOUNT]
//!   enterprise rankings [--by B] [--sector S] | match-link (--token FILE | --consumer C --enterprise E --kind K --salt HEX) --id ID
//!   consent grant|revoke|revoke-all|pause|resume [flags] --from KEY | list [ACCOUNT|--key NAME]
//!   consent receipt ID [--format proof|kantara|iso27560] [--tx TX_ID] [--out FILE]
//!   receipt verify FILE... --genesis GENESIS       (offline)
//!   policy set|clear [flags] --from KEY | list [ACCOUNT|--key NAME]
//!   request post [flags] --from KEY | list [--all]
//!   use record (flags | --file FILE) --from KEY | list [ACCOUNT|--key NAME] [--limit N]
//!   rate | transfer | mint [flags] --from KEY
//!   balance [ACCOUNT|--key NAME]
//!   gov propose <action> [flags] --from KEY | vote --proposal ID --yes|--no --from KEY
//!   tx build <kind> [kind flags] --from KEY --nonce N --chain-id ID [--out FILE|-]   (offline)
//!   tx decode FILE|- [--chain-id ID] | submit FILE | status ID
//!   genesis new [--validators N] --out DIR | validate FILE
//!   devnet up [--validators N] [--detach] | down | status      (DIR: --home, default ./devnet)
//! ```
//!
//! Commands that make a tx build it from the same flags as `tx build`,
//! sign it with the `--from` key for the node's chain, take the nonce from
//! the node unless `--nonce` is given, submit it, and wait for the block
//! (`--no-wait` prints the tx id only; `--timeout` bounds the wait).
//! Accounts may be given as `assent1…` or as the name of a key in the keystore.
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
use commands::send::SendArgs;
use commands::tx::build::With;
use commands::tx::kinds;

#[derive(Debug, Parser)]
#[command(
    name = "assent",
    version,
    about = "assent: keys, transactions, queries and a local devnet for the assent consent ledger",
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
    /// The node's view of the chain: chain id, height, validators, peers
    Status,
    /// Register as a consumer, set interest tags (as salted commitments), match requests to them, see earnings, keep one account per enterprise
    #[command(subcommand)]
    Consumer(commands::consumer::ConsumerCommand),
    /// Grant, pause, resume, revoke and list consents
    #[command(subcommand)]
    Consent(commands::consent::ConsentCommand),
    /// Standing permissions for a sector or one enterprise
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Enterprises' access requests: post, list (with each enterprise's standing)
    #[command(subcommand)]
    Request(commands::request::RequestCommand),
    /// The public ranking of enterprises: points paid, uses honoured, rating, response to revocations
    #[command(subcommand)]
    Enterprise(commands::enterprise::EnterpriseCommand),
    /// Record uses of consumers' data (enterprises); list a consumer's uses
    #[command(subcommand)]
    Use(commands::usage::UseCommand),
    /// Rate an enterprise 1-5, once per consent (Rate, by a consumer)
    Rate(With<kinds::Rate, SendArgs>),
    /// Publish your contact details as a data controller, shown in consent receipts (SetContact, by an enterprise)
    Contact(With<kinds::Contact, SendArgs>),
    /// An account's points, nonce and roles
    Balance(commands::query::Who),
    /// Who controls an account: rotate its key, name guardians, recover a lost key with them
    #[command(subcommand)]
    Account(commands::keyctl::AccountCommand),
    /// Move points to another account (Transfer)
    Transfer(With<kinds::AmountTo, SendArgs>),
    /// Issue points (Mint, by the mint authority)
    Mint(With<kinds::AmountTo, SendArgs>),
    /// Operators' governance: propose, vote
    #[command(subcommand)]
    Gov(commands::gov::GovCommand),
    /// Build and sign transactions offline, decode them, submit signed files, follow a tx
    #[command(subcommand)]
    Tx(commands::tx::TxCommand),
    /// GET any route of the node's API as JSON, the read signed with --key (records answer only their parties and operators)
    Get(commands::get::GetArgs),
    /// Check receipts offline against a chain's genesis (no node needed)
    #[command(subcommand)]
    Receipt(commands::receipt::ReceiptCommand),
    /// Create a network's genesis and keys; validate genesis files
    #[command(subcommand)]
    Genesis(commands::genesis::GenesisCommand),
    /// Run a local network of assentd validators (DIR: --home, default ./devnet)
    #[command(subcommand)]
    Devnet(commands::devnet::DevnetCommand),
    /// Load generator: throughput and submit-to-commit latency against a devnet (DIR: --home, default ./devnet)
    Bench(commands::bench::BenchArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Keys(cmd) => commands::keys::run(&ctx, cmd),
        Command::Status => commands::status::run(&ctx),
        Command::Consumer(cmd) => commands::consumer::run(&ctx, cmd),
        Command::Consent(cmd) => commands::consent::run(&ctx, cmd),
        Command::Policy(cmd) => commands::policy::run(&ctx, cmd),
        Command::Request(cmd) => commands::request::run(&ctx, cmd),
        Command::Enterprise(cmd) => commands::enterprise::run(&ctx, cmd),
        Command::Use(cmd) => commands::usage::run(&ctx, cmd),
        Command::Rate(w) => commands::consent::rate(&ctx, w),
        Command::Contact(w) => commands::consent::contact(&ctx, w),
        Command::Balance(who) => commands::account::balance(&ctx, &who),
        Command::Account(cmd) => commands::keyctl::run(&ctx, cmd),
        Command::Transfer(w) => commands::account::transfer(&ctx, w),
        Command::Mint(w) => commands::account::mint(&ctx, w),
        Command::Gov(cmd) => commands::gov::run(&ctx, cmd),
        Command::Tx(cmd) => commands::tx::run(&ctx, cmd),
        Command::Bench(args) => commands::bench::run(&ctx, args),
        Command::Get(a) => commands::get::run(&ctx, &a),
        Command::Receipt(cmd) => commands::receipt::run(&ctx, cmd),
        Command::Genesis(cmd) => commands::genesis::run(&ctx, cmd),
        Command::Devnet(cmd) => commands::devnet::run(&ctx, cmd),
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
