//! `assent policy`: a consumer's standing permissions for a sector or one enterprise.

use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

use super::context::Ctx;
use super::query::{array, list, num, text, Who};
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::kinds;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Let every enterprise of a sector (or one enterprise) use some data on stated terms (SetPolicy)
    Set(With<kinds::SetPolicy, SendArgs>),
    /// Remove a standing policy (ClearPolicy)
    Clear(With<kinds::PolicyRef, SendArgs>),
    /// List a consumer's policies
    List(Who),
}

pub fn run(ctx: &Ctx, cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Set(w) => send(ctx, w.args.payload(&ctx.keystore()?)?, w.sign),
        PolicyCommand::Clear(w) => send(ctx, w.args.clear(), w.sign),
        PolicyCommand::List(who) => list_policies(ctx, &who),
    }
}

/// `{"sector": "retail"}` or `{"enterprise": "assent1…"}` in words.
fn target(p: &Value, names: &assent_cli::accounts::Names) -> String {
    let t = p.get("target").unwrap_or(&Value::Null);
    if let Some(s) = t.get("sector").and_then(Value::as_str) {
        return format!("any {s} enterprise");
    }
    if let Some(e) = t.get("enterprise").and_then(Value::as_str) {
        return names.label_text(e);
    }
    t.to_string()
}

fn list_policies(ctx: &Ctx, who: &Who) -> Result<()> {
    let (account, names) = who.resolve(ctx, "policy list")?;
    let route = format!("/v1/consumers/{account}/policies");
    let v = ctx.node_for(&account)?.get_value(&route)?;
    let policies = array(&v, "policies", &route)?;
    let text_out = if policies.is_empty() {
        format!("{} has no policies", names.label(&account))
    } else {
        let mut lines = vec![format!(
            "{} polic{} of {}:",
            policies.len(),
            if policies.len() == 1 { "y" } else { "ies" },
            names.label(&account)
        )];
        for p in policies {
            lines.push(format!(
                "{}  {}\n    {} on {} ({}) at {} pts/use, set at height {}",
                text(p, "id"),
                target(p, &names),
                list(p, "purposes"),
                list(p, "categories"),
                text(p, "level"),
                num(p, "min_price"),
                num(p, "set_height")
            ));
        }
        lines.join("\n")
    };
    ctx.emit(&text_out, &v)
}
