//! `assent consumer`: register as a consumer, set interest tags (as salted
//! commitments) and match requests to them on this machine (`tags.rs`), see
//! earnings, export everything the ledger holds about a consumer, link an
//! identifier for one enterprise (`links.rs`), keep a pairwise account per
//! enterprise from one master secret (`pairwise.rs`).

use anyhow::Result;
use assent_cli::accounts::{AccountRef, Names};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::Ctx;
use super::query::{num, Who};
use super::send::{send, send_built, Extra, SendArgs, WaitArgs};
use super::tx::build::With;
use super::tx::kinds;

#[derive(Debug, Subcommand)]
pub enum ConsumerCommand {
    /// Register the --from key as a consumer, with self-declared interest tags sent only as salted commitments (RegisterConsumer; with --referrer, then NameReferrer)
    Register(With<RegisterArgs, SendArgs>),
    /// Name the consumer who referred you, once and for good: they earn a share of your settled uses out of the operators' share, never out of yours (NameReferrer)
    Refer(With<kinds::Referrer, SendArgs>),
    /// Replace your interest tags; no --tag clears them. The chain gets salted commitments only (SetTags)
    Tags(With<kinds::Tags, SendArgs>),
    /// Your interest tags, recovered from their commitments on the chain with your key
    MyTags(super::tags::MineArgs),
    /// Open access requests, each marked with which of your tags it targets (matched on this machine)
    Requests(super::tags::RequestsArgs),
    /// What a consumer earned from uses of their data; with --master, all pairwise accounts of a master secret added up
    Earnings(EarningsArgs),
    /// One master secret, a different account for each enterprise: create, derive, recover
    #[command(subcommand)]
    Master(super::pairwise::MasterCommand),
    /// Bind an identifier one enterprise knows you by (member card, phone, email, OpenID login) as a salted commitment; prints the link token to hand that enterprise (LinkIdentity)
    Link(With<super::links::LinkArgs, SendArgs>),
    /// Remove an identity link; from its block on the enterprise's match finds no link (UnlinkIdentity)
    Unlink(With<kinds::LinkRef, SendArgs>),
    /// A consumer's identity links: enterprise, kind, commitment (never the identifier)
    Links(Who),
    /// Download every consent (with its history), use, reward and receipt of a consumer into DIR
    Export(super::export::ExportArgs),
}

/// `consumer earnings`: one account, or every pairwise account of a master.
#[derive(Debug, Args)]
pub struct EarningsArgs {
    #[command(flatten)]
    pub who: Who,
    /// A master secret (`assent consumer master new`): add up the earnings of its pairwise account with every enterprise on the chain
    #[arg(long, value_name = "NAME", conflicts_with_all = ["account", "key"])]
    pub master: Option<String>,
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
            w.args.tags.precheck()?;
            let Some(referrer) = w.args.referrer else {
                return send_tags(ctx, &w.args.tags, w.sign, true);
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
            send_tags(ctx, &w.args.tags, w.sign, true)?;
            send(ctx, refer, then)
        }
        ConsumerCommand::Refer(w) => {
            let payload = w.args.payload(&ctx.keystore()?)?;
            send(ctx, payload, w.sign)
        }
        ConsumerCommand::Tags(w) => {
            w.args.precheck()?;
            send_tags(ctx, &w.args, w.sign, false)
        }
        ConsumerCommand::MyTags(a) => super::tags::show(ctx, &a),
        ConsumerCommand::Requests(a) => super::tags::requests(ctx, &a),
        ConsumerCommand::Master(cmd) => super::pairwise::run(ctx, cmd),
        ConsumerCommand::Earnings(EarningsArgs {
            master: Some(master),
            ..
        }) => super::pairwise::earnings(ctx, &master),
        ConsumerCommand::Earnings(EarningsArgs { who, .. }) => {
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

/// Sends RegisterConsumer (`register`) or SetTags with `tags` as
/// commitments salted by the signing key, then records the tags on this
/// machine as candidates for `my-tags` and `requests`.
fn send_tags(ctx: &Ctx, tags: &kinds::Tags, args: SendArgs, register: bool) -> Result<()> {
    let mut account = None;
    let words: Vec<String> = tags.tags.iter().map(|t| t.0.clone()).collect();
    let extra = (!words.is_empty()).then(|| Extra {
        text: format!(
            "your tags {} went to the chain only as commitments salted with your key (padded to {}); `assent consumer requests --key {} --matching` matches requests to them on this machine",
            super::outcome::and_list(&words),
            assent_contracts::tx::MAX_TAGS,
            args.from
        ),
        key: "your_tags",
        value: serde_json::json!(words),
    });
    send_built(ctx, args, extra, |s| {
        account = Some(s.account);
        if register {
            tags.register(s)
        } else {
            tags.set(s)
        }
    })?;
    match account {
        Some(a) => super::tags::remember(ctx, &a, &tags.tags),
        None => Ok(()),
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
