//! (a) Four validators commit blocks, and every node has the same block hash
//! and state root at every height.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_tests::Net;

#[test]
fn four_validators_commit_and_agree_on_state_roots() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 10, Duration::from_secs(90));
    }
    let top = (0..4).filter_map(|i| net.height(i)).min().unwrap();
    for h in 1..=top {
        let first = net.block_roots(0, h).expect("node 0 has the block");
        for i in 1..4 {
            assert_eq!(
                net.block_roots(i, h).as_ref(),
                Some(&first),
                "node {i} differs from node 0 at height {h}"
            );
        }
    }
    // Each block carries a commit certificate of more than 2/3 of the validators.
    let b = net.get(0, &format!("/v1/blocks/{top}")).unwrap();
    assert!(
        b["certificate"]["signatures"].as_array().unwrap().len() >= 3,
        "{b}"
    );
    // Validators executed the proposals while their proposers did, before
    // the roots and signature arrived (ARCHITECTURE decision 50): each node
    // is a validator at three heights of four.
    let early = |i: usize, outcome: &str| -> u64 {
        let label = format!("outcome=\"{outcome}\"");
        net.metric_where(i, "assent_proposals_executed_early_total", &label)
    };
    let used: Vec<u64> = (0..4).map(|i| early(i, "used")).collect();
    eprintln!(
        "early executions used per node: {used:?}; dropped {:?}; not started {:?}",
        (0..4).map(|i| early(i, "dropped")).collect::<Vec<_>>(),
        (0..4).map(|i| early(i, "not_started")).collect::<Vec<_>>()
    );
    assert!(used.iter().all(|&n| n >= 1), "{used:?}");
    assert!(
        used.iter().sum::<u64>() >= top,
        "{used:?} over {top} heights"
    );
    for i in 0..4 {
        assert!(
            net.stop(i),
            "node {i} did not stop cleanly on SIGTERM:\n{}",
            net.log_tail(i)
        );
    }
}
