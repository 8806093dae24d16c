//! Identity links, both sides (ARCHITECTURE.md decision 28).
//!
//! - `assent consumer link`: the consumer normalises the identifier, draws a
//!   fresh 32-byte salt (here, never in the ledger), puts only the salted
//!   commitment on the chain (LinkIdentity) and gets a *link token*
//!   `{version, chain_id, consumer, enterprise, kind, salt}` to hand to that
//!   enterprise off the chain. The token holds no identifier: the enterprise
//!   has that already.
//! - `assent enterprise match-link`: the enterprise recomputes the commitment
//!   from its own record and the token's salt and compares it with the one
//!   on the chain, on this machine (the node never sees identifier or salt).
//! - `assent consumer links` / `unlink`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::accounts::{AccountRef, Names};
use assent_cli::client::NodeError;
use assent_contracts::identity::{self, IdentityKind};
use assent_contracts::tx::{self, check_stateless};
use assent_contracts::{AccountId, Hash32, LinkCommitment, LinkSalt, Payload};
use clap::Args;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::context::Ctx;
use super::query::{array, num, text, Who};
use super::send::{send, send_with, Extra, SendArgs};
use super::tx::build::With;
use super::tx::kinds::{resolve, LinkRef};

/// Version of the link token format.
const TOKEN_VERSION: u32 = 1;

/// What a consumer hands one enterprise, off the chain, so it can match its
/// own record against the link. Holds the salt, never the identifier.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkToken {
    pub version: u32,
    pub chain_id: String,
    pub consumer: AccountId,
    pub enterprise: AccountId,
    pub kind: IdentityKind,
    pub salt: LinkSalt,
}

/// `assent consumer link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    #[command(flatten)]
    pub link: LinkRef,
    /// The identifier the enterprise knows you by: a member card number, a phone number
    /// (+ and country code), an email address, or issuer|subject for an OpenID login
    #[arg(long = "id", value_name = "IDENTIFIER")]
    pub identifier: String,
    /// Also write the link token to FILE (created readable by you only; refused if it exists)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// `assent enterprise match-link`.
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// The link token the consumer gave you (JSON, from `assent consumer link`)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["consumer", "enterprise", "kind", "salt"])]
    pub token: Option<PathBuf>,
    /// Without --token: the consumer's account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub consumer: Option<AccountRef>,
    /// Without --token: your enterprise account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub enterprise: Option<AccountRef>,
    /// Without --token: member_card, phone, email or openid
    #[arg(long, value_name = "KIND")]
    pub kind: Option<IdentityKind>,
    /// Without --token: the link's salt (64 hex)
    #[arg(long, value_name = "HEX")]
    pub salt: Option<LinkSalt>,
    /// The identifier in your own record of this customer
    #[arg(long = "id", value_name = "IDENTIFIER")]
    pub identifier: String,
}

/// Writes the token to `path`, readable by its owner only.
fn write_token(path: &Path, token: &LinkToken, force: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow!(
            "{} exists; it may hold the token of a live link: choose another --out or add --force",
            path.display()
        ),
        _ => anyhow!("cannot write the link token to {}: {e}", path.display()),
    })?;
    let text = serde_json::to_string_pretty(token).context("cannot format the link token")?;
    writeln!(f, "{text}")
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write the link token to {}", path.display()))
}

pub fn link(ctx: &Ctx, w: With<LinkArgs, SendArgs>) -> Result<()> {
    let a = w.args;
    let kind = a.link.kind;
    // Refuse a malformed identifier before the network, a passphrase or a salt.
    identity::normalize(kind, &a.identifier).map_err(|e| anyhow!("--id: {e}"))?;
    let ks = ctx.keystore()?;
    let enterprise = resolve(&a.link.enterprise, "--enterprise", &ks)?;
    let consumer = ks.info(&w.sign.from)?.account;
    let node = ctx.node_for(&consumer)?;
    let (status, _) = node.status()?;
    // The usual refusal, caught before a token is written for a link that
    // cannot be made.
    let route = format!("/v1/consumers/{consumer}/links/{enterprise}/{kind}");
    match node.get_value(&route) {
        Ok(v) => bail!(
            "you already linked your {} for {} at height {}; unlink it first (`assent consumer unlink --from {} --enterprise {} --kind {kind}`)",
            kind.noun(),
            Names::of(&ks).label(&enterprise),
            num(&v, "linked_at"),
            w.sign.from,
            enterprise
        ),
        Err(NodeError::Refused { status: 404, .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let mut salt = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt = LinkSalt(Hash32(salt));
    let commitment = identity::commit_identifier(
        &status.chain_id,
        &consumer,
        &enterprise,
        kind,
        &a.identifier,
        &salt,
    )
    .map_err(|e| anyhow!("--id: {e}"))?;
    let payload = Payload::LinkIdentity(tx::LinkIdentity {
        enterprise,
        kind,
        commitment,
    });
    check_stateless(&payload).map_err(|e| anyhow!("transaction refused before signing: {e}"))?;
    let token = LinkToken {
        version: TOKEN_VERSION,
        chain_id: status.chain_id,
        consumer,
        enterprise,
        kind,
        salt,
    };
    let names = Names::of(&ks);
    let to = names.label(&enterprise);
    let only = names
        .name(&enterprise)
        .unwrap_or("that enterprise")
        .to_string();
    // The token is written before the tx is sent: a salt lost after the
    // link commits would leave a link nobody can ever match.
    let text = match &a.out {
        Some(path) => {
            write_token(path, &token, a.force)?;
            format!(
                "link token written to {}: give it to {to}, and only to {only}, off the chain (it holds the salt, not your {})",
                path.display(),
                kind.noun()
            )
        }
        None => format!(
            "link token (give it to {to}, and only to {only}, off the chain; it holds the salt, not your {}):\n{}",
            kind.noun(),
            serde_json::to_string(&token).context("cannot format the link token")?
        ),
    };
    let mut value = serde_json::to_value(&token).context("cannot format the link token")?;
    if let (Some(p), Value::Object(m)) = (&a.out, &mut value) {
        m.insert("file".into(), json!(p.display().to_string()));
    }
    let from = w.sign.from.clone();
    send_with(
        ctx,
        payload,
        w.sign,
        Some(Extra {
            text,
            key: "link_token",
            value,
        }),
    )
    .map_err(|e| match &a.out {
        Some(p) => anyhow!(
            "{e:#}; the link token {} was written before sending and is of use only if the link commits (`assent consumer links {from}` shows it)",
            p.display()
        ),
        None => e,
    })
}

pub fn unlink(ctx: &Ctx, w: With<LinkRef, SendArgs>) -> Result<()> {
    send(ctx, w.args.unlink(&ctx.keystore()?)?, w.sign)
}

pub fn list(ctx: &Ctx, who: &Who) -> Result<()> {
    let (account, names) = who.resolve(ctx, "consumer links")?;
    let route = format!("/v1/consumers/{account}/links");
    let v = ctx.node_for(&account)?.get_value(&route)?;
    let links = array(&v, "links", &route)?;
    let out = if links.is_empty() {
        format!(
            "{} has no identity links (at height {})",
            names.label(&account),
            num(&v, "height")
        )
    } else {
        let mut lines = vec![format!(
            "{} identity link(s) of {} at height {}:",
            links.len(),
            names.label(&account),
            num(&v, "height")
        )];
        for l in links {
            let kind: Option<IdentityKind> = text(l, "kind").parse().ok();
            lines.push(format!(
                "  {} for {}: commitment {}, linked at height {}",
                kind.map_or_else(|| text(l, "kind"), |k| k.noun().to_string()),
                names.label_text(&text(l, "enterprise")),
                text(l, "commitment"),
                num(l, "linked_at")
            ));
        }
        lines.join("\n")
    };
    ctx.emit(&out, &v)
}

/// The link asked about: from a token file or from flags.
fn link_of(
    ctx: &Ctx,
    a: &MatchArgs,
) -> Result<(Option<String>, AccountId, AccountId, IdentityKind, LinkSalt)> {
    if let Some(path) = &a.token {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the link token {}", path.display()))?;
        let t: LinkToken = serde_json::from_str(&text).map_err(|e| {
            anyhow!(
                "{} is not a link token ({e}); it is the JSON `assent consumer link` writes",
                path.display()
            )
        })?;
        if t.version != TOKEN_VERSION {
            bail!(
                "{} is a version {} link token; this assent reads version {TOKEN_VERSION}",
                path.display(),
                t.version
            );
        }
        return Ok((Some(t.chain_id), t.consumer, t.enterprise, t.kind, t.salt));
    }
    let ks = ctx.keystore()?;
    let need = |what: &str| {
        anyhow!(
            "give --token FILE, or --consumer, --enterprise, --kind and --salt ({what} is missing)"
        )
    };
    let consumer = resolve(
        a.consumer.as_ref().ok_or_else(|| need("--consumer"))?,
        "--consumer",
        &ks,
    )?;
    let enterprise = resolve(
        a.enterprise.as_ref().ok_or_else(|| need("--enterprise"))?,
        "--enterprise",
        &ks,
    )?;
    let kind = a.kind.ok_or_else(|| need("--kind"))?;
    let salt = a.salt.ok_or_else(|| need("--salt"))?;
    Ok((None, consumer, enterprise, kind, salt))
}

pub fn match_link(ctx: &Ctx, a: &MatchArgs) -> Result<()> {
    let (token_chain, consumer, enterprise, kind, salt) = link_of(ctx, a)?;
    let normalized = identity::normalize(kind, &a.identifier)
        .map_err(|e| anyhow!("--id: your record is not usable: {e}"))?;
    let node = ctx.node_for(&enterprise)?;
    let (status, _) = node.status()?;
    if let Some(c) = token_chain.filter(|c| *c != status.chain_id) {
        bail!(
            "the link token is for chain `{c}`, but the node serves `{}`; ask the node of that chain (--node)",
            status.chain_id
        );
    }
    let names = ctx.names();
    let (who, to) = (names.label(&consumer), names.label(&enterprise));
    let route = format!("/v1/consumers/{consumer}/links/{enterprise}/{kind}");
    let v = match node.get_value(&route) {
        Ok(v) => v,
        Err(NodeError::Refused {
            status: 404,
            message,
            ..
        }) => {
            let v = json!({"result": "no_link", "consumer": consumer, "enterprise": enterprise, "kind": kind, "message": message});
            if ctx.is_json() {
                ctx.emit("", &v)?;
            }
            bail!("no such link: {who} has no {} link for {to} at the node's head (never linked, or removed)", kind.noun());
        }
        Err(e) => return Err(e.into()),
    };
    let on_chain: LinkCommitment = text(&v, "commitment")
        .parse()
        .map_err(|e| anyhow!("the node's answer to {route} has no commitment: {e}"))?;
    let mine = identity::commitment(
        &status.chain_id,
        &consumer,
        &enterprise,
        kind,
        &normalized,
        &salt,
    );
    let matched = mine == on_chain;
    let out = json!({
        "result": if matched { "match" } else { "no_match" },
        "consumer": consumer,
        "enterprise": enterprise,
        "kind": kind,
        "commitment": on_chain,
        "linked_at": num(&v, "linked_at"),
        "height": num(&v, "height"),
    });
    let at = format!(
        "linked at height {}, checked at height {}",
        num(&v, "linked_at"),
        num(&v, "height")
    );
    if matched {
        return ctx.emit(
            &format!(
                "match: your record is the {} {who} linked for {to} ({at})",
                kind.noun()
            ),
            &out,
        );
    }
    if ctx.is_json() {
        ctx.emit("", &out)?;
    }
    bail!(
        "no match: the {} in your record is not the one {who} linked for {to} ({at}), or the salt is not that link's",
        kind.noun()
    )
}
