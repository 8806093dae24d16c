//! The application side of Malachite's app-channel: one task answers every
//! `AppMsg` (an unanswered message stalls consensus).
//!
//! - values are blocks; a value id is the block's header hash;
//! - our own proposals and every received block are persisted before the
//!   engine hears of them, so a restarted node re-proposes the same block
//!   and can commit a decision replayed from the WAL;
//! - proposal parts pass the intake ([`super::intake`]) before anything is
//!   buffered or judged: validators only, their own proposals only, bounded
//!   heights and rounds, one value per (height, round);
//! - a proposal for a future height is kept pending and judged when that
//!   height starts; validity is a deterministic function of (parent, block);
//! - a failed commit is fatal: the loop returns an error and the node stops.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_contracts::{Block, BlockHash, Timestamp};
use malachitebft_app_channel::app::engine::host::{HeightParams, Next, SyncedValueOutcome};
use malachitebft_app_channel::app::types::sync::RawDecidedValue;
use malachitebft_app_channel::app::types::ProposedValue;
use malachitebft_app_channel::{AppMsg, Channels, NetworkMsg};
use malachitebft_core_types::{ExtendedCommitCertificate, LinearTimeouts, Round, Validity};
use tracing::Instrument as _;

use super::intake::Intake;
use super::signing::ConsensusSigner;
use super::streaming::CompletedStream;
use super::types::{
    from_ledger_certificate, to_ledger_certificate, Address, AssentContext, BlockValue, Height,
    ValidatorSet,
};
use crate::run::NodeError;
use crate::shared::Shared;

mod propose;
mod receive;

/// Largest proposal part (bytes of block data per gossip message).
const PART_SIZE: usize = 256 * 1024;

/// How often a proposer waiting out `block_interval` looks at its mempool.
const PACING_STEP: Duration = Duration::from_millis(5);

fn now_ms() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Timestamp(ms)
}

fn fatal(e: impl std::fmt::Display) -> NodeError {
    NodeError::Consensus(e.to_string())
}

pub struct App {
    shared: Arc<Shared>,
    signer: Arc<ConsensusSigner>,
    address: Address,
    timeouts: LinearTimeouts,
    intake: Intake,
    /// Streams kept for the current height before it started, judged at its
    /// first round.
    due: Vec<CompletedStream>,
    /// The value received and judged for each round of the current height.
    received: BTreeMap<u32, ProposedValue<AssentContext>>,
    /// A received proposal executing before its stream completed.
    early: Option<receive::Early>,
    height: Height,
    round: Round,
    stream_seq: u32,
    last_commit: Instant,
    /// Height and signature count of the certificate this node last
    /// committed with: `Finalized` compares against it without reading the
    /// block's journal record back.
    committed_signatures: Option<(assent_contracts::Height, usize)>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "App(height {})", self.height)
    }
}

impl App {
    pub fn new(
        shared: Arc<Shared>,
        ctx: AssentContext,
        signer: Arc<ConsensusSigner>,
        timeouts: LinearTimeouts,
    ) -> App {
        let address = Address::from(shared.validator_key);
        App {
            shared,
            signer,
            address,
            timeouts,
            intake: Intake::new(ctx),
            due: Vec::new(),
            received: BTreeMap::new(),
            early: None,
            height: Height(0),
            round: Round::Nil,
            stream_seq: 0,
            last_commit: Instant::now(),
            committed_signatures: None,
        }
    }

    fn validator_set(&self) -> Result<ValidatorSet, NodeError> {
        let vals = self.shared.chain.validators().map_err(fatal)?;
        ValidatorSet::from_ledger(&vals).map_err(fatal)
    }

    /// Starts `height`: the intake follows its validator set, and the
    /// streams it kept for this height are judged at the first round.
    fn start_height(&mut self, height: Height) -> Result<HeightParams<AssentContext>, NodeError> {
        let set = self.validator_set()?;
        self.height = height;
        self.received.clear();
        self.due = self.intake.start_height(height, set.clone());
        Ok(HeightParams::new(set, self.timeouts, None))
    }

    /// Runs until the engine closes the channel (Ok) or a fatal error.
    /// Everything done for one message is traced in a `height` span (the
    /// height the message concerns, else the current one), so a height's
    /// proposal, validation, execution and commit can be followed in the logs.
    pub async fn run(mut self, mut channels: Channels<AssentContext>) -> Result<(), NodeError> {
        while let Some(msg) = channels.consensus.recv().await {
            let height = message_height(&msg).unwrap_or(self.height).0;
            let span = tracing::info_span!("height", height);
            self.handle(msg, &channels.network).instrument(span).await?;
        }
        Ok(())
    }

    async fn handle(
        &mut self,
        msg: AppMsg<AssentContext>,
        network: &tokio::sync::mpsc::Sender<NetworkMsg<AssentContext>>,
    ) -> Result<(), NodeError> {
        // A proposal executing early runs alone: wait it out before this
        // node builds, commits or executes anything else, or leaves its
        // height (receive.rs). A new round of the same height lets it run:
        // its stream may still complete.
        let settle = match &msg {
            AppMsg::StartedRound { height, .. } => *height != self.height,
            AppMsg::GetValue { .. }
            | AppMsg::Decided { .. }
            | AppMsg::Finalized { .. }
            | AppMsg::ProcessSyncedValue { .. } => true,
            _ => false,
        };
        if settle {
            self.settle_early().await?;
        }
        match msg {
            AppMsg::ConsensusReady { reply } => {
                let next = Height(self.shared.chain.head().height.0 + 1);
                let params = self.start_height(next)?;
                tracing::info!(target: "assent::consensus", height = next.0, "consensus ready");
                self.shared
                    .consensus_started
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                let _ = reply.send((next, params));
            }
            AppMsg::StartedRound {
                height,
                round,
                proposer,
                reply_value,
                ..
            } => {
                if height != self.height {
                    // The engine moved on without Finalized from us (sync).
                    self.start_height(height)?;
                }
                self.round = round;
                self.intake.start_round(round);
                tracing::debug!(target: "assent::consensus", height = height.0, round = %round, proposer = %proposer, "started round");
                // Judge proposals that arrived early for this height.
                for s in std::mem::take(&mut self.due) {
                    if let Some(v) = self.judge(s).await? {
                        self.received.insert(v.round.as_u32().unwrap_or(0), v);
                    }
                }
                let mut values: Vec<ProposedValue<AssentContext>> = self
                    .received
                    .get(&round.as_u32().unwrap_or(0))
                    .cloned()
                    .into_iter()
                    .collect();
                // After a restart: the block we proposed in this round before.
                if let Some(r) = round.as_u32() {
                    if let Some(hash) = self
                        .shared
                        .chain
                        .store()
                        .own_proposal(height_ledger(height), r)
                        .map_err(fatal)?
                    {
                        values.push(ProposedValue {
                            height,
                            round,
                            valid_round: Round::Nil,
                            proposer: self.address,
                            value: BlockValue::new(hash),
                            validity: Validity::Valid,
                        });
                    }
                }
                let _ = reply_value.send(values);
            }
            AppMsg::GetValue {
                height,
                round,
                timeout,
                reply,
            } => {
                let value = self.propose(height, round, timeout, network).await?;
                let _ = reply.send(value);
            }
            AppMsg::ExtendVote { reply, .. } => {
                let _ = reply.send(None);
            }
            AppMsg::VerifyVoteExtensions {
                extensions, reply, ..
            } => {
                let _ = reply.send(extensions.into_iter().map(|(a, _)| (a, Ok(()))).collect());
            }
            AppMsg::RestreamProposal {
                height,
                round,
                valid_round,
                value_id,
                ..
            } => {
                let hash: BlockHash = value_id.into();
                if let Some(bytes) = self
                    .shared
                    .chain
                    .store()
                    .undecided(height_ledger(height), &hash)
                    .map_err(fatal)?
                {
                    self.restream(height, round, valid_round, hash, &bytes, network)
                        .await?;
                }
            }
            AppMsg::GetHistoryMinHeight { reply } => {
                let _ = reply.send(Height(1));
            }
            AppMsg::ReceivedProposalPart {
                from,
                published_by,
                part,
                reply,
            } => {
                let publisher = published_by.unwrap_or(from);
                let value = self.on_part(publisher, part).await?;
                let _ = reply.send(value);
            }
            AppMsg::Decided {
                certificate, reply, ..
            } => {
                let cert = to_ledger_certificate(&certificate);
                let hash: BlockHash = certificate.value_id.into();
                let shared = self.shared.clone();
                let known = |t: &assent_contracts::SignedTx| {
                    shared.mempool().pending_at(&t.body.sender, t.body.nonce)
                };
                let interval = self.last_commit.elapsed();
                let chain = &self.shared.chain;
                match cpu_bound(|| {
                    chain.commit(height_ledger(certificate.height), hash, &cert, &known)
                }) {
                    Ok(Some(committed)) => {
                        self.last_commit = Instant::now();
                        self.committed_signatures =
                            Some((committed.head.height, cert.signatures.len()));
                        let store = self.shared.chain.store();
                        {
                            let mut pool = self.shared.mempool();
                            // The bytes the pool held of the block: its
                            // txs, as far as this node had them.
                            let bytes = pool.remove_committed_of(
                                &committed.tx_ids,
                                &committed.senders,
                                store,
                            );
                            pool.committed_block(Instant::now(), committed.tx_ids.len(), bytes);
                            pool.expire_gaps(committed.head.height.0, store);
                        }
                        self.shared
                            .metrics
                            .observe_commit(&committed, Some(interval));
                        self.shared.metrics.set_mempool(self.shared.mempool().len());
                        tracing::debug!(target: "assent::consensus", height = committed.head.height.0, txs = committed.tx_ids.len(), "committed");
                        if committed.head.height.0 % 100 == 0 {
                            tracing::info!(target: "assent::consensus", height = committed.head.height.0, mempool = self.shared.mempool().len(), "committed");
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(target: "assent::consensus", error = %e, "commit failed; stopping the node");
                        return Err(fatal(e));
                    }
                }
                let _ = reply.send(());
            }
            AppMsg::Finalized {
                certificate,
                reply,
                evidence,
                ..
            } => {
                let h = height_ledger(certificate.height);
                super::evidence::report(&self.shared.metrics, h, &evidence);
                // Finalized may carry more signatures than Decided: keep the fuller one.
                let fuller = to_ledger_certificate(&certificate);
                let store = self.shared.chain.store();
                let stored = match self.committed_signatures {
                    Some((at, n)) if at == h => Some(n),
                    _ => store
                        .certificate(h)
                        .ok()
                        .flatten()
                        .map(|c| c.signatures.len()),
                };
                if stored.is_some_and(|n| fuller.signatures.len() > n) {
                    store.put_certificate(h, &fuller).map_err(fatal)?;
                    self.committed_signatures = Some((h, fuller.signatures.len()));
                }
                let next = Height(certificate.height.0 + 1);
                let params = self.start_height(next)?;
                let _ = reply.send(Next::Start(next, params));
            }
            AppMsg::GetDecidedValues { range, reply } => {
                let store = self.shared.chain.store();
                let mut out = Vec::new();
                let (start, end) = (range.start().0, range.end().0);
                for h in start..=end {
                    let (Some(bytes), Some(cert)) = (
                        store
                            .block_bytes(assent_contracts::Height(h))
                            .map_err(fatal)?,
                        store
                            .certificate(assent_contracts::Height(h))
                            .map_err(fatal)?,
                    ) else {
                        break;
                    };
                    let cert = ExtendedCommitCertificate::from_commit_certificate_and_extensions(
                        from_ledger_certificate(&cert),
                        Default::default(),
                    );
                    out.push(RawDecidedValue::new(bytes.into(), cert));
                }
                let _ = reply.send(out);
            }
            AppMsg::ProcessSyncedValue {
                height,
                round,
                proposer,
                value_bytes,
                reply,
            } => {
                let outcome = match Block::decode(&value_bytes) {
                    Err(_) => SyncedValueOutcome::PeerFault,
                    Ok(block) => {
                        let hash = block.header.hash();
                        let store = self.shared.chain.store();
                        store
                            .save_undecided(height_ledger(height), &hash, &value_bytes, None)
                            .map_err(fatal)?;
                        let shared = self.shared.clone();
                        let known = |t: &assent_contracts::SignedTx| {
                            shared.mempool().pending_at(&t.body.sender, t.body.nonce)
                        };
                        let chain = &self.shared.chain;
                        let bytes = value_bytes.to_vec();
                        let validity = match cpu_bound(|| {
                            chain.validate_block(block, bytes, None, &known, None)
                        })
                        .map_err(fatal)?
                        {
                            Ok(executed) => {
                                self.shared.chain.remember(executed).map_err(fatal)?;
                                Validity::Valid
                            }
                            Err(why) => {
                                tracing::warn!(target: "assent::consensus", height = height.0, %why, "synced block is invalid here");
                                Validity::Invalid
                            }
                        };
                        SyncedValueOutcome::Verdict(ProposedValue {
                            height,
                            round,
                            valid_round: Round::Nil,
                            proposer,
                            value: BlockValue::new(hash),
                            validity,
                        })
                    }
                };
                let _ = reply.send(outcome);
            }
        }
        Ok(())
    }
}

/// Runs block execution or a commit (tens to hundreds of milliseconds of CPU
/// and disk) without holding an async worker: on the multi-threaded runtime
/// the worker hands its other tasks (the engine's actors, timers, the
/// network) to another thread first, so consensus timers do not starve while
/// a large block executes.
fn cpu_bound<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// The height an engine message is about, where it names one.
fn message_height(msg: &AppMsg<AssentContext>) -> Option<Height> {
    match msg {
        AppMsg::StartedRound { height, .. }
        | AppMsg::GetValue { height, .. }
        | AppMsg::RestreamProposal { height, .. }
        | AppMsg::ProcessSyncedValue { height, .. } => Some(*height),
        AppMsg::Decided { certificate, .. } | AppMsg::Finalized { certificate, .. } => {
            Some(certificate.height)
        }
        _ => None,
    }
}

fn height_ledger(h: Height) -> assent_contracts::Height {
    assent_contracts::Height(h.0)
}
