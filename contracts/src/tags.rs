//! Interest tags, held on the chain only as salted commitments (decision 33).
//!
//! A consumer's self-declared interests (`runner`, `vegan`, …) say a lot
//! about a person, and everything on the chain is read by every node. So the
//! ledger never holds a tag, only
//!
//! ```text
//! SHA-256 over "assent/tag-commitment/v1" and, each length-prefixed:
//!   chain id, consumer key, tag, salt
//! ```
//!
//! ([`crate::ids::Hash32::tagged`]). The salt is 32 secret bytes the
//! consumer's client derives from the consumer's key, the chain, the account,
//! the set's `epoch` and the tag (`assent_keys::derive::tag_salt`), so:
//! - nobody without the key can test a guess (there are few tags, but 2^256
//!   salts), and two consumers' commitments to one tag are unrelated;
//! - the client, holding the key, recomputes the commitment of every tag it
//!   might have declared and recovers its own set from the chain;
//! - every new set has a new epoch, so all its commitments are new: a
//!   reader cannot tell which tags stayed across a change;
//! - revealing one tag's salt to one enterprise proves that one tag, and
//!   nothing about the others.
//!
//! The client pads every set to [`crate::tx::MAX_TAGS`] with commitments to
//! nothing (32 bytes derived from the key, indistinguishable from a real
//! one), and a set is sorted, so neither the count nor the order tells
//! anything. Requests stay public (`PostRequest.target_tags`); matching a
//! request to one's own tags happens in the consumer's client.
//!
//! Pure: no randomness and no key here; the salt comes in.

use serde::{Deserialize, Serialize};

use crate::error::{reject, ErrorCode, TxError};
use crate::ids::{AccountId, Hash32, TagCommitment, TagSalt};
use crate::terms::Tag;

/// Domain tag of tag commitments.
pub const TAG_COMMITMENT_TAG: &str = "assent/tag-commitment/v1";

/// A consumer's declared interests as they stand on the chain: the epoch the
/// salts were derived for, and the commitments, sorted ascending.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct TagCommitments {
    /// Which round of salts the commitments use. The ledger keeps it as given;
    /// the CLI uses the nonce of the tx that declares the set, so no two sets
    /// of one key share salts.
    pub epoch: u64,
    /// At most [`crate::tx::MAX_TAGS`], strictly ascending.
    pub commitments: Vec<TagCommitment>,
}

impl TagCommitments {
    /// Whether `c` is one of the set's commitments.
    pub fn contains(&self, c: &TagCommitment) -> bool {
        self.commitments.binary_search(c).is_ok()
    }

    /// At most `max` commitments, strictly ascending: sorted so the order
    /// cannot tell a tag from padding, without repeats (a repeat would show
    /// how many distinct tags there are).
    pub fn check(&self, max: usize) -> Result<(), TxError> {
        if self.commitments.len() > max {
            return reject(
                ErrorCode::TooManyItems,
                format!(
                    "{} tag commitments given; at most {max} are allowed",
                    self.commitments.len()
                ),
            );
        }
        for w in self.commitments.windows(2) {
            if w[0] == w[1] {
                return reject(
                    ErrorCode::DuplicateItem,
                    format!("tag commitment {} is listed twice", w[0]),
                );
            }
            if w[0] > w[1] {
                return reject(
                    ErrorCode::InvalidField,
                    "tag commitments must be sorted ascending (so their order reveals nothing); `assent consumer tags` sorts them",
                );
            }
        }
        Ok(())
    }
}

/// The commitment to `tag` by `consumer` on `chain_id` under `salt`.
pub fn commitment(
    chain_id: &str,
    consumer: &AccountId,
    tag: &Tag,
    salt: &TagSalt,
) -> TagCommitment {
    TagCommitment(Hash32::tagged(
        TAG_COMMITMENT_TAG,
        &[
            chain_id.as_bytes(),
            consumer.as_bytes(),
            tag.0.as_bytes(),
            salt.as_bytes(),
        ],
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn c(b: u8) -> TagCommitment {
        TagCommitment(Hash32([b; 32]))
    }

    #[test]
    fn sets_must_be_sorted_distinct_and_bounded() {
        let ok = TagCommitments {
            epoch: 3,
            commitments: vec![c(1), c(2), c(9)],
        };
        ok.check(16).unwrap();
        assert!(ok.contains(&c(2)) && !ok.contains(&c(3)));
        let code = |v: Vec<TagCommitment>, max| {
            TagCommitments {
                epoch: 0,
                commitments: v,
            }
            .check(max)
            .unwrap_err()
            .code
        };
        assert_eq!(code(vec![c(2), c(1)], 16), ErrorCode::InvalidField);
        assert_eq!(code(vec![c(1), c(1)], 16), ErrorCode::DuplicateItem);
        assert_eq!(code(vec![c(1), c(2)], 1), ErrorCode::TooManyItems);
        TagCommitments::default().check(16).unwrap();
    }

    #[test]
    fn every_part_of_a_commitment_matters() {
        let a = AccountId([5; 32]);
        let b = AccountId([6; 32]);
        let t: Tag = "runner".parse().unwrap();
        let u: Tag = "vegan".parse().unwrap();
        let s = TagSalt(Hash32([7; 32]));
        let s2 = TagSalt(Hash32([8; 32]));
        let base = commitment("chain-a", &a, &t, &s);
        assert_eq!(base, commitment("chain-a", &a, &t, &s));
        for other in [
            commitment("chain-b", &a, &t, &s),
            commitment("chain-a", &b, &t, &s),
            commitment("chain-a", &a, &u, &s),
            commitment("chain-a", &a, &t, &s2),
        ] {
            assert_ne!(base, other);
        }
    }
}
