//! What `devnet up` prints once the nodes run (or, with --no-start, the layout).

use std::path::Path;

use anyhow::Result;
use assent_cli::client::DEFAULT_NODE;
use assent_cli::devnet::{self, DEVNET_PASSPHRASE};
use serde_json::json;

use super::procs::Running;
use super::Layout;
use crate::commands::context::Ctx;

/// The commands to try, for a devnet in `dir` whose node 0 serves `api`.
pub fn examples(dir: &Path, api: &str, default_pass: bool) -> Vec<String> {
    let mut env = format!("export ASSENT_HOME={}", dir.display());
    if default_pass {
        env.push_str(&format!(" ASSENT_PASSPHRASE={DEVNET_PASSPHRASE}"));
    }
    if api != DEFAULT_NODE {
        env.push_str(&format!(" ASSENT_NODE={api}"));
    }
    vec![
        env,
        "assent consumer register --from alice --tag runner".into(),
        "assent consent grant --from alice --enterprise acme --category Purchase --purpose DirectMarketing --level pseudonymous --price 3".into(),
        "assent use record --from acme --consumer alice --consent CONSENT_ID --category Purchase --purpose DirectMarketing --level pseudonymous --evidence-hash $(printf '%064d' 1)".into(),
        "assent consent list alice".into(),
        "assent consent revoke --from alice --consent CONSENT_ID".into(),
    ]
}

pub fn print_ready(
    ctx: &Ctx,
    layout: &Layout,
    nodes: &[Running],
    heights: &[u64],
    default_pass: bool,
    detach: bool,
) -> Result<()> {
    let api0 = layout
        .nodes
        .first()
        .map(|(_, c)| c.api_url())
        .unwrap_or_else(|| DEFAULT_NODE.to_string());
    let ex = examples(&layout.dir, &api0, default_pass);
    let mut text = vec![format!(
        "devnet running: {} validators, chain {}, in {}",
        nodes.len(),
        layout.genesis.chain_id(),
        layout.dir.display()
    )];
    let mut list = Vec::new();
    for (((plan, config), run), h) in layout.nodes.iter().zip(nodes).zip(heights) {
        text.push(format!(
            "  {}  {}  height {h}  pid {}",
            devnet::node_dir_name(plan.index),
            config.api_url(),
            run.pid()
        ));
        list.push(json!({
            "node": devnet::node_dir_name(plan.index),
            "api": config.api_url(),
            "height": h,
            "pid": run.pid(),
            "dir": plan.dir.display().to_string(),
        }));
    }
    text.push("try (CONSENT_ID is what `consent grant` prints):".into());
    text.extend(ex.iter().map(|e| format!("  {e}")));
    text.push(if detach {
        format!(
            "the nodes run in the background; stop them with `assent devnet down --home {}`",
            layout.dir.display()
        )
    } else {
        "press Ctrl-C to stop the nodes".into()
    });
    ctx.emit(
        &text.join("\n"),
        &json!({
            "dir": layout.dir.display().to_string(),
            "chain_id": layout.genesis.chain_id(),
            "created": layout.created,
            "nodes": list,
            "examples": ex,
            "detached": detach,
        }),
    )
}

/// `--no-start`: what the directory holds.
pub fn print_layout(ctx: &Ctx, layout: &Layout) -> Result<()> {
    let mut text = vec![format!(
        "devnet {} in {} (chain {}; not started)",
        if layout.created { "created" } else { "checked" },
        layout.dir.display(),
        layout.genesis.chain_id()
    )];
    let mut list = Vec::new();
    for (plan, config) in &layout.nodes {
        text.push(format!(
            "  {}  {}  {}",
            devnet::node_dir_name(plan.index),
            config.api_url(),
            plan.dir.display()
        ));
        list.push(json!({
            "node": devnet::node_dir_name(plan.index),
            "api": config.api_url(),
            "dir": plan.dir.display().to_string(),
            "validator_key": config.validator_key,
        }));
    }
    ctx.emit(
        &text.join("\n"),
        &json!({
            "dir": layout.dir.display().to_string(),
            "chain_id": layout.genesis.chain_id(),
            "genesis_hash": layout.genesis.hash().to_string(),
            "created": layout.created,
            "nodes": list,
        }),
    )
}
