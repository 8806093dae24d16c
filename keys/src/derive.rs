//! What a consumer's client derives from a secret it holds, with HKDF-SHA256
//! (RFC 5869; the `hkdf` crate already in the tree through libp2p).
//!
//! - **Tag salts and padding** (decision 33): the salt of each interest-tag
//!   commitment, and the padding commitments that fill a set to
//!   [`MAX_TAGS`], from the key that signs for the consumer's account. The
//!   client recomputes them to find its own tags on the chain; nobody else
//!   can.
//! - **Pairwise keys** (decision 35): one ed25519 seed per (chain,
//!   enterprise) from one master secret, so a person shows each enterprise
//!   a different account and recovers them all from one backup.
//!
//! Every derivation uses its own HKDF salt (a domain tag) and an info string
//! of length-prefixed parts, so no two derivations can produce the same
//! bytes from different inputs. Changing any of this orphans what was
//! derived before: the outputs are pinned by the tests below.

use std::collections::BTreeSet;

use assent_contracts::crypto::Keypair;
use assent_contracts::tags::{self, TagCommitments};
use assent_contracts::terms::Tag;
use assent_contracts::tx::MAX_TAGS;
use assent_contracts::{AccountId, Hash32, TagCommitment, TagSalt};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

const TAG_SALT_DOMAIN: &[u8] = b"assent/tag-salt/v1";
const TAG_PAD_DOMAIN: &[u8] = b"assent/tag-padding/v1";
const PAIRWISE_DOMAIN: &[u8] = b"assent/pairwise-account/v1";

/// 32 bytes of HKDF-SHA256(ikm = `secret`, salt = `domain`, info = the
/// length-prefixed `parts`).
fn hkdf32(secret: &[u8; 32], domain: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut info = Vec::new();
    for p in parts {
        info.extend_from_slice(&(p.len() as u64).to_le_bytes());
        info.extend_from_slice(p);
    }
    let seed = Zeroizing::new(*secret);
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit of 8160: expand cannot fail.
    if Hkdf::<Sha256>::new(Some(domain), seed.as_ref())
        .expand(&info, out.as_mut())
        .is_err()
    {
        unreachable!("HKDF-SHA256 expands 32 bytes");
    }
    out
}

/// The salt of `tag`'s commitment for `consumer` (whose signing key is
/// `key`) in the set of round `epoch` on `chain_id`.
pub fn tag_salt(
    key: &Keypair,
    chain_id: &str,
    consumer: &AccountId,
    epoch: u64,
    tag: &Tag,
) -> TagSalt {
    let s = hkdf32(
        &key.seed(),
        TAG_SALT_DOMAIN,
        &[
            chain_id.as_bytes(),
            consumer.as_bytes(),
            &epoch.to_le_bytes(),
            tag.0.as_bytes(),
        ],
    );
    TagSalt(Hash32(*s))
}

/// The commitment to `tag` as the client makes it.
pub fn tag_commitment(
    key: &Keypair,
    chain_id: &str,
    consumer: &AccountId,
    epoch: u64,
    tag: &Tag,
) -> TagCommitment {
    let salt = tag_salt(key, chain_id, consumer, epoch, tag);
    tags::commitment(chain_id, consumer, tag, &salt)
}

/// The `i`-th padding commitment of a set: 32 bytes no one without the key
/// can tell from a real commitment.
fn padding(
    key: &Keypair,
    chain_id: &str,
    consumer: &AccountId,
    epoch: u64,
    i: u64,
) -> TagCommitment {
    let s = hkdf32(
        &key.seed(),
        TAG_PAD_DOMAIN,
        &[
            chain_id.as_bytes(),
            consumer.as_bytes(),
            &epoch.to_le_bytes(),
            &i.to_le_bytes(),
        ],
    );
    TagCommitment(Hash32(*s))
}

/// The set a client declares for `tags`: their commitments plus padding up
/// to [`MAX_TAGS`], sorted. Repeated tags count once.
pub fn tag_set(
    key: &Keypair,
    chain_id: &str,
    consumer: &AccountId,
    epoch: u64,
    tags: &[Tag],
) -> Result<TagCommitments, String> {
    let distinct: BTreeSet<&Tag> = tags.iter().collect();
    if distinct.len() > MAX_TAGS {
        return Err(format!(
            "{} tags given; at most {MAX_TAGS} are allowed",
            distinct.len()
        ));
    }
    let mut commitments: Vec<TagCommitment> = distinct
        .iter()
        .map(|t| tag_commitment(key, chain_id, consumer, epoch, t))
        .collect();
    let pad = (MAX_TAGS - distinct.len()) as u64;
    commitments.extend((0..pad).map(|i| padding(key, chain_id, consumer, epoch, i)));
    commitments.sort();
    Ok(TagCommitments { epoch, commitments })
}

/// What a client makes of a set on the chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The candidates the set commits to, sorted.
    pub tags: Vec<Tag>,
    /// Commitments that are this key's padding.
    pub padding: usize,
    /// Commitments that are neither: a tag outside the candidates, or a set
    /// made with another key (before a rotation).
    pub unknown: usize,
}

/// Which of `candidates` the set `on_chain` of `consumer` commits to.
pub fn recover_tags<'a>(
    key: &Keypair,
    chain_id: &str,
    consumer: &AccountId,
    on_chain: &TagCommitments,
    candidates: impl IntoIterator<Item = &'a Tag>,
) -> Recovered {
    let epoch = on_chain.epoch;
    let mut out = Recovered::default();
    let candidates: BTreeSet<&Tag> = candidates.into_iter().collect();
    for t in candidates {
        if on_chain.contains(&tag_commitment(key, chain_id, consumer, epoch, t)) {
            out.tags.push(t.clone());
        }
    }
    out.padding = (0..MAX_TAGS as u64)
        .filter(|i| on_chain.contains(&padding(key, chain_id, consumer, epoch, *i)))
        .count();
    out.unknown = on_chain.commitments.len() - out.tags.len() - out.padding;
    out
}

/// The pairwise key of the person holding `master` for `enterprise` on
/// `chain_id`: the account they show that enterprise, and no other.
pub fn pairwise_key(master: &Keypair, chain_id: &str, enterprise: &AccountId) -> Keypair {
    let seed = hkdf32(
        &master.seed(),
        PAIRWISE_DOMAIN,
        &[chain_id.as_bytes(), enterprise.as_bytes()],
    );
    Keypair::from_seed(*seed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn tag(t: &str) -> Tag {
        t.parse().unwrap()
    }

    #[test]
    fn derivations_are_pinned() {
        // A change here orphans every commitment and pairwise account made
        // before it: pinned on purpose (values checked with Python's hmac,
        // hashlib and `cryptography`, an implementation independent of this one).
        let k = Keypair::from_seed([7; 32]);
        let me = k.account();
        assert_eq!(
            tag_salt(&k, "chain-a", &me, 3, &tag("runner")).to_string(),
            "ebf6f7addaf9e7c7c63e01edac629fffe572af4f2dfeed7f74b03c6b1c98c0a5"
        );
        assert_eq!(
            hex::encode(
                pairwise_key(&k, "chain-a", &AccountId([9; 32]))
                    .account()
                    .as_bytes()
            ),
            "8825f6a3c67af2f8d02df4b57b7bdd582943db5cab673fab4b2d8be2cae452db"
        );
    }

    #[test]
    fn a_set_is_padded_sorted_and_recovered_only_with_its_key() {
        let k = Keypair::from_seed([1; 32]);
        let other = Keypair::from_seed([2; 32]);
        let me = k.account();
        let mine = [tag("runner"), tag("vegan"), tag("runner")];
        let set = tag_set(&k, "c", &me, 4, &mine).unwrap();
        assert_eq!(set.commitments.len(), MAX_TAGS);
        set.check(MAX_TAGS).unwrap();
        let candidates = [tag("cyclist"), tag("runner"), tag("vegan")];
        let r = recover_tags(&k, "c", &me, &set, &candidates);
        assert_eq!(r.tags, [tag("runner"), tag("vegan")]);
        assert_eq!((r.padding, r.unknown), (MAX_TAGS - 2, 0));
        // Another key (say, after a rotation) recognises nothing.
        let r = recover_tags(&other, "c", &me, &set, &candidates);
        assert_eq!((r.tags.len(), r.padding, r.unknown), (0, 0, MAX_TAGS));
        // Another epoch: every commitment differs.
        let next = tag_set(&k, "c", &me, 5, &mine).unwrap();
        assert!(next.commitments.iter().all(|c| !set.contains(c)));
        let many: Vec<Tag> = (0..=MAX_TAGS).map(|i| tag(&format!("t{i}"))).collect();
        assert!(tag_set(&k, "c", &me, 0, &many)
            .unwrap_err()
            .contains("at most"));
    }

    #[test]
    fn pairwise_keys_differ_by_enterprise_and_chain_and_repeat_from_the_master() {
        let master = Keypair::from_seed([3; 32]);
        let (e1, e2) = (AccountId([10; 32]), AccountId([11; 32]));
        let a = pairwise_key(&master, "c", &e1).account();
        assert_eq!(a, pairwise_key(&master, "c", &e1).account());
        assert_ne!(a, pairwise_key(&master, "c", &e2).account());
        assert_ne!(a, pairwise_key(&master, "d", &e1).account());
        assert_ne!(a, master.account());
        assert_ne!(
            a,
            pairwise_key(&Keypair::from_seed([4; 32]), "c", &e1).account()
        );
    }
}
