//! `GET /v1/stats`: the ledger's aggregate figures, for anyone — how many
//! consents are live, how many uses were settled, what was paid and the
//! operators' published share — with no account in them (issue 14, item 1).
//!
//! The consent counts come from one scan of the consent records of a state
//! snapshot, so an answer is kept for [`FRESH_FOR`] and shared by every
//! reader in that time; the use and payment totals are the sum of the
//! enterprises' standing records.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use assent_contracts::state::{keys, Consent, Enterprise, StateExt, StateRead};
use assent_contracts::{codec, AccountId};
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{blocking, ApiError};
use super::routes::ApiState;
use super::views::DpvStatus;

/// How long one computed answer is served.
pub const FRESH_FOR: Duration = Duration::from_secs(10);

/// The last answer and when it was computed.
#[derive(Debug, Default)]
pub struct StatsCache(Mutex<Option<(Instant, LedgerStats)>>);

/// Consents by their DPV status at the head's block time.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ConsentCounts {
    /// Given and usable now (`ConsentGiven`).
    pub live: u64,
    pub paused: u64,
    pub withdrawn: u64,
    pub expired: u64,
}

/// Aggregate figures of the ledger: no account data.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LedgerStats {
    /// The height they are of.
    pub height: u64,
    pub consents: ConsentCounts,
    /// Enterprises on the ledger (any standing).
    pub enterprises: u64,
    /// Uses settled (paid) and refused, over the ledger's life.
    pub uses_settled: u64,
    pub uses_rejected: u64,
    /// Points enterprises paid for settled uses, in all (consumers' share,
    /// operators' share and any referrer's share together).
    pub points_paid: u64,
    /// The operators' published share of each payment, in basis points.
    pub operator_share_bps: u32,
    /// Operators' share collected and not yet paid out to them.
    pub operator_pool: u64,
}

/// Counts over one state snapshot.
fn compute(st: &ApiState) -> Result<LedgerStats, ApiError> {
    let s = &st.shared;
    let now = s.chain.head().time;
    let state = s.chain.store().snapshot();
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        ApiError::store(format!("a {what} record is corrupt: {e}"))
    };
    let mut consents = ConsentCounts::default();
    for (_, v) in state.scan_prefix(keys::CONSENTS_PREFIX)? {
        let c: Consent = codec::decode(&v).map_err(|e| corrupt("consent", &e))?;
        match DpvStatus::of(&c, now) {
            DpvStatus::ConsentGiven => consents.live += 1,
            DpvStatus::ConsentPaused => consents.paused += 1,
            DpvStatus::ConsentWithdrawn => consents.withdrawn += 1,
            DpvStatus::ConsentExpired => consents.expired += 1,
        }
    }
    let (mut enterprises, mut uses_settled, mut uses_rejected, mut points_paid) = (0, 0, 0, 0u64);
    for (k, v) in state.scan_prefix(keys::ENTERPRISES_PREFIX)? {
        let _: Enterprise = codec::decode(&v).map_err(|e| corrupt("enterprise", &e))?;
        let id = keys::trailing_id(&k)
            .map(AccountId)
            .ok_or_else(|| corrupt("enterprise", &"its key holds no account"))?;
        let r = state.reputation(&id)?;
        enterprises += 1;
        uses_settled += r.uses_settled;
        uses_rejected += r.uses_rejected;
        points_paid = points_paid.saturating_add(r.points_paid.0);
    }
    Ok(LedgerStats {
        height: state.height().0,
        consents,
        enterprises,
        uses_settled,
        uses_rejected,
        points_paid,
        operator_share_bps: u32::from(state.params()?.operator_share_bps.0),
        operator_pool: state.operator_pool()?.0,
    })
}

/// The ledger's aggregate figures (public: no account data). Kept for 10 s.
#[utoipa::path(get, path = "/v1/stats", tag = "node", responses((status = 200, body = LedgerStats)))]
pub(crate) async fn stats(State(st): State<ApiState>) -> Result<Json<LedgerStats>, ApiError> {
    blocking(move || {
        let mut cached = st.stats.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, s)) = cached.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return Ok(s.clone());
            }
        }
        let fresh = compute(&st)?;
        *cached = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    })
    .await
    .map(Json)
}
