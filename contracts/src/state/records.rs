//! The records stored in ledger state.

use serde::{Deserialize, Serialize};

use crate::ids::{
    AccountId, Amount, BasisPoints, ConsentId, Height, LinkCommitment, PolicyId, ProposalId,
    RequestId, Timestamp,
};
use crate::tags::TagCommitments;
use crate::terms::{Category, Level, Purpose, Sector, Tag};
use crate::tx::GovAction;

/// Balance and replay counter of any account. Absent = zero balance, nonce 0.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct Account {
    /// The nonce the account's next transaction must carry.
    pub nonce: u64,
    pub balance: Amount,
}

/// A registered consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Consumer {
    /// Self-declared interests, as salted commitments only (decision 33).
    pub tags: TagCommitments,
    pub registered_at: Height,
    /// Points earned from settled uses of this consumer's data, all time.
    pub earned: Amount,
    /// Settled uses (units) of this consumer's data, all time.
    pub uses_settled: u64,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseStatus {
    Active,
    Suspended,
}

/// An enterprise admitted by the operators (or in genesis).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Enterprise {
    pub name: String,
    pub sector: Sector,
    /// Where it is established, e.g. `EU`, `US-CA` (shown in consent receipts).
    pub jurisdiction: String,
    /// Its privacy policy (shown in consent receipts).
    pub policy_url: String,
    pub status: EnterpriseStatus,
    pub admitted_at: Height,
}

/// How data subjects reach an enterprise as a data controller (`SetContact`);
/// absent until the enterprise sets it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct EnterpriseContact {
    pub email: String,
    /// May be empty.
    pub phone: String,
    /// Postal address as a legal entity, one line.
    pub address: String,
    /// Its privacy notice; empty = the enterprise's `policy_url`.
    pub notice_url: String,
    /// Language of the notice (BCP 47).
    pub notice_language: String,
    /// Height of the block that set it.
    pub set_at: Height,
}

/// An identity link of a consumer for one enterprise and kind (`LinkIdentity`).
/// The identifier is not here: only its salted commitment (`crate::identity`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct IdentityLink {
    pub commitment: LinkCommitment,
    /// Height of the block that made it.
    pub linked_at: Height,
}

/// An enterprise's reputation and track record.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct Reputation {
    pub ratings: u64,
    /// Sum of scores (1–5); average = score_sum / ratings.
    pub score_sum: u64,
    pub uses_settled: u64,
    pub uses_rejected: u64,
    pub points_paid: Amount,
    /// Uses it recorded under consents already revoked (refused, and among
    /// `uses_rejected`): how well it responds to revocations.
    pub uses_after_revocation: u64,
}

/// Where a consent stands.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Active,
    Paused { height: Height, time: Timestamp },
    Revoked { height: Height, time: Timestamp },
}

/// A consent granted by a consumer to one enterprise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Consent {
    pub id: ConsentId,
    pub consumer: AccountId,
    pub enterprise: AccountId,
    pub categories: Vec<Category>,
    pub purposes: Vec<Purpose>,
    pub level: Level,
    pub price_per_use: Amount,
    /// Most units of use it allows, all told; `None` = no limit.
    pub max_uses: Option<u64>,
    /// Units of use settled under it so far.
    pub used: u64,
    /// Block time from which it no longer covers uses.
    pub expires_at: Option<Timestamp>,
    pub request: Option<RequestId>,
    pub granted_height: Height,
    pub granted_time: Timestamp,
    pub state: ConsentState,
}

/// Who a standing policy admits.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum PolicyTarget {
    Sector(Sector),
    Enterprise(AccountId),
}

/// A consumer's standing permission for a group of enterprises.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Policy {
    pub id: PolicyId,
    pub consumer: AccountId,
    pub target: PolicyTarget,
    pub categories: Vec<Category>,
    pub purposes: Vec<Purpose>,
    pub level: Level,
    /// Price paid per unit of use under the policy.
    pub min_price: Amount,
    pub set_height: Height,
}

/// An enterprise's access request that consumers can answer with a grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Request {
    pub id: RequestId,
    pub enterprise: AccountId,
    pub categories: Vec<Category>,
    pub purposes: Vec<Purpose>,
    pub level: Level,
    pub price_per_use: Amount,
    pub target_tags: Vec<Tag>,
    pub posted_height: Height,
    pub expires_at: Timestamp,
    /// Grants made in answer to it.
    pub grants: u64,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Open,
    Passed { height: Height },
    Rejected { height: Height },
}

/// A governance proposal of the operators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Proposal {
    pub id: ProposalId,
    pub proposer: AccountId,
    pub action: GovAction,
    /// Operators who voted yes / no, sorted.
    pub yes: Vec<AccountId>,
    pub no: Vec<AccountId>,
    pub created_height: Height,
    pub expires_at: Timestamp,
    pub status: ProposalStatus,
}

/// Chain parameters: set in genesis, changed only by governance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Params {
    /// Share of each settled use that goes to the operators' pool.
    pub operator_share_bps: BasisPoints,
    pub max_block_txs: u32,
    pub max_block_bytes: u32,
    pub max_tx_bytes: u32,
    pub max_uses_per_record: u32,
    /// How long a proposal stays open, in milliseconds of block time.
    pub proposal_ttl_ms: u64,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            operator_share_bps: BasisPoints(1_000),
            max_block_txs: 20_000,
            max_block_bytes: 4 * 1024 * 1024,
            max_tx_bytes: 256 * 1024,
            max_uses_per_record: 4_096,
            proposal_ttl_ms: 7 * 24 * 3600 * 1000,
        }
    }
}

/// The published terms of the advocacy share (issue 16, item 2; decision 29):
/// set in genesis (`[referral]`) and changed only by governance
/// (`GovAction::SetReferralTerms`). Absent from the state = no referral is
/// paid (a consumer may still name a referrer).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct ReferralTerms {
    /// Share of each settled use's price paid to the referred consumer's
    /// referrer, taken out of the operators' share (never more than it).
    pub share_bps: BasisPoints,
    /// Most points one referral ever earns its referrer; 0 = no cap.
    pub max_points: Amount,
    /// How long after the referral its uses pay the referrer, in
    /// milliseconds of block time; 0 = no time limit.
    pub period_ms: u64,
}

impl Default for ReferralTerms {
    /// The devnet's and `assent genesis new`'s terms: 5 % of each use, at
    /// most 1,000 points per referral, for 180 days.
    fn default() -> ReferralTerms {
        ReferralTerms {
            share_bps: BasisPoints(500),
            max_points: Amount(1_000),
            period_ms: 180 * 24 * 3600 * 1000,
        }
    }
}

/// Who referred a consumer (`NameReferrer`): set once, never changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Referral {
    pub referrer: AccountId,
    /// Height and block time of the block that named the referrer.
    pub named_at: Height,
    pub named_time: Timestamp,
    /// Points this referral has paid its referrer so far.
    pub paid: Amount,
}

/// What a consumer earned as a referrer, all time.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct ReferrerTotals {
    /// Consumers who named this one as their referrer.
    pub referred: u64,
    /// Points paid to this consumer out of the operators' share of their
    /// referred consumers' settled uses.
    pub earned: Amount,
}

/// An operator: a known organisation that runs a validator and votes on governance.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
pub struct Operator {
    pub account: AccountId,
    pub name: String,
}

/// The largest total voting power of a validator set, in genesis and after
/// any governance change: the consensus engine computes `3 × total` in a
/// `u64`, so a larger total is a set no node can run (2^60, well below
/// `u64::MAX / 3`).
pub const MAX_TOTAL_VOTING_POWER: u64 = 1 << 60;

/// A consensus validator.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
pub struct Validator {
    pub name: String,
    /// The ed25519 key that signs votes and proposals.
    pub consensus_key: AccountId,
    pub power: u64,
    /// Where its p2p endpoint can be reached (a libp2p multiaddr).
    pub p2p_address: String,
}
