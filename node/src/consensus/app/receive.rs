//! The receiving side of proposals: parts pass the intake, and a completed
//! stream's block is judged (its signature, then its validity) before the
//! engine hears of it.
//!
//! A stream whose txs are all in (its roots and signature still on the way,
//! the proposer still executing) is executed at once on a blocking thread,
//! once this node holds every tx it names: any it lacks are fetched from
//! the proposer, which offers them meanwhile (ARCHITECTURE decision 50). When
//! the stream completes with the same header, its signature is checked and
//! that execution's roots are compared with the ones it signed. Nothing of
//! an unsigned stream is stored or voted on (its result waits in memory,
//! one block at most); the intake has checked that its publisher is the
//! proposer of its height and round.

use assent_contracts::{AccountId, Block, BlockHash, BlockHeader, BlockOutput};
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::{PeerId, ProposedValue};
use malachitebft_core_types::Validity;

use super::super::compact::{assemble, fill, CompactBlock, Filled};
use super::super::intake::Accepted;
use super::super::streaming::{CompletedStream, OpenedStream};
use super::super::types::{
    Address, AssentContext, BlockId, BlockValue, Height, ProposalPart, PublicKey,
};
use super::{cpu_bound, fatal, height_ledger, now_ms, App};
use crate::gossip::fetch::FetchRequest;
use crate::gossip::{peer_id_of, GossipHandle};
use crate::ledger::chain::{same_roots, set_roots, Executed, InvalidBlock};
use crate::run::NodeError;

/// How long a validator may spend fetching the txs of one proposal.
const FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(1);

/// A received proposal executing while its `Fin` part is on the way.
#[derive(Debug)]
pub(super) struct Early {
    height: Height,
    round: malachitebft_core_types::Round,
    proposer: Address,
    /// The header without roots. A completed stream with this very header
    /// names the same txs (its `txs_root` binds them).
    header: BlockHeader,
    task: tokio::task::JoinHandle<Result<Option<EarlyRun>, NodeError>>,
    /// Dropping it stops a fetch of missing txs still under way; an
    /// execution, once started, always runs to its end.
    cancel: tokio::sync::oneshot::Sender<()>,
}

/// What an early execution did: the block (roots zero) and its encoding,
/// and the verdict on everything but the roots.
#[derive(Debug)]
pub(super) struct EarlyRun {
    block: Block,
    bytes: Vec<u8>,
    verdict: Result<BlockOutput, InvalidBlock>,
}

impl App {
    pub(super) async fn on_part(
        &mut self,
        publisher: PeerId,
        part: StreamMessage<ProposalPart>,
    ) -> Result<Option<ProposedValue<AssentContext>>, NodeError> {
        let done = match self.intake.part(publisher, part) {
            Ok(Some(Accepted::Judge(done))) => *done,
            Ok(Some(Accepted::Execute(opened))) => {
                self.execute_early(*opened);
                return Ok(None);
            }
            Ok(Some(Accepted::Later) | None) => return Ok(None),
            Err(why) => {
                self.shared.metrics.refused_stream(why.code());
                // Equivocation and impostors are worth an operator's eye;
                // stale or malformed streams happen in normal operation.
                match why.code() {
                    "second_value" | "not_its_own" | "not_the_proposer" => {
                        tracing::warn!(target: "assent::consensus", peer = %publisher, %why, "proposal stream refused")
                    }
                    _ => {
                        tracing::debug!(target: "assent::consensus", peer = %publisher, %why, "proposal stream refused")
                    }
                }
                return Ok(None);
            }
        };
        let v = self.judge(done).await?;
        if let Some(v) = &v {
            self.received
                .insert(v.round.as_u32().unwrap_or(0), v.clone());
        }
        Ok(v)
    }

    /// Judges the block of a stream the intake passed for the current
    /// height (publisher, proposer and slot already checked): its signature,
    /// then its validity.
    pub(super) async fn judge(
        &mut self,
        s: CompletedStream,
    ) -> Result<Option<ProposedValue<AssentContext>>, NodeError> {
        let vs = self.validator_set()?;
        let Some(expected) = vs.validators().iter().find(|v| v.address == s.proposer) else {
            return Ok(None);
        };
        let mut compact = match CompactBlock::decode_proposal(&s.block_bytes) {
            Ok(c) => c,
            Err(why) => {
                tracing::warn!(target: "assent::consensus", height = s.height.0, %why, "proposal refused");
                self.shared.metrics.proposal_invalid("undecodable");
                return Ok(None);
            }
        };
        let header = compact.header.clone();
        compact.set_roots(&s.roots);
        let hash = compact.header.hash();
        if self
            .signer
            .verify_block_stream(
                &expected.public_key,
                s.height,
                s.round,
                BlockId::from(hash),
                &s.signature,
            )
            .is_err()
        {
            tracing::warn!(target: "assent::consensus", height = s.height.0, "proposal stream signature does not verify");
            self.shared.metrics.proposal_invalid("bad_signature");
            return Ok(None);
        }
        let early = self.early_for(&s, &header).await?;
        let (block, bytes, early) = match early {
            Some(run) => {
                let (mut block, mut bytes) = (run.block, run.bytes);
                let (results_root, state_root) =
                    (compact.header.results_root, compact.header.state_root);
                set_roots(&mut block, &mut bytes, results_root, state_root);
                (block, bytes, Some(run.verdict))
            }
            None => {
                let Some((block, bytes)) = self
                    .fill(compact, s.height, hash, &expected.public_key)
                    .await
                else {
                    return Ok(None);
                };
                (block, bytes, None)
            }
        };
        // Durable before the engine hears of it: a replayed decision must find it.
        self.shared
            .chain
            .store()
            .save_undecided(height_ledger(s.height), &hash, &bytes, None)
            .map_err(fatal)?;
        let builder_ok = vs
            .validators()
            .iter()
            .any(|v| AccountId::from(v.address) == block.header.proposer);
        let shared = self.shared.clone();
        let known = |t: &assent_contracts::SignedTx| {
            shared.mempool().pending_at(&t.body.sender, t.body.nonce)
        };
        let validity = if !builder_ok {
            tracing::warn!(target: "assent::consensus", height = s.height.0, "block built by a key that is not a validator");
            self.shared.metrics.proposal_invalid("foreign_builder");
            Validity::Invalid
        } else {
            let chain = &self.shared.chain;
            let judged = match early {
                Some(verdict) => verdict.and_then(|output| {
                    let h = &block.header;
                    same_roots((h.results_root, h.state_root), &output)?;
                    Ok(Executed {
                        block,
                        bytes,
                        hash,
                        output,
                    })
                }),
                None => {
                    cpu_bound(|| chain.validate_block(block, bytes, None, &known, Some(now_ms())))
                        .map_err(fatal)?
                }
            };
            match judged {
                Ok(executed) => {
                    self.shared.chain.remember(executed).map_err(fatal)?;
                    Validity::Valid
                }
                Err(why) => {
                    tracing::warn!(target: "assent::consensus", height = s.height.0, %why, "invalid proposal");
                    self.shared.metrics.proposal_invalid("invalid_block");
                    Validity::Invalid
                }
            }
        };
        Ok(Some(ProposedValue {
            height: s.height,
            round: s.round,
            valid_round: s.pol_round,
            proposer: s.proposer,
            value: BlockValue::new(hash),
            validity,
        }))
    }

    /// Starts executing an opened stream's block on a blocking thread, if
    /// it decodes and sends no roots. Txs this node lacks are fetched from
    /// the proposer first (it offers them while it executes the block).
    /// One at a time: a stream opened while another executes is judged
    /// when it completes, as is one whose missing txs could not be had.
    fn execute_early(&mut self, o: OpenedStream) {
        if self.early.is_some() {
            return;
        }
        // One that does not decode is refused, with its reason, when complete.
        let Ok(compact) = CompactBlock::decode_proposal(&o.block_bytes) else {
            return;
        };
        let header = compact.header.clone();
        let (pre, mut txs, missing) = compact.resolve(|id| self.shared.mempool().get(id));
        let shared = self.shared.clone();
        let ask = if missing.is_empty() {
            None
        } else if let (Some(gossip), Some(peer)) =
            (&shared.gossip, peer_id_of(&AccountId::from(o.proposer)))
        {
            Some((gossip.clone(), peer))
        } else {
            shared.metrics.proposal_early("not_started");
            return;
        };
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        // The hash a proposer offers its txs under: its header without roots.
        let request = FetchRequest {
            height: o.height.0,
            hash: header.hash(),
            indices: missing,
        };
        let now = now_ms();
        let task = tokio::spawn(async move {
            let metrics = &shared.metrics;
            if let Some((gossip, peer)) = ask {
                let max_tx_bytes = shared.mempool().limits().max_tx_bytes;
                let deadline = tokio::time::Instant::now() + FETCH_BUDGET;
                let peers = [peer];
                let fetched = tokio::select! {
                    r = fetch_from(&gossip, &peers, &request, &mut txs, max_tx_bytes, deadline) => r,
                    _ = cancelled => return Ok(None),
                };
                if let Err(why) = fetched {
                    tracing::debug!(target: "assent::consensus", height = request.height, %why, "a proposal's missing txs could not be fetched while it executes; judged when complete");
                    metrics.proposal_early("not_started");
                    return Ok(None);
                }
                metrics.proposal_txs("fetched", request.indices.len());
            }
            count_sources(metrics, &txs);
            tokio::task::spawn_blocking(move || {
                let Some((block, bytes)) = assemble(pre, txs) else {
                    return Ok(None);
                };
                let known = |t: &assent_contracts::SignedTx| {
                    shared.mempool().pending_at(&t.body.sender, t.body.nonce)
                };
                let verdict = shared
                    .chain
                    .execute_proposal(&block, bytes.len(), None, &known, Some(now))
                    .map_err(fatal)?;
                Ok(Some(EarlyRun {
                    block,
                    bytes,
                    verdict,
                }))
            })
            .await
            .map_err(fatal)?
        });
        self.early = Some(Early {
            height: o.height,
            round: o.round,
            proposer: o.proposer,
            header,
            task,
            cancel,
        });
    }

    /// The early execution of the completed stream `s`, whose header
    /// without roots is `header`, if one ran. Any other is waited out and
    /// dropped, so that a node never executes two blocks at once.
    async fn early_for(
        &mut self,
        s: &CompletedStream,
        header: &BlockHeader,
    ) -> Result<Option<EarlyRun>, NodeError> {
        let Some(early) = self.early.take() else {
            return Ok(None);
        };
        let same = early.height == s.height
            && early.round == s.round
            && early.proposer == s.proposer
            && early.header == *header;
        if !same {
            drop(early.cancel);
            let _ = early.task.await.map_err(fatal)?;
            self.shared.metrics.proposal_early("dropped");
            return Ok(None);
        }
        // Its fetch, if one is under way, is what judging it whole would do.
        let run = early.task.await.map_err(fatal)??;
        if run.is_some() {
            self.shared.metrics.proposal_early("used");
        }
        Ok(run)
    }

    /// Waits out an early execution this node no longer needs (before it
    /// builds, commits or executes another block).
    pub(super) async fn settle_early(&mut self) -> Result<(), NodeError> {
        if let Some(early) = self.early.take() {
            drop(early.cancel);
            let _ = early.task.await.map_err(fatal)?;
            self.shared.metrics.proposal_early("dropped");
        }
        Ok(())
    }

    /// The block a compact proposal names: its held txs from the mempool,
    /// the ones this node lacks fetched from its proposer or, failing that,
    /// from another validator, each checked against its slot. `None` when
    /// some could not be had within [`FETCH_BUDGET`]: the proposal goes
    /// unjudged, as if it had not arrived.
    async fn fill(
        &self,
        compact: CompactBlock,
        height: Height,
        hash: BlockHash,
        proposer: &PublicKey,
    ) -> Option<(Block, Vec<u8>)> {
        let (header, mut txs, missing) = compact.resolve(|id| self.shared.mempool().get(id));
        let metrics = &self.shared.metrics;
        count_sources(metrics, &txs);
        if !missing.is_empty() {
            match self.fetch(height, hash, &missing, &mut txs, proposer).await {
                Ok(()) => metrics.proposal_txs("fetched", missing.len()),
                Err(why) => {
                    metrics.proposal_txs("unfetched", missing.len());
                    tracing::warn!(target: "assent::consensus", height = height.0, missing = missing.len(), %why, "a proposal's txs could not be fetched; left unjudged");
                    return None;
                }
            }
        }
        assemble(header, txs)
    }

    /// Fetches the `missing` slots of `txs`: the proposer first, then the
    /// other validators (any that judged the block holds it), all within
    /// [`FETCH_BUDGET`].
    async fn fetch(
        &self,
        height: Height,
        hash: BlockHash,
        missing: &[u32],
        txs: &mut [Filled],
        proposer: &PublicKey,
    ) -> Result<(), String> {
        let gossip = self
            .shared
            .gossip
            .as_ref()
            .ok_or("this node has no gossip swarm")?;
        let me = gossip.local_peer_id();
        let first = peer_id_of(&AccountId(*proposer.as_bytes()));
        let mut peers: Vec<_> = first.into_iter().collect();
        for v in self
            .validator_set()
            .map_err(|e| e.to_string())?
            .validators()
        {
            if let Some(p) = peer_id_of(&AccountId::from(v.address)) {
                if p != me && !peers.contains(&p) {
                    peers.push(p);
                }
            }
        }
        let max_tx_bytes = self.shared.mempool().limits().max_tx_bytes;
        let request = FetchRequest {
            height: height.0,
            hash,
            indices: missing.to_vec(),
        };
        let deadline = tokio::time::Instant::now() + FETCH_BUDGET;
        fetch_from(gossip, &peers, &request, txs, max_tx_bytes, deadline).await
    }
}

/// Fills the `request.indices` slots of `txs` from the first of `peers`
/// whose answer fits them, all before `deadline`.
async fn fetch_from(
    gossip: &GossipHandle,
    peers: &[libp2p::PeerId],
    request: &FetchRequest,
    txs: &mut [Filled],
    max_tx_bytes: usize,
    deadline: tokio::time::Instant,
) -> Result<(), String> {
    let mut last = String::from("no validator to ask");
    for &peer in peers {
        let asked = tokio::time::timeout_at(deadline, gossip.fetch(peer, request.clone()));
        let Ok(answer) = asked.await else {
            return Err(format!("out of time ({last})"));
        };
        match answer.map_err(|e| e.to_string()).and_then(|fetched| {
            fill(txs, &request.indices, &fetched, max_tx_bytes).map_err(|e| e.to_string())
        }) {
            Ok(()) => return Ok(()),
            Err(why) => {
                tracing::debug!(target: "assent::consensus", %peer, %why, "fetch of a proposal's txs failed");
                last = format!("{peer}: {why}");
            }
        }
    }
    Err(last)
}

/// Counts a received proposal's txs sent whole in it and found in the pool
/// (`assent_proposal_txs_total`).
fn count_sources(metrics: &crate::metrics::Metrics, txs: &[Filled]) {
    let count = |f: fn(&Filled) -> bool| txs.iter().filter(|t| f(t)).count();
    metrics.proposal_txs("sent", count(|t| matches!(t, Filled::Sent(_))));
    metrics.proposal_txs("pool", count(|t| matches!(t, Filled::Pool(_))));
}
