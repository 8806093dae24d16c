//! `GET /v1/events`: committed-block events as server-sent events.
//!
//! Cursor `H:I` = event `I` of block `H`, where a block's events are counted
//! in order: every tx's events in tx order (a tx rejected in the block counts
//! as one `tx_rejected` event), then the end-of-block events. A client
//! resumes AFTER a cursor (`Last-Event-ID`, or `?from=H:I`): stored history
//! is streamed block by block from the store, then live blocks from
//! `Chain::subscribe`. If the live receiver lags, the client gets
//! `event: gap` (`{"resume_from": "H:I"}`) and the stream goes on from the
//! store: no event is silently dropped.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use assent_contracts::{AccountId, Event, Height, TxOutcome};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{self, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use utoipa::IntoParams;

use super::auth::Reader;
use super::error::{blocking, ApiError, ErrorBody};
use super::routes::{ApiState, Client};
use super::views::{BlockSummaryData, EventData, GapData};
use crate::ledger::chain::Committed;
use crate::shared::Shared;
use crate::storage::BlockResults;

/// Furthest back (in blocks) a request may resume from.
pub const MAX_REPLAY_BLOCKS: u64 = 100_000;
/// A cursor may be at most this far ahead of the tip (a client coming from
/// a node that is a little further along); further is refused, so a stream
/// never waits for a height the chain may not reach for a long time.
pub const MAX_CURSOR_AHEAD: u64 = 100;
/// Interval of keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Position of an event: block height and index within the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub height: u64,
    pub index: u32,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.height, self.index)
    }
}

impl FromStr for Cursor {
    type Err = String;
    fn from_str(s: &str) -> Result<Cursor, String> {
        let bad = || {
            format!("`{s}` is not an event cursor; give HEIGHT:INDEX as in an event's id, e.g. 12:0 (0:0 replays from the first block)")
        };
        let (h, i) = s.trim().split_once(':').ok_or_else(bad)?;
        Ok(Cursor {
            height: h.parse().map_err(|_| bad())?,
            index: i.parse().map_err(|_| bad())?,
        })
    }
}

/// One item of an event stream, before it becomes SSE text.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamItem {
    /// A ledger event (or `tx_rejected`) at `cursor`.
    Event {
        cursor: Cursor,
        kind: String,
        data: Value,
    },
    /// The live feed fell behind; events continue after `resume_from` from stored history.
    Gap { resume_from: Cursor },
    /// The stream stops: the store could not be read.
    Error { message: String },
}

/// The JSON of a ledger event: `{"<event_type>": {...}}` (`"params_changed"` for the unit event).
pub fn event_json(e: &Event) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[derive(serde::Serialize)]
struct TxRejected<'a> {
    tx_id: &'a str,
    code: &'a str,
    reason: &'a str,
}

/// The snake_case type of an event's JSON.
fn event_kind(v: &Value) -> String {
    match v {
        Value::Object(m) => m.keys().next().cloned().unwrap_or_else(|| "event".into()),
        Value::String(s) => s.clone(),
        _ => "event".into(),
    }
}

/// Every event of a block, in cursor order.
pub fn block_events(height: u64, results: &BlockResults) -> Vec<StreamItem> {
    let mut out = Vec::new();
    let mut index: u32 = 0;
    let mut push = |tx_id: Option<String>, event: Value| {
        let kind = event_kind(&event);
        let cursor = Cursor { height, index };
        let data = to_json(&EventData {
            height,
            index,
            tx_id,
            event,
        });
        out.push(StreamItem::Event { cursor, kind, data });
        index = index.saturating_add(1);
    };
    for r in &results.results {
        let tx_id = r.tx_id.to_string();
        match &r.outcome {
            TxOutcome::Applied { events } => {
                for e in events {
                    push(Some(tx_id.clone()), event_json(e));
                }
            }
            TxOutcome::Rejected(e) => {
                let body = to_json(&TxRejected {
                    tx_id: &tx_id,
                    code: e.code.as_str(),
                    reason: &e.reason,
                });
                let ev = Value::Object([("tx_rejected".to_string(), body)].into_iter().collect());
                push(Some(tx_id.clone()), ev);
            }
        }
    }
    for e in &results.end_events {
        push(None, event_json(e));
    }
    out
}

/// What a stream carries: every event, or one summary per block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    Events,
    Blocks,
}

/// The `block` summary of a committed block; its cursor is `H:4294967295`
/// (the whole block), so a client resumes at the next block.
pub fn block_summary(height: u64, time_ms: u64, results: &BlockResults) -> StreamItem {
    let mut d = BlockSummaryData {
        height,
        time_ms,
        applied: Vec::with_capacity(results.results.len()),
        rejected: Vec::new(),
        uses_settled: 0,
        uses_rejected: Default::default(),
    };
    for r in &results.results {
        match &r.outcome {
            TxOutcome::Applied { events } => {
                d.applied.push(r.tx_id.to_string());
                for e in events {
                    match e {
                        Event::UseSettled { .. } => d.uses_settled += 1,
                        Event::UseRejected { code, .. } => {
                            *d.uses_rejected
                                .entry(code.as_str().to_string())
                                .or_default() += 1
                        }
                        _ => {}
                    }
                }
            }
            TxOutcome::Rejected(e) => d
                .rejected
                .push((r.tx_id.to_string(), e.code.as_str().to_string())),
        }
    }
    StreamItem::Event {
        cursor: Cursor {
            height,
            index: u32::MAX,
        },
        kind: "block".into(),
        data: to_json(&d),
    }
}

struct Tail {
    shared: Arc<Shared>,
    view: View,
    rx: broadcast::Receiver<Arc<Committed>>,
    /// Next block to deliver, and the first index to deliver in it.
    next_height: u64,
    skip_below: u32,
    /// Last cursor delivered (or the one the stream started after).
    last: Cursor,
    pending: VecDeque<StreamItem>,
    done: bool,
}

impl Tail {
    fn push_block(&mut self, height: u64, time_ms: u64, results: &BlockResults) {
        if self.view == View::Blocks {
            let item = block_summary(height, time_ms, results);
            if let StreamItem::Event { cursor, .. } = &item {
                self.last = *cursor;
            }
            self.pending.push_back(item);
            self.next_height = height.saturating_add(1);
            self.skip_below = 0;
            return;
        }
        for item in block_events(height, results) {
            if let StreamItem::Event { cursor, .. } = &item {
                if cursor.index < self.skip_below {
                    continue;
                }
                self.last = *cursor;
            }
            self.pending.push_back(item);
        }
        self.next_height = height.saturating_add(1);
        self.skip_below = 0;
    }

    /// A live block: used if it is the next one; older ones were delivered,
    /// newer ones mean blocks were missed and are read from the store.
    fn take_live(&mut self, c: &Committed) {
        if c.head.height.0 == self.next_height {
            self.push_block(c.head.height.0, c.head.time.0, &c.results);
        }
    }

    fn gap(&mut self, missed: u64) {
        tracing::warn!(target: "assent::api", missed, resume_from = %self.last, "event stream fell behind; continuing from the store");
        self.pending.push_back(StreamItem::Gap {
            resume_from: self.last,
        });
    }

    async fn read_stored(&mut self) {
        let h = self.next_height;
        let shared = self.shared.clone();
        let read = blocking(move || {
            let store = shared.chain.store();
            match store.results(Height(h))? {
                Some(r) => {
                    let time = store
                        .block(Height(h))?
                        .map(|b| b.header.time.0)
                        .unwrap_or(0);
                    Ok(Some((r, time)))
                }
                None => Ok(None),
            }
        });
        match read.await {
            Ok(Some((results, time))) => self.push_block(h, time, &results),
            // Height 0 is genesis: no block, no events.
            Ok(None) if h == 0 => {
                self.next_height = 1;
                self.skip_below = 0;
            }
            Ok(None) => self.fail(format!(
                "results of committed block {h} are missing from the store"
            )),
            Err(e) => self.fail(e.message),
        }
    }

    fn fail(&mut self, message: String) {
        tracing::error!(target: "assent::api", %message, "event stream stopped");
        self.pending.push_back(StreamItem::Error { message });
        self.done = true;
    }

    async fn step(mut self) -> Option<(StreamItem, Tail)> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some((item, self));
            }
            if self.done {
                return None;
            }
            match self.rx.try_recv() {
                Ok(c) => {
                    self.take_live(&c);
                    continue;
                }
                Err(TryRecvError::Lagged(n)) => {
                    self.gap(n);
                    continue;
                }
                Err(TryRecvError::Closed) => {
                    self.done = true;
                    continue;
                }
                Err(TryRecvError::Empty) => {}
            }
            if self.next_height <= self.shared.chain.head().height.0 {
                self.read_stored().await;
                continue;
            }
            match self.rx.recv().await {
                Ok(c) => self.take_live(&c),
                Err(RecvError::Lagged(n)) => self.gap(n),
                Err(RecvError::Closed) => self.done = true,
            }
        }
    }
}

/// The event stream after `after` (or from the next block if `None`), fed by
/// `rx`, which must have subscribed before this call. Public so tests can
/// drive it with their own (small) broadcast channel.
pub fn tail(
    shared: Arc<Shared>,
    rx: broadcast::Receiver<Arc<Committed>>,
    after: Option<Cursor>,
    view: View,
) -> impl Stream<Item = StreamItem> + Send {
    let (next_height, skip_below, last) = match after {
        Some(c) if c.index == u32::MAX => (c.height.saturating_add(1), 0, c),
        Some(c) => (c.height, c.index + 1, c),
        None => {
            let head = shared.chain.head().height.0;
            (
                head.saturating_add(1),
                0,
                Cursor {
                    height: head,
                    index: u32::MAX,
                },
            )
        }
    };
    let t = Tail {
        shared,
        view,
        rx,
        next_height,
        skip_below,
        last,
        pending: VecDeque::new(),
        done: false,
    };
    futures::stream::unfold(t, Tail::step)
}

/// Whether an item of the stream belongs in `account`'s own stream: the
/// events that name it, and every gap and error notice.
fn names(item: &StreamItem, account: &AccountId) -> bool {
    match item {
        StreamItem::Event { data, .. } => {
            let mut named = Vec::new();
            super::parties::accounts_in(data.get("event").unwrap_or(&Value::Null), &mut named);
            named.contains(account)
        }
        StreamItem::Gap { .. } | StreamItem::Error { .. } => true,
    }
}

fn to_sse(item: StreamItem) -> sse::Event {
    match item {
        StreamItem::Event { cursor, kind, data } => sse::Event::default()
            .id(cursor.to_string())
            .event(kind)
            .data(data.to_string()),
        StreamItem::Gap { resume_from } => {
            let data = to_json(&GapData {
                resume_from: resume_from.to_string(),
            });
            sse::Event::default().event("gap").data(data.to_string())
        }
        StreamItem::Error { message } => {
            let data = to_json(&ErrorBody {
                code: "store_error".into(),
                message: format!("{message}; reconnect with Last-Event-ID to resume"),
                retry_after_ms: None,
            });
            sse::Event::default().event("error").data(data.to_string())
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Resume after this cursor, `HEIGHT:INDEX` (`Last-Event-ID` takes precedence). Without it the stream starts at the next block.
    from: Option<String>,
    /// `events` (default): every ledger event; `blocks`: one `block` event per
    /// committed block (BlockSummaryData: applied tx ids, rejected txs with
    /// codes, use counts).
    #[param(value_type = Option<String>)]
    view: Option<View>,
}

/// Committed-block events as server-sent events.
#[utoipa::path(get, path = "/v1/events", tag = "events",
    params(EventsQuery, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this cursor, HEIGHT:INDEX")),
    responses(
        (status = 200, description = "text/event-stream; each event: `id: H:I`, `event: <type>`, `data:` EventData JSON; `event: gap` carries GapData", content_type = "text/event-stream", body = EventData),
        (status = 400, description = "bad_cursor, cursor_too_old, cursor_in_future", body = ErrorBody),
        (status = 429, description = "too_many_streams (this client's), rate_limited", body = ErrorBody),
        (status = 503, description = "too_many_streams (the node's)", body = ErrorBody)))]
pub(crate) async fn events(
    State(st): State<ApiState>,
    reader: Reader,
    client: Option<Extension<Client>>,
    headers: HeaderMap,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>, ApiError> {
    let Query(q) = q.map_err(ApiError::query)?;
    let view = q.view.unwrap_or(View::Events);
    // Operators follow every event (and the block view); any other account
    // follows the events that name it.
    let only = match (reader.sees_all(&st.shared, &[])?, view) {
        (true, _) => None,
        (false, View::Events) => reader.account(),
        (false, View::Blocks) => {
            return Err(super::auth::forbidden(
                &st.shared,
                &reader,
                "the block view of the event stream (it is for operators; an account's own stream is view=events)",
            ))
        }
    };
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let after = match last_id.or(q.from.as_deref()) {
        Some(s) => Some(
            s.parse::<Cursor>()
                .map_err(|m| ApiError::bad_request("bad_cursor", m))?,
        ),
        None => None,
    };
    // Subscribe before reading the head, so no block falls between history and live.
    let rx = st.shared.chain.subscribe();
    let head = st.shared.chain.head().height.0;
    if let Some(c) = after {
        if c.height > head.saturating_add(MAX_CURSOR_AHEAD) {
            return Err(ApiError::bad_request(
                "cursor_in_future",
                format!("cursor {c} is more than {MAX_CURSOR_AHEAD} blocks ahead of this node's tip ({head}); resume from a cursor this chain has reached"),
            ));
        }
        if head.saturating_sub(c.height) > MAX_REPLAY_BLOCKS {
            return Err(ApiError::bad_request(
                "cursor_too_old",
                format!("cursor {c} is more than {MAX_REPLAY_BLOCKS} blocks behind the tip ({head}); read older blocks with GET /v1/blocks/{{height}} and resume from a recent cursor"),
            ));
        }
    }
    let mine = st.client_permit(client.map(|Extension(c)| c), |c, ip| c.stream(ip))?;
    let permit = st.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            "this node serves its maximum of event streams; retry later or use another node",
        )
    })?;
    tracing::debug!(target: "assent::api", after = ?after.map(|c| c.to_string()), head, "event stream opened");
    let mut shutdown = st.stop.subscribe();
    let stream = tail(st.shared.clone(), rx, after, view)
        .filter(move |item| std::future::ready(only.is_none_or(|a| names(item, &a))))
        .map(move |item| {
            let _held = (&permit, &mine);
            Ok::<_, Infallible>(to_sse(item))
        })
        .take_until(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")))
}
