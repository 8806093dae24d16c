//! Metrics of the commit path and of storage's background tasks.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Cloneable handles; [`StorageMetrics::register`] adds them to the node's registry.
#[derive(Debug, Clone)]
pub struct StorageMetrics {
    pub commit_seconds: Histogram,
    pub validate_seconds: Histogram,
    pub execute_seconds: Histogram,
    pub execute_ns_per_unit: Gauge,
    pub journal_bytes: Counter,
    pub persist_seconds: Histogram,
    pub persisted_records: Counter,
    pub persister_lag_heights: Gauge,
    pub unpersisted_bytes: Gauge,
    pub indexer_lag_heights: Gauge,
    pub index_runs: Gauge,
    pub index_entries: Gauge,
    pub tree_nodes: Gauge,
    pub tree_bytes: Gauge,
    pub tree_versions: Gauge,
    pub tree_paged_subtrees: Gauge,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
}

fn seconds() -> Histogram {
    // 0.1 ms … ~6.5 s.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 17))
}

impl Default for StorageMetrics {
    fn default() -> Self {
        StorageMetrics {
            commit_seconds: seconds(),
            validate_seconds: seconds(),
            execute_seconds: seconds(),
            execute_ns_per_unit: Gauge::default(),
            journal_bytes: Counter::default(),
            persist_seconds: seconds(),
            persisted_records: Counter::default(),
            persister_lag_heights: Gauge::default(),
            unpersisted_bytes: Gauge::default(),
            indexer_lag_heights: Gauge::default(),
            index_runs: Gauge::default(),
            index_entries: Gauge::default(),
            tree_nodes: Gauge::default(),
            tree_bytes: Gauge::default(),
            tree_versions: Gauge::default(),
            tree_paged_subtrees: Gauge::default(),
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
        }
    }
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl StorageMetrics {
    pub fn register(&self, r: &mut Registry) {
        r.register(
            "commit_duration_seconds",
            "Committing a decided block: journal write, state apply",
            self.commit_seconds.clone(),
        );
        r.register(
            "validate_duration_seconds",
            "Validating a proposed block (checks, signatures, re-execution)",
            self.validate_seconds.clone(),
        );
        r.register(
            "execute_duration_seconds",
            "Executing a block's txs (build, validation or recovery)",
            self.execute_seconds.clone(),
        );
        r.register(
            "execute_ns_per_work_unit",
            "Running average of execution time per work unit (a tx, or a use of a RecordUse), which sizes this node's proposals",
            self.execute_ns_per_unit.clone(),
        );
        r.register(
            "journal_written_bytes",
            "Bytes appended to the block journal",
            self.journal_bytes.clone(),
        );
        r.register(
            "persist_duration_seconds",
            "Writing one state checkpoint to sled (background)",
            self.persist_seconds.clone(),
        );
        r.register(
            "persisted_records",
            "State records written to sled by the persister",
            self.persisted_records.clone(),
        );
        r.register(
            "persister_lag_heights",
            "Committed heights not yet in the state checkpoint",
            self.persister_lag_heights.clone(),
        );
        r.register(
            "unpersisted_state_bytes",
            "Bytes of committed state changes held in memory until the persister writes them",
            self.unpersisted_bytes.clone(),
        );
        r.register(
            "indexer_lag_heights",
            "Committed heights not yet indexed",
            self.indexer_lag_heights.clone(),
        );
        r.register(
            "index_runs",
            "Sorted runs the query indexes are in (merged when a level fills)",
            self.index_runs.clone(),
        );
        r.register(
            "index_entries",
            "Entries in the query indexes' runs",
            self.index_entries.clone(),
        );
        r.register(
            "state_tree_nodes",
            "Nodes of the state tree held for the head, the kept heights and candidate blocks",
            self.tree_nodes.clone(),
        );
        r.register(
            "state_tree_bytes",
            "Memory of the state tree's node arena and version logs",
            self.tree_bytes.clone(),
        );
        r.register(
            "state_tree_versions",
            "State tree versions recorded (kept heights, candidates, versions not yet freed)",
            self.tree_versions.clone(),
        );
        r.register(
            "state_tree_paged_subtrees",
            "Subtrees of the state tree paged out to data/store/tree to stay within store.state_tree_mb",
            self.tree_paged_subtrees.clone(),
        );
        r.register(
            "state_cache_hits",
            "State reads answered by the read cache",
            self.cache_hits.clone(),
        );
        r.register(
            "state_cache_misses",
            "State reads that went to sled",
            self.cache_misses.clone(),
        );
    }

    pub fn set_tree(&self, s: assent_contracts::state::tree::ArenaStats) {
        self.tree_nodes.set(gauge(s.nodes));
        self.tree_bytes.set(gauge(s.bytes));
        self.tree_versions.set(gauge(s.versions));
        self.tree_paged_subtrees.set(gauge(s.paged_subtrees));
    }

    pub fn observe_persist(&self, records: usize, took: Duration) {
        self.persisted_records.inc_by(records as u64);
        self.persist_seconds.observe(took.as_secs_f64());
    }

    /// Lags after a commit or a background step.
    pub fn set_lags(&self, head: u64, persisted: u64, unpersisted_bytes: usize, indexed: u64) {
        self.persister_lag_heights
            .set(gauge(head.saturating_sub(persisted)));
        self.unpersisted_bytes.set(gauge(unpersisted_bytes as u64));
        self.indexer_lag_heights
            .set(gauge(head.saturating_sub(indexed)));
    }
}
