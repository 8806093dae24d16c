//! `assent get PATH [--key NAME]`: any read of the HTTP API, signed (RFC
//! 9421) with a key of the keystore, printed as JSON — what `curl` does
//! for public routes, for the routes that answer only their parties.

use anyhow::{bail, Result};
use clap::Args;

use super::context::Ctx;

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The route and query, e.g. /v1/uses/<id>/receipt or /v1/state-proofs/account/<id>
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Sign the read with this key (the record's consumer, enterprise, or an operator) [default: --read-as; else unsigned]
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
}

pub fn run(ctx: &Ctx, a: &GetArgs) -> Result<()> {
    if !a.path.starts_with('/') || a.path.starts_with("//") || a.path.contains(char::is_whitespace)
    {
        bail!(
            "PATH must be a route of the node's API starting with one /, e.g. /v1/status (got {:?})",
            a.path
        );
    }
    let v = ctx.node_as(a.key.as_deref())?.get_value(&a.path)?;
    super::context::print_stdout(&serde_json::to_string_pretty(&v)?)
}
