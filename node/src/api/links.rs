//! Identity links (`LinkIdentity`, ARCHITECTURE.md decision 28): a
//! consumer's links, and the one link an enterprise looks up to check a
//! customer record against it (and the links' entry in the export).
//!
//! The node holds no identifier and no salt, so it answers commitments only;
//! the comparison is the enterprise's own (`assent enterprise match-link`
//! recomputes the commitment on the enterprise's machine). Never send an
//! identifier or a salt to a node: its operator would learn them.

use assent_contracts::identity::IdentityKind;
use assent_contracts::state::StateExt;
use assent_contracts::{AccountId, Height, LinkCommitment};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Reader;
use super::error::{ApiError, ErrorBody};
use super::queries::read;
use super::routes::ApiState;

/// One identity link: which enterprise, which kind of identifier, and the
/// salted commitment to it. The identifier itself is on no node.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityLinkView {
    #[schema(value_type = String)]
    pub consumer: AccountId,
    #[schema(value_type = String)]
    pub enterprise: AccountId,
    /// The enterprise's name (empty if it is no longer admitted).
    pub enterprise_name: String,
    /// `member_card`, `phone`, `email` or `openid`.
    #[schema(value_type = String, example = "email")]
    pub kind: IdentityKind,
    /// SHA-256 commitment (hex) to the normalised identifier and its salt.
    #[schema(value_type = String)]
    pub commitment: LinkCommitment,
    /// Height of the block that made the link.
    #[schema(value_type = u64)]
    pub linked_at: Height,
    /// The height this answer is as of.
    #[schema(value_type = u64)]
    pub height: Height,
}

/// A consumer's identity links at one height, by enterprise key then kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentityLinksView {
    #[schema(value_type = String)]
    pub consumer: AccountId,
    #[schema(value_type = u64)]
    pub height: Height,
    pub links: Vec<IdentityLinkView>,
}

/// One identity link in a consumer's export (`consumer.json`): the
/// commitment, never the identifier.
#[derive(Debug, Serialize)]
pub(crate) struct IdentityLinkEntry {
    pub enterprise: AccountId,
    pub enterprise_name: Option<String>,
    pub kind: IdentityKind,
    pub commitment: LinkCommitment,
    pub linked_at: u64,
}

fn account(what: &str, s: &str) -> Result<AccountId, ApiError> {
    s.parse().map_err(|e: assent_contracts::IdParseError| {
        ApiError::bad_request(format!("bad_{what}"), format!("{what}: {e}"))
    })
}

/// Every identity link a consumer holds (none for an unknown account).
#[utoipa::path(get, path = "/v1/consumers/{id}/links", tag = "consumers",
    params(("id" = String, Path, description = "Consumer account, `assent1…`")),
    responses((status = 200, body = IdentityLinksView), (status = 400, description = "bad_account", body = ErrorBody)))]
pub(crate) async fn links(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<IdentityLinksView>, ApiError> {
    let Path(id) = id.map_err(ApiError::path)?;
    let consumer = account("account", &id)?;
    read(&st, move |s| {
        let only = reader.consumer_scope(s, &consumer)?;
        let state = s.chain.store().snapshot();
        let height = state.height();
        let mut links = Vec::new();
        for (enterprise, kind, l) in state.identity_links_of(&consumer)? {
            if only.is_some_and(|e| e != enterprise) {
                continue;
            }
            let enterprise_name = state
                .enterprise(&enterprise)?
                .map(|e| e.name)
                .unwrap_or_default();
            links.push(IdentityLinkView {
                consumer,
                enterprise,
                enterprise_name,
                kind,
                commitment: l.commitment,
                linked_at: l.linked_at,
                height,
            });
        }
        Ok(IdentityLinksView {
            consumer,
            height,
            links,
        })
    })
    .await
}

/// One identity link, as an enterprise looks it up to match its own record
/// (404 `unknown_link` if there is none at the head: never made, or removed).
#[utoipa::path(get, path = "/v1/consumers/{id}/links/{enterprise}/{kind}", tag = "consumers",
    params(
        ("id" = String, Path, description = "Consumer account, `assent1…`"),
        ("enterprise" = String, Path, description = "Enterprise account, `assent1…`"),
        ("kind" = String, Path, description = "`member_card`, `phone`, `email` or `openid`"),
    ),
    responses(
        (status = 200, body = IdentityLinkView),
        (status = 400, description = "bad_account, bad_enterprise, bad_kind", body = ErrorBody),
        (status = 404, description = "unknown_link", body = ErrorBody),
    ))]
pub(crate) async fn link(
    State(st): State<ApiState>,
    reader: Reader,
    p: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Json<IdentityLinkView>, ApiError> {
    let Path((id, ent, kind)) = p.map_err(ApiError::path)?;
    let consumer = account("account", &id)?;
    let enterprise = account("enterprise", &ent)?;
    let kind: IdentityKind = kind
        .parse()
        .map_err(|m: String| ApiError::bad_request("bad_kind", m))?;
    read(&st, move |s| {
        reader.require(s, &[consumer, enterprise])?;
        let state = s.chain.store().snapshot();
        let height = state.height();
        let Some(l) = state.identity_link(&consumer, &enterprise, kind)? else {
            return Err(ApiError::not_found(
                "unknown_link",
                format!(
                    "{consumer} has no {kind} link for {enterprise} at height {height} (never linked, or removed)"
                ),
            ));
        };
        let enterprise_name = state
            .enterprise(&enterprise)?
            .map(|e| e.name)
            .unwrap_or_default();
        Ok(IdentityLinkView {
            consumer,
            enterprise,
            enterprise_name,
            kind,
            commitment: l.commitment,
            linked_at: l.linked_at,
            height,
        })
    })
    .await
}
