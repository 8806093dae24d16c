//! # assent-tests: real `assentd` processes on 127.0.0.1
//!
//! [`Net`] lays a network out with `assent devnet up --no-start` (the same
//! code users run), starts one `assentd` per node, and talks to them over
//! HTTP. Every process it starts is killed when the `Net` is dropped, also
//! when a test fails. Tests wait on conditions with deadlines, never on fixed
//! sleeps.
//!
//! The binaries are the workspace's own: `cargo test --workspace` builds
//! `assent` and `assentd` (their packages have integration tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod checker;
pub mod faults;
pub mod history;
pub mod lab;
mod lab_net;
pub mod liar;
pub mod load;
mod net_reads;
pub mod relay;
pub mod standards;
pub mod submit;
pub mod web;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use assent_contracts::crypto::Keypair;
use assent_contracts::{AccountId, SignedTx, TxBody};
use serde_json::Value;

pub const PASS: &str = "test-pass";

/// Where cargo put the workspace binaries (next to this test's `deps/` dir).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is missing: build the workspace first (`cargo test --workspace` does)",
        p.display()
    );
    p
}

/// Polls `cond` every 50 ms until it holds or `limit` passes.
pub fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            eprintln!("gave up waiting for {what} after {limit:?}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A small xorshift generator: choices (kill moments, a history's steps)
/// vary with the seed, which tests print.
#[derive(Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

static NEXT_BASE: AtomicU16 = AtomicU16::new(0);

/// A base port whose node ports (base + 10 i + 0..3) are all free now.
///
/// Bases lie in 10,000..32,000, below Linux's ephemeral range (32,768 and
/// up): a port there can be taken by any outgoing connection between this
/// check and the node's bind.
fn free_base(n: usize) -> u16 {
    let offset = (std::process::id() % 200) * 100;
    loop {
        let k = u32::from(NEXT_BASE.fetch_add(1, Ordering::SeqCst));
        let base = (10_000 + (offset + k * 100) % 22_000) as u16;
        let free = (0..n).all(|i| {
            (0..3).all(|p| TcpListener::bind(("127.0.0.1", base + 10 * i as u16 + p)).is_ok())
        });
        if free {
            return base;
        }
    }
}

#[derive(Debug)]
pub struct Node {
    pub home: PathBuf,
    pub api: String,
    /// Extra environment for the process (e.g. libfaketime's).
    pub env: Vec<(String, String)>,
    /// The program it runs: `assentd`, or the test's `assent-byzantine`.
    pub program: &'static str,
    child: Option<Child>,
}

impl Node {
    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }
}

/// A local network of real `assentd` processes.
#[derive(Debug)]
pub struct Net {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<Node>,
    pub chain_id: String,
    http: reqwest::blocking::Client,
    /// operator-0's key: the tests read as an operator, who may read
    /// every route (loaded once, on first use).
    reader: std::sync::OnceLock<std::sync::Arc<Keypair>>,
    /// Set when the nodes live in network namespaces ([`Net::in_lab`]).
    pub lab: Option<lab::Lab>,
}

fn assent(args: &[&str]) -> std::process::Output {
    Command::new(bin("assent"))
        .args(args)
        .env("ASSENT_PASSPHRASE", PASS)
        .env("ASSENT_KDF", "fast")
        .stdin(Stdio::null())
        .output()
        .expect("run assent")
}

/// Writes `v` as pretty JSON to `dir/name`; the path.
pub fn write_json(dir: &std::path::Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p
}

/// `assent receipt verify FILE --genesis G [extra]` with node 0's CLI
/// setup: (success, stdout, stderr).
pub fn verify_receipt(
    net: &Net,
    file: &std::path::Path,
    genesis: &std::path::Path,
    extra: &[&str],
) -> (bool, String, String) {
    let mut args = vec![
        "receipt",
        "verify",
        file.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = net.cli(0, &args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `assent --home HOME --node (node 0 of net) ARGS`, with the tests'
/// passphrase and a fast KDF.
pub fn assent_in(net: &Net, home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(bin("assent"))
        .args([
            "--home",
            home.to_str().unwrap(),
            "--node",
            &net.nodes[0].api,
        ])
        .args(args)
        .env("ASSENT_PASSPHRASE", PASS)
        .env("ASSENT_KDF", "fast")
        .stdin(Stdio::null())
        .output()
        .expect("run assent")
}

impl Net {
    /// Lays out an `n`-validator network (not started).
    pub fn new(n: usize) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let base = free_base(n).to_string();
        let home = dir.path().to_str().unwrap().to_string();
        let out = assent(&[
            "devnet",
            "up",
            "--no-start",
            "--validators",
            &n.to_string(),
            "--home",
            &home,
            "--base-port",
            &base,
        ]);
        assert!(
            out.status.success(),
            "devnet layout failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut nodes = Vec::new();
        for i in 0..n {
            let home = dir.path().join(format!("node-{i}"));
            let cfg: toml::Value =
                toml::from_str(&std::fs::read_to_string(home.join("config.toml")).unwrap())
                    .unwrap();
            let api = format!("http://{}", cfg["api"]["listen"].as_str().unwrap());
            nodes.push(Node {
                home,
                api,
                env: Vec::new(),
                program: "assentd",
                child: None,
            });
        }
        let genesis: toml::Value =
            toml::from_str(&std::fs::read_to_string(dir.path().join("genesis.toml")).unwrap())
                .unwrap();
        let chain_id = genesis["chain_id"].as_str().unwrap().to_string();
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Net {
            dir,
            nodes,
            chain_id,
            http,
            reader: std::sync::OnceLock::new(),
            lab: None,
        }
    }

    /// Takes the node laid out in `home` (e.g. by `assent devnet add-node
    /// --no-start`) into this network, not started; its index.
    pub fn adopt(&mut self, home: PathBuf) -> usize {
        let cfg: toml::Value =
            toml::from_str(&std::fs::read_to_string(home.join("config.toml")).unwrap()).unwrap();
        let api = format!("http://{}", cfg["api"]["listen"].as_str().unwrap());
        self.nodes.push(Node {
            home,
            api,
            env: Vec::new(),
            program: "assentd",
            child: None,
        });
        self.nodes.len() - 1
    }

    /// Node `i`'s config.toml.
    pub fn config(&self, i: usize) -> toml::Value {
        toml::from_str(&std::fs::read_to_string(self.nodes[i].home.join("config.toml")).unwrap())
            .unwrap()
    }

    /// Node `i`'s consensus key (its validator's, in the genesis: the one
    /// whose p2p address has node i's consensus port).
    pub fn consensus_key(&self, i: usize) -> String {
        let port = |addr: &str| addr.rsplit(['/', ':']).next().map(str::to_string);
        let listen = port(self.config(i)["p2p"]["listen"].as_str().unwrap());
        let genesis: toml::Value =
            toml::from_str(&std::fs::read_to_string(self.genesis_path()).unwrap()).unwrap();
        genesis["validators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["p2p_address"].as_str().and_then(port) == listen)
            .and_then(|v| v["consensus_key"].as_str())
            .expect("each node is a genesis validator")
            .to_string()
    }

    pub fn start(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.home.join("assentd.log"))
            .unwrap();
        let mut cmd = match &self.lab {
            Some(lab) => {
                let mut prefix = lab.exec_in(i).into_iter();
                let mut c = Command::new(prefix.next().unwrap());
                c.args(prefix).arg(bin(node.program));
                c
            }
            None => Command::new(bin(node.program)),
        };
        if node.program == "assentd" {
            cmd.arg("start");
        }
        let child = cmd
            .args(["--home", node.home.to_str().unwrap()])
            .envs(node.env.iter().map(|(k, v)| (k, v)))
            .env("ASSENT_PASSPHRASE", PASS)
            .env(
                "RUST_LOG",
                std::env::var("ASSENT_TEST_LOG").unwrap_or_else(|_| "warn,assent=info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn assentd");
        node.child = Some(child);
    }

    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// An `n`-validator network, started, every node past height 2.
    pub fn started(n: usize) -> Net {
        let mut net = Net::new(n);
        net.start_all();
        for i in 0..n {
            net.wait_height(i, 2, Duration::from_secs(90));
        }
        net
    }

    /// kill -9.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then SIGKILL if it does not exit within 15 s. Returns whether it exited cleanly.
    pub fn stop(&mut self, i: usize) -> bool {
        let Some(mut c) = self.nodes[i].child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    /// A key of the devnet keystore (validator-N, operator-N, mint, acme, alice).
    pub fn key(&self, name: &str) -> Keypair {
        let ks = assent_cli::keystore::Keystore::open(self.dir.path());
        ks.load(name, PASS).unwrap()
    }

    pub fn next_nonce(&self, i: usize, who: &AccountId) -> u64 {
        self.get(i, &format!("/v1/accounts/{who}"))
            .and_then(|v| v["next_nonce"].as_u64())
            .unwrap_or(0)
    }

    /// Signs `payload` from `key` with its next nonce (as node `i` sees it).
    pub fn sign(&self, i: usize, key: &Keypair, payload: assent_contracts::Payload) -> SignedTx {
        let nonce = self.next_nonce(i, &key.account());
        TxBody {
            sender: key.account(),
            nonce,
            payload,
        }
        .sign(&self.chain_id, key)
    }

    /// POSTs a signed tx (hex) to node `i`; returns (HTTP status, JSON).
    pub fn submit(&self, i: usize, tx: &SignedTx) -> (u16, Value) {
        self.post_raw(
            i,
            "/v1/txs",
            "text/plain",
            hex::encode(tx.encode()).into_bytes(),
        )
    }

    pub fn post_raw(
        &self,
        i: usize,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.nodes[i].api, path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .expect("node answers");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// Waits until tx `id` is committed or rejected on node `i`; returns its status JSON.
    pub fn wait_tx(&self, i: usize, id: &str) -> Value {
        let mut last = Value::Null;
        let done = wait_until(&format!("tx {id}"), Duration::from_secs(30), || {
            last = self.get(i, &format!("/v1/txs/{id}")).unwrap_or(Value::Null);
            matches!(
                last["status"].as_str(),
                Some("committed") | Some("rejected")
            )
        });
        assert!(
            done,
            "tx {id} not final on node {i}: {last}\n{}",
            self.log_tail(i)
        );
        last
    }

    /// Submits and waits; returns the final status.
    pub fn run(&self, i: usize, key: &Keypair, payload: assent_contracts::Payload) -> Value {
        let tx = self.sign(i, key, payload);
        let (code, body) = self.submit(i, &tx);
        assert_eq!(code, 202, "submit refused: {body}");
        self.wait_tx(i, &tx.id().to_string())
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

impl Net {
    /// The network's genesis file.
    pub fn genesis_path(&self) -> PathBuf {
        self.dir.path().join("genesis.toml")
    }

    /// `assent receipt verify FILE --genesis` (this network's) through node
    /// `i`'s CLI context; asserts it verifies and returns what it printed.
    pub fn verify_ok(&self, i: usize, file: &Path) -> String {
        let genesis = self.genesis_path();
        let out = self.cli(
            i,
            &[
                "receipt",
                "verify",
                file.to_str().unwrap(),
                "--genesis",
                genesis.to_str().unwrap(),
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{} did not verify: {text}{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    /// Runs the `assent` CLI with this network's home (its keystore) and
    /// node `i`'s API as `--node`.
    pub fn cli(&self, i: usize, args: &[&str]) -> std::process::Output {
        let mut all = vec![
            "--home",
            self.dir.path().to_str().unwrap(),
            "--node",
            self.nodes[i].api.as_str(),
        ];
        all.extend_from_slice(args);
        assent(&all)
    }
}
