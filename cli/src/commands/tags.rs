//! The consumer's side of interest tags (ARCHITECTURE.md decision 33).
//!
//! The chain holds only salted commitments, so everything that needs the
//! tags themselves happens here, with the consumer's key: `assent consumer
//! my-tags` recovers which tags the commitments on the chain are, and
//! `assent consumer requests [--matching]` matches the public requests'
//! target tags against them. The node is only asked for public requests and
//! for the consumer's own commitments; it never learns which tags matched.
//!
//! Candidate tags (the commitments can only be tested, never read): every
//! tag any request on the chain targets, the tags this machine declared
//! (`HOME/tags/<account>.txt`, written when `consumer register` / `consumer
//! tags` succeed — a list of candidates, never trusted: a tag counts only if
//! its commitment is on the chain) and `--candidate`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};
use assent_cli::derive::{self, Recovered};
use assent_contracts::crypto::Keypair;
use assent_contracts::tags::TagCommitments;
use assent_contracts::terms::Tag;
use assent_contracts::AccountId;
use clap::Args;
use serde_json::{json, Value};

use super::context::Ctx;
use super::passphrase;
use super::query::array;
use super::request::{describe, standings};

/// Whose tags: a consumer key of this keystore.
#[derive(Debug, Args)]
pub struct MineArgs {
    /// Your consumer key: its passphrase unlocks the salts only it can recompute
    #[arg(long, value_name = "NAME")]
    pub key: String,
    /// A tag you may have declared that no request targets and this machine has no record of; repeat or give a comma list
    #[arg(long = "candidate", value_name = "TAG", value_delimiter = ',')]
    pub candidates: Vec<Tag>,
}

/// `consumer requests`.
#[derive(Debug, Args)]
pub struct RequestsArgs {
    #[command(flatten)]
    pub mine: MineArgs,
    /// Only requests that target one of your tags, or no tag at all (those are for everyone)
    #[arg(long)]
    pub matching: bool,
    /// Include expired requests
    #[arg(long)]
    pub all: bool,
}

/// A consumer's own tags, as its key reads them off the chain.
struct Mine {
    account: AccountId,
    on_chain: TagCommitments,
    found: Recovered,
}

fn local_file(ctx: &Ctx, account: &AccountId) -> Result<PathBuf> {
    Ok(ctx.home()?.join("tags").join(format!("{account}.txt")))
}

/// Records on this machine the tags `account` declared (candidates for
/// later recovery; the chain has only their commitments).
pub fn remember(ctx: &Ctx, account: &AccountId, tags: &[Tag]) -> Result<()> {
    let path = local_file(ctx, account)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text: String = tags.iter().map(|t| format!("{}\n", t.0)).collect();
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The tags this machine recorded for `account` (none if it never did).
fn remembered(ctx: &Ctx, account: &AccountId) -> Result<Vec<Tag>> {
    let path = local_file(ctx, account)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(anyhow!("cannot read {}: {e}", path.display())),
    };
    // A line that is no tag (an edited file) is skipped: these are only candidates.
    Ok(text.lines().filter_map(|l| l.parse().ok()).collect())
}

/// Unlocks `args.key`, reads its account's commitments and recovers which
/// of the candidates (`args`, this machine's record, `more`) they are.
fn mine(ctx: &Ctx, args: &MineArgs, more: &BTreeSet<Tag>) -> Result<Mine> {
    let ks = ctx.keystore()?;
    let signer = ks.info(&args.key)?.account;
    let node = ctx.node()?;
    let (status, _) = node.status()?;
    let pass = passphrase::unlock(&args.key)?;
    let key: Keypair = ks.load(&args.key, &pass)?;
    // Reads of the account's own records, each with its key at hand (for
    // signed reads). A rotated-in key signs for another account (decision 31).
    let node = node.signed_by(&key)?;
    let (_, acct) = node.account(&signer.to_string())?;
    let account: AccountId = acct
        .get("signs_for")
        .and_then(Value::as_str)
        .and_then(|a| a.parse().ok())
        .unwrap_or(signer);
    let v = node.get_value(&format!("/v1/consumers/{account}/tags"))?;
    let on_chain: TagCommitments = serde_json::from_value(json!({
        "epoch": v["epoch"],
        "commitments": v["commitments"],
    }))
    .map_err(|e| anyhow!("the node's answer to GET /v1/consumers/{account}/tags is not a set of tag commitments ({e}); is it an assent node of the same version?"))?;
    let mut candidates: BTreeSet<Tag> = more.clone();
    candidates.extend(args.candidates.iter().cloned());
    candidates.extend(remembered(ctx, &account)?);
    let found = derive::recover_tags(&key, &status.chain_id, &account, &on_chain, &candidates);
    Ok(Mine {
        account,
        on_chain,
        found,
    })
}

fn tag_words(tags: &[Tag]) -> String {
    if tags.is_empty() {
        return "none".into();
    }
    let names: Vec<String> = tags.iter().map(|t| t.0.clone()).collect();
    super::outcome::and_list(&names)
}

fn unknown_words(m: &Mine) -> String {
    if m.found.unknown == 0 {
        return String::new();
    }
    format!(
        "\n{} commitment(s) are no tag this machine knows: name a tag with --candidate to test it (or they were made with a key this account has rotated away from: declare your tags again with `assent consumer tags`)",
        m.found.unknown
    )
}

fn tags_json(m: &Mine) -> Value {
    json!({
        "account": m.account.to_string(),
        "epoch": m.on_chain.epoch,
        "tags": m.found.tags.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
        "padding": m.found.padding,
        "unknown": m.found.unknown,
    })
}

/// All requests' target tags, as candidates.
fn targeted(requests: &[Value]) -> BTreeSet<Tag> {
    requests
        .iter()
        .filter_map(|r| r.get("target_tags").and_then(Value::as_array))
        .flatten()
        .filter_map(|t| t.as_str()?.parse().ok())
        .collect()
}

/// `assent consumer my-tags`.
pub fn show(ctx: &Ctx, args: &MineArgs) -> Result<()> {
    let route = "/v1/requests?all=true";
    let v = ctx.node()?.get_value(route)?;
    let m = mine(ctx, args, &targeted(array(&v, "requests", route)?))?;
    let text = format!(
        "your tags: {} (read from their salted commitments with your key, which no one else holds; the chain and the nodes hold no tag)\n{} padding commitment(s) hide how many there are{}",
        tag_words(&m.found.tags),
        m.found.padding,
        unknown_words(&m)
    );
    ctx.emit(&text, &tags_json(&m))
}

/// `assent consumer requests [--matching]`: the public requests, each marked
/// with which of your tags it targets — decided here, not by any node.
pub fn requests(ctx: &Ctx, args: &RequestsArgs) -> Result<()> {
    let route = if args.all {
        "/v1/requests?all=true"
    } else {
        "/v1/requests"
    };
    let node = ctx.node()?;
    let v = node.get_value(route)?;
    let all = array(&v, "requests", route)?;
    let m = mine(ctx, &args.mine, &targeted(all))?;
    let mine_set: BTreeSet<&Tag> = m.found.tags.iter().collect();
    let mut shown = vec![];
    for r in all {
        let targets = targeted(std::slice::from_ref(r));
        let hits: Vec<Tag> = targets
            .iter()
            .filter(|t| mine_set.contains(t))
            .cloned()
            .collect();
        let matches = targets.is_empty() || !hits.is_empty();
        if args.matching && !matches {
            continue;
        }
        let mut entry = r.clone();
        if let Value::Object(o) = &mut entry {
            o.insert("matches".into(), json!(matches));
            o.insert(
                "your_tags_targeted".into(),
                json!(hits.iter().map(|t| t.0.clone()).collect::<Vec<_>>()),
            );
        }
        shown.push((entry, hits, targets.is_empty()));
    }
    let names = ctx.names();
    let entries: Vec<Value> = shown.iter().map(|(e, _, _)| e.clone()).collect();
    let standings = standings(&node, &entries);
    let mut lines = vec![format!(
        "your tags: {} (matched on this machine; no node learns which requests match){}",
        tag_words(&m.found.tags),
        unknown_words(&m)
    )];
    let what = if args.matching { "matching " } else { "" };
    if shown.is_empty() {
        lines.push(format!("no {what}requests"));
    } else {
        lines.push(format!("{} {what}request(s):", shown.len()));
    }
    for (r, hits, open) in &shown {
        let mark = match (hits.is_empty(), open) {
            (false, _) => format!("    matches your tag(s) {}", tag_words(hits)),
            (true, true) => "    targets no tags: open to every consumer".into(),
            (true, false) => "    targets none of your tags".into(),
        };
        lines.push(format!("{}\n{mark}", describe(r, &names, &standings)));
    }
    let mut out = tags_json(&m);
    if let Value::Object(o) = &mut out {
        o.insert("requests".into(), json!(entries));
    }
    ctx.emit(&lines.join("\n"), &out)
}
