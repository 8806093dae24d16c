//! (d) Stop all four validators and start them again: the chain continues
//! from its last block and nothing committed is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_contracts::tx::RegisterConsumer;
use assent_contracts::Payload;
use assent_tests::Net;

#[test]
fn restarted_network_continues_from_its_last_block() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 3, Duration::from_secs(90));
    }
    let alice = net.key("alice");
    let r = net.run(
        0,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: Default::default(),
        }),
    );
    assert_eq!(r["status"], "committed");
    let tx_id = r["tx_id"].as_str().unwrap().to_string();
    // The tip each node had committed when it was stopped.
    let mut before = Vec::new();
    for i in 0..4 {
        let h = net.height(i).unwrap();
        assert!(
            net.stop(i),
            "node {i} did not stop cleanly:\n{}",
            net.log_tail(i)
        );
        before.push(h);
    }

    // A stopped node's stored chain replays from genesis: every signature,
    // certificate and root re-checked, ending at the tip it had.
    let out = std::process::Command::new(assent_tests::bin("assentd"))
        .args(["replay", "--home"])
        .arg(&net.nodes[0].home)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "replay failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("replayed {} blocks", before[0]))
            && text.contains(&format!("height {}", before[0])),
        "{text}"
    );

    net.start_all();
    // Nothing committed is lost: each node comes back at or above its old tip.
    for (i, tip) in before.iter().enumerate() {
        net.wait_height(i, *tip, Duration::from_secs(60));
    }
    let restarted_at = net.height(0).unwrap();
    for i in 0..4 {
        net.wait_height(i, restarted_at + 5, Duration::from_secs(90));
        let r = net.get(i, &format!("/v1/txs/{tx_id}")).unwrap();
        assert_eq!(
            r["status"], "committed",
            "node {i} lost a committed tx: {r}"
        );
    }
    // A running node's store is locked: replay refuses with what to do.
    let out = std::process::Command::new(assent_tests::bin("assentd"))
        .args(["replay", "--home"])
        .arg(&net.nodes[1].home)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stop it first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for h in 1..=restarted_at + 5 {
        let want = net.block_roots(0, h).unwrap();
        for i in 1..4 {
            assert_eq!(
                net.block_roots(i, h).as_ref(),
                Some(&want),
                "node {i} differs at height {h}"
            );
        }
    }
}
