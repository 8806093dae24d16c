//! A Byzantine validator for the fault tests: the real node (store, chain,
//! API, gossip, engine, wire codec, its genesis validator key), with a loop
//! between the engine and the honest app that misbehaves.
//!
//! `assent-byzantine --home DIR` runs like `assentd start --home DIR`.
//! - On each of its turns to propose it attacks, one attack per turn in
//!   order: equivocation (the honest block and a second one for the same
//!   round), a proposal naming a tx nobody holds (validators fetch it in
//!   vain), a block whose state and results roots are wrong, a block of 5 MiB
//!   (over the 4 MiB limit), a block stamped 6 s in the future, and a
//!   stream that names another validator as the proposer.
//! - All the time it floods streams for the next four heights (256 KiB
//!   parts that never finish) and streams that claim other proposers.
//! - It double-votes: beside each non-nil vote the engine signs and sends, a
//!   conflicting nil vote for the same height and round, signed with its
//!   key (Malachite's Byzantine network proxy, node feature `byzantine`).
//!
//! Everything else (the engine's own votes, sync, commits) is the honest
//! node's, so it keeps its height and its attacks stay timely. Never part of a release: it lives
//! in the test crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use assent_contracts::crypto::Signature;
use assent_contracts::{Block, BlockHeader, Hash32, Timestamp, TxId};
use assent_node::consensus::app::App;
use assent_node::consensus::compact::{CompactBlock, Slot};
use assent_node::consensus::engine::Behaviour;
use assent_node::consensus::signing::ConsensusSigner;
use assent_node::consensus::streaming::{split_block, stream_id, stream_messages, Opening};
use assent_node::consensus::types::{Address, AssentContext, BlockId, BlockValue, Height, Roots};
use assent_node::run::NodeError;
use assent_node::shared::Shared;
use malachitebft_app_channel::app::types::LocallyProposedValue;
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use malachitebft_core_types::Round;
use tokio::sync::mpsc;

type Net = mpsc::Sender<NetworkMsg<AssentContext>>;

const PART: usize = 256 * 1024;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

struct Attacker {
    shared: Arc<Shared>,
    signer: ConsensusSigner,
    me: Address,
    /// Another validator, to impersonate.
    other: Address,
    nonce: u32,
    /// Turns to propose taken so far (which attack is next).
    turn: u64,
}

impl Attacker {
    /// A block for `height` on the current head, well formed but with
    /// whatever `tweak` does to it.
    fn block(&self, height: Height, tweak: impl FnOnce(&mut BlockHeader)) -> (Vec<u8>, BlockId) {
        let head = self.shared.chain.head();
        let mut header = BlockHeader {
            chain_id: self.shared.chain.chain_id().to_string(),
            height: assent_contracts::Height(height.0),
            time: Timestamp(now_ms().max(head.time.0 + 1)),
            prev_hash: head.block_hash,
            txs_root: Hash32([0x11; 32]),
            results_root: Hash32([0x22; 32]),
            state_root: Hash32([0x33; 32]),
            proposer: self.shared.validator_key,
        };
        tweak(&mut header);
        let block = Block {
            header,
            txs: vec![],
        };
        let id = BlockId::from(block.header.hash());
        (CompactBlock::whole(block).encode(), id)
    }

    /// Streams `bytes` as the proposal of (height, round), its Init naming
    /// `proposer`, signed by this validator.
    async fn stream(
        &mut self,
        net: &Net,
        (height, round): (Height, Round),
        proposer: Address,
        bytes: &[u8],
        id: BlockId,
        finish: bool,
    ) {
        self.nonce = self.nonce.wrapping_add(1);
        let sig = self.signer.sign_block_stream(height, round, id);
        // The roots travel in the Fin part, as an honest proposer sends them.
        let (bytes, roots) = match CompactBlock::decode(bytes) {
            Ok(compact) => {
                let (compact, roots) = compact.without_roots();
                (compact.encode(), roots)
            }
            Err(_) => (bytes.to_vec(), Roots::default()),
        };
        let opening = Opening {
            height,
            round,
            pol_round: Round::Nil,
            proposer,
        };
        let mut parts = split_block(&opening, &bytes, roots, sig, PART);
        if !finish {
            parts.pop();
        }
        let sid = stream_id(height, round, 0x8000_0000 | self.nonce);
        let mut msgs = stream_messages(sid, parts);
        if !finish {
            msgs.pop();
        }
        for m in msgs {
            if net.send(NetworkMsg::PublishProposalPart(m)).await.is_err() {
                return;
            }
        }
    }

    /// This validator's turn at (height, round): the next attack.
    async fn propose(&mut self, net: &Net, height: Height, round: Round) -> Option<BlockId> {
        let attack = self.turn % 6;
        self.turn += 1;
        tracing::warn!(target: "assent::byzantine", height = height.0, attack, "attacking");
        match attack {
            // Equivocation: the honest app proposes; a second block follows.
            0 => {
                let (bytes, id) = self.block(height, |h| h.time = Timestamp(h.time.0 + 1));
                let me = self.me;
                self.stream(net, (height, round), me, &bytes, id, true)
                    .await;
                None
            }
            // A tx named by an id and signature nobody holds.
            1 => {
                let (bytes, _) = self.block(height, |_| {});
                let mut compact = CompactBlock::decode(&bytes).unwrap();
                compact.slots.push(Slot::Held {
                    id: TxId(Hash32([0x44; 32])),
                    signature: Signature([0x55; 64]),
                });
                let id = BlockId::from(compact.header.hash());
                let me = self.me;
                self.stream(net, (height, round), me, &compact.encode(), id, true)
                    .await;
                Some(id)
            }
            // Wrong state and results roots on a block that is otherwise
            // good (no txs, their root right): honest validators execute it
            // as its txs arrive and find the roots of its Fin part wrong.
            2 => Some(
                self.attack_with(net, height, round, |h| {
                    h.txs_root = assent_contracts::block::txs_root(&[]);
                })
                .await,
            ),
            // Over the block size limit: 5 MiB of junk after a good header.
            3 => {
                let (mut bytes, id) = self.block(height, |_| {});
                bytes.extend(std::iter::repeat_n(0xa5u8, 5 << 20));
                let me = self.me;
                self.stream(net, (height, round), me, &bytes, id, true)
                    .await;
                Some(id)
            }
            // Stamped 6 s ahead.
            4 => Some(
                self.attack_with(net, height, round, |h| h.time = Timestamp(now_ms() + 6_000))
                    .await,
            ),
            // Another validator named as the proposer.
            _ => {
                let (bytes, id) = self.block(height, |_| {});
                let other = self.other;
                self.stream(net, (height, round), other, &bytes, id, true)
                    .await;
                Some(id)
            }
        }
    }

    async fn attack_with(
        &mut self,
        net: &Net,
        height: Height,
        round: Round,
        tweak: impl FnOnce(&mut BlockHeader),
    ) -> BlockId {
        let (bytes, id) = self.block(height, tweak);
        let me = self.me;
        self.stream(net, (height, round), me, &bytes, id, true)
            .await;
        id
    }

    /// Streams for the next four heights that never finish, and finished
    /// ones claiming another proposer.
    async fn flood(&mut self, net: &Net) {
        let h = self.shared.chain.head().height.0 + 1;
        for ahead in 1..=4u64 {
            let height = Height(h + ahead);
            let junk = vec![0x5au8; 3 * PART];
            let (_, id) = self.block(height, |_| {});
            let me = self.me;
            let other = self.other;
            self.stream(net, (height, Round::new(0)), me, &junk, id, false)
                .await;
            let (bytes, id) = self.block(height, |_| {});
            self.stream(net, (height, Round::new(1)), other, &bytes, id, true)
                .await;
        }
    }
}

/// Sits between the engine and the honest app, and double-votes.
fn byzantine() -> Behaviour {
    let app_loop = Box::new(
        |app: App, mut ch: Channels<AssentContext>, shared: Arc<Shared>| {
            tokio::spawn(async move {
                let (to_app, from_us) = mpsc::channel(64);
                let inner = Channels {
                    consensus: from_us,
                    network: ch.network.clone(),
                    events: ch.events.clone(),
                    requests: ch.requests.clone(),
                    net_requests: ch.net_requests.clone(),
                };
                let honest = tokio::spawn(app.run(inner));
                let chain_id = shared.chain.chain_id().to_string();
                let me = Address::from(shared.validator_key);
                let other = shared
                    .chain
                    .validators()
                    .ok()
                    .and_then(|vs| {
                        vs.into_iter()
                            .map(|v| Address::from(v.consensus_key))
                            .find(|a| *a != me)
                    })
                    .unwrap_or(me);
                let make = |shared: &Arc<Shared>| Attacker {
                    shared: shared.clone(),
                    signer: ConsensusSigner::from_seed(shared.signer.seed(), chain_id.clone())
                        .unwrap(),
                    me,
                    other,
                    nonce: 0,
                    turn: 0,
                };
                let mut attacker = make(&shared);
                let mut flooder = make(&shared);
                flooder.nonce = 0x4000_0000;
                let net = ch.network.clone();
                tokio::spawn(async move {
                    loop {
                        flooder.flood(&net).await;
                        // The flood's pace.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                });
                while let Some(msg) = ch.consensus.recv().await {
                    let msg = match msg {
                        AppMsg::GetValue {
                            height,
                            round,
                            timeout,
                            reply,
                        } => match attacker.propose(&ch.network, height, round).await {
                            Some(id) => {
                                let _ = reply.send(LocallyProposedValue::new(
                                    height,
                                    round,
                                    BlockValue::new(id),
                                ));
                                continue;
                            }
                            None => AppMsg::GetValue {
                                height,
                                round,
                                timeout,
                                reply,
                            },
                        },
                        other => other,
                    };
                    if to_app.send(msg).await.is_err() {
                        break;
                    }
                }
                drop(to_app);
                honest
                    .await
                    .map_err(|e| NodeError::Consensus(e.to_string()))?
            })
        },
    );
    Behaviour {
        app_loop,
        network: Some(
            malachitebft_engine_byzantine::ByzantineConfig::new(Some(7))
                .with_equivocate_votes(malachitebft_engine_byzantine::Trigger::Always),
        ),
    }
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let home = match (args.next().as_deref(), args.next()) {
        (Some("--home"), Some(h)) => PathBuf::from(h),
        _ => {
            eprintln!("usage: assent-byzantine --home DIR");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match rt.block_on(assent_node::run::run_with(&home, byzantine())) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
