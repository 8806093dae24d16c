//! Misbehaviour the engine proved: pairs of conflicting signed votes or
//! proposals by one validator for one height and round, reported with each
//! `Finalized`. A validator that signs both is Byzantine, and its operators
//! must hear of it: each pair is counted and logged.

use assent_contracts::Height;
use malachitebft_app_channel::app::types::MisbehaviorEvidence;

use super::types::AssentContext;
use crate::metrics::Metrics;

/// Counts and logs the equivocations the engine saw up to `height`'s
/// finalization (`assent_consensus_equivocation_evidence_total{kind}`).
pub fn report(metrics: &Metrics, height: Height, evidence: &MisbehaviorEvidence<AssentContext>) {
    for (kind, validator, pairs) in evidence
        .votes
        .iter()
        .map(|(a, pairs)| ("vote", a, pairs.len()))
        .chain(
            evidence
                .proposals
                .iter()
                .map(|(a, p)| ("proposal", a, p.len())),
        )
    {
        metrics.equivocation(kind, pairs);
        tracing::warn!(target: "assent::consensus", height = height.0, validator = %validator, pairs, kind, "a validator signed conflicting {kind}s for one height and round");
    }
}
