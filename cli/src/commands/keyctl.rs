//! `assent account`: who controls an account — rotate its key, name
//! guardians, and recover it with them when the key is lost.

use anyhow::Result;
use assent_cli::accounts::AccountRef;
use assent_cli::duration::parse_ms;
use assent_cli::keystore::Keystore;
use assent_contracts::{tx, Payload};
use clap::{Args, Subcommand};
use serde_json::Value;

use super::context::Ctx;
use super::outcome::duration_words;
use super::query::Who;
use super::send::{send, SendArgs};
use super::tx::build::With;
use super::tx::kinds::resolve;

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// An account's current key, guardians and any recovery under way
    Show(Who),
    /// Move your account to a new key; the key that signs this is retired (RotateKey)
    RotateKey(With<NewKey, SendArgs>),
    /// Name the accounts that can recover yours if you lose your key (SetGuardians); no --guardian turns recovery off
    Guardians(With<GuardianList, SendArgs>),
    /// As a guardian, support moving an account to a new key (SupportRecovery)
    Recover(With<Recover, SendArgs>),
    /// Cancel a recovery of your account that you did not ask for (CancelRecovery)
    CancelRecovery(SendArgs),
    /// With the new key, take over an account once enough guardians agreed and the delay passed (ClaimRecovery)
    Claim(With<Claim, SendArgs>),
}

#[derive(Debug, Args)]
pub struct NewKey {
    /// The new key: a key name in the keystore or its account (assent1...); never used before
    #[arg(long, value_name = "KEY")]
    pub new_key: AccountRef,
}

#[derive(Debug, Args)]
pub struct GuardianList {
    /// A guardian: an account (assent1...) or key name; repeat, at most 10
    #[arg(long = "guardian", value_name = "ACCOUNT")]
    pub guardians: Vec<AccountRef>,
    /// How many guardians must agree [default: a majority]
    #[arg(long, value_name = "N")]
    pub threshold: Option<u8>,
    /// How long after they agree the move takes effect; your key can cancel until then (e.g. 2d, 12h, 30s)
    #[arg(long, value_name = "DURATION", default_value = "3d", value_parser = parse_ms)]
    pub delay: u64,
}

#[derive(Debug, Args)]
pub struct Recover {
    /// The account to recover (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub account: AccountRef,
    /// The key its owner will sign with from now on (the owner's new key, account assent1...)
    #[arg(long, value_name = "KEY")]
    pub new_key: AccountRef,
}

#[derive(Debug, Args)]
pub struct Claim {
    /// The account to take over (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub account: AccountRef,
}

/// No arguments (CancelRecovery).
#[derive(Debug, Args)]
pub struct NoArgs {}

impl NewKey {
    pub fn payload(&self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::RotateKey(tx::RotateKey {
            new_key: resolve(&self.new_key, "--new-key", ks)?,
        }))
    }
}

impl GuardianList {
    pub fn payload(&self, ks: &Keystore) -> Result<Payload> {
        let guardians = self
            .guardians
            .iter()
            .map(|g| resolve(g, "--guardian", ks))
            .collect::<Result<Vec<_>>>()?;
        let n = u8::try_from(guardians.len()).unwrap_or(u8::MAX);
        let threshold = self.threshold.unwrap_or(if n == 0 { 0 } else { n / 2 + 1 });
        Ok(Payload::SetGuardians(tx::SetGuardians {
            guardians,
            threshold,
            delay_ms: self.delay,
        }))
    }
}

impl Recover {
    pub fn payload(&self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::SupportRecovery(tx::SupportRecovery {
            account: resolve(&self.account, "--account", ks)?,
            new_key: resolve(&self.new_key, "--new-key", ks)?,
        }))
    }
}

impl NoArgs {
    pub fn cancel(&self) -> Payload {
        Payload::CancelRecovery(tx::CancelRecovery {})
    }
}

impl Claim {
    pub fn payload(&self, ks: &Keystore) -> Result<Payload> {
        Ok(Payload::ClaimRecovery(tx::ClaimRecovery {
            account: resolve(&self.account, "--account", ks)?,
        }))
    }
}

pub fn run(ctx: &Ctx, cmd: AccountCommand) -> Result<()> {
    match cmd {
        AccountCommand::Show(who) => show(ctx, &who),
        AccountCommand::RotateKey(w) => send(ctx, w.args.payload(&ctx.keystore()?)?, w.sign),
        AccountCommand::Guardians(w) => send(ctx, w.args.payload(&ctx.keystore()?)?, w.sign),
        AccountCommand::Recover(w) => send(ctx, w.args.payload(&ctx.keystore()?)?, w.sign),
        AccountCommand::CancelRecovery(sign) => send(ctx, NoArgs {}.cancel(), sign),
        AccountCommand::Claim(w) => send(ctx, w.args.payload(&ctx.keystore()?)?, w.sign),
    }
}

fn show(ctx: &Ctx, who: &Who) -> Result<()> {
    let (account, names) = who.resolve(ctx, "account show")?;
    let (_, v) = ctx.node_for(&account)?.account(&account.to_string())?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let mut lines = vec![format!("{}:", names.label(&account))];
    if let Some(a) = s(&v, "retired_from") {
        lines.push(format!(
            "  this key is retired from account {a}: it signs for nothing"
        ));
    } else if let Some(a) = s(&v, "signs_for") {
        lines.push(format!("  this key signs for account {a}"));
    } else {
        let key = s(&v, "current_key").unwrap_or_default();
        if key == account.to_string() {
            lines.push("  signed for by its own key (never rotated)".into());
        } else {
            lines.push(format!("  signed for by key {key}"));
        }
    }
    match v.get("guardians").filter(|g| !g.is_null()) {
        Some(g) => {
            let list: Vec<String> = g["guardians"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            lines.push(format!(
                "  guardians: {} of {} ({}); a recovery takes effect {} after they agree",
                g["threshold"],
                list.len(),
                list.join(", "),
                duration_words(g["delay_ms"].as_u64().unwrap_or(0))
            ));
        }
        None => lines.push("  no guardians (`assent account guardians` names them)".into()),
    }
    if let Some(r) = v.get("recovery").filter(|r| !r.is_null()) {
        let n = r["supporters"].as_array().map_or(0, Vec::len);
        let when = match r["effective_at_ms"].as_u64() {
            Some(t) => format!(
                "armed: the new key can claim it from {}",
                super::outcome::time_words(t)
            ),
            None => "not yet armed".into(),
        };
        lines.push(format!(
            "  RECOVERY UNDER WAY to key {} ({n} guardian(s) support it; {when}); if you did not ask for it: `assent account cancel-recovery --from YOUR_KEY`",
            s(r, "new_key").unwrap_or_default()
        ));
    }
    ctx.emit(&lines.join("\n"), &v)
}
