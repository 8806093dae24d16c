//! The validated genesis: what a chain starts from, its hash and its state root.

use std::path::Path;

use serde::{Deserialize, Serialize};

use assent_contracts::codec;
use assent_contracts::state::{
    Enterprise, EnterpriseStatus, Operator, Params, ReferralTerms, Validator,
};
use assent_contracts::terms::Sector;
use assent_contracts::{AccountId, Amount, Hash32, Height, InitialState, Timestamp};

use crate::error::GenesisError;
use crate::file::{
    BalanceEntry, EnterpriseEntry, GenesisFile, OperatorEntry, ParamsFile, ReferralFile,
    ValidatorEntry,
};
use crate::toml_out;

/// Domain tag of the genesis hash.
pub const GENESIS_HASH_TAG: &str = "assent/genesis/v1";

/// A consensus validator as genesis lists it: the on-chain [`Validator`] plus
/// the operator that runs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    pub name: String,
    pub consensus_key: AccountId,
    pub power: u64,
    pub p2p_address: String,
    /// Account of the operator running it (one of the genesis operators).
    pub operator: AccountId,
}

/// An enterprise admitted at genesis; it starts active at height 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisEnterprise {
    pub account: AccountId,
    pub name: String,
    pub sector: Sector,
    /// Empty when the file gives none.
    pub jurisdiction: String,
    /// Empty when the file gives none.
    pub policy_url: String,
}

/// Points an account holds at genesis (never zero).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisBalance {
    pub account: AccountId,
    pub amount: Amount,
}

/// The validated values; their canonical bytes are what the genesis hash covers.
/// List order is the file's and is part of the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Body {
    pub(crate) chain_id: String,
    pub(crate) genesis_time: Timestamp,
    pub(crate) mint_authority: AccountId,
    pub(crate) params: Params,
    pub(crate) operators: Vec<Operator>,
    pub(crate) validators: Vec<GenesisValidator>,
    pub(crate) enterprises: Vec<GenesisEnterprise>,
    pub(crate) balances: Vec<GenesisBalance>,
    /// Last and left out when absent, so a genesis without `[referral]`
    /// hashes as it did before referrals existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) referral: Option<ReferralTerms>,
}

/// A genesis that passed every check. It can only be built by validation, so
/// holding one means: the chain id is well-formed, there is at least one
/// operator and one validator, every key is a usable ed25519 key, keys, names
/// and addresses are distinct where they must be, every validator's operator
/// is listed, enterprises have keys of their own, the balances fit in the
/// supply and the parameters pass `assent_contracts::tx::check_params`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Genesis {
    body: Body,
    hash: Hash32,
    state_root: Hash32,
}

impl Genesis {
    /// Reads and validates a genesis file.
    pub fn load(path: impl AsRef<Path>) -> Result<Genesis, GenesisError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| GenesisError::Io {
            path: path.to_owned(),
            source,
        })?;
        let file: GenesisFile = toml::from_str(&text).map_err(|source| GenesisError::Parse {
            path: Some(path.to_owned()),
            source,
        })?;
        Genesis::from_file(&file)
    }

    /// Parses and validates genesis TOML.
    pub fn from_toml_str(text: &str) -> Result<Genesis, GenesisError> {
        let file: GenesisFile =
            toml::from_str(text).map_err(|source| GenesisError::Parse { path: None, source })?;
        Genesis::from_file(&file)
    }

    /// Validates a genesis given as its file structure.
    pub fn from_file(file: &GenesisFile) -> Result<Genesis, GenesisError> {
        let body = crate::validate::validate(file)?;
        let bytes = codec::encode(&body)
            .map_err(|e| GenesisError::invalid("genesis", format!("cannot be encoded: {e}")))?;
        let hash = Hash32::tagged(GENESIS_HASH_TAG, &[&bytes]);
        let mut g = Genesis {
            body,
            hash,
            state_root: Hash32::ZERO,
        };
        // Validation already refused what the contracts would; this keeps the
        // two from ever drifting apart silently.
        let (_, root) = g
            .initial_state()
            .writes()
            .map_err(|e| GenesisError::invalid("balances", e.to_string()))?;
        g.state_root = root;
        Ok(g)
    }

    /// Writes the genesis as TOML to `path` (replacing the file).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), GenesisError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_toml_string()).map_err(|source| GenesisError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// The genesis as TOML, every parameter written out. Loading it gives back
    /// an equal `Genesis` with the same hash.
    pub fn to_toml_string(&self) -> String {
        toml_out::write(&self.to_file())
    }

    /// The genesis in its file structure, every parameter filled in.
    pub fn to_file(&self) -> GenesisFile {
        let b = &self.body;
        let p = &b.params;
        let non_empty = |s: &String| (!s.is_empty()).then(|| s.clone());
        GenesisFile {
            chain_id: b.chain_id.clone(),
            genesis_time: crate::time::format_utc(b.genesis_time),
            mint_authority: b.mint_authority.to_string(),
            params: ParamsFile {
                operator_share_bps: Some(u64::from(p.operator_share_bps.0)),
                max_block_txs: Some(u64::from(p.max_block_txs)),
                max_block_bytes: Some(u64::from(p.max_block_bytes)),
                max_tx_bytes: Some(u64::from(p.max_tx_bytes)),
                max_uses_per_record: Some(u64::from(p.max_uses_per_record)),
                proposal_ttl_ms: Some(p.proposal_ttl_ms),
            },
            operators: b
                .operators
                .iter()
                .map(|o| OperatorEntry {
                    name: o.name.clone(),
                    account: o.account.to_string(),
                })
                .collect(),
            validators: b
                .validators
                .iter()
                .map(|v| ValidatorEntry {
                    name: v.name.clone(),
                    consensus_key: v.consensus_key.to_string(),
                    power: v.power,
                    p2p_address: v.p2p_address.clone(),
                    operator: v.operator.to_string(),
                })
                .collect(),
            enterprises: b
                .enterprises
                .iter()
                .map(|e| EnterpriseEntry {
                    name: e.name.clone(),
                    account: e.account.to_string(),
                    sector: e.sector.name().to_owned(),
                    jurisdiction: non_empty(&e.jurisdiction),
                    policy_url: non_empty(&e.policy_url),
                })
                .collect(),
            balances: b
                .balances
                .iter()
                .map(|x| BalanceEntry {
                    account: x.account.to_string(),
                    amount: x.amount.0,
                })
                .collect(),
            referral: b.referral.map(|t| ReferralFile {
                share_bps: Some(u64::from(t.share_bps.0)),
                max_points: Some(t.max_points.0),
                period_ms: Some(t.period_ms),
            }),
        }
    }

    /// Tagged hash (`assent/genesis/v1`) of the canonical bytes of the
    /// validated values: comments, layout, key order and spelling variants
    /// (an unquoted date-time, `Retail` for `retail`) do not change it; any
    /// value or list order does. Nodes compare it before talking to each other.
    pub fn hash(&self) -> Hash32 {
        self.hash
    }

    /// State root at height 0 of [`Genesis::initial_state`].
    pub fn state_root(&self) -> Hash32 {
        self.state_root
    }

    /// The ledger state the chain starts from.
    pub fn initial_state(&self) -> InitialState {
        let b = &self.body;
        InitialState {
            chain_id: b.chain_id.clone(),
            params: b.params.clone(),
            mint_authority: b.mint_authority,
            operators: b.operators.clone(),
            validators: b
                .validators
                .iter()
                .map(|v| Validator {
                    name: v.name.clone(),
                    consensus_key: v.consensus_key,
                    power: v.power,
                    p2p_address: v.p2p_address.clone(),
                })
                .collect(),
            enterprises: b
                .enterprises
                .iter()
                .map(|e| {
                    (
                        e.account,
                        Enterprise {
                            name: e.name.clone(),
                            sector: e.sector,
                            jurisdiction: e.jurisdiction.clone(),
                            policy_url: e.policy_url.clone(),
                            status: EnterpriseStatus::Active,
                            admitted_at: Height(0),
                        },
                    )
                })
                .collect(),
            balances: b.balances.iter().map(|x| (x.account, x.amount)).collect(),
            referral: b.referral,
        }
    }

    /// The advocacy share's terms at genesis (`None`: none paid until
    /// governance sets them).
    pub fn referral_terms(&self) -> Option<&ReferralTerms> {
        self.body.referral.as_ref()
    }

    pub fn chain_id(&self) -> &str {
        &self.body.chain_id
    }

    /// Block time of genesis; the first block's time must be later.
    pub fn genesis_time(&self) -> Timestamp {
        self.body.genesis_time
    }

    pub fn mint_authority(&self) -> AccountId {
        self.body.mint_authority
    }

    pub fn params(&self) -> &Params {
        &self.body.params
    }

    pub fn operators(&self) -> &[Operator] {
        &self.body.operators
    }

    pub fn validators(&self) -> &[GenesisValidator] {
        &self.body.validators
    }

    pub fn enterprises(&self) -> &[GenesisEnterprise] {
        &self.body.enterprises
    }

    pub fn balances(&self) -> &[GenesisBalance] {
        &self.body.balances
    }

    /// Sum of the genesis balances (fits by validation).
    pub fn total_supply(&self) -> Amount {
        Amount(
            self.body
                .balances
                .iter()
                .fold(0u64, |t, b| t.saturating_add(b.amount.0)),
        )
    }

    /// Sum of the validators' power (fits by validation).
    pub fn total_power(&self) -> u64 {
        self.body
            .validators
            .iter()
            .fold(0u64, |t, v| t.saturating_add(v.power))
    }
}
