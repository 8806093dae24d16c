//! What the query commands share: naming the account asked about, and
//! reading fields of the node's JSON for text output.

use anyhow::{bail, Result};
use assent_cli::accounts::{AccountRef, Names};
use assent_contracts::AccountId;
use clap::Args;
use serde_json::Value;

use super::context::Ctx;
use super::tx::kinds::resolve;

/// The account a query is about: `ACCOUNT` (an address or a key name) or `--key NAME`.
#[derive(Debug, Args)]
pub struct Who {
    /// Account (assent1...) or key name
    #[arg(value_name = "ACCOUNT")]
    pub account: Option<AccountRef>,
    /// Key name in the keystore (the same as giving the name as ACCOUNT)
    #[arg(long, value_name = "NAME", conflicts_with = "account")]
    pub key: Option<String>,
}

impl Who {
    /// The account, and how to call it in text output.
    pub fn resolve(&self, ctx: &Ctx, command: &str) -> Result<(AccountId, Names)> {
        let r = match (&self.account, &self.key) {
            (Some(a), _) => a.clone(),
            (None, Some(k)) => AccountRef::Key(k.clone()),
            (None, None) => bail!(
                "give the account: an address (assent1...) or a key name, e.g. `assent {command} alice`"
            ),
        };
        let ks = ctx.keystore()?;
        let flag = if self.key.is_some() {
            "--key"
        } else {
            "ACCOUNT"
        };
        let account = resolve(&r, flag, &ks)?;
        let mut names = Names::of(&ks);
        if let Some(k) = r.key_name() {
            names.insert(account, k);
        }
        Ok((account, names))
    }
}

/// `v[key]` as text: strings as they are, numbers and the rest as JSON, missing as `-`.
pub fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `v[key]` as a number, 0 if missing.
pub fn num(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// `v[key]` (a list of strings) as `a, b and c`.
pub fn list(v: &Value, key: &str) -> String {
    let items: Vec<String> = v
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect()
        })
        .unwrap_or_default();
    super::outcome::and_list(&items)
}

/// The array `v[key]`, or an error saying the answer lacks it.
pub fn array<'a>(v: &'a Value, key: &str, route: &str) -> Result<&'a Vec<Value>> {
    match v.get(key).and_then(Value::as_array) {
        Some(a) => Ok(a),
        None => bail!("the node's answer to {route} has no `{key}` list; is it an assent node of the same version?"),
    }
}
