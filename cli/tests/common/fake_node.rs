//! A tiny HTTP server on 127.0.0.1 that answers like an assent node
//! (docs/node-interfaces.md), for testing the CLI's node commands without
//! `assentd`. Each connection carries one request (`Connection: close`).
//! Every request is recorded; the answers come from a handler.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// An answer: status and body (JSON unless the body says otherwise).
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, v: serde_json::Value) -> Answer {
        Answer {
            status,
            body: v.to_string(),
        }
    }
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// The running server; stops (and frees its port) when dropped.
pub struct FakeNode {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeNode {
    /// A server on a free port.
    pub fn start(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> FakeNode {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        FakeNode::on(listener, handler)
    }

    /// A server on `listener`.
    pub fn on(
        listener: TcpListener,
        handler: impl Fn(&Request) -> Answer + Send + Sync + 'static,
    ) -> FakeNode {
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, stop2) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // Bounded by the stop flag, set when the FakeNode is dropped.
            while !stop2.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &*handler, &reqs),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
        });
        FakeNode {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// `METHOD PATH` of every request so far.
    pub fn routes(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

impl Drop for FakeNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, handler: &Handler, reqs: &Mutex<Vec<Request>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let (mut len, mut content_type) = (0usize, String::new());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').unwrap_or((&h, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => len = value.trim().parse().unwrap_or(0),
            "content-type" => content_type = value.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0u8; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let req = Request {
        method,
        path,
        content_type,
        body,
    };
    let answer = handler(&req);
    reqs.lock().unwrap().push(req);
    let reason = match answer.status {
        200 => "OK",
        202 => "Accepted",
        404 => "Not Found",
        _ => "Status",
    };
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        answer.status,
        answer.body.len(),
        answer.body
    );
    let _ = out.flush();
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    l.local_addr().unwrap().port()
}

/// What a fake node that takes txs keeps: each sender's nonce, and every
/// tx it was sent, in order.
#[derive(Default)]
pub struct TxLog {
    pub nonces: std::collections::BTreeMap<String, u64>,
    pub txs: Vec<assent_contracts::SignedTx>,
}

/// The answers every tx-taking fake node shares: `GET /v1/status`,
/// `GET /v1/accounts/{id}` (nonce from `log`, and `account` merged in),
/// `POST /v1/txs` (decoded, verified for `CHAIN`, logged, handed to
/// `on_tx`) and `GET /v1/txs/{id}` (committed). `None` for other routes.
pub fn chain_basics(
    r: &Request,
    log: &mut TxLog,
    account: serde_json::Value,
    on_tx: impl FnOnce(&assent_contracts::SignedTx),
) -> Option<Answer> {
    use serde_json::json;
    let parts: Vec<&str> = r.path.split('/').collect();
    let hex32 = |b: u8| hex::encode([b; 32]);
    Some(match (r.method.as_str(), parts.as_slice()) {
        ("GET", ["", "v1", "status"]) => Answer::json(
            200,
            json!({"chain_id": super::CHAIN, "genesis_hash": hex32(9), "height": 10,
                   "block_hash": hex32(8), "state_root": hex32(7), "time_ms": 0,
                   "validators": [], "peers": 0, "syncing": false, "mempool": 0,
                   "moniker": "fake", "validator_key": "x"}),
        ),
        ("GET", ["", "v1", "accounts", who]) => {
            let n = log.nonces.get(*who).copied().unwrap_or(0);
            let mut v = json!({"account": who, "balance": 0, "nonce": n, "next_nonce": n,
                               "roles": ["consumer"]});
            if let (Some(v), serde_json::Value::Object(extra)) = (v.as_object_mut(), account) {
                v.extend(extra);
            }
            Answer::json(200, v)
        }
        ("POST", ["", "v1", "txs"]) => {
            let text = String::from_utf8(r.body.clone()).unwrap();
            let tx =
                assent_contracts::SignedTx::decode(&hex::decode(text.trim()).unwrap(), 1 << 20)
                    .unwrap();
            assert!(tx.clone().verify(super::CHAIN).is_ok());
            *log.nonces.entry(tx.body.sender.to_string()).or_insert(0) += 1;
            on_tx(&tx);
            let id = tx.id().to_string();
            log.txs.push(tx);
            Answer::json(202, json!({"tx_id": id}))
        }
        ("GET", ["", "v1", "txs", id]) => Answer::json(
            200,
            json!({"tx_id": id, "status": "committed", "height": 11, "index": 0, "events": []}),
        ),
        _ => return None,
    })
}
