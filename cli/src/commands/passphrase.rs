//! Where passphrases come from: `ASSENT_PASSPHRASE`, or a prompt on the terminal.

use std::io::IsTerminal;

use anyhow::{anyhow, bail, Result};
use zeroize::Zeroizing;

/// Environment variable holding the keystore passphrase (for scripts and tests).
pub const PASSPHRASE_ENV: &str = "ASSENT_PASSPHRASE";

fn from_env() -> Result<Option<Zeroizing<String>>> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) => Ok(Some(Zeroizing::new(p))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("{PASSPHRASE_ENV} is not valid UTF-8; set it to the passphrase text")
        }
    }
}

fn prompt(text: &str) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|e| anyhow!("cannot read the passphrase from the terminal: {e}"))
}

fn no_source(name: &str) -> anyhow::Error {
    anyhow!(
        "no passphrase for key `{name}`: set {PASSPHRASE_ENV} or run in a terminal to be prompted"
    )
}

/// The passphrase that unlocks key `name`.
pub fn unlock(name: &str) -> Result<Zeroizing<String>> {
    if let Some(p) = from_env()? {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(no_source(name));
    }
    prompt(&format!("passphrase for key {name}: "))
}

/// A passphrase for a new key `name`, asked twice when prompted.
pub fn choose(name: &str) -> Result<Zeroizing<String>> {
    if let Some(p) = from_env()? {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(no_source(name));
    }
    let first = prompt(&format!("new passphrase for key {name}: "))?;
    let second = prompt(&format!("repeat the passphrase for key {name}: "))?;
    if first != second {
        bail!("the two passphrases differ; run the command again");
    }
    Ok(first)
}
