//! The uses of a random RecordUse: honest ones name a basis of the right
//! consumer with terms inside it (so revocations, pauses, expiry, limits
//! and funds decide them); the rest are arbitrary.

use assent_contracts::tx::*;
use assent_contracts::*;

use super::common::*;
use super::model::*;

/// (consumer, by consent?, basis index, category, purpose, level, units, honest?)
pub type UseSpec = (usize, bool, usize, usize, usize, u8, u32, bool);

/// The uses enterprise `e` records for `specs`, given the model's consents
/// and policies.
pub fn of(w: &World, m: &Model, e: usize, specs: &[UseSpec]) -> Vec<Use> {
    let ent = w.ents[e].account();
    specs
        .iter()
        .map(|&(c, by_consent, k, ci, pi, li, units, honest)| {
            // Honest uses name a basis of the right consumer with terms inside it,
            // so that revocations, pauses, expiry, limits and funds decide them.
            let mine: Vec<&MConsent> = m.consents.iter().filter(|mc| mc.ent == ent).collect();
            let live: Vec<&MPolicy> = m.policies.iter().filter(|p| p.live).collect();
            let level = LEVELS[li as usize];
            if honest && by_consent && !mine.is_empty() {
                let mc = mine[k % mine.len()];
                return Use {
                    consumer: mc.consumer,
                    basis: UseBasis::Consent(mc.id),
                    category: mc.cats[ci % mc.cats.len()].clone(),
                    purpose: mc.purps[pi % mc.purps.len()].clone(),
                    level: level.min(mc.level),
                    units,
                    evidence_hash: Hash32([1; 32]),
                };
            }
            if honest && !by_consent && !live.is_empty() {
                let p = live[k % live.len()];
                return Use {
                    consumer: p.consumer,
                    basis: UseBasis::Policy(p.id),
                    category: p.cats[ci % p.cats.len()].clone(),
                    purpose: p.purps[pi % p.purps.len()].clone(),
                    level: level.min(p.level),
                    units,
                    evidence_hash: Hash32([1; 32]),
                };
            }
            Use {
                consumer: w.consumers[c].account(),
                basis: if by_consent {
                    UseBasis::Consent(if m.consents.is_empty() {
                        ConsentId(Hash32([7; 32]))
                    } else {
                        m.consents[k % m.consents.len()].id
                    })
                } else {
                    UseBasis::Policy(if m.policies.is_empty() {
                        PolicyId(Hash32([7; 32]))
                    } else {
                        m.policies[k % m.policies.len()].id
                    })
                },
                category: cat(CATS[ci]),
                purpose: purp(PURPS[pi]),
                level,
                units,
                evidence_hash: Hash32([1; 32]),
            }
        })
        .collect()
}
