//! Rejections: a stable code (for programs) and a reason in words (for people).
//!
//! Codes never change meaning once released: the API, the CLI and stored
//! results carry them. New codes get new numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $num:literal, $text:literal; )*) => {
        /// Stable rejection codes of transactions and of individual uses.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable text code, e.g. `consent_revoked`.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text,)* }
            }

            /// The stable numeric code.
            pub fn number(self) -> u16 {
                match self { $(ErrorCode::$variant => $num,)* }
            }
        }
    };
}

error_codes! {
    /// The nonce is not the sender's next nonce (replayed, re-ordered or skipped).
    BadNonce = 1, "bad_nonce";
    /// A field's value is malformed or out of range.
    InvalidField = 2, "invalid_field";
    /// A list is longer than allowed.
    TooManyItems = 3, "too_many_items";
    /// A list that must not be empty is empty.
    EmptyList = 4, "empty_list";
    /// A list holds the same item twice.
    DuplicateItem = 5, "duplicate_item";
    /// A purpose is not a DPV purpose.
    UnknownPurpose = 6, "unknown_purpose";
    /// A category is not a DPV personal-data category.
    UnknownCategory = 7, "unknown_category";
    /// An amount must be positive.
    ZeroAmount = 8, "zero_amount";
    /// Arithmetic would overflow.
    Overflow = 9, "overflow";
    /// The encoded transaction is larger than the chain allows.
    TxTooLarge = 10, "tx_too_large";
    /// The key is a small-order point anyone could sign for; use a real key.
    WeakKey = 11, "weak_key";
    /// The sender is not a registered consumer.
    NotConsumer = 20, "not_consumer";
    /// The consumer is already registered.
    AlreadyRegistered = 21, "already_registered";
    /// The key already has another role (enterprise, operator, mint authority).
    RoleConflict = 22, "role_conflict";
    /// The sender is not an admitted enterprise.
    NotEnterprise = 23, "not_enterprise";
    /// The named enterprise is not admitted.
    UnknownEnterprise = 24, "unknown_enterprise";
    /// The enterprise is suspended by the operators.
    EnterpriseSuspended = 25, "enterprise_suspended";
    /// The sender is not an operator.
    NotOperator = 26, "not_operator";
    /// The sender is not the mint authority.
    NotMintAuthority = 27, "not_mint_authority";
    /// No consent has this id.
    UnknownConsent = 40, "unknown_consent";
    /// The consent belongs to another consumer or enterprise.
    NotYourConsent = 41, "not_your_consent";
    /// The consent was revoked.
    ConsentRevoked = 42, "consent_revoked";
    /// The consent is paused.
    ConsentPaused = 43, "consent_paused";
    /// The consent has expired (block time).
    ConsentExpired = 44, "consent_expired";
    /// The consent's max_uses is used up.
    ConsentExhausted = 45, "consent_exhausted";
    /// The consent is not paused, so it cannot be resumed.
    ConsentNotPaused = 46, "consent_not_paused";
    /// The consent or policy does not cover this category, purpose or level.
    NotCovered = 47, "not_covered";
    /// No policy has this id.
    UnknownPolicy = 48, "unknown_policy";
    /// There is nothing to revoke.
    NothingToRevoke = 49, "nothing_to_revoke";
    /// The expiry time is not in the future.
    AlreadyExpired = 50, "already_expired";
    /// No request has this id.
    UnknownRequest = 60, "unknown_request";
    /// The request has expired.
    RequestExpired = 61, "request_expired";
    /// The grant's terms are outside what the request asked for.
    RequestMismatch = 62, "request_mismatch";
    /// The account cannot pay.
    InsufficientFunds = 70, "insufficient_funds";
    /// The consent already has a rating.
    AlreadyRated = 80, "already_rated";
    /// No proposal has this id.
    UnknownProposal = 90, "unknown_proposal";
    /// The proposal already passed or expired.
    ProposalClosed = 91, "proposal_closed";
    /// This operator already voted on the proposal.
    AlreadyVoted = 92, "already_voted";
    /// The governance action cannot apply to the current state.
    InvalidAction = 93, "invalid_action";
    /// The consumer already linked an identifier of this kind for this enterprise.
    AlreadyLinked = 100, "already_linked";
    /// The consumer has no link of this kind for this enterprise.
    NotLinked = 101, "not_linked";
    /// A consumer cannot name themself as their referrer.
    SelfReferral = 110, "self_referral";
    /// The consumer already named a referrer; it never changes.
    AlreadyReferred = 111, "already_referred";
    /// The named referrer is not a registered consumer.
    UnknownReferrer = 112, "unknown_referrer";
    /// The referrer's own chain of referrers leads back to the sender (or is
    /// longer than the ledger walks).
    ReferralCycle = 113, "referral_cycle";
    /// The tx is signed by a key that was rotated away from its account.
    KeyRotated = 120, "key_rotated";
    /// The new key already signs for, or is, an account.
    KeyInUse = 121, "key_in_use";
    /// The sender is not a guardian of the account.
    NotAGuardian = 122, "not_a_guardian";
    /// A recovery to another key is under way.
    RecoveryPending = 123, "recovery_pending";
    /// No recovery of the account is under way.
    NoRecovery = 124, "no_recovery";
    /// The recovery's delay has not passed, or too few guardians support it.
    RecoveryNotDue = 125, "recovery_not_due";
    /// This guardian already supports the recovery.
    AlreadySupported = 126, "already_supported";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected transaction or use: a stable code and what was wrong in words.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
    thiserror::Error,
)]
#[error("{code}: {reason}")]
pub struct TxError {
    pub code: ErrorCode,
    pub reason: String,
}

impl TxError {
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> TxError {
        TxError {
            code,
            reason: reason.into(),
        }
    }
}

/// Shorthand for building a rejection.
pub(crate) fn reject<T>(code: ErrorCode, reason: impl Into<String>) -> Result<T, TxError> {
    Err(TxError::new(code, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_are_unique() {
        let nums: BTreeSet<u16> = ErrorCode::ALL.iter().map(|c| c.number()).collect();
        let texts: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(nums.len(), ErrorCode::ALL.len());
        assert_eq!(texts.len(), ErrorCode::ALL.len());
        for c in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
    }
}
