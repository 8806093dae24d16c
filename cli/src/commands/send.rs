//! Sending a transaction to a node: the payload comes from the same flag
//! structs as `assent tx build`; it is checked, signed with a keystore key
//! for the node's chain (`GET /v1/status`), given the sender's next nonce
//! (`GET /v1/accounts/{id}`) unless `--nonce` says otherwise, submitted
//! (`POST /v1/txs`, hex), and by default followed until a block commits or
//! rejects it (`GET /v1/txs/{id}` every 100 ms, up to `--timeout`).

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use assent_cli::accounts::Names;
use assent_cli::client::{Node, NodeError, TxStatus};
use assent_cli::duration::parse_ms;
use assent_contracts::tx::check_stateless;
use assent_contracts::{Payload, SignedTx, TxBody};
use clap::Args;
use serde_json::{json, Value};

use super::context::Ctx;
use super::outcome;
use super::tx::kinds::Signing;

/// How often the tx's status is asked for while waiting.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Waiting for the block.
#[derive(Debug, Args)]
#[command(next_help_heading = "Waiting")]
pub struct WaitArgs {
    /// Print the tx id as soon as the node accepts the tx; do not wait for a block
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for a block to commit or reject the tx: 30s, 2m, 500ms, ...
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_ms)]
    pub timeout: u64,
}

/// Signing and sending, for every command that makes a tx.
#[derive(Debug, Args)]
#[command(next_help_heading = "Signing")]
pub struct SendArgs {
    /// Keystore key that signs the tx (in HOME/keys); its account is the sender
    #[arg(long, value_name = "KEYNAME")]
    pub from: String,
    /// Account nonce to sign with [default: the sender's next nonce, from the node]
    #[arg(long, value_name = "N")]
    pub nonce: Option<u64>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// More to report once a tx is submitted or committed: a text paragraph
/// after the outcome line, and the same under `key` in the JSON output.
#[derive(Debug)]
pub struct Extra {
    pub text: String,
    pub key: &'static str,
    pub value: Value,
}

/// Checks, signs, submits and (unless --no-wait) waits for `payload`.
pub fn send(ctx: &Ctx, payload: Payload, args: SendArgs) -> Result<()> {
    send_with(ctx, payload, args, None)
}

/// [`send`], reporting `extra` with the outcome.
pub fn send_with(ctx: &Ctx, payload: Payload, args: SendArgs, extra: Option<Extra>) -> Result<()> {
    check_stateless(&payload).map_err(|e| anyhow!("transaction refused before signing: {e}"))?;
    send_inner(ctx, args, extra, false, |_| Ok(payload))
}

/// [`send_with`] for a payload made once the key is unlocked (`build` gets
/// the key, chain, nonce and the account the key signs for).
pub fn send_built(
    ctx: &Ctx,
    args: SendArgs,
    extra: Option<Extra>,
    build: impl FnOnce(&Signing<'_>) -> Result<Payload>,
) -> Result<()> {
    send_inner(ctx, args, extra, true, build)
}

/// Signs and sends; the node is asked about the sender's account only for
/// its next nonce (no `--nonce`) or when the payload depends on whose the
/// key is (`whose`).
fn send_inner(
    ctx: &Ctx,
    args: SendArgs,
    extra: Option<Extra>,
    whose: bool,
    build: impl FnOnce(&Signing<'_>) -> Result<Payload>,
) -> Result<()> {
    let ks = ctx.keystore()?;
    // Fail on a missing key before the network or a passphrase prompt.
    let sender = ks.info(&args.from)?.account;
    super::pairwise::refuse_master(ctx, &args.from)?;
    let key = ctx.unlock(&args.from)?;
    // The sender reads its own nonce and its txs' status.
    let node = ctx.node()?.reading_as(key.clone());
    let (status, _) = node.status()?;
    let looked_up = if args.nonce.is_none() || whose {
        Some(node.account(&sender.to_string())?)
    } else {
        None
    };
    let nonce = match (args.nonce, &looked_up) {
        (Some(n), _) => n,
        (None, Some((info, _))) => info.next(),
        (None, None) => unreachable!("looked up without --nonce"),
    };
    // A rotated-in key signs for another account (decision 31).
    let account = looked_up
        .as_ref()
        .and_then(|(_, v)| v.get("signs_for")?.as_str()?.parse().ok())
        .unwrap_or(sender);
    let payload = build(&Signing {
        key: &key,
        chain_id: &status.chain_id,
        nonce,
        account,
    })?;
    check_stateless(&payload).map_err(|e| anyhow!("transaction refused before signing: {e}"))?;
    let signed = TxBody {
        sender: key.account(),
        nonce,
        payload,
    }
    .sign(&status.chain_id, &key);
    let mut names = Names::of(&ks);
    names.insert(sender, &args.from);
    let from = if args.nonce.is_some() {
        NonceFrom::Flag
    } else {
        NonceFrom::Node
    };
    submit_and_wait_with(ctx, &node, &signed, &names, &args.wait, from, extra)
}

/// What to do about a stale nonce, for each way a tx is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceFrom {
    /// The node's next_nonce.
    Node,
    /// `--nonce`.
    Flag,
    /// A file signed offline.
    File,
}

/// What to do about a refused submission, beyond the node's own words.
fn hint(code: &str, tx_id: &str, nonce: NonceFrom) -> String {
    match (code, nonce) {
        ("stale_nonce", NonceFrom::Node) => {
            " (another tx of this account went first; run the command again)".into()
        }
        ("stale_nonce", NonceFrom::Flag) => {
            " (the nonce is not the account's next one; leave out --nonce to use the node's)".into()
        }
        ("stale_nonce", NonceFrom::File) => {
            " (the file was signed with a used or future nonce; `assent balance ACCOUNT` shows the next one)"
                .into()
        }
        ("duplicate", _) => format!(
            " (this very tx was submitted before; follow it with `assent tx status {tx_id}`)"
        ),
        ("mempool_full" | "account_quota", _) => " (the node is busy; try again shortly)".into(),
        ("bad_signature", _) => " (was it signed for another chain?)".into(),
        _ => String::new(),
    }
}

/// Submits `signed`, then waits and reports as `wait` says.
pub fn submit_and_wait(
    ctx: &Ctx,
    node: &Node,
    signed: &SignedTx,
    names: &Names,
    wait: &WaitArgs,
    nonce: NonceFrom,
) -> Result<()> {
    submit_and_wait_with(ctx, node, signed, names, wait, nonce, None)
}

fn submit_and_wait_with(
    ctx: &Ctx,
    node: &Node,
    signed: &SignedTx,
    names: &Names,
    wait: &WaitArgs,
    nonce: NonceFrom,
    extra: Option<Extra>,
) -> Result<()> {
    let tx_id = signed.id().to_string();
    let hex = hex::encode(signed.encode());
    let accepted = match node.submit_hex(&hex) {
        Ok(id) => id,
        Err(e @ NodeError::Refused { .. }) => {
            let h = hint(e.code().unwrap_or_default(), &tx_id, nonce);
            bail!("{e}{h}");
        }
        Err(e) => return Err(e.into()),
    };
    if !accepted.eq_ignore_ascii_case(&tx_id) {
        bail!(
            "the node accepted the tx under id {accepted}, but its id is {tx_id}; does the node run the same assent version as this CLI?"
        );
    }
    if wait.no_wait {
        let mut v = json!({"tx_id": tx_id, "status": "submitted"});
        let text = with_extra(tx_id.clone(), &mut v, extra);
        return ctx.emit(&text, &v);
    }
    let deadline = Instant::now() + Duration::from_millis(wait.timeout);
    let (st, v) = node.wait(&tx_id, deadline, POLL_EVERY).map_err(|e| {
        anyhow!("tx {tx_id} was submitted, but following it failed: {e}; check it later with `assent tx status {tx_id}`")
    })?;
    report(ctx, signed, names, &st, v, wait.timeout, extra)
}

/// `text` and `v` with `extra` added.
fn with_extra(text: String, v: &mut Value, extra: Option<Extra>) -> String {
    let Some(e) = extra else {
        return text;
    };
    if let Value::Object(m) = v {
        m.insert(e.key.into(), e.value);
    }
    format!("{text}\n{}", e.text)
}

/// Prints a final status in words (or JSON); a rejection or a timeout is an error.
fn report(
    ctx: &Ctx,
    signed: &SignedTx,
    names: &Names,
    st: &TxStatus,
    mut v: Value,
    timeout_ms: u64,
    extra: Option<Extra>,
) -> Result<()> {
    let tx_id = signed.id().to_string();
    match st.status.as_str() {
        "committed" => {
            let failed = outcome::no_use_settled(&signed.body.payload, names, &tx_id, st);
            let text = outcome::committed(
                &signed.body.payload,
                names,
                &signed.body.sender,
                &tx_id,
                st,
            );
            if let Value::Object(m) = &mut v {
                m.insert("kind".into(), json!(signed.body.payload.kind()));
                m.insert("sender".into(), json!(signed.body.sender.to_string()));
                m.insert("nonce".into(), json!(signed.body.nonce));
                m.insert("summary".into(), json!(text));
            }
            match failed {
                // The tx is in a block, but nothing it asked for happened.
                Some(why) => {
                    if ctx.is_json() {
                        ctx.emit("", &v)?;
                    }
                    bail!("{why}")
                }
                None => {
                    let text = with_extra(text, &mut v, extra);
                    ctx.emit(&text, &v)
                }
            }
        }
        "rejected" => {
            if ctx.is_json() {
                ctx.emit("", &v)?;
            }
            bail!("{}", rejected_words(st, &tx_id))
        }
        other => bail!(
            "tx {tx_id} was not committed within {} (status: {other}); follow it with `assent tx status {tx_id}`",
            outcome::duration_words(timeout_ms)
        ),
    }
}

/// `rejected: consent_revoked: consent … was revoked at height 12 (tx …, block 14)`.
pub fn rejected_words(st: &TxStatus, tx_id: &str) -> String {
    let block = st
        .height
        .map(|h| format!(", block {h}"))
        .unwrap_or_default();
    format!(
        "rejected: {}: {} (tx {tx_id}{block})",
        st.code.as_deref().unwrap_or("unknown"),
        st.reason.as_deref().unwrap_or("no reason given")
    )
}
