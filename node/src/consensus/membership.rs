//! The consensus peers follow the validator set. Consensus accepts only its
//! persistent peers (`persistent_peers_only`), so after each commit that
//! changes the set:
//! - an added validator's genesis-style `p2p_address`, pinned to the peer
//!   id its consensus key gives, becomes a persistent peer (dialed, and its
//!   inbound connection accepted);
//! - a removed validator's persistent peer is removed, which disconnects
//!   it.
//!
//! The diff is by peer id, so a peer configured under another address (a
//! NAT's public one) is removed all the same.

use std::collections::BTreeMap;
use std::sync::Arc;

use assent_contracts::state::Validator;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use malachitebft_app_channel::NetworkRequest;
use tokio::sync::mpsc;

use crate::shared::Shared;

/// Persistent peers by peer id.
type Peers = BTreeMap<libp2p::PeerId, Multiaddr>;
/// Peers to add or to remove.
type PeerList = Vec<(libp2p::PeerId, Multiaddr)>;

/// The peer id a multiaddr is pinned to, if any.
fn pinned(addr: &Multiaddr) -> Option<libp2p::PeerId> {
    addr.iter().find_map(|p| match p {
        Protocol::P2p(id) => Some(id),
        _ => None,
    })
}

/// A validator's consensus address pinned to its key's peer id, if its
/// `p2p_address` is a multiaddr.
fn address_of(v: &Validator) -> Option<(libp2p::PeerId, Multiaddr)> {
    let id = crate::gossip::peer_id_of(&v.consensus_key)?;
    let addr: Multiaddr = v.p2p_address.parse().ok()?;
    let addr = match pinned(&addr) {
        Some(p) if p == id => addr,
        Some(_) => return None,
        None => addr.with(Protocol::P2p(id)),
    };
    Some((id, addr))
}

/// What to change: peers to add and to remove, for a move from the set
/// `known` holds to `validators` (never this node itself).
pub fn changes(
    known: &Peers,
    validators: &[Validator],
    me: &libp2p::PeerId,
) -> (PeerList, PeerList) {
    let wanted: BTreeMap<libp2p::PeerId, Option<Multiaddr>> = validators
        .iter()
        .filter_map(|v| {
            let id = crate::gossip::peer_id_of(&v.consensus_key)?;
            Some((id, address_of(v).map(|(_, a)| a)))
        })
        .filter(|(id, _)| id != me)
        .collect();
    let add = wanted
        .iter()
        .filter(|(id, _)| !known.contains_key(id))
        .filter_map(|(id, a)| Some((*id, a.clone()?)))
        .collect();
    let remove = known
        .iter()
        .filter(|(id, _)| !wanted.contains_key(id))
        .map(|(id, a)| (*id, a.clone()))
        .collect();
    (add, remove)
}

/// Keeps the engine's persistent peers on the validator set from now on.
/// `configured` are the peers the engine started with.
pub fn follow(
    shared: Arc<Shared>,
    configured: &[Multiaddr],
    me: libp2p::PeerId,
    net: mpsc::Sender<NetworkRequest>,
) -> tokio::task::JoinHandle<()> {
    let mut known: Peers = configured
        .iter()
        .filter_map(|a| Some((pinned(a)?, a.clone())))
        .collect();
    let mut commits = shared.chain.subscribe();
    tokio::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match commits.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
            let validators = match shared.chain.validators() {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(target: "assent::consensus", error = %e, "validator set unreadable; consensus peers unchanged");
                    continue;
                }
            };
            let (add, remove) = changes(&known, &validators, &me);
            for (id, addr) in add {
                match NetworkRequest::add_persistent_peer(&net, addr.clone()).await {
                    Ok(_) => {
                        tracing::info!(target: "assent::consensus", %addr, "a validator joined: now a consensus peer");
                        known.insert(id, addr);
                    }
                    Err(e) => {
                        tracing::warn!(target: "assent::consensus", %addr, error = %e, "could not add a joined validator as a consensus peer")
                    }
                }
            }
            for (id, addr) in remove {
                match NetworkRequest::remove_persistent_peer(&net, addr.clone()).await {
                    Ok(_) => {
                        tracing::info!(target: "assent::consensus", %addr, "a validator left: no longer a consensus peer");
                        known.remove(&id);
                    }
                    Err(e) => {
                        tracing::warn!(target: "assent::consensus", %addr, error = %e, "could not remove a departed validator's consensus peer")
                    }
                }
            }
        }
    })
}

/// Resolves once a commit leaves this node's key out of the validator set:
/// it is asked to sign nothing more (the node then follows the chain as a
/// full node would, see [`crate::run`]).
pub async fn removed(shared: Arc<Shared>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut commits = shared.chain.subscribe();
    loop {
        match commits.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            // The chain is gone: the node is stopping anyway.
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
        if let Ok(vals) = shared.chain.validators() {
            if !vals.iter().any(|v| v.consensus_key == shared.validator_key) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use assent_contracts::crypto::Keypair;

    fn validator(i: u8, addr: &str) -> Validator {
        Validator {
            name: format!("v{i}"),
            consensus_key: Keypair::from_seed([i + 1; 32]).account(),
            power: 1,
            p2p_address: addr.to_string(),
        }
    }

    fn id(v: &Validator) -> libp2p::PeerId {
        crate::gossip::peer_id_of(&v.consensus_key).unwrap()
    }

    #[test]
    fn an_added_validator_is_pinned_and_a_removed_one_is_found_by_its_peer_id() {
        let me = validator(0, "/ip4/127.0.0.1/tcp/1000");
        let a = validator(1, "/ip4/127.0.0.1/tcp/1010");
        let b = validator(2, "/ip4/127.0.0.1/tcp/1020");
        let c = validator(3, "/ip4/127.0.0.1/tcp/1030");
        // b was configured under another (say, a NAT's public) address.
        let b_configured: Multiaddr = format!("/ip4/10.9.9.9/tcp/7/p2p/{}", id(&b))
            .parse()
            .unwrap();
        let known: Peers = [
            (id(&a), address_of(&a).unwrap().1),
            (id(&b), b_configured.clone()),
        ]
        .into_iter()
        .collect();
        // b leaves, c joins; this node itself is never a peer.
        let (add, remove) = changes(&known, &[me.clone(), a, c.clone()], &id(&me));
        let c_addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/1030/p2p/{}", id(&c))
            .parse()
            .unwrap();
        assert_eq!(add, vec![(id(&c), c_addr)]);
        assert_eq!(remove, vec![(id(&b), b_configured)]);
    }

    #[test]
    fn an_address_pinned_to_another_key_or_not_a_multiaddr_is_not_dialed() {
        let me = validator(0, "");
        let other = validator(5, "/ip4/127.0.0.1/tcp/1");
        let liar = validator(1, &format!("/ip4/127.0.0.1/tcp/1010/p2p/{}", id(&other)));
        let junk = validator(2, "not an address");
        let (add, remove) = changes(&Peers::new(), &[me.clone(), liar, junk], &id(&me));
        assert!(add.is_empty(), "{add:?}");
        assert!(remove.is_empty());
    }
}
