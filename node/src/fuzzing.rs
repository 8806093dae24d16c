//! Entry points for coverage-guided fuzzing of everything that takes bytes
//! from outside the node: the consensus wire codec, proposal-part streams
//! through the intake, blocks through decoding and validation, txs through
//! decoding and signature checks, the config file and the genesis file, and
//! what state sync and `assent receipt verify` read (snapshot chunks and
//! manifests, state proofs, validator-set proofs).
//!
//! Each takes arbitrary bytes and must neither panic nor hang; where a value
//! decodes, it encodes again to bytes that decode to the same value. The
//! cargo-fuzz targets in `fuzz/` call these; `tests/fuzz_corpus_replays.rs`
//! runs every input of the committed corpus through them in `cargo test`.
//!
//! A broken invariant must panic here, since a panic is what the fuzzer
//! detects; so this harness module, unlike the node's own code, asserts.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::sync::OnceLock;

use assent_contracts::crypto::Keypair;
use assent_contracts::receipt::Trust;
use assent_contracts::snapshot::{self, Manifest};
use assent_contracts::state::tree;
use assent_contracts::state::StateTree;
use assent_contracts::state::Validator as LedgerValidator;
use assent_contracts::state_proof::StateProof;
use assent_contracts::validator_history::ValidatorHistory;
use assent_contracts::{Block, BlockHeader, SignedTx};
use assent_genesis::Genesis;
use bytes::Bytes;
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::ProposedValue;
use malachitebft_codec::Codec;
use malachitebft_core_consensus::SignedConsensusMsg;
use malachitebft_core_types::{CommitCertificate, Round};
use malachitebft_peer::PeerId;
use malachitebft_sync::{Request, Response, Status};

use crate::consensus::codec::WireCodec;
use crate::consensus::intake::Intake;
use crate::consensus::types::{AssentContext, Height, ProposalPart, ValidatorSet};
use crate::ledger::chain::Chain;
use crate::storage::Store;

/// The chain id of the fuzzing genesis.
pub const CHAIN: &str = "assent-fuzz-1";

/// The key of fuzzing validator `i` (0..4).
pub fn validator_key(i: u8) -> Keypair {
    Keypair::from_seed([0xf0 + i; 32])
}

/// A small valid genesis: four validators, one operator each, acme funded.
pub fn genesis_toml() -> String {
    let acct = |seed: u8| Keypair::from_seed([seed; 32]).account();
    let mut t = format!(
        "chain_id = \"{CHAIN}\"\ngenesis_time = \"2026-01-01T00:00:00Z\"\nmint_authority = \"{}\"\n\n",
        acct(1)
    );
    for i in 0..4u8 {
        t.push_str(&format!(
            "[[operators]]\nname = \"operator-{i}\"\naccount = \"{}\"\n\n",
            acct(0x10 + i)
        ));
    }
    for i in 0..4u8 {
        t.push_str(&format!(
            "[[validators]]\nname = \"validator-{i}\"\nconsensus_key = \"{}\"\npower = 1\np2p_address = \"/ip4/127.0.0.1/tcp/{}\"\noperator = \"{}\"\n\n",
            validator_key(i).account(),
            26600 + u16::from(i) * 10,
            acct(0x10 + i)
        ));
    }
    t.push_str(&format!(
        "[[enterprises]]\nname = \"Acme\"\naccount = \"{}\"\nsector = \"retail\"\njurisdiction = \"EU\"\npolicy_url = \"https://acme.example/privacy\"\n\n[[balances]]\naccount = \"{}\"\namount = 1000000\n",
        acct(0x20),
        acct(0x20)
    ));
    t
}

struct World {
    genesis: Genesis,
    chain: Chain,
    set: ValidatorSet,
    peers: Vec<PeerId>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let genesis = Genesis::from_toml_str(&genesis_toml()).expect("the fuzzing genesis");
        let store = Store::memory(&genesis).expect("an in-memory store");
        let chain = Chain::open(store, &genesis).expect("the fuzzing chain");
        let ledger: Vec<LedgerValidator> = chain.validators().expect("validators");
        let set = ValidatorSet::from_ledger(&ledger).expect("a validator set");
        let peers = (0..4u8)
            .filter_map(|i| {
                let kp = libp2p::identity::Keypair::ed25519_from_bytes([0xf0 + i; 32]).ok()?;
                PeerId::from_bytes(&kp.public().to_peer_id().to_bytes()).ok()
            })
            .collect();
        World {
            genesis,
            chain,
            set,
            peers,
        }
    })
}

/// Decodes `bytes` as `T` with the wire codec; a decoded value re-encodes to
/// bytes that decode to an equal value.
fn round_trip<T>(bytes: &[u8])
where
    T: PartialEq + std::fmt::Debug,
    WireCodec: Codec<T>,
{
    let codec = WireCodec;
    if let Ok(v) = codec.decode(Bytes::copy_from_slice(bytes)) {
        let again = codec.encode(&v).expect("a decoded value encodes");
        let back: T = codec.decode(again).expect("its encoding decodes");
        assert_eq!(back, v, "decode ∘ encode changed the value");
    }
}

/// The consensus wire codec: the first byte picks the message type.
pub fn wire(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    match kind % 8 {
        0 => round_trip::<ProposalPart>(rest),
        1 => round_trip::<SignedConsensusMsg<AssentContext>>(rest),
        2 => round_trip::<StreamMessage<ProposalPart>>(rest),
        3 => round_trip::<Status<AssentContext>>(rest),
        4 => round_trip::<Request<AssentContext>>(rest),
        5 => round_trip::<Response<AssentContext>>(rest),
        6 => round_trip::<ProposedValue<AssentContext>>(rest),
        _ => round_trip::<CommitCertificate<AssentContext>>(rest),
    }
}

/// Proposal-part streams through the intake at height 1: records of
/// `[publisher byte][u16 LE length][wire-encoded StreamMessage]`; the
/// publisher is one of the four validators' peer ids or a stranger.
pub fn proposal_stream(data: &[u8]) {
    let w = world();
    let mut intake = Intake::new(AssentContext::new(CHAIN));
    let _ = intake.start_height(Height(1), w.set.clone());
    intake.start_round(Round::new(0));
    let stranger = PeerId::from_bytes(
        &libp2p::identity::Keypair::ed25519_from_bytes([0x77; 32])
            .map(|k| k.public().to_peer_id().to_bytes())
            .unwrap_or_default(),
    )
    .ok();
    let mut rest = data;
    while rest.len() >= 3 {
        let who = rest[0];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]]));
        let end = (3 + len).min(rest.len());
        let msg: Result<StreamMessage<ProposalPart>, _> =
            WireCodec.decode(Bytes::copy_from_slice(&rest[3..end]));
        rest = &rest[end..];
        let publisher = match w.peers.get(usize::from(who % 5)) {
            Some(p) => *p,
            None => match stranger {
                Some(s) => s,
                None => continue,
            },
        };
        if let Ok(msg) = msg {
            let _ = intake.part(publisher, msg);
        }
        if who == 0xff {
            let _ = intake.start_height(Height(2), w.set.clone());
        }
    }
}

/// A block's bytes through decoding and, when they decode, validation as
/// the next block of the fuzzing chain (which is never changed).
pub fn block(data: &[u8]) {
    let w = world();
    if let Ok(block) = Block::decode(data) {
        assert_eq!(
            Block::decode(&block.encode()).ok().as_ref(),
            Some(&block),
            "a decoded block round-trips"
        );
        let _ = w
            .chain
            .validate_block(block, data.to_vec(), None, &|_| None, None);
    }
}

/// A proposal's compact block through decoding, filling from a mempool that
/// holds nothing, fetched txs (the proposal's own whole txs, as a peer
/// could send them) and, when it assembles, validation as [`block`] does.
pub fn compact_block(data: &[u8]) {
    use crate::consensus::compact::{assemble, fill, CompactBlock, Slot};
    let w = world();
    let Ok(compact) = CompactBlock::decode(data) else {
        return;
    };
    assert_eq!(
        CompactBlock::decode(&compact.encode()).ok().as_ref(),
        Some(&compact),
        "a decoded compact block round-trips"
    );
    let offered: Vec<Vec<u8>> = compact
        .slots
        .iter()
        .filter_map(|s| match s {
            Slot::Full(t) => Some(t.encode()),
            Slot::Held { .. } => None,
        })
        .collect();
    let (header, mut txs, missing) = compact.resolve(|_| None);
    let n = missing.len().min(offered.len());
    let _ = fill(&mut txs, &missing[..n], &offered[..n], 1 << 20);
    if let Some((block, bytes)) = assemble(header, txs) {
        let _ = w.chain.validate_block(block, bytes, None, &|_| None, None);
    }
}

/// A tx's bytes through decoding, id and the signature check.
pub fn tx(data: &[u8]) {
    let w = world();
    let max = w.genesis.params().max_tx_bytes as usize;
    if let Ok(tx) = SignedTx::decode(data, max) {
        let _ = tx.id();
        assert_eq!(tx.encode(), data, "a decoded tx is canonical");
        let _ = tx.verify(CHAIN);
    }
}

/// A config file's text.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::config::NodeConfig::parse(
            Path::new("/nonexistent-home"),
            Path::new("/nonexistent-home/config.toml"),
            text,
        );
    }
}

/// A genesis file's text.
pub fn genesis(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(g) = Genesis::from_toml_str(text) {
            let _ = g.hash();
        }
    }
}

/// The small snapshot the `sync` target checks chunks against: 64
/// records at height 7 under a header built for it.
fn sync_world() -> &'static (Manifest, BlockHeader) {
    static W: OnceLock<(Manifest, BlockHeader)> = OnceLock::new();
    W.get_or_init(|| {
        let recs: Vec<(Vec<u8>, Vec<u8>)> = (0u32..64)
            .map(|i| (format!("cnst/{i:04}").into_bytes(), vec![i as u8; 40]))
            .collect();
        let tree = StateTree::from_records(recs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        let header = BlockHeader {
            chain_id: CHAIN.into(),
            height: assent_contracts::Height(7),
            time: assent_contracts::Timestamp(1),
            prev_hash: assent_contracts::BlockHash(assent_contracts::Hash32([1; 32])),
            txs_root: assent_contracts::Hash32::ZERO,
            results_root: assent_contracts::Hash32::ZERO,
            state_root: tree::state_root(assent_contracts::Height(7), &tree.root()),
            proposer: validator_key(0).account(),
        };
        let mut chunks: Vec<snapshot::Chunk> = vec![Vec::new(); snapshot::CHUNKS];
        for (k, v) in recs {
            chunks[snapshot::chunk_index(&k)].push((k, v));
        }
        let manifest = Manifest {
            version: snapshot::SNAPSHOT_VERSION.into(),
            chain_id: CHAIN.into(),
            height: header.height,
            state_root: header.state_root,
            chunks: chunks
                .into_iter()
                .map(|c| snapshot::seal_chunk(c).0)
                .collect(),
        };
        (manifest, header)
    })
}

/// What a syncing node and `assent receipt verify` read from outside:
/// `data[0] % 4` picks a snapshot chunk (decoded and checked against a
/// manifest), a manifest (JSON, checked against a header), a state proof
/// (JSON, verified against the fuzzing genesis) or a list of
/// validator-set proofs (JSON, followed from the genesis set).
pub fn sync(data: &[u8]) {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let w = world();
    let (manifest, header) = sync_world();
    let validators = w.genesis.initial_state().validators;
    let trust = Trust {
        chain_id: CHAIN,
        genesis_hash: w.genesis.hash(),
        validators: &validators,
        history: None,
    };
    match kind % 4 {
        0 => {
            if let Ok(records) = snapshot::decode_chunk(rest) {
                // Every frame decoded strictly, so the bytes are canonical.
                assert_eq!(snapshot::encode_chunk(&records), rest);
            }
            let index = rest.first().map_or(0, |b| usize::from(*b));
            if snapshot::check_chunk(manifest, index, rest).is_ok() {
                assert_eq!(manifest.chunks[index].bytes, rest.len() as u64);
            }
        }
        1 => {
            if let Ok(m) = serde_json::from_slice::<Manifest>(rest) {
                let _ = m.check(header);
            }
        }
        2 => {
            if let Ok(p) = serde_json::from_slice::<StateProof>(rest) {
                let _ = p.verify(&trust);
            }
        }
        _ => {
            if let Ok(proofs) = serde_json::from_slice::<Vec<StateProof>>(rest) {
                let _ =
                    ValidatorHistory::follow(CHAIN, w.genesis.hash(), validators.clone(), &proofs);
            }
        }
    }
}

/// Valid inputs of the `sync` target: a chunk, the manifest, a state proof
/// and a list of one validator-set proof (certificates without signatures).
pub fn sync_seeds() -> Vec<Vec<u8>> {
    let (manifest, header) = sync_world();
    let recs: snapshot::Chunk = (0u32..64)
        .map(|i| (format!("cnst/{i:04}").into_bytes(), vec![i as u8; 40]))
        .collect();
    let first = snapshot::chunk_index(&recs[0].0);
    let chunk: snapshot::Chunk = recs
        .iter()
        .filter(|(k, _)| snapshot::chunk_index(k) == first)
        .cloned()
        .collect();
    let (_, chunk_bytes) = snapshot::seal_chunk(chunk);
    let tree = StateTree::from_records(recs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
    let cert = assent_contracts::commit::CommitCertificate {
        height: header.height,
        round: 0,
        block_hash: header.hash(),
        signatures: vec![],
    };
    let proof = StateProof::build(
        world().genesis.hash(),
        assent_contracts::state_proof::RecordRef::Validators,
        None,
        &tree,
        header,
        &cert,
    )
    .expect("a tree without pages proves");
    vec![
        [vec![0u8], chunk_bytes].concat(),
        [vec![1u8], serde_json::to_vec(manifest).expect("serializes")].concat(),
        [vec![2u8], serde_json::to_vec(&proof).expect("serializes")].concat(),
        [
            vec![3u8],
            serde_json::to_vec(&[&proof]).expect("serializes"),
        ]
        .concat(),
    ]
}

/// A fuzz target.
pub type Target = fn(&[u8]);

/// Every target by name (for the corpus replay and the fuzz crate).
pub const TARGETS: [(&str, Target); 8] = [
    ("wire", wire),
    ("proposal_stream", proposal_stream),
    ("block", block),
    ("compact_block", compact_block),
    ("tx", tx),
    ("config", config),
    ("genesis", genesis),
    ("sync", sync),
];
