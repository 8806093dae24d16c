//! `assent tx build propose <action>`: the operators' governance actions.

use anyhow::{anyhow, Result};
use assent_cli::accounts::AccountRef;
use assent_cli::duration::parse_ms;
use assent_cli::keystore::Keystore;
use assent_contracts::state::{Params, Validator};
use assent_contracts::terms::Sector;
use assent_contracts::tx::{GovAction, Propose};
use assent_contracts::{BasisPoints, Payload};
use clap::{Args, Subcommand};

use super::build::{SignArgs, With};
use super::kinds::resolve;

/// The governance actions; `S` is how the proposal is signed (offline with
/// [`SignArgs`], or sent to a node).
#[derive(Debug, Subcommand)]
pub enum Action<S: Args = SignArgs> {
    /// Admit an enterprise (name, sector, key)
    AdmitEnterprise(With<Admit, S>),
    /// Suspend an enterprise: it can no longer record uses or receive grants
    SuspendEnterprise(With<EnterpriseRef, S>),
    /// Reinstate a suspended enterprise
    ReinstateEnterprise(With<EnterpriseRef, S>),
    /// Add a consensus validator
    AddValidator(With<AddValidator, S>),
    /// Remove a consensus validator
    RemoveValidator(With<RemoveValidator, S>),
    /// Replace the chain parameters (every parameter must be given)
    SetParams(With<SetParams, S>),
    /// Set the advocacy share's terms: what a consumer's referrer earns of their uses, out of the operators' share
    ReferralTerms(With<ReferralTerms, S>),
    /// Any action as JSON, e.g. {"suspend_enterprise":{"account":"assent1..."}}
    Json(With<JsonAction, S>),
}

#[derive(Debug, Args)]
pub struct Admit {
    /// The enterprise's account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub account: AccountRef,
    /// Its name
    #[arg(long)]
    pub name: String,
    /// Its sector: retail, finance, health, insurance, telecom, media, advertising, travel, education, technology, energy or public
    #[arg(long, value_name = "SECTOR")]
    pub sector: Sector,
    /// Its jurisdiction, e.g. EU
    #[arg(long, default_value = "")]
    pub jurisdiction: String,
    /// Where its privacy policy is published
    #[arg(long, value_name = "URL", default_value = "")]
    pub policy_url: String,
}

#[derive(Debug, Args)]
pub struct EnterpriseRef {
    /// The enterprise's account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub account: AccountRef,
}

#[derive(Debug, Args)]
pub struct AddValidator {
    /// The validator's name
    #[arg(long)]
    pub name: String,
    /// Its ed25519 consensus key, as an account (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub consensus_key: AccountRef,
    /// Its voting power
    #[arg(long, value_name = "N")]
    pub power: u64,
    /// Its p2p endpoint (a libp2p multiaddr)
    #[arg(long, value_name = "MULTIADDR", default_value = "")]
    pub p2p_address: String,
}

#[derive(Debug, Args)]
pub struct RemoveValidator {
    /// The validator's consensus key (assent1...) or key name
    #[arg(long, value_name = "ACCOUNT")]
    pub consensus_key: AccountRef,
}

#[derive(Debug, Args)]
pub struct SetParams {
    /// Operators' share of each settled use, in basis points (10000 = 100 %)
    #[arg(long, value_name = "BPS")]
    pub operator_share_bps: u16,
    /// Most txs in a block
    #[arg(long, value_name = "N")]
    pub max_block_txs: u32,
    /// Most bytes in a block
    #[arg(long, value_name = "BYTES")]
    pub max_block_bytes: u32,
    /// Most bytes in one tx
    #[arg(long, value_name = "BYTES")]
    pub max_tx_bytes: u32,
    /// Most uses in one record-use tx
    #[arg(long, value_name = "N")]
    pub max_uses_per_record: u32,
    /// How long a proposal stays open: 7d, 12h, ... or plain milliseconds
    #[arg(long, value_name = "DURATION", value_parser = parse_ms)]
    pub proposal_ttl: u64,
}

#[derive(Debug, Args)]
pub struct ReferralTerms {
    /// The referrer's share of each of the referred consumer's settled uses, in basis points (at most the operators' share is paid)
    #[arg(long, value_name = "BPS")]
    pub share_bps: u16,
    /// Most points one referral earns its referrer; 0 = no cap
    #[arg(long, value_name = "POINTS")]
    pub max_points: u64,
    /// How long after the referral its uses pay: 180d, 12h, ...; 0 = no limit (a cap or a period is required)
    #[arg(long, value_name = "DURATION", value_parser = parse_ms)]
    pub period: u64,
}

#[derive(Debug, Args)]
pub struct JsonAction {
    /// The action in its JSON form (as `tx decode` prints it)
    #[arg(long, value_name = "JSON")]
    pub action: String,
}

fn propose<S>(action: GovAction, sign: S) -> (Payload, S) {
    (Payload::Propose(Propose { action }), sign)
}

impl<S: Args> Action<S> {
    /// The Propose payload (accounts resolved in `ks`) and the signing flags.
    pub fn into_parts(self, ks: &Keystore) -> Result<(Payload, S)> {
        Ok(match self {
            Action::AdmitEnterprise(w) => propose(
                GovAction::AdmitEnterprise {
                    account: resolve(&w.args.account, "--account", ks)?,
                    name: w.args.name,
                    sector: w.args.sector,
                    jurisdiction: w.args.jurisdiction,
                    policy_url: w.args.policy_url,
                },
                w.sign,
            ),
            Action::SuspendEnterprise(w) => propose(
                GovAction::SuspendEnterprise {
                    account: resolve(&w.args.account, "--account", ks)?,
                },
                w.sign,
            ),
            Action::ReinstateEnterprise(w) => propose(
                GovAction::ReinstateEnterprise {
                    account: resolve(&w.args.account, "--account", ks)?,
                },
                w.sign,
            ),
            Action::AddValidator(w) => propose(
                GovAction::AddValidator {
                    validator: Validator {
                        name: w.args.name,
                        consensus_key: resolve(&w.args.consensus_key, "--consensus-key", ks)?,
                        power: w.args.power,
                        p2p_address: w.args.p2p_address,
                    },
                },
                w.sign,
            ),
            Action::RemoveValidator(w) => propose(
                GovAction::RemoveValidator {
                    consensus_key: resolve(&w.args.consensus_key, "--consensus-key", ks)?,
                },
                w.sign,
            ),
            Action::SetParams(w) => {
                let a = w.args;
                propose(
                    GovAction::SetParams {
                        params: Params {
                            operator_share_bps: BasisPoints(a.operator_share_bps),
                            max_block_txs: a.max_block_txs,
                            max_block_bytes: a.max_block_bytes,
                            max_tx_bytes: a.max_tx_bytes,
                            max_uses_per_record: a.max_uses_per_record,
                            proposal_ttl_ms: a.proposal_ttl,
                        },
                    },
                    w.sign,
                )
            }
            Action::ReferralTerms(w) => propose(
                GovAction::SetReferralTerms {
                    terms: assent_contracts::state::ReferralTerms {
                        share_bps: BasisPoints(w.args.share_bps),
                        max_points: assent_contracts::Amount(w.args.max_points),
                        period_ms: w.args.period,
                    },
                },
                w.sign,
            ),
            Action::Json(w) => {
                let action: GovAction = serde_json::from_str(&w.args.action)
                    .map_err(|e| anyhow!("--action is not a governance action: {e}"))?;
                propose(action, w.sign)
            }
        })
    }
}
