//! What a node serves to nodes that sync from a snapshot
//! ([`crate::ledger::state_sync`]): `GET /v1/snapshots` (manifests),
//! `GET /v1/snapshots/{height}/chunks/{index}` (a chunk's bytes),
//! `GET /v1/snapshots/{height}/anchor` (the snapshot's block, certificate
//! and results) and `GET /v1/validator-sets?to=H` (proofs of every
//! validator-set change). A syncing node checks all of it.

use std::sync::Arc;

use assent_contracts::{codec, Height};
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{blocking, ApiError, ErrorBody};
use super::routes::ApiState;
use crate::ledger::state_sync::{
    Anchor, CertifiedBlock, CertifiedBlocks, SnapshotList, ValidatorSets,
};
use crate::shared::Shared;

fn no_snapshot(height: u64) -> ApiError {
    ApiError::not_found(
        "unknown_snapshot",
        format!("this node keeps no snapshot at height {height}; GET /v1/snapshots lists the ones it has"),
    )
}

/// The state snapshots this node serves, newest first
/// (`assent-snapshot/1` manifests).
#[utoipa::path(get, path = "/v1/snapshots", tag = "sync",
    responses((status = 200, description = "`{snapshots: [manifest]}`", body = Object)))]
pub(crate) async fn list(State(st): State<ApiState>) -> Result<Json<SnapshotList>, ApiError> {
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || {
        Ok(SnapshotList {
            snapshots: shared
                .snapshots
                .as_ref()
                .map(|s| s.list())
                .unwrap_or_default(),
        })
    })
    .await
    .map(Json)
}

/// One chunk of a snapshot: its records in tree-path order, canonical
/// bytes (`application/octet-stream`); checked by the syncing node against
/// the manifest.
#[utoipa::path(get, path = "/v1/snapshots/{height}/chunks/{index}", tag = "sync",
    params(("height" = u64, Path, description = "Snapshot height"), ("index" = u32, Path, description = "Chunk, 0-255")),
    responses(
        (status = 200, description = "the chunk's bytes", content_type = "application/octet-stream"),
        (status = 400, description = "bad_path", body = ErrorBody),
        (status = 404, description = "unknown_snapshot", body = ErrorBody)))]
pub(crate) async fn chunk(
    State(st): State<ApiState>,
    p: Result<Path<(u64, usize)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path((height, index)) = p.map_err(ApiError::path)?;
    let shared: Arc<Shared> = st.shared.clone();
    let bytes = blocking(move || {
        shared
            .snapshots
            .as_ref()
            .and_then(|s| s.chunk(height, index))
            .ok_or_else(|| no_snapshot(height))
    })
    .await?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response())
}

/// The snapshot's block as committed: its bytes, commit certificate and
/// results (hex), which the syncing node checks against the validator set.
#[utoipa::path(get, path = "/v1/snapshots/{height}/anchor", tag = "sync",
    params(("height" = u64, Path, description = "Snapshot height")),
    responses(
        (status = 200, description = "`{block, certificate, results}` as hex", body = Object),
        (status = 404, description = "unknown_snapshot", body = ErrorBody)))]
pub(crate) async fn anchor(
    State(st): State<ApiState>,
    p: Result<Path<u64>, PathRejection>,
) -> Result<Json<Anchor>, ApiError> {
    let Path(height) = p.map_err(ApiError::path)?;
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || {
        let kept = shared
            .snapshots
            .as_ref()
            .is_some_and(|s| s.list().iter().any(|m| m.height.0 == height));
        if !kept {
            return Err(no_snapshot(height));
        }
        let store = shared.chain.store();
        let h = Height(height);
        let entry = store.entry(h)?.ok_or_else(|| no_snapshot(height))?;
        let cert = store.certificate(h)?.ok_or_else(|| no_snapshot(height))?;
        let results = codec::encode(&(&entry.results.results, &entry.results.end_events))
            .map_err(ApiError::internal)?;
        Ok(Anchor {
            block: hex::encode(&entry.block),
            certificate: hex::encode(codec::encode(&cert).map_err(ApiError::internal)?),
            results: hex::encode(results),
        })
    })
    .await
    .map(Json)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SetsQuery {
    /// The last height to include (default: the head).
    to: Option<u64>,
}

/// Proofs of the validator set after every height that changed it, oldest
/// first (`assent-state-proof/1`, kind `validators`): a light client or a
/// syncing node follows the set from the genesis through them.
#[utoipa::path(get, path = "/v1/validator-sets", tag = "sync",
    params(SetsQuery),
    responses(
        (status = 200, description = "`{proofs: [state proof]}`", body = Object),
        (status = 400, description = "bad_query", body = ErrorBody)))]
pub(crate) async fn validator_sets(
    State(st): State<ApiState>,
    q: Result<Query<SetsQuery>, QueryRejection>,
) -> Result<Json<ValidatorSets>, ApiError> {
    let Query(q) = q.map_err(ApiError::query)?;
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || {
        let to = Height(q.to.unwrap_or(shared.chain.head().height.0));
        Ok(ValidatorSets {
            proofs: shared.chain.store().validator_set_proofs(to)?,
        })
    })
    .await
    .map(Json)
}

/// Most blocks in one `GET /v1/certified-blocks` answer.
pub const MAX_CERTIFIED_BLOCKS: u64 = 64;
/// Most bytes of blocks in one answer (the last block may pass it).
const MAX_CERTIFIED_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CertifiedQuery {
    /// The first height wanted (1 or more).
    from: u64,
    /// Most blocks (default and cap 64; fewer if they pass 16 MiB).
    limit: Option<u64>,
}

/// Committed blocks with their commit certificates, from `from` on, as a
/// full node or a joining validator follows the chain
/// ([`crate::ledger::follow`]): it checks each certificate under the
/// validator set it has, and re-executes the block against its own state.
#[utoipa::path(get, path = "/v1/certified-blocks", tag = "sync",
    params(CertifiedQuery),
    responses(
        (status = 200, description = "`{head, blocks: [{block, certificate}]}` as hex, oldest first; empty once `from` is past the head", body = Object),
        (status = 400, description = "bad_query", body = ErrorBody),
        (status = 404, description = "before_snapshot", body = ErrorBody)))]
pub(crate) async fn certified_blocks(
    State(st): State<ApiState>,
    q: Result<Query<CertifiedQuery>, QueryRejection>,
) -> Result<Json<CertifiedBlocks>, ApiError> {
    let Query(q) = q.map_err(ApiError::query)?;
    if q.from == 0 {
        return Err(ApiError::bad_request(
            "bad_query",
            "from=0 is the genesis state; blocks start at 1",
        ));
    }
    let limit = q.limit.unwrap_or(MAX_CERTIFIED_BLOCKS);
    if limit == 0 || limit > MAX_CERTIFIED_BLOCKS {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("limit={limit}: give 1 to {MAX_CERTIFIED_BLOCKS}"),
        ));
    }
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || {
        let store = shared.chain.store();
        let head = shared.chain.head().height.0;
        let first = store.first_block().0;
        if q.from < first {
            return Err(ApiError::not_found(
                "before_snapshot",
                format!("this node started from a state snapshot at height {first} and holds no block below it; sync from a snapshot or ask a node that replayed the chain"),
            ));
        }
        let mut blocks = Vec::new();
        let mut bytes = 0;
        let last = head.min(q.from.saturating_add(limit - 1));
        for h in q.from..=last {
            let (Some(entry), Some(cert)) = (store.entry(Height(h))?, store.certificate(Height(h))?)
            else {
                break;
            };
            bytes += entry.block.len();
            blocks.push(CertifiedBlock {
                block: hex::encode(&entry.block),
                certificate: hex::encode(codec::encode(&cert).map_err(ApiError::internal)?),
            });
            if bytes >= MAX_CERTIFIED_BYTES {
                break;
            }
        }
        Ok(CertifiedBlocks { head, blocks })
    })
    .await
    .map(Json)
}
