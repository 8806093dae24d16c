//! Submitting as a well-behaved client does under backpressure: a tx the
//! node refuses `429 overloaded` (the pool holds `mempool.backlog_ms` of the
//! commit rate) is sent again after the `Retry-After` the node gave.

use std::time::{Duration, Instant};

use assent_contracts::SignedTx;
use serde_json::{json, Value};

use crate::Net;

/// How long a test client keeps sending again while the node is busy.
const PATIENCE: Duration = Duration::from_secs(120);

fn retry_after(v: &Value) -> Duration {
    Duration::from_secs(v["retry_after_s"].as_u64().unwrap_or(1).clamp(1, 10))
}

impl Net {
    /// `POST /v1/txs` of `tx` to node `i`, sent again while the node
    /// answers `overloaded`; the last answer (status, JSON).
    pub fn submit_patiently(&self, i: usize, tx: &SignedTx) -> (u16, Value) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (status, v) = self.submit(i, tx);
            if status != 429 || v["code"] != "overloaded" || Instant::now() > deadline {
                return (status, v);
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// `POST /v1/txs/batch` of `txs` to node `i`; the txs refused
    /// `overloaded` are sent again after the node's `Retry-After`, in order.
    /// One result per tx (`{"tx_id"}` or `{"code","message"}`).
    pub fn batch_patiently(&self, i: usize, txs: &[SignedTx]) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        let mut results = Vec::with_capacity(txs.len());
        while results.len() < txs.len() {
            let rest = &txs[results.len()..];
            let body = json!({
                "txs": rest.iter().map(|t| hex::encode(t.encode())).collect::<Vec<_>>()
            });
            let (status, v) = self.post_raw(
                i,
                "/v1/txs/batch",
                "application/json",
                body.to_string().into_bytes(),
            );
            assert_eq!(status, 200, "{v}");
            let answers = v["results"].as_array().expect("results").clone();
            assert_eq!(answers.len(), rest.len(), "{v}");
            let over = answers
                .iter()
                .position(|r| r["code"] == "overloaded")
                .unwrap_or(answers.len());
            results.extend(answers.into_iter().take(over));
            if results.len() < txs.len() {
                assert!(
                    Instant::now() < deadline,
                    "node {i} stayed overloaded for {PATIENCE:?}: {v}"
                );
                std::thread::sleep(retry_after(&v));
            }
        }
        results
    }
}
