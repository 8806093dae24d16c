//! The receiving side of proposals: parts pass the intake, and a completed
//! stream's block is judged (its signature, then its validity) before the
//! engine hears of it.

use assent_contracts::{AccountId, Block};
use malachitebft_app_channel::app::streaming::StreamMessage;
use malachitebft_app_channel::app::types::{PeerId, ProposedValue};
use malachitebft_core_types::Validity;

use super::super::intake::Accepted;
use super::super::streaming::CompletedStream;
use super::super::types::{AssentContext, BlockId, BlockValue, ProposalPart};
use super::{cpu_bound, fatal, height_ledger, now_ms, App};
use crate::run::NodeError;

impl App {
    pub(super) fn on_part(
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
        let v = self.judge(done)?;
        if let Some(v) = &v {
            self.received
                .insert(v.round.as_u32().unwrap_or(0), v.clone());
        }
        Ok(v)
    }

    /// Judges the block of a stream the intake passed for the current
    /// height (publisher, proposer and slot already checked): its signature,
    /// then its validity.
    pub(super) fn judge(
        &mut self,
        s: CompletedStream,
    ) -> Result<Option<ProposedValue<AssentContext>>, NodeError> {
        let vs = self.validator_set()?;
        let Some(expected) = vs.validators().iter().find(|v| v.address == s.proposer) else {
            return Ok(None);
        };
        let Ok(block) = Block::decode(&s.block_bytes) else {
            tracing::warn!(target: "assent::consensus", height = s.height.0, "proposal parts do not decode to a block");
            self.shared.metrics.proposal_invalid("undecodable");
            return Ok(None);
        };
        let hash = block.header.hash();
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
        // Durable before the engine hears of it: a replayed decision must find it.
        self.shared
            .chain
            .store()
            .save_undecided(height_ledger(s.height), &hash, &s.block_bytes, None)
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
            let bytes = s.block_bytes;
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
}
