//! The storage conformance suite: every test runs against the sled + journal
//! backend and its in-memory twin, through the same `Store` and `Chain`
//! code the node runs. A reference (`MemStore` + the contracts' pure
//! execution) says what the state must be after each block.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use assent_contracts::commit::{CommitCertificate, CommitSignature};
use assent_contracts::crypto::{Keypair, Signature};
use assent_contracts::state::{MemStore, StateRead, StateTree};
use assent_contracts::tx::*;
use assent_contracts::*;
use assent_genesis::{
    default_p2p_address, BalanceEntry, EnterpriseEntry, Genesis, GenesisFile, OperatorEntry,
    ValidatorEntry,
};

use super::backend::{Backend, StoreError};
use super::disk::DiskBackend;
use super::mem::{Faulty, MemBackend};
use super::state::StateLimits;
use super::{Store, StoreConfig};
use crate::ledger::chain::Chain;

mod bounded;
mod upgrade;

const CHAIN: &str = "assent-storage-test";
const BLOCKS: u64 = 8;
const PER_BLOCK: u32 = 12;

fn kp(i: u32, tag: u8) -> Keypair {
    let mut seed = [tag; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    Keypair::from_seed(seed)
}

fn consumer(i: u32) -> Keypair {
    kp(i, 1)
}
fn enterprise() -> Keypair {
    kp(0, 2)
}
fn validator() -> Keypair {
    kp(0, 5)
}

fn genesis() -> Genesis {
    genesis_of(CHAIN)
}

fn genesis_of(chain: &str) -> Genesis {
    let op = kp(0, 3).account().to_string();
    Genesis::from_file(&GenesisFile {
        chain_id: chain.into(),
        genesis_time: assent_genesis::time::format_utc(Timestamp(1_800_000_000_000)),
        mint_authority: kp(0, 4).account().to_string(),
        params: Default::default(),
        operators: vec![OperatorEntry {
            name: "op".into(),
            account: op.clone(),
        }],
        validators: vec![ValidatorEntry {
            name: "v0".into(),
            consensus_key: validator().account().to_string(),
            power: 1,
            p2p_address: default_p2p_address(0),
            operator: op,
        }],
        enterprises: vec![EnterpriseEntry {
            name: "ent".into(),
            account: enterprise().account().to_string(),
            sector: "retail".into(),
            jurisdiction: Some("EU".into()),
            policy_url: None,
        }],
        balances: vec![BalanceEntry {
            account: enterprise().account().to_string(),
            amount: 1 << 40,
        }],
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

/// Block `b` (from 0): new consumers register and grant; the enterprise
/// records uses of the previous block's consumers (one is refused: no consent).
fn txs_of_block(b: u64, consents: &mut Vec<(u32, ConsentId)>) -> Vec<VerifiedTx> {
    let mut txs = Vec::new();
    let first = b as u32 * PER_BLOCK;
    let earlier: Vec<(u32, ConsentId)> = consents.clone();
    for i in first..first + PER_BLOCK {
        let k = consumer(i);
        txs.push(sign(
            &k,
            0,
            Payload::RegisterConsumer(RegisterConsumer {
                tags: Default::default(),
            }),
        ));
        let g = sign(
            &k,
            1,
            Payload::GrantConsent(GrantConsent {
                enterprise: enterprise().account(),
                categories: vec!["Purchase".parse().unwrap()],
                purposes: vec!["DirectMarketing".parse().unwrap()],
                level: assent_contracts::terms::Level::Pseudonymous,
                price_per_use: Amount(3),
                max_uses: None,
                expires_at: None,
                request: None,
            }),
        );
        consents.push((i, ConsentId(g.id().0)));
        txs.push(g);
    }
    if !earlier.is_empty() {
        let mut uses: Vec<Use> = earlier
            .iter()
            .rev()
            .take(PER_BLOCK as usize)
            .map(|(i, c)| Use {
                consumer: consumer(*i).account(),
                basis: UseBasis::Consent(*c),
                category: "Purchase".parse().unwrap(),
                purpose: "DirectMarketing".parse().unwrap(),
                level: assent_contracts::terms::Level::Aggregate,
                units: 1,
                evidence_hash: Hash32([b as u8; 32]),
            })
            .collect();
        // A use without a consent of that consumer: rejected, still indexed.
        uses.push(Use {
            consumer: consumer(first).account(),
            basis: UseBasis::Consent(earlier[0].1),
            category: "Purchase".parse().unwrap(),
            purpose: "DirectMarketing".parse().unwrap(),
            level: assent_contracts::terms::Level::Aggregate,
            units: 1,
            evidence_hash: Hash32([0xee; 32]),
        });
        txs.push(sign(
            &enterprise(),
            b - 1,
            Payload::RecordUse(RecordUse { uses }),
        ));
    }
    txs
}

/// The scenario's blocks, executed on the reference state.
struct Scenario {
    blocks: Vec<(Arc<Block>, Vec<u8>, CommitCertificate, BlockOutput)>,
    /// Reference state after each height (index 0 = genesis).
    states: Vec<MemStore>,
}

fn scenario() -> Scenario {
    let g = genesis();
    let (mut state, mut root) = g.initial_state().to_mem_store().unwrap();
    let mut prev = BlockHash(g.hash());
    let mut states = vec![state.clone()];
    let mut blocks = Vec::new();
    let mut consents = Vec::new();
    for b in 0..BLOCKS {
        let txs = txs_of_block(b, &mut consents);
        let ctx = BlockContext {
            chain_id: CHAIN.into(),
            height: Height(b + 1),
            time: Timestamp(1_800_000_000_000 + 1_000 * (b + 1)),
            proposer: validator().account(),
        };
        let out = execute_block(&state, &ctx, &root, &txs).unwrap();
        let block = Block {
            header: BlockHeader {
                chain_id: CHAIN.into(),
                height: ctx.height,
                time: ctx.time,
                prev_hash: prev,
                txs_root: out.txs_root,
                results_root: out.results_root,
                state_root: out.state_root,
                proposer: ctx.proposer,
            },
            txs: txs.iter().map(|t| t.tx().clone()).collect(),
        };
        let cert = CommitCertificate {
            height: ctx.height,
            round: 0,
            block_hash: block.header.hash(),
            signatures: vec![CommitSignature {
                validator: validator().account(),
                signature: Signature([7; 64]),
            }],
        };
        state.apply(&out.writes);
        states.push(state.clone());
        root = out.tree.clone();
        prev = block.header.hash();
        let bytes = block.encode();
        blocks.push((Arc::new(block), bytes, cert, out));
    }
    Scenario { blocks, states }
}

fn small() -> StoreConfig {
    StoreConfig {
        sled_cache_bytes: 8 * 1024 * 1024,
        state: StateLimits {
            unpersisted_cap: 256 * 1024 * 1024,
            cache_bytes: 1024 * 1024,
            persist_interval: Duration::from_millis(5),
        },
        index: true,
        proof_history_bytes: 1 << 20,
        state_tree_bytes: 1 << 30,
    }
}

/// The whole state a store serves equals the reference at its head, and
/// every committed block, result and index entry is there.
fn check(store: &Store, sc: &Scenario) {
    let h = store.head().height.0;
    let snap = store.snapshot();
    assert_eq!(snap.height().0, h);
    assert_eq!(
        snap.scan_prefix(b"").unwrap(),
        sc.states[h as usize].scan_prefix(b"").unwrap(),
        "state at height {h}"
    );
    assert!(
        store.wait_indexed(Height(h), Duration::from_secs(20)),
        "indexed to {h}"
    );
    for (block, bytes, _, out) in sc.blocks.iter().take(h as usize) {
        let bh = block.header.height;
        assert_eq!(
            store.block_bytes(bh).unwrap().as_ref(),
            Some(bytes),
            "block {bh}"
        );
        let results = store.results(bh).unwrap().unwrap();
        assert_eq!(results.results, out.results);
        assert_eq!(
            store.certificate(bh).unwrap().unwrap().block_hash,
            block.header.hash()
        );
        for (i, r) in out.results.iter().enumerate() {
            let at = store.tx_location(&r.tx_id).unwrap().unwrap();
            assert_eq!(
                (at.height, at.index),
                (bh, i as u32),
                "tx {} indexed",
                r.tx_id
            );
        }
    }
    // Every use event of a consumer is in its use index, in order, with
    // the event, tx and height it came from; and its history holds its
    // registration and grant.
    for i in 0..(h as u32 * PER_BLOCK) {
        let c = consumer(i).account();
        let mut want_uses = Vec::new();
        let mut want_history = Vec::new();
        for (block, _, _, out) in sc.blocks.iter().take(h as usize) {
            let bh = block.header.height;
            for (ti, r) in out.results.iter().enumerate() {
                let TxOutcome::Applied { events } = &r.outcome else {
                    continue;
                };
                for e in events {
                    if matches!(e, Event::UseSettled { consumer, .. } | Event::UseRejected { consumer, .. } if *consumer == c)
                    {
                        want_uses.push((bh, r.tx_id, ti as u32, e.clone()));
                    }
                    if crate::storage::records::history_accounts(e).contains(&c) {
                        let kind = block.txs[ti].body.payload.kind().to_string();
                        want_history.push((bh, block.header.time, r.tx_id, kind, e.clone()));
                    }
                }
            }
        }
        let uses: Vec<_> = store
            .uses_up_to(&c, Height(h), 1000)
            .unwrap()
            .into_iter()
            .map(|u| (u.height, u.tx_id, u.tx_index, u.event))
            .collect();
        assert_eq!(uses, want_uses, "uses of consumer {i}");
        let mut newest_first = store.uses_of(&c, 1000).unwrap();
        newest_first.reverse();
        assert_eq!(
            newest_first.len(),
            uses.len(),
            "uses of consumer {i}, newest first"
        );
        let hist: Vec<_> = store
            .history_up_to(&c, Height(h), 1000)
            .unwrap()
            .into_iter()
            .map(|r| (r.height, r.time, r.tx_id, r.tx_kind, r.event))
            .collect();
        assert_eq!(hist.len(), 2, "registration and grant of consumer {i}");
        assert_eq!(hist, want_history, "history of consumer {i}");
    }
    assert!(store.block_bytes(Height(h + 1)).unwrap().is_none());
}

fn commit_all(store: &Store, sc: &Scenario, from: u64) -> u64 {
    let mut acked = from;
    for (block, bytes, cert, out) in sc.blocks.iter().skip(from as usize) {
        match store.commit_block(bytes, block, cert, &mut out.clone()) {
            Ok((head, _)) => acked = head.height.0,
            Err(_) => break,
        }
    }
    acked
}

/// A disk store in `dir` with every block of `sc` committed and checked,
/// closed again; its head.
fn committed_on_disk(dir: &Path, cfg: &StoreConfig, sc: &Scenario) -> crate::storage::Head {
    let store = Store::open(dir, cfg, &genesis()).unwrap();
    assert_eq!(commit_all(&store, sc, 0), BLOCKS);
    check(&store, sc);
    store.head()
}

fn reopen_disk(dir: &Path, cfg: &StoreConfig) -> Store {
    let g = genesis();
    let store = Store::open(dir, cfg, &g).unwrap();
    Chain::open(store, &g).unwrap().store().clone()
}

fn reopen_mem(m: &MemBackend, cfg: &StoreConfig) -> Store {
    let g = genesis();
    let store = Store::with_backend(Arc::new(m.crash()), cfg, &g).unwrap();
    Chain::open(store, &g).unwrap().store().clone()
}

#[test]
fn both_backends_commit_reopen_and_serve_the_same_chain() {
    let sc = scenario();
    let cfg = small();
    // In memory: a crash right after the commits (nothing persisted yet
    // need survive but the journal) recovers by re-execution.
    let m = MemBackend::new();
    let store = Store::with_backend(Arc::new(m.clone()), &cfg, &genesis()).unwrap();
    assert_eq!(commit_all(&store, &sc, 0), BLOCKS);
    check(&store, &sc);
    let again = reopen_mem(&m, &cfg);
    assert_eq!(again.head(), store.head());
    check(&again, &sc);

    let dir = tempfile::tempdir().unwrap();
    let head = committed_on_disk(dir.path(), &cfg, &sc);
    let store = reopen_disk(dir.path(), &cfg);
    assert_eq!(store.head(), head, "the head is read back");
    check(&store, &sc);
    drop(store);
    // Another genesis is refused and changes nothing.
    let other = genesis_of("assent-other");
    let err = Store::open(dir.path(), &cfg, &other).unwrap_err();
    assert!(err.to_string().contains("belongs to chain"), "{err}");
    assert_eq!(reopen_disk(dir.path(), &cfg).head(), head);
}

/// Runs the scenario on `backend` failing at step `n`; returns the blocks
/// acknowledged before the failure.
fn run_failing<B: Backend + 'static>(
    backend: B,
    n: usize,
    cfg: &StoreConfig,
    sc: &Scenario,
) -> (u64, usize) {
    let faulty = Arc::new(Faulty {
        inner: backend,
        fail_at: n,
        steps: AtomicUsize::new(0),
    });
    let acked = match Store::with_backend(faulty.clone(), cfg, &genesis()) {
        Ok(store) => {
            let acked = commit_all(&store, sc, 0);
            if n == usize::MAX {
                assert!(store.wait_persisted(Duration::from_secs(20)));
                assert!(store.wait_indexed(Height(acked), Duration::from_secs(20)));
            }
            acked
        }
        Err(_) => 0,
    };
    (
        acked,
        faulty.steps.load(std::sync::atomic::Ordering::SeqCst),
    )
}

#[test]
fn a_crash_at_any_storage_step_loses_no_acknowledged_block() {
    let sc = scenario();
    let cfg = small();
    let (acked, total) = run_failing(MemBackend::new(), usize::MAX, &cfg, &sc);
    assert_eq!(acked, BLOCKS);
    assert!(total > BLOCKS as usize, "{total} steps");
    for n in 0..total {
        let m = MemBackend::new();
        let (acked, _) = run_failing(m.clone(), n, &cfg, &sc);
        let store = match Store::with_backend(Arc::new(m.crash()), &cfg, &genesis()) {
            Ok(s) => Chain::open(s, &genesis()).unwrap().store().clone(),
            Err(e) => panic!("step {n}: reopening after the crash failed: {e}"),
        };
        let h = store.head().height.0;
        assert!(
            h >= acked,
            "step {n}: head {h} lost acknowledged block {acked}"
        );
        check(&store, &sc);
        // The node carries on from there.
        assert_eq!(commit_all(&store, &sc, h), BLOCKS, "step {n}");
        check(&store, &sc);
    }
    // On disk, a failed step at a few places, then a reopen of the directory.
    for n in [0, 1, 2, total / 3, total / 2, total - 1] {
        let dir = tempfile::tempdir().unwrap();
        let backend = DiskBackend::open(dir.path(), 8 << 20).unwrap();
        let (acked, _) = run_failing(backend, n, &cfg, &sc);
        let store = reopen_disk(dir.path(), &cfg);
        assert!(store.head().height.0 >= acked, "disk step {n}");
        check(&store, &sc);
    }
}

/// Commits `blocks` of the scenario in order, each one expected to succeed.
fn commit_blocks(store: &Store, blocks: &[(Arc<Block>, Vec<u8>, CommitCertificate, BlockOutput)]) {
    for (block, bytes, cert, out) in blocks {
        store
            .commit_block(bytes, block, cert, &mut out.clone())
            .unwrap();
    }
}

#[test]
fn a_snapshot_reads_one_height_while_later_blocks_commit_and_persist() {
    let sc = scenario();
    let store = Store::with_backend(Arc::new(MemBackend::new()), &small(), &genesis()).unwrap();
    let (first, rest) = sc.blocks.split_at(3);
    commit_blocks(&store, first);
    let snap = store.snapshot();
    commit_blocks(&store, rest);
    // The persister may not write past the live snapshot.
    assert!(!store.wait_persisted(Duration::from_millis(100)));
    assert_eq!(snap.height(), Height(3));
    assert_eq!(
        snap.scan_prefix(b"").unwrap(),
        sc.states[3].scan_prefix(b"").unwrap()
    );
    drop(snap);
    assert!(store.wait_persisted(Duration::from_secs(20)));
    assert_eq!(store.persisted_height(), Height(BLOCKS));
    check(&store, &sc);
}

#[test]
fn point_reads_see_the_newest_unpersisted_value_of_each_key() {
    // Every key any block writes (some written in several blocks, some
    // deleted) and one no block writes, read one at a time: from a pinned
    // snapshot at height 3 while later blocks commit in layers above it,
    // then from the head before and after the persister catches up.
    let sc = scenario();
    let store = Store::with_backend(Arc::new(MemBackend::new()), &small(), &genesis()).unwrap();
    let mut keys: std::collections::BTreeSet<Vec<u8>> = sc
        .blocks
        .iter()
        .flat_map(|(_, _, _, out)| out.writes.keys().cloned())
        .collect();
    keys.insert(b"no block writes this key".to_vec());
    let (first, rest) = sc.blocks.split_at(3);
    commit_blocks(&store, first);
    let snap = store.snapshot();
    commit_blocks(&store, rest);
    let reads = |snap: &super::StateSnapshot, h: usize| {
        for k in &keys {
            assert_eq!(
                snap.get(k).unwrap(),
                sc.states[h].get(k).unwrap(),
                "key {k:?} at height {h}"
            );
        }
    };
    reads(&snap, 3);
    reads(&store.snapshot(), BLOCKS as usize);
    drop(snap);
    assert!(store.wait_persisted(Duration::from_secs(20)));
    reads(&store.snapshot(), BLOCKS as usize);
}

fn segment(dir: &Path) -> std::path::PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.pop().unwrap()
}

#[test]
fn a_torn_journal_tail_is_dropped_and_a_corrupt_middle_names_file_and_height() {
    let sc = scenario();
    let cfg = small();
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), &cfg, &genesis()).unwrap();
        commit_all(&store, &sc, 0);
    }
    // A crash in the middle of appending the next record: the start of
    // block 9's header (magic, kind, height) is on disk, the rest is not.
    let seg = segment(dir.path());
    let good = std::fs::read(&seg).unwrap();
    let mut torn = good.clone();
    torn.extend_from_slice(b"ASJ\x01\x01");
    torn.extend_from_slice(&(BLOCKS + 1).to_le_bytes());
    torn.extend_from_slice(&[0x10, 0x27]);
    std::fs::write(&seg, &torn).unwrap();
    let store = reopen_disk(dir.path(), &cfg);
    assert_eq!(store.head().height.0, BLOCKS);
    check(&store, &sc);
    drop(store);
    assert_eq!(
        std::fs::read(&seg).unwrap(),
        good,
        "the torn tail was cut off"
    );

    // A flipped byte inside an earlier block's record.
    let mut bad = good.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x55;
    std::fs::write(&seg, &bad).unwrap();
    let err = Store::open(dir.path(), &cfg, &genesis())
        .unwrap_err()
        .to_string();
    let name = seg.file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name) && err.contains("height"), "{err}");
    assert!(!err.contains('\n'), "one line: {err}");
}

#[test]
fn garbage_in_the_store_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("sled")).unwrap();
    std::fs::write(dir.path().join("sled").join("conf"), b"\xff\xfe garbage").unwrap();
    std::fs::write(dir.path().join("sled").join("db"), vec![0xabu8; 4096]).unwrap();
    match Store::open(dir.path(), &small(), &genesis()) {
        Err(e) => assert!(e.to_string().contains("cannot open the store"), "{e}"),
        // sled may rebuild an unreadable log; the store is then a new, empty chain.
        Ok(s) => assert_eq!(s.head().height, Height(0)),
    }
    // A store of the old layout (sled directly in the store directory).
    let old = tempfile::tempdir().unwrap();
    std::fs::write(old.path().join("conf"), b"segment_size: 524288").unwrap();
    let err = Store::open(old.path(), &small(), &genesis()).unwrap_err();
    assert!(err.to_string().contains("older assentd"), "{err}");
}

#[test]
fn a_store_held_by_another_handle_is_in_use_and_free_once_it_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small();
    let first = Store::open(dir.path(), &cfg, &genesis()).unwrap();
    let err = Store::open(dir.path(), &cfg, &genesis()).unwrap_err();
    assert!(
        matches!(err, StoreError::InUse { .. })
            && err.to_string().contains("in use by another process"),
        "{err}"
    );
    drop(first);
    // sled lets go of its lock from a background thread; the open waits
    // for it rather than failing.
    for _ in 0..5 {
        let again = Store::open(dir.path(), &cfg, &genesis()).unwrap();
        assert_eq!(again.head().height, Height(0));
    }
}
