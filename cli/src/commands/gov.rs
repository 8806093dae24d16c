//! `assent gov`: the operators' governance: propose an action, vote on it.

use anyhow::Result;
use clap::Subcommand;

use super::context::Ctx;
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::{kinds, propose};

#[derive(Debug, Subcommand)]
pub enum GovCommand {
    /// Propose a governance action; it passes at > 2/3 of the operators (Propose, by an operator)
    Propose {
        #[command(subcommand)]
        action: propose::Action<SendArgs>,
    },
    /// Vote on an open proposal (Vote, by an operator)
    Vote(With<kinds::Vote, SendArgs>),
}

pub fn run(ctx: &Ctx, cmd: GovCommand) -> Result<()> {
    match cmd {
        GovCommand::Propose { action } => {
            let (payload, sign) = action.into_parts(&ctx.keystore()?)?;
            send(ctx, payload, sign)
        }
        GovCommand::Vote(w) => send(ctx, w.args.payload(), w.sign),
    }
}
