//! `GET /v1/keys/{key}`: what one signing key is (public). A client that
//! holds several keys finds the one that signs for an account now (after a
//! rotation or a recovery) without reading the account; there is no lookup
//! from an account to its key.

use assent_contracts::state::{ControlExt, KeyRole};
use assent_contracts::AccountId;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::queries::read;
use super::routes::ApiState;

/// A signing key's role at the head.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRoleView {
    #[schema(value_type = String)]
    pub key: AccountId,
    /// The account it signs for: itself unless rotated in or retired.
    #[schema(value_type = Option<String>)]
    pub signs_for: Option<AccountId>,
    /// The account it signed for until it was retired (it signs for nothing now).
    #[schema(value_type = Option<String>)]
    pub retired_from: Option<AccountId>,
    pub height: u64,
}

/// What a signing key is: the account it signs for, or the account it was
/// retired from.
#[utoipa::path(get, path = "/v1/keys/{key}", tag = "accounts",
    params(("key" = String, Path, description = "A signing key, `assent1…`")),
    responses((status = 200, body = KeyRoleView), (status = 400, description = "bad_account", body = ErrorBody)))]
pub(crate) async fn key_role(
    State(st): State<ApiState>,
    key: Result<Path<String>, PathRejection>,
) -> Result<Json<KeyRoleView>, ApiError> {
    let Path(k) = key.map_err(ApiError::path)?;
    let key: AccountId = k.parse().map_err(|e: assent_contracts::IdParseError| {
        ApiError::bad_request("bad_account", format!("key: {e}"))
    })?;
    read(&st, move |s| {
        let state = s.chain.store().snapshot();
        let (signs_for, retired_from) = match state.key_role(&key)? {
            Some(KeyRole::Signs { account, .. }) => (Some(account), None),
            Some(KeyRole::Retired { account, .. }) => (None, Some(account)),
            None => (Some(key), None),
        };
        Ok(KeyRoleView {
            key,
            signs_for,
            retired_from,
            height: state.height().0,
        })
    })
    .await
}
