//! `assent consumer export`: downloads a consumer's export archive
//! (`GET /v1/consumers/{id}/export`) and unpacks it into a directory.
//!
//! The archive is checked in memory before anything is written: every
//! entry must be a regular file (or a directory) under the one top
//! directory `assent-export-<account>-h<height>/`, with plain path parts
//! (no `..`, no absolute paths, no links), and it must hold consumer.json.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::accounts::AccountRef;
use clap::Args;
use serde_json::{json, Value};

use super::context::Ctx;
use super::query::num;

/// Largest archive accepted (the node builds at most 64 MiB).
const MAX_ARCHIVE: u64 = 80 * 1024 * 1024;
/// How long the download may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(120);

/// Whose export, and where to put it.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The consumer, by the name of their key in the keystore
    #[arg(
        long = "as",
        visible_alias = "key",
        value_name = "KEY",
        conflicts_with = "account",
        required_unless_present = "account"
    )]
    pub as_key: Option<String>,
    /// The consumer, by account (assent1...) or key name
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Directory to write [default: ./assent-export-<account>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into DIR even if it is not empty (files of the export are replaced, others kept)
    #[arg(long)]
    pub force: bool,
}

/// The archive's files, checked: (path under the top directory, bytes).
fn unpack(archive: &[u8]) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut top: Option<String> = None;
    let mut ar = tar::Archive::new(archive);
    let entries = ar
        .entries()
        .context("the node's answer is not a tar archive")?;
    for entry in entries {
        let mut entry = entry.context("the export archive is damaged")?;
        let path = entry
            .path()
            .context("an entry of the export archive has an unreadable name")?
            .into_owned();
        let mut parts = Vec::new();
        for c in path.components() {
            match c {
                Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
                Component::CurDir => {}
                _ => bail!(
                    "the export archive holds `{}`, a path outside its directory; not unpacking it",
                    path.display()
                ),
            }
        }
        let Some((first, rest)) = parts.split_first() else {
            continue;
        };
        match &top {
            None => top = Some(first.clone()),
            Some(t) if t != first => bail!(
                "the export archive has two top directories (`{t}` and `{first}`); not unpacking it"
            ),
            Some(_) => {}
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() || rest.is_empty() {
            bail!(
                "the export archive holds `{}`, which is not a plain file; not unpacking it",
                path.display()
            );
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes)
            .with_context(|| format!("the export archive's `{}` is damaged", path.display()))?;
        files.push((rest.iter().collect::<PathBuf>(), bytes));
    }
    if !files.iter().any(|(p, _)| p == Path::new("consumer.json")) {
        bail!("the node's answer is not an assent export: it has no consumer.json");
    }
    Ok(files)
}

fn is_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(anyhow!("cannot read {}: {e}", dir.display())),
    }
}

fn write_files(dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    for (rel, bytes) in files {
        let to = dir.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        if std::fs::symlink_metadata(&to).is_ok_and(|m| m.file_type().is_symlink()) {
            bail!(
                "{} is a symbolic link; not writing through it (remove it or choose another --out)",
                to.display()
            );
        }
        std::fs::write(&to, bytes).with_context(|| format!("cannot write {}", to.display()))?;
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: &ExportArgs) -> Result<()> {
    let r = match (&args.as_key, &args.account) {
        (Some(k), _) => AccountRef::Key(k.clone()),
        (None, Some(a)) => a
            .parse::<AccountRef>()
            .map_err(|e| anyhow!("--account: {e}"))?,
        (None, None) => bail!("say whose records to export: --as KEY or --account ID"),
    };
    let ks = ctx.keystore()?;
    let account = r.resolve(&ks).with_context(|| {
        if args.as_key.is_some() {
            "--as"
        } else {
            "--account"
        }
    })?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("assent-export-{account}")));
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{} exists and is not a directory; choose another --out",
            dir.display()
        );
    }
    if !args.force && !is_empty_dir(&dir)? {
        bail!(
            "{} is not empty; choose another --out DIR, or pass --force to write into it",
            dir.display()
        );
    }
    // The consumer's own key (or --read-as) signs the download.
    let node = ctx.node_for(&account)?.with_timeout(EXPORT_TIMEOUT)?;
    let archive = node.get_bytes(&format!("/v1/consumers/{account}/export"), MAX_ARCHIVE)?;
    let files = unpack(&archive)?;
    let summary: Value = files
        .iter()
        .find(|(p, _)| p == Path::new("consumer.json"))
        .and_then(|(_, b)| serde_json::from_slice(b).ok())
        .ok_or_else(|| anyhow!("the export's consumer.json is not JSON"))?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_files(&dir, &files)?;

    let counts = &summary["counts"];
    let as_of = &summary["as_of"];
    let names = ctx.names();
    let receipts = files
        .iter()
        .filter(|(p, _)| p.starts_with("receipts"))
        .count();
    let top: Vec<String> = files
        .iter()
        .filter(|(p, _)| !p.starts_with("receipts"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    let text = format!(
        "exported {who} as of height {h} of chain {chain} into {dir}:\n  \
         {consents} consent(s) ({changes} state change(s)), {uses} use(s) ({settled} settled, {rejected} rejected), \
         {rewards} reward(s); earned {earned} points from uses, balance {balance}\n  \
         {n} files ({bytes} bytes): {top}, receipts/ ({receipts} receipts)\n\
         see {dir}/README.md; check a receipt offline with `assent receipt verify FILE --genesis GENESIS`",
        who = names.label(&account),
        h = num(as_of, "height"),
        chain = as_of["chain_id"].as_str().unwrap_or("?"),
        dir = dir.display(),
        consents = num(counts, "consents"),
        changes = num(counts, "consent_changes"),
        uses = num(counts, "uses"),
        settled = num(counts, "uses_settled"),
        rejected = num(counts, "uses_rejected"),
        rewards = num(counts, "rewards"),
        earned = num(&summary, "earned"),
        balance = num(&summary, "balance"),
        n = files.len(),
        bytes = archive.len(),
        top = top.join(", "),
    );
    let out = json!({
        "account": account,
        "dir": dir.display().to_string(),
        "as_of": as_of,
        "counts": counts,
        "earned": num(&summary, "earned"),
        "balance": num(&summary, "balance"),
        "files": files.len(),
        "archive_bytes": archive.len(),
    });
    ctx.emit(&text, &out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn archives_unpack_under_one_top_directory_only() {
        let ok = archive(&[
            ("assent-export-x-h1/consumer.json", b"{}"),
            ("assent-export-x-h1/receipts/use-1.json", b"{}"),
        ]);
        let files = unpack(&ok).unwrap();
        assert_eq!(files[1].0, PathBuf::from("receipts/use-1.json"));
        let two_tops = archive(&[("a/consumer.json", b"{}"), ("b/x", b"")]);
        assert!(unpack(&two_tops)
            .unwrap_err()
            .to_string()
            .contains("two top"));
        let no_consumer = archive(&[("a/x.json", b"{}")]);
        assert!(unpack(&no_consumer).is_err());
        assert!(unpack(b"not a tar archive at all").is_err());
    }
}
