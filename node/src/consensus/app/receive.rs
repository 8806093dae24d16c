//! The receiving side of proposals: parts pass the intake, and a completed
//! stream's block is judged (its signature, then its validity) before the
//! engine hears of it.

use assent_contracts::{AccountId, Block, BlockHash};
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::{PeerId, ProposedValue};
use malachitebft_core_types::Validity;

use super::super::compact::{assemble, fill, CompactBlock, Filled};
use super::super::intake::Accepted;
use super::super::streaming::CompletedStream;
use super::super::types::{AssentContext, BlockId, BlockValue, Height, ProposalPart, PublicKey};
use super::{cpu_bound, fatal, height_ledger, now_ms, App};
use crate::gossip::fetch::FetchRequest;
use crate::gossip::peer_id_of;
use crate::run::NodeError;

/// How long a validator may spend fetching the txs of one proposal.
const FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(1);

impl App {
    pub(super) async fn on_part(
        &mut self,
        publisher: PeerId,
        part: StreamMessage<ProposalPart>,
    ) -> Result<Option<ProposedValue<AssentContext>>, NodeError> {
        let done = match self.intake.part(publisher, part) {
            Ok(Some(Accepted::Judge(done))) => *done,
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
        let Ok(compact) = CompactBlock::decode(&s.block_bytes) else {
            tracing::warn!(target: "assent::consensus", height = s.height.0, "proposal parts do not decode to a block");
            self.shared.metrics.proposal_invalid("undecodable");
            return Ok(None);
        };
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
        let Some((block, bytes)) = self
            .fill(compact, s.height, hash, &expected.public_key)
            .await
        else {
            return Ok(None);
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
            match cpu_bound(|| chain.validate_block(block, bytes, None, &known, Some(now_ms())))
                .map_err(fatal)?
            {
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
        let count = |f: fn(&Filled) -> bool| txs.iter().filter(|t| f(t)).count();
        metrics.proposal_txs("sent", count(|t| matches!(t, Filled::Sent(_))));
        metrics.proposal_txs("pool", count(|t| matches!(t, Filled::Pool(_))));
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
        let mut last = String::from("no validator to ask");
        for peer in peers {
            let asked = tokio::time::timeout_at(deadline, gossip.fetch(peer, request.clone()));
            let Ok(answer) = asked.await else {
                return Err(format!("out of time ({last})"));
            };
            match answer.map_err(|e| e.to_string()).and_then(|fetched| {
                fill(txs, missing, &fetched, max_tx_bytes).map_err(|e| e.to_string())
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
}
