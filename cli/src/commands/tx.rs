//! `assent tx`: build and sign transactions offline; decode them; submit
//! signed files to a node; follow a tx's status.

pub mod build;
mod decode;
pub mod kinds;
pub mod propose;
mod status;
mod submit;

use anyhow::Result;
use clap::Subcommand;

use super::context::Ctx;

#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Build a transaction of one kind, check it, sign it, and write it to a file (offline)
    ///
    /// The file holds the canonical signed tx bytes (SignedTx::encode) as
    /// lowercase hex text with a trailing newline. Nothing is sent: give
    /// --nonce and --chain-id, and submit the file later with
    /// `assent tx submit FILE`. To build, sign and send in one step, use the
    /// commands `assent consent grant`, `assent use record`, ... instead.
    Build {
        #[command(subcommand)]
        kind: Box<build::Kind>,
    },
    /// Decode a signed tx file strictly and print it; with --chain-id, check its signature
    Decode(decode::DecodeArgs),
    /// Submit a signed tx file (from `tx build`) to the node and wait for its block
    Submit(submit::SubmitArgs),
    /// Where a tx stands on the node: pending, committed (with its events), rejected or unknown
    Status(status::StatusArgs),
}

pub fn run(ctx: &Ctx, cmd: TxCommand) -> Result<()> {
    match cmd {
        TxCommand::Build { kind } => build::run(ctx, *kind),
        TxCommand::Decode(args) => decode::run(ctx, args),
        TxCommand::Submit(args) => submit::run(ctx, args),
        TxCommand::Status(args) => status::run(ctx, args),
    }
}
