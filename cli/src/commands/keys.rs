//! `assent keys`: the encrypted keystore.

use anyhow::{anyhow, bail, Result};
use assent_cli::keystore::{KeyInfo, Keystore, KeystoreError};
use assent_contracts::crypto::Keypair;
use clap::Subcommand;
use serde_json::json;
use zeroize::Zeroizing;

use super::context::Ctx;
use super::passphrase;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new ed25519 key and store it encrypted in HOME/keys/NAME.json
    ///
    /// The passphrase comes from ASSENT_PASSPHRASE or is asked twice on the
    /// terminal. An existing key is never overwritten.
    New {
        /// Key name: 1-64 characters of a-z, 0-9, _ and -
        name: String,
    },
    /// Store a key with a given secret seed, e.g. one moved from the web app
    ///
    /// `--seed-file FILE` (or `-` for stdin) keeps the seed out of the
    /// process list; `--seed-hex` puts it there (for tests and devnets).
    #[command(group(clap::ArgGroup::new("seed").required(true).args(["seed_hex", "seed_file"])))]
    Import {
        /// Key name: 1-64 characters of a-z, 0-9, _ and -
        name: String,
        /// The 32-byte ed25519 secret seed, as 64 hex characters (visible to other processes)
        #[arg(long, value_name = "HEX")]
        seed_hex: Option<String>,
        /// A file holding the seed as 64 hex characters (the web app's "show my secret seed",
        /// or `assent keys export-seed`); `-` reads it from stdin
        #[arg(long, value_name = "FILE")]
        seed_file: Option<std::path::PathBuf>,
    },
    /// Print a key's secret seed (64 hex characters) to move it to another
    /// wallet, such as the web/assent-js package (`SigningKey.fromSeed`)
    ///
    /// Whoever sees the seed controls the account: print it only into the
    /// wallet that takes it, never into a log. `keys import NAME --seed-file -`
    /// takes it back.
    ExportSeed {
        /// Key name
        name: String,
    },
    /// List keys: name and account (no passphrase needed)
    List,
    /// Show a key's account (no passphrase needed)
    Show {
        /// Key name
        name: String,
    },
}

pub fn run(ctx: &Ctx, cmd: KeysCommand) -> Result<()> {
    let ks = ctx.keystore()?;
    match cmd {
        KeysCommand::New { name } => {
            refuse_existing(&ks, &name)?;
            let pass = passphrase::choose(&name)?;
            let key = ks.create(&name, &pass)?;
            created(ctx, &ks, &name, &key)
        }
        KeysCommand::Import {
            name,
            seed_hex,
            seed_file,
        } => {
            refuse_existing(&ks, &name)?;
            let (text, from) = match (seed_hex, seed_file) {
                (Some(hex), _) => (Zeroizing::new(hex), "--seed-hex".to_string()),
                (None, Some(path)) => (read_seed_file(&path)?, path.display().to_string()),
                (None, None) => {
                    bail!("give the seed with --seed-file FILE (or -) or --seed-hex HEX")
                }
            };
            let mut seed = Zeroizing::new([0u8; 32]);
            hex::decode_to_slice(text.trim(), seed.as_mut()).map_err(|_| {
                anyhow!("{from}: expected 64 hex characters (a 32-byte ed25519 seed)")
            })?;
            let pass = passphrase::choose(&name)?;
            let key = ks.create_from_seed(&name, *seed, &pass)?;
            created(ctx, &ks, &name, &key)
        }
        KeysCommand::ExportSeed { name } => {
            let pass = passphrase::unlock(&name)?;
            let key = ks.load(&name, &pass)?;
            let seed = Zeroizing::new(hex::encode(key.seed()));
            eprintln!(
                "the secret seed of key `{name}` ({}) follows: whoever sees it controls the account",
                key.account()
            );
            let out = json!({
                "name": name,
                "account": key.account().to_string(),
                "seed_hex": seed.as_str(),
            });
            ctx.emit(&seed, &out)
        }
        KeysCommand::List => {
            let keys = ks.list()?;
            let text = if keys.is_empty() {
                format!(
                    "no keys in {}; create one with `assent keys new NAME`",
                    ks.dir().display()
                )
            } else {
                let width = keys.iter().map(|k| k.name.len()).max().unwrap_or(0);
                keys.iter()
                    .map(|k| format!("{:width$}  {}", k.name, k.account))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let list: Vec<_> = keys.iter().map(info_json).collect();
            ctx.emit(&text, &json!(list))
        }
        KeysCommand::Show { name } => {
            let info = ks.info(&name)?;
            ctx.emit(&info.account.to_string(), &info_json(&info))
        }
    }
}

/// Longest seed file read: 64 hex characters and some white space.
const MAX_SEED_FILE: u64 = 1024;

/// The text of a seed file (`-`: stdin), refused when it is longer than a
/// seed can be.
fn read_seed_file(path: &std::path::Path) -> Result<Zeroizing<String>> {
    use std::io::Read;
    let what = path.display();
    let mut text = Zeroizing::new(String::new());
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_SEED_FILE + 1)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(path)
            .map_err(|e| anyhow!("{what}: cannot open the seed file: {e}"))?
            .take(MAX_SEED_FILE + 1)
            .read_to_string(&mut text)
    };
    read.map_err(|e| anyhow!("{what}: cannot read the seed file as text: {e}"))?;
    if text.len() as u64 > MAX_SEED_FILE {
        bail!("{what}: a seed file holds 64 hex characters; this one is longer than {MAX_SEED_FILE} bytes");
    }
    Ok(text)
}

/// Fails before asking for a passphrase if the name is bad or taken.
fn refuse_existing(ks: &Keystore, name: &str) -> Result<()> {
    let path = ks.path_of(name)?;
    if path.exists() {
        bail!(KeystoreError::Exists {
            name: name.to_string(),
            path,
        });
    }
    Ok(())
}

fn created(ctx: &Ctx, ks: &Keystore, name: &str, key: &Keypair) -> Result<()> {
    let file = ks.path_of(name)?;
    let text = format!(
        "created key `{name}`\naccount: {}\nfile:    {}",
        key.account(),
        file.display()
    );
    let info = KeyInfo {
        name: name.to_string(),
        account: key.account(),
        file,
    };
    ctx.emit(&text, &info_json(&info))
}

fn info_json(k: &KeyInfo) -> serde_json::Value {
    json!({
        "name": k.name,
        "account": k.account.to_string(),
        "file": k.file.display().to_string(),
    })
}
