//! The README.md at the top of a consumer's export archive: what each file
//! holds, as of which chain and height, and how to check it.

use std::fmt::Write as _;

use super::export::{MAX_EXPORT_BYTES, MAX_EXPORT_RECORDS};
use super::export_files::Export;

pub(crate) fn readme(e: &Export) -> String {
    let a = &e.as_of;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# assent export of {account}

Everything the assent ledger holds about consumer `{account}`, as of
**height {height}** of chain **`{chain}`** (genesis hash `{genesis}`,
block hash `{block}`, state root `{root}`, block time {time} ms since the
Unix epoch). Nothing committed after that block is included; the files
agree with each other and with the ledger at that height.

Contents: {consents} consents ({changes} state changes), {uses} uses of
your data ({settled} settled), {rewards} rewards, {policies} standing
policies, {receipts} receipts.

Conventions: accounts are `assent1…` (bech32m); ids and hashes are 64 hex
characters; amounts are integer points; times are milliseconds since the
Unix epoch (UTC) of the block that holds the tx; heights count blocks from
1. CSV files (RFC 4180) have a header row; lists inside a field are joined
with `;`; an empty field means "none". Each CSV row is one element of the
matching JSON file, with the same values.

## Files

- `consumer.json` — your account: `registered_at` (height) and
  `registration` (its tx), `tags` (your self-declared interests as the ledger
  holds them: `epoch` and salted `commitments`, never the tags themselves —
  `assent consumer my-tags` recovers which tags they are with your key), `balance`
  (points you hold at height {height}), `earned` and `uses_settled` (all-time
  totals from uses of your data, as the ledger counts them),
  `identity_links` (each identifier you linked for an enterprise: `kind`,
  `enterprise`, `commitment`, `linked_at` — the ledger holds only the
  salted commitment, never the identifier), `referred_by` (who referred
  you, when, and what that referral has paid them — out of the operators'
  share, never yours), `referral_earned` and `referred_consumers` (what you
  earned referring others, and how many named you), `as_of` (the chain and
  height above) and `counts` of everything in this archive.
- `consents.json` — every consent you ever granted: the ledger record
  (`id`, `enterprise`, `categories` and `purposes` as DPV terms, `level`,
  `price_per_use`, `max_uses`, `used`, `expires_at`, `request`,
  `granted_height`, `granted_time`, `state`), its `status` at height {height}
  (DPV names: `ConsentGiven`, `ConsentPaused`, `ConsentExpired`,
  `ConsentWithdrawn`; withdrawn wins over expired, expired over paused),
  `enterprise_name`, your `rating` if you rated it, and `history`: every
  state change in order.
- `consents.csv` — one row per consent: `consent_id, enterprise,
  enterprise_name, categories, purposes, level, price_per_use, max_uses
  (empty = no limit), used (units settled under it), expires_at (empty =
  never), request (the access request it answered), granted_height,
  granted_time, status, rating, changes (number of history rows)`.
- `consent_history.csv` — one row per state change: `consent_id, seq (1, 2,
  … per consent), change (granted, paused, resumed, revoked, expired),
  status (DPV status after the change), height, time, tx_id, tx_kind
  (GrantConsent, PauseConsent, ResumeConsent, RevokeConsent, or RevokeAll
  when you revoked everything at once), receipt (its file)`. An `expired`
  row has no tx: it follows from the consent's `expires_at` and block time
  (a consent covers no use in a block whose time is at or after it), so its
  `time` is `expires_at` and `height`/`tx_id` are empty.
- `uses.json`, `uses.csv` — every use of your data an enterprise recorded,
  settled or rejected, oldest first: `use_id, tx_id (the enterprise's
  RecordUse tx), height, time, tx_index (the tx's place in its block), index
  (the use's place in the tx), enterprise, enterprise_name, basis_kind
  (consent or policy), basis_id, category, purpose, level, units,
  evidence_hash (the hash of the enterprise's own evidence; the data itself
  never goes on the chain), settled (true/false), paid (points the
  enterprise paid), to_consumer (your share), to_operators (the operators'
  share), to_referrer and referrer (the part of the operators' share paid to
  whoever referred you; paid = to_consumer + to_operators + to_referrer), code and reason (why a rejected use was refused), receipt`.
- `rewards.json`, `rewards.csv` — every payment to you, oldest first:
  `kind` (`use`: your share of a settled use — one row per settled use,
  also when it was 0; `referral`: your share of a use of the data of a
  consumer you referred, `from` being the enterprise that paid for it —
  which consumer's use it was is theirs and is not in your export;
  `transfer`: points another account sent you; `mint`:
  points the mint authority issued to you), `amount, height, time, tx_id,
  from (the enterprise, sender or mint authority), from_name, use_id`.
  `rewards.json` also has the `total`. Points you sent away are not
  rewards, so `balance` can be lower than the total.
- `policies.json` — your standing policies at height {height} (`policies`:
  `id, target (a sector or one enterprise), categories, purposes, level,
  min_price, set_height`) and `changes`: every policy you set or cleared
  (`change, policy, height, time, tx_id`).
- `receipts/` — self-proving receipts: `consent-<consent id>-<seq>-<change>.json`
  for each consent change made by a tx (the same `seq` and `change` as in
  `consent_history.csv`; a RevokeAll tx gives one per consent it revoked)
  and `use-<use id>.json` for each use. A consent receipt holds the signed
  tx; a use receipt holds only your use of the enterprise's RecordUse — the
  enterprise's signature over the number of uses and their Merkle root,
  your use and its outcome with their Merkle paths, and none of the other
  uses or consumers of the batch. Each also holds the header of the block
  that includes the tx, Merkle proofs that the tx and its result are in
  that block, and the block's commit certificate (more than 2/3 of the
  validators' signatures).

## Verifying

A receipt needs no node and no trust in whoever gave it to you: check it
offline against the chain's genesis file (the validators' keys are in it):

```sh
assent receipt verify receipts/use-<use id>.json --genesis genesis.toml
```

It says in words what the receipt proves (who did what, at which height,
committed by how many validators) or exactly which check failed. The
genesis file must be the one of chain `{chain}` (hash `{genesis}`); a
receipt of another chain is refused.

The export itself is generated by the node you asked; its receipts are what
make it checkable. The records without a receipt (balances, totals,
expiries) can be compared with any other node's API at height {height}.
Enterprise names are as registered when the export was made. An export
holds at most {max_records} consent changes and uses and {max_mib} MiB.
"#,
        account = e.account,
        height = a.height,
        chain = a.chain_id,
        genesis = a.genesis_hash,
        block = a.block_hash,
        root = a.state_root,
        time = a.time,
        consents = e.consents.len(),
        changes = e.consents.iter().map(|c| c.history.len()).sum::<usize>(),
        uses = e.uses.len(),
        settled = e.uses.iter().filter(|u| u.settled).count(),
        rewards = e.rewards.len(),
        policies = e.policies.len(),
        receipts = e.receipts.len(),
        max_records = MAX_EXPORT_RECORDS,
        max_mib = MAX_EXPORT_BYTES / (1024 * 1024),
    );
    s
}
