//! Governance actions of the operators, shared by Propose and Vote: what an
//! action may be, when it is valid, and what it does once > 2/3 of the
//! operators voted yes.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, BasisPoints};
use crate::state::{
    Enterprise, EnterpriseStatus, Overlay, Params, ReferralTerms, StateExt, StateRead, Validator,
    MAX_TOTAL_VOTING_POWER,
};
use crate::terms::Sector;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum GovAction {
    AdmitEnterprise {
        account: AccountId,
        name: String,
        sector: Sector,
        jurisdiction: String,
        policy_url: String,
    },
    SuspendEnterprise {
        account: AccountId,
    },
    ReinstateEnterprise {
        account: AccountId,
    },
    AddValidator {
        validator: Validator,
    },
    RemoveValidator {
        consensus_key: AccountId,
    },
    SetParams {
        params: Params,
    },
    /// Sets the advocacy share's terms (decision 29). A new action rather
    /// than new `Params` fields, so SetParams' pinned encoding and every
    /// existing genesis's state root stay as they were.
    SetReferralTerms {
        terms: ReferralTerms,
    },
}

/// Checks a parameter set on its own.
pub fn check_params(p: &Params) -> Result<(), String> {
    if p.operator_share_bps.0 > BasisPoints::MAX {
        return Err(format!(
            "operator_share_bps is {}; at most 10000 (100 %)",
            p.operator_share_bps.0
        ));
    }
    if p.max_block_txs == 0
        || p.max_block_bytes == 0
        || p.max_tx_bytes == 0
        || p.max_uses_per_record == 0
    {
        return Err("block and tx limits must be positive".into());
    }
    if p.max_tx_bytes > p.max_block_bytes {
        return Err(format!(
            "max_tx_bytes ({}) exceeds max_block_bytes ({})",
            p.max_tx_bytes, p.max_block_bytes
        ));
    }
    if p.max_block_bytes as usize > crate::codec::MAX_DECODE_BYTES / 2 {
        return Err(format!(
            "max_block_bytes must be at most {}",
            crate::codec::MAX_DECODE_BYTES / 2
        ));
    }
    if p.proposal_ttl_ms == 0 {
        return Err("proposal_ttl_ms must be positive".into());
    }
    Ok(())
}

impl GovAction {
    pub fn check_stateless(&self) -> Result<(), TxError> {
        let invalid = |why: String| TxError::new(ErrorCode::InvalidField, why);
        match self {
            GovAction::AdmitEnterprise {
                account,
                name,
                jurisdiction,
                policy_url,
                ..
            } => {
                check_key("enterprise key", account)?;
                check_text("name", name, false)?;
                check_text("jurisdiction", jurisdiction, true)?;
                check_text("policy_url", policy_url, true)
            }
            GovAction::AddValidator { validator } => {
                check_key("consensus key", &validator.consensus_key)?;
                check_text("validator name", &validator.name, false)?;
                check_text("p2p_address", &validator.p2p_address, true)?;
                if validator.power == 0 {
                    return reject(ErrorCode::InvalidField, "validator power must be positive");
                }
                if validator.power > MAX_TOTAL_VOTING_POWER {
                    return reject(
                        ErrorCode::InvalidField,
                        format!("validator power must be at most {MAX_TOTAL_VOTING_POWER}"),
                    );
                }
                Ok(())
            }
            GovAction::SetParams { params } => check_params(params).map_err(invalid),
            GovAction::SetReferralTerms { terms } => {
                crate::referral::check_terms(terms).map_err(invalid)
            }
            GovAction::SuspendEnterprise { .. }
            | GovAction::ReinstateEnterprise { .. }
            | GovAction::RemoveValidator { .. } => Ok(()),
        }
    }

    /// Whether the action can apply to the state as it is now.
    pub(crate) fn check(&self, state: &dyn StateRead) -> ExecResult<()> {
        let invalid = |why: String| rejected(ErrorCode::InvalidAction, why);
        match self {
            GovAction::AdmitEnterprise { account, .. } => {
                if state.enterprise(account)?.is_some() {
                    return invalid(format!("{account} is already an enterprise"));
                }
                if state.consumer(account)?.is_some() {
                    return invalid(format!(
                        "{account} is a consumer; an enterprise needs its own key"
                    ));
                }
                Ok(())
            }
            GovAction::SuspendEnterprise { account } => match state.enterprise(account)? {
                Some(e) if e.status == EnterpriseStatus::Active => Ok(()),
                Some(_) => invalid(format!("{account} is already suspended")),
                None => invalid(format!("{account} is not an enterprise")),
            },
            GovAction::ReinstateEnterprise { account } => match state.enterprise(account)? {
                Some(e) if e.status == EnterpriseStatus::Suspended => Ok(()),
                Some(_) => invalid(format!("{account} is not suspended")),
                None => invalid(format!("{account} is not an enterprise")),
            },
            GovAction::AddValidator { validator } => {
                let vals = state.validators()?;
                let total = vals
                    .iter()
                    .try_fold(validator.power, |t, v| t.checked_add(v.power))
                    .filter(|t| *t <= MAX_TOTAL_VOTING_POWER);
                if total.is_none() {
                    return invalid(format!(
                        "with {} the validators' power would add up to more than {MAX_TOTAL_VOTING_POWER}, more than consensus can count; lower its power",
                        validator.consensus_key
                    ));
                }
                if vals
                    .iter()
                    .any(|v| v.consensus_key == validator.consensus_key)
                {
                    return invalid(format!(
                        "{} is already a validator",
                        validator.consensus_key
                    ));
                }
                let mut after = vals.clone();
                after.push(validator.clone());
                match keeps_fault_tolerance(&vals, &after) {
                    Err(why) => invalid(format!(
                        "adding {} with power {}: {why}; lower its power",
                        validator.consensus_key, validator.power
                    )),
                    Ok(()) => Ok(()),
                }
            }
            GovAction::RemoveValidator { consensus_key } => {
                let vals = state.validators()?;
                if !vals.iter().any(|v| &v.consensus_key == consensus_key) {
                    return invalid(format!("{consensus_key} is not a validator"));
                }
                if vals.len() == 1 {
                    return invalid("the last validator cannot be removed".into());
                }
                let after: Vec<_> = vals
                    .iter()
                    .filter(|v| &v.consensus_key != consensus_key)
                    .cloned()
                    .collect();
                match keeps_fault_tolerance(&vals, &after) {
                    Err(why) => invalid(format!(
                        "removing {consensus_key}: {why}; add its replacement first"
                    )),
                    Ok(()) => Ok(()),
                }
            }
            GovAction::SetParams { .. } | GovAction::SetReferralTerms { .. } => Ok(()),
        }
    }

    /// Carries the action out (after [`GovAction::check`] passed).
    pub(crate) fn enact(
        &self,
        cx: &TxContext<'_>,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        Ok(match self {
            GovAction::AdmitEnterprise {
                account,
                name,
                sector,
                jurisdiction,
                policy_url,
            } => {
                let e = Enterprise {
                    name: name.clone(),
                    sector: *sector,
                    jurisdiction: jurisdiction.clone(),
                    policy_url: policy_url.clone(),
                    status: EnterpriseStatus::Active,
                    admitted_at: cx.block.height,
                };
                out.put_enterprise(account, &e);
                vec![Event::EnterpriseAdmitted {
                    enterprise: *account,
                }]
            }
            GovAction::SuspendEnterprise { account }
            | GovAction::ReinstateEnterprise { account } => {
                let suspend = matches!(self, GovAction::SuspendEnterprise { .. });
                let Some(mut e) = out.enterprise(account)? else {
                    return rejected(
                        ErrorCode::InvalidAction,
                        format!("{account} is not an enterprise"),
                    );
                };
                e.status = if suspend {
                    EnterpriseStatus::Suspended
                } else {
                    EnterpriseStatus::Active
                };
                out.put_enterprise(account, &e);
                if suspend {
                    vec![Event::EnterpriseSuspended {
                        enterprise: *account,
                    }]
                } else {
                    vec![Event::EnterpriseReinstated {
                        enterprise: *account,
                    }]
                }
            }
            GovAction::AddValidator { validator } => {
                let mut vals = out.validators()?;
                vals.push(validator.clone());
                vals.sort_by_key(|v| v.consensus_key);
                out.put_validators(&vals);
                vec![Event::ValidatorAdded {
                    consensus_key: validator.consensus_key,
                }]
            }
            GovAction::RemoveValidator { consensus_key } => {
                let mut vals = out.validators()?;
                vals.retain(|v| &v.consensus_key != consensus_key);
                out.put_validators(&vals);
                vec![Event::ValidatorRemoved {
                    consensus_key: *consensus_key,
                }]
            }
            GovAction::SetParams { params } => {
                out.put_params(params);
                vec![Event::ParamsChanged]
            }
            GovAction::SetReferralTerms { terms } => {
                out.put_referral_terms(terms);
                vec![Event::ParamsChanged]
            }
        })
    }
}

/// The largest power and the total of a validator set.
fn largest_and_total(vals: &[Validator]) -> (u128, u128) {
    vals.iter().fold((0, 0), |(big, total), v| {
        (big.max(u128::from(v.power)), total + u128::from(v.power))
    })
}

/// A validator-set change may not take away the set's tolerance of one
/// faulty validator: if no validator holds a third of the power or more
/// now (one may fail, even maliciously, and the others still reach a
/// quorum of more than two thirds), none may after the change. Sets that
/// never had that tolerance (one to three validators) may change freely.
fn keeps_fault_tolerance(before: &[Validator], after: &[Validator]) -> Result<(), String> {
    let survives = |(big, total): (u128, u128)| big * 3 < total;
    let (big, total) = largest_and_total(after);
    if survives(largest_and_total(before)) && !survives((big, total)) {
        return Err(format!(
            "the {} validators after it would include one holding {big} of {total} voting power, a third or more, so one faulty validator could stop the chain (today the set survives one)",
            after.len()
        ));
    }
    Ok(())
}

/// The sender as an operator.
pub(crate) fn require_operator(state: &dyn StateRead, id: &AccountId) -> ExecResult<()> {
    if !state.is_operator(id)? {
        return rejected(
            ErrorCode::NotOperator,
            format!("{id} is not an operator of this chain"),
        );
    }
    Ok(())
}

/// Passing needs strictly more than 2/3 of the operators.
pub(crate) fn passes(yes: usize, operators: usize) -> bool {
    yes * 3 > operators * 2
}

/// Closes a proposal if the votes decide it: enacts it at > 2/3 yes (if the
/// action still applies), rejects it once passing has become impossible.
pub(crate) fn tally(
    cx: &TxContext<'_>,
    mut p: crate::state::Proposal,
    out: &mut Overlay<'_>,
) -> ExecResult<Vec<Event>> {
    use crate::state::ProposalStatus;
    let n = out.operators()?.len();
    let remaining = n.saturating_sub(p.yes.len() + p.no.len());
    let mut events = Vec::new();
    if passes(p.yes.len(), n) {
        // The action was valid when proposed; the state may have moved since.
        let action = &p.action;
        let still_valid = out.atomically(|o| {
            action.check(&*o)?;
            action.enact(cx, o)
        });
        match still_valid {
            Ok(ev) => {
                p.status = ProposalStatus::Passed {
                    height: cx.block.height,
                };
                events.push(Event::ProposalPassed { proposal: p.id });
                events.extend(ev);
            }
            Err(ExecError::Rejected(_)) => {
                p.status = ProposalStatus::Rejected {
                    height: cx.block.height,
                };
                events.push(Event::ProposalRejected { proposal: p.id });
            }
            Err(store) => return Err(store),
        }
    } else if !passes(p.yes.len() + remaining, n) {
        p.status = ProposalStatus::Rejected {
            height: cx.block.height,
        };
        events.push(Event::ProposalRejected { proposal: p.id });
    }
    out.put_proposal(&p);
    Ok(events)
}
