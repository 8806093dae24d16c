//! kill -9 of a validator at random moments while txs keep coming (20 times
//! by default, `ASSENT_KILLS` to change): each time, the restarted node
//! still has every block it had committed, identical to its peers', and
//! catches up to the same state root. The persister writes a checkpoint
//! every 50 ms here, so kills land before, during and after checkpoints and
//! index batches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use assent_tests::load::offer_registrations;
use assent_tests::{Net, Rng};

#[test]
fn validators_killed_under_load_lose_no_committed_block() {
    let kills: u64 = std::env::var("ASSENT_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill moments from seed {seed}");
    let mut rng = Rng(seed);
    let mut net = Net::new(4);
    for node in &net.nodes {
        let cfg = node.home.join("config.toml");
        let mut text = std::fs::read_to_string(&cfg).unwrap();
        text.push_str("\n[store]\npersist_interval_ms = 50\n");
        std::fs::write(&cfg, text).unwrap();
    }
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 3, Duration::from_secs(90));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let loader = {
        let apis: Vec<String> = net.nodes.iter().map(|n| n.api.clone()).collect();
        let (chain, stop, accepted) = (net.chain_id.clone(), stop.clone(), accepted.clone());
        std::thread::spawn(move || offer_registrations(&apis, &chain, 7, &stop, &accepted))
    };
    let started = Instant::now();
    for k in 0..kills {
        let victim = (k % 4) as usize;
        let other = (victim + 1) % 4;
        // A random moment: after the victim commits 1 to 4 more blocks.
        let h0 = net.height(victim).unwrap();
        net.wait_height(victim, h0 + 1 + rng.below(4), Duration::from_secs(60));
        let had = net.height(victim).unwrap();
        net.kill9(victim);
        net.start(victim);
        let target = net.height(other).unwrap().max(had) + 2;
        net.wait_height(victim, target, Duration::from_secs(120));
        for h in [had.saturating_sub(1).max(1), had, target] {
            let want = net.block_roots(other, h);
            assert!(want.is_some(), "kill {k}: node {other} has no block {h}");
            assert_eq!(
                net.block_roots(victim, h),
                want,
                "kill {k}: restarted node {victim} differs at height {h} (it had committed {had})\n{}",
                net.log_tail(victim)
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    loader.join().unwrap();
    let accepted = accepted.load(Ordering::Relaxed);
    eprintln!(
        "{kills} kills in {:?}; {accepted} txs accepted",
        started.elapsed()
    );
    assert!(accepted > 0, "the load reached the nodes");
    // All four agree at a common height, and the load's txs were committed.
    let top = (0..4).map(|i| net.height(i).unwrap()).max().unwrap();
    for i in 0..4 {
        net.wait_height(i, top, Duration::from_secs(60));
    }
    let want = net.block_roots(0, top).unwrap();
    for i in 1..4 {
        assert_eq!(
            net.block_roots(i, top),
            Some(want.clone()),
            "node {i} at {top}"
        );
    }
    let status = net.status(0).unwrap();
    assert!(status["indexed_height"].as_u64().is_some(), "{status}");
}
