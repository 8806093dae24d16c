//! Read-only queries: node status, accounts, consumers, enterprises,
//! requests and blocks. Every read runs off the async runtime.

use std::collections::BTreeMap;
use std::sync::Arc;

use assent_contracts::state::{keys, Request, StateExt, StateRead};
use assent_contracts::tx::UseBasis;
use assent_contracts::{codec, AccountId, Block, Event, Height, Payload, TxOutcome};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Reader;
use super::error::{blocking, ApiError, ErrorBody};
use super::events::event_json;
use super::routes::ApiState;
use super::views::*;
use crate::shared::Shared;
use crate::storage::UseRecord;

/// Uses returned when `?limit` is not given.
pub const DEFAULT_USES: usize = 100;
/// Largest `?limit` of uses.
pub const MAX_USES: usize = 1000;

pub(crate) fn account_param(p: Result<Path<String>, PathRejection>) -> Result<AccountId, ApiError> {
    let Path(s) = p.map_err(ApiError::path)?;
    s.parse().map_err(|e: assent_contracts::IdParseError| {
        ApiError::bad_request("bad_account", e.to_string())
    })
}

/// Runs `f` on the shared node state off the runtime and answers JSON.
pub(crate) async fn read<T, F>(st: &ApiState, f: F) -> Result<Json<T>, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Shared) -> Result<T, ApiError> + Send + 'static,
{
    let shared: Arc<Shared> = st.shared.clone();
    blocking(move || f(&shared)).await.map(Json)
}

/// The node and the tip of its chain.
#[utoipa::path(get, path = "/v1/status", tag = "node", responses((status = 200, body = NodeStatus)))]
pub(crate) async fn node_status(State(st): State<ApiState>) -> Result<Json<NodeStatus>, ApiError> {
    read(&st, |s| {
        let head = s.chain.head();
        let store = s.chain.store();
        let validators = s
            .chain
            .validators()?
            .into_iter()
            .map(|v| ValidatorView {
                name: v.name,
                consensus_key: v.consensus_key,
                power: v.power,
            })
            .collect();
        let mempool = s.mempool().len();
        let peers = s.gossip.as_ref().map_or(0, |g| g.peers());
        Ok(NodeStatus {
            chain_id: s.chain.chain_id().to_string(),
            genesis_hash: s.chain.genesis_hash().to_string(),
            height: head.height.0,
            block_hash: head.block_hash.to_string(),
            state_root: head.state_root.to_string(),
            time_ms: head.time.0,
            validators,
            indexed_height: store.index_enabled().then(|| store.indexed_height().0),
            persisted_height: store.persisted_height().0,
            peers,
            syncing: s.syncing(),
            mempool,
            moniker: s.config.moniker.clone(),
            validator_key: s.validator_key,
            validating: s.validating.load(std::sync::atomic::Ordering::Relaxed),
        })
    })
    .await
}

/// Balance, nonces and roles of an account.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts",
    params(("id" = String, Path, description = "Account, `assent1…`")),
    responses((status = 200, body = AccountView), (status = 400, description = "bad_account", body = ErrorBody)))]
pub(crate) async fn account(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<AccountView>, ApiError> {
    let id = account_param(id)?;
    read(&st, move |s| {
        reader.require(s, &[id])?;
        let store = s.chain.store();
        let acct = store.account(&id)?;
        let mut roles = Vec::new();
        if store.consumer(&id)?.is_some() {
            roles.push(Role::Consumer);
        }
        if store.enterprise(&id)?.is_some() {
            roles.push(Role::Enterprise);
        }
        if store.is_operator(&id)? {
            roles.push(Role::Operator);
        }
        if store.mint_authority()? == id {
            roles.push(Role::MintAuthority);
        }
        let next_nonce = s.mempool().pending_nonce(&id, acct.nonce);
        use assent_contracts::state::{ControlExt, KeyRole};
        let (signs_for, retired_from) = match store.key_role(&id)? {
            Some(KeyRole::Signs { account, .. }) => (Some(account), None),
            Some(KeyRole::Retired { account, .. }) => (None, Some(account)),
            None => (None, None),
        };
        let guardians = store.guardians(&id)?;
        let recovery = store.recovery(&id)?.map(|r| {
            let effective = match (&guardians, r.armed_at) {
                (Some(g), Some(t)) => Some(t.0.saturating_add(g.delay_ms)),
                _ => None,
            };
            serde_json::json!({
                "new_key": r.new_key.to_string(),
                "supporters": r.supporters.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "started_at_ms": r.started_at.0,
                "armed_at_ms": r.armed_at.map(|t| t.0),
                "effective_at_ms": effective,
            })
        });
        Ok(AccountView {
            account: id,
            balance: acct.balance,
            nonce: acct.nonce,
            next_nonce,
            roles,
            current_key: store.current_key(&id)?,
            signs_for,
            retired_from,
            guardians: guardians.map(|g| {
                serde_json::json!({
                    "guardians": g.guardians.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "threshold": g.threshold,
                    "delay_ms": g.delay_ms,
                    "set_at": g.set_at.0,
                })
            }),
            recovery,
        })
    })
    .await
}

/// Every consent a consumer granted, with its DPV status at the tip.
#[utoipa::path(get, path = "/v1/consumers/{id}/consents", tag = "consumers",
    params(("id" = String, Path, description = "Consumer account, `assent1…`")),
    responses((status = 200, body = ConsentsView), (status = 400, description = "bad_account", body = ErrorBody)))]
pub(crate) async fn consents(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ConsentsView>, ApiError> {
    let id = account_param(id)?;
    read(&st, move |s| {
        let only = reader.consumer_scope(s, &id)?;
        let now = s.chain.head().time;
        let store = s.chain.store();
        let mut consents = Vec::new();
        for cid in store.consents_of(&id)? {
            let c = store
                .consent(&cid)?
                .ok_or_else(|| ApiError::store(format!("consent {cid} is indexed but missing")))?;
            if only.is_some_and(|e| e != c.enterprise) {
                continue;
            }
            let rating = store.rating(&cid)?;
            consents.push(ConsentView::new(c, now, rating));
        }
        Ok(ConsentsView { consents })
    })
    .await
}

/// A consumer's standing policies.
#[utoipa::path(get, path = "/v1/consumers/{id}/policies", tag = "consumers",
    params(("id" = String, Path, description = "Consumer account, `assent1…`")),
    responses((status = 200, body = PoliciesView), (status = 400, description = "bad_account", body = ErrorBody)))]
pub(crate) async fn policies(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<PoliciesView>, ApiError> {
    let id = account_param(id)?;
    read(&st, move |s| {
        reader.require(s, &[id])?;
        let store = s.chain.store();
        let mut policies = Vec::new();
        for pid in store.policies_of(&id)? {
            let p = store
                .policy(&pid)?
                .ok_or_else(|| ApiError::store(format!("policy {pid} is indexed but missing")))?;
            policies.push(p.into());
        }
        Ok(PoliciesView { policies })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UsesQuery {
    /// Most uses to return, 1 to 1000 (default 100).
    limit: Option<usize>,
}

/// Uses of a consumer's data, newest first.
#[utoipa::path(get, path = "/v1/consumers/{id}/uses", tag = "consumers",
    params(("id" = String, Path, description = "Consumer account, `assent1…`"), UsesQuery),
    responses((status = 200, body = UsesView), (status = 400, description = "bad_account, bad_query", body = ErrorBody)))]
pub(crate) async fn uses(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<UsesQuery>, QueryRejection>,
) -> Result<Json<UsesView>, ApiError> {
    let id = account_param(id)?;
    let Query(q) = q.map_err(ApiError::query)?;
    let limit = q.limit.unwrap_or(DEFAULT_USES);
    if limit == 0 || limit > MAX_USES {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("limit {limit} is out of range; give 1 to {MAX_USES}"),
        ));
    }
    read(&st, move |s| {
        let only = reader.consumer_scope(s, &id)?;
        let store = s.chain.store();
        ApiError::need_index(store, s.chain.head().height)?;
        let mut blocks: BTreeMap<u64, Option<Block>> = BTreeMap::new();
        let mut uses = Vec::new();
        // An enterprise sees its own uses among the consumer's newest MAX_USES.
        let scan = if only.is_some() { MAX_USES } else { limit };
        for rec in store.uses_of(&id, scan)? {
            if let Some(mut v) = use_view(s, &rec, &mut blocks)? {
                if only.is_some_and(|e| e != v.enterprise) {
                    continue;
                }
                v.time = Some(rec.time.0);
                uses.push(v);
                if uses.len() == limit {
                    break;
                }
            }
        }
        Ok(UsesView { uses })
    })
    .await
}

fn use_view(
    s: &Shared,
    rec: &UseRecord,
    blocks: &mut BTreeMap<u64, Option<Block>>,
) -> Result<Option<UseView>, ApiError> {
    let view = |use_id: String, index: u32, enterprise: AccountId| UseView {
        use_id,
        height: rec.height.0,
        time: None,
        tx_id: rec.tx_id.to_string(),
        index,
        tx_index: rec.tx_index,
        enterprise,
        basis: None,
        category: None,
        purpose: None,
        units: None,
        settled: false,
        paid: 0,
        to_consumer: 0,
        to_operators: 0,
        to_referrer: 0,
        referrer: None,
        code: None,
        reason: None,
    };
    match &rec.event {
        Event::UseSettled {
            use_id,
            index,
            enterprise,
            basis,
            category,
            purpose,
            units,
            paid,
            to_consumer,
            to_operators,
            consumer,
        } => {
            let mut v = view(use_id.to_string(), *index, *enterprise);
            v.basis = Some(basis_json(basis));
            v.category = Some(category.as_str().to_string());
            v.purpose = Some(purpose.as_str().to_string());
            v.units = Some(*units);
            v.settled = true;
            v.paid = paid.0;
            v.to_consumer = to_consumer.0;
            v.to_operators = to_operators.0;
            // What is neither the consumer's nor the pool's went to the
            // referrer, who never changes once named.
            v.to_referrer = paid.0.saturating_sub(to_consumer.0 + to_operators.0);
            if v.to_referrer > 0 {
                v.referrer = s.chain.store().referral(consumer)?.map(|r| r.referrer);
            }
            Ok(Some(v))
        }
        Event::UseRejected {
            use_id,
            index,
            enterprise,
            code,
            reason,
            ..
        } => {
            let mut v = view(use_id.to_string(), *index, *enterprise);
            v.code = Some(code.as_str().to_string());
            v.reason = Some(reason.clone());
            // The event carries no terms; take them from the RecordUse tx.
            let block = match blocks.entry(rec.height.0) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(s.chain.store().block(rec.height)?)
                }
            };
            let tx = block
                .as_ref()
                .and_then(|b| b.txs.get(rec.tx_index as usize));
            if let Some(Payload::RecordUse(r)) = tx.map(|t| &t.body.payload) {
                if let Some(u) = r.uses.get(*index as usize) {
                    v.basis = Some(basis_json(&u.basis));
                    v.category = Some(u.category.as_str().to_string());
                    v.purpose = Some(u.purpose.as_str().to_string());
                    v.units = Some(u.units);
                }
            }
            Ok(Some(v))
        }
        _ => Ok(None),
    }
}

fn basis_json(b: &UseBasis) -> serde_json::Value {
    serde_json::to_value(b).unwrap_or(serde_json::Value::Null)
}

/// What a consumer earned from uses of their data.
#[utoipa::path(get, path = "/v1/consumers/{id}/earnings", tag = "consumers",
    params(("id" = String, Path, description = "Consumer account, `assent1…`")),
    responses(
        (status = 200, body = Earnings),
        (status = 400, description = "bad_account", body = ErrorBody),
        (status = 404, description = "unknown_consumer", body = ErrorBody)))]
pub(crate) async fn earnings(
    State(st): State<ApiState>,
    reader: Reader,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Earnings>, ApiError> {
    let id = account_param(id)?;
    read(&st, move |s| {
        reader.require(s, &[id])?;
        let store = s.chain.store();
        let c = store.consumer(&id)?.ok_or_else(|| {
            ApiError::not_found("unknown_consumer", format!("{id} is not a registered consumer; it registers with a RegisterConsumer tx (`assent consent` commands do it first)"))
        })?;
        let balance = store.account(&id)?.balance.0;
        let r = super::referrals::summary(store, &id)?;
        Ok(Earnings {
            consumer: id,
            earned: c.earned.0,
            uses_settled: c.uses_settled,
            balance,
            referral_earned: r.referral_earned,
            referred_consumers: r.referred_consumers,
            referred_by: r.referred_by,
        })
    })
    .await
}

/// An enterprise and its reputation.
#[utoipa::path(get, path = "/v1/enterprises/{id}", tag = "enterprises",
    params(("id" = String, Path, description = "Enterprise account, `assent1…`")),
    responses(
        (status = 200, body = EnterpriseView),
        (status = 400, description = "bad_account", body = ErrorBody),
        (status = 404, description = "unknown_enterprise", body = ErrorBody)))]
pub(crate) async fn enterprise(
    State(st): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EnterpriseView>, ApiError> {
    let id = account_param(id)?;
    read(&st, move |s| {
        let store = s.chain.store();
        let e = store.enterprise(&id)?.ok_or_else(|| {
            ApiError::not_found("unknown_enterprise", format!("{id} is not an admitted enterprise; operators admit enterprises by governance (or in genesis)"))
        })?;
        Ok(EnterpriseView::new(
            id,
            e,
            store.reputation(&id)?,
            store.contact(&id)?,
        ))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RequestsQuery {
    /// Include expired requests (default false: open ones only).
    all: Option<bool>,
}

/// Access requests of enterprises, newest first.
#[utoipa::path(get, path = "/v1/requests", tag = "enterprises",
    params(RequestsQuery),
    responses((status = 200, body = RequestsView), (status = 400, description = "bad_query", body = ErrorBody)))]
pub(crate) async fn requests(
    State(st): State<ApiState>,
    q: Result<Query<RequestsQuery>, QueryRejection>,
) -> Result<Json<RequestsView>, ApiError> {
    let Query(q) = q.map_err(ApiError::query)?;
    let all = q.all.unwrap_or(false);
    read(&st, move |s| {
        let now = s.chain.head().time;
        let mut requests = Vec::new();
        for (k, v) in s.chain.store().scan_prefix(keys::REQUESTS_PREFIX)? {
            let r: Request = codec::decode(&v).map_err(|e| {
                ApiError::store(format!(
                    "request record {} is corrupt: {e}",
                    hex::encode(&k)
                ))
            })?;
            let view = RequestView::new(r, now);
            if all || view.open {
                requests.push(view);
            }
        }
        requests.sort_by(|a, b| b.posted_height.cmp(&a.posted_height).then(a.id.cmp(&b.id)));
        Ok(RequestsView { requests })
    })
    .await
}

/// A committed block with its results and commit certificate.
#[utoipa::path(get, path = "/v1/blocks/{height}", tag = "blocks",
    params(("height" = String, Path, description = "Block height (1 is the first block) or `latest`")),
    responses(
        (status = 200, body = BlockView),
        (status = 400, description = "bad_height", body = ErrorBody),
        (status = 404, description = "unknown_height", body = ErrorBody)))]
pub(crate) async fn block(
    State(st): State<ApiState>,
    h: Result<Path<String>, PathRejection>,
) -> Result<Json<BlockView>, ApiError> {
    let Path(h) = h.map_err(ApiError::path)?;
    let wanted: Option<u64> = if h == "latest" {
        None
    } else {
        Some(h.parse().map_err(|_| {
            ApiError::bad_request(
                "bad_height",
                format!("`{h}` is not a height; give a block height such as 1, or `latest`"),
            )
        })?)
    };
    read(&st, move |s| {
        let tip = s.chain.head().height.0;
        let height = wanted.unwrap_or(tip);
        if height == 0 || height > tip {
            let why = if height == 0 {
                "height 0 is the genesis state, blocks start at 1".to_string()
            } else {
                format!("the chain is at height {tip}")
            };
            return Err(ApiError::not_found(
                "unknown_height",
                format!("no block at height {height}: {why}"),
            ));
        }
        let first = s.chain.store().first_block().0;
        if height < first {
            return Err(ApiError::not_found(
                "before_snapshot",
                format!("this node started from a state snapshot at height {first} and holds no block below it; ask a node that replayed the chain"),
            ));
        }
        block_view(s, Height(height))
    })
    .await
}

fn block_view(s: &Shared, h: Height) -> Result<BlockView, ApiError> {
    let store = s.chain.store();
    let missing =
        |what: &str| ApiError::store(format!("{what} of committed block {} is missing", h.0));
    let block = store.block(h)?.ok_or_else(|| missing("the block"))?;
    let results = store.results(h)?.ok_or_else(|| missing("the results"))?;
    let certificate = store
        .certificate(h)?
        .and_then(|c| serde_json::to_value(c).ok());
    let hd = &block.header;
    let header = HeaderView {
        chain_id: hd.chain_id.clone(),
        height: hd.height.0,
        time: hd.time.0,
        prev_hash: hd.prev_hash.to_string(),
        txs_root: hd.txs_root.to_string(),
        results_root: hd.results_root.to_string(),
        state_root: hd.state_root.to_string(),
        proposer: hd.proposer.to_string(),
    };
    let txs = block
        .txs
        .iter()
        .map(|t| BlockTx {
            tx_id: t.id().to_string(),
            kind: t.body.payload.kind().to_string(),
            sender: t.body.sender.to_string(),
            nonce: t.body.nonce,
        })
        .collect();
    let results_view = results
        .results
        .iter()
        .map(|r| match &r.outcome {
            TxOutcome::Applied { events } => BlockTxResult {
                tx_id: r.tx_id.to_string(),
                status: TxState::Committed,
                events: Some(events.iter().map(event_json).collect()),
                code: None,
                reason: None,
            },
            TxOutcome::Rejected(e) => BlockTxResult {
                tx_id: r.tx_id.to_string(),
                status: TxState::Rejected,
                events: None,
                code: Some(e.code.as_str().to_string()),
                reason: Some(e.reason.clone()),
            },
        })
        .collect();
    Ok(BlockView {
        block_hash: hd.hash().to_string(),
        header,
        txs,
        results: results_view,
        end_events: results.end_events.iter().map(event_json).collect(),
        certificate,
    })
}
