//! The JSON shapes of tx submission and tx status (`POST /v1/txs`,
//! `POST /v1/txs/batch`, `GET /v1/txs/{id}`).

use assent_contracts::TxId;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `{"tx": "<hex>"}`, the JSON form of a tx submission.
#[derive(Debug, serde::Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TxSubmit {
    /// The canonical signed tx bytes, hex.
    pub tx: String,
}

/// A tx admitted to the mempool.
#[derive(Debug, Serialize, ToSchema)]
pub struct TxAccepted {
    #[schema(value_type = String, example = "3f0c…(64 hex)")]
    pub tx_id: TxId,
}

#[derive(Debug, serde::Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSubmit {
    /// Signed txs, each hex.
    pub txs: Vec<String>,
}

/// One tx of a batch: admitted (`tx_id`) or refused (`code`, `message`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    Accepted(TxAccepted),
    Refused(crate::api::error::ErrorBody),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    /// How many txs were admitted.
    pub accepted: usize,
    /// One per submitted tx, in order.
    pub results: Vec<BatchItem>,
    /// Set when txs were refused as `overloaded`: seconds to wait before
    /// sending them again (also the `Retry-After` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// The same wait in milliseconds, more precise: a client that can wait
    /// less than a second should use this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    Pending,
    Committed,
    Rejected,
    Unknown,
}

/// Where a tx stands. `committed` adds `height`, `index`, `events`;
/// `rejected` (in a block) adds `height`, `index`, `code`, `reason`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TxStatus {
    #[schema(value_type = String)]
    pub tx_id: TxId,
    pub status: TxState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position of the tx in its block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Events of an applied tx; each `{"<event_type>": {...}}` (ledger `Event`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub events: Option<Vec<Value>>,
    /// Rejection code, e.g. `bad_nonce`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
