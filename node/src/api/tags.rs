//! A consumer's interest tags (ARCHITECTURE.md decision 33), as the ledger
//! holds them: the round of salts and the salted commitments, never a tag.
//!
//! The node has no salt and no key, so it cannot tell which tags they are,
//! and neither can anyone who reads this answer; the consumer's own client
//! (`assent consumer tags`, `assent consumer requests --matching`)
//! recomputes the commitments of the tags it may have declared with its key
//! and matches requests on the consumer's machine.

use assent_contracts::state::StateExt;
use assent_contracts::{AccountId, Height, TagCommitment};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::queries::{account_param, read};
use super::routes::ApiState;

/// A consumer's tag commitments at one height.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagCommitmentsView {
    #[schema(value_type = String)]
    pub consumer: AccountId,
    /// The height this answer is as of.
    #[schema(value_type = u64)]
    pub height: Height,
    /// The round the salts were derived for (the nonce of the tx that set them).
    pub epoch: u64,
    /// SHA-256 commitments (hex), sorted; the consumer's client pads every
    /// set to the same size, so their number says nothing either.
    #[schema(value_type = Vec<String>)]
    pub commitments: Vec<TagCommitment>,
}

/// A consumer's interest tags as salted commitments (the tags are on no node).
#[utoipa::path(get, path = "/v1/consumers/{id}/tags", tag = "consumers",
    params(("id" = String, Path, description = "Consumer account, `assent1…`")),
    responses(
        (status = 200, body = TagCommitmentsView),
        (status = 400, description = "bad_account", body = ErrorBody),
        (status = 404, description = "unknown_consumer", body = ErrorBody)))]
pub(crate) async fn tags(
    State(st): State<ApiState>,
    reader: super::auth::Reader,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<TagCommitmentsView>, ApiError> {
    let id = account_param(id)?;
    read(&st, move |s| {
        // The consumer's own (operators see commitments, which reveal nothing).
        reader.require(s, &[id])?;
        let state = s.chain.store().snapshot();
        let c = state.consumer(&id)?.ok_or_else(|| {
            ApiError::not_found(
                "unknown_consumer",
                format!("{id} is not a registered consumer; it registers with a RegisterConsumer tx (`assent consumer register`)"),
            )
        })?;
        Ok(TagCommitmentsView {
            consumer: id,
            height: state.height(),
            epoch: c.tags.epoch,
            commitments: c.tags.commitments,
        })
    })
    .await
}
