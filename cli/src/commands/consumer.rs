//! `assent consumer`: register as a consumer, set interest tags, see
//! earnings, export everything the ledger holds about a consumer, link an
//! identifier for one enterprise (`links.rs`).

use anyhow::Result;
use assent_cli::accounts::{AccountRef, Names};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::Ctx;
use super::query::{num, Who};
use super::send::{send, SendArgs, WaitArgs};
use super::tx::build::With;
use super::tx::kinds;

#[derive(Debug, Subcommand)]
pub enum ConsumerCommand {
    /// Register the --from key as a consumer, with self-declared interest tags (RegisterConsumer; with --referrer, then NameReferrer)
    Register(With<RegisterArgs, SendArgs>),
    /// Name the consumer who referred you, once and for good: they earn a share of your settled uses out of the operators' share, never out of yours (NameReferrer)
    Refer(With<kinds::Referrer, SendArgs>),
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

/// `consumer register`: tags, and optionally who referred you.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub tags: kinds::Tags,
    /// The consumer who referred you (account or key name): sends NameReferrer once registered
    #[arg(long, value_name = "ACCOUNT")]
    pub referrer: Option<AccountRef>,
}

pub fn run(ctx: &Ctx, cmd: ConsumerCommand) -> Result<()> {
    match cmd {
        ConsumerCommand::Register(w) => {
            let Some(referrer) = w.args.referrer else {
                return send(ctx, w.args.tags.register(), w.sign);
            };
            let refer = kinds::Referrer { referrer }.payload(&ctx.keystore()?)?;
            let then = SendArgs {
                from: w.sign.from.clone(),
                nonce: w.sign.nonce.map(|n| n + 1),
                wait: WaitArgs {
                    no_wait: w.sign.wait.no_wait,
                    timeout: w.sign.wait.timeout,
                },
            };
            send(ctx, w.args.tags.register(), w.sign)?;
            send(ctx, refer, then)
        }
        ConsumerCommand::Refer(w) => {
            let payload = w.args.payload(&ctx.keystore()?)?;
            send(ctx, payload, w.sign)
        }
        ConsumerCommand::Tags(w) => send(ctx, w.args.set(), w.sign),
        ConsumerCommand::Earnings(who) => {
            let (account, names) = who.resolve(ctx, "consumer earnings")?;
            let v = ctx
                .node_for(&account)?
                .get_value(&format!("/v1/consumers/{account}/earnings"))?;
            let mut text = format!(
                "{} earned {} points from {} settled use(s); balance {} points",
                names.label(&account),
                num(&v, "earned"),
                num(&v, "uses_settled"),
                num(&v, "balance")
            );
            text.push_str(&referral_lines(&v, &names));
            ctx.emit(&text, &v)
        }
        ConsumerCommand::Export(args) => super::export::run(ctx, &args),
        ConsumerCommand::Link(w) => super::links::link(ctx, w),
        ConsumerCommand::Unlink(w) => super::links::unlink(ctx, w),
        ConsumerCommand::Links(who) => super::links::list(ctx, &who),
    }
}

/// The advocacy share in an earnings answer (decision 29): who referred
/// this consumer and what that referral paid them, and what this consumer
/// earned referring others.
fn referral_lines(v: &Value, names: &Names) -> String {
    let mut s = String::new();
    if let Some(by) = v.get("referred_by").filter(|b| b.is_object()) {
        let referrer = by["referrer"].as_str().unwrap_or("?");
        s.push_str(&format!(
            "\n  referred by {} at height {}: that referral has paid them {} points, out of the operators' share (never yours)",
            names.label_text(referrer),
            num(by, "named_at"),
            num(by, "paid_to_referrer")
        ));
    }
    if num(v, "referred_consumers") > 0 {
        s.push_str(&format!(
            "\n  referral: earned {} points from the uses of {} consumer(s) you referred (paid out of the operators' share)",
            num(v, "referral_earned"),
            num(v, "referred_consumers")
        ));
    }
    s
}
