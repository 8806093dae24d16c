//! Starting and stopping the Malachite engine with our context, codec,
//! signer, WAL path and network config; and admitting gossiped txs.

use std::sync::Arc;
use std::time::Duration;

use assent_contracts::crypto::Keypair;
use malachitebft_app_channel::app::config::{
    ConsensusConfig, NodeConfig as MalachiteNodeConfig, P2pConfig, PubSubProtocol, ValuePayload,
    ValueSyncConfig,
};
use malachitebft_app_channel::{
    Channels, ConsensusContext, EngineBuilder, EngineHandle, NetworkContext, NetworkIdentity,
    RequestContext, SyncContext, WalContext,
};
use malachitebft_codec::Codec;
use malachitebft_core_types::LinearTimeouts;
use malachitebft_signing::Signer;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::App;
use super::codec::WireCodec;
use super::peers::{HeightEstimate, Signed};
use super::signing::{ConsensusSigner, ConsensusVerifier};
use super::types::{Address, AssentContext, ValidatorSet};
use crate::run::NodeError;
use crate::shared::Shared;

#[derive(Clone, Debug)]
struct EngineConfig {
    moniker: String,
    consensus: ConsensusConfig,
    sync: ValueSyncConfig,
}

impl MalachiteNodeConfig for EngineConfig {
    fn moniker(&self) -> &str {
        &self.moniker
    }
    fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }
    fn consensus_mut(&mut self) -> &mut ConsensusConfig {
        &mut self.consensus
    }
    fn value_sync(&self) -> &ValueSyncConfig {
        &self.sync
    }
    fn value_sync_mut(&mut self) -> &mut ValueSyncConfig {
        &mut self.sync
    }
}

/// The running engine and our app loop.
pub struct Consensus {
    /// Ends when the app loop ends: `Err` is a fatal node error.
    pub done: JoinHandle<Result<(), NodeError>>,
    engine: EngineHandle,
    /// What the engine reported of its WAL (corrupt, unreadable), in words
    /// for the operator, if anything.
    pub wal_fault: Arc<std::sync::Mutex<Option<String>>>,
    /// Keeps the consensus peers on the validator set.
    members: JoinHandle<()>,
}

impl std::fmt::Debug for Consensus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Consensus")
    }
}

impl Consensus {
    /// Resolves if the engine stops its actors by itself. Malachite does so
    /// on a safety-critical failure (a consensus WAL write or flush that
    /// failed): it signs nothing more and keeps the process alive, which
    /// would leave a validator that looks up but never votes. The node
    /// exits instead, with the reason ([`crate::run`]); the WAL keeps every
    /// message that was sent, so a restart cannot sign a conflicting one.
    pub fn halted(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let node = self.engine.actor.clone();
        async move {
            let mut had_children = false;
            loop {
                // A watchdog's poll interval, not a wait for an event.
                tokio::time::sleep(Duration::from_millis(250)).await;
                let children = node.get_children().len();
                if children > 0 {
                    had_children = true;
                } else if had_children {
                    return;
                }
            }
        }
    }

    /// Stops the engine and waits for it.
    pub async fn stop(self) {
        self.engine.actor.stop(None);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.engine.handle).await;
        self.done.abort();
        self.members.abort();
    }
}

fn timeouts(shared: &Shared) -> LinearTimeouts {
    let t = shared.config.timing;
    LinearTimeouts {
        propose: t.propose,
        propose_delta: t.delta,
        prevote: t.prevote,
        prevote_delta: t.delta,
        precommit: t.precommit,
        precommit_delta: t.delta,
        rebroadcast: t.propose + t.prevote + t.precommit,
        max_timeout: Duration::from_secs(30),
    }
}

/// Runs the app loop over the engine's channels and ends with it: what
/// [`start`] does with them. The test harness's Byzantine validator passes
/// its own, which sits between the engine and the honest app.
pub type AppLoop = Box<
    dyn FnOnce(App, Channels<AssentContext>, Arc<Shared>) -> JoinHandle<Result<(), NodeError>>
        + Send,
>;

/// How the node behaves: its app loop and, in the test crate's Byzantine
/// validator (feature `byzantine`), Malachite's misbehaving network proxy,
/// which signs and sends conflicting votes beside the engine's own.
pub struct Behaviour {
    pub app_loop: AppLoop,
    #[cfg(feature = "byzantine")]
    pub network: Option<malachitebft_engine_byzantine::ByzantineConfig>,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Behaviour");
        #[cfg(feature = "byzantine")]
        d.field("network", &self.network);
        d.finish_non_exhaustive()
    }
}

/// The honest node.
pub fn honest() -> Behaviour {
    Behaviour {
        app_loop: Box::new(|app, channels, _| tokio::spawn(app.run(channels))),
        #[cfg(feature = "byzantine")]
        network: None,
    }
}

/// Starts the engine and the app loop.
pub async fn start(
    shared: Arc<Shared>,
    key: Keypair,
    behaviour: Behaviour,
) -> Result<Consensus, NodeError> {
    let err = |e: &dyn std::fmt::Display| NodeError::Consensus(e.to_string());
    let chain_id = shared.chain.chain_id().to_string();
    let ctx = AssentContext::new(chain_id.clone());
    let signer = Arc::new(
        ConsensusSigner::new(Keypair::from_seed(key.seed()), chain_id.clone())
            .map_err(|e| err(&e))?,
    );
    let address = Address::from(shared.validator_key);

    let net_key = signer.libp2p_keypair();
    let peer_id = net_key.public().to_peer_id();
    let proof = signer
        .sign_validator_proof(shared.validator_key.as_bytes().to_vec(), peer_id.to_bytes())
        .await
        .map_err(|e| err(&e))?;
    let proof_bytes = WireCodec.encode(&proof).map_err(|e| err(&e))?;
    let identity = NetworkIdentity::new_validator(
        shared.config.moniker.clone(),
        net_key,
        address.to_string(),
        proof_bytes,
    );

    // Pin each configured peer that is a genesis validator's address to that
    // validator's peer id (derived from its consensus key): with
    // persistent_peers_only, Malachite then accepts its inbound connections
    // at once instead of only after dialing it back.
    let validators = shared.chain.validators().map_err(|e| err(&e))?;
    let peers = shared
        .config
        .peers
        .iter()
        .map(|addr| {
            let pinned = addr
                .iter()
                .any(|p| matches!(p, libp2p::multiaddr::Protocol::P2p(_)));
            let known = validators
                .iter()
                .find(|v| v.p2p_address.parse::<libp2p::Multiaddr>().ok().as_ref() == Some(addr));
            match (
                pinned,
                known.and_then(|v| crate::gossip::peer_id_of(&v.consensus_key)),
            ) {
                (false, Some(id)) => addr.clone().with(libp2p::multiaddr::Protocol::P2p(id)),
                _ => addr.clone(),
            }
        })
        .collect::<Vec<_>>();

    let cfg = EngineConfig {
        moniker: shared.config.moniker.clone(),
        consensus: ConsensusConfig {
            p2p: P2pConfig {
                listen_addr: shared.config.listen.clone(),
                persistent_peers: peers.clone(),
                persistent_peers_only: true,
                // Every validator dials every other (`persistent_peers`), so
                // a message needs no relay: each peer gets it once, straight
                // from its author over the authenticated connection. With
                // gossipsub each node relayed every proposal part and vote
                // to the others, and each copy was signed and checked
                // (BENCHMARKS.md, "Messages sent once, reads by hash").
                protocol: PubSubProtocol::Broadcast,
                ..P2pConfig::default()
            },
            value_payload: ValuePayload::ProposalAndParts,
            ..ConsensusConfig::default()
        },
        sync: ValueSyncConfig {
            enabled: true,
            status_update_interval: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            ..ValueSyncConfig::default()
        },
    };

    let wal = shared.config.wal_path();
    let verifier = ConsensusSigner::new(Keypair::from_seed(key.seed()), chain_id.clone())
        .map_err(|e| err(&e))?;
    let signer_box = ConsensusSigner::new(Keypair::from_seed(key.seed()), chain_id.clone())
        .map_err(|e| err(&e))?;
    let builder =
        EngineBuilder::new(ctx.clone(), cfg).with_default_wal(WalContext::new(wal, WireCodec));
    // Everything after the network (whose builder types differ by network).
    macro_rules! after_network {
        ($b:expr) => {
            $b.with_default_sync(SyncContext::new(WireCodec))
                .with_default_consensus(ConsensusContext::new_validator(
                    address,
                    Box::new(verifier),
                    Box::new(signer_box),
                ))
                .with_default_request(RequestContext::new(64))
                .build()
                .await
        };
    }
    #[cfg(feature = "byzantine")]
    let built = match behaviour.network {
        Some(config) => {
            let conflicting =
                ConsensusSigner::new(Keypair::from_seed(key.seed()), chain_id.clone())
                    .map_err(|e| err(&e))?;
            after_network!(builder
                .with_byzantine_network(malachitebft_app_channel::ByzantineContext {
                    identity,
                    codec: WireCodec,
                    config,
                    signer: Box::new(conflicting),
                    address,
                    conflicting_value_fn: None,
                    // A non-nil vote is doubled by a nil one.
                    conflicting_vote_value_fn: None,
                })
                .await
                .map_err(|e| err(&e))?)
        }
        None => {
            after_network!(builder.with_default_network(NetworkContext::new(identity, WireCodec)))
        }
    };
    #[cfg(not(feature = "byzantine"))]
    let built =
        after_network!(builder.with_default_network(NetworkContext::new(identity, WireCodec)));
    let (channels, engine) = built.map_err(|e| err(&e))?;

    // How far the validators are (the API's `syncing` and `/ready`), believed
    // only from messages whose signatures verify (see `peers::HeightEstimate`):
    // the engine reports messages here before it has checked them.
    let mut events = channels.events.subscribe();
    let watch = shared.clone();
    let wal_fault = Arc::new(std::sync::Mutex::new(None));
    let fault = wal_fault.clone();
    let wal_file = shared.config.wal_path();
    let set = ValidatorSet::from_ledger(&validators).map_err(|e| err(&e))?;
    let mut estimate = HeightEstimate::new(ConsensusVerifier::new(chain_id.clone()), set);
    tokio::spawn(async move {
        use malachitebft_core_consensus::SignedConsensusMsg;
        use malachitebft_engine::util::events::Event;
        use tokio::sync::broadcast::error::RecvError;
        let mut set_at = watch.chain.head().height;
        loop {
            match events.recv().await {
                Ok(Event::Received(msg)) => {
                    let head = watch.chain.head().height;
                    if head != set_at {
                        set_at = head;
                        match watch
                            .chain
                            .validators()
                            .map(|v| ValidatorSet::from_ledger(&v))
                        {
                            Ok(Ok(set)) => estimate.set_validators(set),
                            Ok(Err(e)) => {
                                tracing::warn!(target: "assent::consensus", error = %e, "validator set refused")
                            }
                            Err(e) => {
                                tracing::warn!(target: "assent::consensus", error = %e, "validator set unreadable")
                            }
                        }
                    }
                    estimate.observe(match &msg {
                        SignedConsensusMsg::Vote(v) => Signed::Vote(v),
                        SignedConsensusMsg::Proposal(p) => Signed::Proposal(p),
                    });
                    // A validator at consensus height h has committed h - 1.
                    watch.peer_height.store(
                        estimate.height().saturating_sub(1),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
                Ok(Event::WalCorrupted(e)) => {
                    note_wal_fault(&fault, &wal_file, watch.chain.head().height.0 + 1, &e);
                }
                Ok(Event::WalReplayError(e)) => {
                    note_wal_fault(&fault, &wal_file, watch.chain.head().height.0 + 1, &e);
                }
                Ok(Event::WalResetError(e)) => {
                    note_wal_fault(&fault, &wal_file, watch.chain.head().height.0 + 1, &e);
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
        }
    });

    let members = super::membership::follow(
        shared.clone(),
        &peers,
        peer_id,
        channels.net_requests.clone(),
    );
    let app = App::new(shared.clone(), ctx, signer, timeouts(&shared));
    let done = (behaviour.app_loop)(app, channels, shared);
    Ok(Consensus {
        done,
        engine,
        wal_fault,
        members,
    })
}

/// Words for an operator whose WAL the engine could not replay or reset.
fn note_wal_fault(
    fault: &std::sync::Mutex<Option<String>>,
    wal: &std::path::Path,
    height: u64,
    why: &dyn std::fmt::Display,
) {
    let text = format!(
        "the consensus WAL {} cannot be used ({why}); it holds what this validator signed at height {height}: restore it from a backup, or move it away and restart only once the other validators have committed height {height} (see their /v1/status), so that this validator cannot sign anything conflicting at that height",
        wal.display()
    );
    tracing::error!(target: "assent::consensus", "{text}");
    if let Ok(mut f) = fault.lock() {
        f.get_or_insert(text);
    }
}

/// Most gossiped txs admitted in one call.
const GOSSIP_ADMIT_MAX: usize = 2_048;

/// Gossiped txs worth a batch signature check of their own: fewer wait up
/// to [`GOSSIP_COALESCE`] for more. From about 100 signatures a batch check
/// uses the multiscalar method for many points, and costs ≈ 17 µs per
/// signature here, against ≈ 27 µs in batches of 16, the size gossip
/// messages come in (`cargo bench -p assent-contracts --bench
/// execute_block -- signatures`).
const GOSSIP_BATCH_TXS: usize = 128;

/// Longest the first gossiped tx of a batch waits for others.
const GOSSIP_COALESCE: Duration = Duration::from_millis(50);

/// A gossip message of at least this many txs means busy gossip of small
/// txs (its sender gathered them in [`crate::gossip::PUBLISH_LINGER`]):
/// only then does admission wait for more. Messages of one or two large
/// txs (a RecordUse of thousands of uses) are admitted at once: their
/// signatures are a small part of their cost, and waiting only made
/// proposals smaller (BENCHMARKS.md, "Gossiped txs checked together").
const GOSSIP_BUSY_TXS: usize = 8;

/// When [`gossip_batch`] waits for more messages.
#[derive(Clone, Copy, Debug)]
struct Gathering {
    /// Txs that make a batch worth checking on its own.
    enough: usize,
    /// Txs in the first message that make it worth waiting at all.
    busy: usize,
    /// Longest wait, from the call.
    wait: Duration,
}

const GOSSIP_GATHERING: Gathering = Gathering {
    enough: GOSSIP_BATCH_TXS,
    busy: GOSSIP_BUSY_TXS,
    wait: GOSSIP_COALESCE,
};

/// Gossip messages to admit in one call.
#[derive(Debug)]
struct GossipBatch {
    txs: Vec<Vec<u8>>,
    /// Who sent them, and how many txs each message held, in order.
    from: Vec<(libp2p::PeerId, usize)>,
    /// Their byte charges: held until the admission is done.
    charges: Vec<crate::gossip::InboundCharge>,
}

/// Gathers gossip messages to admit together, from `first`: those already
/// waiting, and if `first` holds at least `busy` txs, while the batch holds
/// fewer than `enough`, those that arrive within `wait` of the call (at most
/// [`GOSSIP_ADMIT_MAX`] txs, but messages are not split). One batch
/// signature check costs less per signature the more it checks.
async fn gossip_batch(
    first: crate::gossip::Inbound,
    inbound: &mut mpsc::Receiver<crate::gossip::Inbound>,
    how: Gathering,
) -> GossipBatch {
    let deadline = tokio::time::Instant::now() + how.wait;
    let enough = if first.txs.len() >= how.busy {
        how.enough
    } else {
        0
    };
    let mut batch = GossipBatch {
        from: vec![(first.from, first.txs.len())],
        txs: first.txs,
        charges: vec![first.charge],
    };
    while batch.txs.len() < GOSSIP_ADMIT_MAX {
        let next = match inbound.try_recv() {
            Ok(next) => next,
            Err(_) if batch.txs.len() >= enough => break,
            Err(_) => match tokio::time::timeout_at(deadline, inbound.recv()).await {
                Ok(Some(next)) => next,
                // Time is up, or the gossip has stopped: admit what is here.
                Ok(None) | Err(_) => break,
            },
        };
        batch.from.push((next.from, next.txs.len()));
        batch.txs.extend(next.txs);
        batch.charges.push(next.charge);
    }
    batch
}

/// Admits tx batches that arrive by gossip (signatures checked in one batch
/// per admission, over every batch waiting).
pub async fn admit_gossip(
    shared: Arc<Shared>,
    mut inbound: mpsc::Receiver<crate::gossip::Inbound>,
) {
    while let Some(first) = inbound.recv().await {
        let GossipBatch { txs, from, charges } =
            gossip_batch(first, &mut inbound, GOSSIP_GATHERING).await;
        shared.metrics.admission_batch("gossip", txs.len());
        let sh = shared.clone();
        // Decoding and signature checks are CPU work: off the async workers,
        // and outside the mempool lock (see `mempool::admit`).
        let results = tokio::task::spawn_blocking(move || {
            crate::mempool::admit(
                &sh.mempool,
                crate::mempool::Origin::Gossip,
                &sh.chain.next_context(sh.validator_key),
                txs,
                sh.chain.store(),
                rand::rngs::OsRng,
            )
        })
        .await
        .unwrap_or_default();
        drop(charges);
        let mut results = results.iter();
        for (peer, n) in from {
            let refused = results.by_ref().take(n).filter(|r| r.is_err()).count();
            if refused > 0 {
                tracing::debug!(target: "assent::gossip", from = %peer, refused, "gossiped txs refused");
            }
        }
        shared.metrics.set_mempool(shared.mempool().len());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::gossip::{Inbound, InboundBudget};

    fn message(budget: &Arc<InboundBudget>, peer: libp2p::PeerId, txs: usize, tag: u8) -> Inbound {
        let txs: Vec<Vec<u8>> = (0..txs).map(|i| vec![tag, i as u8]).collect();
        Inbound {
            from: peer,
            charge: budget
                .charge(peer, crate::gossip::batch_bytes(&txs))
                .unwrap(),
            txs,
        }
    }

    /// Waits for up to 10 txs, when the first message brings at least 2.
    fn gathering(wait_ms: u64) -> Gathering {
        Gathering {
            enough: 10,
            busy: 2,
            wait: Duration::from_millis(wait_ms),
        }
    }

    #[tokio::test]
    async fn gossip_messages_are_gathered_into_one_admission() {
        let budget = InboundBudget::new(1 << 20, 1 << 20);
        let (a, b) = (libp2p::PeerId::random(), libp2p::PeerId::random());
        let (tx, mut rx) = mpsc::channel(16);

        // Messages already waiting, and one sent while the batch waits for
        // more, join the first; the batch goes once it has enough.
        tx.send(message(&budget, b, 3, 2)).await.unwrap();
        let late = tx.clone();
        let late_budget = budget.clone();
        let sender = tokio::spawn(async move {
            late.send(message(&late_budget, a, 5, 3)).await.unwrap();
        });
        let batch = gossip_batch(message(&budget, a, 4, 1), &mut rx, gathering(30_000)).await;
        sender.await.unwrap();
        assert_eq!(batch.from, vec![(a, 4), (b, 3), (a, 5)]);
        assert_eq!(batch.txs.len(), 12);
        assert_eq!(batch.txs[4], vec![2, 0], "txs stay in arrival order");
        assert_eq!(batch.charges.len(), 3);
        assert!(budget.queued(&a).0 > 0, "the charges are held by the batch");
        drop(batch);
        assert_eq!(budget.queued(&a), (0, 0), "and given back with it");

        // A batch short of enough goes when the wait is over, with what it has.
        let started = tokio::time::Instant::now();
        let batch = gossip_batch(message(&budget, b, 2, 4), &mut rx, gathering(20)).await;
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert_eq!(batch.from, vec![(b, 2)]);

        // A first message of fewer than `busy` txs (one large tx, say) goes
        // with what is already waiting, without waiting for more.
        tx.send(message(&budget, b, 3, 8)).await.unwrap();
        let late = tx.clone();
        let late_budget = budget.clone();
        let sender = tokio::spawn(async move {
            late.send(message(&late_budget, a, 5, 9)).await.unwrap();
        });
        let batch = gossip_batch(message(&budget, a, 1, 10), &mut rx, gathering(3_600_000)).await;
        assert_eq!(batch.from, vec![(a, 1), (b, 3)]);
        sender.await.unwrap();
        assert_eq!(
            rx.try_recv().unwrap().txs.len(),
            5,
            "the later message waits its turn"
        );

        // A first message of enough txs goes at once, however long the wait.
        tx.send(message(&budget, b, 1, 6)).await.unwrap();
        let batch = gossip_batch(message(&budget, a, 10, 5), &mut rx, gathering(3_600_000)).await;
        assert_eq!(
            batch.from,
            vec![(a, 10), (b, 1)],
            "what was already waiting still joins"
        );

        // The gossip stopping ends the wait.
        drop(tx);
        let batch = gossip_batch(message(&budget, a, 2, 7), &mut rx, gathering(3_600_000)).await;
        assert_eq!(batch.txs, vec![vec![7, 0], vec![7, 1]]);
    }

    #[tokio::test]
    async fn a_gossip_batch_stops_at_its_most_txs() {
        let budget = InboundBudget::new(1 << 24, 1 << 24);
        let peer = libp2p::PeerId::random();
        let (tx, mut rx) = mpsc::channel(16);
        for i in 0..3 {
            tx.send(message(&budget, peer, 1_000, i)).await.unwrap();
        }
        let how = Gathering {
            enough: GOSSIP_ADMIT_MAX * 2,
            ..gathering(3_600_000)
        };
        let batch = gossip_batch(message(&budget, peer, 1_000, 9), &mut rx, how).await;
        // Messages are not split: 1,000 + 1,000 + 1,000 passes the most and stops.
        assert_eq!(batch.txs.len(), 3_000);
        assert_eq!(
            rx.try_recv().unwrap().txs.len(),
            1_000,
            "the rest waits its turn"
        );
    }
}
