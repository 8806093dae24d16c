//! The gossip actor: the one task that owns the libp2p [`Swarm`], keeps the
//! configured peers dialed (with backoff), admits only allowlisted peers,
//! publishes this node's batches and hands received ones to the node through
//! a bounded queue.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assent_contracts::Hash32;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, DialError, ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{allow_block_list, gossipsub, identify, noise, ping, tcp, yamux};
use libp2p::{Multiaddr, PeerId, Swarm};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::fetch::{FetchCodec, FetchResponse, Serve, Serving};
use super::{
    batch_bytes, bump, decode_batch, encode_batches, Command, GossipConfig, GossipError,
    GossipHandle, Inbound, InboundBudget, Stats, Status, BACKOFF_MAX, BACKOFF_MIN, COMMAND_QUEUE,
    DRAIN_MAX, INBOUND_MAX_BYTES, INBOUND_PEER_MAX_BYTES, INBOUND_QUEUE, LISTEN_TIMEOUT, LOG,
    MAX_MESSAGE_BYTES, PUBLISH_FLUSH_BYTES, REDIAL_TICK,
};

#[derive(NetworkBehaviour)]
struct Behaviour {
    allow: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    gossipsub: gossipsub::Behaviour,
    fetch: request_response::Behaviour<FetchCodec>,
}

mod fetching;
use fetching::{Answer, FetchReply, FETCH_TIMEOUT};

fn build_swarm(cfg: &GossipConfig) -> Result<Swarm<Behaviour>, GossipError> {
    let gs_config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(|m: &gossipsub::Message| {
            gossipsub::MessageId::from(Hash32::tagged("assent/gossip/v1", &[&m.data]).0.to_vec())
        })
        .max_transmit_size(MAX_MESSAGE_BYTES)
        .heartbeat_interval(Duration::from_millis(500))
        .build()
        .map_err(|e| GossipError::Config(e.to_string()))?;
    let allowlist = cfg.allowlist.clone();
    let swarm = libp2p::SwarmBuilder::with_existing_identity(cfg.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| GossipError::Transport(e.to_string()))?
        .with_behaviour(|key| {
            let mut allow = allow_block_list::Behaviour::default();
            for p in allowlist {
                allow.allow_peer(p);
            }
            let gossipsub =
                gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Anonymous, gs_config)?;
            Ok(Behaviour {
                allow,
                identify: identify::Behaviour::new(identify::Config::new(
                    "/assent/gossip/1".into(),
                    key.public(),
                )),
                ping: ping::Behaviour::default(),
                gossipsub,
                fetch: request_response::Behaviour::new(
                    [(super::fetch::PROTOCOL, ProtocolSupport::Full)],
                    request_response::Config::default().with_request_timeout(FETCH_TIMEOUT),
                ),
            })
        })
        .map_err(|e| GossipError::Config(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok(swarm)
}

/// Starts the gossip actor: listens on `cfg.listen` (returns once the first
/// address is bound), subscribes to the topic and dials `cfg.peers`.
pub async fn spawn(
    cfg: GossipConfig,
) -> Result<(GossipHandle, mpsc::Receiver<Inbound>), GossipError> {
    let mut swarm = build_swarm(&cfg)?;
    let topic = gossipsub::IdentTopic::new(cfg.topic.clone());
    swarm
        .behaviour_mut()
        .gossipsub
        .subscribe(&topic)
        .map_err(|e| GossipError::Config(e.to_string()))?;
    let listen_err = |why: String| GossipError::Listen {
        addr: cfg.listen.clone(),
        why,
    };
    swarm
        .listen_on(cfg.listen.clone())
        .map_err(|e| listen_err(e.to_string()))?;
    let first = tokio::time::timeout(LISTEN_TIMEOUT, async {
        loop {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => return Ok(address),
                SwarmEvent::ListenerError { error, .. } => return Err(error.to_string()),
                SwarmEvent::ListenerClosed { reason, .. } => {
                    return Err(match reason {
                        Err(e) => e.to_string(),
                        Ok(()) => "listener closed".into(),
                    })
                }
                _ => {}
            }
        }
    })
    .await
    .map_err(|_| listen_err("no address bound in time".into()))?
    .map_err(listen_err)?;
    tracing::info!(target: LOG, address = %first, peer_id = %swarm.local_peer_id(), "gossip listening");

    let shared = Arc::new(Status {
        local: *swarm.local_peer_id(),
        peers: AtomicUsize::new(0),
        topic_peers: AtomicUsize::new(0),
        listen: Mutex::new(vec![first]),
        stats: Stats::default(),
    });
    let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE);
    let (inbound, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
    let now = Instant::now();
    let actor = Actor {
        swarm,
        topic,
        allowlist: cfg.allowlist.iter().copied().collect(),
        slots: cfg
            .peers
            .iter()
            .map(|addr| Slot {
                addr: addr.clone(),
                peer: None,
                state: SlotState::Idle { next: now },
                backoff: BACKOFF_MIN,
            })
            .collect(),
        connected: HashSet::new(),
        subscribed: HashSet::new(),
        inbound,
        budget: InboundBudget::new(INBOUND_MAX_BYTES, INBOUND_PEER_MAX_BYTES),
        shared: shared.clone(),
        outbox: Outbox {
            linger: cfg.linger,
            ..Outbox::default()
        },
        serve: cfg.serve.clone(),
        fetches: HashMap::new(),
        serving: Serving::default(),
        answers: FuturesUnordered::new(),
    };
    tokio::spawn(actor.run(command_rx));
    Ok((GossipHandle { commands, shared }, inbound_rx))
}

/// A configured peer address and its dial state.
struct Slot {
    addr: Multiaddr,
    /// Learned from the first connection through this address.
    peer: Option<PeerId>,
    state: SlotState,
    backoff: Duration,
}

enum SlotState {
    Idle { next: Instant },
    Dialing(ConnectionId),
    Connected,
}

struct Actor {
    swarm: Swarm<Behaviour>,
    topic: gossipsub::IdentTopic,
    allowlist: HashSet<PeerId>,
    slots: Vec<Slot>,
    connected: HashSet<PeerId>,
    subscribed: HashSet<PeerId>,
    inbound: mpsc::Sender<Inbound>,
    budget: Arc<InboundBudget>,
    shared: Arc<Status>,
    outbox: Outbox,
    /// Where peers' fetch requests go to be answered (`None`: answered
    /// `Unknown`).
    serve: Option<mpsc::Sender<Serve>>,
    /// Our fetches in flight.
    fetches: HashMap<OutboundRequestId, FetchReply>,
    serving: Serving,
    answers: FuturesUnordered<Answer>,
}

/// Txs waiting to be published together (see [`super::PUBLISH_LINGER`]).
#[derive(Default)]
struct Outbox {
    linger: Duration,
    txs: Vec<Vec<u8>>,
    bytes: usize,
    /// When the oldest waiting tx must go out.
    due: Option<Instant>,
}

/// Waits until `at`; forever when `None`.
async fn until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

impl Actor {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut redial = tokio::time::interval(REDIAL_TICK);
        redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let due = self.outbox.due;
            // Fair: a flood of publishes does not hold back the swarm's
            // events (inbound gossip), nor the other way round.
            tokio::select! {
                cmd = commands.recv() => {
                    let Some(mut cmd) = cmd else { break };
                    // Commands already queued join the waiting message
                    // before it goes out; at most DRAIN_MAX per turn.
                    for _ in 0..DRAIN_MAX {
                        if let Some(done) = self.on_command(cmd) {
                            drop(self);
                            let _ = done.send(());
                            return;
                        }
                        match commands.try_recv() {
                            Ok(next) => cmd = next,
                            Err(_) => break,
                        }
                    }
                }
                () = until(due) => self.flush(),
                Some((peer, channel, answer)) = self.answers.next(), if !self.answers.is_empty() => {
                    self.serving.done(peer);
                    let answer = answer.unwrap_or(FetchResponse::Unknown);
                    let _ = self.swarm.behaviour_mut().fetch.send_response(channel, answer);
                }
                event = self.swarm.select_next_some() => self.on_event(event),
                _ = redial.tick() => self.redial(),
            }
        }
        tracing::debug!(target: LOG, "gossip actor stopped");
    }

    /// Handles one command; on `Shutdown`, flushes and returns the sender
    /// to acknowledge with once the swarm is dropped.
    fn on_command(&mut self, cmd: Command) -> Option<tokio::sync::oneshot::Sender<()>> {
        match cmd {
            Command::Publish(batch) => self.queue(batch),
            Command::SetAllowlist(peers) => self.set_allowlist(peers),
            Command::Fetch {
                peer,
                request,
                reply,
            } => {
                let id = self
                    .swarm
                    .behaviour_mut()
                    .fetch
                    .send_request(&peer, request);
                self.fetches.insert(id, reply);
            }
            Command::Shutdown(done) => {
                self.flush();
                return Some(done);
            }
        }
        None
    }

    fn set_allowlist(&mut self, peers: Vec<PeerId>) {
        let new: HashSet<PeerId> = peers.into_iter().collect();
        for gone in self.allowlist.difference(&new) {
            self.swarm.behaviour_mut().allow.disallow_peer(*gone);
            let _ = self.swarm.disconnect_peer_id(*gone);
            tracing::info!(target: LOG, peer = %gone, "gossip peer no longer a validator: disconnected and refused");
        }
        for added in new.difference(&self.allowlist) {
            self.swarm.behaviour_mut().allow.allow_peer(*added);
            tracing::info!(target: LOG, peer = %added, "gossip peer admitted: a new validator");
        }
        self.allowlist = new;
    }

    /// Adds txs to the waiting message; it goes out when the linger is
    /// over or it is large enough.
    fn queue(&mut self, batch: Vec<Vec<u8>>) {
        let o = &mut self.outbox;
        o.bytes += batch.iter().map(Vec::len).sum::<usize>();
        o.txs.extend(batch);
        if o.bytes >= PUBLISH_FLUSH_BYTES || o.linger.is_zero() {
            self.flush();
        } else if o.due.is_none() {
            o.due = Some(Instant::now() + o.linger);
        }
    }

    fn flush(&mut self) {
        let txs = std::mem::take(&mut self.outbox.txs);
        self.outbox.bytes = 0;
        self.outbox.due = None;
        if !txs.is_empty() {
            self.publish(txs);
        }
    }

    fn publish(&mut self, batch: Vec<Vec<u8>>) {
        let stats = &self.shared.stats;
        for data in encode_batches(batch) {
            match self
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(self.topic.clone(), data)
            {
                Ok(_) => bump(&stats.published),
                Err(gossipsub::PublishError::Duplicate) => {}
                Err(e) => {
                    bump(&stats.publish_dropped);
                    tracing::debug!(target: LOG, error = %e, "batch not gossiped");
                }
            }
        }
    }

    fn redial(&mut self) {
        let now = Instant::now();
        for slot in &mut self.slots {
            let SlotState::Idle { next } = slot.state else {
                continue;
            };
            if let Some(p) = slot.peer {
                if self.swarm.is_connected(&p) {
                    slot.state = SlotState::Connected;
                    continue;
                }
            }
            if next > now {
                continue;
            }
            let opts = DialOpts::unknown_peer_id()
                .address(slot.addr.clone())
                .build();
            let id = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => slot.state = SlotState::Dialing(id),
                Err(e) => {
                    tracing::debug!(target: LOG, addr = %slot.addr, error = %e, "dial failed");
                    slot.state = SlotState::Idle {
                        next: now + slot.backoff,
                    };
                    slot.backoff = (slot.backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    fn set_counts(&self) {
        self.shared
            .peers
            .store(self.connected.len(), Ordering::Relaxed);
        self.shared
            .topic_peers
            .store(self.subscribed.len(), Ordering::Relaxed);
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                if !self.allowlist.contains(&peer_id) {
                    // The allowlist behaviour refuses these first; kept as a guard.
                    bump(&self.shared.stats.denied);
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                for slot in &mut self.slots {
                    let dialed =
                        matches!(slot.state, SlotState::Dialing(id) if id == connection_id);
                    if dialed || slot.peer == Some(peer_id) {
                        slot.peer = Some(peer_id);
                        slot.state = SlotState::Connected;
                        slot.backoff = BACKOFF_MIN;
                    }
                }
                if num_established.get() == 1 {
                    tracing::info!(target: LOG, peer = %peer_id, "gossip peer connected");
                }
                self.connected.insert(peer_id);
                self.set_counts();
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                connection_id,
                ..
            } => {
                if num_established == 0 {
                    self.connected.remove(&peer_id);
                    self.subscribed.remove(&peer_id);
                    self.set_counts();
                    tracing::info!(target: LOG, peer = %peer_id, "gossip peer disconnected");
                }
                let now = Instant::now();
                for slot in &mut self.slots {
                    let dialed =
                        matches!(slot.state, SlotState::Dialing(id) if id == connection_id);
                    if dialed || (num_established == 0 && slot.peer == Some(peer_id)) {
                        slot.state = SlotState::Idle {
                            next: now + slot.backoff,
                        };
                        slot.backoff = (slot.backoff * 2).min(BACKOFF_MAX);
                    }
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                if matches!(error, DialError::Denied { .. }) {
                    bump(&self.shared.stats.denied);
                }
                let now = Instant::now();
                for slot in &mut self.slots {
                    if matches!(slot.state, SlotState::Dialing(id) if id == connection_id) {
                        tracing::debug!(target: LOG, addr = %slot.addr, error = %error, "gossip dial failed; will retry");
                        slot.state = SlotState::Idle {
                            next: now + slot.backoff,
                        };
                        slot.backoff = (slot.backoff * 2).min(BACKOFF_MAX);
                    }
                }
            }
            SwarmEvent::IncomingConnectionError {
                error,
                send_back_addr,
                peer_id,
                ..
            } => {
                if let ListenError::Denied { cause } = &error {
                    bump(&self.shared.stats.denied);
                    tracing::info!(target: LOG, from = %send_back_addr, peer = ?peer_id, %cause, "gossip connection refused: peer not in the allowlist");
                } else {
                    tracing::debug!(target: LOG, from = %send_back_addr, %error, "incoming gossip connection failed");
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                if let Ok(mut l) = self.shared.listen.lock() {
                    if !l.contains(&address) {
                        l.push(address);
                    }
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                if let Ok(mut l) = self.shared.listen.lock() {
                    l.retain(|a| a != &address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            SwarmEvent::Behaviour(BehaviourEvent::Fetch(e)) => self.on_fetch(e),
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source: from,
                message_id,
                message,
            } => {
                let verdict = if !self.allowlist.contains(&from) {
                    tracing::warn!(target: LOG, peer = %from, "gossip from a peer not in the allowlist ignored");
                    gossipsub::MessageAcceptance::Reject
                } else {
                    match decode_batch(&message.data) {
                        Ok(txs) => {
                            self.deliver(from, txs);
                            self.relay_verdict()
                        }
                        Err(why) => {
                            bump(&self.shared.stats.malformed);
                            tracing::warn!(target: LOG, peer = %from, bytes = message.data.len(), %why, "malformed gossip batch dropped");
                            gossipsub::MessageAcceptance::Reject
                        }
                    }
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &from, verdict);
            }
            gossipsub::Event::Subscribed { peer_id, topic } if topic == self.topic.hash() => {
                self.subscribed.insert(peer_id);
                self.set_counts();
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } if topic == self.topic.hash() => {
                self.subscribed.remove(&peer_id);
                self.set_counts();
            }
            _ => {}
        }
    }

    /// A good batch is relayed only while some allowlisted peer is not
    /// subscribed here. Otherwise the validators form a full mesh: the
    /// author published the batch to each of them (flood publish), and a
    /// relay only sent every peer a second and third copy (BENCHMARKS.md,
    /// "Messages sent once, reads by hash"). A validator whose link to the
    /// author is down gets the txs in the author's proposals instead.
    fn relay_verdict(&self) -> gossipsub::MessageAcceptance {
        let me = *self.swarm.local_peer_id();
        let full_mesh = self
            .allowlist
            .iter()
            .all(|p| *p == me || self.subscribed.contains(p));
        if full_mesh {
            gossipsub::MessageAcceptance::Ignore
        } else {
            gossipsub::MessageAcceptance::Accept
        }
    }

    fn deliver(&self, from: PeerId, txs: Vec<Vec<u8>>) {
        let charge = match self.budget.charge(from, batch_bytes(&txs)) {
            Ok(c) => c,
            Err(over) => {
                bump(&self.shared.stats.inbound_dropped);
                tracing::debug!(target: LOG, peer = %from, ?over, "inbound gossip over its byte budget; batch dropped");
                return;
            }
        };
        match self.inbound.try_send(Inbound { from, txs, charge }) {
            Ok(()) => bump(&self.shared.stats.received),
            Err(e) => {
                bump(&self.shared.stats.inbound_dropped);
                tracing::debug!(target: LOG, error = %e, "inbound gossip queue unavailable; batch dropped");
            }
        }
    }
}
