//! Every key the node writes to sled, built in this one place.
//!
//! sled holds small things only: the genesis hash, the state checkpoint
//! (`s/` records as of [`STATE_CHECKPOINT`]'s height, written by the
//! persister in merged batches), the list of the query indexes' sorted runs
//! (`ir/`, cursor [`INDEXED`]; the runs are files, see `runs.rs`) and the
//! consensus scratch (`p/`, `v/`). The index keys below (`t/`, `u/`, `w/`,
//! `h/`) are keys inside those runs. Blocks,
//! certificates and results live in the block journal, not here. Each table
//! is a one- or two-letter prefix ending in `/`, so no table's keys are a
//! prefix of another's.

use assent_contracts::{AccountId, BlockHash, Height, TxId, UseId};

pub const GENESIS: &[u8] = b"m/genesis";
/// Height and state root of the state the `s/` table holds.
pub const STATE_CHECKPOINT: &[u8] = b"m/state";
/// Highest height whose index entries are all written.
pub const INDEXED: &[u8] = b"m/indexed";
/// The head record of stores written before the block journal existed.
pub const LEGACY_HEAD: &[u8] = b"m/head";
/// The height of the snapshot a store was synced from: it holds no block
/// below it.
pub const SYNCED_FROM: &[u8] = b"m/synced_from";
/// The index layout a store's indexes are in ([`INDEX_FORMAT_RUNS`]);
/// absent in stores whose indexes were sled keys.
pub const INDEX_FORMAT: &[u8] = b"m/index_format";
/// Runs whose `u/` and `h/` entries point into the journaled results by
/// their key (`runs-1` copied each event into the value).
pub const INDEX_FORMAT_RUNS: &[u8] = b"runs-2";
/// `ir/<run id BE>` → a live index run's level and entry count.
pub const INDEX_RUNS: &[u8] = b"ir/";
/// The tables of the indexes as sled keys, before runs.
pub const LEGACY_INDEX_TABLES: [&[u8]; 4] = [b"t/", b"u/", b"w/", b"h/"];
/// `sr/<run id BE>` → a live state run's level and entry count.
pub const STATE_RUNS: &[u8] = b"sr/";
/// The layout of a store's persisted state ([`STATE_FORMAT_RUNS`]); absent
/// in stores whose state records were sled keys (`s/`).
pub const STATE_FORMAT: &[u8] = b"m/state_format";
pub const STATE_FORMAT_RUNS: &[u8] = b"runs-1";
/// The state records as sled keys, before runs (read once to convert).
pub const STATE: &[u8] = b"s/";

pub fn tx(id: &TxId) -> Vec<u8> {
    [b"t/".as_slice(), id.as_bytes()].concat()
}
/// Uses of a consumer's data, ordered by (height, tx index, use index).
pub fn consumer_use(consumer: &AccountId, h: Height, tx: u32, index: u32) -> Vec<u8> {
    [
        b"u/".as_slice(),
        consumer.as_bytes(),
        &h.0.to_be_bytes(),
        &tx.to_be_bytes(),
        &index.to_be_bytes(),
    ]
    .concat()
}
pub fn consumer_uses_prefix(consumer: &AccountId) -> Vec<u8> {
    [b"u/".as_slice(), consumer.as_bytes()].concat()
}
pub fn use_location(id: &UseId) -> Vec<u8> {
    [b"w/".as_slice(), id.as_bytes()].concat()
}
/// What happened to an account, ordered by (height, tx index, event number
/// in the tx): see [`history_accounts`](super::records::history_accounts).
pub fn account_event(account: &AccountId, h: Height, tx: u32, n: u32) -> Vec<u8> {
    [
        b"h/".as_slice(),
        account.as_bytes(),
        &h.0.to_be_bytes(),
        &tx.to_be_bytes(),
        &n.to_be_bytes(),
    ]
    .concat()
}
/// The (height, tx index, use index or event number) a `u/` or `h/` key ends with.
pub fn position(key: &[u8]) -> Option<(Height, u32, u32)> {
    let tail = key.len().checked_sub(16).and_then(|at| key.get(at..))?;
    let (h, rest) = tail.split_at(8);
    let (tx, n) = rest.split_at(4);
    Some((
        Height(u64::from_be_bytes(h.try_into().ok()?)),
        u32::from_be_bytes(tx.try_into().ok()?),
        u32::from_be_bytes(n.try_into().ok()?),
    ))
}
pub fn account_events_prefix(account: &AccountId) -> Vec<u8> {
    [b"h/".as_slice(), account.as_bytes()].concat()
}
/// A block this node proposed at (height, round): re-proposed unchanged after a restart.
pub fn own_proposal(h: Height, round: u32) -> Vec<u8> {
    [b"p/".as_slice(), &h.0.to_be_bytes(), &round.to_be_bytes()].concat()
}
pub const OWN_PROPOSALS: &[u8] = b"p/";
/// A proposed block (ours or received), by hash, kept until it is decided or pruned.
pub fn undecided(h: Height, hash: &BlockHash) -> Vec<u8> {
    [b"v/".as_slice(), &h.0.to_be_bytes(), hash.as_bytes()].concat()
}
pub const UNDECIDED: &[u8] = b"v/";
/// The state proof of the validator set after each height that changed it
/// (what a node syncing from a snapshot follows from the genesis set).
pub fn validator_set_proof(h: Height) -> Vec<u8> {
    [VALIDATOR_SET_PROOFS, &h.0.to_be_bytes()].concat()
}
pub const VALIDATOR_SET_PROOFS: &[u8] = b"vs/";

/// The first key after every key that starts with `prefix` (prefixes end in
/// an ASCII `/` or a fixed-width id, so the last byte is below 0xff or the
/// prefix is extended).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // A prefix of only 0xff bytes: everything after it.
    vec![0xff; prefix.len() + 1]
}

/// `prefix ‖ height BE`: the start of a per-height range.
pub fn at_height(prefix: &[u8], h: u64) -> Vec<u8> {
    [prefix, &h.to_be_bytes()].concat()
}
