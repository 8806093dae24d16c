//! The fault campaign, short form: four real validators, each in its own
//! network namespace, under a client history (registrations, grants,
//! revocations, uses, transfers), with one fault per scenario. After each,
//! the checker (`assent_tests::history::check`) reads every node's chain:
//! no acknowledged tx lost, no fork, no use settled after a committed
//! revocation, points conserved, no equivocation. Needs root and iproute2
//! (and libfaketime for the clock scenario); `.ci/run` installs them.
//!
//! The long campaign (every scenario, repeatedly, under heavier load) is
//! `fault_campaign_long`, ignored here: see FAULTS.md for its command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use assent_tests::history::{check, Checker, Driver, Report};
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

/// The highest height any of `nodes` reports.
fn top(net: &Net, nodes: &[usize]) -> u64 {
    nodes
        .iter()
        .filter_map(|&i| net.height(i))
        .max()
        .unwrap_or(0)
}

/// Waits until every one of `nodes` is `more` heights past where the
/// highest of them is now.
fn advance(net: &Net, nodes: &[usize], more: u64, limit: Duration) {
    let target = top(net, nodes) + more;
    for &i in nodes {
        net.wait_height(i, target, limit);
    }
}

/// Watches `nodes` for `period`: none may pass `height`.
fn stays_at_most(net: &Net, nodes: &[usize], height: u64, period: Duration) {
    let end = Instant::now() + period;
    while Instant::now() < end {
        for &i in nodes {
            if let Some(h) = net.height(i) {
                assert!(
                    h <= height,
                    "node {i} committed height {h} (> {height}) while it could not reach a quorum\n{}",
                    net.log_tail(i)
                );
            }
        }
        // Sampling interval of an observation window, not a wait.
        std::thread::sleep(Duration::from_millis(200));
    }
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

/// The node index whose validator proposed block `h`.
fn proposer_of(net: &Net, h: u64) -> usize {
    let block = net.get(0, &format!("/v1/blocks/{h}")).unwrap();
    let proposer = block["header"]["proposer"].as_str().unwrap().to_string();
    let genesis: toml::Value =
        toml::from_str(&std::fs::read_to_string(net.genesis_path()).unwrap()).unwrap();
    genesis["validators"]
        .as_array()
        .unwrap()
        .iter()
        .position(|v| {
            v["consensus_key"].as_str() == Some(&proposer)
                || v["operator"].as_str() == Some(&proposer)
        })
        .unwrap_or_else(|| panic!("proposer {proposer} of block {h} is not a genesis validator"))
}

fn signal(net: &Net, i: usize, sig: &str) {
    let pid = net.nodes[i].pid().expect("the node runs");
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
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

/// libfaketime, installed by `.ci/run` (Debian's `faketime`).
const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

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

/// A small ext4 disk (a loop-mounted image, 1 KiB blocks) mounted at a
/// directory, unmounted on drop. [`SmallDisk::hog`] takes every block that
/// is or becomes free until [`SmallDisk::free`].
struct SmallDisk {
    at: std::path::PathBuf,
    filler: std::path::PathBuf,
    hog: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl SmallDisk {
    fn mount(image: std::path::PathBuf, at: std::path::PathBuf, mib: u32) -> SmallDisk {
        std::fs::create_dir_all(&at).unwrap();
        let run = |cmd: &mut Command| {
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{cmd:?}: {} (the test needs root, e2fsprogs and loop devices)",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::File::create(&image)
            .unwrap()
            .set_len(u64::from(mib) << 20)
            .unwrap();
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-b", "1024", "-m", "0"])
            .arg(&image));
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&at));
        let filler = at.join("filler");
        SmallDisk {
            at,
            filler,
            hog: None,
        }
    }

    /// Takes every free block now and every block freed later (a file the
    /// node truncates gives its blocks back to the hog, not to the node).
    fn hog(&mut self) {
        use std::io::Write as _;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let mut f = std::fs::File::create(&self.filler).unwrap();
        let big = vec![0u8; 1 << 20];
        while f.write_all(&big).is_ok() {}
        let chunk = vec![0u8; 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if f.write_all(&chunk).is_err() {
                    // Retry pacing of a disk hog, not a wait for a condition.
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        });
        self.hog = Some((stop, thread));
    }

    fn free(&mut self) {
        if let Some((stop, thread)) = self.hog.take() {
            stop.store(true, Ordering::Relaxed);
            thread.join().unwrap();
        }
        std::fs::remove_file(&self.filler).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if let Some((stop, _)) = &self.hog {
            stop.store(true, Ordering::Relaxed);
        }
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

/// Waits for node `i` to exit by itself; returns the last line it printed.
fn exits_with_one_line(net: &mut Net, i: usize, what: &str) -> String {
    let exited = wait_until(
        &format!("node {i} to stop ({what})"),
        Duration::from_secs(120),
        || !net.nodes[i].running(),
    );
    assert!(
        exited,
        "node {i} kept running ({what}):\n{}",
        net.log_tail(i)
    );
    let log = std::fs::read_to_string(net.nodes[i].home.join("assentd.log")).unwrap();
    log.lines().last().unwrap_or_default().to_string()
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

/// Peak resident memory (VmHWM) of node `i`'s process, in MiB.
fn peak_rss_mib(net: &Net, i: usize) -> u64 {
    let Some(pid) = net.nodes[i].pid() else {
        return 0;
    };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

/// One row of the campaign's table (summed over the runs of a scenario).
#[derive(Default)]
struct Row {
    runs: u64,
    acked: u64,
    lost: u64,
    divergent: u64,
    after_revocation: u64,
    wrong_balances: u64,
    double_signs: u64,
    signed: u64,
    recovery_max: Duration,
    peak_rss_mib: u64,
    seconds: f64,
}

/// Injects scenario `name`'s fault on a running lab network; returns when
/// the fault is healed (the recovery clock starts then).
fn inject(net: &mut Net, name: &str, disks: &mut [SmallDisk; 2], k: u64) {
    let all = [0, 1, 2, 3];
    match name {
        "partition 2|2" => {
            net.lab.as_ref().unwrap().partition(&[&[0, 1], &[2, 3]]);
            std::thread::sleep(Duration::from_secs(15)); // the fault's duration
            net.lab.as_ref().unwrap().heal();
        }
        "partition 1|3" => {
            let alone = (k % 4) as usize;
            let rest: Vec<usize> = all.into_iter().filter(|&i| i != alone).collect();
            net.lab.as_ref().unwrap().partition(&[&[alone], &rest]);
            advance(net, &rest, 10, Duration::from_secs(120));
            net.lab.as_ref().unwrap().heal();
        }
        "SIGSTOP of the proposer" => {
            let victim = proposer_of(net, net.height(0).unwrap());
            signal(net, victim, "-STOP");
            let rest: Vec<usize> = all.into_iter().filter(|&i| i != victim).collect();
            advance(net, &rest, 10, Duration::from_secs(120));
            signal(net, victim, "-CONT");
        }
        "kill -9 of one" => {
            let victim = (k % 4) as usize;
            net.kill9(victim);
            net.start(victim);
        }
        "kill -9 of all four" => {
            for i in all {
                net.kill9(i);
            }
            net.start_all();
        }
        "clock skew ±6 s" => {
            for (i, skew) in [(1, "+6s"), (2, "-6s")] {
                net.stop(i);
                net.nodes[i].env = vec![
                    ("LD_PRELOAD".into(), FAKETIME.into()),
                    ("FAKETIME".into(), skew.into()),
                    ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
                ];
                net.start(i);
            }
            advance(net, &[0, 3], 10, Duration::from_secs(120));
            for i in [1, 2] {
                net.stop(i);
                net.nodes[i].env.clear();
                net.start(i);
            }
        }
        "store disk full" | "WAL disk full" => {
            let disk = &mut disks[usize::from(name.starts_with("WAL"))];
            disk.hog();
            let line = exits_with_one_line(net, 3, name);
            assert!(line.contains("no space left"), "{name}: {line}");
            advance(net, &[0, 1, 2], 3, Duration::from_secs(120));
            disk.free();
            net.start(3);
        }
        other => panic!("no scenario {other}"),
    }
}

/// The long campaign: every scenario in turn, again and again, under the
/// client history, until ASSENT_CAMPAIGN_MINUTES (30) have passed; each run
/// is checked, and the table (FAULTS.md's) is printed and written to
/// target/fault-campaign.md. Run it with a release build (FAULTS.md).
#[test]
#[ignore = "the long fault campaign; see FAULTS.md for its command"]
fn fault_campaign_long() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let minutes = env("ASSENT_CAMPAIGN_MINUTES", 30);
    let consumers = env("ASSENT_CAMPAIGN_CONSUMERS", 1000) as usize;
    let uses = env("ASSENT_CAMPAIGN_USES", 16) as usize;
    let mut net = Net::in_lab(4);
    let data = net.nodes[3].home.join("data");
    let images = net.dir.path().to_path_buf();
    let mut disks = [
        SmallDisk::mount(images.join("store.img"), data.join("store"), 4096),
        SmallDisk::mount(images.join("wal.img"), data.join("wal"), 8),
    ];
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let scenarios = [
        "partition 2|2",
        "partition 1|3",
        "SIGSTOP of the proposer",
        "kill -9 of one",
        "kill -9 of all four",
        "clock skew ±6 s",
        "store disk full",
        "WAL disk full",
    ];
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    let mut checker = Checker::new(&net);
    let end = Instant::now() + Duration::from_secs(minutes * 60);
    let mut k = 0u64;
    while Instant::now() < end {
        let name = scenarios[(k % scenarios.len() as u64) as usize];
        let started = Instant::now();
        let driver = Driver::start(&net, consumers, uses);
        advance(&net, &[0, 1, 2, 3], 5, Duration::from_secs(120));
        inject(&mut net, name, &mut disks, k);
        let healed = Instant::now();
        let target = top(&net, &[0, 1, 2, 3]) + 1;
        for i in 0..4 {
            net.wait_height(i, target, Duration::from_secs(300));
        }
        let recovery = healed.elapsed();
        advance(&net, &[0, 1, 2, 3], 5, Duration::from_secs(120));
        let rss = (0..4).map(|i| peak_rss_mib(&net, i)).max().unwrap_or(0);
        let history = driver.stop();
        let r = checker.check(&net, &history);
        eprintln!(
            "run {k} ({name}): {} acknowledged in {:.0} s, recovery {recovery:?}, lost {}, divergent {}, after revocation {}, wrong balances {}, double signs {}, peak RSS {rss} MiB{}",
            r.acked,
            started.elapsed().as_secs_f64(),
            r.lost,
            r.divergent,
            r.settled_after_revocation,
            r.wrong_balances,
            r.double_signs,
            if r.problems.is_empty() { String::new() } else { format!("; problems: {:?}", r.problems) }
        );
        let row = rows.entry(name).or_default();
        row.runs += 1;
        row.acked += r.acked as u64;
        row.signed += history.signed;
        row.lost += r.lost as u64;
        row.divergent += r.divergent as u64;
        row.after_revocation += r.settled_after_revocation as u64;
        row.wrong_balances += r.wrong_balances as u64;
        row.double_signs += r.double_signs;
        row.recovery_max = row.recovery_max.max(recovery);
        row.peak_rss_mib = row.peak_rss_mib.max(rss);
        row.seconds += started.elapsed().as_secs_f64();
        k += 1;
    }
    let mut table = String::from(
        "| scenario | faults injected | txs offered (tx/s) | txs acknowledged | lost | divergent heights | used after revocation | wrong balances | double signs | slowest recovery | peak RSS |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for name in scenarios {
        if let Some(r) = rows.get(name) {
            table.push_str(&format!(
                "| {} | {} | {} ({:.0}) | {} | {} | {} | {} | {} | {} | {:.1} s | {} MiB |\n",
                name.replace('|', "\\|"),
                r.runs,
                r.signed,
                r.signed as f64 / r.seconds,
                r.acked,
                r.lost,
                r.divergent,
                r.after_revocation,
                r.wrong_balances,
                r.double_signs,
                r.recovery_max.as_secs_f64(),
                r.peak_rss_mib
            ));
        }
    }
    eprintln!("{table}");
    let out = assent_tests::bin("assentd")
        .parent()
        .unwrap()
        .join("fault-campaign.md");
    std::fs::write(&out, &table).unwrap();
    let bad: u64 = rows
        .values()
        .map(|r| r.lost + r.divergent + r.after_revocation + r.wrong_balances + r.double_signs)
        .sum();
    assert_eq!(bad, 0, "the campaign found violations:\n{table}");
}
