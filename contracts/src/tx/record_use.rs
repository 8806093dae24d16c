//! RecordUse: an enterprise records a batch of data uses under one signature.
//!
//! Each use is checked on its own against a live consent or policy of that
//! consumer at this block and settled on its own: price × units leaves the
//! enterprise, the operators' share goes to the operators' pool (less the
//! advocacy share of the consumer's referrer, `crate::referral`), the rest
//! (including any rounding remainder) to the consumer. A rejected use is
//! recorded with its reason and does not undo the others.

use serde::{Deserialize, Serialize};

use super::context::*;
use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, Amount, ConsentId, Hash32, PolicyId, UseId, UseIds};
use crate::state::{
    ConsentState, Enterprise, Overlay, PolicyTarget, ReferralTerms, StateExt, StateRead,
};
use crate::terms::{Category, Level, Purpose};

/// Hard cap on uses per RecordUse (the genesis parameter may set a lower one).
pub const MAX_USES_HARD: usize = 65_536;

/// What authorises a use.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum UseBasis {
    Consent(ConsentId),
    Policy(PolicyId),
}

/// One use of one consumer's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Use {
    pub consumer: AccountId,
    pub basis: UseBasis,
    pub category: Category,
    pub purpose: Purpose,
    pub level: Level,
    pub units: u32,
    /// Hash of the enterprise's own evidence of the use (never the data itself).
    pub evidence_hash: Hash32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct RecordUse {
    pub uses: Vec<Use>,
}

impl Handler for RecordUse {
    type Checked = Enterprise;

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.uses.is_empty() {
            return reject(ErrorCode::EmptyList, "record at least one use");
        }
        if self.uses.len() > MAX_USES_HARD {
            return reject(
                ErrorCode::TooManyItems,
                format!(
                    "{} uses in one tx; at most {MAX_USES_HARD}",
                    self.uses.len()
                ),
            );
        }
        for (i, u) in self.uses.iter().enumerate() {
            if u.units == 0 {
                return reject(
                    ErrorCode::InvalidField,
                    format!("use #{i}: units must be at least 1"),
                );
            }
            if !u.category.is_known() {
                return reject(
                    ErrorCode::UnknownCategory,
                    format!(
                        "use #{i}: `{}` is not a DPV personal-data category",
                        u.category
                    ),
                );
            }
            if !u.purpose.is_known() {
                return reject(
                    ErrorCode::UnknownPurpose,
                    format!("use #{i}: `{}` is not a DPV purpose", u.purpose),
                );
            }
        }
        Ok(())
    }

    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Enterprise> {
        let ent = require_active_sender_enterprise(state, &cx.sender)?;
        let max = cx.params.max_uses_per_record as usize;
        if self.uses.len() > max {
            return rejected(
                ErrorCode::TooManyItems,
                format!(
                    "{} uses in one tx; this chain allows {max}",
                    self.uses.len()
                ),
            );
        }
        Ok(ent)
    }

    fn apply(
        &self,
        cx: &TxContext<'_>,
        ent: Enterprise,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>> {
        // The payer's balance and reputation and the operators' pool change
        // with every use: kept here and written once. A use writes nothing
        // until all its checks passed, so a rejected use leaves no trace but
        // its event and the reputation count.
        let mut payer = Payer {
            account: out.account(&cx.sender)?,
            reputation: out.reputation(&cx.sender)?,
            pool: out.operator_pool()?,
            settled_any: false,
            referral_terms: out.referral_terms()?,
        };
        let mut events = Vec::with_capacity(self.uses.len());
        let use_ids = UseIds::of(&cx.tx_id);
        for (i, u) in self.uses.iter().enumerate() {
            let index = i as u32;
            let use_id = use_ids.id(index);
            match settle(cx, &ent, u, use_id, index, out, &mut payer) {
                Ok((ev, referral)) => {
                    events.push(ev);
                    events.extend(referral);
                }
                Err(ExecError::Rejected(e)) => {
                    let rep = &mut payer.reputation;
                    rep.uses_rejected = rep.uses_rejected.saturating_add(1);
                    if e.code == ErrorCode::ConsentRevoked {
                        rep.uses_after_revocation = rep.uses_after_revocation.saturating_add(1);
                    }
                    events.push(Event::UseRejected {
                        use_id,
                        index,
                        consumer: u.consumer,
                        enterprise: cx.sender,
                        code: e.code,
                        reason: e.reason,
                    });
                }
                Err(store) => return Err(store),
            }
        }
        if payer.settled_any {
            out.put_account(&cx.sender, &payer.account);
            out.put_operator_pool(payer.pool);
        }
        if !self.uses.is_empty() {
            out.put_reputation(&cx.sender, &payer.reputation);
        }
        Ok(events)
    }
}

/// What a RecordUse changes for its sender across its uses.
struct Payer {
    account: crate::state::Account,
    reputation: crate::state::Reputation,
    pool: Amount,
    settled_any: bool,
    /// The advocacy share's terms in force at this block.
    referral_terms: Option<ReferralTerms>,
}

fn not_covered<T>(what: String) -> ExecResult<T> {
    rejected(ErrorCode::NotCovered, what)
}

/// Checks one use against its basis and settles it: its `UseSettled` event
/// and, when the consumer's referrer earns a share of it, `ReferralPaid`.
fn settle(
    cx: &TxContext<'_>,
    ent: &Enterprise,
    u: &Use,
    use_id: UseId,
    index: u32,
    out: &mut Overlay<'_>,
    payer: &mut Payer,
) -> ExecResult<(Event, Option<Event>)> {
    let mut consumer = require_consumer(&*out, &u.consumer)?;
    let mut consent_after = None;
    let price = match u.basis {
        UseBasis::Consent(id) => {
            let Some(mut c) = out.consent(&id)? else {
                return rejected(
                    ErrorCode::UnknownConsent,
                    format!("no consent has the id {id}"),
                );
            };
            if c.consumer != u.consumer || c.enterprise != cx.sender {
                return rejected(
                    ErrorCode::NotYourConsent,
                    format!(
                        "consent {id} is not {}'s consent to this enterprise",
                        u.consumer
                    ),
                );
            }
            match c.state {
                ConsentState::Revoked { height, .. } => {
                    return rejected(
                        ErrorCode::ConsentRevoked,
                        format!("consent {id} was revoked at height {height}"),
                    )
                }
                ConsentState::Paused { height, .. } => {
                    return rejected(
                        ErrorCode::ConsentPaused,
                        format!("consent {id} is paused since height {height}"),
                    )
                }
                ConsentState::Active => {}
            }
            if let Some(t) = c.expires_at {
                if t <= cx.block.time {
                    return rejected(
                        ErrorCode::ConsentExpired,
                        format!("consent {id} expired at {} ms", t.0),
                    );
                }
            }
            if !c.categories.contains(&u.category) {
                return not_covered(format!(
                    "consent {id} does not cover category {}",
                    u.category
                ));
            }
            if !c.purposes.contains(&u.purpose) {
                return not_covered(format!("consent {id} does not cover purpose {}", u.purpose));
            }
            if u.level > c.level {
                return not_covered(format!(
                    "consent {id} allows level {} at most, not {}",
                    c.level, u.level
                ));
            }
            let used = c.used.checked_add(u.units as u64);
            match (used, c.max_uses) {
                (Some(n), Some(max)) if n > max => {
                    return rejected(
                        ErrorCode::ConsentExhausted,
                        format!("consent {id} allows {max} uses; {} are used", c.used),
                    )
                }
                (None, _) => return rejected(ErrorCode::Overflow, "use count overflows"),
                (Some(n), _) => c.used = n,
            }
            let price = c.price_per_use;
            consent_after = Some(c);
            price
        }
        UseBasis::Policy(id) => {
            let Some(p) = out.policy(&id)? else {
                return rejected(
                    ErrorCode::UnknownPolicy,
                    format!("no policy has the id {id} (it may have been cleared)"),
                );
            };
            if p.consumer != u.consumer {
                return rejected(
                    ErrorCode::NotYourConsent,
                    format!("policy {id} is not {}'s", u.consumer),
                );
            }
            let admits = match p.target {
                PolicyTarget::Sector(s) => s == ent.sector,
                PolicyTarget::Enterprise(e) => e == cx.sender,
            };
            if !admits {
                return not_covered(format!("policy {id} does not admit this enterprise"));
            }
            if !p.categories.contains(&u.category) {
                return not_covered(format!(
                    "policy {id} does not cover category {}",
                    u.category
                ));
            }
            if !p.purposes.contains(&u.purpose) {
                return not_covered(format!("policy {id} does not cover purpose {}", u.purpose));
            }
            if u.level > p.level {
                return not_covered(format!(
                    "policy {id} allows level {} at most, not {}",
                    p.level, u.level
                ));
            }
            p.min_price
        }
    };

    let Some(paid) = price.checked_mul(u.units as u64) else {
        return rejected(ErrorCode::Overflow, "price × units overflows");
    };
    let operators_share = cx.params.operator_share_bps.share_of(paid);
    let to_consumer = Amount(paid.0 - operators_share.0);
    // The referrer's share comes out of the operators' (decision 29), so
    // `to_consumer` is what it would be with no referrer.
    let mut referral = out.referral(&u.consumer)?;
    let to_referrer = match &referral {
        Some(r) => crate::referral::payout(
            payer.referral_terms.as_ref(),
            r,
            paid,
            operators_share,
            cx.block.time,
        ),
        None => Amount::ZERO,
    };
    let to_operators = Amount(operators_share.0 - to_referrer.0);

    let Some(balance) = payer.account.balance.checked_sub(paid) else {
        return rejected(
            ErrorCode::InsufficientFunds,
            format!(
                "enterprise holds {} but this use costs {paid}",
                payer.account.balance
            ),
        );
    };
    let mut dst = out.account(&u.consumer)?;
    let Some(dst_balance) = dst.balance.checked_add(to_consumer) else {
        return rejected(
            ErrorCode::Overflow,
            format!("the balance of {} would overflow", u.consumer),
        );
    };
    let Some(pool) = payer.pool.checked_add(to_operators) else {
        return rejected(ErrorCode::Overflow, "operator pool overflows");
    };
    let mut referrer_credit = None;
    if let Some(r) = referral.as_mut().filter(|_| to_referrer.0 > 0) {
        let mut acct = out.account(&r.referrer)?;
        let Some(b) = acct.balance.checked_add(to_referrer) else {
            return rejected(
                ErrorCode::Overflow,
                format!("the balance of referrer {} would overflow", r.referrer),
            );
        };
        acct.balance = b;
        r.paid = r.paid.checked_add(to_referrer).unwrap_or(Amount(u64::MAX));
        referrer_credit = Some(acct);
    }

    // Every check passed: settle.
    if let Some(c) = &consent_after {
        out.put_consent(c);
    }
    payer.account.balance = balance;
    payer.pool = pool;
    payer.settled_any = true;
    dst.balance = dst_balance;
    out.put_account(&u.consumer, &dst);
    consumer.earned = consumer
        .earned
        .checked_add(to_consumer)
        .unwrap_or(Amount(u64::MAX));
    consumer.uses_settled = consumer.uses_settled.saturating_add(u.units as u64);
    out.put_consumer(&u.consumer, &consumer);
    let mut referral_event = None;
    if let (Some(r), Some(acct)) = (&referral, referrer_credit) {
        out.put_account(&r.referrer, &acct);
        out.put_referral(&u.consumer, r);
        let mut totals = out.referrer_totals(&r.referrer)?;
        totals.earned = totals
            .earned
            .checked_add(to_referrer)
            .unwrap_or(Amount(u64::MAX));
        out.put_referrer_totals(&r.referrer, &totals);
        referral_event = Some(Event::ReferralPaid {
            use_id,
            index,
            referrer: r.referrer,
            consumer: u.consumer,
            amount: to_referrer,
        });
    }
    let rep = &mut payer.reputation;
    rep.uses_settled = rep.uses_settled.saturating_add(1);
    rep.points_paid = rep
        .points_paid
        .checked_add(paid)
        .unwrap_or(Amount(u64::MAX));

    let settled = Event::UseSettled {
        use_id,
        index,
        consumer: u.consumer,
        enterprise: cx.sender,
        basis: u.basis,
        category: u.category.clone(),
        purpose: u.purpose.clone(),
        units: u.units,
        paid,
        to_consumer,
        to_operators,
    };
    Ok((settled, referral_event))
}
