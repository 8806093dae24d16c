//! (c) kill -9 one validator: the other three keep committing; restarted, it
//! catches up to the same state root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_tests::Net;

#[test]
fn killed_validator_catches_up_to_the_same_state() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 5, Duration::from_secs(90));
    }
    net.kill9(2);
    let at_kill = net.height(0).unwrap();
    // Three of four keep the chain going.
    for i in [0, 1, 3] {
        net.wait_height(i, at_kill + 15, Duration::from_secs(60));
    }
    net.start(2);
    let target = net.height(0).unwrap() + 5;
    net.wait_height(2, target, Duration::from_secs(120));
    // Once caught up it says so.
    assert!(assent_tests::wait_until(
        "node 2 to report it is not syncing",
        Duration::from_secs(30),
        || { net.status(2).is_some_and(|s| s["syncing"] == false) }
    ));
    for h in [at_kill, at_kill + 10, target] {
        let want = net.block_roots(0, h).unwrap();
        assert_eq!(
            net.block_roots(2, h),
            Some(want),
            "restarted node differs at height {h}"
        );
    }
}
