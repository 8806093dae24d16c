//! What a valid receipt proves, and the sentence that says it.

use std::fmt::Write as _;

use crate::commit::CommitCheck;
use crate::events::Event;
use crate::ids::{AccountId, BlockHash, Height, Timestamp, TxId};
use crate::tx::{Payload, SignedTx, Use};

use super::Subject;

/// What the tx did, as its result's events show. In a use receipt the
/// events are the one use's (its `UseSettled` or `UseRejected`, and any
/// `ReferralPaid`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied(Vec<Event>),
    Rejected { code: String, reason: String },
}

/// What the receipt carries of the tx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The whole signed tx.
    Tx(SignedTx),
    /// One use of a RecordUse of `count` uses (the others are not in it).
    Use { data: Use, count: u64 },
}

/// Everything a valid receipt proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    pub chain_id: String,
    pub height: Height,
    pub time: Timestamp,
    pub block_hash: BlockHash,
    pub tx_id: TxId,
    /// Position of the tx in its block.
    pub tx_index: u32,
    /// The key that signed the tx (of a use receipt: the enterprise's).
    pub signer: AccountId,
    pub item: Item,
    pub subject: Subject,
    pub outcome: Outcome,
    pub commit: CommitCheck,
}

impl Proven {
    /// The signed tx, if the receipt carries all of it (a tx receipt).
    pub fn tx(&self) -> Option<&SignedTx> {
        match &self.item {
            Item::Tx(t) => Some(t),
            Item::Use { .. } => None,
        }
    }

    /// The kind of the tx (a use receipt's is always `RecordUse`).
    pub fn tx_kind(&self) -> &'static str {
        match &self.item {
            Item::Tx(t) => t.body.payload.kind(),
            Item::Use { .. } => "RecordUse",
        }
    }

    /// The event of use `index` (settled or rejected), if the tx was applied.
    pub fn use_event(&self, index: u32) -> Option<&Event> {
        let Outcome::Applied(events) = &self.outcome else {
            return None;
        };
        events.iter().find(|e| {
            matches!(e, Event::UseSettled { index: i, .. } | Event::UseRejected { index: i, .. } if *i == index)
        })
    }

    /// The advocacy share paid for use `index` (decision 29), if any.
    pub fn referral_event(&self, index: u32) -> Option<&Event> {
        let Outcome::Applied(events) = &self.outcome else {
            return None;
        };
        events
            .iter()
            .find(|e| matches!(e, Event::ReferralPaid { index: i, .. } if *i == index))
    }

    /// One sentence saying what the receipt proves. `name` gives a display
    /// name for an account (e.g. from the genesis or a keystore) or `None`.
    pub fn describe(&self, name: &dyn Fn(&AccountId) -> Option<String>) -> String {
        let who = |a: &AccountId| match name(a) {
            Some(n) => format!("{n} ({a})"),
            None => a.to_string(),
        };
        let sender = who(&self.signer);
        let mut s = String::new();
        let events: &[Event] = match &self.outcome {
            Outcome::Applied(ev) => ev,
            Outcome::Rejected { code, reason } => {
                let _ = write!(
                    s,
                    "{sender}'s {} tx {} was included at height {} but REJECTED ({code}: {reason})",
                    self.tx_kind(),
                    self.tx_id,
                    self.height
                );
                return self.finish(s);
            }
        };
        let payload = match &self.item {
            Item::Tx(t) => Some(&t.body.payload),
            Item::Use { .. } => None,
        };
        match (&self.subject, payload) {
            (Subject::Use { index }, _) => match self.use_event(*index) {
                Some(Event::UseSettled {
                    consumer,
                    enterprise,
                    category,
                    purpose,
                    units,
                    paid,
                    to_consumer,
                    ..
                }) => {
                    let referral = match self.referral_event(*index) {
                        Some(Event::ReferralPaid {
                            referrer, amount, ..
                        }) => format!(
                            ", {} to the consumer's referrer {} out of the operators' share",
                            amount.0,
                            who(referrer)
                        ),
                        _ => String::new(),
                    };
                    let _ = write!(
                        s,
                        "{} used {}'s {category} data for {purpose} ({units} unit(s)), settled: paid {} points, {} to the consumer{referral}, at height {}",
                        who(enterprise),
                        who(consumer),
                        paid.0,
                        to_consumer.0,
                        self.height
                    );
                }
                Some(Event::UseRejected {
                    consumer,
                    enterprise,
                    code,
                    reason,
                    ..
                }) => {
                    let _ = write!(
                        s,
                        "{} recorded a use of {}'s data that was REJECTED ({}: {reason}) at height {}",
                        who(enterprise),
                        who(consumer),
                        code.as_str(),
                        self.height
                    );
                }
                _ => {
                    let _ = write!(
                        s,
                        "use #{index} of tx {} has no result at height {}",
                        self.tx_id, self.height
                    );
                }
            },
            (Subject::Tx, Some(Payload::GrantConsent(g))) => {
                let join = |v: Vec<String>| v.join(", ");
                let _ = write!(
                    s,
                    "{sender} granted {} {} on {} data at level {} for {} points per use (consent {}) at height {}",
                    who(&g.enterprise),
                    join(g.purposes.iter().map(|p| p.to_string()).collect()),
                    join(g.categories.iter().map(|c| c.to_string()).collect()),
                    g.level,
                    g.price_per_use.0,
                    self.tx_id,
                    self.height
                );
            }
            (Subject::Tx, _) => {
                let mut parts: Vec<String> = Vec::new();
                for e in events {
                    let (verb, consent, enterprise) = match e {
                        Event::ConsentRevoked {
                            consent,
                            enterprise,
                            ..
                        } => ("revoked", consent, enterprise),
                        Event::ConsentPaused {
                            consent,
                            enterprise,
                            ..
                        } => ("paused", consent, enterprise),
                        Event::ConsentResumed {
                            consent,
                            enterprise,
                            ..
                        } => ("resumed", consent, enterprise),
                        _ => continue,
                    };
                    parts.push(format!("{verb} consent {consent} to {}", who(enterprise)));
                }
                if parts.is_empty() {
                    let _ = write!(
                        s,
                        "{sender}'s {} tx {} was applied at height {}",
                        self.tx_kind(),
                        self.tx_id,
                        self.height
                    );
                } else {
                    let _ = write!(s, "{sender} {} at height {}", parts.join("; "), self.height);
                }
            }
        }
        self.finish(s)
    }

    fn finish(&self, mut s: String) -> String {
        let _ = write!(
            s,
            ", committed by {} of {} validators",
            self.commit.signers, self.commit.validators
        );
        s
    }
}
