//! The genesis file as written: plain text and numbers, exactly the TOML
//! shape, unknown keys refused. Nothing here is validated; [`crate::Genesis`]
//! is built from a [`GenesisFile`] by validation and gives one back for
//! writing.
//!
//! Accounts, sectors and the time stay text at this layer so that a bad value
//! is reported by validation with its full path (`validators[2].consensus_key`)
//! rather than by the TOML decoder.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A whole genesis file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// 1..=64 characters of `a-z`, `0-9` and `-`.
    pub chain_id: String,
    /// RFC 3339 UTC, e.g. `2026-11-22T00:00:00Z`. The file may also give it as
    /// an unquoted TOML date-time.
    #[serde(deserialize_with = "time_text")]
    pub genesis_time: String,
    /// The account allowed to Mint (`assent1…`).
    pub mint_authority: String,
    /// Omitted keys take `Params::default()` values.
    #[serde(default)]
    pub params: ParamsFile,
    #[serde(default)]
    pub operators: Vec<OperatorEntry>,
    #[serde(default)]
    pub validators: Vec<ValidatorEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enterprises: Vec<EnterpriseEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<BalanceEntry>,
    /// `[referral]`: the advocacy share's terms. Without it the chain pays no
    /// referral until governance sets terms (and an existing genesis keeps
    /// its hash and state root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<ReferralFile>,
}

/// `[referral]`: every key optional; omitted keys take
/// `ReferralTerms::default()` values (500 bps, 1,000 points, 180 days).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralFile {
    /// Referrer's share of each of the referred consumer's settled uses, in
    /// basis points, paid out of the operators' share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_bps: Option<u64>,
    /// Most points one referral earns; 0 = no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_points: Option<u64>,
    /// How long after the referral its uses pay, in ms; 0 = no time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_ms: Option<u64>,
}

/// `[params]`: every key optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_share_bps: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_block_txs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_block_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tx_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses_per_record: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal_ttl_ms: Option<u64>,
}

/// `[[operators]]`: an organisation that runs validators and votes on governance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorEntry {
    pub name: String,
    pub account: String,
}

/// `[[validators]]`: a consensus validator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorEntry {
    pub name: String,
    /// Its ed25519 consensus key in account form (`assent1…`).
    pub consensus_key: String,
    /// Voting power; 1 when omitted.
    #[serde(default = "one")]
    pub power: u64,
    /// A libp2p multiaddr, e.g. `/ip4/127.0.0.1/tcp/26600`.
    pub p2p_address: String,
    /// Account of the operator running it; must be listed in `operators`.
    pub operator: String,
}

fn one() -> u64 {
    1
}

/// `[[enterprises]]`: an enterprise admitted at genesis (status active).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseEntry {
    pub name: String,
    pub account: String,
    /// One of `assent_contracts::terms::Sector`'s names, e.g. `retail`.
    pub sector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_url: Option<String>,
}

/// `[[balances]]`: points an account holds at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceEntry {
    pub account: String,
    pub amount: u64,
}

/// Reads a time given either as a string or as a bare TOML date-time.
fn time_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct TimeVisitor;
    impl<'de> Visitor<'de> for TimeVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an RFC 3339 UTC time like \"{}\"", crate::time::EXAMPLE)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
            // The TOML decoder hands a bare date-time over as a one-entry map.
            let dt =
                toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
            Ok(dt.to_string())
        }
    }
    d.deserialize_any(TimeVisitor)
}
