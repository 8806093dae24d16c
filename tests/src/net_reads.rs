//! Reads of a test network's nodes over their API: signed and plain
//! `GET`s, metrics, status, heights and block roots.

use std::time::Duration;

use serde_json::Value;

use assent_contracts::crypto::Keypair;

use crate::{wait_until, Net};

impl Net {
    /// `GET path` on node `i`, signed by operator-0 (RFC 9421).
    pub fn signed_get(&self, i: usize, path: &str) -> reqwest::blocking::RequestBuilder {
        let key = self
            .reader
            .get_or_init(|| std::sync::Arc::new(self.key("operator-0")));
        self.signed_get_as(i, key, path)
    }

    /// `GET path` on node `i`, signed by `key`.
    pub fn signed_get_as(
        &self,
        i: usize,
        key: &Keypair,
        path: &str,
    ) -> reqwest::blocking::RequestBuilder {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let h = assent_keys::reads::sign(key, &self.chain_id, "GET", path, now, 60);
        self.http
            .get(format!("{}{path}", self.nodes[i].api))
            .header("signature-input", h.signature_input)
            .header("signature", h.signature)
    }

    pub fn get(&self, i: usize, path: &str) -> Option<Value> {
        let r = self.signed_get(i, path).send().ok()?;
        r.json().ok()
    }

    /// The HTTP status of `GET path` on node `i` (None if it did not answer).
    pub fn get_status_code(&self, i: usize, path: &str) -> Option<u16> {
        self.signed_get(i, path)
            .send()
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// The sum of a metric's samples on node `i` (0 when it has none).
    pub fn metric(&self, i: usize, name: &str) -> u64 {
        self.metric_where(i, name, "")
    }

    /// The sum of a metric's samples on node `i` whose line contains
    /// `label` (such as `outcome="used"`; 0 when it has none).
    pub fn metric_where(&self, i: usize, name: &str, label: &str) -> u64 {
        self.metric_lines(i, name)
            .iter()
            .filter(|l| l.contains(label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    /// The sample lines of a metric on node `i`.
    pub fn metric_lines(&self, i: usize, name: &str) -> Vec<String> {
        let text = self
            .http
            .get(format!("{}/metrics", self.nodes[i].api))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default();
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with([' ', '{']))
            })
            .map(str::to_string)
            .collect()
    }

    pub fn status(&self, i: usize) -> Option<Value> {
        self.get(i, "/v1/status")
    }

    pub fn height(&self, i: usize) -> Option<u64> {
        self.status(i)?["height"].as_u64()
    }

    /// Waits until node `i` is at or above `h`; panics with its log tail if not.
    pub fn wait_height(&self, i: usize, h: u64, limit: Duration) {
        if !wait_until(&format!("node {i} to reach height {h}"), limit, || {
            self.height(i).is_some_and(|x| x >= h)
        }) {
            panic!(
                "node {i} did not reach height {h} (at {:?}); log tail:\n{}",
                self.height(i),
                self.log_tail(i)
            );
        }
    }

    pub fn log_tail(&self, i: usize) -> String {
        let text =
            std::fs::read_to_string(self.nodes[i].home.join("assentd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// (block hash, state root) of block `h` as node `i` has it.
    pub fn block_roots(&self, i: usize, h: u64) -> Option<(String, String)> {
        let b = self.get(i, &format!("/v1/blocks/{h}"))?;
        Some((
            b["block_hash"].as_str()?.to_string(),
            b["header"]["state_root"].as_str()?.to_string(),
        ))
    }
}
