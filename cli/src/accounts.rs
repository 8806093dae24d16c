//! Accounts on the command line: an account address (`assent1…`) or the
//! name of a key in the keystore, resolved to its account without the
//! passphrase. And the reverse: naming the accounts whose keys we hold.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use assent_contracts::ids::ACCOUNT_HRP;
use assent_contracts::AccountId;

use crate::keystore::{valid_name, Keystore, KeystoreError};

/// An account given as an address or as a key name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountRef {
    Account(AccountId),
    Key(String),
}

/// Why an [`AccountRef`] could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum AccountRefError {
    #[error("`{name}` is not an account (assent1…) and there is no key `{name}` in {}; list keys with `assent keys list`", dir.display())]
    UnknownKey { name: String, dir: PathBuf },
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
}

impl FromStr for AccountRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let prefix = format!("{ACCOUNT_HRP}1");
        if t.to_ascii_lowercase().starts_with(&prefix) {
            // Anything that looks like an address must be one: a typo in an
            // address must not silently become a key lookup.
            return t
                .parse::<AccountId>()
                .map(AccountRef::Account)
                .map_err(|e| e.to_string());
        }
        if valid_name(t) {
            return Ok(AccountRef::Key(t.to_string()));
        }
        Err(format!(
            "`{t}` is neither an account (bech32m text starting with `{prefix}`) nor a key name (1-64 characters of a-z, 0-9, _ and -)"
        ))
    }
}

impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountRef::Account(a) => write!(f, "{a}"),
            AccountRef::Key(k) => f.write_str(k),
        }
    }
}

impl AccountRef {
    /// The account: the address itself, or the account of the named key.
    pub fn resolve(&self, ks: &Keystore) -> Result<AccountId, AccountRefError> {
        match self {
            AccountRef::Account(a) => Ok(*a),
            AccountRef::Key(name) => match ks.info(name) {
                Ok(info) => Ok(info.account),
                Err(KeystoreError::NotFound { name, dir }) => {
                    Err(AccountRefError::UnknownKey { name, dir })
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    /// The key name, when one was given.
    pub fn key_name(&self) -> Option<&str> {
        match self {
            AccountRef::Key(k) => Some(k),
            AccountRef::Account(_) => None,
        }
    }
}

/// Names of the accounts whose keys are in a keystore, for printing.
#[derive(Clone, Debug, Default)]
pub struct Names(BTreeMap<AccountId, String>);

impl Names {
    /// Every key of `ks`; an unreadable keystore names nothing (names are
    /// only a courtesy in output).
    pub fn of(ks: &Keystore) -> Names {
        let mut m = BTreeMap::new();
        for k in ks.list().unwrap_or_default() {
            m.entry(k.account).or_insert(k.name);
        }
        Names(m)
    }

    /// Adds or replaces one name.
    pub fn insert(&mut self, account: AccountId, name: &str) {
        self.0.insert(account, name.to_string());
    }

    /// The key name of `account`, if we hold it.
    pub fn name(&self, account: &AccountId) -> Option<&str> {
        self.0.get(account).map(String::as_str)
    }

    /// `acme (assent1qy…x7k2)` for a known account, the full address otherwise.
    pub fn label(&self, account: &AccountId) -> String {
        match self.name(account) {
            Some(n) => format!("{n} ({})", short(&account.to_string())),
            None => account.to_string(),
        }
    }

    /// Like [`Names::label`] for an address given as text (from a node's JSON).
    pub fn label_text(&self, text: &str) -> String {
        match text.parse::<AccountId>() {
            Ok(a) => self.label(&a),
            Err(_) => text.to_string(),
        }
    }

    /// The key name for a known account, else the full address.
    pub fn name_or_address(&self, text: &str) -> String {
        match text.parse::<AccountId>().ok().and_then(|a| self.name(&a)) {
            Some(n) => n.to_string(),
            None => text.to_string(),
        }
    }
}

/// `assent1qy…x7k2`: enough to recognise, not to copy.
pub fn short(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= 20 {
        return text.to_string();
    }
    let head: String = chars[..10].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn addresses_names_and_nonsense() {
        let a = AccountId([7u8; 32]);
        assert_eq!(
            a.to_string().parse::<AccountRef>().unwrap(),
            AccountRef::Account(a)
        );
        assert_eq!(
            "acme".parse::<AccountRef>().unwrap(),
            AccountRef::Key("acme".into())
        );
        let e = "assent1nope".parse::<AccountRef>().unwrap_err();
        assert!(e.contains("is not an account address"), "{e}");
        let e = "Acme Corp".parse::<AccountRef>().unwrap_err();
        assert!(e.contains("neither an account"), "{e}");
    }

    #[test]
    fn short_keeps_both_ends() {
        let s = AccountId([1u8; 32]).to_string();
        let sh = short(&s);
        assert!(sh.starts_with("assent1") && sh.contains('…'), "{sh}");
        assert!(s.ends_with(sh.rsplit('…').next().unwrap()));
    }
}
