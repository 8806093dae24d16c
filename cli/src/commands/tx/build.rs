//! `assent tx build <kind>`: check, sign and write one transaction.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::keystore::Keystore;
use assent_cli::txfile;
use assent_contracts::state::Params;
use assent_contracts::tx::check_stateless;
use assent_contracts::{Payload, TxBody};
use clap::{Args, Subcommand};
use serde_json::json;

use super::kinds;
use super::propose;
use crate::commands::context::{print_stdout, Ctx};
use crate::commands::passphrase;

/// Longest chain id a signature can carry (the signing message frames it with one length byte;
/// genesis validation keeps chain ids at most this long).
const MAX_CHAIN_ID: usize = 64;

fn default_max_tx_bytes() -> usize {
    Params::default().max_tx_bytes as usize
}

/// How and where to sign. Every kind takes these.
#[derive(Debug, Args)]
#[command(next_help_heading = "Signing")]
pub struct SignArgs {
    /// Keystore key that signs the tx; its account is the sender
    #[arg(long, value_name = "KEYNAME")]
    pub from: String,
    /// The sender's next account nonce (0 for a new account; a node tells it: `assent balance --key NAME`)
    #[arg(long, value_name = "N")]
    pub nonce: u64,
    /// Chain the signature is for; a tx signed for one chain is invalid on every other
    #[arg(long, env = "ASSENT_CHAIN_ID", value_name = "ID")]
    pub chain_id: String,
    /// Only sign and write the tx, do not submit it. `tx build` always works offline; the flag is accepted for scripts. Submit the file with `assent tx submit FILE`
    #[arg(long)]
    pub sign_only: bool,
    /// Where to write the signed tx: the canonical bytes (SignedTx::encode) as hex text with a trailing newline; `-` writes only that line to stdout [default: HOME/txs/<tx id>.tx]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Refuse a signed tx whose canonical encoding is larger than this (default: the default chain parameter max_tx_bytes)
    #[arg(long, value_name = "BYTES", default_value_t = default_max_tx_bytes())]
    pub max_size: usize,
}

/// One kind's own flags plus the signing flags: offline ([`SignArgs`]) or
/// sent to a node (`commands::send::SendArgs`).
#[derive(Debug, Args)]
pub struct With<T: Args, S: Args = SignArgs> {
    #[command(flatten)]
    pub args: T,
    #[command(flatten)]
    pub sign: S,
}

/// The transaction kinds, as in DESIGN.md.
#[derive(Debug, Subcommand)]
pub enum Kind {
    /// RegisterConsumer (consumer): become a consumer, with self-declared interest tags
    RegisterConsumer(With<kinds::Tags>),
    /// SetTags (consumer): replace your interest tags
    SetTags(With<kinds::Tags>),
    /// GrantConsent (consumer): let one enterprise use some data categories for some purposes
    GrantConsent(With<kinds::Grant>),
    /// RevokeConsent (consumer): end a consent from the block that contains this tx on
    RevokeConsent(With<kinds::ConsentRef>),
    /// RevokeAll (consumer): end every consent, to one enterprise or to all
    RevokeAll(With<kinds::RevokeAll>),
    /// PauseConsent (consumer): a paused consent covers no use until resumed
    PauseConsent(With<kinds::ConsentRef>),
    /// ResumeConsent (consumer): a paused consent covers uses again
    ResumeConsent(With<kinds::ConsentRef>),
    /// SetPolicy (consumer): standing permission for a sector or one enterprise
    SetPolicy(With<kinds::SetPolicy>),
    /// ClearPolicy (consumer): remove a standing policy
    ClearPolicy(With<kinds::PolicyRef>),
    /// PostRequest (enterprise): ask consumers for access on stated terms
    PostRequest(With<kinds::PostRequest>),
    /// RecordUse (enterprise): record one use (flags) or a batch (--file), each settled on its own
    RecordUse(With<kinds::RecordUse>),
    /// Rate (consumer): rate an enterprise 1-5, once per consent
    Rate(With<kinds::Rate>),
    /// SetContact (enterprise): publish your contact details as a data controller
    SetContact(With<kinds::Contact>),
    /// LinkIdentity (consumer): bind an identifier for one enterprise by its salted commitment (`assent consumer link` computes it)
    LinkIdentity(With<kinds::Link>),
    /// UnlinkIdentity (consumer): remove an identity link from the next block on
    UnlinkIdentity(With<kinds::LinkRef>),
    /// NameReferrer (consumer): name the consumer who referred you, once; they earn a share of your uses out of the operators' share
    NameReferrer(With<kinds::Referrer>),
    /// RotateKey (any account, its current key): move the account to a new, never used key
    RotateKey(With<crate::commands::keyctl::NewKey>),
    /// SetGuardians (any account): name the accounts that can recover it; none turns recovery off
    SetGuardians(With<crate::commands::keyctl::GuardianList>),
    /// SupportRecovery (a guardian): support moving an account to a new key
    SupportRecovery(With<crate::commands::keyctl::Recover>),
    /// CancelRecovery (the account's current key): end a recovery under way
    CancelRecovery(With<crate::commands::keyctl::NoArgs>),
    /// ClaimRecovery (the new key): take the account over once the guardians agreed and the delay passed
    ClaimRecovery(With<crate::commands::keyctl::Claim>),
    /// Transfer (any account): move points
    Transfer(With<kinds::AmountTo>),
    /// Mint (mint authority): issue points
    Mint(With<kinds::AmountTo>),
    /// Propose (operator): propose a governance action; passes at > 2/3 of the operators
    Propose {
        #[command(subcommand)]
        action: propose::Action,
    },
    /// Vote (operator): vote on an open proposal
    Vote(With<kinds::Vote>),
}

/// A payload, or what makes one once the key is unlocked: tag commitments
/// are salted with the signing key (decision 33).
#[derive(Debug)]
enum Draft {
    Ready(Payload),
    Tags { register: bool, tags: kinds::Tags },
}

impl Draft {
    /// Checks what can be checked before the passphrase.
    fn precheck(&self) -> Result<()> {
        match self {
            Draft::Ready(p) => {
                check_stateless(p).map_err(|e| anyhow!("transaction refused before signing: {e}"))
            }
            Draft::Tags { tags, .. } => tags.precheck(),
        }
    }

    fn build(self, s: &kinds::Signing<'_>) -> Result<Payload> {
        match self {
            Draft::Ready(p) => Ok(p),
            Draft::Tags {
                register: true,
                tags,
            } => tags.register(s),
            Draft::Tags { tags, .. } => tags.set(s),
        }
    }
}

impl Kind {
    /// The payload (accounts given as key names resolved in `ks`) and the signing flags.
    fn into_parts(self, ks: &Keystore) -> Result<(Draft, SignArgs)> {
        let (payload, sign) = match self {
            Kind::RegisterConsumer(w) => {
                let draft = Draft::Tags {
                    register: true,
                    tags: w.args,
                };
                return Ok((draft, w.sign));
            }
            Kind::SetTags(w) => {
                let draft = Draft::Tags {
                    register: false,
                    tags: w.args,
                };
                return Ok((draft, w.sign));
            }
            Kind::GrantConsent(w) => (w.args.payload(ks)?, w.sign),
            Kind::RevokeConsent(w) => (w.args.revoke(), w.sign),
            Kind::RevokeAll(w) => (w.args.payload(ks)?, w.sign),
            Kind::PauseConsent(w) => (w.args.pause(), w.sign),
            Kind::ResumeConsent(w) => (w.args.resume(), w.sign),
            Kind::SetPolicy(w) => (w.args.payload(ks)?, w.sign),
            Kind::ClearPolicy(w) => (w.args.clear(), w.sign),
            Kind::PostRequest(w) => (w.args.payload(), w.sign),
            Kind::RecordUse(w) => (w.args.payload(ks)?, w.sign),
            Kind::Rate(w) => (w.args.payload(ks)?, w.sign),
            Kind::SetContact(w) => (w.args.payload(), w.sign),
            Kind::LinkIdentity(w) => (w.args.payload(ks)?, w.sign),
            Kind::UnlinkIdentity(w) => (w.args.unlink(ks)?, w.sign),
            Kind::NameReferrer(w) => (w.args.payload(ks)?, w.sign),
            Kind::RotateKey(w) => (w.args.payload(ks)?, w.sign),
            Kind::SetGuardians(w) => (w.args.payload(ks)?, w.sign),
            Kind::SupportRecovery(w) => (w.args.payload(ks)?, w.sign),
            Kind::CancelRecovery(w) => (w.args.cancel(), w.sign),
            Kind::ClaimRecovery(w) => (w.args.payload(ks)?, w.sign),
            Kind::Transfer(w) => (w.args.transfer(ks)?, w.sign),
            Kind::Mint(w) => (w.args.mint(ks)?, w.sign),
            Kind::Propose { action } => action.into_parts(ks)?,
            Kind::Vote(w) => (w.args.payload(), w.sign),
        };
        Ok((Draft::Ready(payload), sign))
    }
}

pub fn run(ctx: &Ctx, kind: Kind) -> Result<()> {
    let ks = ctx.keystore()?;
    let (draft, sign) = kind.into_parts(&ks)?;
    draft.precheck()?;
    let chain_id = sign.chain_id.as_str();
    if chain_id.is_empty()
        || chain_id.len() > MAX_CHAIN_ID
        || chain_id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        bail!(
            "--chain-id `{}` is not a chain id: use 1-{MAX_CHAIN_ID} bytes without spaces",
            chain_id.escape_debug()
        );
    }
    // Fail on a missing key before asking for its passphrase.
    ks.info(&sign.from)?;
    crate::commands::pairwise::refuse_master(ctx, &sign.from)?;
    let pass = passphrase::unlock(&sign.from)?;
    let key = ks.load(&sign.from, &pass)?;
    // Offline, the key is taken to sign for its own account (a rotated-in
    // key's tags are made online, where the node says whose it is).
    let payload = draft.build(&kinds::Signing {
        key: &key,
        chain_id,
        nonce: sign.nonce,
        account: key.account(),
    })?;
    check_stateless(&payload).map_err(|e| anyhow!("transaction refused before signing: {e}"))?;

    let kind = payload.kind();
    let body = TxBody {
        sender: key.account(),
        nonce: sign.nonce,
        payload,
    };
    let signed = body.sign(chain_id, &key);
    let size = signed.encode().len();
    if size > sign.max_size {
        bail!(
            "the signed tx is {size} bytes, more than the {} allowed; split the batch, or raise --max-size if the chain allows more",
            sign.max_size
        );
    }
    let tx_id = signed.id();
    let text = txfile::to_hex_text(&signed);

    let out = match sign.out {
        Some(p) if p.as_os_str() == "-" => return print_stdout(&text),
        Some(p) => p,
        None => {
            let dir = ctx.home()?.join("txs");
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.join(format!("{tx_id}.tx"))
        }
    };
    std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;

    let human = format!(
        "signed {kind} tx {tx_id}\nsender:   {}\nnonce:    {}\nchain id: {chain_id}\nwritten:  {} (not submitted; submit it with `assent tx submit FILE`)",
        signed.body.sender,
        signed.body.nonce,
        out.display()
    );
    ctx.emit(
        &human,
        &json!({
            "tx_id": tx_id.to_string(),
            "file": out.display().to_string(),
            "kind": kind,
            "sender": signed.body.sender.to_string(),
            "nonce": signed.body.nonce,
            "chain_id": chain_id,
        }),
    )
}
