//! Who is reading: signed reads (RFC 9421 message signatures, see
//! [`assent_keys::reads`]) and the access rule of every route (issue 14,
//! item 1; ARCHITECTURE decision 33).
//!
//! The middleware [`authenticate`] verifies a request's signature, if it has
//! one, and resolves the signing key to the account it signs for at the tip
//! (a rotated-in key reads as its account; a retired key reads as no one).
//! Then the route's [`Access`] rule applies:
//!
//! - [`Access::Public`]: anyone, signed or not.
//! - [`Access::Operator`]: a key of a genesis/governance operator or of a
//!   validator in the current set; anything else is 401 unsigned / 403.
//! - [`Access::Party`]: a signature is needed (401 without one); the handler
//!   then asks [`Reader::require`] whether the reader is a party to the record
//!   (403 if not) or narrows the answer to what the reader may see.
//!
//! Operators reading records not their own are counted in
//! `assent_api_operator_reads_total`. Each signature is accepted once: its
//! `(keyid, nonce)` is remembered until it expires ([`ReplayGuard`]).

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use assent_contracts::state::{ControlExt, KeyRole, StateExt};
use assent_contracts::AccountId;
use assent_keys::reads::{self, KeyCache, ReceivedSignature};
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{blocking, ApiError};
use super::routes::{ApiState, ROUTES};
use crate::shared::Shared;

/// The access rule of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// Operators and validators only.
    Operator,
    /// Signed by a party to the record (the handler decides which parties).
    Party,
    /// Public for some records, [`Access::Party`] for the others; the
    /// handler decides (`/v1/state-proofs/{kind}/{id}`).
    Record,
}

impl Access {
    /// The rule's name in the OpenAPI document (`x-assent-access`).
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Operator => "operator",
            Access::Party => "party",
            Access::Record => "record",
        }
    }
}

/// The tx-status route, the one a retired key may still read (its own txs).
const TX_STATUS: &str = "/v1/txs/{id}";

/// Most live signatures remembered (each until it expires); beyond this a
/// signed read is answered 503 until some expire.
pub const MAX_LIVE_SIGNATURES: usize = 1 << 18;

/// Who made a request, as the handlers see it.
#[derive(Clone, Debug)]
pub enum Reader {
    /// No signature.
    Anonymous,
    /// A verified signature.
    Signed {
        /// The account the key signs for.
        account: AccountId,
        /// The signing key (a tx's `sender`: txs name the key that signs).
        key: AccountId,
        /// An operator's account or a current validator's key.
        operator: bool,
        /// The route template, for the operator-read metric.
        route: &'static str,
    },
}

impl Reader {
    /// The reading account, if signed.
    pub fn account(&self) -> Option<AccountId> {
        match self {
            Reader::Anonymous => None,
            Reader::Signed { account, .. } => Some(*account),
        }
    }

    /// Whether the reader is one of `parties`, or an operator (counted).
    /// 401 when unsigned, 403 otherwise.
    pub fn require(&self, shared: &Shared, parties: &[AccountId]) -> Result<(), ApiError> {
        match self.sees_all(shared, parties)? {
            true => Ok(()),
            false => Err(forbidden(shared, self, "this record")),
        }
    }

    /// Whether the reader sees a record of `parties` whole: it is one of
    /// them, or an operator (counted as an operator read). `Ok(false)` for
    /// any other signed reader (the handler may narrow the answer); 401
    /// when unsigned.
    pub fn sees_all(&self, shared: &Shared, parties: &[AccountId]) -> Result<bool, ApiError> {
        match self {
            Reader::Anonymous => Err(unsigned(shared)),
            Reader::Signed { account, key, .. }
                if parties.contains(account) || parties.contains(key) =>
            {
                Ok(true)
            }
            Reader::Signed {
                operator: true,
                route,
                ..
            } => {
                shared.metrics.operator_read(route);
                Ok(true)
            }
            Reader::Signed { .. } => Ok(false),
        }
    }
}

impl Reader {
    /// What of a consumer's records the reader sees: all of them (`None`:
    /// the consumer itself or an operator), or only those with one
    /// enterprise (`Some(e)`: the reader is that enterprise). Anyone else
    /// is 403, an unsigned reader 401.
    pub fn consumer_scope(
        &self,
        shared: &Shared,
        consumer: &AccountId,
    ) -> Result<Option<AccountId>, ApiError> {
        if self.sees_all(shared, &[*consumer])? {
            return Ok(None);
        }
        match self.account() {
            Some(a) if shared.chain.store().enterprise(&a)?.is_some() => Ok(Some(a)),
            _ => Err(forbidden(
                shared,
                self,
                &format!("the records of consumer {consumer}"),
            )),
        }
    }
}

/// 401: the route needs a signature.
pub fn unsigned(shared: &Shared) -> ApiError {
    shared.metrics.read_refused("unsigned");
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unsigned",
        "this route answers signed reads only: sign the request with the key of an account that may read it (RFC 9421 Signature-Input and Signature headers; the assent CLI does this for you, see docs/node-interfaces.md)",
    )
}

/// 403: signed, but not by a party to what was asked.
pub fn forbidden(shared: &Shared, reader: &Reader, what: &str) -> ApiError {
    shared.metrics.read_refused("forbidden");
    let who = reader
        .account()
        .map_or_else(|| "this reader".to_string(), |a| a.to_string());
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("{who} may not read {what}: only the account it belongs to (and the ledger's operators, for audits) may"),
    )
}

/// Remembers `(keyid, nonce)` of each accepted signature until it expires.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    inner: Mutex<Live>,
}

#[derive(Debug, Default)]
struct Live {
    /// (expires, key, nonce), oldest expiry first.
    by_expiry: BTreeSet<(u64, AccountId, String)>,
    seen: HashSet<(AccountId, String)>,
}

/// Why [`ReplayGuard::admit`] refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    Seen,
    Full,
}

impl ReplayGuard {
    /// Admits a signature once; `now` prunes the expired ones first.
    pub fn admit(&self, key: AccountId, nonce: &str, expires: u64, now: u64) -> Result<(), Replay> {
        let mut live = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(first) = live.by_expiry.first() {
            if first.0 >= now {
                break;
            }
            if let Some((_, k, n)) = live.by_expiry.pop_first() {
                live.seen.remove(&(k, n));
            }
        }
        if live.seen.contains(&(key, nonce.to_string())) {
            return Err(Replay::Seen);
        }
        if live.seen.len() >= MAX_LIVE_SIGNATURES {
            return Err(Replay::Full);
        }
        live.seen.insert((key, nonce.to_string()));
        live.by_expiry.insert((expires, key, nonce.to_string()));
        Ok(())
    }

    /// Signatures remembered now.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |l| l.seen.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The rule and template of a matched route.
fn rule(method: &axum::http::Method, template: &str) -> Option<(&'static str, Access)> {
    ROUTES
        .iter()
        .find(|(m, p, _)| *p == template && *m == method.as_str())
        .map(|(_, p, a)| (*p, *a))
}

/// A header's value as text: `None` if absent, `Some(Err)` if not ASCII.
fn header_text(req: &Request, name: &str) -> Option<Result<String, ()>> {
    req.headers()
        .get(name)
        .map(|v| v.to_str().map(str::to_string).map_err(|_| ()))
}

fn refuse(shared: &Shared, code: &'static str, message: String) -> ApiError {
    shared.metrics.read_refused(code);
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Verifies the request's signature (if any), applies the route's rule and
/// hands the [`Reader`] to the handler.
pub async fn authenticate(State(st): State<ApiState>, mut req: Request, next: Next) -> Response {
    let Some((route, access)) = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| rule(req.method(), p.as_str()))
    else {
        return next.run(req).await;
    };
    let input = header_text(&req, reads::SIGNATURE_INPUT);
    let sig = header_text(&req, reads::SIGNATURE);
    let reader = match (input, sig) {
        (None, None) => Reader::Anonymous,
        (Some(Ok(input)), Some(Ok(sig))) => {
            let method = req.method().as_str().to_string();
            let path = req.uri().path().to_string();
            let query = req.uri().query().map(str::to_string);
            let shared = st.shared.clone();
            let replay = st.replay.clone();
            let keys = st.keys.clone();
            let checked = blocking(move || {
                Ok(verify(
                    &shared,
                    &replay,
                    &keys,
                    &input,
                    &sig,
                    &method,
                    &path,
                    query.as_deref(),
                    route,
                ))
            })
            .await;
            match checked.and_then(|r| r) {
                Ok(r) => r,
                Err(e) => return e.into_response(),
            }
        }
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            return refuse(
                &st.shared,
                "bad_signature_header",
                "the Signature-Input and Signature headers must be ASCII".into(),
            )
            .into_response()
        }
        (Some(_), None) | (None, Some(_)) => {
            return refuse(
                &st.shared,
                "bad_signature_header",
                "a signed read carries both Signature-Input and Signature".into(),
            )
            .into_response()
        }
    };
    match (access, &reader) {
        (Access::Public | Access::Record, _) | (Access::Party, Reader::Signed { .. }) => {}
        (Access::Operator, Reader::Signed { operator: true, .. }) => {
            st.shared.metrics.operator_read(route)
        }
        (_, Reader::Anonymous) => return unsigned(&st.shared).into_response(),
        (Access::Operator, Reader::Signed { .. }) => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("{route} is for the ledger's operators and validators; sign with an operator's or a validator's key"),
            )
            .into_response()
        }
    }
    req.extensions_mut().insert(reader);
    next.run(req).await
}

#[allow(clippy::too_many_arguments)]
fn verify(
    shared: &Shared,
    replay: &ReplayGuard,
    keys: &KeyCache,
    input: &str,
    sig: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
    route: &'static str,
) -> Result<Reader, ApiError> {
    let r = |e: reads::ReadSigError| refuse(shared, e.code(), e.to_string());
    let received = ReceivedSignature::parse(input, sig).map_err(r)?;
    let now = now_s();
    received.params.check_time(now).map_err(r)?;
    let key = received.params.keyid;
    keys.verify(&received, shared.chain.chain_id(), method, path, query)
        .map_err(r)?;
    let store = shared.chain.store();
    let account = match store.key_role(&key).map_err(ApiError::store)? {
        Some(KeyRole::Signs { account, .. }) => account,
        // A retired key reads nothing of the account any more (it may be
        // the lost key a thief holds), only the status of txs it sent
        // (a rotation's own tx, followed by the key it retires).
        Some(KeyRole::Retired { .. }) if route == TX_STATUS => key,
        Some(KeyRole::Retired { account, at }) => {
            return Err(refuse(
                shared,
                "retired_key",
                format!("key {key} stopped signing for account {account} at height {}; sign with the account's current key", at.0),
            ))
        }
        None => key,
    };
    match replay.admit(key, &received.params.nonce, received.params.expires, now) {
        Ok(()) => {}
        Err(Replay::Seen) => {
            return Err(refuse(
                shared,
                "replayed_signature",
                "this signature was already used; sign each request anew (with a fresh nonce)"
                    .into(),
            ))
        }
        Err(Replay::Full) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "this node holds its maximum of live read signatures; retry in a few seconds",
            )
            .retry_after(std::time::Duration::from_secs(5)))
        }
    }
    let operator = store.is_operator(&account).map_err(ApiError::store)?
        || shared
            .chain
            .validators()
            .map_err(ApiError::store)?
            .iter()
            .any(|v| v.consensus_key == key);
    Ok(Reader::Signed {
        account,
        key,
        operator,
        route,
    })
}
