//! The fault campaign, short form: four real validators, each in its own
//! network namespace, under a client history (registrations, grants,
//! revocations, uses, transfers), with one fault per scenario. After each,
//! the checker (`assent_tests::history::check`) reads every node's chain:
//! no acknowledged tx lost, no fork, no use settled after a committed
//! revocation, points conserved, no equivocation. Needs root and iproute2
//! (and libfaketime for the clock scenario); `.ci/run` installs them.
//!
//! The long campaign (every scenario, repeatedly, under heavier load) is
//! `tests/fault_campaign_long.rs`, ignored in `cargo test`: see FAULTS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_tests::faults::{
    advance, exits_with_one_line, proposer_of, signal, stays_at_most, top, SmallDisk, FAKETIME,
};
use assent_tests::history::{check, Driver, Report};
use assent_tests::{wait_until, Net};

/// Consumers in the short form's client history, and uses per RecordUse.
const CONSUMERS: usize = 24;
const USES: usize = 8;

/// A started lab network with the client history running.
fn lab(n: usize) -> (Net, Driver) {
    let mut net = Net::in_lab(n);
    net.start_all();
    for i in 0..n {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let driver = Driver::start(&net, CONSUMERS, USES);
    (net, driver)
}

/// Stops the history, lets every node catch up, and checks the chain.
fn finish(net: &Net, driver: Driver, scenario: &str) -> Report {
    // After the fault, the history goes on: every consumer gets at least one
    // more tx acknowledged's worth of progress before it stops.
    let now = driver.acknowledged();
    let going = wait_until(
        "the history to go on after the fault",
        Duration::from_secs(120),
        || driver.acknowledged() >= now + CONSUMERS as u64,
    );
    assert!(
        going,
        "{scenario}: the history made no progress after the fault"
    );
    let history = driver.stop();
    let report = check(net, &history);
    eprintln!(
        "{scenario}: {} heights, {} txs signed, {} acknowledged, {} re-sent, {} uses settled, {} refused as revoked; lost {}, divergent {}, settled after revocation {}, wrong balances {}, double signs {}",
        report.heights,
        history.signed,
        report.acked,
        history.resent,
        report.uses_settled,
        report.uses_refused_revoked,
        report.lost,
        report.divergent,
        report.settled_after_revocation,
        report.wrong_balances,
        report.double_signs
    );
    assert!(
        report.problems.is_empty()
            && report.lost == 0
            && report.divergent == 0
            && report.settled_after_revocation == 0
            && report.wrong_balances == 0
            && report.double_signs == 0,
        "{scenario}: the checker found problems: {:#?}",
        report.problems
    );
    assert!(
        report.acked > CONSUMERS,
        "{scenario}: the history made progress ({} acknowledged)",
        report.acked
    );
    report
}

#[test]
fn a_2_2_partition_commits_nothing_and_heals_without_a_fork() {
    let (net, driver) = lab(4);
    advance(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    net.lab.as_ref().unwrap().partition(&[&[0, 1], &[2, 3]]);
    // A block already voted on may still land; then nothing more.
    let mut settled = 0;
    wait_until(
        "the partition to stop the chain",
        Duration::from_secs(30),
        || {
            let now = top(&net, &[0, 1, 2, 3]);
            let same = now == settled;
            settled = now;
            same
        },
    );
    stays_at_most(&net, &[0, 1, 2, 3], settled + 1, Duration::from_secs(8));
    net.lab.as_ref().unwrap().heal();
    advance(&net, &[0, 1, 2, 3], 5, Duration::from_secs(120));
    finish(&net, driver, "2|2 partition");
}

#[test]
fn a_200_ms_delay_and_5_percent_loss_on_every_link_slow_the_chain_but_lose_nothing() {
    // Every link between validators crosses a relay (this kernel has no
    // netem): first with no delay, then 200 ms each way and 5 % of the
    // packets dropped on each node's link, then clear again.
    let mut net = Net::in_lab_relayed(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let driver = Driver::start(&net, CONSUMERS, USES);
    advance(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    let lab = net.lab.as_ref().unwrap();
    lab.relays
        .as_ref()
        .unwrap()
        .set_delay(Duration::from_millis(200));
    lab.set_loss(5);
    let (from, started) = (top(&net, &[0, 1, 2, 3]), std::time::Instant::now());
    let (acked, relayed) = (driver.acknowledged(), lab.relays.as_ref().unwrap().bytes());
    // The chain goes on under the impairment, and so does the history.
    advance(&net, &[0, 1, 2, 3], 6, Duration::from_secs(240));
    assert!(
        wait_until(
            "txs to be acknowledged under delay and loss",
            Duration::from_secs(120),
            || driver.acknowledged() > acked
        ),
        "no tx was acknowledged under delay and loss"
    );
    let (relayed, dropped) = (
        lab.relays.as_ref().unwrap().bytes() - relayed,
        lab.dropped_packets(),
    );
    eprintln!(
        "200 ms + 5 %: {} heights in {:.1} s, {} txs acknowledged, {relayed} bytes relayed, {dropped} packets dropped",
        top(&net, &[0, 1, 2, 3]) - from,
        started.elapsed().as_secs_f64(),
        driver.acknowledged() - acked
    );
    // The validators' traffic crossed the relays, and the loss rules bit.
    assert!(
        relayed > 0 && dropped > 0,
        "relayed {relayed} bytes, dropped {dropped} packets"
    );
    lab.set_loss(0);
    lab.relays.as_ref().unwrap().set_delay(Duration::ZERO);
    finish(&net, driver, "200 ms delay + 5 % loss");
}

#[test]
fn a_1_3_partition_lets_the_three_commit_and_the_one_catch_up() {
    let (net, driver) = lab(4);
    advance(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    net.lab.as_ref().unwrap().partition(&[&[3], &[0, 1, 2]]);
    let cut_at = top(&net, &[0, 1, 2, 3]);
    advance(&net, &[0, 1, 2], 8, Duration::from_secs(90));
    let alone = net.height(3).unwrap();
    assert!(
        alone <= cut_at + 1,
        "the cut-off node went on committing alone: {alone} (cut at {cut_at})"
    );
    net.lab.as_ref().unwrap().heal();
    let target = top(&net, &[0, 1, 2]) + 2;
    net.wait_height(3, target, Duration::from_secs(120));
    finish(&net, driver, "1|3 partition");
}

#[test]
fn a_stopped_proposer_is_skipped_and_catches_up_after_sigcont() {
    let (net, driver) = lab(4);
    advance(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    // Four validators take turns: the proposer of the last block proposes
    // again four heights on, so stopping it stops a coming proposer.
    let victim = proposer_of(&net, net.height(0).unwrap());
    signal(&net, victim, "-STOP");
    let others: Vec<usize> = (0..4).filter(|&i| i != victim).collect();
    advance(&net, &others, 8, Duration::from_secs(120));
    signal(&net, victim, "-CONT");
    let target = top(&net, &others) + 2;
    net.wait_height(victim, target, Duration::from_secs(120));
    finish(&net, driver, "SIGSTOP of a proposer");
}

#[test]
fn validators_six_seconds_ahead_and_behind_do_not_stop_the_chain() {
    assert!(
        std::path::Path::new(FAKETIME).exists(),
        "{FAKETIME} is missing: apt-get install faketime (.ci/run does)"
    );
    let mut net = Net::in_lab(4);
    // Block times more than 5 s ahead of a node's clock are refused: node 2
    // proposes blocks the others must refuse, node 3 sees every honest block
    // as 6 s early. The other two and node 2 still make a quorum.
    for (i, skew) in [(2, "+6s"), (3, "-6s")] {
        net.nodes[i].env = vec![
            ("LD_PRELOAD".into(), FAKETIME.into()),
            ("FAKETIME".into(), skew.into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
        ];
    }
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let driver = Driver::start(&net, CONSUMERS, USES);
    advance(&net, &[0, 1, 2, 3], 12, Duration::from_secs(180));
    let report = finish(&net, driver, "clock skew ±6 s");
    // The skew took effect: blocks stamped 6 s ahead never got a quorum, so
    // the node ahead proposed none of the committed blocks (in turn it
    // would have proposed a quarter of them).
    let by: Vec<usize> = (2..=report.heights).map(|h| proposer_of(&net, h)).collect();
    assert!(
        !by.contains(&2),
        "a block stamped by the node 6 s ahead was committed: proposers {by:?}"
    );
    assert!(
        by.contains(&3),
        "the node behind proposes accepted blocks: {by:?}"
    );
}

#[test]
fn a_full_disk_stops_a_node_with_one_clear_line_and_it_recovers_once_space_returns() {
    let mut net = Net::in_lab(4);
    let data = net.nodes[3].home.join("data");
    let images = net.dir.path().to_path_buf();
    let mut store = SmallDisk::mount(images.join("store.img"), data.join("store"), 256);
    let mut wal = SmallDisk::mount(images.join("wal.img"), data.join("wal"), 8);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let driver = Driver::start(&net, CONSUMERS, USES);
    // The store's disk fills up: the node stops, saying so.
    advance(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    store.hog();
    let line = exits_with_one_line(&mut net, 3, "full store disk");
    assert!(
        line.starts_with("error: ")
            && line.contains("data/store")
            && line.contains("no space left"),
        "the last line names the full store and says it is out of space: {line}"
    );
    advance(&net, &[0, 1, 2], 3, Duration::from_secs(60));
    store.free();
    net.start(3);
    let target = top(&net, &[0, 1, 2]) + 2;
    net.wait_height(3, target, Duration::from_secs(120));
    // The WAL's disk fills up. The WAL is reset at every height; once its
    // blocks are gone, a height's votes no longer fit: the engine stops
    // signing (nothing unlogged is sent) and the node exits saying why.
    advance(&net, &[0, 1, 2, 3], 3, Duration::from_secs(60));
    wal.hog();
    let line = exits_with_one_line(&mut net, 3, "full WAL disk");
    assert!(
        line.starts_with("error: ") && line.contains("data/wal") && line.contains("no space left"),
        "the last line names the WAL's full disk: {line}"
    );
    advance(&net, &[0, 1, 2], 3, Duration::from_secs(60));
    wal.free();
    net.start(3);
    let target = top(&net, &[0, 1, 2]) + 2;
    net.wait_height(3, target, Duration::from_secs(120));
    finish(&net, driver, "disk full (store, then WAL)");
}

#[test]
fn a_corrupt_wal_stops_the_node_naming_the_file_and_the_safe_way_back() {
    let mut net = Net::started(4);
    let driver = Driver::start(&net, CONSUMERS, USES);
    let wal = net.nodes[3].home.join("data/wal/consensus.wal");
    // Killed mid-height with entries in its WAL, a byte of them flipped. If
    // the kill came after the height committed (the journal has it) but
    // before the WAL was reset, the restarted node starts the next height
    // and rightly discards that WAL, corrupt or not: then again.
    let mut tries = 0;
    loop {
        tries += 1;
        assert!(
            tries <= 20,
            "never restarted node 3 on a WAL it had to replay"
        );
        let has_entries = wait_until(
            "node 3's WAL to hold entries",
            Duration::from_secs(60),
            || std::fs::metadata(&wal).is_ok_and(|m| m.len() > 300),
        );
        assert!(has_entries, "the WAL never held a height's entries");
        net.kill9(3);
        let mut bytes = std::fs::read(&wal).unwrap();
        if bytes.len() <= 300 {
            net.start(3);
            continue;
        }
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(&wal, &bytes).unwrap();
        net.start(3);
        let stopped = wait_until(
            "node 3 to refuse its corrupt WAL",
            Duration::from_secs(20),
            || !net.nodes[3].running(),
        );
        if stopped {
            break;
        }
        let h = net.height(3).unwrap_or(0);
        net.wait_height(3, h + 1, Duration::from_secs(60));
    }
    let line = exits_with_one_line(&mut net, 3, "corrupt WAL");
    assert!(
        line.starts_with("error: ")
            && line.contains("consensus.wal")
            && line.contains("move it away and restart only once"),
        "the last line names the corrupt WAL and the safe way back: {line}"
    );
    // The way back it names: the others pass that height, the WAL moves away.
    let height: u64 = line
        .split("signed at height ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("the line names the height: {line}"));
    advance(&net, &[0, 1, 2], 1, Duration::from_secs(60));
    net.wait_height(0, height, Duration::from_secs(60));
    std::fs::rename(&wal, wal.with_extension("wal.corrupt")).unwrap();
    net.start(3);
    let target = top(&net, &[0, 1, 2]) + 2;
    net.wait_height(3, target, Duration::from_secs(120));
    finish(&net, driver, "corrupt WAL");
}

#[test]
fn killing_all_four_validators_at_once_repeatedly_loses_no_acknowledged_tx() {
    let rounds: u64 = std::env::var("ASSENT_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut net = Net::started(4);
    let driver = Driver::start(&net, CONSUMERS, USES);
    let seed = std::process::id() as u64;
    for k in 0..rounds {
        // Under load: the history acknowledges txs between the kills.
        let before = driver.acknowledged();
        let progress = wait_until(
            "the history to make progress",
            Duration::from_secs(120),
            || driver.acknowledged() >= before + 10,
        );
        assert!(progress, "no tx was acknowledged between kills");
        // A different moment each time: after 1 to 3 more heights.
        advance(
            &net,
            &[0, 1, 2, 3],
            1 + (seed + k) % 3,
            Duration::from_secs(60),
        );
        let had = top(&net, &[0, 1, 2, 3]);
        for i in 0..4 {
            net.kill9(i);
        }
        net.start_all();
        for i in 0..4 {
            net.wait_height(i, had + 1, Duration::from_secs(120));
        }
    }
    let after = driver.acknowledged();
    let resumed = wait_until("the history to resume", Duration::from_secs(120), || {
        driver.acknowledged() >= after + CONSUMERS as u64
    });
    assert!(resumed, "the history did not resume after the last restart");
    finish(&net, driver, "kill -9 of all four");
}
