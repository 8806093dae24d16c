//! Global flags and what every command shares: the home directory, the
//! keystore, the node, and printing in text or JSON.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use assent_cli::accounts::Names;
use assent_cli::client::{Node, DEFAULT_NODE, NODE_ENV};
use assent_cli::keystore::{KdfParams, Keystore};
use assent_contracts::crypto::Keypair;
use assent_contracts::AccountId;
use clap::{Args, ValueEnum};

/// How long one call to the node may take.
const NODE_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Flags accepted by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Home directory: keystore in DIR/keys, signed txs in DIR/txs [default: $HOME/.assent]
    #[arg(
        long,
        global = true,
        env = "ASSENT_HOME",
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub home: Option<PathBuf>,
    /// The node's HTTP API
    #[arg(
        long,
        global = true,
        env = NODE_ENV,
        value_name = "URL",
        default_value = DEFAULT_NODE,
        help_heading = "Global options"
    )]
    pub node: String,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, help_heading = "Global options")]
    pub output: OutputFormat,
    /// Sign reads with this key (e.g. an operator's, for an audit) instead of the key of the account asked about
    #[arg(
        long,
        global = true,
        env = "ASSENT_READ_AS",
        value_name = "NAME",
        help_heading = "Global options"
    )]
    pub read_as: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Lines for people
    Text,
    /// One JSON value for programs
    Json,
}

/// What a command runs with.
#[derive(Debug)]
pub struct Ctx {
    home: Option<PathBuf>,
    node: String,
    read_as: Option<String>,
    pub output: OutputFormat,
}

impl Ctx {
    pub fn new(g: GlobalArgs) -> Ctx {
        Ctx {
            home: g.home,
            node: g.node,
            read_as: g.read_as,
            output: g.output,
        }
    }

    /// `--home` or `ASSENT_HOME`, if given.
    pub fn home_given(&self) -> Option<PathBuf> {
        self.home.clone()
    }

    /// A client of the node named by `--node` / `ASSENT_NODE`; its reads
    /// are signed with `--read-as` if given (else unsigned: public routes).
    pub fn node(&self) -> Result<Node> {
        self.node_with_timeout(NODE_CALL_TIMEOUT)
    }

    /// [`Ctx::node`] with another timeout per call.
    pub fn node_with_timeout(&self, timeout: Duration) -> Result<Node> {
        let node = Node::new(&self.node, timeout)?;
        match &self.read_as {
            Some(name) => Ok(node.reading_as(self.unlock(name)?)),
            None => Ok(node),
        }
    }

    /// A client whose reads are signed as `account` may read its own
    /// records: with `--read-as` if given, else with the keystore's key of
    /// `account`, else unsigned (the node then answers 401 for private
    /// records, and the error says to pass `--read-as`).
    pub fn node_for(&self, account: &AccountId) -> Result<Node> {
        if self.read_as.is_some() {
            return self.node();
        }
        let node = Node::new(&self.node, NODE_CALL_TIMEOUT)?;
        match self.key_signing_for(&node, account)? {
            Some(name) => Ok(node.reading_as(self.unlock(&name)?)),
            None => Ok(node),
        }
    }

    /// The keystore's key that signs for `account` now: the account's own
    /// key unless it was retired, else a key rotated in for it (asked of
    /// the node, `GET /v1/keys/{key}`, without unlocking any key).
    fn key_signing_for(&self, node: &Node, account: &AccountId) -> Result<Option<String>> {
        let ks = self.keystore()?;
        let keys = ks.list().unwrap_or_default();
        let role = |key: &AccountId| -> Result<(Option<String>, Option<String>)> {
            let v = node.get_value(&format!("/v1/keys/{key}"))?;
            let s = |f: &str| {
                v.get(f)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            };
            Ok((s("signs_for"), s("retired_from")))
        };
        let target = account.to_string();
        let own = keys.iter().find(|k| k.account == *account);
        match (own, own.map(|k| role(&k.account))) {
            // A node that cannot say (an older one): the account's own key.
            (Some(k), Some(Err(_))) => return Ok(Some(k.name.clone())),
            (Some(k), Some(Ok((signs_for, _))))
                if signs_for.as_deref() == Some(target.as_str()) =>
            {
                return Ok(Some(k.name.clone()))
            }
            _ => {}
        }
        for k in keys.iter().filter(|k| k.account != *account) {
            if role(&k.account).ok().and_then(|r| r.0).as_deref() == Some(target.as_str()) {
                return Ok(Some(k.name.clone()));
            }
        }
        Ok(None)
    }

    /// A client whose reads are signed with key `name` if given, else as
    /// [`Ctx::node`].
    pub fn node_as(&self, name: Option<&str>) -> Result<Node> {
        match name {
            Some(n) => Ok(Node::new(&self.node, NODE_CALL_TIMEOUT)?.reading_as(self.unlock(n)?)),
            None => self.node(),
        }
    }

    /// Key `name` of the keystore, unlocked with its passphrase.
    pub fn unlock(&self, name: &str) -> Result<Arc<Keypair>> {
        let ks = self.keystore()?;
        ks.info(name)?;
        let pass = super::passphrase::unlock(name)?;
        Ok(Arc::new(ks.load(name, &pass)?))
    }

    /// Names of the keystore's accounts, for output.
    pub fn names(&self) -> Names {
        self.keystore().map(|ks| Names::of(&ks)).unwrap_or_default()
    }

    pub fn is_json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// The home directory: `--home`, `ASSENT_HOME`, or `$HOME/.assent`.
    pub fn home(&self) -> Result<PathBuf> {
        if let Some(h) = &self.home {
            return Ok(h.clone());
        }
        match std::env::var_os("HOME") {
            Some(h) if !h.is_empty() => Ok(PathBuf::from(h).join(".assent")),
            _ => Err(anyhow!(
                "cannot find a home directory: pass --home DIR or set ASSENT_HOME"
            )),
        }
    }

    /// The keystore; new keys use the KDF cost chosen by `ASSENT_KDF`.
    pub fn keystore(&self) -> Result<Keystore> {
        Ok(Keystore::open(&self.home()?).with_kdf(KdfParams::from_env()?))
    }

    /// Prints `text` or `json`, as `--output` asks.
    pub fn emit(&self, text: &str, json: &serde_json::Value) -> Result<()> {
        match self.output {
            OutputFormat::Text => print_stdout(text),
            OutputFormat::Json => {
                let s = serde_json::to_string_pretty(json).context("cannot format JSON output")?;
                print_stdout(&s)
            }
        }
    }
}

/// Writes `s` and a newline to stdout. A closed pipe (`assent ... | head`)
/// is not an error.
pub fn print_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let r = if s.ends_with('\n') {
        out.write_all(s.as_bytes())
    } else {
        writeln!(out, "{s}")
    };
    match r.and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}
