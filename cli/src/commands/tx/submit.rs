//! `assent tx submit FILE`: submit a tx signed offline (`tx build`), then
//! wait for it like every other command. The file is decoded strictly and
//! its signature checked for the node's chain before anything is sent.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use assent_cli::txfile::{self, TxFormat};
use assent_contracts::codec::MAX_DECODE_BYTES;
use clap::Args;

use super::decode::read_input;
use crate::commands::context::Ctx;
use crate::commands::send::{submit_and_wait, NonceFrom, WaitArgs};

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Signed tx file as `tx build` writes it (hex text), or raw canonical bytes; `-` reads stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub wait: WaitArgs,
}

pub fn run(ctx: &Ctx, args: SubmitArgs) -> Result<()> {
    let (name, content) = read_input(&args.file)?;
    let tx = txfile::decode(&content, TxFormat::Auto, MAX_DECODE_BYTES)
        .map_err(|e| anyhow!("{name}: {e}; nothing was sent"))?;
    // The sender reads its tx's status (with its key, if this keystore has it).
    let node = ctx.node_for(&tx.body.sender)?;
    let (status, _) = node.status()?;
    tx.clone().verify(&status.chain_id).map_err(|e| {
        anyhow!(
            "{name}: the signature does not verify for the node's chain `{}` ({e}); it was signed for another chain, or altered; nothing was sent",
            status.chain_id
        )
    })?;
    let names = ctx.names();
    submit_and_wait(ctx, &node, &tx, &names, &args.wait, NonceFrom::File)
}
