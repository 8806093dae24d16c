//! `assent consent`: a consumer grants, pauses, resumes and revokes consents;
//! `consent list` shows a consumer's consents. Also `assent rate`.

use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

use super::context::Ctx;
use super::outcome::time_words;
use super::query::{array, list, num, text, Who};
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::kinds;

#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Let one enterprise use some data categories for some purposes, at a price per use (GrantConsent)
    Grant(With<kinds::Grant, SendArgs>),
    /// End a consent from the block that contains this tx on (RevokeConsent)
    Revoke(With<kinds::ConsentRef, SendArgs>),
    /// End every consent, to one enterprise or to all (RevokeAll)
    RevokeAll(With<kinds::RevokeAll, SendArgs>),
    /// Pause a consent: it covers no use until resumed (PauseConsent)
    Pause(With<kinds::ConsentRef, SendArgs>),
    /// Resume a paused consent (ResumeConsent)
    Resume(With<kinds::ConsentRef, SendArgs>),
    /// List a consumer's consents with their state (ConsentGiven, ConsentPaused, ConsentWithdrawn, ConsentExpired)
    List(Who),
    /// Get a consent's receipt from the node: a self-proving proof, or a signed Kantara / ISO 27560 receipt
    Receipt(ReceiptArgs),
}

/// `assent consent receipt ID`.
#[derive(Debug, clap::Args)]
pub struct ReceiptArgs {
    /// The consent id (64 hex, from `assent consent list`)
    #[arg(value_name = "ID")]
    pub id: assent_contracts::ConsentId,
    /// proof: the grant's receipt and the latest change's (verify with `assent receipt verify`);
    /// status: the consent's status proof at a height — what it was then, or that no such consent existed;
    /// kantara: Kantara Consent Receipt 1.1; iso27560: ISO/IEC TS 27560 record (DPV JSON-LD) — both signed by the node (JWS)
    #[arg(long, value_enum, default_value_t = ReceiptFormat::Proof)]
    pub format: ReceiptFormat,
    /// With --format status: prove the status at this committed height (default: the latest; a node keeps recent heights)
    #[arg(long, value_name = "H")]
    pub height: Option<u64>,
    /// Prove this change of the consent (a pause, resume or revocation tx id) instead of the latest
    #[arg(long, value_name = "TX_ID")]
    pub tx: Option<assent_contracts::TxId>,
    /// Write the receipt to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Sign the read with this key: the consent's consumer's or enterprise's (a receipt is theirs) [default: --read-as]
    #[arg(long, value_name = "NAME")]
    pub key: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReceiptFormat {
    Proof,
    Status,
    Kantara,
    Iso27560,
}

pub fn run(ctx: &Ctx, cmd: ConsentCommand) -> Result<()> {
    let ks = || ctx.keystore();
    match cmd {
        ConsentCommand::Grant(w) => send(ctx, w.args.payload(&ks()?)?, w.sign),
        ConsentCommand::Revoke(w) => send(ctx, w.args.revoke(), w.sign),
        ConsentCommand::RevokeAll(w) => send(ctx, w.args.payload(&ks()?)?, w.sign),
        ConsentCommand::Pause(w) => send(ctx, w.args.pause(), w.sign),
        ConsentCommand::Resume(w) => send(ctx, w.args.resume(), w.sign),
        ConsentCommand::List(who) => list_consents(ctx, &who),
        ConsentCommand::Receipt(a) => receipt(ctx, &a),
    }
}

/// `assent rate`: a consumer rates an enterprise, once per consent.
pub fn rate(ctx: &Ctx, w: With<kinds::Rate, SendArgs>) -> Result<()> {
    send(ctx, w.args.payload(&ctx.keystore()?)?, w.sign)
}

pub fn contact(ctx: &Ctx, w: With<kinds::Contact, SendArgs>) -> Result<()> {
    send(ctx, w.args.payload(), w.sign)
}

fn consent_text(c: &Value, names: &assent_cli::accounts::Names) -> String {
    let mut terms = format!(
        "{} on {} ({}) at {} pts/use",
        list(c, "purposes"),
        list(c, "categories"),
        text(c, "level"),
        num(c, "price_per_use")
    );
    match c.get("max_uses").and_then(Value::as_u64) {
        Some(m) => terms.push_str(&format!(", used {} of {m}", num(c, "used"))),
        None => terms.push_str(&format!(", used {}", num(c, "used"))),
    }
    if let Some(t) = c.get("expires_at").and_then(Value::as_u64) {
        terms.push_str(&format!(", expires {}", time_words(t)));
    }
    terms.push_str(&format!(", granted at height {}", num(c, "granted_height")));
    format!(
        "{}  {}  {}\n    {terms}",
        text(c, "id"),
        text(c, "status"),
        names.label_text(&text(c, "enterprise")),
    )
}

fn list_consents(ctx: &Ctx, who: &Who) -> Result<()> {
    let (account, names) = who.resolve(ctx, "consent list")?;
    let route = format!("/v1/consumers/{account}/consents");
    let v = ctx.node_for(&account)?.get_value(&route)?;
    let consents = array(&v, "consents", &route)?;
    let text = if consents.is_empty() {
        format!("{} has no consents", names.label(&account))
    } else {
        let mut lines = vec![format!(
            "{} consent(s) of {}:",
            consents.len(),
            names.label(&account)
        )];
        lines.extend(consents.iter().map(|c| consent_text(c, &names)));
        lines.join("\n")
    };
    ctx.emit(&text, &v)
}

/// `assent consent receipt`: fetches the receipt and prints or saves it.
fn receipt(ctx: &Ctx, a: &ReceiptArgs) -> Result<()> {
    let format = match a.format {
        ReceiptFormat::Proof => "proof",
        ReceiptFormat::Status => "status",
        ReceiptFormat::Kantara => "kantara",
        ReceiptFormat::Iso27560 => "iso27560",
    };
    if a.height.is_some() && a.format != ReceiptFormat::Status {
        anyhow::bail!("--height: only a status proof is of a chosen height; add --format status");
    }
    if a.tx.is_some() && a.format == ReceiptFormat::Status {
        anyhow::bail!(
            "--tx: a status proof is of a height, not of a change; give --height instead"
        );
    }
    let mut route = match a.format {
        ReceiptFormat::Status => format!("/v1/consents/{}/status-proof", a.id),
        _ => format!("/v1/consents/{}/receipt?format={format}", a.id),
    };
    if let Some(h) = a.height {
        route.push_str(&format!("?height={h}"));
    }
    if let Some(tx) = &a.tx {
        route.push_str(&format!("&tx={tx}"));
    }
    let v = ctx.node_as(a.key.as_deref())?.get_value(&route)?;
    let doc = serde_json::to_string_pretty(&v)?;
    let Some(out) = &a.out else {
        return super::context::print_stdout(&doc);
    };
    std::fs::write(out, format!("{doc}\n"))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    if a.format == ReceiptFormat::Status {
        let height = v.get("height").and_then(Value::as_u64).unwrap_or(0);
        let exists = !v.get("value").is_none_or(Value::is_null);
        let text = format!(
            "wrote the status proof of consent {} at height {height} to {}{}; check it offline with `assent receipt verify {} --genesis GENESIS`",
            a.id,
            out.display(),
            if exists { "" } else { " (it proves that no such consent exists)" },
            out.display()
        );
        return ctx.emit(
            &text,
            &serde_json::json!({"file": out.display().to_string(), "format": format, "consent": a.id.to_string(), "height": height, "exists": exists}),
        );
    }
    let receipts = match a.format {
        ReceiptFormat::Proof | ReceiptFormat::Status => v.get("receipts"),
        _ => v
            .get("receipt")
            .and_then(|r| r.get("assent:proof"))
            .and_then(|p| p.get("receipts")),
    }
    .and_then(Value::as_array)
    .map_or(0, Vec::len);
    let text = format!(
        "wrote the {format} receipt of consent {} to {} ({receipts} ledger receipt(s)); check it offline with `assent receipt verify {} --genesis GENESIS`",
        a.id,
        out.display(),
        out.display()
    );
    ctx.emit(
        &text,
        &serde_json::json!({"file": out.display().to_string(), "format": format, "consent": a.id.to_string(), "receipts": receipts}),
    )
}
