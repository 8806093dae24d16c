//! `assent use`: enterprises record uses of consumers' data (one, or a batch
//! from a CSV or JSON file); anyone lists a consumer's uses.

use anyhow::Result;
use clap::{Args, Subcommand};

use super::context::Ctx;
use super::query::{array, num, text, Who};
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::kinds;

#[derive(Debug, Subcommand)]
pub enum UseCommand {
    /// Record one use (flags) or a batch (--file); each use is checked and settled on its own (RecordUse)
    Record(Box<With<kinds::RecordUse, SendArgs>>),
    /// List uses of a consumer's data, newest first
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub who: Who,
    /// Most uses to show (1-1000)
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

pub fn run(ctx: &Ctx, cmd: UseCommand) -> Result<()> {
    match cmd {
        UseCommand::Record(w) => send(ctx, w.args.payload(&ctx.keystore()?)?, w.sign),
        UseCommand::List(a) => {
            let (account, names) = a.who.resolve(ctx, "use list")?;
            let route = format!("/v1/consumers/{account}/uses?limit={}", a.limit);
            let v = ctx.node_for(&account)?.get_value(&route)?;
            let uses = array(&v, "uses", &route)?;
            let out = if uses.is_empty() {
                format!("no uses of {}'s data", names.label(&account))
            } else {
                let mut lines = vec![format!(
                    "{} use(s) of {}'s data, newest first:",
                    uses.len(),
                    names.label(&account)
                )];
                for u in uses {
                    let verdict =
                        if u.get("settled").and_then(serde_json::Value::as_bool) == Some(true) {
                            format!(
                                "settled: paid {}, {} to the consumer",
                                num(u, "paid"),
                                num(u, "to_consumer")
                            )
                        } else {
                            format!("rejected: {}: {}", text(u, "code"), text(u, "reason"))
                        };
                    lines.push(format!(
                        "height {}  {}  {} for {}, {} unit(s)  {verdict}",
                        num(u, "height"),
                        names.label_text(&text(u, "enterprise")),
                        text(u, "category"),
                        text(u, "purpose"),
                        num(u, "units"),
                    ));
                }
                lines.join("\n")
            };
            ctx.emit(&out, &v)
        }
    }
}
