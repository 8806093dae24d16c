//! `assent genesis`: create a network's genesis (with its keys) and check genesis files.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use assent_cli::keystore::{KdfParams, Keystore};
use assent_cli::network::{self, NetworkSpec};
use assent_genesis::{is_devnet_chain_id, time, Genesis, DEVNET_CHAIN_ID_PREFIX};
use clap::Subcommand;
use rand::RngCore;
use serde_json::json;

use super::context::Ctx;
use super::passphrase;

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
        /// Chain id: 1-64 characters of a-z, 0-9 and -, unique to this
        /// network (txs signed for one chain are refused by every other).
        /// Ids starting with assent-devnet- are kept for `assent devnet up`.
        /// [default: a new random id, assent-<12 hex digits>]
        #[arg(long)]
        chain_id: Option<String>,
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

/// The chain id of a new network: the one asked for, unless it is kept for
/// devnets, or a fresh random one. Returns the id and whether it was generated.
fn chain_id_for_new(asked: Option<String>) -> Result<(String, bool)> {
    match asked {
        Some(id) if is_devnet_chain_id(&id) => Err(anyhow!(
            "--chain-id {id:?}: ids starting with {DEVNET_CHAIN_ID_PREFIX} are kept for local devnets \
             (`assent devnet up`), and every devnet shares one; choose an id of this network's own \
             (e.g. --chain-id acme-consent-1), or leave --chain-id out for a unique random one"
        )),
        Some(id) => Ok((id, false)),
        None => {
            let mut b = [0u8; 6];
            rand::rngs::OsRng.fill_bytes(&mut b);
            Ok((format!("assent-{}", hex::encode(b)), true))
        }
    }
}

fn new(
    ctx: &Ctx,
    n: usize,
    out: &Path,
    chain_id: Option<String>,
    genesis_time: Option<String>,
) -> Result<()> {
    let (chain_id, generated) = chain_id_for_new(chain_id)?;
    let genesis_time = match genesis_time {
        Some(t) => time::parse_utc(&t).map_err(|e| anyhow!("--genesis-time: {e}"))?,
        None => network::now()
            .ok_or_else(|| anyhow!("the system clock is before 1970; pass --genesis-time"))?,
    };
    let spec = NetworkSpec {
        validators: n,
        chain_id,
        genesis_time,
        base_port: network::DEFAULT_BASE_PORT,
    };
    let ks = Keystore::open(out).with_kdf(KdfParams::from_env()?);
    // Validate everything that does not need keys before asking for a passphrase.
    network::check(out, &spec, &ks)?;
    let pass = passphrase::choose("the new network's keys")?;
    let net = network::create(out, &spec, &ks, &pass)?;
    let genesis = &net.genesis;
    let file = &net.file;

    let text = format!(
        "created a {n}-validator network in {dir}\n\
         genesis: {file}\n\
         chain:   {chain}{generated}\n\
         hash:    {hash}\n\
         keys:    {keys} ({count} keys: validator-0..{last}, operator-0..{last}, mint, acme, alice)\n\
         next:    assent keys list --home {dir}\n         \
                  assent genesis validate {file}",
        dir = out.display(),
        file = file.display(),
        chain = genesis.chain_id(),
        generated = if generated {
            " (generated; choose one with --chain-id)"
        } else {
            ""
        },
        hash = genesis.hash(),
        keys = ks.dir().display(),
        count = net.keys.len(),
        last = n - 1,
    );
    let keys: Vec<_> = net
        .keys
        .iter()
        .map(|(k, a)| json!({"name": k, "account": a.to_string()}))
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
