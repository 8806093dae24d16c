//! What every handler shares: the execution context, the handler shape and
//! the checks several kinds of transaction make.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{reject, ErrorCode, TxError};
use crate::events::Event;
use crate::ids::{AccountId, Amount, Height, Timestamp, TxId};
use crate::state::{
    Consumer, Enterprise, EnterpriseStatus, Overlay, Params, StateExt, StateRead, StoreError,
};
use crate::terms::{Category, Purpose, Tag};

/// Most tags a consumer may declare (as commitments), or a request may target.
pub const MAX_TAGS: usize = 16;
/// Most categories or purposes in one consent, policy or request.
pub const MAX_TERMS: usize = 32;
/// Longest free text (names, jurisdictions, URLs, addresses) in bytes.
pub const MAX_TEXT: usize = 256;

/// The block a transaction executes in. Time is the header's, never a clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct BlockContext {
    pub chain_id: String,
    pub height: Height,
    pub time: Timestamp,
    pub proposer: AccountId,
}

/// The context of one transaction.
#[derive(Debug)]
pub struct TxContext<'a> {
    pub block: &'a BlockContext,
    pub tx_id: TxId,
    /// The account the tx acts for: the signing key's own account, or the
    /// account a rotated-in key signs for (`state::KeyRole`).
    pub sender: AccountId,
    /// The key that signed the tx (the envelope's `sender`).
    pub signer: AccountId,
    pub params: &'a Params,
}

/// A handler fails by rejecting the tx (a user's problem, recorded as the tx's
/// result) or by a store failure (the node's problem: block execution stops).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Rejected(#[from] TxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) type ExecResult<T> = Result<T, ExecError>;

pub(crate) fn rejected<T>(code: ErrorCode, reason: impl Into<String>) -> ExecResult<T> {
    Err(ExecError::Rejected(TxError::new(code, reason)))
}

/// One transaction kind: stateless check, stateful check, execution.
pub(crate) trait Handler {
    /// What the stateful check loaded and execution needs.
    type Checked;

    /// Checks that need no state (also run by the CLI and the mempool).
    fn check_stateless(&self) -> Result<(), TxError>;

    /// Checks against the state at this point of the block.
    fn check(&self, cx: &TxContext<'_>, state: &dyn StateRead) -> ExecResult<Self::Checked>;

    /// Writes the effects into `out` (dropped by the caller if this fails).
    fn apply(
        &self,
        cx: &TxContext<'_>,
        checked: Self::Checked,
        out: &mut Overlay<'_>,
    ) -> ExecResult<Vec<Event>>;
}

/// Runs a handler: stateless check, stateful check, then execution.
pub(crate) fn run<H: Handler>(
    h: &H,
    cx: &TxContext<'_>,
    out: &mut Overlay<'_>,
) -> ExecResult<Vec<Event>> {
    h.check_stateless()?;
    let checked = h.check(cx, &*out)?;
    h.apply(cx, checked, out)
}

fn check_list<T: Ord + std::fmt::Display>(
    what: &str,
    items: &[T],
    max: usize,
) -> Result<(), TxError> {
    if items.is_empty() {
        return reject(ErrorCode::EmptyList, format!("give at least one {what}"));
    }
    if items.len() > max {
        return reject(
            ErrorCode::TooManyItems,
            format!("{} {what}s given; at most {max} are allowed", items.len()),
        );
    }
    let mut seen = BTreeSet::new();
    for i in items {
        if !seen.insert(i) {
            return reject(
                ErrorCode::DuplicateItem,
                format!("{what} `{i}` is listed twice"),
            );
        }
    }
    Ok(())
}

/// Categories and purposes of a consent, policy or request: non-empty, known DPV terms, no repeats.
pub(crate) fn check_terms(categories: &[Category], purposes: &[Purpose]) -> Result<(), TxError> {
    check_list("category", categories, MAX_TERMS)?;
    check_list("purpose", purposes, MAX_TERMS)?;
    if let Some(c) = categories.iter().find(|c| !c.is_known()) {
        return reject(
            ErrorCode::UnknownCategory,
            format!("`{c}` is not a DPV personal-data category"),
        );
    }
    if let Some(p) = purposes.iter().find(|p| !p.is_known()) {
        return reject(
            ErrorCode::UnknownPurpose,
            format!("`{p}` is not a DPV purpose"),
        );
    }
    Ok(())
}

/// A request's target tags: at most [`MAX_TAGS`], well-formed, no repeats (may be empty).
pub(crate) fn check_tags(tags: &[Tag]) -> Result<(), TxError> {
    if tags.len() > MAX_TAGS {
        return reject(
            ErrorCode::TooManyItems,
            format!("{} tags given; at most {MAX_TAGS} are allowed", tags.len()),
        );
    }
    for t in tags {
        t.check()
            .map_err(|why| TxError::new(ErrorCode::InvalidField, why))?;
    }
    if !tags.is_empty() {
        check_list(
            "tag",
            &tags.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
            MAX_TAGS,
        )?;
    }
    Ok(())
}

/// Free text: at most [`MAX_TEXT`] bytes, no control characters.
pub(crate) fn check_text(field: &str, s: &str, allow_empty: bool) -> Result<(), TxError> {
    if (!allow_empty && s.trim().is_empty())
        || s.len() > MAX_TEXT
        || s.chars().any(char::is_control)
    {
        return reject(
            ErrorCode::InvalidField,
            format!(
                "{field} must be {}at most {MAX_TEXT} bytes without control characters",
                if allow_empty { "" } else { "non-empty, " }
            ),
        );
    }
    Ok(())
}

pub(crate) fn require_consumer(state: &dyn StateRead, id: &AccountId) -> ExecResult<Consumer> {
    match state.consumer(id)? {
        Some(c) => Ok(c),
        None => rejected(
            ErrorCode::NotConsumer,
            format!("{id} is not a registered consumer; send RegisterConsumer first"),
        ),
    }
}

/// The sender as an admitted, active enterprise.
pub(crate) fn require_active_sender_enterprise(
    state: &dyn StateRead,
    id: &AccountId,
) -> ExecResult<Enterprise> {
    match state.enterprise(id)? {
        None => rejected(
            ErrorCode::NotEnterprise,
            format!("{id} is not an admitted enterprise"),
        ),
        Some(e) if e.status == EnterpriseStatus::Suspended => rejected(
            ErrorCode::EnterpriseSuspended,
            format!("enterprise {} ({id}) is suspended", e.name),
        ),
        Some(e) => Ok(e),
    }
}

/// A named enterprise that must exist (it may be suspended).
pub(crate) fn require_enterprise(state: &dyn StateRead, id: &AccountId) -> ExecResult<Enterprise> {
    match state.enterprise(id)? {
        Some(e) => Ok(e),
        None => rejected(
            ErrorCode::UnknownEnterprise,
            format!("no admitted enterprise has the key {id}"),
        ),
    }
}

/// Refuses keys anyone could sign for (see [`crate::crypto::is_weak_key`]).
pub(crate) fn check_key(field: &str, key: &crate::ids::AccountId) -> Result<(), TxError> {
    if crate::crypto::is_weak_key(key) {
        return reject(
            ErrorCode::WeakKey,
            format!(
                "{field} {key} is a small-order key anyone could sign for; use a real ed25519 key"
            ),
        );
    }
    Ok(())
}

/// Moves points between accounts, refusing overdrafts.
pub(crate) fn move_points(
    state: &mut Overlay<'_>,
    from: &AccountId,
    to: &AccountId,
    amount: Amount,
) -> ExecResult<()> {
    let mut src = state.account(from)?;
    src.balance = match src.balance.checked_sub(amount) {
        Some(b) => b,
        None => {
            return rejected(
                ErrorCode::InsufficientFunds,
                format!("{from} holds {} but {} is needed", src.balance, amount),
            )
        }
    };
    state.put_account(from, &src);
    credit(state, to, amount)
}

pub(crate) fn credit(state: &mut Overlay<'_>, to: &AccountId, amount: Amount) -> ExecResult<()> {
    let mut dst = state.account(to)?;
    dst.balance = match dst.balance.checked_add(amount) {
        Some(b) => b,
        None => {
            return rejected(
                ErrorCode::Overflow,
                format!("the balance of {to} would overflow"),
            )
        }
    };
    state.put_account(to, &dst);
    Ok(())
}

/// Whether a key already has a role other than consumer.
pub(crate) fn has_other_role(
    state: &dyn StateRead,
    id: &AccountId,
) -> Result<Option<&'static str>, StoreError> {
    if state.enterprise(id)?.is_some() {
        return Ok(Some("an enterprise"));
    }
    if state.is_operator(id)? {
        return Ok(Some("an operator"));
    }
    if &state.mint_authority()? == id {
        return Ok(Some("the mint authority"));
    }
    Ok(None)
}

/// A key that may take over `account`: a real key, never used before (no
/// record, nonce, balance or role), and not the account's own id.
pub(crate) fn require_fresh_key(
    state: &dyn StateRead,
    account: &AccountId,
    key: &AccountId,
) -> ExecResult<()> {
    use crate::state::ControlExt;
    if key == account || !state.is_fresh_key(key)? {
        return rejected(
            ErrorCode::KeyInUse,
            format!(
                "key {key} has been used already (it is, or signs for, an account, or was retired); make a new key with `assent keys new NAME`"
            ),
        );
    }
    Ok(())
}
