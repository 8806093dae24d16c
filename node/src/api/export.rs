//! `GET /v1/consumers/{id}/export`: everything the ledger holds about one
//! consumer (the right of access and portability) as one tar archive —
//! consents with their state history, uses of their data, rewards,
//! policies, and a self-proving receipt per consent change and per use.
//!
//! Everything is read as of one height H: the consumer's state records from
//! one state snapshot after H, the indexed records (the `h/` history and
//! `u/` use indexes) up to H once the indexer has reached H. The records
//! and files are defined and rendered in [`export_files`](super::export_files).
//!
//! Size is bounded: at most [`MAX_EXPORT_RECORDS`] history entries plus uses
//! and [`MAX_EXPORT_BYTES`] of archive, else `413 export_too_large`.

use std::collections::BTreeMap;
use std::sync::Arc;

use assent_contracts::identity::IdentityKind;
use assent_contracts::receipt::{ReceiptBuilder, Subject};
use assent_contracts::state::{Consent, Consumer, IdentityLink, Policy, StateExt};
use assent_contracts::tx::UseBasis;
use assent_contracts::{
    AccountId, Amount, Block, ConsentId, Event, Hash32, Height, Payload, Timestamp, TxId, UseId,
};
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::Reader;
use super::error::{blocking, ApiError, ErrorBody};
use super::export_files::{
    self, AsOf, Change, ChangeKind, ConsentEntry, Export, Files, PolicyChange, Registration,
    RewardEntry, UseEntry,
};
use super::links::IdentityLinkEntry;
use super::referrals::{self, ReferralSummary};
use super::routes::{ApiState, Client};
use super::views::{ConsentView, DpvStatus, PolicyView};
use crate::query::receipts;
use crate::shared::Shared;
use crate::storage::{Head, HistoryRecord, Store, TxLocation, UseRecord};

/// Most history entries plus uses one export may hold.
pub const MAX_EXPORT_RECORDS: usize = 20_000;
/// Largest archive the node builds (it is built in memory).
pub const MAX_EXPORT_BYTES: usize = 64 * 1024 * 1024;
/// Exports built at once; more wait.
pub const MAX_CONCURRENT_EXPORTS: usize = 2;

/// Uses and their rewards (with a sort key).
type UsesAndRewards = (Vec<UseEntry>, Vec<(RewardKey, RewardEntry)>);

/// One state change of a consent before it is numbered.
struct Step {
    kind: ChangeKind,
    height: Option<Height>,
    time: Timestamp,
    tx: Option<TxId>,
    tx_kind: Option<String>,
}

/// The consumer's state records, read as of `head`.
struct Snapshot {
    head: Head,
    consumer: Consumer,
    balance: Amount,
    consents: Vec<Consent>,
    ratings: BTreeMap<ConsentId, u8>,
    policies: Vec<Policy>,
    links: Vec<(AccountId, IdentityKind, IdentityLink)>,
    referrals: ReferralSummary,
}

fn account_param(p: Result<Path<String>, PathRejection>) -> Result<AccountId, ApiError> {
    let Path(s) = p.map_err(ApiError::path)?;
    s.parse().map_err(|e: assent_contracts::IdParseError| {
        ApiError::bad_request("bad_account", e.to_string())
    })
}

pub(crate) fn too_large(what: String) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "export_too_large",
        format!(
            "{what}; an export holds at most {MAX_EXPORT_RECORDS} consent changes and uses and \
             {} MiB; read the records page by page through /v1/consumers/{{id}}/consents and /uses instead",
            MAX_EXPORT_BYTES / (1024 * 1024)
        ),
    )
}

/// A consumer's export: a tar archive of JSON, CSV, README and receipts.
#[utoipa::path(get, path = "/v1/consumers/{id}/export", tag = "consumers",
    params(("id" = String, Path, description = "Consumer account, `assent1…`")),
    responses(
        (status = 200, description = "A tar archive `assent-export-<account>-h<height>/`: README.md, consumer.json, consents.json/.csv, consent_history.csv, uses.json/.csv, rewards.json/.csv, policies.json, receipts/*.json", content_type = "application/x-tar", body = Vec<u8>),
        (status = 400, description = "bad_account", body = ErrorBody),
        (status = 404, description = "unknown_consumer", body = ErrorBody),
        (status = 413, description = "export_too_large", body = ErrorBody),
        (status = 503, description = "unavailable (the consumer's records kept changing; retry)", body = ErrorBody)))]
pub(crate) async fn export(
    State(st): State<ApiState>,
    reader: Reader,
    client: Option<Extension<Client>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = account_param(id)?;
    // The export is the consumer's own (GDPR Art. 15/20); operators may
    // take it for an audit.
    reader.require(&st.shared, &[id])?;
    // One export per client, MAX_CONCURRENT_EXPORTS in all; more are
    // refused at once rather than queued.
    let _mine = st.client_permit(client.map(|Extension(c)| c), |c, ip| c.export(ip))?;
    let _slot = st.exports.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("this node is building its maximum of {MAX_CONCURRENT_EXPORTS} exports; retry in a few seconds or use another node"),
        )
        .retry_after(std::time::Duration::from_secs(2))
    })?;
    let shared: Arc<Shared> = st.shared.clone();
    let (name, bytes) = blocking(move || {
        let export = gather(&shared, id)?;
        let name = export_files::archive_name(&export);
        let bytes = export_files::archive(&export)?;
        Ok((name, bytes))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.tar\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn snapshot(store: &Store, id: &AccountId) -> Result<Snapshot, ApiError> {
    let state = store.snapshot();
    let head = store.head_at(state.height())?;
    let consumer = state.consumer(id)?.ok_or_else(|| {
        ApiError::not_found(
            "unknown_consumer",
            format!("{id} is not a registered consumer; only a consumer's records can be exported (it registers with a RegisterConsumer tx)"),
        )
    })?;
    let balance = state.account(id)?.balance;
    let mut consents = Vec::new();
    let mut ratings = BTreeMap::new();
    for cid in state.consents_of(id)? {
        let c = state
            .consent(&cid)?
            .ok_or_else(|| ApiError::store(format!("consent {cid} is indexed but missing")))?;
        if let Some(r) = state.rating(&cid)? {
            ratings.insert(cid, r);
        }
        consents.push(c);
    }
    let mut policies = Vec::new();
    for pid in state.policies_of(id)? {
        policies.push(
            state
                .policy(&pid)?
                .ok_or_else(|| ApiError::store(format!("policy {pid} is indexed but missing")))?,
        );
    }
    Ok(Snapshot {
        head,
        consumer,
        balance,
        consents,
        ratings,
        policies,
        links: state.identity_links_of(id)?,
        referrals: referrals::summary(&state, id)?,
    })
}

/// Names of enterprises, read once each.
struct Names<'a> {
    store: &'a Store,
    known: BTreeMap<AccountId, Option<String>>,
}

impl Names<'_> {
    fn of(&mut self, a: &AccountId) -> Result<Option<String>, ApiError> {
        if let Some(n) = self.known.get(a) {
            return Ok(n.clone());
        }
        let n = self.store.enterprise(a)?.map(|e| e.name);
        self.known.insert(*a, n.clone());
        Ok(n)
    }
}

/// Receipts as JSON, built once per tx or use.
struct Receipts<'a> {
    store: &'a Store,
    genesis: Hash32,
    by_tx: BTreeMap<TxId, Arc<Vec<u8>>>,
    /// The block of the last use receipt (uses come in chain order).
    block: Option<(Height, ReceiptBuilder)>,
    bytes: usize,
}

impl Receipts<'_> {
    fn json(&mut self, r: assent_contracts::receipt::Receipt) -> Result<Arc<Vec<u8>>, ApiError> {
        let mut v = serde_json::to_vec_pretty(&r)
            .map_err(|e| ApiError::internal(format!("a receipt could not be written: {e}")))?;
        v.push(b'\n');
        self.bytes += v.len();
        if self.bytes > MAX_EXPORT_BYTES {
            return Err(too_large(format!(
                "the receipts alone exceed {} MiB",
                MAX_EXPORT_BYTES / (1024 * 1024)
            )));
        }
        Ok(Arc::new(v))
    }

    fn tx(&mut self, tx: &TxId) -> Result<Option<Arc<Vec<u8>>>, ApiError> {
        if let Some(j) = self.by_tx.get(tx) {
            return Ok(Some(j.clone()));
        }
        let Some(r) = receipts::tx_receipt(self.store, self.genesis, tx)? else {
            return Ok(None);
        };
        let j = self.json(r)?;
        self.by_tx.insert(*tx, j.clone());
        Ok(Some(j))
    }

    /// The receipt of use `index` of the tx at `at`: one use, none of the
    /// others its RecordUse recorded (decision 34).
    fn use_(&mut self, id: &UseId, at: TxLocation, index: u32) -> Result<Arc<Vec<u8>>, ApiError> {
        if self.block.as_ref().map(|(h, _)| *h) != Some(at.height) {
            let b = receipts::block_receipts(self.store, self.genesis, at.height)?;
            self.block = Some((at.height, b));
        }
        let r = self
            .block
            .as_ref()
            .and_then(|(_, b)| b.receipt(Subject::Use { index }, at.index as usize))
            .ok_or_else(|| ApiError::store(format!("use {id} is indexed but has no receipt")))?;
        self.json(r)
    }
}

/// Reads everything the export holds.
pub(crate) fn gather(s: &Shared, id: AccountId) -> Result<Export, ApiError> {
    let store = s.chain.store();
    let snap = snapshot(store, &id)?;
    let h = snap.head.height;
    ApiError::need_index(store, h)?;
    let history = store.history_up_to(&id, h, MAX_EXPORT_RECORDS + 1)?;
    let use_records = store.uses_up_to(&id, h, MAX_EXPORT_RECORDS + 1)?;
    let total = history.len() + use_records.len();
    if total > MAX_EXPORT_RECORDS {
        return Err(too_large(format!(
            "{id} has more than {MAX_EXPORT_RECORDS} records (history entries and uses)"
        )));
    }
    let as_of = AsOf {
        chain_id: s.chain.chain_id().to_string(),
        genesis_hash: s.chain.genesis_hash().to_string(),
        height: h.0,
        block_hash: snap.head.block_hash.to_string(),
        state_root: snap.head.state_root.to_string(),
        time: snap.head.time.0,
    };
    let mut names = Names {
        store,
        known: BTreeMap::new(),
    };
    let mut rc = Receipts {
        store,
        genesis: s.chain.genesis_hash(),
        by_tx: BTreeMap::new(),
        block: None,
        bytes: 0,
    };
    let mut receipt_files = Vec::new();

    let consents = consent_entries(&snap, &history, &mut names, &mut rc, &mut receipt_files)?;
    let referrer = snap.referrals.referred_by.as_ref().map(|r| r.referrer);
    let (uses, mut rewards) = use_entries(
        store,
        &use_records,
        referrer,
        &mut names,
        &mut rc,
        &mut receipt_files,
    )?;
    let mint_authority = store.mint_authority()?;
    let mut registration = None;
    let mut policy_changes = Vec::new();
    for r in &history {
        let (kind, amount, from, use_id) = match &r.event {
            Event::Transferred { from, to, amount } if *to == id && *from != id => {
                ("transfer", *amount, *from, None)
            }
            Event::Minted { to, amount } if *to == id => ("mint", *amount, mint_authority, None),
            // The advocacy share of a use of the data of someone this
            // consumer referred: paid by the enterprise that used it. Whose
            // use it was is the referred consumer's, not in this export.
            Event::ReferralPaid {
                referrer,
                amount,
                use_id,
                ..
            } if *referrer == id => ("referral", *amount, payer_of(store, r, use_id)?, None),
            Event::ConsumerRegistered { .. } => {
                registration = Some(Registration {
                    height: r.height.0,
                    time: r.time.0,
                    tx_id: r.tx_id.to_string(),
                });
                continue;
            }
            Event::PolicySet { policy, .. } | Event::PolicyCleared { policy, .. } => {
                policy_changes.push(PolicyChange {
                    change: if matches!(r.event, Event::PolicySet { .. }) {
                        "set"
                    } else {
                        "cleared"
                    },
                    policy: policy.to_string(),
                    height: r.height.0,
                    time: r.time.0,
                    tx_id: r.tx_id.to_string(),
                });
                continue;
            }
            _ => continue,
        };
        rewards.push((
            (r.height, r.tx_index, 0),
            RewardEntry {
                kind,
                amount: amount.0,
                height: r.height.0,
                time: r.time.0,
                tx_id: r.tx_id.to_string(),
                from,
                from_name: names.of(&from)?,
                use_id,
            },
        ));
    }
    rewards.sort_by_key(|(k, _)| *k);
    let mut identity_links = Vec::new();
    for (enterprise, kind, l) in &snap.links {
        identity_links.push(IdentityLinkEntry {
            enterprise: *enterprise,
            enterprise_name: names.of(enterprise)?,
            kind: *kind,
            commitment: l.commitment,
            linked_at: l.linked_at.0,
        });
    }
    Ok(Export {
        account: id,
        as_of,
        consumer: snap.consumer,
        registration,
        balance: snap.balance,
        consents,
        uses,
        rewards: rewards.into_iter().map(|(_, r)| r).collect(),
        policies: snap.policies.into_iter().map(PolicyView::from).collect(),
        policy_changes,
        identity_links,
        referrals: snap.referrals,
        receipts: receipt_files,
    })
}

/// The enterprise whose settled use `use_id` (recorded by the tx of `r`)
/// paid a referral.
fn payer_of(store: &Store, r: &HistoryRecord, use_id: &UseId) -> Result<AccountId, ApiError> {
    let results = store
        .results(r.height)?
        .ok_or_else(|| ApiError::store(format!("results of block {} are missing", r.height)))?;
    results
        .results
        .get(r.tx_index as usize)
        .and_then(|res| match &res.outcome {
            assent_contracts::TxOutcome::Applied { events } => {
                events.iter().find_map(|e| match e {
                    Event::UseSettled {
                        use_id: u,
                        enterprise,
                        ..
                    } if u == use_id => Some(*enterprise),
                    _ => None,
                })
            }
            assent_contracts::TxOutcome::Rejected(_) => None,
        })
        .ok_or_else(|| {
            ApiError::store(format!(
                "the referral of use {use_id} at block {} has no settled use",
                r.height
            ))
        })
}

#[path = "export_entries.rs"]
mod entries;
use entries::{consent_entries, use_entries, RewardKey};
