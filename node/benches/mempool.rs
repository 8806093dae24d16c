//! Mempool hot paths with 1,000-tx batches.
//!
//! A batch is 500 GrantConsent (500 registered consumers, nonce 1) and 500
//! RecordUse of 8 uses each (10 enterprises, 50 consecutive nonces each from
//! 1): 510 senders, the mix of the `mixed` block of
//! `contracts/benches/execute_block.rs`. Every sender has sent one tx before
//! (a consumer its registration), so no tx here is a key's first (nonce 0),
//! which admission would also run against the state.
//! Measured:
//! - `admit`: one batch into an empty pool, through the API path
//!   (`mempool::admit`, `Origin::Client`), the gossip path (`Origin::Gossip`),
//!   and as 1,000 calls of one tx each (an API client submitting txs one by
//!   one); this is the node's own admission code, and it includes the
//!   strict decode, the nonce reads and the (batch) signature check;
//! - `reap`: a block's worth (1,000) from a pool of 1,000 and of 10,000 txs;
//! - `remove_committed`: the 1,000 txs of a committed block from a pool of 2,000.
//!
//! The state is an in-memory `MemStore`; the node reads nonces from sled,
//! which `reap` and `remove_committed` do once per pending sender.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Mutex;
use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::{
    Account, Consumer, Enterprise, EnterpriseStatus, MemStore, Operator, Overlay, Params, StateExt,
    Validator,
};
use assent_contracts::terms::{Level, Sector};
use assent_contracts::tx::*;
use assent_contracts::*;
use assent_node::mempool::{self, Mempool, MempoolLimits, Origin, ReapLimits};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::OsRng;

const CHAIN: &str = "assent-bench";
const ENTERPRISES: usize = 10;

fn kp(i: u32, tag: u8) -> Keypair {
    let mut seed = [tag; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    Keypair::from_seed(seed)
}

fn consumer(i: usize) -> Keypair {
    kp(i as u32, 1)
}

fn enterprise(e: usize) -> Keypair {
    kp(e as u32, 2)
}

fn genesis() -> MemStore {
    let op = kp(0, 3);
    let store = InitialState {
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
        enterprises: (0..ENTERPRISES)
            .map(|e| {
                (
                    enterprise(e).account(),
                    Enterprise {
                        name: format!("ent{e}"),
                        sector: Sector::Retail,
                        jurisdiction: "EU".into(),
                        policy_url: String::new(),
                        status: EnterpriseStatus::Active,
                        admitted_at: Height(0),
                    },
                )
            })
            .collect(),
        balances: (0..ENTERPRISES)
            .map(|e| (enterprise(e).account(), Amount(1 << 50)))
            .collect(),
        referral: None,
    }
    .to_mem_store()
    .unwrap()
    .0;
    // Consumers registered, every sender past its first tx (nonce 1).
    let writes = {
        let mut o = Overlay::new(&store);
        for i in 0..5_000 {
            let who = consumer(i).account();
            o.put_consumer(
                &who,
                &Consumer {
                    tags: Default::default(),
                    registered_at: Height(1),
                    earned: Amount(0),
                    uses_settled: 0,
                },
            );
            o.put_account(
                &who,
                &Account {
                    nonce: 1,
                    balance: Amount(0),
                },
            );
        }
        for e in 0..ENTERPRISES {
            let who = enterprise(e).account();
            let mut a = store.account(&who).unwrap();
            a.nonce = 1;
            o.put_account(&who, &a);
        }
        o.into_writes()
    };
    let mut store = store;
    store.apply(&writes);
    store
}

/// The block admitted txs would go into.
fn next() -> BlockContext {
    BlockContext {
        chain_id: CHAIN.into(),
        height: Height(2),
        time: Timestamp(1_000),
        proposer: kp(0, 3).account(),
    }
}

fn grant(i: usize) -> SignedTx {
    let k = consumer(i);
    TxBody {
        sender: k.account(),
        nonce: 1,
        payload: Payload::GrantConsent(GrantConsent {
            enterprise: enterprise(i % ENTERPRISES).account(),
            categories: vec!["Purchase".parse().unwrap(), "Location".parse().unwrap()],
            purposes: vec!["DirectMarketing".parse().unwrap()],
            level: Level::Pseudonymous,
            price_per_use: Amount(3),
            max_uses: None,
            expires_at: None,
            request: None,
        }),
    }
    .sign(CHAIN, &k)
}

fn record(e: usize, nonce: u64) -> SignedTx {
    let uses = (0..8)
        .map(|j| {
            let c = (e + ENTERPRISES * (nonce as usize * 8 + j)) % 5_000;
            Use {
                consumer: consumer(c).account(),
                basis: UseBasis::Consent(ConsentId(Hash32([(c % 251) as u8; 32]))),
                category: "Purchase".parse().unwrap(),
                purpose: "DirectMarketing".parse().unwrap(),
                level: Level::Aggregate,
                units: 1,
                evidence_hash: Hash32([j as u8; 32]),
            }
        })
        .collect();
    let k = enterprise(e);
    TxBody {
        sender: k.account(),
        nonce: nonce + 1,
        payload: Payload::RecordUse(RecordUse { uses }),
    }
    .sign(CHAIN, &k)
}

/// Grants of `consumers` (nonce 0), then RecordUse txs of every enterprise
/// with `nonces`, enterprises interleaved.
fn batch(consumers: Range<usize>, nonces: Range<u64>) -> Vec<SignedTx> {
    let mut v: Vec<SignedTx> = consumers.map(grant).collect();
    for n in nonces {
        v.extend((0..ENTERPRISES).map(|e| record(e, n)));
    }
    v
}

fn raw(txs: &[SignedTx]) -> Vec<Vec<u8>> {
    txs.iter().map(SignedTx::encode).collect()
}

fn filled(store: &MemStore, raw: Vec<Vec<u8>>) -> Mempool {
    let n = raw.len();
    let mut mp = Mempool::new(MempoolLimits::default());
    let ok = mempool::admit(
        &Mutex::new(&mut mp),
        Origin::Client,
        &next(),
        raw,
        store,
        OsRng,
    )
    .iter()
    .filter(|r| r.is_ok())
    .count();
    assert_eq!(ok, n, "every tx is admitted");
    mp
}

/// `store` after committing `txs`: each sender's nonce raised past its txs.
fn after(store: &MemStore, txs: &[SignedTx]) -> MemStore {
    let mut next: BTreeMap<AccountId, u64> = BTreeMap::new();
    for t in txs {
        let n = next.entry(t.body.sender).or_insert(0);
        *n = (*n).max(t.body.nonce + 1);
    }
    let writes = {
        let mut o = Overlay::new(store);
        for (who, nonce) in &next {
            let mut a = store.account(who).unwrap();
            a.nonce = *nonce;
            o.put_account(who, &a);
        }
        o.into_writes()
    };
    let mut s = store.clone();
    s.apply(&writes);
    s
}

fn benches(c: &mut Criterion) {
    let store = genesis();
    let params = store.params().unwrap();
    let (max_txs, max_bytes) = (1_000, params.max_block_bytes as usize);
    // 10,000 txs: 5,000 grants + 10 enterprises x 500 nonces. The first
    // block's worth (`a`) and the next (`b`) are subsets.
    let a = batch(0..500, 0..50);
    let b = batch(500..1_000, 50..100);
    let rest = batch(1_000..5_000, 100..500);
    let raw_a = raw(&a);
    let raw_ab: Vec<Vec<u8>> = raw_a.iter().cloned().chain(raw(&b)).collect();
    let raw_all: Vec<Vec<u8>> = raw_ab.iter().cloned().chain(raw(&rest)).collect();
    assert_eq!(
        (raw_a.len(), raw_ab.len(), raw_all.len()),
        (1_000, 2_000, 10_000)
    );
    let ids_a: Vec<TxId> = a.iter().map(SignedTx::id).collect();
    let store_after_a = after(&store, &a);

    // Checks, once, outside the timed loops.
    let pool_1k = filled(&store, raw_a.clone());
    let pool_10k = filled(&store, raw_all.clone());
    assert_eq!(
        pool_1k
            .reap(&store, ReapLimits::of(max_txs, max_bytes))
            .len(),
        1_000
    );
    assert_eq!(
        pool_10k
            .reap(&store, ReapLimits::of(max_txs, max_bytes))
            .len(),
        1_000
    );
    {
        let mut mp = Mempool::new(MempoolLimits::default());
        let ok = mempool::admit(
            &Mutex::new(&mut mp),
            Origin::Gossip,
            &next(),
            raw_a.clone(),
            &store,
            OsRng,
        )
        .iter()
        .filter(|r| r.is_ok())
        .count();
        assert_eq!(ok, 1_000);
        let mut mp = Mempool::new(MempoolLimits::default());
        for t in &raw_a {
            mempool::admit(
                &Mutex::new(&mut mp),
                Origin::Client,
                &next(),
                vec![t.clone()],
                &store,
                OsRng,
            )
            .pop()
            .unwrap()
            .unwrap();
        }
        assert_eq!(mp.len(), 1_000);
        let mut mp = filled(&store, raw_ab.clone());
        mp.remove_committed(&ids_a, &store_after_a);
        assert_eq!(mp.len(), 1_000, "the next block's txs stay");
        assert!(ids_a.iter().all(|id| !mp.contains(id)));
    }

    let mut g = c.benchmark_group("mempool_admit_1000");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(1_000));
    g.bench_function("api_batch", |bch| {
        bch.iter_batched(
            || (Mempool::new(MempoolLimits::default()), raw_a.clone()),
            |(mut mp, raw)| {
                let r = mempool::admit(
                    &Mutex::new(&mut mp),
                    Origin::Client,
                    &next(),
                    raw,
                    &store,
                    OsRng,
                );
                (mp, r)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("gossip_batch", |bch| {
        bch.iter_batched(
            || (Mempool::new(MempoolLimits::default()), raw_a.clone()),
            |(mut mp, raw)| {
                let r = mempool::admit(
                    &Mutex::new(&mut mp),
                    Origin::Gossip,
                    &next(),
                    raw,
                    &store,
                    OsRng,
                );
                (mp, r)
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("api_one_by_one", |bch| {
        bch.iter_batched(
            || {
                (
                    Mempool::new(MempoolLimits::default()),
                    raw_a.iter().map(|t| vec![t.clone()]).collect::<Vec<_>>(),
                )
            },
            |(mut mp, raws)| {
                let r: Vec<_> = raws
                    .into_iter()
                    .map(|raw| {
                        mempool::admit(
                            &Mutex::new(&mut mp),
                            Origin::Client,
                            &next(),
                            raw,
                            &store,
                            OsRng,
                        )
                    })
                    .collect();
                (mp, r)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("mempool_reap_1000");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1_000));
    g.bench_function("from_1000", |bch| {
        bch.iter(|| pool_1k.reap(&store, ReapLimits::of(max_txs, max_bytes)))
    });
    g.bench_function("from_10000", |bch| {
        bch.iter(|| pool_10k.reap(&store, ReapLimits::of(max_txs, max_bytes)))
    });
    g.finish();

    let mut g = c.benchmark_group("mempool_remove_committed_1000");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1_000));
    g.bench_function("from_2000", |bch| {
        bch.iter_batched(
            || filled(&store, raw_ab.clone()),
            |mut mp| {
                mp.remove_committed(&ids_a, &store_after_a);
                mp
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(mempool, benches);
criterion_main!(mempool);
