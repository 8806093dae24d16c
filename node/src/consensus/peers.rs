//! The validators as consensus peers: which network peer is which validator,
//! and how far the validators are, believed only from signed messages.
//!
//! A validator's network identity is derived from its consensus seed
//! (`ConsensusSigner::libp2p_keypair`), so its peer id follows from its
//! consensus key: anyone can map a validator set to the peer ids allowed to
//! publish proposal streams, and a stream's publisher (authenticated by
//! libp2p: consensus messages travel on Malachite's broadcast protocol,
//! never relayed, so the publisher is the peer at the other end of the
//! noise-authenticated connection) names exactly one validator.
//!
//! [`HeightEstimate`] answers "is this node behind?" (the API's `syncing`
//! and `/ready`). It counts a validator's height only from a message whose
//! signature verifies under that validator's key, and reports the highest
//! height that validators holding more than a third of the voting power
//! have reached: at most `f` Byzantine validators (less than a third of the
//! power) cannot raise it on their own, however high the heights they sign.

use std::collections::{BTreeMap, HashMap};

use malachitebft_core_types::{SignedMessage, ValidatorSet as _};
use malachitebft_peer::PeerId;

use super::signing::ConsensusVerifier;
use super::types::{Address, AssentContext, Proposal, PublicKey, ValidatorSet, Vote};

/// The network peer id of the validator whose consensus key is `key`.
pub fn peer_id_of(key: &PublicKey) -> Option<PeerId> {
    let ed = libp2p::identity::ed25519::PublicKey::try_from_bytes(key.as_bytes()).ok()?;
    let id = libp2p::identity::PublicKey::from(ed).to_peer_id();
    PeerId::from_bytes(&id.to_bytes()).ok()
}

/// Peer id -> validator, for one validator set.
#[derive(Clone, Debug, Default)]
pub struct ValidatorPeers {
    by_peer: HashMap<PeerId, Address>,
}

impl ValidatorPeers {
    pub fn new(set: &ValidatorSet) -> ValidatorPeers {
        let by_peer = set
            .validators()
            .iter()
            .filter_map(|v| Some((peer_id_of(&v.public_key)?, v.address)))
            .collect();
        ValidatorPeers { by_peer }
    }

    /// The validator that `peer` is, if it is one.
    pub fn validator(&self, peer: &PeerId) -> Option<Address> {
        self.by_peer.get(peer).copied()
    }

    pub fn len(&self) -> usize {
        self.by_peer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_peer.is_empty()
    }
}

/// A consensus message as the engine reports it on receipt (before the
/// engine itself has checked it).
#[derive(Clone, Debug)]
pub enum Signed<'a> {
    Vote(&'a SignedMessage<AssentContext, Vote>),
    Proposal(&'a SignedMessage<AssentContext, Proposal>),
}

/// How far the other validators are; see the module docs.
#[derive(Debug)]
pub struct HeightEstimate {
    verifier: ConsensusVerifier,
    set: ValidatorSet,
    /// Highest verified consensus height per validator.
    seen: BTreeMap<Address, u64>,
    /// Messages that did not count: unknown signer or bad signature.
    refused: u64,
}

impl HeightEstimate {
    pub fn new(verifier: ConsensusVerifier, set: ValidatorSet) -> HeightEstimate {
        HeightEstimate {
            verifier,
            set,
            seen: BTreeMap::new(),
            refused: 0,
        }
    }

    /// Follows a new validator set; heights of validators no longer in it
    /// are forgotten.
    pub fn set_validators(&mut self, set: ValidatorSet) {
        self.seen
            .retain(|a, _| set.validators().iter().any(|v| v.address == *a));
        self.set = set;
    }

    /// Counts a received message. Only a message that would raise its
    /// signer's height is verified (a signature check each), so the work is
    /// bounded by the heights validators actually reach.
    pub fn observe(&mut self, msg: Signed<'_>) {
        let (signer, height) = match msg {
            Signed::Vote(v) => (v.message.validator, v.message.height.0),
            Signed::Proposal(p) => (p.message.proposer, p.message.height.0),
        };
        if self.seen.get(&signer).is_some_and(|h| *h >= height) {
            return;
        }
        let Some(v) = self.set.get_by_address(&signer) else {
            self.refused += 1;
            return;
        };
        let ok = match msg {
            Signed::Vote(m) => self
                .verifier
                .vote_is_valid(&m.message, &m.signature, &v.public_key),
            Signed::Proposal(m) => {
                self.verifier
                    .proposal_is_valid(&m.message, &m.signature, &v.public_key)
            }
        };
        if ok {
            self.seen.insert(signer, height);
        } else {
            self.refused += 1;
        }
    }

    /// The highest consensus height that validators holding more than a
    /// third of the total voting power have signed messages for; 0 if none.
    pub fn height(&self) -> u64 {
        let total = self.set.total_voting_power();
        let mut heights: Vec<(u64, u64)> = self
            .seen
            .iter()
            .filter_map(|(a, h)| Some((*h, self.set.get_by_address(a)?.voting_power)))
            .collect();
        heights.sort_unstable_by_key(|(h, _)| std::cmp::Reverse(*h));
        let mut power: u64 = 0;
        for (h, p) in heights {
            power = power.saturating_add(p);
            // power > total / 3, without rounding: 3 * power > total.
            if power.saturating_mul(3) > total {
                return h;
            }
        }
        0
    }

    /// Messages that did not count (unknown signer or bad signature).
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

#[cfg(test)]
#[path = "peers_tests.rs"]
mod tests;
