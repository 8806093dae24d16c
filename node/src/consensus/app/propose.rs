//! The proposing side: pace, reap, and stream this node's block. The txs go
//! out before the block is executed and its roots follow in the `Fin`
//! part, so validators execute while the proposer does (ARCHITECTURE
//! decision 50).

use assent_contracts::{Block, BlockHash};
use malachitebft_app_channel::app::types::LocallyProposedValue;
use malachitebft_app_channel::NetworkMsg;
use malachitebft_core_types::Round;
use std::time::Duration;

use super::super::compact::CompactBlock;
use super::super::streaming::{opening_parts, stream_id, Opening, Outgoing};
use super::super::types::{AssentContext, BlockId, BlockValue, Height, ProposalPart, Roots};
use super::{cpu_bound, fatal, height_ledger, now_ms, App, PACING_STEP, PART_SIZE};
use crate::ledger::budget::{pacing_wait, Load};
use crate::run::NodeError;

type Network = tokio::sync::mpsc::Sender<NetworkMsg<AssentContext>>;

impl App {
    /// Builds (or, after a restart, re-proposes) our block for (height, round).
    pub(super) async fn propose(
        &mut self,
        height: Height,
        round: Round,
        timeout: Duration,
        network: &Network,
    ) -> Result<LocallyProposedValue<AssentContext>, NodeError> {
        let r = round.as_u32().unwrap_or(0);
        let store = self.shared.chain.store().clone();
        if let Some(hash) = store
            .own_proposal(height_ledger(height), r)
            .map_err(fatal)?
        {
            if let Some(bytes) = store
                .undecided(height_ledger(height), &hash)
                .map_err(fatal)?
            {
                self.restream(height, round, Round::Nil, hash, &bytes, network)
                    .await?;
                return Ok(LocallyProposedValue::new(
                    height,
                    round,
                    BlockValue::new(hash),
                ));
            }
        }
        let params = {
            use assent_contracts::state::StateExt;
            self.shared.chain.store().params().map_err(fatal)?
        };
        let timing = &self.shared.config.timing;
        let max_txs = (params.max_block_txs as usize).min(timing.max_block_txs);
        // Every block is paced, not only empty ones: a height costs each
        // validator a fixed amount of CPU, so a loaded network should run
        // fewer, larger heights (ARCHITECTURE decision 16).
        let interval = timing.block_interval.min(timeout / 2);
        let full = Load {
            txs: max_txs,
            work: self.shared.chain.work_within(interval),
        };
        loop {
            let pending = {
                let pool = self.shared.mempool();
                Load {
                    txs: pool.len(),
                    work: pool.work(),
                }
            };
            let wait = pacing_wait(self.last_commit.elapsed(), interval, pending, full);
            if wait.is_zero() {
                break;
            }
            tokio::time::sleep(wait.min(PACING_STEP)).await;
        }
        let txs = {
            let store = self.shared.chain.store();
            self.shared.mempool().reap(
                store,
                crate::mempool::ReapLimits {
                    max_txs,
                    max_bytes: params.max_block_bytes as usize,
                    max_work: self.shared.chain.work_within(timing.block_budget),
                },
            )
        };
        let shared = self.shared.clone();
        let chain = &shared.chain;
        let prepared = chain
            .prepare_block(txs, shared.validator_key, now_ms())
            .map_err(fatal)?;
        // The txs go out first: validators hold them (gossip brought them),
        // so the proposal names them, and they execute while we do. One
        // that lacks some fetches them from us meanwhile.
        chain.offer(&prepared).map_err(fatal)?;
        let compact = CompactBlock::named(prepared.header.clone(), &prepared.txs).encode();
        let opening = Opening {
            height,
            round,
            pol_round: Round::Nil,
            proposer: self.address,
        };
        let out = self.open_stream(&opening, &compact, network).await;
        let executed = cpu_bound(|| chain.execute_prepared(prepared)).map_err(fatal)?;
        let hash = executed.hash;
        // Persist before we sign.
        store
            .save_undecided(height_ledger(height), &hash, &executed.bytes, Some(r))
            .map_err(fatal)?;
        let roots = Roots {
            results_root: executed.output.results_root.0,
            state_root: executed.output.state_root.0,
        };
        chain.remember(executed).map_err(fatal)?;
        if let Some(out) = out {
            self.close_stream(out, height, round, hash, roots, network)
                .await;
        }
        Ok(LocallyProposedValue::new(
            height,
            round,
            BlockValue::new(hash),
        ))
    }

    /// Streams a block this node stored (`bytes`, with every tx whole: the
    /// txs' ids are not at hand) once more, signed by us.
    pub(super) async fn restream(
        &mut self,
        height: Height,
        round: Round,
        pol_round: Round,
        hash: BlockHash,
        bytes: &[u8],
        network: &Network,
    ) -> Result<(), NodeError> {
        let block = Block::decode(bytes).map_err(fatal)?;
        let (compact, roots) = CompactBlock::whole(block).without_roots();
        let opening = Opening {
            height,
            round,
            pol_round,
            proposer: self.address,
        };
        if let Some(out) = self.open_stream(&opening, &compact.encode(), network).await {
            self.close_stream(out, height, round, hash, roots, network)
                .await;
        }
        Ok(())
    }

    /// Starts a stream of our proposal: its `Init` part and `bytes` (a
    /// [`CompactBlock`] without its roots) in `Data` parts. `None` if the
    /// network is gone.
    async fn open_stream(
        &mut self,
        opening: &Opening,
        bytes: &[u8],
        network: &Network,
    ) -> Option<Outgoing> {
        self.stream_seq = self.stream_seq.wrapping_add(1);
        let mut out = Outgoing::new(stream_id(opening.height, opening.round, self.stream_seq));
        for part in opening_parts(opening, bytes, PART_SIZE) {
            if !publish(network, out.part(part)).await {
                return None;
            }
        }
        Some(out)
    }

    /// Ends a stream: the `Fin` part with the block's roots and our
    /// signature over its hash, then the end marker.
    async fn close_stream(
        &self,
        mut out: Outgoing,
        height: Height,
        round: Round,
        hash: BlockHash,
        roots: Roots,
        network: &Network,
    ) {
        let signature = self
            .signer
            .sign_block_stream(height, round, BlockId::from(hash));
        if publish(network, out.part(ProposalPart::Fin { roots, signature })).await {
            publish(network, out.end()).await;
        }
    }
}

/// Hands one message to the network actor; false if it is gone.
async fn publish(
    network: &Network,
    msg: malachitebft_app_channel::app::streaming::StreamMessage<ProposalPart>,
) -> bool {
    let sent = network.send(NetworkMsg::PublishProposalPart(msg)).await;
    if sent.is_err() {
        tracing::warn!(target: "assent::consensus", "network actor gone; cannot publish proposal parts");
    }
    sent.is_ok()
}
