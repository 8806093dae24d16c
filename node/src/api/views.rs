//! The JSON shapes of the API (docs/node-interfaces.md, "HTTP API").
//!
//! Fields that hold ledger types serialize exactly as the ledger's own serde
//! does (accounts as `assent1…`, hashes as hex, amounts, heights and times as
//! integers), so a client may decode records with `assent-contracts` types.
//! The `#[schema(value_type = …)]` annotations describe those forms.

use assent_contracts::state::{
    Consent, ConsentState, Enterprise, EnterpriseContact, EnterpriseStatus, Policy, PolicyTarget,
    Reputation, Request,
};
use assent_contracts::terms::{Category, Level, Purpose, Sector, Tag};
use assent_contracts::{AccountId, Amount, ConsentId, Height, PolicyId, RequestId, Timestamp};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

mod txs;

pub use txs::{BatchAnswer, BatchItem, BatchSubmit, TxAccepted, TxState, TxStatus, TxSubmit};

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidatorView {
    pub name: String,
    #[schema(value_type = String)]
    pub consensus_key: AccountId,
    pub power: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeStatus {
    pub chain_id: String,
    /// Genesis hash, hex.
    pub genesis_hash: String,
    pub height: u64,
    /// Hash of the block at `height` (the genesis hash at height 0).
    pub block_hash: String,
    pub state_root: String,
    /// Block time of the tip, ms since the Unix epoch.
    pub time_ms: u64,
    pub validators: Vec<ValidatorView>,
    /// Every block up to this height is in the query indexes (tx status,
    /// uses, histories, receipts, exports); `null` when this node does not
    /// index (`[index] enabled = false`).
    pub indexed_height: Option<u64>,
    /// The state checkpoint in sled is at this height (the rest is in
    /// memory and in the block journal).
    pub persisted_height: u64,
    /// Connected tx-gossip peers.
    pub peers: usize,
    pub syncing: bool,
    /// Txs in this node's mempool.
    pub mempool: usize,
    pub moniker: String,
    /// This node's key: a validator's, or (a full node) a throwaway one.
    #[schema(value_type = String)]
    pub validator_key: AccountId,
    /// Whether this node runs consensus as a validator; false on a full
    /// node and on a validator that follows the chain until it is admitted.
    pub validating: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Consumer,
    Enterprise,
    Operator,
    MintAuthority,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(value_type = String)]
    pub account: AccountId,
    #[schema(value_type = u64)]
    pub balance: Amount,
    /// The nonce the next tx must carry, by committed state.
    pub nonce: u64,
    /// The nonce after this node's pending txs of the account.
    pub next_nonce: u64,
    pub roles: Vec<Role>,
    /// The key that signs for this account now: the account id itself
    /// unless the account rotated or recovered its key.
    #[schema(value_type = String)]
    pub current_key: AccountId,
    /// If this id is a key rotated in for another account: that account.
    #[schema(value_type = Option<String>)]
    pub signs_for: Option<AccountId>,
    /// If this id is a key retired from an account: that account (the key
    /// signs for nothing).
    #[schema(value_type = Option<String>)]
    pub retired_from: Option<AccountId>,
    /// `{"guardians", "threshold", "delay_ms", "set_at"}` if the account
    /// named guardians (social recovery).
    #[schema(value_type = Option<Object>)]
    pub guardians: Option<Value>,
    /// `{"new_key", "supporters", "started_at_ms", "armed_at_ms",
    /// "effective_at_ms"}` if a recovery is under way.
    #[schema(value_type = Option<Object>)]
    pub recovery: Option<Value>,
}

/// DPV consent status names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub enum DpvStatus {
    ConsentGiven,
    ConsentWithdrawn,
    ConsentExpired,
    ConsentPaused,
}

impl DpvStatus {
    /// Revoked > expired (block time of the tip) > paused > given.
    pub fn of(c: &Consent, now: Timestamp) -> DpvStatus {
        match c.state {
            ConsentState::Revoked { .. } => DpvStatus::ConsentWithdrawn,
            _ if c.expires_at.is_some_and(|t| t <= now) => DpvStatus::ConsentExpired,
            ConsentState::Paused { .. } => DpvStatus::ConsentPaused,
            ConsentState::Active => DpvStatus::ConsentGiven,
        }
    }
}

/// A consent record (ledger `Consent`) with its DPV status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    #[schema(value_type = String)]
    pub id: ConsentId,
    #[schema(value_type = String)]
    pub consumer: AccountId,
    #[schema(value_type = String)]
    pub enterprise: AccountId,
    /// DPV personal-data categories, e.g. `Purchase`.
    #[schema(value_type = Vec<String>)]
    pub categories: Vec<Category>,
    /// DPV purposes, e.g. `DirectMarketing`.
    #[schema(value_type = Vec<String>)]
    pub purposes: Vec<Purpose>,
    /// `aggregate`, `pseudonymous` or `identified`.
    #[schema(value_type = String)]
    pub level: Level,
    #[schema(value_type = u64)]
    pub price_per_use: Amount,
    pub max_uses: Option<u64>,
    pub used: u64,
    /// Block time (ms) from which it no longer covers uses.
    #[schema(value_type = Option<u64>)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>)]
    pub request: Option<RequestId>,
    #[schema(value_type = u64)]
    pub granted_height: Height,
    #[schema(value_type = u64)]
    pub granted_time: Timestamp,
    /// Ledger state: `"active"`, `{"paused": {"height","time"}}` or `{"revoked": {"height","time"}}`.
    #[schema(value_type = Object)]
    pub state: ConsentState,
    pub status: DpvStatus,
    /// The score (1–5) the consumer gave the enterprise under this consent
    /// (one rating per consent); null if not rated.
    pub rating: Option<u8>,
}

impl ConsentView {
    pub fn new(c: Consent, now: Timestamp, rating: Option<u8>) -> ConsentView {
        let status = DpvStatus::of(&c, now);
        ConsentView {
            id: c.id,
            consumer: c.consumer,
            enterprise: c.enterprise,
            categories: c.categories,
            purposes: c.purposes,
            level: c.level,
            price_per_use: c.price_per_use,
            max_uses: c.max_uses,
            used: c.used,
            expires_at: c.expires_at,
            request: c.request,
            granted_height: c.granted_height,
            granted_time: c.granted_time,
            state: c.state,
            status,
            rating,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentsView {
    pub consents: Vec<ConsentView>,
}

/// A standing policy of a consumer (ledger `Policy`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    #[schema(value_type = String)]
    pub id: PolicyId,
    #[schema(value_type = String)]
    pub consumer: AccountId,
    /// `{"sector": "retail"}` or `{"enterprise": "assent1…"}`.
    #[schema(value_type = Object)]
    pub target: PolicyTarget,
    #[schema(value_type = Vec<String>)]
    pub categories: Vec<Category>,
    #[schema(value_type = Vec<String>)]
    pub purposes: Vec<Purpose>,
    #[schema(value_type = String)]
    pub level: Level,
    /// Price per unit of use under the policy.
    #[schema(value_type = u64)]
    pub min_price: Amount,
    #[schema(value_type = u64)]
    pub set_height: Height,
}

impl From<Policy> for PolicyView {
    fn from(p: Policy) -> PolicyView {
        PolicyView {
            id: p.id,
            consumer: p.consumer,
            target: p.target,
            categories: p.categories,
            purposes: p.purposes,
            level: p.level,
            min_price: p.min_price,
            set_height: p.set_height,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PoliciesView {
    pub policies: Vec<PolicyView>,
}

/// One use of a consumer's data. For a rejected use, `settled` is false,
/// `paid`/`to_consumer` are 0 and `code`/`reason` say why.
#[derive(Debug, Serialize, ToSchema)]
pub struct UseView {
    pub use_id: String,
    pub height: u64,
    /// The time of the block that holds the use (Unix ms, the block
    /// header's time); null if the block is no longer kept.
    pub time: Option<u64>,
    pub tx_id: String,
    /// Index of the use within its RecordUse tx.
    pub index: u32,
    /// Index of the RecordUse tx within its block.
    pub tx_index: u32,
    #[schema(value_type = String)]
    pub enterprise: AccountId,
    /// `{"consent": "<id>"}` or `{"policy": "<id>"}`; null if unknown.
    #[schema(value_type = Option<Object>)]
    pub basis: Option<Value>,
    pub category: Option<String>,
    pub purpose: Option<String>,
    pub units: Option<u32>,
    pub settled: bool,
    pub paid: u64,
    pub to_consumer: u64,
    /// The operators' share, less the referrer's.
    pub to_operators: u64,
    /// The advocacy share paid to the consumer's referrer out of the
    /// operators' share: `paid = to_consumer + to_operators + to_referrer`.
    pub to_referrer: u64,
    #[schema(value_type = Option<String>)]
    pub referrer: Option<AccountId>,
    pub code: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsesView {
    /// Newest first.
    pub uses: Vec<UseView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Earnings {
    #[schema(value_type = String)]
    pub consumer: AccountId,
    /// Points earned from settled uses, all time.
    pub earned: u64,
    /// Settled units of use, all time.
    pub uses_settled: u64,
    pub balance: u64,
    /// Points earned as a referrer (decision 29), all time; not in `earned`.
    pub referral_earned: u64,
    /// Consumers who named this one as their referrer.
    pub referred_consumers: u64,
    /// Who referred this consumer; null if nobody was named.
    pub referred_by: Option<super::referrals::ReferredBy>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReputationView {
    pub ratings: u64,
    /// Average score (1–5) times 100, rounded down; 0 when there are no ratings.
    pub average_score_x100: u64,
    pub uses_settled: u64,
    pub uses_rejected: u64,
    /// Uses settled, in basis points of the uses recorded (settled and
    /// refused); `null` when it recorded none.
    pub honoured_bps: Option<u64>,
    /// Uses it recorded under consents already revoked (all refused).
    pub uses_after_revocation: u64,
    pub points_paid: u64,
}

impl From<Reputation> for ReputationView {
    fn from(r: Reputation) -> ReputationView {
        ReputationView {
            ratings: r.ratings,
            average_score_x100: assent_contracts::ranking::average_x100(&r).unwrap_or(0),
            uses_settled: r.uses_settled,
            uses_rejected: r.uses_rejected,
            honoured_bps: assent_contracts::ranking::honoured_bps(&r),
            uses_after_revocation: r.uses_after_revocation,
            points_paid: r.points_paid.0,
        }
    }
}

/// An enterprise record (ledger `Enterprise`) with its account and reputation.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseView {
    #[schema(value_type = String)]
    pub account: AccountId,
    pub name: String,
    /// e.g. `retail`.
    #[schema(value_type = String)]
    pub sector: Sector,
    pub jurisdiction: String,
    pub policy_url: String,
    /// `active` or `suspended`.
    #[schema(value_type = String)]
    pub status: EnterpriseStatus,
    #[schema(value_type = u64)]
    pub admitted_at: Height,
    pub reputation: ReputationView,
    /// How data subjects reach it as a data controller (`SetContact`);
    /// `null` until it sets one.
    pub contact: Option<ContactView>,
}

/// An enterprise's contact as a data controller (ledger `EnterpriseContact`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub email: String,
    /// May be empty.
    pub phone: String,
    /// Postal address as a legal entity.
    pub address: String,
    /// Its privacy notice (the policy URL when it gave none).
    pub notice_url: String,
    /// Language of the notice (BCP 47).
    pub notice_language: String,
    /// Height of the block that set it.
    #[schema(value_type = u64)]
    pub set_at: Height,
}

impl EnterpriseView {
    pub fn new(
        account: AccountId,
        e: Enterprise,
        r: Reputation,
        contact: Option<EnterpriseContact>,
    ) -> EnterpriseView {
        let contact = contact.map(|c| ContactView {
            notice_url: if c.notice_url.is_empty() {
                e.policy_url.clone()
            } else {
                c.notice_url
            },
            notice_language: c.notice_language,
            email: c.email,
            phone: c.phone,
            address: c.address,
            set_at: c.set_at,
        });
        EnterpriseView {
            account,
            name: e.name,
            sector: e.sector,
            jurisdiction: e.jurisdiction,
            policy_url: e.policy_url,
            status: e.status,
            admitted_at: e.admitted_at,
            reputation: r.into(),
            contact,
        }
    }
}

/// An access request (ledger `Request`), with whether it is still open.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    #[schema(value_type = String)]
    pub id: RequestId,
    #[schema(value_type = String)]
    pub enterprise: AccountId,
    #[schema(value_type = Vec<String>)]
    pub categories: Vec<Category>,
    #[schema(value_type = Vec<String>)]
    pub purposes: Vec<Purpose>,
    #[schema(value_type = String)]
    pub level: Level,
    #[schema(value_type = u64)]
    pub price_per_use: Amount,
    #[schema(value_type = Vec<String>)]
    pub target_tags: Vec<Tag>,
    #[schema(value_type = u64)]
    pub posted_height: Height,
    /// Block time (ms) at which it closes.
    #[schema(value_type = u64)]
    pub expires_at: Timestamp,
    pub grants: u64,
    /// `expires_at` is after the tip's block time.
    pub open: bool,
}

impl RequestView {
    pub fn new(r: Request, now: Timestamp) -> RequestView {
        RequestView {
            open: r.expires_at > now,
            id: r.id,
            enterprise: r.enterprise,
            categories: r.categories,
            purposes: r.purposes,
            level: r.level,
            price_per_use: r.price_per_use,
            target_tags: r.target_tags,
            posted_height: r.posted_height,
            expires_at: r.expires_at,
            grants: r.grants,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequestsView {
    /// Newest first.
    pub requests: Vec<RequestView>,
}

/// A block header (ledger `BlockHeader`).
#[derive(Debug, Serialize, ToSchema)]
pub struct HeaderView {
    pub chain_id: String,
    pub height: u64,
    /// Block time, ms since the Unix epoch.
    pub time: u64,
    pub prev_hash: String,
    pub txs_root: String,
    pub results_root: String,
    pub state_root: String,
    pub proposer: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockTx {
    pub tx_id: String,
    /// Tx kind, e.g. `GrantConsent`.
    pub kind: String,
    pub sender: String,
    pub nonce: u64,
}

/// What became of one tx of the block (same fields as tx status).
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockTxResult {
    pub tx_id: String,
    /// `committed` or `rejected`.
    pub status: TxState,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockView {
    pub header: HeaderView,
    pub block_hash: String,
    pub txs: Vec<BlockTx>,
    /// One per tx, in block order.
    pub results: Vec<BlockTxResult>,
    /// End-of-block events (e.g. operator rewards).
    #[schema(value_type = Vec<Object>)]
    pub end_events: Vec<Value>,
    /// `{"height","round","block_hash","signatures": [{"validator","signature"}]}`.
    #[schema(value_type = Option<Object>)]
    pub certificate: Option<Value>,
}

/// Data of one server-sent event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventData {
    pub height: u64,
    pub index: u32,
    /// The tx that emitted it; null for end-of-block events.
    pub tx_id: Option<String>,
    /// `{"<event_type>": {...}}`: a ledger `Event`, or
    /// `{"tx_rejected": {"tx_id","code","reason"}}`.
    #[schema(value_type = Object)]
    pub event: Value,
}

/// Data of `event: block` (`GET /v1/events?view=blocks`): one summary per
/// committed block, for clients that follow every tx (load generators,
/// indexers) without the cost of one event per use.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockSummaryData {
    pub height: u64,
    pub time_ms: u64,
    /// Ids of the txs applied in the block, in block order.
    pub applied: Vec<String>,
    /// Txs included but rejected: `[tx_id, code]` pairs.
    pub rejected: Vec<(String, String)>,
    /// Uses settled in the block, and uses rejected by code.
    pub uses_settled: u64,
    pub uses_rejected: std::collections::BTreeMap<String, u64>,
}

/// Data of `event: gap`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapData {
    /// Cursor after which the stream continues (from stored history).
    pub resume_from: String,
}
