//! `assent consumer`: register as a consumer, set interest tags, see
//! earnings, export everything the ledger holds about a consumer, link an
//! identifier for one enterprise (`links.rs`).

use anyhow::Result;
use clap::Subcommand;

use super::context::Ctx;
use super::query::{num, Who};
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::kinds;

#[derive(Debug, Subcommand)]
pub enum ConsumerCommand {
    /// Register the --from key as a consumer, with self-declared interest tags (RegisterConsumer)
    Register(With<kinds::Tags, SendArgs>),
    /// Replace your interest tags; no --tag clears them (SetTags)
    Tags(With<kinds::Tags, SendArgs>),
    /// What a consumer earned from uses of their data
    Earnings(Who),
    /// Bind an identifier one enterprise knows you by (member card, phone, email, OpenID login) as a salted commitment; prints the link token to hand that enterprise (LinkIdentity)
    Link(With<super::links::LinkArgs, SendArgs>),
    /// Remove an identity link; from its block on the enterprise's match finds no link (UnlinkIdentity)
    Unlink(With<kinds::LinkRef, SendArgs>),
    /// A consumer's identity links: enterprise, kind, commitment (never the identifier)
    Links(Who),
    /// Download every consent (with its history), use, reward and receipt of a consumer into DIR
    Export(super::export::ExportArgs),
}

pub fn run(ctx: &Ctx, cmd: ConsumerCommand) -> Result<()> {
    match cmd {
        ConsumerCommand::Register(w) => send(ctx, w.args.register(), w.sign),
        ConsumerCommand::Tags(w) => send(ctx, w.args.set(), w.sign),
        ConsumerCommand::Earnings(who) => {
            let (account, names) = who.resolve(ctx, "consumer earnings")?;
            let v = ctx
                .node()?
                .get_value(&format!("/v1/consumers/{account}/earnings"))?;
            let text = format!(
                "{} earned {} points from {} settled use(s); balance {} points",
                names.label(&account),
                num(&v, "earned"),
                num(&v, "uses_settled"),
                num(&v, "balance")
            );
            ctx.emit(&text, &v)
        }
        ConsumerCommand::Export(args) => super::export::run(ctx, &args),
        ConsumerCommand::Link(w) => super::links::link(ctx, w),
        ConsumerCommand::Unlink(w) => super::links::unlink(ctx, w),
        ConsumerCommand::Links(who) => super::links::list(ctx, &who),
    }
}
