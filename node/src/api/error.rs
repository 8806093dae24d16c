//! API errors: every failure is a status plus `{"code", "message"}`, where the
//! message says what was wrong and what to do. Store failures are 500
//! `store_error`; nothing in a handler panics.

use std::fmt::Display;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// How long an answer waits for the indexer to reach the height it needs.
const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The body of every error answer.
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `bad_account`, `stale_nonce`.
    pub code: String,
    /// What was wrong and what to do, in words.
    pub message: String,
    /// For a refusal that passes (`overloaded`): milliseconds to wait before
    /// sending again, more precise than the whole seconds of `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

/// An error answer of the API.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `Retry-After` in whole seconds (rounded up), for refusals that pass.
    pub retry_after: Option<u64>,
    /// The same wait in milliseconds (the body's `retry_after_ms`).
    pub retry_after_ms: Option<u64>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
            retry_after_ms: None,
        }
    }

    /// Adds `Retry-After` (whole seconds, at least 1) and the body's
    /// `retry_after_ms` (at least 1).
    pub fn retry_after(mut self, after: std::time::Duration) -> ApiError {
        let ms = (after.as_millis() as u64).max(1);
        self.retry_after = Some(ms.div_ceil(1000));
        self.retry_after_ms = Some(ms);
        self
    }

    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// The node's store failed; the node itself logs and handles it.
    pub fn store(e: impl Display) -> ApiError {
        tracing::error!(target: "assent::api", error = %e, "store read failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store_error",
            format!("the node could not read its store: {e}; retry, and tell the node's operator if it persists"),
        )
    }

    /// Answers that come from the query indexes need them up to `h`. The
    /// indexer runs just behind the commit: wait for it a little; a node
    /// with indexing off says so.
    pub fn need_index(
        store: &crate::storage::Store,
        h: assent_contracts::Height,
    ) -> Result<(), ApiError> {
        if !store.index_enabled() {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "index_disabled",
                "this node keeps no query indexes ([index] enabled = false in its config.toml); ask a node that does",
            ));
        }
        if store.wait_indexed(h, INDEX_WAIT) {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "indexing",
            format!(
                "this node has indexed up to height {} of {}; retry in a moment",
                store.indexed_height().0,
                h.0
            ),
        ))
    }

    pub fn internal(message: impl Display) -> ApiError {
        tracing::error!(target: "assent::api", error = %message, "internal API error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("{message}; retry later"),
        )
    }

    /// A path segment that did not parse (axum's own rejection text).
    pub fn path(r: PathRejection) -> ApiError {
        ApiError::bad_request(
            "bad_path",
            format!("{}; see /v1/openapi.json", r.body_text()),
        )
    }

    /// A query string that did not parse (axum's own rejection text).
    pub fn query(r: QueryRejection) -> ApiError {
        ApiError::bad_request(
            "bad_query",
            format!("{}; see /v1/openapi.json for the parameters", r.body_text()),
        )
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.clone(),
            message: self.message.clone(),
            retry_after_ms: self.retry_after_ms,
        }
    }
}

impl Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut resp = (
            status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
                retry_after_ms: self.retry_after_ms,
            }),
        )
            .into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        resp
    }
}

impl From<crate::storage::StoreError> for ApiError {
    fn from(e: crate::storage::StoreError) -> ApiError {
        ApiError::store(e)
    }
}

impl From<assent_contracts::state::StoreError> for ApiError {
    fn from(e: assent_contracts::state::StoreError) -> ApiError {
        ApiError::store(e)
    }
}

impl From<crate::ledger::chain::ChainError> for ApiError {
    fn from(e: crate::ledger::chain::ChainError) -> ApiError {
        ApiError::store(e)
    }
}

/// Runs blocking work (store reads, signature checks) off the async runtime.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(ApiError::internal(format!("a worker task failed: {e}"))),
    }
}
