//! The records the node stores besides ledger state: the chain head, block
//! results, journal entries, the state checkpoint and index records.

use assent_contracts::commit::CommitCertificate;
use assent_contracts::tx::TxResult;
use assent_contracts::{AccountId, BlockHash, BlockHeader, Event, Hash32, Height, Timestamp, TxId};
use serde::{Deserialize, Serialize};

/// The tip of the committed chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub height: Height,
    /// Hash of the block at `height` (the genesis hash at height 0).
    pub block_hash: BlockHash,
    pub state_root: Hash32,
    pub time: Timestamp,
}

impl Head {
    pub fn of(header: &BlockHeader) -> Head {
        Head {
            height: header.height,
            block_hash: header.hash(),
            state_root: header.state_root,
            time: header.time,
        }
    }
}

/// Which state the `s/` table of sled holds: the state after `height`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub height: Height,
    pub state_root: Hash32,
}

/// Where a committed tx is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxLocation {
    pub height: Height,
    pub index: u32,
}

/// Per-tx results and end-of-block events of a committed block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockResults {
    pub results: Vec<TxResult>,
    pub end_events: Vec<Event>,
}

/// One committed block as the journal keeps it: the block's bytes exactly
/// as proposed (they hash to the header the validators signed), the commit
/// certificate it was decided with, and its results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEntry {
    pub block: Vec<u8>,
    pub certificate: CommitCertificate,
    pub results: BlockResults,
}

/// One use of a consumer's data, as indexed for the consumer (`u/`),
/// resolved against the block's results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseRecord {
    pub height: Height,
    /// Block time.
    pub time: Timestamp,
    pub tx_id: TxId,
    pub tx_index: u32,
    pub event: Event,
}

/// One event of a committed tx in an account's history (`h/` index),
/// resolved against the block's results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub height: Height,
    /// Block time.
    pub time: Timestamp,
    pub tx_id: TxId,
    pub tx_index: u32,
    /// The tx's kind, e.g. `RevokeAll` (`Payload::kind`).
    pub tx_kind: String,
    pub event: Event,
}

/// The accounts whose history (`h/` index) records `e`: the consumer of a
/// registration, tag, consent, policy or rating event, and both sides of
/// points moved by Transfer or Mint, both sides of an identity link or
/// unlink; an account's key rotations and recoveries (and a guardian's
/// support). Uses have their own index (`u/`).
pub fn history_accounts(e: &Event) -> Vec<AccountId> {
    match e {
        Event::ConsumerRegistered { consumer }
        | Event::TagsSet { consumer, .. }
        | Event::ConsentGranted { consumer, .. }
        | Event::ConsentRevoked { consumer, .. }
        | Event::ConsentPaused { consumer, .. }
        | Event::ConsentResumed { consumer, .. }
        | Event::PolicySet { consumer, .. }
        | Event::PolicyCleared { consumer, .. }
        | Event::Rated { consumer, .. } => vec![*consumer],
        Event::Transferred { from, to, .. } if from == to => vec![*from],
        Event::Transferred { from, to, .. } => vec![*from, *to],
        Event::Minted { to, .. } => vec![*to],
        // Both sides: the enterprise learns from its history that a link it
        // matched was removed (the event carries no identifier).
        Event::IdentityLinked {
            consumer,
            enterprise,
            ..
        }
        | Event::IdentityUnlinked {
            consumer,
            enterprise,
            ..
        } => vec![*consumer, *enterprise],
        // Both sides of a referral: the referrer earns from it, and the
        // referred consumer sees who took which share of their use.
        Event::ReferrerNamed { consumer, referrer }
        | Event::ReferralPaid {
            consumer, referrer, ..
        } => vec![*consumer, *referrer],
        // An account's keys and recoveries are in its own history; a
        // guardian's support is in the guardian's too.
        Event::KeyRotated { account, .. }
        | Event::GuardiansSet { account, .. }
        | Event::RecoveryArmed { account, .. }
        | Event::RecoveryCancelled { account, .. }
        | Event::KeyRecovered { account, .. } => vec![*account],
        Event::RecoverySupported {
            account, guardian, ..
        } => vec![*account, *guardian],
        _ => Vec::new(),
    }
}
