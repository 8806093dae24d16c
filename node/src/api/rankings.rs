//! `GET /v1/enterprises`: the public ranking of enterprises — by points
//! paid to consumers, uses honoured, consumers' rating, or response to
//! revocations ([`assent_contracts::ranking`]) — paged, optionally within
//! one sector, all read from one state snapshot.

use std::collections::BTreeMap;

use assent_contracts::ranking::{self, RankBy};
use assent_contracts::state::{keys, Enterprise, StateExt, StateRead};
use assent_contracts::terms::Sector;
use assent_contracts::{codec, AccountId, Height};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::queries::read;
use super::routes::ApiState;
use super::views::EnterpriseView;

/// Enterprises per page when `?limit` is not given.
pub const DEFAULT_LIMIT: u64 = 20;
/// Largest `?limit`.
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RankingQuery {
    /// `points_paid` (default), `honoured`, `rating` or `revocations`.
    by: Option<String>,
    /// Only enterprises of this sector, e.g. `retail`.
    sector: Option<String>,
    /// Ranks to skip (default 0).
    offset: Option<u64>,
    /// Enterprises to return (default 20, 1–100).
    limit: Option<u64>,
}

/// One enterprise with its place in the ranking (1 is the best).
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedEnterprise {
    pub rank: u64,
    #[serde(flatten)]
    pub enterprise: EnterpriseView,
}

/// A page of the ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseRanking {
    /// The height whose state was ranked.
    #[schema(value_type = u64)]
    pub height: Height,
    /// The order: `points_paid`, `honoured`, `rating` or `revocations`.
    pub by: String,
    /// The sector ranked, or `null` for all.
    pub sector: Option<String>,
    /// Enterprises in the ranking (all pages).
    pub total: u64,
    pub offset: u64,
    pub enterprises: Vec<RankedEnterprise>,
}

/// Enterprises ranked by what they paid consumers, how many recorded uses
/// they honoured, their consumers' rating, or how few uses they recorded
/// after a revocation; ties break by uses settled, then account.
#[utoipa::path(get, path = "/v1/enterprises", tag = "enterprises",
    params(RankingQuery),
    responses(
        (status = 200, body = EnterpriseRanking),
        (status = 400, description = "bad_query", body = ErrorBody)))]
pub(crate) async fn ranking(
    State(st): State<ApiState>,
    q: Result<Query<RankingQuery>, QueryRejection>,
) -> Result<Json<EnterpriseRanking>, ApiError> {
    let Query(q) = q.map_err(ApiError::query)?;
    let bad = |m: String| ApiError::bad_request("bad_query", m);
    let by = RankBy::parse(q.by.as_deref().unwrap_or("points_paid"))
        .map_err(|m| bad(format!("by: {m}")))?;
    let sector: Option<Sector> = q
        .sector
        .as_deref()
        .map(|s| s.parse().map_err(|m: String| bad(format!("sector: {m}"))))
        .transpose()?;
    let offset = q.offset.unwrap_or(0);
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad(format!(
            "limit: {limit} is out of range; give 1 to {MAX_LIMIT}"
        )));
    }
    read(&st, move |s| {
        let state = s.chain.store().snapshot();
        let corrupt = |what: &str, k: &[u8], e: &dyn std::fmt::Display| {
            ApiError::store(format!("{what} record {} is corrupt: {e}", hex::encode(k)))
        };
        let mut found: BTreeMap<AccountId, Enterprise> = BTreeMap::new();
        for (k, v) in state.scan_prefix(keys::ENTERPRISES_PREFIX)? {
            let id = keys::trailing_id(&k)
                .map(AccountId)
                .ok_or_else(|| corrupt("enterprise", &k, &"its key holds no account"))?;
            let e: Enterprise = codec::decode(&v).map_err(|e| corrupt("enterprise", &k, &e))?;
            if sector.is_none_or(|s| s == e.sector) {
                found.insert(id, e);
            }
        }
        let standings = found
            .keys()
            .map(|id| Ok((*id, state.reputation(id)?)))
            .collect::<Result<Vec<_>, ApiError>>()?;
        let ranked = ranking::rank(standings, by);
        let total = ranked.len() as u64;
        let mut enterprises = Vec::new();
        for (i, (id, reputation)) in ranked
            .into_iter()
            .enumerate()
            .skip(offset as usize)
            .take(limit as usize)
        {
            let Some(e) = found.get(&id) else {
                continue;
            };
            enterprises.push(RankedEnterprise {
                rank: i as u64 + 1,
                enterprise: EnterpriseView::new(id, e.clone(), reputation, state.contact(&id)?),
            });
        }
        Ok(EnterpriseRanking {
            height: state.height(),
            by: by.name().to_string(),
            sector: sector.map(|s| s.name().to_string()),
            total,
            offset,
            enterprises,
        })
    })
    .await
}
