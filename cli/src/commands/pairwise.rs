//! Pairwise accounts (ARCHITECTURE.md decision 35): one master secret, a
//! different consumer account for each enterprise.
//!
//! The pairwise key for an enterprise is HKDF-SHA256 of the master secret,
//! the chain id and the enterprise's account (`assent_keys::derive`), so
//! the master alone recovers every one of them: `master recover` derives a
//! candidate for every enterprise on the chain and keeps those that are
//! registered consumers. Nothing on the ledger joins two of them — no fee
//! account funds them, and this flow names no referrer, guardian or
//! identity link; what would join them is listed in decision 35.
//!
//! The master is a key in the keystore (its seed encrypted like any other)
//! marked by `HOME/masters/<name>.json`, which also lists the pairwise keys
//! this machine holds. A master never signs a tx: its own account would be
//! one more account for nothing, and using it with two enterprises would
//! join them; every tx command refuses it. Pairwise keys are ordinary keys
//! (`<master>-<enterprise>`), stored under the master's passphrase, so
//! every command takes them with `--from`.
//!
//! Reads of a pairwise account's records are made with its key at hand
//! (`Keypair` in scope at each call), ready for signed reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::accounts::{short, Names};
use assent_cli::client::{Node, NodeError};
use assent_cli::derive::pairwise_key;
use assent_cli::keystore::{valid_name, Keystore, MAX_NAME_LEN};
use assent_contracts::crypto::Keypair;
use assent_contracts::AccountId;
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::context::Ctx;
use super::passphrase;
use super::query::{array, num, text};
use super::tx::kinds::resolve;

#[derive(Debug, Subcommand)]
pub enum MasterCommand {
    /// Create a master secret NAME (kept encrypted in the keystore; back up HOME/keys/NAME.json): it never signs, it derives your account for each enterprise
    New {
        /// Name of the master secret: 1-64 characters of a-z, 0-9, _ and -
        name: String,
    },
    /// Store the pairwise key of master NAME for one enterprise, as key NAME-<enterprise name>; register it with `assent consumer register --from` that key
    Derive(DeriveArgs),
    /// Find every pairwise account of master NAME on the chain (one candidate per listed enterprise, kept if registered) and store their keys here
    Recover {
        /// The master secret's key name (e.g. restored from a backup with `assent keys import`)
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct DeriveArgs {
    /// The master secret's key name
    pub name: String,
    /// The enterprise this account is for: its account (assent1...) or a key name
    #[arg(long, value_name = "ACCOUNT")]
    pub enterprise: assent_cli::accounts::AccountRef,
    /// Key name for the pairwise key [default: NAME-<the enterprise's name on the chain>, e.g. carol-acme-retail; recovery picks the same]
    #[arg(long, value_name = "KEYNAME")]
    pub key_name: Option<String>,
}

/// `HOME/masters/<name>.json`: this is a master; the pairwise keys held here.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Marker {
    version: u32,
    /// By enterprise account: (pairwise account, key name).
    #[serde(default)]
    pairwise: BTreeMap<String, Held>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Held {
    account: String,
    key: String,
}

fn marker_path(ctx: &Ctx, name: &str) -> Result<PathBuf> {
    if !valid_name(name) {
        bail!("`{name}` is not a valid key name: use 1-64 characters of a-z, 0-9, _ and -");
    }
    Ok(ctx.home()?.join("masters").join(format!("{name}.json")))
}

fn read_marker(ctx: &Ctx, name: &str) -> Result<Option<Marker>> {
    let path = marker_path(ctx, name)?;
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| anyhow!("{} is not a master marker: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("cannot read {}: {e}", path.display())),
    }
}

fn write_marker(ctx: &Ctx, name: &str, m: &Marker) -> Result<()> {
    let path = marker_path(ctx, name)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(m).context("cannot format the master marker")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// Refuses to sign with a master secret.
pub fn refuse_master(ctx: &Ctx, name: &str) -> Result<()> {
    if valid_name(name) && marker_path(ctx, name)?.exists() {
        bail!(
            "key `{name}` is a master secret: it never signs (its account would join your pairwise accounts); sign with its pairwise key for the enterprise, made by `assent consumer master derive {name} --enterprise E`"
        );
    }
    Ok(())
}

/// The master's key, unlocked, and the node's chain id. A key this machine
/// does not know as a master is refused unless `restoring` (recovery from a
/// backup marks it), and then only if its own account was never used on the
/// chain: a key that signs is no master.
fn unlock(
    ctx: &Ctx,
    name: &str,
    restoring: bool,
) -> Result<(Keystore, Keypair, Zeroizing<String>, Node, String)> {
    let ks = ctx.keystore()?;
    let own = ks.info(name)?.account;
    if !restoring && read_marker(ctx, name)?.is_none() {
        bail!(
            "`{name}` is not a master secret on this machine: create one with `assent consumer master new {name}`, or, restoring a backup of one, run `assent consumer master recover {name}` first"
        );
    }
    let node = ctx.node()?;
    let (status, _) = node.status()?;
    let pass = passphrase::unlock(name)?;
    let key = ks.load(name, &pass)?;
    if restoring {
        // Read with the master's key at hand (signed reads).
        let (info, v) = node.signed_by(&key)?.account(&own.to_string())?;
        let roles = v.get("roles").and_then(Value::as_array).map_or(0, Vec::len);
        if info.nonce > 0 || roles > 0 || info.balance > 0 {
            bail!(
                "key `{name}` has an account in use on the chain ({own}); a master secret never has one — give the key that `assent consumer master new` made"
            );
        }
    }
    Ok((ks, key, pass, node, status.chain_id))
}

/// Every enterprise on the chain (all pages of `GET /v1/enterprises`): account and name.
fn enterprises(node: &Node) -> Result<BTreeMap<AccountId, String>> {
    let mut out = BTreeMap::new();
    let mut offset = 0;
    loop {
        let route = format!("/v1/enterprises?limit=100&offset={offset}");
        let v = node.get_value(&route)?;
        let page = array(&v, "enterprises", &route)?;
        for e in page {
            let account = text(e, "account")
                .parse()
                .map_err(|err| anyhow!("the node's answer to GET {route} names an enterprise `{}` that is no account: {err}", text(e, "account")))?;
            out.insert(account, text(e, "name"));
        }
        offset += page.len() as u64;
        if page.is_empty() || offset >= num(&v, "total") {
            return Ok(out);
        }
    }
}

/// `<master>-<enterprise's name on the chain, as a key name>` (`carol-acme-retail`),
/// the same on every machine that recovers it; a short address if the name
/// has no letter or digit.
fn default_key_name(master: &str, enterprise: &AccountId, chain_name: &str) -> String {
    let mut slug = String::new();
    for c in chain_name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut label: String = slug.chars().take(32).collect();
    label = label.trim_end_matches('-').to_string();
    if label.is_empty() {
        let a = enterprise.to_string();
        let tail: String = a.trim_start_matches("assent1").chars().take(10).collect();
        label = format!("e{tail}");
    }
    let keep = MAX_NAME_LEN.saturating_sub(label.len() + 1);
    format!("{}-{label}", &master[..master.len().min(keep)])
}

/// Stores `key` in the keystore as `name` (or a free variant of it) under
/// `pass`, unless a key of that account is there already; the name it has.
fn store(ks: &Keystore, name: &str, key: &Keypair, pass: &str) -> Result<String> {
    if let Some(k) = ks.list()?.into_iter().find(|k| k.account == key.account()) {
        return Ok(k.name);
    }
    let mut candidate = name.to_string();
    for i in 2.. {
        if !ks.path_of(&candidate)?.exists() {
            break;
        }
        candidate = format!("{name}-{i}");
    }
    ks.create_from_seed(&candidate, key.seed(), pass)?;
    Ok(candidate)
}

pub fn run(ctx: &Ctx, cmd: MasterCommand) -> Result<()> {
    match cmd {
        MasterCommand::New { name } => {
            let ks = ctx.keystore()?;
            let path = ks.path_of(&name)?;
            if path.exists() {
                bail!(
                    "key `{name}` already exists ({}); choose another name for the master secret",
                    path.display()
                );
            }
            let pass = passphrase::choose(&name)?;
            ks.create(&name, &pass)?;
            write_marker(
                ctx,
                &name,
                &Marker {
                    version: 1,
                    ..Marker::default()
                },
            )?;
            let text = format!(
                "created master secret `{name}` in {}\nback up that file (or the seed): it recovers every pairwise account (`assent consumer master recover {name}`)\nnext: `assent consumer master derive {name} --enterprise E`, then register that key",
                path.display()
            );
            ctx.emit(
                &text,
                &json!({"master": name, "file": path.display().to_string()}),
            )
        }
        MasterCommand::Derive(a) => derive(ctx, &a),
        MasterCommand::Recover { name } => recover(ctx, &name),
    }
}

fn derive(ctx: &Ctx, a: &DeriveArgs) -> Result<()> {
    let ks = ctx.keystore()?;
    let enterprise = resolve(&a.enterprise, "--enterprise", &ks)?;
    if let Some(k) = &a.key_name {
        ks.path_of(k).context("--key-name")?;
    }
    let (ks, master, pass, node, chain_id) = unlock(ctx, &a.name, false)?;
    let view = match node.get_value(&format!("/v1/enterprises/{enterprise}")) {
        Err(NodeError::Refused { status: 404, .. }) => bail!(
            "--enterprise: {enterprise} is not an enterprise on this chain; list them with `assent enterprise rankings`"
        ),
        r => r?,
    };
    let key = pairwise_key(&master, &chain_id, &enterprise);
    let names = Names::of(&ks);
    let wanted = a
        .key_name
        .clone()
        .unwrap_or_else(|| default_key_name(&a.name, &enterprise, &text(&view, "name")));
    let stored = store(&ks, &wanted, &key, &pass)?;
    let mut marker = read_marker(ctx, &a.name)?.unwrap_or(Marker {
        version: 1,
        ..Marker::default()
    });
    marker.pairwise.insert(
        enterprise.to_string(),
        Held {
            account: key.account().to_string(),
            key: stored.clone(),
        },
    );
    write_marker(ctx, &a.name, &marker)?;
    let text = format!(
        "pairwise account of `{}` for {}: {}\nkey: `{stored}` (under the master's passphrase); register it with `assent consumer register --from {stored}`, and use it with this enterprise only",
        a.name,
        names.label(&enterprise),
        key.account()
    );
    ctx.emit(
        &text,
        &json!({"master": a.name, "enterprise": enterprise.to_string(), "account": key.account().to_string(), "key": stored}),
    )
}

/// The master's pairwise accounts that are registered consumers, by enterprise.
fn registered(
    node: &Node,
    master: &Keypair,
    chain_id: &str,
) -> Result<Vec<(AccountId, String, Keypair)>> {
    let mut found = vec![];
    for (enterprise, name) in enterprises(node)? {
        let key = pairwise_key(master, chain_id, &enterprise);
        // Read with the pairwise key at hand (signed reads).
        let (_, v) = node.signed_by(&key)?.account(&key.account().to_string())?;
        let roles = v.get("roles").and_then(Value::as_array);
        if roles.is_some_and(|r| r.iter().any(|x| x == "consumer")) {
            found.push((enterprise, name, key));
        }
    }
    Ok(found)
}

fn recover(ctx: &Ctx, name: &str) -> Result<()> {
    let (ks, master, pass, node, chain_id) = unlock(ctx, name, true)?;
    let found = registered(&node, &master, &chain_id)?;
    let mut marker = read_marker(ctx, name)?.unwrap_or(Marker {
        version: 1,
        ..Marker::default()
    });
    let mut lines = vec![format!(
        "master `{name}`: {} pairwise account(s) found on {chain_id}",
        found.len()
    )];
    let mut list = vec![];
    for (enterprise, ename, key) in &found {
        let stored = store(&ks, &default_key_name(name, enterprise, ename), key, &pass)?;
        marker.pairwise.insert(
            enterprise.to_string(),
            Held {
                account: key.account().to_string(),
                key: stored.clone(),
            },
        );
        lines.push(format!(
            "  {ename} ({}): {} as key `{stored}`",
            short(&enterprise.to_string()),
            key.account()
        ));
        list.push(json!({"enterprise": enterprise.to_string(), "enterprise_name": ename, "account": key.account().to_string(), "key": stored}));
    }
    write_marker(ctx, name, &marker)?;
    ctx.emit(
        &lines.join("\n"),
        &json!({"master": name, "chain_id": chain_id, "accounts": list}),
    )
}

/// `assent consumer earnings --master NAME`: every pairwise account's
/// earnings, read one by one with its own key, added up here.
pub fn earnings(ctx: &Ctx, name: &str) -> Result<()> {
    let (_, master, _, node, chain_id) = unlock(ctx, name, false)?;
    let mut total = BTreeMap::<&str, u64>::new();
    let mut lines = vec![];
    let mut list = vec![];
    for (enterprise, ename, key) in registered(&node, &master, &chain_id)? {
        let v = node
            .signed_by(&key)?
            .get_value(&format!("/v1/consumers/{}/earnings", key.account()))?;
        for field in ["earned", "uses_settled", "balance", "referral_earned"] {
            *total.entry(field).or_default() += num(&v, field);
        }
        lines.push(format!(
            "  with {ename} as {}: earned {} points from {} settled use(s); balance {}",
            short(&key.account().to_string()),
            num(&v, "earned"),
            num(&v, "uses_settled"),
            num(&v, "balance")
        ));
        list.push(
            json!({"enterprise": enterprise.to_string(), "enterprise_name": ename, "earnings": v}),
        );
    }
    let get = |f: &str| total.get(f).copied().unwrap_or(0);
    let head = format!(
        "{name}: {} pairwise account(s) earned {} points from {} settled use(s); balance {} points (added up here: no node and no enterprise sees them together)",
        list.len(),
        get("earned"),
        get("uses_settled"),
        get("balance")
    );
    let text = std::iter::once(head)
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n");
    ctx.emit(
        &text,
        &json!({
            "master": name,
            "earned": get("earned"),
            "uses_settled": get("uses_settled"),
            "balance": get("balance"),
            "referral_earned": get("referral_earned"),
            "accounts": list,
        }),
    )
}
