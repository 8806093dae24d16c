//! The node's Prometheus metrics: one [`Metrics`] per node, shared through
//! `Arc<Shared>`, rendered as Prometheus/OpenMetrics text at `GET /metrics`.
//!
//! Every label comes from a closed set (an enum, a route template of the
//! router, a rejection code of the ledger); never a key, an id or a peer
//! address, so the number of series stays bounded.

use std::fmt::{self, Write as _};
use std::time::Duration;

use assent_contracts::{ErrorCode, TxOutcome};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::ledger::chain::Committed;

/// Rejection code of a tx (label `code`), e.g. `bad_nonce`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct CodeLabel(pub ErrorCode);

impl EncodeLabelValue for CodeLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), fmt::Error> {
        encoder.write_str(self.0.as_str())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectedLabels {
    code: CodeLabel,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    /// `consensus::intake::Refused::code`, a closed set.
    reason: &'static str,
}

/// HTTP method of an API request (label `method`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum MethodLabel {
    Get,
    Post,
    Other,
}

impl MethodLabel {
    pub fn from_method(m: &axum::http::Method) -> MethodLabel {
        match *m {
            axum::http::Method::GET => MethodLabel::Get,
            axum::http::Method::POST => MethodLabel::Post,
            _ => MethodLabel::Other,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            MethodLabel::Get => "GET",
            MethodLabel::Post => "POST",
            MethodLabel::Other => "OTHER",
        }
    }
}

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// Class of an HTTP status (label `status`): `2xx` … `5xx`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum StatusClass {
    Informational,
    Success,
    Redirect,
    ClientError,
    ServerError,
}

impl StatusClass {
    pub fn from_status(code: u16) -> StatusClass {
        match code {
            0..=199 => StatusClass::Informational,
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirect,
            400..=499 => StatusClass::ClientError,
            _ => StatusClass::ServerError,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            StatusClass::Informational => "1xx",
            StatusClass::Success => "2xx",
            StatusClass::Redirect => "3xx",
            StatusClass::ClientError => "4xx",
            StatusClass::ServerError => "5xx",
        }
    }
}

impl EncodeLabelValue for StatusClass {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// Labels of the API latency histogram. `route` is a route *template* of
/// the router (e.g. `/v1/txs/{id}`), a closed set.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    route: String,
    method: MethodLabel,
    status: StatusClass,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn api_histogram() -> Histogram {
    // 0.25 ms … ~4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.5, 12))
}

/// The node's metrics (names are prefixed `assent_`).
pub struct Metrics {
    registry: Registry,
    height: Gauge,
    block_interval: Histogram,
    txs_committed: Counter,
    txs_rejected: Family<RejectedLabels, Counter>,
    mempool: Gauge,
    backlog_allowed: Gauge,
    txs_overloaded: Counter,
    peers: Gauge,
    api_requests: HistogramFamily<ApiLabels>,
    streams_refused: Family<ReasonLabels, Counter>,
    api_clients_refused: Family<ReasonLabels, Counter>,
    equivocations: Family<KindLabels, Counter>,
    judged_invalid: Family<ReasonLabels, Counter>,
    proposal_txs: Family<SourceLabels, Counter>,
    early: Family<OutcomeLabels, Counter>,
    admission_batch: HistogramFamily<OriginLabels>,
    operator_reads: Family<RouteLabels, Counter>,
    reads_refused: Family<ReasonLabels, Counter>,
}

/// Labels of the operator-read counter: a route template (a closed set).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

/// Labels of the equivocation-evidence counter: `vote` or `proposal`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// Where a received proposal's txs came from (label `source`, a closed set).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: &'static str,
}

/// What became of something tried (label `outcome`, a closed set).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Where txs to admit came from (label `origin`: `client` or `gossip`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OriginLabels {
    origin: &'static str,
}

fn batch_histogram() -> Histogram {
    // 1 … 4,096 txs.
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("height", &self.height.get())
            .field("txs_committed", &self.txs_committed.get())
            .field("mempool", &self.mempool.get())
            .field("peers", &self.peers.get())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("assent");
        let height = Gauge::default();
        // 10 ms … ~82 s.
        let block_interval = Histogram::new(exponential_buckets(0.01, 2.0, 14));
        let txs_committed = Counter::default();
        let txs_rejected = Family::<RejectedLabels, Counter>::default();
        let mempool = Gauge::default();
        let peers = Gauge::default();
        let backlog_allowed = Gauge::default();
        let txs_overloaded = Counter::default();
        let api_requests: HistogramFamily<ApiLabels> = Family::new_with_constructor(api_histogram);
        let streams_refused = Family::<ReasonLabels, Counter>::default();
        let api_clients_refused = Family::<ReasonLabels, Counter>::default();
        let equivocations = Family::<KindLabels, Counter>::default();
        let judged_invalid = Family::<ReasonLabels, Counter>::default();
        let proposal_txs = Family::<SourceLabels, Counter>::default();
        let early = Family::<OutcomeLabels, Counter>::default();
        let admission_batch: HistogramFamily<OriginLabels> =
            Family::new_with_constructor(batch_histogram);
        let operator_reads = Family::<RouteLabels, Counter>::default();
        let reads_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "api_operator_reads",
            "Reads an operator (or validator) key made of records that are not its own, for audits and replication, by route template",
            operator_reads.clone(),
        );
        registry.register(
            "api_reads_refused",
            "Reads refused by the access rules, by code (unsigned, forbidden, signature_expired, replayed_signature, bad_signature, …)",
            reads_refused.clone(),
        );
        registry.register(
            "height",
            "Height of the last committed block",
            height.clone(),
        );
        registry.register(
            "block_interval_seconds",
            "Block time between consecutive committed blocks, in seconds",
            block_interval.clone(),
        );
        registry.register(
            "txs_committed",
            "Txs applied in committed blocks",
            txs_committed.clone(),
        );
        registry.register(
            "txs_rejected",
            "Txs rejected in committed blocks, by rejection code",
            txs_rejected.clone(),
        );
        registry.register(
            "mempool_txs",
            "Txs waiting in this node's mempool",
            mempool.clone(),
        );
        registry.register("gossip_peers", "Connected tx-gossip peers", peers.clone());
        registry.register(
            "api_request_duration_seconds",
            "HTTP API request latency (until the response head), by route template, method and status class",
            api_requests.clone(),
        );
        registry.register(
            "proposal_streams_refused",
            "Proposal streams (or parts) dropped before judging, by reason (e.g. not_a_validator, second_value)",
            streams_refused.clone(),
        );
        registry.register(
            "mempool_backlog_allowed",
            "Txs the mempool may hold for new client txs to be admitted: mempool.backlog_ms of the measured commit rate, at least mempool.min_backlog_txs",
            backlog_allowed.clone(),
        );
        registry.register(
            "txs_overloaded",
            "Client txs refused with 429 overloaded because the mempool held its backlog (mempool.backlog_ms of the commit rate)",
            txs_overloaded.clone(),
        );
        registry.register(
            "api_clients_refused",
            "HTTP connections and requests refused by the per-client limits, by reason (connections, client_connections, clients, rate, streams, exports)",
            api_clients_refused.clone(),
        );
        registry.register(
            "consensus_equivocation_evidence",
            "Pairs of conflicting signed votes or proposals by one validator for one height and round, as the consensus engine reported them at finalization (kind = vote or proposal)",
            equivocations.clone(),
        );
        registry.register(
            "proposals_judged_invalid",
            "Proposals that passed the intake and were then judged invalid, by reason (undecodable, bad_signature, foreign_builder, invalid_block)",
            judged_invalid.clone(),
        );
        registry.register(
            "proposal_txs",
            "Txs of received proposals by where this node got them: sent (whole in the proposal), pool (named by id, found in the mempool), fetched (from a peer), unfetched (not found anywhere in time: the proposal went unjudged)",
            proposal_txs.clone(),
        );
        registry.register(
            "proposals_executed_early",
            "Received proposals by whether this node executed them while their proposer did, before the roots and signature arrived: used (executed early, then judged with that result), dropped (executed early, then not needed: another stream, height or value), not_started (a tx was missing here; executed once complete)",
            early.clone(),
        );
        registry.register(
            "admission_batch_txs",
            "Txs admitted together (one batch signature check), by origin (client: one API call; gossip: the gossip messages that arrived while the last admission ran). A batch check costs less per signature the more it holds",
            admission_batch.clone(),
        );
        Metrics {
            registry,
            height,
            block_interval,
            txs_committed,
            txs_rejected,
            mempool,
            backlog_allowed,
            txs_overloaded,
            peers,
            api_requests,
            streams_refused,
            api_clients_refused,
            equivocations,
            judged_invalid,
            proposal_txs,
            early,
            admission_batch,
            operator_reads,
            reads_refused,
        }
    }

    /// Records the size of one admission (`origin`: `client` or `gossip`).
    pub fn admission_batch(&self, origin: &'static str, txs: usize) {
        self.admission_batch
            .get_or_create(&OriginLabels { origin })
            .observe(txs as f64);
    }

    /// Counts one read an operator key made of records not its own.
    pub fn operator_read(&self, route: &'static str) {
        self.operator_reads
            .get_or_create(&RouteLabels { route })
            .inc();
    }

    /// Counts one read refused by the access rules.
    pub fn read_refused(&self, reason: &'static str) {
        self.reads_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Counts a proposal judged invalid (`reason`: see the metric's help).
    pub fn proposal_invalid(&self, reason: &'static str) {
        self.judged_invalid
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Counts `n` txs of received proposals that came from `source` (see
    /// the metric's help).
    pub fn proposal_txs(&self, source: &'static str, n: usize) {
        if n > 0 {
            self.proposal_txs
                .get_or_create(&SourceLabels { source })
                .inc_by(n as u64);
        }
    }

    /// Counts a received proposal's early execution by `outcome` (see the
    /// metric's help).
    pub fn proposal_early(&self, outcome: &'static str) {
        self.early.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// Counts `n` pairs of conflicting messages of one `kind` (`vote` or
    /// `proposal`) by one validator.
    pub fn equivocation(&self, kind: &'static str, n: usize) {
        self.equivocations
            .get_or_create(&KindLabels { kind })
            .inc_by(n as u64);
    }

    /// Counts one connection or request refused by a per-client limit.
    pub fn api_client_refused(&self, reason: &'static str) {
        self.api_clients_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Records a committed block: height, its txs by outcome, and the block
    /// interval (`None` for the first block this process sees).
    pub fn observe_commit(&self, committed: &Committed, interval: Option<Duration>) {
        self.height.set(gauge_value(committed.head.height.0));
        if let Some(d) = interval {
            self.block_interval.observe(d.as_secs_f64());
        }
        let mut applied = 0u64;
        for r in &committed.results.results {
            match &r.outcome {
                TxOutcome::Applied { .. } => applied += 1,
                TxOutcome::Rejected(e) => {
                    self.txs_rejected
                        .get_or_create(&RejectedLabels {
                            code: CodeLabel(e.code),
                        })
                        .inc();
                }
            }
        }
        self.txs_committed.inc_by(applied);
    }

    /// Adds the storage metrics (commit path, persister, indexer, cache).
    pub fn register_storage(&mut self, storage: &crate::storage::StorageMetrics) {
        storage.register(&mut self.registry);
    }

    pub fn set_height(&self, height: u64) {
        self.height.set(gauge_value(height));
    }

    pub fn set_mempool(&self, n: usize) {
        self.mempool.set(gauge_value(n as u64));
    }

    /// Counts `n` client txs refused as `overloaded`, with the backlog the
    /// pool allowed then.
    pub fn overloaded(&self, n: usize, allowed: usize) {
        self.txs_overloaded.inc_by(n as u64);
        self.backlog_allowed.set(gauge_value(allowed as u64));
    }

    /// The backlog the pool allows now.
    pub fn set_backlog_allowed(&self, allowed: usize) {
        self.backlog_allowed.set(gauge_value(allowed as u64));
    }

    pub fn set_peers(&self, n: usize) {
        self.peers.set(gauge_value(n as u64));
    }

    /// Counts a proposal stream (or part) dropped by the intake.
    pub fn refused_stream(&self, reason: &'static str) {
        self.streams_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Records one API request (`route` is the router's template).
    pub fn observe_api(&self, route: &str, method: MethodLabel, status: u16, elapsed: Duration) {
        let labels = ApiLabels {
            route: route.to_string(),
            method,
            status: StatusClass::from_status(status),
        };
        self.api_requests
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // Writing into a String cannot fail; keep the scrape useful anyway.
            let _ = writeln!(out, "# encoding failed: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_labels_from_enums() {
        let m = Metrics::new();
        m.set_mempool(7);
        m.set_peers(3);
        m.observe_api(
            "/v1/txs/{id}",
            MethodLabel::Get,
            404,
            Duration::from_millis(2),
        );
        let text = m.encode();
        assert!(text.contains("assent_mempool_txs 7"), "{text}");
        assert!(text.contains("assent_gossip_peers 3"), "{text}");
        assert!(text.contains("route=\"/v1/txs/{id}\""), "{text}");
        assert!(text.contains("status=\"4xx\""), "{text}");
        assert!(text.contains("method=\"GET\""), "{text}");
        assert!(format!("{m:?}").contains("mempool: 7"));
        m.refused_stream("second_value");
        assert!(
            m.encode()
                .contains("assent_proposal_streams_refused_total{reason=\"second_value\"} 1"),
            "{}",
            m.encode()
        );
    }
}
