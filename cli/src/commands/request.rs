//! `assent request`: enterprises post access requests; anyone lists the open ones.

use anyhow::Result;
use clap::{Args, Subcommand};

use super::context::Ctx;
use super::outcome::time_words;
use super::query::{array, list, num, text};
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::kinds;

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Ask consumers for access on stated terms (PostRequest, by an enterprise)
    Post(With<kinds::PostRequest, SendArgs>),
    /// List open access requests
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Include expired requests
    #[arg(long)]
    pub all: bool,
}

pub fn run(ctx: &Ctx, cmd: RequestCommand) -> Result<()> {
    match cmd {
        RequestCommand::Post(w) => send(ctx, w.args.payload(), w.sign),
        RequestCommand::List(a) => {
            let route = if a.all {
                "/v1/requests?all=true"
            } else {
                "/v1/requests"
            };
            let v = ctx.node()?.get_value(route)?;
            let names = ctx.names();
            let requests = array(&v, "requests", route)?;
            let out = if requests.is_empty() {
                "no open requests".to_string()
            } else {
                let mut lines = vec![format!("{} request(s):", requests.len())];
                for r in requests {
                    let tags = match list(r, "target_tags").as_str() {
                        "nothing" => String::new(),
                        t => format!(", for consumers tagged {t}"),
                    };
                    lines.push(format!(
                        "{}  {}\n    {} on {} ({}) at {} pts/use{tags}; {} grant(s); open until {}",
                        text(r, "id"),
                        names.label_text(&text(r, "enterprise")),
                        list(r, "purposes"),
                        list(r, "categories"),
                        text(r, "level"),
                        num(r, "price_per_use"),
                        num(r, "grants"),
                        time_words(num(r, "expires_at"))
                    ));
                }
                lines.join("\n")
            };
            ctx.emit(&out, &v)
        }
    }
}
