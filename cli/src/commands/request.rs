//! `assent request`: enterprises post access requests; anyone lists the open
//! ones (a consumer matches them to its own tags with `assent consumer
//! requests --matching`, on its own machine: `tags.rs`).

use std::collections::BTreeMap;

use anyhow::Result;
use assent_cli::accounts::Names;
use assent_cli::client::Node;
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::Ctx;
use super::enterprise::standing;
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
            let node = ctx.node()?;
            let v = node.get_value(route)?;
            let names = ctx.names();
            let requests = array(&v, "requests", route)?;
            let standings = standings(&node, requests);
            let out = if requests.is_empty() {
                "no open requests".to_string()
            } else {
                let mut lines = vec![format!("{} request(s):", requests.len())];
                lines.extend(requests.iter().map(|r| describe(r, &names, &standings)));
                lines.join("\n")
            };
            ctx.emit(&out, &v)
        }
    }
}

/// Each enterprise's standing, once: what a consumer weighs before answering.
pub fn standings(node: &Node, requests: &[Value]) -> BTreeMap<String, String> {
    let mut standings = BTreeMap::new();
    for r in requests {
        let e = text(r, "enterprise");
        standings.entry(e).or_insert_with_key(|e| {
            node.get_value(&format!("/v1/enterprises/{e}"))
                .map(|v| standing(&v["reputation"]))
                .unwrap_or_else(|err| format!("standing unavailable: {err}"))
        });
    }
    standings
}

/// One request in words: id, enterprise, terms, target tags, standing.
pub fn describe(r: &Value, names: &Names, standings: &BTreeMap<String, String>) -> String {
    let tags = match list(r, "target_tags").as_str() {
        "nothing" => String::new(),
        t => format!(", for consumers tagged {t}"),
    };
    let enterprise = text(r, "enterprise");
    format!(
        "{}  {}\n    {} on {} ({}) at {} pts/use{tags}; {} grant(s); open until {}\n    standing: {}",
        text(r, "id"),
        names.label_text(&enterprise),
        list(r, "purposes"),
        list(r, "categories"),
        text(r, "level"),
        num(r, "price_per_use"),
        num(r, "grants"),
        time_words(num(r, "expires_at")),
        standings.get(&enterprise).map_or("-", String::as_str)
    )
}
