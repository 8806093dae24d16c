//! The model's interest tags (decision 33): each consumer's set of tag
//! commitments as its last RegisterConsumer or SetTags left it. Sets come
//! in sorted, unsorted, too long or with a repeat, so every stateless rule
//! is exercised; the ledger must hold exactly the model's sets.

use std::collections::BTreeMap;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::StateExt;
use assent_contracts::tags::TagCommitments;
use assent_contracts::tx::*;
use assent_contracts::*;
use proptest::prelude::*;

use super::model::{Expect, Model, Op, World};

/// How a generated set is malformed, if at all.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Sorted,
    Unsorted,
    Repeat,
}

pub fn strategy(consumers: usize) -> impl Strategy<Value = Op> {
    (
        0..consumers,
        0usize..=MAX_TAGS + 1,
        any::<u64>(),
        prop_oneof![
            6 => Just(Shape::Sorted),
            1 => Just(Shape::Unsorted),
            1 => Just(Shape::Repeat),
        ],
    )
        .prop_map(|(c, n, epoch, shape)| Op::Tags { c, n, epoch, shape })
}

fn set(c: usize, n: usize, epoch: u64, shape: Shape) -> TagCommitments {
    let mut commitments: Vec<TagCommitment> = (0..n as u64)
        .map(|i| {
            TagCommitment(Hash32::tagged(
                "model/tag",
                &[
                    &(c as u64).to_le_bytes(),
                    &i.to_le_bytes(),
                    &epoch.to_le_bytes(),
                ],
            ))
        })
        .collect();
    commitments.sort();
    match shape {
        Shape::Sorted => {}
        Shape::Unsorted => commitments.reverse(),
        Shape::Repeat => {
            if let Some(first) = commitments.first().copied() {
                commitments.insert(0, first);
            }
        }
    }
    TagCommitments { epoch, commitments }
}

pub fn tx<'w>(w: &'w World, op: &Op) -> (&'w Keypair, Payload) {
    let Op::Tags { c, n, epoch, shape } = *op else {
        unreachable!("not a tags op")
    };
    (
        &w.consumers[c],
        Payload::SetTags(SetTags {
            tags: set(c, n, epoch, shape),
        }),
    )
}

impl Model {
    /// The ledger's answer to a SetTags from `sender`, and its effect.
    pub fn judge_tags(&mut self, sender: AccountId, t: &SetTags) -> Expect {
        let c = &t.tags.commitments;
        if c.len() > MAX_TAGS {
            return Expect::Rejected(ErrorCode::TooManyItems);
        }
        // Repeats are found pair by pair before an unsorted pair.
        for w in c.windows(2) {
            if w[0] == w[1] {
                return Expect::Rejected(ErrorCode::DuplicateItem);
            }
            if w[0] > w[1] {
                return Expect::Rejected(ErrorCode::InvalidField);
            }
        }
        if !self.registered.contains(&sender) {
            return Expect::Rejected(ErrorCode::NotConsumer);
        }
        self.tags.insert(sender, t.tags.clone());
        Expect::Applied
    }

    /// Every consumer record holds exactly the model's set (registration
    /// sets the empty one).
    pub fn check_tags(&self, w: &World, store: &state::MemStore) -> Result<(), TestCaseError> {
        let mut held = BTreeMap::new();
        for k in &w.consumers {
            if let Some(c) = store.consumer(&k.account()).unwrap() {
                held.insert(k.account(), c.tags);
            }
        }
        prop_assert_eq!(&held, &self.tags);
        Ok(())
    }
}
