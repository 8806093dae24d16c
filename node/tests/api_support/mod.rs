//! Shared fixture of the API tests: a node (`Shared`) on a temporary store
//! with a devnet genesis (fixed keys), blocks committed through
//! `Chain::build_block` + `Chain::commit` (certificates signed by the one
//! validator), and helpers to drive the router without a network.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_contracts::commit::{
    vote_message, CommitCertificate, CommitSignature, VoteKind, VOTE_TAG,
};
use assent_contracts::crypto::Keypair;
use assent_contracts::terms::{Category, Level, Purpose};
use assent_contracts::tx::{GrantConsent, PostRequest, RecordUse, RegisterConsumer, Use, UseBasis};
use assent_contracts::{Amount, ConsentId, Hash32, Payload, SignedTx, Timestamp, TxBody};
use assent_genesis::{
    default_p2p_address, devnet_genesis, DevnetEnterprise, DevnetSpec, DevnetValidator,
};
use assent_node::api;
use assent_node::config::NodeConfig;
use assent_node::gossip::GossipHandle;
use assent_node::ledger::chain::{Chain, Committed};
use assent_node::mempool::{Mempool, MempoolLimits};
use assent_node::metrics::Metrics;
use assent_node::shared::Shared;
use assent_node::storage::Store;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use futures::StreamExt;
use serde_json::Value;
use tower::ServiceExt;

pub const CHAIN_ID: &str = "assent-api-test-1";
pub const GENESIS_TIME: u64 = 1_750_000_000_000;

const CONFIG: &str = r#"
moniker = "api-test"
[keys]
validator_key = "validator-0"
[p2p]
listen = "/ip4/127.0.0.1/tcp/26600"
gossip_listen = "/ip4/127.0.0.1/tcp/26601"
[api]
listen = "127.0.0.1:26602"
"#;

pub struct Keys {
    pub mint: Keypair,
    pub validator: Keypair,
    pub operator: Keypair,
    pub acme: Keypair,
    pub alice: Keypair,
    pub bob: Keypair,
}

impl Keys {
    fn fixed() -> Keys {
        Keys {
            mint: Keypair::from_seed([1; 32]),
            validator: Keypair::from_seed([2; 32]),
            operator: Keypair::from_seed([3; 32]),
            acme: Keypair::from_seed([4; 32]),
            alice: Keypair::from_seed([5; 32]),
            bob: Keypair::from_seed([6; 32]),
        }
    }
}

pub struct TestNode {
    pub shared: Arc<Shared>,
    pub router: Router,
    pub keys: Keys,
}

pub fn node() -> TestNode {
    node_with(None)
}

/// A node whose API publishes to `gossip`.
pub fn node_with(gossip: Option<GossipHandle>) -> TestNode {
    node_configured(gossip, "")
}

/// A node whose `[api]` section also has `api_lines` (limits).
#[allow(dead_code)]
pub fn node_with_api(api_lines: &str) -> TestNode {
    node_configured(None, api_lines)
}

fn node_configured(gossip: Option<GossipHandle>, api_lines: &str) -> TestNode {
    let keys = Keys::fixed();
    let genesis = devnet_genesis(&DevnetSpec {
        chain_id: CHAIN_ID.into(),
        genesis_time: Timestamp(GENESIS_TIME),
        mint_authority: keys.mint.account(),
        validators: vec![DevnetValidator {
            name: "validator-0".into(),
            operator_name: "operator-0".into(),
            consensus_key: keys.validator.account(),
            operator_account: keys.operator.account(),
            p2p_address: default_p2p_address(0),
        }],
        enterprise: Some(DevnetEnterprise::acme_retail(keys.acme.account())),
    })
    .expect("genesis");
    let chain =
        Arc::new(Chain::open(Store::memory(&genesis).expect("store"), &genesis).expect("chain"));
    let config = NodeConfig::parse(
        Path::new("/tmp/api-test"),
        Path::new("/tmp/api-test/config.toml"),
        &format!("{CONFIG}{api_lines}\n"),
    )
    .expect("config");
    let mempool = Mempool::new(MempoolLimits {
        max_txs: 10_000,
        max_per_account: 1_000,
        max_tx_bytes: genesis.params().max_tx_bytes as usize,
        ..MempoolLimits::default()
    });
    let shared = Arc::new(Shared {
        chain,
        mempool: Mutex::new(mempool),
        gossip,
        metrics: Arc::new(Metrics::new()),
        config,
        validator_key: keys.validator.account(),
        signer: Keypair::from_seed(keys.validator.seed()),
        consensus_started: AtomicBool::new(true),
        peer_height: AtomicU64::new(0),
        snapshots: None,
        validating: AtomicBool::new(true),
    });
    let router = api::router(shared.clone());
    TestNode {
        shared,
        router,
        keys,
    }
}

pub fn sign(key: &Keypair, nonce: u64, payload: Payload) -> SignedTx {
    TxBody {
        sender: key.account(),
        nonce,
        payload,
    }
    .sign(CHAIN_ID, key)
}

pub fn register(key: &Keypair, nonce: u64) -> SignedTx {
    sign(
        key,
        nonce,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: Default::default(),
        }),
    )
}

pub fn grant(t: &TestNode, nonce: u64, expires_at: Option<u64>) -> SignedTx {
    sign(
        &t.keys.alice,
        nonce,
        Payload::GrantConsent(GrantConsent {
            enterprise: t.keys.acme.account(),
            categories: vec![Category("Purchase".into())],
            purposes: vec![Purpose("DirectMarketing".into())],
            level: Level::Pseudonymous,
            price_per_use: Amount(5),
            max_uses: None,
            expires_at: expires_at.map(Timestamp),
            request: None,
        }),
    )
}

/// Acme records two uses of alice's data under `consent`: one covered
/// (Purchase, 2 units), one not (Location).
pub fn record_uses(t: &TestNode, nonce: u64, consent: ConsentId) -> SignedTx {
    let one = |category: &str, units: u32| Use {
        consumer: t.keys.alice.account(),
        basis: UseBasis::Consent(consent),
        category: Category(category.into()),
        purpose: Purpose("DirectMarketing".into()),
        level: Level::Aggregate,
        units,
        evidence_hash: Hash32([7; 32]),
    };
    sign(
        &t.keys.acme,
        nonce,
        Payload::RecordUse(RecordUse {
            uses: vec![one("Purchase", 2), one("Location", 1)],
        }),
    )
}

pub fn post_request(t: &TestNode, nonce: u64, duration_ms: u64) -> SignedTx {
    sign(
        &t.keys.acme,
        nonce,
        Payload::PostRequest(PostRequest {
            categories: vec![Category("Purchase".into())],
            purposes: vec![Purpose("DirectMarketing".into())],
            level: Level::Aggregate,
            price_per_use: Amount(3),
            duration_ms,
            target_tags: vec![],
        }),
    )
}

/// Builds, executes and commits the next block (1 s after the tip) holding `txs`.
pub fn commit(t: &TestNode, txs: Vec<SignedTx>) -> Arc<Committed> {
    let chain = &t.shared.chain;
    let verified = txs
        .into_iter()
        .map(|tx| tx.verify(CHAIN_ID).expect("signature"))
        .collect();
    let now = Timestamp(chain.head().time.0 + 1_000);
    let executed = chain
        .build_block(verified, t.keys.validator.account(), now)
        .expect("build");
    let (height, hash) = (executed.block.header.height, executed.hash);
    chain.remember(executed).expect("remember");
    // Signed by the one validator, as the engine would: a certificate a
    // full node following this chain accepts.
    let me = t.keys.validator.account();
    let msg = vote_message(VoteKind::Precommit, height.0, Some(0), Some(hash), &me);
    let cert = CommitCertificate {
        height,
        round: 0,
        block_hash: hash,
        signatures: vec![CommitSignature {
            validator: me,
            signature: t.keys.validator.sign(VOTE_TAG, CHAIN_ID.as_bytes(), &msg),
        }],
    };
    chain
        .commit(height, hash, &cert, &|_| None)
        .expect("commit")
        .expect("a new block")
}

pub async fn send(router: &Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024)
        .await
        .expect("body");
    (status, body.to_vec())
}

/// The test genesis's operator key (operators read every record).
pub fn operator_key() -> Keypair {
    Keypair::from_seed([3; 32])
}

/// `GET uri` signed by `key` (RFC 9421, as the CLI signs), ready for more headers.
pub fn signed_get(uri: &str, key: &Keypair) -> axum::http::request::Builder {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let h = assent_keys::reads::sign(key, CHAIN_ID, "GET", uri, now, 60);
    Request::get(uri)
        .header("signature-input", h.signature_input)
        .header("signature", h.signature)
}

/// The operator's signature of `GET path` as raw HTTP/1.1 header lines
/// (each ending in CRLF), for tests that write requests on a socket.
pub fn operator_signature_lines(path: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let h = assent_keys::reads::sign(&operator_key(), CHAIN_ID, "GET", path, now, 60);
    format!(
        "Signature-Input: {}\r\nSignature: {}\r\n",
        h.signature_input, h.signature
    )
}

/// `GET uri` signed by the operator, as JSON (or the body as a string).
pub async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    get_as(router, &operator_key(), uri).await
}

/// `GET uri` signed by `key`, as JSON (or the body as a string).
pub async fn get_as(router: &Router, key: &Keypair, uri: &str) -> (StatusCode, Value) {
    json_of(send(router, signed_get(uri, key).body(Body::empty()).unwrap()).await)
}

/// `GET uri` without a signature, as JSON (or the body as a string).
pub async fn get_unsigned(router: &Router, uri: &str) -> (StatusCode, Value) {
    json_of(send(router, Request::get(uri).body(Body::empty()).unwrap()).await)
}

fn json_of((status, body): (StatusCode, Vec<u8>)) -> (StatusCode, Value) {
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, v)
}

pub async fn post(
    router: &Router,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, Value) {
    let mut req = Request::post(uri);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let (status, body) = send(router, req.body(body.into()).unwrap()).await;
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, v)
}

/// Asserts an error answer: status, `{"code", "message"}` with the code and a non-empty message.
pub fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| m.len() > 10),
        "{}",
        got.1
    );
}

/// One parsed server-sent event.
#[derive(Clone, Debug, PartialEq)]
pub struct Sse {
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
}

/// Reads server-sent events from a response body, keeping what it has
/// buffered between calls.
pub struct SseReader {
    stream: axum::body::BodyDataStream,
    buf: String,
}

impl SseReader {
    pub fn new(body: Body) -> SseReader {
        SseReader {
            stream: body.into_data_stream(),
            buf: String::new(),
        }
    }

    /// The next `n` events (keep-alive comments skipped), within `deadline`.
    pub async fn read(&mut self, n: usize, deadline: Duration) -> Vec<Sse> {
        let mut out = Vec::new();
        let until = tokio::time::Instant::now() + deadline;
        loop {
            while out.len() < n {
                let Some(end) = self.buf.find("\n\n") else {
                    break;
                };
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::from("message"), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if !data.is_empty() {
                    out.push(Sse {
                        id,
                        event,
                        data: serde_json::from_str(&data).expect("event data is JSON"),
                    });
                }
            }
            if out.len() >= n {
                return out;
            }
            let chunk = tokio::time::timeout_at(until, self.stream.next())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "only {} of {n} events before the deadline: {out:?}",
                        out.len()
                    )
                })
                .expect("stream ended early")
                .expect("body error");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// Reads `n` events from an SSE response body, within `deadline`.
pub async fn read_sse(body: Body, n: usize, deadline: Duration) -> Vec<Sse> {
    SseReader::new(body).read(n, deadline).await
}

/// Waits until `f` holds, polling, or panics after `deadline`.
pub async fn wait_for(deadline: Duration, mut f: impl FnMut() -> bool) {
    let until = tokio::time::Instant::now() + deadline;
    while !f() {
        assert!(
            tokio::time::Instant::now() < until,
            "condition not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
