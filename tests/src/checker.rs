//! The checker of a client history ([`crate::history`]): reads every
//! node's chain and holds it to what BFT promises (see `history`'s doc).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::history::{Acked, History};
use crate::{wait_until, Net};

/// What the checker found; every count but `acked`, `heights` and `uses_*`
/// must be 0.
#[derive(Debug, Default)]
pub struct Report {
    /// The common height all nodes reached and were compared up to.
    pub heights: u64,
    pub acked: usize,
    /// Acknowledged txs missing, or with another outcome, on a node.
    pub lost: usize,
    /// Heights at which two nodes hold different blocks or state roots.
    pub divergent: usize,
    /// Uses settled under a consent revoked in an earlier tx.
    pub settled_after_revocation: usize,
    /// Uses the chain settled and refused.
    pub uses_settled: u64,
    pub uses_refused_revoked: u64,
    /// Accounts whose balance differs from what the committed events say,
    /// on any node, plus 1 if the supply is not conserved.
    pub wrong_balances: usize,
    /// Equivocation evidence (double votes or proposals) any node saw.
    pub double_signs: u64,
    /// The first few problems, in words.
    pub problems: Vec<String>,
}

impl Report {
    fn problem(&mut self, p: String) {
        if self.problems.len() < 20 {
            self.problems.push(p);
        }
    }
}

/// Reads every node's chain and checks it against `history` (see the
/// module's doc). Every node must be running and connected.
pub fn check(net: &Net, history: &History) -> Report {
    Checker::new(net).check(net, history)
}

/// The checker, kept across histories on one chain: each [`Checker::check`]
/// reads only the heights added since the last one, while what the events
/// say of balances, the operators' pool and revocations carries over.
#[derive(Debug)]
pub struct Checker {
    /// Heights compared and absorbed so far.
    seen: u64,
    /// Tx id → outcome on the chain.
    outcome: std::collections::HashMap<String, Acked>,
    /// Account → balance by genesis and events.
    expect: BTreeMap<String, i128>,
    supply: i128,
    pool: i128,
    revoked: std::collections::HashSet<String>,
    operators: Vec<String>,
    /// Accounts of genesis (checked every time).
    standing: Vec<String>,
}

impl Checker {
    pub fn new(net: &Net) -> Checker {
        let genesis: toml::Value =
            toml::from_str(&std::fs::read_to_string(net.genesis_path()).unwrap()).unwrap();
        let mut expect: BTreeMap<String, i128> = BTreeMap::new();
        let mut supply: i128 = 0;
        for b in genesis["balances"].as_array().into_iter().flatten() {
            let amount = i128::from(b["amount"].as_integer().unwrap());
            *expect
                .entry(b["account"].as_str().unwrap().to_string())
                .or_default() += amount;
            supply += amount;
        }
        let operators: Vec<String> = genesis["operators"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| o["account"].as_str().unwrap().to_string())
            .collect();
        for o in &operators {
            expect.entry(o.clone()).or_default();
        }
        Checker {
            seen: 0,
            outcome: Default::default(),
            standing: expect.keys().cloned().collect(),
            expect,
            supply,
            pool: 0,
            revoked: Default::default(),
            operators,
        }
    }

    /// Waits for the nodes to go quiet, then checks every height added since
    /// the last check and `history`'s txs and accounts.
    pub fn check(&mut self, net: &Net, history: &History) -> Report {
        let n = net.nodes.len();
        let mut r = Report::default();
        // Quiet first: the txs still in mempools commit, then one more
        // height on every node, so balances read below belong to the last
        // block read.
        let quiet = wait_until("every mempool to empty", Duration::from_secs(120), || {
            (0..n).all(|i| net.status(i).is_some_and(|s| s["mempool"] == 0))
        });
        assert!(
            quiet,
            "the nodes' mempools did not empty after the history stopped"
        );
        let top = (0..n).filter_map(|i| net.height(i)).max().unwrap_or(0) + 1;
        for i in 0..n {
            net.wait_height(i, top, Duration::from_secs(120));
        }
        let top = (0..n).filter_map(|i| net.height(i)).max().unwrap_or(0);
        for i in 0..n {
            net.wait_height(i, top, Duration::from_secs(120));
        }
        r.heights = top;
        for h in self.seen + 1..=top {
            let blocks: Vec<Option<Value>> = (0..n)
                .map(|i| {
                    let mut b = None;
                    wait_until(
                        &format!("block {h} on node {i}"),
                        Duration::from_secs(20),
                        || {
                            b = net.get(i, &format!("/v1/blocks/{h}"));
                            b.as_ref().is_some_and(|b| b["block_hash"].is_string())
                        },
                    );
                    b
                })
                .collect();
            let key = |b: &Option<Value>| {
                b.as_ref()
                    .map(|b| (b["block_hash"].clone(), b["header"]["state_root"].clone()))
            };
            if blocks
                .iter()
                .any(|b| key(b) != key(&blocks[0]) || b.is_none())
            {
                r.divergent += 1;
                let seen: Vec<_> = blocks.iter().map(key).collect();
                r.problem(format!("height {h}: nodes hold {seen:?}"));
            }
            let block = blocks.into_iter().next().flatten().unwrap_or(Value::Null);
            self.absorb(h, &block, &mut r);
        }
        self.seen = top;
        r.acked = history.acked.len();
        for (id, want) in &history.acked {
            match self.outcome.get(id) {
                Some(got) if got.height == want.height && got.committed == want.committed => {}
                got => {
                    r.lost += 1;
                    r.problem(format!(
                        "tx {id}: the client saw {want:?}, the chain has {got:?}"
                    ));
                }
            }
        }
        let total: i128 = self.expect.values().sum::<i128>() + self.pool;
        if total != self.supply || self.pool < 0 || self.pool >= self.operators.len().max(1) as i128
        {
            r.wrong_balances += 1;
            r.problem(format!(
                "points not conserved: balances {} + pool {} != supply {}",
                total - self.pool,
                self.pool,
                self.supply
            ));
        }
        for account in self.standing.iter().chain(&history.accounts) {
            let want = self.expect.get(account).copied().unwrap_or(0);
            for i in 0..n {
                let got = net
                    .get(i, &format!("/v1/accounts/{account}"))
                    .and_then(|v| v["balance"].as_u64())
                    .map(i128::from)
                    .unwrap_or(0);
                if got != want {
                    r.wrong_balances += 1;
                    r.problem(format!(
                        "{account} on node {i}: balance {got}, events say {want}"
                    ));
                }
            }
        }
        for i in 0..n {
            r.double_signs += net.metric(i, "assent_consensus_equivocation_evidence_total");
        }
        r
    }

    /// Takes in one block's outcomes and events.
    fn absorb(&mut self, height: u64, block: &Value, r: &mut Report) {
        for t in block["results"].as_array().into_iter().flatten() {
            self.outcome
                .entry(t["tx_id"].as_str().unwrap_or_default().to_string())
                .or_insert(Acked {
                    height,
                    committed: t["status"] == "committed",
                });
        }
        let amount = |v: &Value| i128::from(v.as_u64().unwrap_or(0));
        let events = block["results"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["events"].as_array().into_iter().flatten())
            .chain(block["end_events"].as_array().into_iter().flatten());
        for e in events {
            let Some((kind, e)) = e.as_object().and_then(|o| o.iter().next()) else {
                continue;
            };
            let mut add = |who: &Value, n: i128| {
                *self
                    .expect
                    .entry(who.as_str().unwrap_or_default().to_string())
                    .or_default() += n;
            };
            match kind.as_str() {
                "consent_revoked" => {
                    self.revoked
                        .insert(e["consent"].as_str().unwrap_or_default().to_string());
                }
                "use_settled" => {
                    r.uses_settled += 1;
                    if let Some(c) = e["basis"]["consent"].as_str() {
                        if self.revoked.contains(c) {
                            r.settled_after_revocation += 1;
                            r.problem(format!(
                                "use {} settled under revoked consent {c}",
                                e["use_id"]
                            ));
                        }
                    }
                    add(&e["enterprise"], -amount(&e["paid"]));
                    add(&e["consumer"], amount(&e["to_consumer"]));
                    self.pool += amount(&e["to_operators"]);
                }
                // The advocacy share: out of the operators' share, which
                // `use_settled`'s `to_operators` already excludes.
                "referral_paid" => add(&e["referrer"], amount(&e["amount"])),
                "use_rejected" if e["code"] == "consent_revoked" => {
                    r.uses_refused_revoked += 1;
                }
                "transferred" => {
                    add(&e["from"], -amount(&e["amount"]));
                    add(&e["to"], amount(&e["amount"]));
                }
                "minted" => {
                    add(&e["to"], amount(&e["amount"]));
                    self.supply += amount(&e["amount"]);
                }
                "operator_rewards" => {
                    for o in self.operators.clone() {
                        *self.expect.entry(o).or_default() += amount(&e["each"]);
                    }
                    self.pool -= amount(&e["each"]) * self.operators.len() as i128;
                }
                _ => {}
            }
        }
    }
}
