//! Every check a genesis file must pass, each failure naming the key by its
//! path (`validators[2].consensus_key`) with what is wrong and what to do.
//! Checks run in file order and the first failure is reported.

use std::collections::BTreeMap;

use assent_contracts::codec::MAX_DECODE_BYTES;
use assent_contracts::state::{Operator, Params, ReferralTerms, MAX_TOTAL_VOTING_POWER};
use assent_contracts::terms::Sector;
use assent_contracts::tx::{check_params, MAX_TEXT};
use assent_contracts::{AccountId, Amount, BasisPoints};

use crate::error::GenesisError;
use crate::file::{GenesisFile, ParamsFile, ReferralFile};
use crate::genesis::{Body, GenesisBalance, GenesisEnterprise, GenesisValidator};
use crate::time::TimeError;

type Result<T> = std::result::Result<T, GenesisError>;

fn invalid<T>(field: impl Into<String>, problem: impl Into<String>) -> Result<T> {
    Err(GenesisError::invalid(field, problem))
}

/// Longest chain id; signatures frame it with a one-byte length.
pub const MAX_CHAIN_ID_LEN: usize = 64;

/// Largest integer a TOML file can hold; bigger values could not be written back.
const TOML_MAX: u64 = i64::MAX as u64;

pub(crate) fn validate(f: &GenesisFile) -> Result<Body> {
    let chain_id = chain_id(&f.chain_id)?;
    let genesis_time = crate::time::parse_utc(&f.genesis_time).map_err(|e| {
        let detail = match e {
            TimeError::Shape => String::new(),
            TimeError::Value(why) => format!(" ({why})"),
        };
        GenesisError::invalid(
            "genesis_time",
            format!(
                "{:?} is not an RFC 3339 UTC time like {}{detail}",
                f.genesis_time,
                crate::time::EXAMPLE
            ),
        )
    })?;
    let mint_authority = account("mint_authority", &f.mint_authority)?;
    let params = params(&f.params)?;

    if f.operators.is_empty() {
        return invalid(
            "operators",
            "at least one operator is required; add an [[operators]] table with name and account",
        );
    }
    let mut operators = Vec::with_capacity(f.operators.len());
    let mut op_accounts = Unique::new("operators", "account", "list each operator once");
    let mut op_names = Unique::new("operators", "name", "give each operator its own name");
    for (i, o) in f.operators.iter().enumerate() {
        let at = |k: &str| format!("operators[{i}].{k}");
        text(&at("name"), &o.name, false)?;
        op_names.insert(i, o.name.clone())?;
        let acc = account(&at("account"), &o.account)?;
        op_accounts.insert(i, acc)?;
        operators.push(Operator {
            account: acc,
            name: o.name.clone(),
        });
    }

    if f.validators.is_empty() {
        return invalid(
            "validators",
            "at least one validator is required; add a [[validators]] table",
        );
    }
    let mut validators = Vec::with_capacity(f.validators.len());
    let mut keys = Unique::new(
        "validators",
        "consensus_key",
        "each validator needs its own key",
    );
    let mut names = Unique::new("validators", "name", "give each validator its own name");
    let mut addrs = Unique::new(
        "validators",
        "p2p_address",
        "each validator needs its own address",
    );
    let mut total_power: u64 = 0;
    for (i, v) in f.validators.iter().enumerate() {
        let at = |k: &str| format!("validators[{i}].{k}");
        text(&at("name"), &v.name, false)?;
        names.insert(i, v.name.clone())?;
        let key = account(&at("consensus_key"), &v.consensus_key)?;
        keys.insert(i, key)?;
        if v.power == 0 {
            return invalid(at("power"), "0; a validator's power must be at least 1");
        }
        fits_toml(&at("power"), v.power)?;
        total_power = total_power
            .checked_add(v.power)
            .filter(|t| *t <= MAX_TOTAL_VOTING_POWER)
            .ok_or_else(|| {
                GenesisError::invalid(
                    at("power"),
                    format!(
                        "the validators' power adds up to more than {MAX_TOTAL_VOTING_POWER}, more than consensus can count; use smaller numbers"
                    ),
                )
            })?;
        p2p_address(&at("p2p_address"), &v.p2p_address)?;
        addrs.insert(i, v.p2p_address.clone())?;
        let operator = account(&at("operator"), &v.operator)?;
        if op_accounts.get(&operator).is_none() {
            return invalid(
                at("operator"),
                format!("{operator} is not listed in [[operators]]; add it there or name one of the operators' accounts"),
            );
        }
        validators.push(GenesisValidator {
            name: v.name.clone(),
            consensus_key: key,
            power: v.power,
            p2p_address: v.p2p_address.clone(),
            operator,
        });
    }

    let mut enterprises = Vec::with_capacity(f.enterprises.len());
    let mut ent_accounts = Unique::new("enterprises", "account", "list each enterprise once");
    for (i, e) in f.enterprises.iter().enumerate() {
        let at = |k: &str| format!("enterprises[{i}].{k}");
        text(&at("name"), &e.name, false)?;
        let acc = account(&at("account"), &e.account)?;
        ent_accounts.insert(i, acc)?;
        if let Some(j) = op_accounts.get(&acc) {
            return invalid(
                at("account"),
                format!("same key as operators[{j}].account; an enterprise needs a key of its own"),
            );
        }
        if acc == mint_authority {
            return invalid(
                at("account"),
                "same key as mint_authority; an enterprise needs a key of its own",
            );
        }
        let sector = e.sector.parse::<Sector>().map_err(|_| {
            let names: Vec<&str> = Sector::ALL.iter().map(|s| s.name()).collect();
            GenesisError::invalid(
                at("sector"),
                format!(
                    "{:?} is not a sector; use one of: {}",
                    e.sector,
                    names.join(", ")
                ),
            )
        })?;
        let jurisdiction = e.jurisdiction.clone().unwrap_or_default();
        text(&at("jurisdiction"), &jurisdiction, true)?;
        let policy_url = e.policy_url.clone().unwrap_or_default();
        text(&at("policy_url"), &policy_url, true)?;
        enterprises.push(GenesisEnterprise {
            account: acc,
            name: e.name.clone(),
            sector,
            jurisdiction,
            policy_url,
        });
    }

    let mut balances = Vec::with_capacity(f.balances.len());
    let mut funded = Unique::new("balances", "account", "merge the two entries into one");
    let mut supply = Amount::ZERO;
    for (i, b) in f.balances.iter().enumerate() {
        let at = |k: &str| format!("balances[{i}].{k}");
        let acc = account(&at("account"), &b.account)?;
        funded.insert(i, acc)?;
        if b.amount == 0 {
            return invalid(
                at("amount"),
                "0; remove the entry (an account without one starts at 0)",
            );
        }
        fits_toml(&at("amount"), b.amount)?;
        supply = supply.checked_add(Amount(b.amount)).ok_or_else(|| {
            GenesisError::invalid(
                at("amount"),
                format!(
                    "the balances add up to more than {} points, the largest possible supply; use smaller amounts",
                    u64::MAX
                ),
            )
        })?;
        balances.push(GenesisBalance {
            account: acc,
            amount: Amount(b.amount),
        });
    }

    Ok(Body {
        chain_id,
        genesis_time,
        mint_authority,
        params,
        operators,
        validators,
        enterprises,
        balances,
        referral: f.referral.as_ref().map(referral).transpose()?,
    })
}

fn referral(r: &ReferralFile) -> Result<ReferralTerms> {
    let d = ReferralTerms::default();
    let share_bps = match r.share_bps {
        None => d.share_bps,
        Some(v) if v > u64::from(BasisPoints::MAX) => {
            return invalid(
                "referral.share_bps",
                format!("{v} is more than {} (100 %); give the referrer's share in basis points, e.g. 500 for 5 %", BasisPoints::MAX),
            )
        }
        // At most 10_000 here, so it fits a u16.
        Some(v) => BasisPoints(v as u16),
    };
    let max_points = Amount(r.max_points.unwrap_or(d.max_points.0));
    fits_toml("referral.max_points", max_points.0)?;
    let period_ms = r.period_ms.unwrap_or(d.period_ms);
    fits_toml("referral.period_ms", period_ms)?;
    let t = ReferralTerms {
        share_bps,
        max_points,
        period_ms,
    };
    assent_contracts::referral::check_terms(&t)
        .map_err(|why| GenesisError::invalid("referral", why))?;
    Ok(t)
}

/// Values seen so far under one key of a list, to name the first holder of a
/// duplicate: `validators[2].name: duplicate of validators[0].name; <todo>`.
struct Unique<K: Ord> {
    list: &'static str,
    key: &'static str,
    todo: &'static str,
    seen: BTreeMap<K, usize>,
}

impl<K: Ord> Unique<K> {
    fn new(list: &'static str, key: &'static str, todo: &'static str) -> Self {
        Unique {
            list,
            key,
            todo,
            seen: BTreeMap::new(),
        }
    }

    /// Index of the entry holding `k`, if any.
    fn get(&self, k: &K) -> Option<usize> {
        self.seen.get(k).copied()
    }

    fn insert(&mut self, index: usize, k: K) -> Result<()> {
        let (list, key) = (self.list, self.key);
        if let Some(first) = self.get(&k) {
            return invalid(
                format!("{list}[{index}].{key}"),
                format!("duplicate of {list}[{first}].{key}; {}", self.todo),
            );
        }
        self.seen.insert(k, index);
        Ok(())
    }
}

fn chain_id(s: &str) -> Result<String> {
    let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if s.is_empty() || s.len() > MAX_CHAIN_ID_LEN || !s.chars().all(ok) {
        return invalid(
            "chain_id",
            format!("{s:?} is not a chain id; use 1-{MAX_CHAIN_ID_LEN} characters of a-z, 0-9 and -, e.g. \"assent-devnet-1\""),
        );
    }
    Ok(s.to_owned())
}

/// Free text the contracts would accept in a transaction (names, jurisdictions, URLs).
fn text(field: &str, s: &str, allow_empty: bool) -> Result<()> {
    if !allow_empty && s.trim().is_empty() {
        return invalid(field, "must not be empty");
    }
    if s.len() > MAX_TEXT {
        return invalid(
            field,
            format!("is {} bytes long; at most {MAX_TEXT}", s.len()),
        );
    }
    if s.chars().any(char::is_control) {
        return invalid(
            field,
            format!("{s:?} contains a control character; remove it"),
        );
    }
    Ok(())
}

/// An account that can sign: a valid ed25519 point of full order. A small-order
/// key would let anyone forge its signatures under the ZIP-215 rule.
fn account(field: &str, s: &str) -> Result<AccountId> {
    let id: AccountId = s
        .parse()
        .map_err(|e: assent_contracts::ids::IdParseError| {
            GenesisError::invalid(field, e.to_string())
        })?;
    let usable = ed25519_dalek::VerifyingKey::from_bytes(id.as_bytes())
        .map(|vk| !vk.is_weak())
        .unwrap_or(false);
    if !usable {
        return invalid(
            field,
            format!("{id} is not a usable ed25519 public key (not a curve point, or a weak small-order key anyone could sign for); generate a real key, e.g. with `assent keys new`"),
        );
    }
    Ok(id)
}

fn p2p_address(field: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return invalid(
            field,
            "must not be empty; give a libp2p multiaddr like \"/ip4/127.0.0.1/tcp/26600\"",
        );
    }
    if !s.starts_with('/') || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid(
            field,
            format!("{s:?} is not a libp2p multiaddr; use the form \"/ip4/127.0.0.1/tcp/26600\" or \"/dns4/node0.example/tcp/26600\""),
        );
    }
    text(field, s, false)
}

fn fits_toml(field: &str, v: u64) -> Result<()> {
    if v > TOML_MAX {
        return invalid(
            field,
            format!("{v} is more than {TOML_MAX}, the largest integer TOML can hold"),
        );
    }
    Ok(())
}

fn params(p: &ParamsFile) -> Result<Params> {
    let d = Params::default();
    let u32_field = |name: &str, v: Option<u64>, default: u32| -> Result<u32> {
        let field = format!("params.{name}");
        match v {
            None => Ok(default),
            Some(0) => invalid(field, "0; must be at least 1"),
            Some(v) => u32::try_from(v).map_err(|_| {
                GenesisError::invalid(field, format!("{v} is more than {}", u32::MAX))
            }),
        }
    };
    let share = match p.operator_share_bps {
        None => d.operator_share_bps,
        Some(v) if v > u64::from(BasisPoints::MAX) => {
            return invalid(
                "params.operator_share_bps",
                format!("{v} is more than {} (100 %); give the operators' share in basis points, e.g. 1000 for 10 %", BasisPoints::MAX),
            )
        }
        // At most 10_000 here, so it fits a u16.
        Some(v) => BasisPoints(v as u16),
    };
    let out = Params {
        operator_share_bps: share,
        max_block_txs: u32_field("max_block_txs", p.max_block_txs, d.max_block_txs)?,
        max_block_bytes: u32_field("max_block_bytes", p.max_block_bytes, d.max_block_bytes)?,
        max_tx_bytes: u32_field("max_tx_bytes", p.max_tx_bytes, d.max_tx_bytes)?,
        max_uses_per_record: u32_field(
            "max_uses_per_record",
            p.max_uses_per_record,
            d.max_uses_per_record,
        )?,
        proposal_ttl_ms: match p.proposal_ttl_ms {
            None => d.proposal_ttl_ms,
            Some(0) => return invalid("params.proposal_ttl_ms", "0; must be at least 1"),
            Some(v) => {
                fits_toml("params.proposal_ttl_ms", v)?;
                v
            }
        },
    };
    let block_limit = MAX_DECODE_BYTES / 2;
    if out.max_block_bytes as usize > block_limit {
        return invalid(
            "params.max_block_bytes",
            format!(
                "{} is more than {block_limit}, half the codec's decode limit",
                out.max_block_bytes
            ),
        );
    }
    if out.max_tx_bytes > out.max_block_bytes {
        return invalid(
            "params.max_tx_bytes",
            format!(
                "{} is more than max_block_bytes ({}); a transaction must fit in a block",
                out.max_tx_bytes, out.max_block_bytes
            ),
        );
    }
    // The contracts' own rule has the last word, so genesis never admits
    // parameters governance could not set.
    check_params(&out).map_err(|why| GenesisError::invalid("params", why))?;
    Ok(out)
}
