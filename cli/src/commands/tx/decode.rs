//! `assent tx decode FILE`: strict decode, print, optionally verify.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::txfile::{self, TxFormat};
use assent_contracts::codec::MAX_DECODE_BYTES;
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use crate::commands::context::Ctx;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Hex if the content is text, raw bytes otherwise
    Auto,
    /// Hex text (whitespace ignored)
    Hex,
    /// The canonical bytes themselves
    Raw,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Signed tx file: hex text as `tx build` writes it, or the raw canonical bytes; `-` reads stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Also check the signature for this chain id; exits non-zero if it does not verify
    #[arg(long, value_name = "ID")]
    pub chain_id: Option<String>,
    /// How to read FILE
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
}

/// Most bytes read from a file: hex of the largest decodable value, plus slack for whitespace.
const MAX_READ: u64 = (MAX_DECODE_BYTES as u64) * 2 + 4096;

pub(super) fn read_input(file: &PathBuf) -> Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let name = if file.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_READ + 1)
            .read_to_end(&mut buf)
            .context("cannot read stdin")?;
        "stdin".to_string()
    } else {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        f.take(MAX_READ + 1)
            .read_to_end(&mut buf)
            .with_context(|| format!("cannot read {}", file.display()))?;
        file.display().to_string()
    };
    if buf.len() as u64 > MAX_READ {
        bail!("{name}: larger than {MAX_READ} bytes; no transaction is that large");
    }
    Ok((name, buf))
}

pub fn run(ctx: &Ctx, args: DecodeArgs) -> Result<()> {
    let (name, content) = read_input(&args.file)?;
    let format = match args.format {
        Format::Auto => TxFormat::Auto,
        Format::Hex => TxFormat::Hex,
        Format::Raw => TxFormat::Raw,
    };
    let tx =
        txfile::decode(&content, format, MAX_DECODE_BYTES).map_err(|e| anyhow!("{name}: {e}"))?;
    let tx_id = tx.id();
    let kind = tx.body.payload.kind();
    let verdict = args
        .chain_id
        .as_deref()
        .map(|chain| (chain, tx.clone().verify(chain).map(|_| ())));

    let mut v = serde_json::to_value(&tx).context("cannot format the tx as JSON")?;
    if let Value::Object(m) = &mut v {
        m.insert("tx_id".into(), json!(tx_id.to_string()));
        m.insert("kind".into(), json!(kind));
        if let Some((chain, ok)) = &verdict {
            m.insert("chain_id".into(), json!(chain));
            m.insert("signature_valid".into(), json!(ok.is_ok()));
        }
    }
    let signature = match &verdict {
        None => "not checked (pass --chain-id ID to check it)".to_string(),
        Some((chain, Ok(()))) => format!("valid for chain `{chain}`"),
        Some((chain, Err(e))) => format!("INVALID for chain `{chain}`: {e}"),
    };
    let payload = serde_json::to_string_pretty(&tx.body.payload)
        .context("cannot format the payload as JSON")?;
    let text = format!(
        "tx id:     {tx_id}\nkind:      {kind}\nsender:    {}\nnonce:     {}\nsignature: {signature}\npayload:\n{payload}",
        tx.body.sender, tx.body.nonce
    );
    ctx.emit(&text, &v)?;
    if let Some((chain, Err(e))) = verdict {
        bail!("the signature of tx {tx_id} does not verify for chain `{chain}`: {e} (signed for another chain, or altered)");
    }
    Ok(())
}
