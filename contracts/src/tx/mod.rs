//! Transactions: the envelope, one handler per kind, and dispatch.

mod cancel_recovery;
mod claim_recovery;
mod clear_policy;
mod context;
mod dispatch;
mod envelope;
mod governance;
mod grant_consent;
mod link_identity;
mod mint;
mod name_referrer;
mod pause_consent;
mod post_request;
mod propose;
mod rate;
mod record_use;
mod register_consumer;
mod resume_consent;
mod revoke_all;
mod revoke_consent;
mod rotate_key;
mod set_contact;
mod set_guardians;
mod set_policy;
mod set_tags;
mod support_recovery;
mod transfer;
mod unlink_identity;
mod vote;

pub use cancel_recovery::CancelRecovery;
pub use claim_recovery::ClaimRecovery;
pub use clear_policy::ClearPolicy;
pub use context::{BlockContext, ExecError, TxContext, MAX_TAGS, MAX_TERMS, MAX_TEXT};
pub use dispatch::{check_stateless, execute_tx, TxOutcome, TxResult};
pub use envelope::{
    verify_batch, verify_covered_batch, CoveredTx, Payload, RefusedTx, SignedTx, TxBody,
    TxDecodeError, VerifiedTx,
};
pub use governance::{check_params, GovAction};
pub use grant_consent::GrantConsent;
pub use link_identity::LinkIdentity;
pub use mint::Mint;
pub use name_referrer::NameReferrer;
pub use pause_consent::PauseConsent;
pub use post_request::{PostRequest, MAX_REQUEST_DURATION_MS};
pub use propose::Propose;
pub use rate::Rate;
pub use record_use::{RecordUse, Use, UseBasis, MAX_USES_HARD};
pub use register_consumer::RegisterConsumer;
pub use resume_consent::ResumeConsent;
pub use revoke_all::RevokeAll;
pub use revoke_consent::RevokeConsent;
pub use rotate_key::RotateKey;
pub use set_contact::SetContact;
pub use set_guardians::{SetGuardians, MAX_GUARDIANS, MAX_RECOVERY_DELAY_MS};
pub use set_policy::SetPolicy;
pub use set_tags::SetTags;
pub use support_recovery::SupportRecovery;
pub use transfer::Transfer;
pub use unlink_identity::UnlinkIdentity;
pub use vote::Vote;
