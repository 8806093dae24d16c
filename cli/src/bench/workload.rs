//! The load generator's workload: accounts derived from a seed, a mix of
//! transaction kinds, and a plan of pre-signed txs in which every tx is valid
//! when its dependencies (a registration, a grant) were offered a little
//! earlier. Pure apart from using every core to sign.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use assent_contracts::crypto::Keypair;
use assent_contracts::ids::{AccountId, Amount, ConsentId, Hash32};
use assent_contracts::terms::{Category, Level, Purpose};
use assent_contracts::tx::{
    GrantConsent, RecordUse, RegisterConsumer, RevokeConsent, Transfer, Use, UseBasis,
};
use assent_contracts::{Payload, TxBody};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The terms every bench consent is granted on and every use asks for.
pub const CATEGORY: &str = "Purchase";
pub const PURPOSE: &str = "DirectMarketing";
/// Points per unit of use in bench consents.
pub const PRICE: u64 = 2;

/// The kinds of tx the generator sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Register,
    Grant,
    RecordUse,
    Revoke,
    Transfer,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Register,
        Kind::Grant,
        Kind::RecordUse,
        Kind::Revoke,
        Kind::Transfer,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Grant => "grant",
            Kind::RecordUse => "use",
            Kind::Revoke => "revoke",
            Kind::Transfer => "transfer",
        }
    }
}

/// Relative weights of each kind, e.g. `register=10,grant=30,use=30,revoke=5,transfer=25`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    weights: [u32; 5],
}

impl Mix {
    /// A realistic day: consumers join and grant, enterprises record uses
    /// (8 per tx by default) and pay, some consents are revoked.
    pub const DEFAULT: &'static str = "register=10,grant=30,use=30,revoke=5,transfer=25";

    pub fn weight(&self, k: Kind) -> u32 {
        self.weights[k as usize]
    }

    fn pick(&self, rng: &mut StdRng) -> Kind {
        let total: u32 = self.weights.iter().sum();
        let mut x = rng.gen_range(0..total);
        for k in Kind::ALL {
            if x < self.weight(k) {
                return k;
            }
            x -= self.weight(k);
        }
        Kind::Transfer
    }
}

impl FromStr for Mix {
    type Err = String;
    fn from_str(s: &str) -> Result<Mix, String> {
        let mut weights = [0u32; 5];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, w) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not KIND=WEIGHT (e.g. use=30)"))?;
            let k = Kind::ALL
                .into_iter()
                .find(|k| k.name() == name.trim())
                .ok_or_else(|| {
                    format!(
                        "unknown kind `{name}`; kinds are register, grant, use, revoke, transfer"
                    )
                })?;
            weights[k as usize] = w
                .trim()
                .parse()
                .map_err(|_| format!("weight of {name} must be a whole number, got `{w}`"))?;
        }
        if weights.iter().all(|w| *w == 0) {
            return Err("the mix has no kind with a weight above 0".into());
        }
        Ok(Mix { weights })
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = Kind::ALL
            .into_iter()
            .filter(|k| self.weight(*k) > 0)
            .map(|k| format!("{}={}", k.name(), self.weight(k)))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// A key for bench account `what` number `i`, derived from `seed`.
pub fn derive_key(seed: u64, what: &str, i: usize) -> Keypair {
    let h = Hash32::tagged(
        "assent/bench-key/v1",
        &[
            &seed.to_le_bytes(),
            what.as_bytes(),
            &(i as u64).to_le_bytes(),
        ],
    );
    Keypair::from_seed(h.0)
}

/// One tx ready to send.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub kind: Kind,
    /// Hex of the tx id.
    pub id: String,
    /// The canonical signed tx.
    pub bytes: Vec<u8>,
    /// Which node it goes to (all txs of one sender go to one node, in order).
    pub node: usize,
    /// Uses it records (RecordUse only).
    pub uses: u32,
}

/// Unsigned work: who signs which body.
struct Unsigned {
    kind: Kind,
    signer: Signer,
    body: TxBody,
    uses: u32,
}

#[derive(Clone, Copy)]
enum Signer {
    Consumer(usize),
    Enterprise(usize),
}

/// Items that become usable at a plan position (dependencies offered earlier).
struct Ready<T> {
    ready: Vec<T>,
    pending: VecDeque<(usize, T)>,
}

impl<T> Ready<T> {
    fn new() -> Self {
        Ready {
            ready: Vec::new(),
            pending: VecDeque::new(),
        }
    }
    fn add(&mut self, at: usize, t: T) {
        self.pending.push_back((at, t));
    }
    fn advance(&mut self, pos: usize) {
        while self.pending.front().is_some_and(|(at, _)| *at <= pos) {
            if let Some((_, t)) = self.pending.pop_front() {
                self.ready.push(t);
            }
        }
    }
}

/// The generator: accounts, their nonces, and what each may do next.
pub struct Workload {
    pub chain_id: String,
    pub nodes: usize,
    pub consumers: Vec<Keypair>,
    pub consumer_ids: Vec<AccountId>,
    pub enterprises: Vec<Keypair>,
    consumer_nonce: Vec<u64>,
    enterprise_nonce: Vec<u64>,
    next_unregistered: usize,
    registered: Ready<usize>,
    /// Live consents of each enterprise: (consent, consumer).
    live: Vec<Ready<(ConsentId, usize)>>,
    next_enterprise: usize,
    rng: StdRng,
}

impl fmt::Debug for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workload")
            .field("consumers", &self.consumers.len())
            .field("enterprises", &self.enterprises.len())
            .finish()
    }
}

impl Workload {
    /// `consumers` fresh consumer keys from `seed` (they must not exist on the
    /// chain yet); `enterprises` admitted and funded, with their next nonces.
    pub fn new(
        chain_id: &str,
        nodes: usize,
        seed: u64,
        consumers: usize,
        enterprises: Vec<(Keypair, u64)>,
    ) -> Workload {
        let keys = parallel_map(consumers, |i| derive_key(seed, "consumer", i));
        let consumer_ids = keys.iter().map(Keypair::account).collect();
        let n_ent = enterprises.len();
        let (ents, nonces): (Vec<Keypair>, Vec<u64>) = enterprises.into_iter().unzip();
        Workload {
            chain_id: chain_id.to_string(),
            nodes: nodes.max(1),
            consumers: keys,
            consumer_ids,
            enterprises: ents,
            consumer_nonce: vec![0; consumers],
            enterprise_nonce: nonces,
            next_unregistered: 0,
            registered: Ready::new(),
            live: (0..n_ent).map(|_| Ready::new()).collect(),
            next_enterprise: 0,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn node_of(&self, signer: Signer) -> usize {
        let id = match signer {
            Signer::Consumer(c) => self.consumer_ids[c],
            Signer::Enterprise(e) => self.enterprises[e].account(),
        };
        (u64::from_le_bytes([
            id.0[0], id.0[1], id.0[2], id.0[3], id.0[4], id.0[5], id.0[6], id.0[7],
        ]) % self.nodes as u64) as usize
    }

    fn consumer_tx(&mut self, c: usize, payload: Payload) -> TxBody {
        let nonce = self.consumer_nonce[c];
        self.consumer_nonce[c] += 1;
        TxBody {
            sender: self.consumer_ids[c],
            nonce,
            payload,
        }
    }

    fn enterprise_tx(&mut self, e: usize, payload: Payload) -> TxBody {
        let nonce = self.enterprise_nonce[e];
        self.enterprise_nonce[e] += 1;
        TxBody {
            sender: self.enterprises[e].account(),
            nonce,
            payload,
        }
    }

    fn register(&mut self, at: usize) -> Option<Unsigned> {
        let c = self.next_unregistered;
        if c >= self.consumers.len() {
            return None;
        }
        self.next_unregistered += 1;
        let body = self.consumer_tx(
            c,
            Payload::RegisterConsumer(RegisterConsumer {
                tags: Default::default(),
            }),
        );
        self.registered.add(at, c);
        Some(Unsigned {
            kind: Kind::Register,
            signer: Signer::Consumer(c),
            body,
            uses: 0,
        })
    }

    fn grant(&mut self, c: usize, e: usize, at: usize) -> Unsigned {
        let payload = Payload::GrantConsent(GrantConsent {
            enterprise: self.enterprises[e].account(),
            categories: vec![Category(CATEGORY.into())],
            purposes: vec![Purpose(PURPOSE.into())],
            level: Level::Pseudonymous,
            price_per_use: Amount(PRICE),
            max_uses: None,
            expires_at: None,
            request: None,
        });
        let body = self.consumer_tx(c, payload);
        self.live[e].add(at, (ConsentId(body.id().0), c));
        Unsigned {
            kind: Kind::Grant,
            signer: Signer::Consumer(c),
            body,
            uses: 0,
        }
    }

    /// Setup: registers `n` consumers and gives each one consent to an
    /// enterprise (round robin), all usable from the start of the run.
    pub fn setup(&mut self, n: usize) -> Vec<Prepared> {
        let mut out = Vec::with_capacity(2 * n);
        for _ in 0..n {
            let Some(r) = self.register(0) else { break };
            let Signer::Consumer(c) = r.signer else {
                continue;
            };
            out.push(r);
            let e = c % self.enterprises.len().max(1);
            if !self.enterprises.is_empty() {
                out.push(self.grant(c, e, 0));
            }
        }
        self.sign(out)
    }

    /// The measured run: `count` txs drawn from `mix`. A tx that depends on
    /// another sender's tx (a use of a consent, a grant by a consumer
    /// registered in this run) comes at least `lag` positions after it.
    pub fn plan(
        &mut self,
        count: usize,
        mix: Mix,
        uses_per_record: usize,
        lag: usize,
    ) -> Vec<Prepared> {
        let mut out = Vec::with_capacity(count);
        for pos in 0..count {
            self.registered.advance(pos);
            let kind = mix.pick(&mut self.rng);
            let tx = match kind {
                Kind::Register => self.register(pos + lag),
                Kind::Grant => self.pick_grant(pos + lag),
                Kind::RecordUse => self.pick_uses(pos, uses_per_record),
                Kind::Revoke => self.pick_revoke(pos),
                Kind::Transfer => None,
            };
            let tx = match tx {
                Some(t) => t,
                // Nothing to do for that kind yet (no consent ready, every
                // consumer registered): pay someone instead.
                None => match self.pick_transfer() {
                    Some(t) => t,
                    None => continue,
                },
            };
            out.push(tx);
        }
        self.sign(out)
    }

    fn pick_grant(&mut self, at: usize) -> Option<Unsigned> {
        if self.registered.ready.is_empty() || self.enterprises.is_empty() {
            return None;
        }
        let c = self.registered.ready[self.rng.gen_range(0..self.registered.ready.len())];
        let e = self.rng.gen_range(0..self.enterprises.len());
        Some(self.grant(c, e, at))
    }

    fn round_robin(&mut self) -> Option<usize> {
        if self.enterprises.is_empty() {
            return None;
        }
        let e = self.next_enterprise % self.enterprises.len();
        self.next_enterprise += 1;
        Some(e)
    }

    fn pick_uses(&mut self, pos: usize, n: usize) -> Option<Unsigned> {
        let e = self.round_robin()?;
        self.live[e].advance(pos);
        let len = self.live[e].ready.len();
        if len == 0 {
            return None;
        }
        let picks: Vec<(usize, [u8; 32])> = (0..n.max(1))
            .map(|_| (self.rng.gen_range(0..len), self.rng.gen()))
            .collect();
        let ready = &self.live[e].ready;
        let uses: Vec<Use> = picks
            .into_iter()
            .map(|(i, evidence)| {
                let (consent, c) = ready[i];
                Use {
                    consumer: self.consumer_ids[c],
                    basis: UseBasis::Consent(consent),
                    category: Category(CATEGORY.into()),
                    purpose: Purpose(PURPOSE.into()),
                    level: Level::Pseudonymous,
                    units: 1,
                    evidence_hash: Hash32(evidence),
                }
            })
            .collect();
        let count = uses.len() as u32;
        let body = self.enterprise_tx(e, Payload::RecordUse(RecordUse { uses }));
        Some(Unsigned {
            kind: Kind::RecordUse,
            signer: Signer::Enterprise(e),
            body,
            uses: count,
        })
    }

    fn pick_revoke(&mut self, pos: usize) -> Option<Unsigned> {
        if self.enterprises.is_empty() {
            return None;
        }
        let e = self.rng.gen_range(0..self.enterprises.len());
        self.live[e].advance(pos);
        let len = self.live[e].ready.len();
        if len == 0 {
            return None;
        }
        let i = self.rng.gen_range(0..len);
        let (consent, c) = self.live[e].ready.swap_remove(i);
        let body = self.consumer_tx(c, Payload::RevokeConsent(RevokeConsent { consent }));
        Some(Unsigned {
            kind: Kind::Revoke,
            signer: Signer::Consumer(c),
            body,
            uses: 0,
        })
    }

    fn pick_transfer(&mut self) -> Option<Unsigned> {
        let e = self.round_robin()?;
        let to = if self.registered.ready.is_empty() {
            self.enterprises[(e + 1) % self.enterprises.len()].account()
        } else {
            let c = self.registered.ready[self.rng.gen_range(0..self.registered.ready.len())];
            self.consumer_ids[c]
        };
        let body = self.enterprise_tx(
            e,
            Payload::Transfer(Transfer {
                to,
                amount: Amount(1),
            }),
        );
        Some(Unsigned {
            kind: Kind::Transfer,
            signer: Signer::Enterprise(e),
            body,
            uses: 0,
        })
    }

    /// Signs every tx, on every core.
    fn sign(&self, txs: Vec<Unsigned>) -> Vec<Prepared> {
        let chain = self.chain_id.as_str();
        let nodes: Vec<usize> = txs.iter().map(|t| self.node_of(t.signer)).collect();
        let signed = parallel_map(txs.len(), |i| {
            let t = &txs[i];
            let key = match t.signer {
                Signer::Consumer(c) => &self.consumers[c],
                Signer::Enterprise(e) => &self.enterprises[e],
            };
            let id = t.body.id();
            let tx = t.body.clone().sign(chain, key);
            (id.to_string(), tx.encode())
        });
        signed
            .into_iter()
            .zip(txs.iter().zip(nodes))
            .map(|((id, bytes), (t, node))| Prepared {
                kind: t.kind,
                id,
                bytes,
                node,
                uses: t.uses,
            })
            .collect()
    }
}

/// `f(0..n)` computed on every core, in order.
pub fn parallel_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(16);
    let chunk = n.div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                s.spawn(move || (start..(start + chunk).min(n)).map(f).collect::<Vec<T>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

#[cfg(test)]
#[path = "workload_tests.rs"]
mod tests;
