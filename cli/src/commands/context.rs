//! Global flags and what every command shares: the home directory, the
//! keystore, and printing in text or JSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};
use assent_cli::keystore::{KdfParams, Keystore};
use clap::{Args, ValueEnum};

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
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, help_heading = "Global options")]
    pub output: OutputFormat,
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
    pub output: OutputFormat,
}

impl Ctx {
    pub fn new(g: GlobalArgs) -> Ctx {
        Ctx {
            home: g.home,
            output: g.output,
        }
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
