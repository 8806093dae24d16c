//! Events emitted by accepted transactions and by block finalisation. Stored
//! with the block and streamed to subscribers; receipts and exports read them.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::identity::IdentityKind;
use crate::ids::{
    AccountId, Amount, ConsentId, LinkCommitment, PolicyId, ProposalId, RequestId, Timestamp, UseId,
};
use crate::terms::{Category, Purpose};
use crate::tx::UseBasis;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    ConsumerRegistered {
        consumer: AccountId,
    },
    /// A consumer declared a new set of interests: the set is commitments
    /// only (in the tx and the consumer record), so the event names none.
    TagsSet {
        consumer: AccountId,
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
    /// The account's key signed a move to a new key; the old one is retired.
    KeyRotated {
        account: AccountId,
        old_key: AccountId,
        new_key: AccountId,
    },
    /// The account named its guardians (none: social recovery is off).
    GuardiansSet {
        account: AccountId,
        guardians: Vec<AccountId>,
        threshold: u8,
        delay_ms: u64,
    },
    /// A guardian supports moving the account to `new_key`.
    RecoverySupported {
        account: AccountId,
        guardian: AccountId,
        new_key: AccountId,
        supporters: u8,
        threshold: u8,
    },
    /// Enough guardians support it: the new key may claim the account from
    /// `effective_at` (block time) unless the current key cancels first.
    RecoveryArmed {
        account: AccountId,
        new_key: AccountId,
        effective_at: Timestamp,
    },
    /// The account's key cancelled a recovery.
    RecoveryCancelled {
        account: AccountId,
        new_key: AccountId,
    },
    /// The recovery took effect: `new_key` signs for the account.
    KeyRecovered {
        account: AccountId,
        old_key: AccountId,
        new_key: AccountId,
    },
}
