//! `assent tx`: build and sign transactions offline; decode signed ones.

mod build;
mod decode;
mod kinds;
mod propose;

use anyhow::Result;
use clap::Subcommand;

use super::context::Ctx;

#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Build a transaction of one kind, check it, sign it, and write it to a file
    ///
    /// The file holds the canonical signed tx bytes (SignedTx::encode) as
    /// lowercase hex text with a trailing newline. Nothing is sent to a node
    /// yet (submission comes with node support), so --sign-only is the only
    /// mode and --nonce must be given.
    Build {
        #[command(subcommand)]
        kind: Box<build::Kind>,
    },
    /// Decode a signed tx file strictly and print it; with --chain-id, check its signature
    Decode(decode::DecodeArgs),
}

pub fn run(ctx: &Ctx, cmd: TxCommand) -> Result<()> {
    match cmd {
        TxCommand::Build { kind } => build::run(ctx, *kind),
        TxCommand::Decode(args) => decode::run(ctx, args),
    }
}
