//! A client history for fault scenarios, and the checker that judges it.
//!
//! [`Driver`] plays consumers and an enterprise against whichever nodes
//! answer: each consumer registers, grants acme a consent, then transfers
//! points and sometimes revokes; acme records uses against the consents it
//! knows, revoked ones included. Every tx is signed once and, until it is
//! seen in a committed block, re-sent (the same bytes) to another node, so
//! a fault can delay a tx but never make the client sign a second one with
//! the same nonce. A tx is *acknowledged* once the client has seen it in a
//! committed block on some node.
//!
//! [`check`] then reads every node's chain and holds it to what BFT
//! promises: the same block hash and state root on every node at every
//! height; every acknowledged tx present, with the same outcome, on every
//! node; no use settled under a consent whose revocation was committed
//! before it; points conserved (balances plus the operators' pool equal the
//! genesis supply) and every balance equal to what the committed events say;
//! and no equivocation evidence seen by any node.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use assent_contracts::crypto::Keypair;
use assent_contracts::terms::Level;
use assent_contracts::tx::{
    GrantConsent, RecordUse, RegisterConsumer, RevokeConsent, Transfer, Use, UseBasis,
};
use assent_contracts::{AccountId, Amount, ConsentId, Hash32, Payload, TxBody};
use serde_json::{json, Value};

pub use crate::checker::{check, Checker, Report};
use crate::{Net, Rng};

/// What the client saw become of one tx.
#[derive(Clone, Debug)]
pub struct Acked {
    pub height: u64,
    pub committed: bool,
}

/// The client's record of a run.
#[derive(Debug, Default)]
pub struct History {
    /// Tx id → its outcome, for every tx seen in a committed block.
    pub acked: BTreeMap<String, Acked>,
    /// Txs signed (each once).
    pub signed: u64,
    /// Times a tx was sent again because no block had it yet.
    pub resent: u64,
    /// Consumers the run created (their accounts, for the balance checks).
    pub accounts: BTreeSet<String>,
}

struct Pending {
    hex: String,
    sent: Instant,
}

struct Agent {
    key: Keypair,
    nonce: u64,
    consent: Option<ConsentId>,
    revoked: bool,
    pending: Option<(String, Pending)>,
}

/// Runs the client history in a thread until [`Driver::stop`].
#[derive(Debug)]
pub struct Driver {
    stop: Arc<AtomicBool>,
    /// Txs acknowledged so far (the history's progress, live).
    acked: Arc<std::sync::atomic::AtomicU64>,
    thread: Option<JoinHandle<History>>,
}

impl Driver {
    /// `consumers` agents, each with at most one tx in flight; acme records
    /// up to `uses_per_record` uses per tx.
    pub fn start(net: &Net, consumers: usize, uses_per_record: usize) -> Driver {
        let apis: Vec<String> = net.nodes.iter().map(|n| n.api.clone()).collect();
        let chain = net.chain_id.clone();
        let acme = net.key("acme");
        // Blocks are read as an operator.
        let reader = net.key("operator-0");
        let acme_nonce = net.next_nonce(0, &acme.account());
        // Blocks before this driver hold none of its txs.
        let from = (0..net.nodes.len())
            .filter_map(|i| net.height(i))
            .min()
            .unwrap_or(0);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let acked = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let progress = acked.clone();
        static DRIVERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let salt = (std::process::id() as u64) << 20 | DRIVERS.fetch_add(1, Ordering::SeqCst);
        let thread = std::thread::spawn(move || {
            let mut agents: Vec<Agent> = (0..consumers)
                .map(|c| {
                    let mut seed = [0x5au8; 32];
                    seed[..8].copy_from_slice(&(c as u64).to_le_bytes());
                    seed[8..16].copy_from_slice(&salt.to_le_bytes());
                    Agent {
                        key: Keypair::from_seed(seed),
                        nonce: 0,
                        consent: None,
                        revoked: false,
                        pending: None,
                    }
                })
                .collect();
            agents.push(Agent {
                key: acme,
                nonce: acme_nonce,
                consent: None,
                revoked: false,
                pending: None,
            });
            let mut run = Run {
                reader,
                http: reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(2))
                    .build()
                    .unwrap(),
                apis,
                chain,
                down_until: BTreeMap::new(),
                seen: from,
                history: History::default(),
                rng: Rng(salt | 1),
                uses_per_record,
                turn: 0,
                progress,
                acme: agents[consumers].key.account(),
                accounts: agents[..consumers]
                    .iter()
                    .map(|a| a.key.account())
                    .collect(),
                pending: Default::default(),
                by_account: agents
                    .iter()
                    .enumerate()
                    .map(|(n, a)| (a.key.account().to_string(), n))
                    .collect(),
            };
            for a in &agents[..consumers] {
                run.history.accounts.insert(a.key.account().to_string());
            }
            while !flag.load(Ordering::Relaxed) {
                run.round(&mut agents);
                // Pacing of the offered load, not a wait for a condition.
                std::thread::sleep(Duration::from_millis(100));
            }
            run.history
        });
        Driver {
            stop,
            acked,
            thread: Some(thread),
        }
    }

    /// Txs acknowledged so far.
    pub fn acknowledged(&self) -> u64 {
        self.acked.load(Ordering::Relaxed)
    }

    /// Stops offering txs and returns the history.
    pub fn stop(mut self) -> History {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Run {
    /// An operator's key, which may read blocks.
    reader: Keypair,
    http: reqwest::blocking::Client,
    apis: Vec<String>,
    chain: String,
    /// Nodes that did not answer are left alone for a while.
    down_until: BTreeMap<usize, Instant>,
    seen: u64,
    history: History,
    rng: Rng,
    uses_per_record: usize,
    turn: usize,
    progress: Arc<std::sync::atomic::AtomicU64>,
    acme: AccountId,
    accounts: Vec<AccountId>,
    /// Tx id → the agent waiting for it.
    pending: std::collections::HashMap<String, usize>,
    /// Account → its agent.
    by_account: std::collections::HashMap<String, usize>,
}

impl Run {
    fn get(&mut self, i: usize, path: &str) -> Option<Value> {
        if self.down_until.get(&i).is_some_and(|t| Instant::now() < *t) {
            return None;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let h = assent_keys::reads::sign(&self.reader, &self.chain, "GET", path, now, 60);
        let got = self
            .http
            .get(format!("{}{path}", self.apis[i]))
            .header("signature-input", h.signature_input)
            .header("signature", h.signature)
            .send()
            .ok()
            .and_then(|r| r.json::<Value>().ok());
        if got.is_none() {
            self.down_until
                .insert(i, Instant::now() + Duration::from_secs(3));
        }
        got
    }

    fn round(&mut self, agents: &mut [Agent]) {
        // Follow the chain on the highest node that answers.
        let heights: Vec<(usize, u64)> = (0..self.apis.len())
            .filter_map(|i| Some((i, self.get(i, "/v1/status")?["height"].as_u64()?)))
            .collect();
        let Some(&(best, top)) = heights.iter().max_by_key(|(_, h)| *h) else {
            return;
        };
        while self.seen < top {
            let Some(block) = self.get(best, &format!("/v1/blocks/{}", self.seen + 1)) else {
                break;
            };
            self.seen += 1;
            self.absorb(&block, agents);
        }
        // Sign what comes next for every idle agent; re-send what is late.
        let mut batch = Vec::new();
        let known: Vec<(AccountId, ConsentId)> = agents
            .iter()
            .filter_map(|a| Some((a.key.account(), a.consent?)))
            .collect();
        let consumers = agents.len() - 1;
        for (n, a) in agents.iter_mut().enumerate() {
            match &mut a.pending {
                Some((_, p)) if p.sent.elapsed() > Duration::from_secs(6) => {
                    p.sent = Instant::now();
                    self.history.resent += 1;
                    batch.push(p.hex.clone());
                }
                Some(_) => {}
                None => {
                    let payload = if n == consumers {
                        self.record_uses(&known)
                    } else {
                        Some(self.consumer_step(a))
                    };
                    if let Some(payload) = payload {
                        let tx = TxBody {
                            sender: a.key.account(),
                            nonce: a.nonce,
                            payload,
                        }
                        .sign(&self.chain, &a.key);
                        let hex = hex::encode(tx.encode());
                        self.history.signed += 1;
                        batch.push(hex.clone());
                        self.pending.insert(tx.id().to_string(), n);
                        a.pending = Some((
                            tx.id().to_string(),
                            Pending {
                                hex,
                                sent: Instant::now(),
                            },
                        ));
                    }
                }
            }
        }
        if batch.is_empty() {
            return;
        }
        // Round robin over the nodes that answered.
        let up: Vec<usize> = heights.iter().map(|(i, _)| *i).collect();
        self.turn += 1;
        let to = up[self.turn % up.len()];
        let _ = self
            .http
            .post(format!("{}/v1/txs/batch", self.apis[to]))
            .json(&json!({ "txs": batch }))
            .send();
    }

    /// A consumer registers, grants acme a consent, then transfers a point
    /// to another consumer (refused while it has none) or, now and then,
    /// revokes its consent.
    fn consumer_step(&mut self, a: &Agent) -> Payload {
        match (a.nonce, a.consent) {
            (0, _) => Payload::RegisterConsumer(RegisterConsumer {
                tags: Default::default(),
            }),
            (1, _) => Payload::GrantConsent(GrantConsent {
                enterprise: self.acme,
                categories: vec!["Purchase".parse().unwrap()],
                purposes: vec!["DirectMarketing".parse().unwrap()],
                level: Level::Pseudonymous,
                price_per_use: Amount(1 + self.rng.below(3)),
                max_uses: None,
                expires_at: None,
                request: None,
            }),
            (_, Some(consent)) if !a.revoked && self.rng.below(10) == 0 => {
                Payload::RevokeConsent(RevokeConsent { consent })
            }
            _ => {
                let to = self.accounts[self.rng.below(self.accounts.len() as u64) as usize];
                Payload::Transfer(Transfer {
                    to,
                    amount: Amount(1),
                })
            }
        }
    }

    /// acme records uses under consents it has seen granted, revoked ones
    /// included (those must be refused).
    fn record_uses(&mut self, known: &[(AccountId, ConsentId)]) -> Option<Payload> {
        if known.is_empty() {
            return None;
        }
        let uses = (0..self.uses_per_record)
            .map(|k| {
                let (consumer, consent) = known[self.rng.below(known.len() as u64) as usize];
                let mut evidence = [0u8; 32];
                evidence[..8].copy_from_slice(&self.rng.below(u64::MAX).to_le_bytes());
                evidence[8..16].copy_from_slice(&(k as u64).to_le_bytes());
                Use {
                    consumer,
                    basis: UseBasis::Consent(consent),
                    category: "Purchase".parse().unwrap(),
                    purpose: "DirectMarketing".parse().unwrap(),
                    level: Level::Pseudonymous,
                    units: 1,
                    evidence_hash: Hash32(evidence),
                }
            })
            .collect();
        Some(Payload::RecordUse(RecordUse { uses }))
    }

    /// Marks the block's txs acknowledged and learns consents from its events.
    fn absorb(&mut self, block: &Value, agents: &mut [Agent]) {
        let height = block["header"]["height"].as_u64().unwrap_or(self.seen);
        for r in block["results"].as_array().into_iter().flatten() {
            let id = r["tx_id"].as_str().unwrap_or_default();
            if let Some(n) = self.pending.remove(id) {
                let a = &mut agents[n];
                a.pending = None;
                if r["code"] != "bad_nonce" {
                    a.nonce += 1;
                    self.progress.fetch_add(1, Ordering::Relaxed);
                    self.history.acked.insert(
                        id.to_string(),
                        Acked {
                            height,
                            committed: r["status"] == "committed",
                        },
                    );
                }
                // (bad_nonce: the same bytes were committed earlier.)
            }
            for e in r["events"].as_array().into_iter().flatten() {
                if let Some(g) = e.get("consent_granted") {
                    let consumer = g["consumer"].as_str().unwrap_or_default();
                    if let Some(&n) = self.by_account.get(consumer) {
                        agents[n].consent = g["consent"].as_str().and_then(|c| c.parse().ok());
                    }
                }
                if let Some(g) = e.get("consent_revoked") {
                    let consumer = g["consumer"].as_str().unwrap_or_default();
                    if let Some(&n) = self.by_account.get(consumer) {
                        agents[n].revoked = true;
                    }
                }
            }
        }
    }
}
