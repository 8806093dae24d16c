//! The canonical codec on a realistic 1,000-tx block.
//!
//! The block holds 500 GrantConsent (500 consumers, to 10 enterprises) and 500
//! RecordUse of 8 uses each (10 enterprises), the same mix as the `mixed` block
//! of `execute_block.rs`. Measured: `Block::encode`, `Block::decode` (strict:
//! it re-encodes to refuse non-canonical bytes) and `SignedTx::decode` of one
//! tx of each kind (what mempool admission does per tx before any signature
//! check). Each is reported per tx and per byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_contracts::terms::Level;
use assent_contracts::tx::*;
use assent_contracts::*;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CHAIN: &str = "assent-bench";
const ENTERPRISES: usize = 10;
const TXS: usize = 1_000;

fn kp(i: u32, tag: u8) -> Keypair {
    let mut seed = [tag; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    Keypair::from_seed(seed)
}

fn grant(consumer: &Keypair, enterprise: AccountId) -> SignedTx {
    TxBody {
        sender: consumer.account(),
        nonce: 1,
        payload: Payload::GrantConsent(GrantConsent {
            enterprise,
            categories: vec!["Purchase".parse().unwrap(), "Location".parse().unwrap()],
            purposes: vec!["DirectMarketing".parse().unwrap()],
            level: Level::Pseudonymous,
            price_per_use: Amount(3),
            max_uses: None,
            expires_at: None,
            request: None,
        }),
    }
    .sign(CHAIN, consumer)
}

fn record(enterprise: &Keypair, nonce: u64, consumers: &[AccountId]) -> SignedTx {
    let uses = (0..8)
        .map(|j| {
            let c = (nonce as usize * 8 + j) % consumers.len();
            Use {
                consumer: consumers[c],
                basis: UseBasis::Consent(ConsentId(Hash32([c as u8; 32]))),
                category: "Purchase".parse().unwrap(),
                purpose: "DirectMarketing".parse().unwrap(),
                level: Level::Aggregate,
                units: 1,
                evidence_hash: Hash32([j as u8; 32]),
            }
        })
        .collect();
    TxBody {
        sender: enterprise.account(),
        nonce,
        payload: Payload::RecordUse(RecordUse { uses }),
    }
    .sign(CHAIN, enterprise)
}

fn block() -> Block {
    let consumers: Vec<Keypair> = (0..(TXS / 2) as u32).map(|i| kp(i, 1)).collect();
    let ents: Vec<Keypair> = (0..ENTERPRISES as u32).map(|i| kp(i, 2)).collect();
    let consumer_ids: Vec<AccountId> = consumers.iter().map(Keypair::account).collect();
    let mut txs: Vec<SignedTx> = consumers
        .iter()
        .enumerate()
        .map(|(i, c)| grant(c, ents[i % ENTERPRISES].account()))
        .collect();
    txs.extend((0..TXS / 2).map(|i| {
        record(
            &ents[i % ENTERPRISES],
            (i / ENTERPRISES) as u64,
            &consumer_ids,
        )
    }));
    Block {
        header: BlockHeader {
            chain_id: CHAIN.into(),
            height: Height(12_345),
            time: Timestamp(1_800_000_000_000),
            prev_hash: BlockHash(Hash32([7; 32])),
            txs_root: Hash32([8; 32]),
            results_root: Hash32([9; 32]),
            state_root: Hash32([10; 32]),
            proposer: kp(0, 3).account(),
        },
        txs,
    }
}

fn benches(c: &mut Criterion) {
    let block = block();
    let bytes = block.encode();
    // Check once, outside the timed loops, that the bytes round-trip.
    assert_eq!(Block::decode(&bytes).unwrap(), block);
    assert_eq!(block.txs.len(), TXS);
    let grant_bytes = block.txs[0].encode();
    let record_bytes = block.txs[TXS - 1].encode();
    assert!(matches!(
        block.txs[TXS - 1].body.payload,
        Payload::RecordUse(ref r) if r.uses.len() == 8
    ));
    assert_eq!(
        SignedTx::decode(&grant_bytes, 1 << 20).unwrap(),
        block.txs[0]
    );
    assert_eq!(
        SignedTx::decode(&record_bytes, 1 << 20).unwrap(),
        block.txs[TXS - 1]
    );
    println!(
        "block: {} txs, {} bytes; GrantConsent tx {} bytes, RecordUse(8) tx {} bytes",
        TXS,
        bytes.len(),
        grant_bytes.len(),
        record_bytes.len()
    );

    let mut g = c.benchmark_group("codec_block_1000");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (unit, throughput) in [
        ("txs", Throughput::Elements(TXS as u64)),
        ("bytes", Throughput::Bytes(bytes.len() as u64)),
    ] {
        g.throughput(throughput);
        g.bench_function(format!("encode/{unit}"), |b| b.iter(|| block.encode()));
        g.bench_function(format!("decode/{unit}"), |b| {
            b.iter(|| Block::decode(&bytes).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("codec_signed_tx");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for (name, raw) in [("grant", &grant_bytes), ("record_use_8", &record_bytes)] {
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("decode_{name}/txs"), |b| {
            b.iter(|| SignedTx::decode(raw, 1 << 20).unwrap())
        });
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_function(format!("decode_{name}/bytes"), |b| {
            b.iter(|| SignedTx::decode(raw, 1 << 20).unwrap())
        });
    }
    g.finish();
}

criterion_group!(codec, benches);
criterion_main!(codec);
