//! Every input of the committed fuzzing corpus (`fuzz/corpus/<target>/`),
//! plus freshly built valid seeds, through the fuzz targets of
//! `assent_node::fuzzing`: none may panic. This is the fuzzers' smoke run
//! in `cargo test`; FAULTS.md has the long runs. Every crash a fuzzer finds
//! is added to the corpus and so replayed here from then on.
//!
//! `ASSENT_WRITE_SEEDS=1` also writes the valid seeds into the corpus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use assent_contracts::tx::RegisterConsumer;
use assent_contracts::{Payload, Timestamp, TxBody};
use assent_node::consensus::codec::WireCodec;
use assent_node::consensus::compact::{CompactBlock, Slot};
use assent_node::consensus::signing::ConsensusSigner;
use assent_node::consensus::streaming::{split_block, stream_id, stream_messages, Opening};
use assent_node::consensus::types::{Address, Height};
use assent_node::fuzzing::{self, CHAIN, TARGETS};
use assent_node::ledger::chain::Chain;
use assent_node::storage::Store;
use malachitebft_codec::Codec;
use malachitebft_core_types::Round;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("fuzz")
        .join("corpus")
}

/// Valid inputs for each target, built with the node's own code.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let genesis = assent_genesis::Genesis::from_toml_str(&fuzzing::genesis_toml()).unwrap();
    let chain = Chain::open(Store::memory(&genesis).unwrap(), &genesis).unwrap();
    let proposer = fuzzing::validator_key(0);
    let block = chain
        .build_block(vec![], proposer.account(), Timestamp(1_800_000_000_000))
        .unwrap();
    let alice = assent_contracts::crypto::Keypair::from_seed([0x42; 32]);
    let tx = TxBody {
        sender: alice.account(),
        nonce: 0,
        payload: Payload::RegisterConsumer(RegisterConsumer {
            tags: Default::default(),
        }),
    }
    .sign(CHAIN, &alice);
    let signer = ConsensusSigner::from_seed(proposer.seed(), CHAIN).unwrap();
    let (h, r) = (Height(1), Round::new(0));
    let sig = signer.sign_block_stream(h, r, block.hash);
    let (compact, roots) = CompactBlock::whole(block.block.clone()).without_roots();
    let opening = Opening {
        height: h,
        round: r,
        pol_round: Round::Nil,
        proposer: Address::from(proposer.account()),
    };
    let parts = split_block(&opening, &compact.encode(), roots, sig, 64);
    let msgs = stream_messages(stream_id(h, r, 1), parts.clone());
    let mut stream = Vec::new();
    let mut wire = Vec::new();
    for m in &msgs {
        let bytes = WireCodec.encode(m).unwrap();
        stream.push(0u8);
        stream.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        stream.extend_from_slice(&bytes);
        wire.push([vec![2u8], bytes.to_vec()].concat());
    }
    for p in &parts {
        wire.push([vec![0u8], WireCodec.encode(p).unwrap().to_vec()].concat());
    }
    let config = b"moniker = \"validator-0\"\n[keys]\nvalidator_key = \"validator-0\"\n[p2p]\nlisten = \"/ip4/127.0.0.1/tcp/26600\"\ngossip_listen = \"/ip4/127.0.0.1/tcp/26601\"\npeers = [\"/ip4/127.0.0.1/tcp/26610\"]\ngossip_peers = [\"/ip4/127.0.0.1/tcp/26611\"]\n[api]\nlisten = \"127.0.0.1:26602\"\n[consensus]\nmax_block_txs = 500\n[store]\ncache_mb = 64\n".to_vec();
    let mut out = vec![
        ("block", block.bytes.clone()),
        (
            "compact_block",
            CompactBlock::whole(block.block.clone()).encode(),
        ),
        (
            "compact_block",
            CompactBlock {
                header: block.block.header.clone(),
                slots: vec![
                    Slot::Full(tx.clone()),
                    Slot::Held {
                        id: tx.id(),
                        signature: tx.signature,
                    },
                ],
            }
            .encode(),
        ),
        ("tx", tx.encode()),
        ("proposal_stream", stream),
        ("config", config),
        ("genesis", fuzzing::genesis_toml().into_bytes()),
    ];
    out.extend(wire.into_iter().map(|w| ("wire", w)));
    out.extend(fuzzing::sync_seeds().into_iter().map(|s| ("sync", s)));
    out
}

#[test]
fn every_fuzzing_input_on_record_is_handled_without_a_panic() {
    let seeds = seeds();
    if std::env::var("ASSENT_WRITE_SEEDS").is_ok() {
        for (i, (target, bytes)) in seeds.iter().enumerate() {
            let dir = corpus().join(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("seed-{i:02}")), bytes).unwrap();
        }
    }
    let mut ran = 0;
    for (target, bytes) in &seeds {
        let f = TARGETS.iter().find(|(n, _)| n == target).unwrap().1;
        f(bytes);
        ran += 1;
    }
    for (name, f) in TARGETS {
        let dir = corpus().join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            panic!("{} is missing: the corpus of target {name}", dir.display());
        };
        let mut n = 0;
        for e in entries {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let caught = std::panic::catch_unwind(|| f(&bytes));
            assert!(caught.is_ok(), "target {name} panics on {}", path.display());
            n += 1;
        }
        assert!(n > 0, "target {name} has no corpus");
        ran += n;
    }
    eprintln!("{ran} inputs replayed");
}
