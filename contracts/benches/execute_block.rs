//! Block execution and signature checks for 1,000-tx blocks.
//!
//! The state holds 2,000 registered consumers with one consent each to one
//! enterprise. Blocks:
//! - `mixed`: 500 GrantConsent (one per consumer) + 500 RecordUse of 8 uses each
//!   (4,000 settled uses) from 10 enterprises;
//! - `grants`: 1,000 GrantConsent;
//! - `uses`: 1,000 RecordUse of 8 uses each (8,000 settled uses).
//!
//! Signature checks (one by one, and batched) are measured apart from execution,
//! as a node verifies each tx once at admission and executes it later.
//! Allocations go through jemalloc, as in `assentd`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The allocator `assentd` runs with: execution allocates each record it
// reads and writes, so the allocator is part of the cost measured.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::{
    Enterprise, EnterpriseStatus, MemStore, Operator, Params, StateTree, Validator,
};
use assent_contracts::terms::{Level, Sector};
use assent_contracts::tx::*;
use assent_contracts::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const CHAIN: &str = "assent-bench";
const CONSUMERS: usize = 2_000;
const ENTERPRISES: usize = 10;

fn kp(i: u32, tag: u8) -> Keypair {
    let mut seed = [tag; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    Keypair::from_seed(seed)
}

struct Fixture {
    store: MemStore,
    root: StateTree,
    height: Height,
    consumers: Vec<Keypair>,
    ents: Vec<Keypair>,
    consents: Vec<ConsentId>,
    nonces: std::collections::BTreeMap<AccountId, u64>,
}

impl Fixture {
    fn new() -> Fixture {
        let consumers: Vec<Keypair> = (0..CONSUMERS as u32).map(|i| kp(i, 1)).collect();
        let ents: Vec<Keypair> = (0..ENTERPRISES as u32).map(|i| kp(i, 2)).collect();
        let op = kp(0, 3);
        let init = InitialState {
            chain_id: CHAIN.into(),
            params: Params::default(),
            mint_authority: kp(0, 4).account(),
            operators: vec![Operator {
                account: op.account(),
                name: "op".into(),
            }],
            validators: vec![Validator {
                name: "v".into(),
                consensus_key: op.account(),
                power: 1,
                p2p_address: String::new(),
            }],
            enterprises: ents
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    (
                        e.account(),
                        Enterprise {
                            name: format!("ent{i}"),
                            sector: Sector::Retail,
                            jurisdiction: "EU".into(),
                            policy_url: String::new(),
                            status: EnterpriseStatus::Active,
                            admitted_at: Height(0),
                        },
                    )
                })
                .collect(),
            balances: ents
                .iter()
                .map(|e| (e.account(), Amount(1 << 50)))
                .collect(),
            referral: None,
        };
        let (store, root) = init.to_mem_store().unwrap();
        let mut f = Fixture {
            store,
            root,
            height: Height(0),
            consumers,
            ents,
            consents: vec![],
            nonces: Default::default(),
        };
        let regs: Vec<SignedTx> = (0..CONSUMERS)
            .map(|i| {
                f.sign_consumer(
                    i,
                    Payload::RegisterConsumer(RegisterConsumer {
                        tags: Default::default(),
                    }),
                )
            })
            .collect();
        f.commit(regs);
        let grants: Vec<SignedTx> = (0..CONSUMERS).map(|i| f.grant(i)).collect();
        f.consents = grants.iter().map(|t| ConsentId(t.id().0)).collect();
        f.commit(grants);
        f
    }

    fn sign(&mut self, k: &Keypair, payload: Payload) -> SignedTx {
        let n = self.nonces.entry(k.account()).or_insert(0);
        let tx = TxBody {
            sender: k.account(),
            nonce: *n,
            payload,
        }
        .sign(CHAIN, k);
        *n += 1;
        tx
    }

    fn sign_consumer(&mut self, i: usize, payload: Payload) -> SignedTx {
        let k = Keypair::from_seed(self.consumers[i].seed());
        self.sign(&k, payload)
    }

    fn grant(&mut self, i: usize) -> SignedTx {
        let enterprise = self.ents[i % ENTERPRISES].account();
        self.sign_consumer(
            i,
            Payload::GrantConsent(GrantConsent {
                enterprise,
                categories: vec!["Purchase".parse().unwrap(), "Location".parse().unwrap()],
                purposes: vec!["DirectMarketing".parse().unwrap()],
                level: Level::Pseudonymous,
                price_per_use: Amount(3),
                max_uses: None,
                expires_at: None,
                request: None,
            }),
        )
    }

    /// A RecordUse of 8 uses by enterprise `e`, under consents granted to it.
    fn record(&mut self, e: usize, salt: usize) -> SignedTx {
        let uses = (0..8)
            .map(|j| {
                let c = (e + ENTERPRISES * (salt * 8 + j)) % CONSUMERS;
                Use {
                    consumer: self.consumers[c].account(),
                    basis: UseBasis::Consent(self.consents[c]),
                    category: "Purchase".parse().unwrap(),
                    purpose: "DirectMarketing".parse().unwrap(),
                    level: Level::Aggregate,
                    units: 1,
                    evidence_hash: Hash32([j as u8; 32]),
                }
            })
            .collect();
        let k = Keypair::from_seed(self.ents[e].seed());
        self.sign(&k, Payload::RecordUse(RecordUse { uses }))
    }

    fn ctx(&self) -> BlockContext {
        BlockContext {
            chain_id: CHAIN.into(),
            height: self.height.next(),
            time: Timestamp(1_800_000_000_000 + self.height.0),
            proposer: AccountId::default(),
        }
    }

    fn commit(&mut self, txs: Vec<SignedTx>) {
        let v: Vec<VerifiedTx> = txs.into_iter().map(|t| t.verify(CHAIN).unwrap()).collect();
        let out = execute_block(&self.store, &self.ctx(), &self.root, &v).unwrap();
        assert!(out
            .results
            .iter()
            .all(|r| matches!(r.outcome, TxOutcome::Applied { .. })));
        self.store.apply(&out.writes);
        self.root = out.tree;
        self.height = self.height.next();
    }
}

fn settled(out: &BlockOutput) -> usize {
    out.results
        .iter()
        .map(|r| match &r.outcome {
            TxOutcome::Applied { events } => events
                .iter()
                .filter(|e| matches!(e, Event::UseSettled { .. }))
                .count(),
            TxOutcome::Rejected(_) => 0,
        })
        .sum()
}

fn benches(c: &mut Criterion) {
    let mut f = Fixture::new();
    // Grants come from consumers who have not granted in this block yet: new consents.
    let mixed: Vec<SignedTx> = {
        let mut v: Vec<SignedTx> = (0..500).map(|i| f.grant(i)).collect();
        v.extend((0..500).map(|i| f.record(i % ENTERPRISES, i / ENTERPRISES)));
        v
    };
    let grants: Vec<SignedTx> = (500..1_500).map(|i| f.grant(i)).collect();
    let mut nonce_reset = f.nonces.clone();
    for e in &f.ents {
        nonce_reset.insert(e.account(), 0);
    }
    f.nonces = nonce_reset;
    let uses: Vec<SignedTx> = (0..1_000)
        .map(|i| f.record(i % ENTERPRISES, i / ENTERPRISES))
        .collect();

    let mut g = c.benchmark_group("signatures");
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("verify_single_1000", |b| {
        b.iter_batched(
            || mixed.clone(),
            |txs| {
                txs.into_iter()
                    .map(|t| t.verify(CHAIN).is_ok())
                    .filter(|ok| *ok)
                    .count()
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("verify_batch_1000", |b| {
        b.iter_batched(
            || mixed.clone(),
            |txs| {
                let n = verify_batch(CHAIN, txs, rand::rngs::OsRng)
                    .into_iter()
                    .filter(|r| r.is_ok())
                    .count();
                assert_eq!(n, 1_000);
                n
            },
            BatchSize::LargeInput,
        )
    });
    // The same batch with its signers' keys already decompressed, as a
    // node's pool holds them for signers it has seen.
    let keys = assent_contracts::crypto::SignerKeys::new(
        assent_contracts::crypto::SIGNER_KEYS_PER_GENERATION,
    );
    assert!(
        verify_covered_batch(
            CHAIN,
            mixed.iter().cloned().map(CoveredTx::new).collect(),
            rand::rngs::OsRng,
            Some(&keys),
        )
        .iter()
        .all(|r| r.is_ok())
            && !keys.is_empty()
    );
    g.bench_function("verify_batch_1000_keys_kept", |b| {
        b.iter_batched(
            || mixed.clone(),
            |txs| {
                let txs = txs.into_iter().map(CoveredTx::new).collect();
                let n = verify_covered_batch(CHAIN, txs, rand::rngs::OsRng, Some(&keys))
                    .into_iter()
                    .filter(|r| r.is_ok())
                    .count();
                assert_eq!(n, 1_000);
                n
            },
            BatchSize::LargeInput,
        )
    });
    // Smaller batches, as admission gets them (a gossip message, an API
    // call): the cost per signature of a batch grows as the batch shrinks.
    for n in [16usize, 64, 256] {
        g.bench_function(format!("verify_batch_{n}_keys_kept_x{}", 1_000 / n), |b| {
            b.iter_batched(
                || mixed.clone(),
                |txs| {
                    let mut ok = 0;
                    let mut txs = txs.into_iter().map(CoveredTx::new).peekable();
                    for _ in 0..1_000 / n {
                        let chunk: Vec<CoveredTx> = txs.by_ref().take(n).collect();
                        ok += verify_covered_batch(CHAIN, chunk, rand::rngs::OsRng, Some(&keys))
                            .into_iter()
                            .filter(|r| r.is_ok())
                            .count();
                    }
                    assert_eq!(ok, (1_000 / n) * n);
                    ok
                },
                BatchSize::LargeInput,
            )
        });
    }
    // One forged signature among 1,000: only its chunk is checked singly.
    let mut one_bad = mixed.clone();
    one_bad[500].signature.0[0] ^= 0x80;
    g.bench_function("verify_batch_1000_one_bad", |b| {
        b.iter_batched(
            || one_bad.clone(),
            |txs| {
                let n = verify_batch(CHAIN, txs, rand::rngs::OsRng)
                    .into_iter()
                    .filter(|r| r.is_ok())
                    .count();
                assert_eq!(n, 999);
                n
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("execute_block");
    g.throughput(Throughput::Elements(1_000));
    g.sample_size(20);
    for (name, txs, want_settled) in [
        ("mixed_500_grants_500x8_uses", &mixed, 4_000),
        ("grants_1000", &grants, 0),
        ("uses_1000x8", &uses, 8_000),
    ] {
        let verified: Vec<VerifiedTx> = txs
            .iter()
            .cloned()
            .map(|t| t.verify(CHAIN).unwrap())
            .collect();
        let ctx = f.ctx();
        // Check once that the block does what it claims before timing it.
        let out = execute_block(&f.store, &ctx, &f.root, &verified).unwrap();
        assert!(
            out.results
                .iter()
                .all(|r| matches!(r.outcome, TxOutcome::Applied { .. })),
            "{name}: a tx was rejected"
        );
        assert_eq!(settled(&out), want_settled, "{name}");
        g.bench_function(name, |b| {
            b.iter(|| execute_block(&f.store, &ctx, &f.root, &verified).unwrap())
        });
    }
    g.finish();
}

criterion_group!(execute, benches);
criterion_main!(execute);
