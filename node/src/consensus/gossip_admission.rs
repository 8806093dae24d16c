//! Admission of txs that arrive by gossip: messages gathered into one
//! batch signature check (ARCHITECTURE.md decision 47).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::shared::Shared;

/// Most gossiped txs admitted in one call.
const GOSSIP_ADMIT_MAX: usize = 2_048;

/// Gossiped txs worth a batch signature check of their own: fewer wait up
/// to [`GOSSIP_COALESCE`] for more. From about 100 signatures a batch check
/// uses the multiscalar method for many points, and costs ≈ 17 µs per
/// signature here, against ≈ 27 µs in batches of 16, the size gossip
/// messages come in (`cargo bench -p assent-contracts --bench
/// execute_block -- signatures`).
const GOSSIP_BATCH_TXS: usize = 128;

/// Longest the first gossiped tx of a batch waits for others.
const GOSSIP_COALESCE: Duration = Duration::from_millis(50);

/// A gossip message of at least this many txs means busy gossip of small
/// txs (its sender gathered them in [`crate::gossip::PUBLISH_LINGER`]):
/// only then does admission wait for more. Messages of one or two large
/// txs (a RecordUse of thousands of uses) are admitted at once: their
/// signatures are a small part of their cost, and waiting only made
/// proposals smaller (BENCHMARKS.md, "Gossiped txs checked together").
const GOSSIP_BUSY_TXS: usize = 8;

/// When [`gossip_batch`] waits for more messages.
#[derive(Clone, Copy, Debug)]
struct Gathering {
    /// Txs that make a batch worth checking on its own.
    enough: usize,
    /// Txs in the first message that make it worth waiting at all.
    busy: usize,
    /// Longest wait, from the call.
    wait: Duration,
}

const GOSSIP_GATHERING: Gathering = Gathering {
    enough: GOSSIP_BATCH_TXS,
    busy: GOSSIP_BUSY_TXS,
    wait: GOSSIP_COALESCE,
};

/// Gossip messages to admit in one call.
#[derive(Debug)]
struct GossipBatch {
    txs: Vec<Vec<u8>>,
    /// Who sent them, and how many txs each message held, in order.
    from: Vec<(libp2p::PeerId, usize)>,
    /// Their byte charges: held until the admission is done.
    charges: Vec<crate::gossip::InboundCharge>,
}

/// Gathers gossip messages to admit together, from `first`: those already
/// waiting, and if `first` holds at least `busy` txs, while the batch holds
/// fewer than `enough`, those that arrive within `wait` of the call (at most
/// [`GOSSIP_ADMIT_MAX`] txs, but messages are not split). One batch
/// signature check costs less per signature the more it checks.
async fn gossip_batch(
    first: crate::gossip::Inbound,
    inbound: &mut mpsc::Receiver<crate::gossip::Inbound>,
    how: Gathering,
) -> GossipBatch {
    let deadline = tokio::time::Instant::now() + how.wait;
    let enough = if first.txs.len() >= how.busy {
        how.enough
    } else {
        0
    };
    let mut batch = GossipBatch {
        from: vec![(first.from, first.txs.len())],
        txs: first.txs,
        charges: vec![first.charge],
    };
    while batch.txs.len() < GOSSIP_ADMIT_MAX {
        let next = match inbound.try_recv() {
            Ok(next) => next,
            Err(_) if batch.txs.len() >= enough => break,
            Err(_) => match tokio::time::timeout_at(deadline, inbound.recv()).await {
                Ok(Some(next)) => next,
                // Time is up, or the gossip has stopped: admit what is here.
                Ok(None) | Err(_) => break,
            },
        };
        batch.from.push((next.from, next.txs.len()));
        batch.txs.extend(next.txs);
        batch.charges.push(next.charge);
    }
    batch
}

/// Admits tx batches that arrive by gossip (signatures checked in one batch
/// per admission, over every batch waiting).
pub async fn admit_gossip(
    shared: Arc<Shared>,
    mut inbound: mpsc::Receiver<crate::gossip::Inbound>,
) {
    while let Some(first) = inbound.recv().await {
        let GossipBatch { txs, from, charges } =
            gossip_batch(first, &mut inbound, GOSSIP_GATHERING).await;
        shared.metrics.admission_batch("gossip", txs.len());
        let sh = shared.clone();
        // Decoding and signature checks are CPU work: off the async workers,
        // and outside the mempool lock (see `mempool::admit`).
        let results = tokio::task::spawn_blocking(move || {
            crate::mempool::admit(
                &sh.mempool,
                crate::mempool::Origin::Gossip,
                &sh.chain.next_context(sh.validator_key),
                txs,
                sh.chain.store(),
                rand::rngs::OsRng,
            )
        })
        .await
        .unwrap_or_default();
        drop(charges);
        let mut results = results.iter();
        for (peer, n) in from {
            let refused = results.by_ref().take(n).filter(|r| r.is_err()).count();
            if refused > 0 {
                tracing::debug!(target: "assent::gossip", from = %peer, refused, "gossiped txs refused");
            }
        }
        shared.metrics.set_mempool(shared.mempool().len());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::gossip::{Inbound, InboundBudget};

    fn message(budget: &Arc<InboundBudget>, peer: libp2p::PeerId, txs: usize, tag: u8) -> Inbound {
        let txs: Vec<Vec<u8>> = (0..txs).map(|i| vec![tag, i as u8]).collect();
        Inbound {
            from: peer,
            charge: budget
                .charge(peer, crate::gossip::batch_bytes(&txs))
                .unwrap(),
            txs,
        }
    }

    /// Sends a message once the test's task yields (as gossip arriving
    /// while a batch waits would).
    fn send_later(
        tx: &mpsc::Sender<Inbound>,
        budget: &Arc<InboundBudget>,
        peer: libp2p::PeerId,
        txs: usize,
        tag: u8,
    ) -> tokio::task::JoinHandle<()> {
        let (tx, budget) = (tx.clone(), budget.clone());
        tokio::spawn(async move {
            tx.send(message(&budget, peer, txs, tag)).await.unwrap();
        })
    }

    /// Waits for up to 10 txs, when the first message brings at least 2.
    fn gathering(wait_ms: u64) -> Gathering {
        Gathering {
            enough: 10,
            busy: 2,
            wait: Duration::from_millis(wait_ms),
        }
    }

    #[tokio::test]
    async fn gossip_messages_are_gathered_into_one_admission() {
        let budget = InboundBudget::new(1 << 20, 1 << 20);
        let (a, b) = (libp2p::PeerId::random(), libp2p::PeerId::random());
        let (tx, mut rx) = mpsc::channel(16);

        // Messages already waiting, and one sent while the batch waits for
        // more, join the first; the batch goes once it has enough.
        tx.send(message(&budget, b, 3, 2)).await.unwrap();
        let sender = send_later(&tx, &budget, a, 5, 3);
        let batch = gossip_batch(message(&budget, a, 4, 1), &mut rx, gathering(30_000)).await;
        sender.await.unwrap();
        assert_eq!(batch.from, vec![(a, 4), (b, 3), (a, 5)]);
        assert_eq!(batch.txs.len(), 12);
        assert_eq!(batch.txs[4], vec![2, 0], "txs stay in arrival order");
        assert_eq!(batch.charges.len(), 3);
        assert!(budget.queued(&a).0 > 0, "the charges are held by the batch");
        drop(batch);
        assert_eq!(budget.queued(&a), (0, 0), "and given back with it");

        // A batch short of enough goes when the wait is over, with what it has.
        let started = tokio::time::Instant::now();
        let batch = gossip_batch(message(&budget, b, 2, 4), &mut rx, gathering(20)).await;
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert_eq!(batch.from, vec![(b, 2)]);

        // A first message of fewer than `busy` txs (one large tx, say) goes
        // with what is already waiting, without waiting for more.
        tx.send(message(&budget, b, 3, 8)).await.unwrap();
        let sender = send_later(&tx, &budget, a, 5, 9);
        let batch = gossip_batch(message(&budget, a, 1, 10), &mut rx, gathering(3_600_000)).await;
        assert_eq!(batch.from, vec![(a, 1), (b, 3)]);
        sender.await.unwrap();
        assert_eq!(
            rx.try_recv().unwrap().txs.len(),
            5,
            "the later message waits its turn"
        );

        // A first message of enough txs goes at once, however long the wait.
        tx.send(message(&budget, b, 1, 6)).await.unwrap();
        let batch = gossip_batch(message(&budget, a, 10, 5), &mut rx, gathering(3_600_000)).await;
        assert_eq!(
            batch.from,
            vec![(a, 10), (b, 1)],
            "what was already waiting still joins"
        );

        // The gossip stopping ends the wait.
        drop(tx);
        let batch = gossip_batch(message(&budget, a, 2, 7), &mut rx, gathering(3_600_000)).await;
        assert_eq!(batch.txs, vec![vec![7, 0], vec![7, 1]]);
    }

    #[tokio::test]
    async fn a_gossip_batch_stops_at_its_most_txs() {
        let budget = InboundBudget::new(1 << 24, 1 << 24);
        let peer = libp2p::PeerId::random();
        let (tx, mut rx) = mpsc::channel(16);
        for i in 0..3 {
            tx.send(message(&budget, peer, 1_000, i)).await.unwrap();
        }
        let how = Gathering {
            enough: GOSSIP_ADMIT_MAX * 2,
            ..gathering(3_600_000)
        };
        let batch = gossip_batch(message(&budget, peer, 1_000, 9), &mut rx, how).await;
        // Messages are not split: 1,000 + 1,000 + 1,000 passes the most and stops.
        assert_eq!(batch.txs.len(), 3_000);
        assert_eq!(
            rx.try_recv().unwrap().txs.len(),
            1_000,
            "the rest waits its turn"
        );
    }
}
