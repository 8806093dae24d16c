//! `assent genesis`: create a network's genesis (with its keys) and check genesis files.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::keystore::{KdfParams, Keystore};
use assent_contracts::Timestamp;
use assent_genesis::{
    default_p2p_address, devnet_genesis, time, DevnetEnterprise, DevnetSpec, DevnetValidator,
    Genesis, DEVNET_CHAIN_ID,
};
use clap::Subcommand;
use serde_json::json;

use super::context::Ctx;
use super::passphrase;

/// Most validators `genesis new` creates (a local network on one machine).
const MAX_VALIDATORS: usize = 100;

#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Create a new network: DIR/genesis.toml plus an encrypted keystore in DIR/keys
    ///
    /// Keys: validator-N (consensus key) and operator-N (governance) per
    /// validator, `mint` (the mint authority), `acme` (an enterprise
    /// pre-admitted in sector retail with 1,000,000 points) and `alice` (a
    /// consumer; she registers herself on chain). All keys share one passphrase
    /// (ASSENT_PASSPHRASE, or asked twice). List them with
    /// `assent keys list --home DIR`.
    New {
        /// Number of validators (1-100)
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Directory to create the network in (must not hold a genesis.toml yet)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Chain id: 1-64 characters of a-z, 0-9 and -
        #[arg(long, default_value = DEVNET_CHAIN_ID)]
        chain_id: String,
        /// Genesis time as RFC 3339 UTC, e.g. 2026-11-22T00:00:00Z [default: now]
        #[arg(long, value_name = "TIME")]
        genesis_time: Option<String>,
    },
    /// Check a genesis file; print its hash and a summary
    Validate {
        /// The genesis file (TOML)
        file: PathBuf,
    },
}

pub fn run(ctx: &Ctx, cmd: GenesisCommand) -> Result<()> {
    match cmd {
        GenesisCommand::New {
            validators,
            out,
            chain_id,
            genesis_time,
        } => new(ctx, validators, &out, chain_id, genesis_time),
        GenesisCommand::Validate { file } => validate(ctx, &file),
    }
}

fn now() -> Result<Timestamp> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| anyhow!("the system clock is before 1970; pass --genesis-time"))?
        .as_millis();
    // Whole seconds read better in the file.
    Ok(Timestamp((ms / 1_000 * 1_000) as u64))
}

fn new(
    ctx: &Ctx,
    n: usize,
    out: &Path,
    chain_id: String,
    genesis_time: Option<String>,
) -> Result<()> {
    if n == 0 || n > MAX_VALIDATORS {
        bail!("--validators: {n} is out of range; give 1 to {MAX_VALIDATORS}");
    }
    let file = out.join("genesis.toml");
    if file.exists() {
        bail!(
            "{} already exists; choose another --out directory or remove it",
            file.display()
        );
    }
    let genesis_time = match genesis_time {
        Some(t) => time::parse_utc(&t).map_err(|e| anyhow!("--genesis-time: {e}"))?,
        None => now()?,
    };
    let ks = Keystore::open(out).with_kdf(KdfParams::from_env()?);
    let mut names: Vec<String> = (0..n)
        .flat_map(|i| [format!("validator-{i}"), format!("operator-{i}")])
        .collect();
    names.extend(["mint", "acme", "alice"].map(String::from));
    for name in &names {
        let path = ks.path_of(name)?;
        if path.exists() {
            bail!(
                "key file {} already exists; choose another --out directory",
                path.display()
            );
        }
    }
    // Validate everything that does not need keys before asking for a passphrase.
    let pass = passphrase::choose("the new network's keys")?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;

    let mut accounts = std::collections::BTreeMap::new();
    for name in &names {
        let key = ks.create(name, &pass)?;
        accounts.insert(name.clone(), key.account());
    }
    let spec = DevnetSpec {
        chain_id,
        genesis_time,
        mint_authority: accounts["mint"],
        validators: (0..n)
            .map(|i| DevnetValidator {
                name: format!("validator-{i}"),
                operator_name: format!("operator-{i}"),
                consensus_key: accounts[&format!("validator-{i}")],
                operator_account: accounts[&format!("operator-{i}")],
                p2p_address: default_p2p_address(i),
            })
            .collect(),
        enterprise: Some(DevnetEnterprise::acme_retail(accounts["acme"])),
    };
    let genesis = devnet_genesis(&spec).map_err(|e| anyhow!("{e}"))?;
    genesis.save(&file).map_err(|e| anyhow!("{e}"))?;

    let text = format!(
        "created a {n}-validator network in {dir}\n\
         genesis: {file}\n\
         chain:   {chain}\n\
         hash:    {hash}\n\
         keys:    {keys} ({count} keys: validator-0..{last}, operator-0..{last}, mint, acme, alice)\n\
         next:    assent keys list --home {dir}\n         \
                  assent genesis validate {file}",
        dir = out.display(),
        file = file.display(),
        chain = genesis.chain_id(),
        hash = genesis.hash(),
        keys = ks.dir().display(),
        count = names.len(),
        last = n - 1,
    );
    let keys: Vec<_> = names
        .iter()
        .map(|k| json!({"name": k, "account": accounts[k].to_string()}))
        .collect();
    ctx.emit(
        &text,
        &json!({
            "dir": out.display().to_string(),
            "genesis": file.display().to_string(),
            "chain_id": genesis.chain_id(),
            "genesis_hash": genesis.hash().to_string(),
            "keys": keys,
        }),
    )
}

fn validate(ctx: &Ctx, file: &Path) -> Result<()> {
    let g = Genesis::load(file).map_err(|e| anyhow!("{e}"))?;
    let text = format!(
        "{file} is a valid genesis\n\
         chain:       {chain}\n\
         time:        {time}\n\
         validators:  {v} (total power {power})\n\
         operators:   {o}\n\
         enterprises: {e}\n\
         supply:      {supply}\n\
         hash:        {hash}",
        file = file.display(),
        chain = g.chain_id(),
        time = time::format_utc(g.genesis_time()),
        v = g.validators().len(),
        power = g.total_power(),
        o = g.operators().len(),
        e = g.enterprises().len(),
        supply = g.total_supply(),
        hash = g.hash(),
    );
    ctx.emit(
        &text,
        &json!({
            "valid": true,
            "file": file.display().to_string(),
            "chain_id": g.chain_id(),
            "genesis_time": time::format_utc(g.genesis_time()),
            "validators": g.validators().len(),
            "operators": g.operators().len(),
            "enterprises": g.enterprises().len(),
            "total_supply": g.total_supply().0,
            "genesis_hash": g.hash().to_string(),
            "state_root": g.state_root().to_string(),
        }),
    )
}
