//! The self-proving history of one consent: the receipt of the grant that
//! created it, then the receipts of later changes (pause, resume,
//! revocation), oldest first.
//!
//! [`ConsentProof::verify`] checks every receipt ([`Receipt::verify`]) and
//! that they tell one consistent story: the first is the applied
//! GrantConsent whose tx id is the consent id, every later one is an applied
//! tx whose events change exactly this consent, in chain order. What it cannot
//! show is that nothing happened *after* the last receipt: a proof is a
//! snapshot of what its issuer knew.

use serde::{Deserialize, Serialize};

use crate::events::Event;
use crate::ids::{AccountId, ConsentId};
use crate::receipt::{Outcome, Proven, Receipt, ReceiptError, Subject, Trust};
use crate::tx::{GrantConsent, Payload};

/// The `version` of every consent proof of this format.
pub const CONSENT_PROOF_VERSION: &str = "assent-consent-proof/1";

/// A consent's grant receipt and receipts of its later changes, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentProof {
    pub version: String,
    pub consent: ConsentId,
    /// The grant first, then changes, oldest first.
    pub receipts: Vec<Receipt>,
}

/// What one receipt did to the consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Granted,
    Paused,
    Resumed,
    Revoked,
}

impl Change {
    /// The consent's status after this change, as the API and receipts name
    /// it: DPV's `ConsentGiven` / `ConsentWithdrawn`, and `ConsentPaused`
    /// (assent's own: DPV has no paused state).
    pub fn status(self) -> &'static str {
        match self {
            Change::Granted | Change::Resumed => "ConsentGiven",
            Change::Paused => "ConsentPaused",
            Change::Revoked => "ConsentWithdrawn",
        }
    }
}

/// One verified step of a consent's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub change: Change,
    pub proven: Proven,
}

/// Everything a valid consent proof shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenConsent {
    pub consent: ConsentId,
    pub consumer: AccountId,
    pub grant: GrantConsent,
    /// The grant, then the changes, in chain order.
    pub steps: Vec<Step>,
}

impl ProvenConsent {
    /// The last proven change.
    pub fn last(&self) -> &Step {
        // `verify` never returns an empty history.
        &self.steps[self.steps.len() - 1]
    }

    /// The consent's status after the last proven change.
    pub fn status(&self) -> &'static str {
        self.last().change.status()
    }

    /// One sentence per step (see [`Proven::describe`]).
    pub fn describe(&self, name: &dyn Fn(&AccountId) -> Option<String>) -> Vec<String> {
        self.steps.iter().map(|s| s.proven.describe(name)).collect()
    }
}

/// Why a consent proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentProofError {
    #[error("not an assent consent proof: version is {0:?}, expected {CONSENT_PROOF_VERSION:?}")]
    Version(String),
    #[error("the consent proof holds no receipt")]
    Empty,
    #[error("receipt #{index} of the consent proof: {error}")]
    Receipt { index: usize, error: ReceiptError },
    #[error("receipt #0 is not the grant of consent {consent}: {why}")]
    NotTheGrant { consent: ConsentId, why: String },
    #[error("receipt #{index} does not change consent {consent}: {why}")]
    NotAChange {
        index: usize,
        consent: ConsentId,
        why: String,
    },
    #[error("receipt #{index} is not later in the chain than the receipt before it")]
    OutOfOrder { index: usize },
}

impl ConsentProof {
    /// Checks every receipt against the chain and that together they are the
    /// history of `self.consent`.
    pub fn verify(&self, trust: &Trust<'_>) -> Result<ProvenConsent, ConsentProofError> {
        if self.version != CONSENT_PROOF_VERSION {
            return Err(ConsentProofError::Version(self.version.clone()));
        }
        let consent = self.consent;
        let mut proven = Vec::with_capacity(self.receipts.len());
        for (index, r) in self.receipts.iter().enumerate() {
            let p = r
                .verify(trust)
                .map_err(|error| ConsentProofError::Receipt { index, error })?;
            proven.push(p);
        }
        let mut it = proven.into_iter();
        let first = it.next().ok_or(ConsentProofError::Empty)?;
        let not_grant = |why: String| ConsentProofError::NotTheGrant { consent, why };
        let grant = match (&first.subject, first.tx().map(|t| &t.body.payload)) {
            (Subject::Tx, Some(Payload::GrantConsent(g))) => g.clone(),
            _ => return Err(not_grant(format!("it is a {} receipt", first.tx_kind()))),
        };
        if first.tx_id.0 != consent.0 {
            return Err(not_grant(format!("it creates consent {}", first.tx_id)));
        }
        // The consumer as the ledger recorded it: the account the signing
        // key acted for (a key rotated in signs for an older account id).
        let consumer = match &first.outcome {
            Outcome::Rejected { code, .. } => {
                return Err(not_grant(format!("the grant was rejected ({code})")))
            }
            Outcome::Applied(events) => events
                .iter()
                .find_map(|e| match e {
                    Event::ConsentGranted {
                        consent: c,
                        consumer,
                        ..
                    } if *c == consent => Some(*consumer),
                    _ => None,
                })
                .ok_or_else(|| not_grant("it has no ConsentGranted event for it".into()))?,
        };
        let mut steps = vec![Step {
            change: Change::Granted,
            proven: first,
        }];
        for (i, p) in it.enumerate() {
            let index = i + 1;
            let why = |why: String| ConsentProofError::NotAChange {
                index,
                consent,
                why,
            };
            let events = match (&p.subject, &p.outcome) {
                (Subject::Tx, Outcome::Applied(events)) => events,
                (Subject::Use { .. }, _) => return Err(why("it is a use receipt".into())),
                (_, Outcome::Rejected { code, .. }) => {
                    return Err(why(format!("the tx was rejected ({code})")))
                }
            };
            let change = events.iter().find_map(|e| match e {
                Event::ConsentPaused {
                    consent: c,
                    consumer: u,
                    ..
                } if *c == consent && *u == consumer => Some(Change::Paused),
                Event::ConsentResumed {
                    consent: c,
                    consumer: u,
                    ..
                } if *c == consent && *u == consumer => Some(Change::Resumed),
                Event::ConsentRevoked {
                    consent: c,
                    consumer: u,
                    ..
                } if *c == consent && *u == consumer => Some(Change::Revoked),
                _ => None,
            });
            let Some(change) = change else {
                return Err(why(format!(
                    "its {} tx has no pause, resume or revocation event for it",
                    p.tx_kind()
                )));
            };
            let prev = &steps[steps.len() - 1].proven;
            if (p.height, p.tx_index) <= (prev.height, prev.tx_index) {
                return Err(ConsentProofError::OutOfOrder { index });
            }
            steps.push(Step { change, proven: p });
        }
        Ok(ProvenConsent {
            consent,
            consumer,
            grant,
            steps,
        })
    }
}
