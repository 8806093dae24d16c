//! `assent status`: the node's view of the chain.

use anyhow::Result;
use serde_json::Value;

use super::context::Ctx;
use super::outcome::time_words;
use super::query::{num, text};

/// A count that a node may give as a number, a list or an object.
fn count(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(a)) => a.len().to_string(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, x)| format!("{k} {x}"))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Bool(b)) => b.to_string(),
        _ => "-".into(),
    }
}

pub fn run(ctx: &Ctx) -> Result<()> {
    let node = ctx.node()?;
    let (status, v) = node.status()?;
    let validators: Vec<String> = v
        .get("validators")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| format!("{} (power {})", text(x, "name"), num(x, "power")))
                .collect()
        })
        .unwrap_or_default();
    let time = v
        .get("time_ms")
        .and_then(Value::as_u64)
        .map(|t| format!(", {}", time_words(t)))
        .unwrap_or_default();
    let role = match v.get("validating").and_then(Value::as_bool) {
        Some(true) => "validator (signs blocks)",
        Some(false) => "follows the chain from its peers, signs nothing (a full node, or a validator not admitted)",
        None => "-",
    };
    let out = format!(
        "node:        {} ({})\n\
         role:        {role}\n\
         chain:       {} (genesis {})\n\
         height:      {} (block {}{time})\n\
         state root:  {}\n\
         validators:  {} {}\n\
         peers:       {}\n\
         syncing:     {}\n\
         mempool:     {}",
        node.url(),
        if status.moniker.is_empty() {
            "-"
        } else {
            &status.moniker
        },
        status.chain_id,
        text(&v, "genesis_hash"),
        status.height,
        text(&v, "block_hash"),
        text(&v, "state_root"),
        validators.len(),
        validators.join(", "),
        count(&v, "peers"),
        if status.syncing { "yes" } else { "no" },
        count(&v, "mempool"),
    );
    ctx.emit(&out, &v)
}
