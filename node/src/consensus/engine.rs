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
