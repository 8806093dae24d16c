//! `assent tx status ID`: where a submitted tx stands.

use anyhow::{anyhow, Result};
use assent_contracts::TxId;
use clap::Args;

use crate::commands::context::Ctx;
use crate::commands::outcome::event_line;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The tx id (64 hex), as the commands print it
    #[arg(value_name = "ID")]
    pub id: String,
    /// Sign the read with this key: the tx's sender's (a tx's status is its sender's) [default: --read-as]
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Result<()> {
    let id: TxId = args.id.parse().map_err(|e| anyhow!("ID: {e}"))?;
    let id = id.to_string();
    let (st, v) = ctx.node_as(args.key.as_deref())?.tx(&id)?;
    let at = |h: Option<u64>, i: Option<u64>| match (h, i) {
        (Some(h), Some(i)) => format!(" at height {h} (index {i})"),
        (Some(h), None) => format!(" at height {h}"),
        _ => String::new(),
    };
    let text = match st.status.as_str() {
        "committed" => {
            let names = ctx.names();
            let mut t = format!("tx {id}: committed{}", at(st.height, st.index));
            for e in &st.events {
                t.push_str(&format!("\n  {}", event_line(e, &names)));
            }
            t
        }
        "rejected" => format!(
            "tx {id}: rejected{}: {}: {}",
            at(st.height, st.index),
            st.code.as_deref().unwrap_or("unknown"),
            st.reason.as_deref().unwrap_or("no reason given")
        ),
        "pending" => format!("tx {id}: pending (in the node's mempool, not in a block yet)"),
        "unknown" => format!(
            "tx {id}: unknown to this node (never submitted to it, or dropped from its mempool)"
        ),
        other => format!("tx {id}: {other}"),
    };
    ctx.emit(&text, &v)
}
