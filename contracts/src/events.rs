//! Events emitted by accepted transactions and by block finalisation. Stored
//! with the block and streamed to subscribers; receipts and exports read them.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::identity::IdentityKind;
use crate::ids::{
    AccountId, Amount, ConsentId, LinkCommitment, PolicyId, ProposalId, RequestId, UseId,
};
use crate::terms::{Category, Purpose, Tag};
use crate::tx::UseBasis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    ConsumerRegistered {
        consumer: AccountId,
    },
    TagsSet {
        consumer: AccountId,
        tags: Vec<Tag>,
    },
    ConsentGranted {
        consent: ConsentId,
        consumer: AccountId,
        enterprise: AccountId,
    },
    ConsentRevoked {
        consent: ConsentId,
        consumer: AccountId,
        enterprise: AccountId,
    },
    ConsentPaused {
        consent: ConsentId,
        consumer: AccountId,
        enterprise: AccountId,
    },
    ConsentResumed {
        consent: ConsentId,
        consumer: AccountId,
        enterprise: AccountId,
    },
    PolicySet {
        policy: PolicyId,
        consumer: AccountId,
    },
    PolicyCleared {
        policy: PolicyId,
        consumer: AccountId,
    },
    RequestPosted {
        request: RequestId,
        enterprise: AccountId,
    },
    UseSettled {
        use_id: UseId,
        index: u32,
        consumer: AccountId,
        enterprise: AccountId,
        basis: UseBasis,
        category: Category,
        purpose: Purpose,
        units: u32,
        /// What the enterprise paid in all.
        paid: Amount,
        to_consumer: Amount,
        to_operators: Amount,
    },
    UseRejected {
        use_id: UseId,
        index: u32,
        consumer: AccountId,
        enterprise: AccountId,
        code: ErrorCode,
        reason: String,
    },
    Rated {
        enterprise: AccountId,
        consent: ConsentId,
        consumer: AccountId,
        score: u8,
    },
    Transferred {
        from: AccountId,
        to: AccountId,
        amount: Amount,
    },
    Minted {
        to: AccountId,
        amount: Amount,
    },
    ProposalCreated {
        proposal: ProposalId,
        proposer: AccountId,
    },
    Voted {
        proposal: ProposalId,
        operator: AccountId,
        yes: bool,
    },
    ProposalPassed {
        proposal: ProposalId,
    },
    ProposalRejected {
        proposal: ProposalId,
    },
    EnterpriseAdmitted {
        enterprise: AccountId,
    },
    EnterpriseSuspended {
        enterprise: AccountId,
    },
    EnterpriseReinstated {
        enterprise: AccountId,
    },
    ValidatorAdded {
        consensus_key: AccountId,
    },
    ValidatorRemoved {
        consensus_key: AccountId,
    },
    ParamsChanged,
    /// End of block: the operators' pool was paid out in equal shares.
    OperatorRewards {
        each: Amount,
        operators: u32,
    },
    /// An enterprise published its contact details as a data controller.
    ContactSet {
        enterprise: AccountId,
    },
    /// A consumer bound an identifier for one enterprise (only its commitment).
    IdentityLinked {
        consumer: AccountId,
        enterprise: AccountId,
        kind: IdentityKind,
        commitment: LinkCommitment,
    },
    /// A consumer removed a link; it is gone from the next block's state on.
    IdentityUnlinked {
        consumer: AccountId,
        enterprise: AccountId,
        kind: IdentityKind,
    },
    /// A consumer named who referred them (once; never changed).
    ReferrerNamed {
        consumer: AccountId,
        referrer: AccountId,
    },
    /// The advocacy share of one settled use, paid to the referred
    /// consumer's referrer out of the operators' share: the use's `paid` =
    /// `to_consumer` + `to_operators` + this `amount`. Follows the use's
    /// `UseSettled` in the RecordUse's events.
    ReferralPaid {
        use_id: UseId,
        index: u32,
        referrer: AccountId,
        consumer: AccountId,
        amount: Amount,
    },
}
