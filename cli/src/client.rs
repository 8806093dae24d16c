//! A blocking client of one node's HTTP API (docs/node-interfaces.md).
//!
//! Every failure is a [`NodeError`] whose message is one line saying what
//! went wrong and what to do: a node that cannot be reached, a node that
//! refused the request (its `{code, message}`), or an answer that is not the
//! assent API at all. Answers are parsed leniently (unknown fields ignored)
//! so a newer node still works with this client.

use std::io::Read;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use assent_contracts::crypto::Keypair;
use assent_contracts::AccountId;
use assent_keys::reads;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

mod retry;

pub use retry::SUBMIT_PATIENCE;
use retry::{honour_retry_after, retry_after};

/// Where the CLI looks for a node unless told otherwise: node 0 of `assent devnet up`.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:26602";
/// Environment variable naming the node, like `--node`.
pub const NODE_ENV: &str = "ASSENT_NODE";

/// Most bytes read from one answer (a block of 20,000 txs as JSON stays below this).
const MAX_ANSWER: u64 = 64 * 1024 * 1024;

/// Why a call to the node failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum NodeError {
    #[error("`{url}` is not a node URL: {why}; write it like {DEFAULT_NODE}")]
    BadUrl { url: String, why: String },
    #[error("cannot reach the node at {url}: {why} — is the devnet running? start it with `assent devnet up`")]
    Unreachable { url: String, why: String },
    #[error("the node at {url} gave an answer to {route} that is not the assent API ({why}); is --node the API address of an assent node?")]
    BadAnswer {
        url: String,
        route: String,
        why: String,
    },
    #[error("the node refused {route}: {code}: {message}")]
    Refused {
        route: String,
        status: u16,
        code: String,
        message: String,
        /// The node's wait before sending again, in milliseconds (the
        /// body's `retry_after_ms`, given with `overloaded`).
        retry_after_ms: Option<u64>,
    },
}

impl NodeError {
    /// The node's error code, when it refused the request.
    pub fn code(&self) -> Option<&str> {
        match self {
            NodeError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The node's precise wait before sending again, when it gave one.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            NodeError::Refused {
                retry_after_ms: Some(ms),
                ..
            } => Some(std::time::Duration::from_millis((*ms).clamp(50, 60_000))),
            _ => None,
        }
    }
}

/// `GET /v1/status`.
#[derive(Clone, Debug, Deserialize)]
pub struct Status {
    pub chain_id: String,
    pub height: u64,
    #[serde(default)]
    pub genesis_hash: String,
    #[serde(default)]
    pub block_hash: String,
    #[serde(default)]
    pub moniker: String,
    #[serde(default)]
    pub syncing: bool,
}

/// `GET /v1/accounts/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AccountInfo {
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub balance: u64,
    #[serde(default)]
    pub nonce: u64,
    #[serde(default)]
    pub next_nonce: Option<u64>,
    #[serde(default)]
    pub roles: Vec<String>,
}

impl AccountInfo {
    /// The nonce the account's next tx should carry (counting this node's pending txs).
    pub fn next(&self) -> u64 {
        self.next_nonce.unwrap_or(self.nonce)
    }
}

/// `GET /v1/txs/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TxStatus {
    #[serde(default)]
    pub tx_id: String,
    pub status: String,
    #[serde(default)]
    pub height: Option<u64>,
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default)]
    pub events: Vec<Value>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl TxStatus {
    /// Committed or rejected in a block: nothing will change any more.
    pub fn is_final(&self) -> bool {
        self.status == "committed" || self.status == "rejected"
    }
}

#[derive(Deserialize)]
struct Submitted {
    tx_id: String,
}

/// One node's API.
#[derive(Debug)]
pub struct Node {
    base: String,
    timeout: Duration,
    http: reqwest::blocking::Client,
    /// The key its reads are signed with, if any.
    reader: Option<ReadAs>,
}

/// Signs reads as one key ([`assent_keys::reads`]); the chain id comes
/// from the node's `/v1/status` once.
#[derive(Clone, Debug)]
struct ReadAs {
    key: Arc<Keypair>,
    chain_id: Arc<OnceLock<String>>,
}

/// `http://host:port` with no trailing slash; `host:port` gets `http://`.
fn normalise(url: &str) -> Result<String, NodeError> {
    let bad = |why: &str| NodeError::BadUrl {
        url: url.to_string(),
        why: why.to_string(),
    };
    let t = url.trim().trim_end_matches('/');
    if t.is_empty() {
        return Err(bad("it is empty"));
    }
    let full = if t.contains("://") {
        t.to_string()
    } else {
        format!("http://{t}")
    };
    let parsed = reqwest::Url::parse(&full).map_err(|e| bad(&e.to_string()))?;
    match parsed.scheme() {
        "http" => {}
        "https" => {
            return Err(bad(
                "https is not supported: the node API is plain HTTP (put a TLS proxy in front for remote use)",
            ))
        }
        s => return Err(bad(&format!("scheme `{s}` is not http"))),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    Ok(full)
}

/// The most useful words for a transport failure: the innermost cause.
fn transport_reason(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {} s", timeout.as_secs());
    }
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        if let Some(io) = next.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset".into(),
                std::io::ErrorKind::TimedOut => "connection timed out".into(),
                _ => io.to_string(),
            };
        }
        inner = next;
    }
    inner.to_string()
}

impl Node {
    /// A client of the node at `url` (`http://127.0.0.1:26602`); each call
    /// gives up after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Node, NodeError> {
        let base = normalise(url)?;
        let http = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // A local node must never be reached through a system proxy.
            .no_proxy()
            .build()
            .map_err(|e| NodeError::Unreachable {
                url: base.clone(),
                why: format!("cannot set up an HTTP client: {e}"),
            })?;
        Ok(Node {
            base,
            timeout,
            http,
            reader: None,
        })
    }

    /// This client, signing its reads with `key` (RFC 9421, see
    /// docs/node-interfaces.md): the node then answers what that key's
    /// account may read.
    pub fn reading_as(mut self, key: Arc<Keypair>) -> Node {
        self.reader = Some(ReadAs {
            key,
            chain_id: Arc::new(OnceLock::new()),
        });
        self
    }

    /// This client with another timeout per call (same node, same reader).
    pub fn with_timeout(&self, timeout: Duration) -> Result<Node, NodeError> {
        let mut n = Node::new(&self.base, timeout)?;
        n.reader = self.reader.clone();
        Ok(n)
    }

    /// This client with its reads signed by `key`.
    pub fn signed_by(&self, key: &Keypair) -> Result<Node, NodeError> {
        Ok(self
            .with_timeout(self.timeout)?
            .reading_as(Arc::new(Keypair::from_seed(key.seed()))))
    }

    /// The account key reads are signed with, if any.
    pub fn reader(&self) -> Option<AccountId> {
        self.reader.as_ref().map(|r| r.key.account())
    }

    /// `GET path`, signed when this client has a reader.
    fn get_request(&self, path: &str) -> Result<reqwest::blocking::RequestBuilder, NodeError> {
        let req = self.http.get(format!("{}{path}", self.base));
        let Some(r) = &self.reader else {
            return Ok(req);
        };
        if r.chain_id.get().is_none() {
            self.status_value()?;
        }
        let chain_id = r
            .chain_id
            .get()
            .cloned()
            .ok_or_else(|| self.bad("GET /v1/status", "no chain_id in the node's status"))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let h = reads::sign(
            &r.key,
            &chain_id,
            "GET",
            path,
            now,
            reads::DEFAULT_LIFETIME_S,
        );
        Ok(req
            .header(reads::SIGNATURE_INPUT, h.signature_input)
            .header(reads::SIGNATURE, h.signature))
    }

    /// The node's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, e: &reqwest::Error) -> NodeError {
        NodeError::Unreachable {
            url: self.base.clone(),
            why: transport_reason(e, self.timeout),
        }
    }

    fn bad(&self, route: &str, why: impl Into<String>) -> NodeError {
        NodeError::BadAnswer {
            url: self.base.clone(),
            route: route.to_string(),
            why: why.into(),
        }
    }

    /// Reads an answer: JSON on success, `{code, message}` on refusal.
    fn answer(
        &self,
        route: &str,
        sent: Result<reqwest::blocking::Response, reqwest::Error>,
    ) -> Result<Value, NodeError> {
        let resp = sent.map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let mut body = Vec::new();
        resp.take(MAX_ANSWER + 1)
            .read_to_end(&mut body)
            .map_err(|e| NodeError::Unreachable {
                url: self.base.clone(),
                why: format!("the answer to {route} broke off: {e}"),
            })?;
        if body.len() as u64 > MAX_ANSWER {
            return Err(self.bad(route, format!("more than {MAX_ANSWER} bytes")));
        }
        let parsed = serde_json::from_slice::<Value>(&body);
        if status.is_success() {
            return parsed.map_err(|_| {
                self.bad(
                    route,
                    format!(
                        "HTTP {} with a body that is not JSON: {}",
                        status.as_u16(),
                        snippet(&body)
                    ),
                )
            });
        }
        if let Ok(v) = &parsed {
            if let (Some(code), Some(message)) = (
                v.get("code").and_then(Value::as_str),
                v.get("message").and_then(Value::as_str),
            ) {
                let mut message = message.to_string();
                if code == "unsigned" && self.reader.is_none() {
                    // The node's words are for any client; say what this one lacks.
                    message = "this read needs a signature and the command had no key to sign it with: give --key NAME (or the global --read-as NAME) with the key of the record's consumer or enterprise, or an operator's".into();
                }
                return Err(NodeError::Refused {
                    route: route.to_string(),
                    status: status.as_u16(),
                    code: code.to_string(),
                    message,
                    retry_after_ms: v.get("retry_after_ms").and_then(Value::as_u64),
                });
            }
        }
        Err(self.bad(
            route,
            format!(
                "HTTP {} without an error object: {}",
                status.as_u16(),
                snippet(&body)
            ),
        ))
    }

    /// `GET path` as JSON.
    pub fn get_value(&self, path: &str) -> Result<Value, NodeError> {
        let route = format!("GET {path}");
        let sent = self.get_request(path)?.send();
        self.answer(&route, sent)
    }

    /// `GET path` as raw bytes (an archive, a file) of at most `max` bytes;
    /// a refusal is the node's `{code, message}` as for JSON answers.
    pub fn get_bytes(&self, path: &str, max: u64) -> Result<Vec<u8>, NodeError> {
        let route = format!("GET {path}");
        let resp = self
            .get_request(path)?
            .send()
            .map_err(|e| self.unreachable(&e))?;
        if !resp.status().is_success() {
            return self
                .answer(&route, Ok(resp))
                .and_then(|v| Err(self.bad(&route, format!("an error status with body {v}"))));
        }
        let mut body = Vec::new();
        resp.take(max + 1)
            .read_to_end(&mut body)
            .map_err(|e| NodeError::Unreachable {
                url: self.base.clone(),
                why: format!("the answer to {route} broke off: {e}"),
            })?;
        if body.len() as u64 > max {
            return Err(self.bad(&route, format!("more than {max} bytes")));
        }
        Ok(body)
    }

    /// `GET path` parsed as `T`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<(T, Value), NodeError> {
        let v = self.get_value(path)?;
        let t = serde_json::from_value::<T>(v.clone())
            .map_err(|e| self.bad(&format!("GET {path}"), e.to_string()))?;
        Ok((t, v))
    }

    /// `GET /v1/status`.
    /// (Public: never signed; it tells a reader the chain id it signs for.)
    pub fn status(&self) -> Result<(Status, Value), NodeError> {
        let v = self.status_value()?;
        let t = serde_json::from_value::<Status>(v.clone())
            .map_err(|e| self.bad("GET /v1/status", e.to_string()))?;
        Ok((t, v))
    }

    /// `GET /v1/status` unsigned; remembers the chain id for signing.
    fn status_value(&self) -> Result<Value, NodeError> {
        let route = "GET /v1/status";
        let sent = self.http.get(format!("{}/v1/status", self.base)).send();
        let v = self.answer(route, sent)?;
        if let (Some(r), Some(c)) = (&self.reader, v.get("chain_id").and_then(Value::as_str)) {
            let _ = r.chain_id.set(c.to_string());
        }
        Ok(v)
    }

    /// `GET /v1/accounts/{id}`; an account the node has never seen is empty.
    pub fn account(&self, account: &str) -> Result<(AccountInfo, Value), NodeError> {
        match self.get(&format!("/v1/accounts/{account}")) {
            Err(NodeError::Refused { status: 404, .. }) => {
                let info = AccountInfo {
                    account: account.to_string(),
                    ..AccountInfo::default()
                };
                let v = serde_json::json!({
                    "account": account, "balance": 0, "nonce": 0, "next_nonce": 0, "roles": []
                });
                Ok((info, v))
            }
            r => r,
        }
    }

    /// `POST /v1/txs` with the signed tx as hex text; the node's tx id.
    /// While the network is at capacity (`429 overloaded`) it waits as the
    /// node's `Retry-After` says and sends again, for up to
    /// [`SUBMIT_PATIENCE`].
    pub fn submit_hex(&self, hex: &str) -> Result<String, NodeError> {
        let route = "POST /v1/txs";
        let v = honour_retry_after(SUBMIT_PATIENCE, std::thread::sleep, || {
            let sent = self
                .http
                .post(format!("{}/v1/txs", self.base))
                .header(reqwest::header::CONTENT_TYPE, "text/plain")
                .body(hex.trim().to_string())
                .send();
            let header = sent.as_ref().ok().and_then(retry_after);
            let answer = self.answer(route, sent);
            // The body's milliseconds when the node gave them, else its header.
            let after = answer
                .as_ref()
                .err()
                .and_then(NodeError::retry_after)
                .or(header);
            (answer, after)
        })?;
        let s: Submitted = serde_json::from_value(v).map_err(|e| self.bad(route, e.to_string()))?;
        Ok(s.tx_id)
    }

    /// `GET /v1/txs/{id}`; a 404 is status `unknown`.
    pub fn tx(&self, id: &str) -> Result<(TxStatus, Value), NodeError> {
        match self.get(&format!("/v1/txs/{id}")) {
            Err(NodeError::Refused { status: 404, .. }) => {
                let v = serde_json::json!({"tx_id": id, "status": "unknown"});
                let t = TxStatus {
                    tx_id: id.to_string(),
                    status: "unknown".into(),
                    ..TxStatus::default()
                };
                Ok((t, v))
            }
            r => r,
        }
    }

    /// Polls `GET /v1/txs/{id}` every `every` until the tx is committed or
    /// rejected, or `deadline` passes; the last status either way.
    pub fn wait(
        &self,
        id: &str,
        deadline: Instant,
        every: Duration,
    ) -> Result<(TxStatus, Value), NodeError> {
        loop {
            let (t, v) = self.tx(id)?;
            let now = Instant::now();
            if t.is_final() || now >= deadline {
                return Ok((t, v));
            }
            std::thread::sleep(every.min(deadline - now));
        }
    }
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    if body.is_empty() {
        return "(empty)".into();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(80)]);
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("`{one}`{}", if body.len() > 80 { "…" } else { "" })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn urls_are_normalised_or_refused() {
        assert_eq!(
            normalise("127.0.0.1:26602/").unwrap(),
            "http://127.0.0.1:26602"
        );
        assert_eq!(normalise(DEFAULT_NODE).unwrap(), DEFAULT_NODE);
        assert!(normalise("https://x:1")
            .unwrap_err()
            .to_string()
            .contains("https is not supported"));
        assert!(normalise("").is_err());
        assert!(normalise("ftp://x").is_err());
    }
}
