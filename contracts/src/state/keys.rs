//! Every storage key of the ledger state, built in this one place.
//!
//! A key is an ASCII table prefix ending in `/` followed by fixed-width binary
//! parts, so no table's keys are a prefix of another table's and prefix scans
//! are exact.

use crate::identity::IdentityKind;
use crate::ids::{AccountId, ConsentId, PolicyId, ProposalId, RequestId};

fn key(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let len = prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut k = Vec::with_capacity(len);
    k.extend_from_slice(prefix);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

pub const PARAMS: &[u8] = b"meta/params";
pub const CHAIN_ID: &[u8] = b"meta/chain_id";
pub const MINT_AUTHORITY: &[u8] = b"meta/mint_authority";
pub const SUPPLY: &[u8] = b"meta/supply";
pub const OPERATOR_POOL: &[u8] = b"meta/operator_pool";
pub const OPERATORS: &[u8] = b"meta/operators";
pub const VALIDATORS: &[u8] = b"meta/validators";
/// The advocacy share's terms; absent = no referral is paid.
pub const REFERRAL_TERMS: &[u8] = b"meta/referral_terms";

pub fn account(id: &AccountId) -> Vec<u8> {
    key(b"acct/", &[id.as_bytes()])
}
pub fn consumer(id: &AccountId) -> Vec<u8> {
    key(b"cnsr/", &[id.as_bytes()])
}
pub fn enterprise(id: &AccountId) -> Vec<u8> {
    key(b"entp/", &[id.as_bytes()])
}
pub const ENTERPRISES_PREFIX: &[u8] = b"entp/";
pub fn contact(id: &AccountId) -> Vec<u8> {
    key(b"ctct/", &[id.as_bytes()])
}
/// An identity link: (consumer, enterprise, kind) → its commitment.
pub fn identity_link(consumer: &AccountId, enterprise: &AccountId, kind: IdentityKind) -> Vec<u8> {
    key(
        b"idln/",
        &[consumer.as_bytes(), enterprise.as_bytes(), &[kind.code()]],
    )
}
pub fn identity_links_prefix(consumer: &AccountId) -> Vec<u8> {
    key(b"idln/", &[consumer.as_bytes()])
}
/// The enterprise and kind of an `idln/` key.
pub fn parse_identity_link(key: &[u8]) -> Option<(AccountId, IdentityKind)> {
    let rest = key.strip_prefix(b"idln/".as_slice())?;
    if rest.len() != 65 {
        return None;
    }
    let enterprise: [u8; 32] = rest[32..64].try_into().ok()?;
    Some((AccountId(enterprise), IdentityKind::from_code(rest[64])?))
}
/// Who referred a consumer (set once).
pub fn referral(consumer: &AccountId) -> Vec<u8> {
    key(b"rfrl/", &[consumer.as_bytes()])
}
/// What a consumer earned as a referrer.
pub fn referrer_totals(referrer: &AccountId) -> Vec<u8> {
    key(b"rftl/", &[referrer.as_bytes()])
}
pub fn reputation(id: &AccountId) -> Vec<u8> {
    key(b"repu/", &[id.as_bytes()])
}
pub fn consent(id: &ConsentId) -> Vec<u8> {
    key(b"cnst/", &[id.as_bytes()])
}
pub const CONSENTS_PREFIX: &[u8] = b"cnst/";
/// Index: the consents of a consumer.
pub fn consumer_consent(consumer: &AccountId, consent: &ConsentId) -> Vec<u8> {
    key(b"c2cn/", &[consumer.as_bytes(), consent.as_bytes()])
}
pub fn consumer_consents_prefix(consumer: &AccountId) -> Vec<u8> {
    key(b"c2cn/", &[consumer.as_bytes()])
}
pub fn policy(id: &PolicyId) -> Vec<u8> {
    key(b"plcy/", &[id.as_bytes()])
}
/// Index: the policies of a consumer.
pub fn consumer_policy(consumer: &AccountId, policy: &PolicyId) -> Vec<u8> {
    key(b"c2pl/", &[consumer.as_bytes(), policy.as_bytes()])
}
pub fn consumer_policies_prefix(consumer: &AccountId) -> Vec<u8> {
    key(b"c2pl/", &[consumer.as_bytes()])
}
pub fn request(id: &RequestId) -> Vec<u8> {
    key(b"rqst/", &[id.as_bytes()])
}
pub const REQUESTS_PREFIX: &[u8] = b"rqst/";
pub fn rating(consent: &ConsentId) -> Vec<u8> {
    key(b"rate/", &[consent.as_bytes()])
}
pub fn proposal(id: &ProposalId) -> Vec<u8> {
    key(b"prop/", &[id.as_bytes()])
}
/// What a signing key is to the ledger once it has been rotated in or out
/// (`KeyRole`); an untouched key has no record and signs for itself.
pub fn key_role(signing_key: &AccountId) -> Vec<u8> {
    key(b"keyr/", &[signing_key.as_bytes()])
}
/// The key that signs for an account whose original key was rotated away.
pub fn account_key(account: &AccountId) -> Vec<u8> {
    key(b"akey/", &[account.as_bytes()])
}
/// An account's guardians (social recovery).
pub fn guardians(account: &AccountId) -> Vec<u8> {
    key(b"grdn/", &[account.as_bytes()])
}
/// An account's recovery under way.
pub fn recovery(account: &AccountId) -> Vec<u8> {
    key(b"rcvy/", &[account.as_bytes()])
}

/// The trailing 32-byte id of an index key (`c2cn/`, `c2pl/`).
pub fn trailing_id(key: &[u8]) -> Option<[u8; 32]> {
    let start = key.len().checked_sub(32)?;
    key[start..].try_into().ok()
}
