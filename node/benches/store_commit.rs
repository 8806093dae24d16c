//! `Store::commit_block`: the consensus-path commit of a block (its journal
//! record appended and synced to disk, its writes added to the in-memory
//! state). The state checkpoint and the indexes are written by background
//! threads and are not part of the commit path.
//!
//! Genesis: 10 funded enterprises, 4 validators of one operator. Blocks 1 and
//! 2 (committed through the store, so the database holds a realistic state)
//! register 2,000 consumers and give each one consent. Then the measured
//! block, executed once against the sled store: 500 GrantConsent + 500
//! RecordUse of 8 uses each (4,000 settled uses, each indexed twice).
//!
//! Each timed iteration commits that block's output at the next height (the
//! header is relabelled, so block, certificate, results and per-consumer use
//! keys are new each time; the state writes and the tx/use location keys
//! overwrite the previous iteration's). An empty block is measured apart to
//! show the fixed cost. Each timed commit starts with the persister idle (the
//! setup waits for the previous checkpoint), as between blocks of a live
//! chain. Both run on disk (a temp dir, `Store::open`, as the
//! node does) and on the same layout in `/dev/shm` (where the sync does no
//! device I/O) to separate CPU from the device.
//!
//! `execute_on_state`: the measured block executed (not committed) over the
//! store's state after the setup, once the persister wrote it: its reads go
//! through the read cache, as a validator's do. `remembered` is how the
//! node executes (the block's overlay keeps what it read, decision 48);
//! `each_read_looked_up` asks the state for every read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use assent_contracts::commit::{CommitCertificate, CommitSignature};
use assent_contracts::crypto::{Keypair, Signature};
use assent_contracts::state::{Entries, StateRead, StateTree, StoreError};
use assent_contracts::tx::*;
use assent_contracts::*;
use assent_genesis::{
    default_p2p_address, BalanceEntry, EnterpriseEntry, Genesis, GenesisFile, OperatorEntry,
    ValidatorEntry,
};
use assent_node::storage::records::Head;
use assent_node::storage::state::StateSnapshot;
use assent_node::storage::{Store, StoreConfig};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const CHAIN: &str = "assent-bench";
const CONSUMERS: usize = 2_000;
const ENTERPRISES: usize = 10;
const VALIDATORS: usize = 4;
const GENESIS_TIME: u64 = 1_800_000_000_000;

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

fn validator(v: usize) -> Keypair {
    kp(v as u32, 5)
}

fn genesis() -> Genesis {
    let op = kp(0, 3).account().to_string();
    Genesis::from_file(&GenesisFile {
        chain_id: CHAIN.into(),
        genesis_time: assent_genesis::time::format_utc(Timestamp(GENESIS_TIME)),
        mint_authority: kp(0, 4).account().to_string(),
        params: Default::default(),
        operators: vec![OperatorEntry {
            name: "op".into(),
            account: op.clone(),
        }],
        validators: (0..VALIDATORS)
            .map(|v| ValidatorEntry {
                name: format!("v{v}"),
                consensus_key: validator(v).account().to_string(),
                power: 1,
                p2p_address: default_p2p_address(v),
                operator: op.clone(),
            })
            .collect(),
        enterprises: (0..ENTERPRISES)
            .map(|e| EnterpriseEntry {
                name: format!("ent{e}"),
                account: enterprise(e).account().to_string(),
                sector: "retail".into(),
                jurisdiction: Some("EU".into()),
                policy_url: None,
            })
            .collect(),
        balances: (0..ENTERPRISES)
            .map(|e| BalanceEntry {
                account: enterprise(e).account().to_string(),
                amount: 1 << 50,
            })
            .collect(),
        referral: None,
    })
    .unwrap()
}

fn sign(k: &Keypair, nonce: u64, payload: Payload) -> VerifiedTx {
    TxBody {
        sender: k.account(),
        nonce,
        payload,
    }
    .sign(CHAIN, k)
    .verify(CHAIN)
    .unwrap()
}

fn grant(i: usize, nonce: u64) -> VerifiedTx {
    sign(
        &consumer(i),
        nonce,
        Payload::GrantConsent(GrantConsent {
            enterprise: enterprise(i % ENTERPRISES).account(),
            categories: vec!["Purchase".parse().unwrap(), "Location".parse().unwrap()],
            purposes: vec!["DirectMarketing".parse().unwrap()],
            level: assent_contracts::terms::Level::Pseudonymous,
            price_per_use: Amount(3),
            max_uses: None,
            expires_at: None,
            request: None,
        }),
    )
}

/// A RecordUse of 8 uses by enterprise `e`, under consents granted to it.
fn record(e: usize, nonce: u64, consents: &[ConsentId]) -> VerifiedTx {
    let uses = (0..8)
        .map(|j| {
            let c = (e + ENTERPRISES * (nonce as usize * 8 + j)) % CONSUMERS;
            Use {
                consumer: consumer(c).account(),
                basis: UseBasis::Consent(consents[c]),
                category: "Purchase".parse().unwrap(),
                purpose: "DirectMarketing".parse().unwrap(),
                level: assent_contracts::terms::Level::Aggregate,
                units: 1,
                evidence_hash: Hash32([j as u8; 32]),
            }
        })
        .collect();
    sign(
        &enterprise(e),
        nonce,
        Payload::RecordUse(RecordUse { uses }),
    )
}

fn cert(block: &Block) -> CommitCertificate {
    CommitCertificate {
        height: block.header.height,
        round: 0,
        block_hash: block.header.hash(),
        signatures: (0..VALIDATORS)
            .map(|v| CommitSignature {
                validator: validator(v).account(),
                signature: Signature([v as u8; 64]),
            })
            .collect(),
    }
}

/// The store's head, and the context and state tree of the block after it.
fn next_block(store: &Store) -> (Head, BlockContext, StateTree) {
    let head = store.head();
    let ctx = BlockContext {
        chain_id: CHAIN.into(),
        height: head.height.next(),
        time: Timestamp(head.time.0 + 1_000),
        proposer: validator(0).account(),
    };
    let tree = store.tree_at(head.height).unwrap();
    (head, ctx, tree)
}

/// Executes `txs` on the store's state as the next block; returns the block
/// (not yet committed) and its output.
fn execute(store: &Store, txs: &[VerifiedTx]) -> (Block, BlockOutput) {
    let (head, ctx, tree) = next_block(store);
    let out = execute_block(store, &ctx, &tree, txs).unwrap();
    let block = Block {
        header: BlockHeader {
            chain_id: CHAIN.into(),
            height: ctx.height,
            time: ctx.time,
            prev_hash: head.block_hash,
            txs_root: out.txs_root,
            results_root: out.results_root,
            state_root: out.state_root,
            proposer: ctx.proposer,
        },
        txs: txs.iter().map(|t| t.tx().clone()).collect(),
    };
    (block, out)
}

fn all_applied(out: &BlockOutput) -> bool {
    out.results
        .iter()
        .all(|r| matches!(r.outcome, TxOutcome::Applied { .. }))
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

/// The block relabelled to the height after the store's head.
fn next(store: &Store, block: &Block) -> (Block, CommitCertificate) {
    let head = store.head();
    let mut b = block.clone();
    b.header.height = head.height.next();
    b.header.prev_hash = head.block_hash;
    b.header.time = Timestamp(head.time.0 + 1_000);
    let c = cert(&b);
    (b, c)
}

/// Opens `store` at the state the measured block runs on: genesis, then the
/// setup blocks.
fn prepare(store: &Store, setup: &[(Block, BlockOutput)]) {
    for (block, out) in setup {
        store
            .commit_block(
                &block.encode(),
                &Arc::new(block.clone()),
                &cert(block),
                &mut out.clone(),
            )
            .unwrap();
    }
}

/// Commits `block`'s output once, relabelled to the next height, and checks it
/// landed; returns the new head height.
fn check_commit(store: &Store, block: &Block, out: &BlockOutput) -> u64 {
    let before = store.head().height;
    let (b, cc) = next(store, block);
    let b = Arc::new(b);
    let (head, results) = store
        .commit_block(&b.encode(), &b, &cc, &mut out.clone())
        .unwrap();
    assert_eq!(head.height, before.next());
    assert_eq!(store.head(), head);
    assert_eq!(store.block(head.height).unwrap().unwrap(), *b);
    assert_eq!(results.results, out.results);
    head.height.0
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StoreConfig::default();
    let disk = Store::open(dir.path(), &cfg, &genesis()).unwrap();

    let regs: Vec<VerifiedTx> = (0..CONSUMERS)
        .map(|i| {
            sign(
                &consumer(i),
                0,
                Payload::RegisterConsumer(RegisterConsumer {
                    tags: Default::default(),
                }),
            )
        })
        .collect();
    let grants: Vec<VerifiedTx> = (0..CONSUMERS).map(|i| grant(i, 1)).collect();
    let consents: Vec<ConsentId> = grants.iter().map(|t| ConsentId(t.id().0)).collect();
    let mut setup = Vec::new();
    for txs in [&regs, &grants] {
        let (block, out) = execute(&disk, txs);
        assert!(all_applied(&out));
        disk.commit_block(
            &block.encode(),
            &Arc::new(block.clone()),
            &cert(&block),
            &mut out.clone(),
        )
        .unwrap();
        setup.push((block, out));
    }

    // The measured block: new consents from 500 consumers, 4,000 uses.
    let mut mixed: Vec<VerifiedTx> = (0..500).map(|i| grant(i, 2)).collect();
    mixed.extend((0..500).map(|i| record(i % ENTERPRISES, (i / ENTERPRISES) as u64, &consents)));
    let (block, out) = execute(&disk, &mixed);
    assert!(all_applied(&out), "a tx of the measured block was rejected");
    assert_eq!(settled(&out), 4_000);
    let (empty, empty_out) = execute(&disk, &[]);
    println!(
        "block: {} txs, {} encoded bytes, {} state writes, {} settled uses",
        block.txs.len(),
        block.encode().len(),
        out.writes.len(),
        settled(&out)
    );

    execute_on_state(c, &disk, &mixed);

    // The same layout in /dev/shm: the sync costs no disk I/O there, so the
    // difference to `disk` is the device's share.
    let shm_dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let shm = Store::open(shm_dir.path(), &cfg, &genesis()).unwrap();
    prepare(&shm, &setup);

    // Check once per store, outside the timed loops, that a commit lands.
    let mut first = Vec::new();
    for store in [&disk, &shm] {
        first.push(check_commit(store, &block, &out));
    }

    let mut commits = [0u64; 2];
    let mut g = c.benchmark_group("store_commit_block_1000_txs");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(block.txs.len() as u64));
    for (i, (name, store)) in [("disk", &disk), ("shm", &shm)].into_iter().enumerate() {
        g.bench_function(name, |bch| {
            bch.iter_batched(
                || {
                    // The persister writes in the background; measure the
                    // commit path, not a wait behind a backlog of earlier
                    // iterations' checkpoints (blocks come ~1 s apart).
                    assert!(store.wait_persisted(Duration::from_secs(120)));
                    let (b, cc) = next(store, &block);
                    (b.encode(), Arc::new(b), cc, out.clone())
                },
                |(bytes, b, cc, mut o)| {
                    commits[i] += 1;
                    store.commit_block(&bytes, &b, &cc, &mut o).unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();

    let mut g = c.benchmark_group("store_commit_empty_block");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for (i, (name, store)) in [("disk", &disk), ("shm", &shm)].into_iter().enumerate() {
        g.bench_function(name, |bch| {
            bch.iter_batched(
                || {
                    let (b, cc) = next(store, &empty);
                    (b.encode(), Arc::new(b), cc, empty_out.clone())
                },
                |(bytes, b, cc, mut o)| {
                    commits[i] += 1;
                    store.commit_block(&bytes, &b, &cc, &mut o).unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();

    for (i, (name, store)) in [("disk", &disk), ("shm", &shm)].into_iter().enumerate() {
        assert!(
            store.wait_persisted(Duration::from_secs(120)),
            "{name}: the persister wrote every commit"
        );
        assert_eq!(
            store.head().height.0,
            first[i] + commits[i],
            "{name}: every commit advanced the head"
        );
        println!(
            "{name}: {} commits; size on disk {} MiB",
            commits[i],
            store.size_on_disk() / (1024 * 1024)
        );
    }
}

/// The node's state, without asking overlays to remember its reads.
struct EachRead<'a>(&'a StateSnapshot);

impl StateRead for EachRead<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(key)
    }
    fn read_with(&self, key: &[u8], f: &mut dyn FnMut(Option<&[u8]>)) -> Result<(), StoreError> {
        self.0.read_with(key, f)
    }
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Entries, StoreError> {
        self.0.scan_prefix(prefix)
    }
}

fn execute_on_state(c: &mut Criterion, store: &Store, txs: &[VerifiedTx]) {
    assert!(store.wait_persisted(Duration::from_secs(120)));
    let snap = store.snapshot();
    let (_, ctx, tree) = next_block(store);
    let each = EachRead(&snap);
    let a = execute_block(&snap, &ctx, &tree, txs).unwrap();
    let b = execute_block(&each, &ctx, &tree, txs).unwrap();
    assert!(all_applied(&a));
    assert_eq!(
        a.state_root, b.state_root,
        "remembering reads changed the block"
    );
    assert_eq!(a.results_root, b.results_root);
    let mut g = c.benchmark_group("execute_on_state");
    g.sample_size(20)
        .throughput(Throughput::Elements(txs.len() as u64));
    g.bench_function("remembered", |bch| {
        bch.iter(|| execute_block(&snap, &ctx, &tree, txs).unwrap())
    });
    g.bench_function("each_read_looked_up", |bch| {
        bch.iter(|| execute_block(&each, &ctx, &tree, txs).unwrap())
    });
    g.finish();
}

criterion_group!(store_commit, benches);
criterion_main!(store_commit);
