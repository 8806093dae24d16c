//! The long fault campaign: every scenario of the short form (FAULTS.md) in
//! turn, again and again, on one network in namespaces, each run under a
//! fresh client history and checked, until ASSENT_CAMPAIGN_MINUTES have
//! passed. Ignored in `cargo test`; FAULTS.md has the command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use assent_tests::faults::{
    advance, exits_with_one_line, proposer_of, rss_mib, signal, top, SmallDisk, FAKETIME,
};
use assent_tests::history::{Checker, Driver};
use assent_tests::Net;

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
        "200 ms delay + 5 % loss" => {
            let lab = net.lab.as_ref().unwrap();
            let relays = lab.relays.as_ref().unwrap();
            relays.set_delay(Duration::from_millis(200));
            lab.set_loss(5);
            advance(net, &all, 10, Duration::from_secs(300));
            lab.set_loss(0);
            relays.set_delay(Duration::ZERO);
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
    // Every link crosses a relay, so the delay scenario can slow it (the
    // partitions cut the relays too).
    let mut net = Net::in_lab_relayed(4);
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
        "200 ms delay + 5 % loss",
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
        let rss = (0..4).map(|i| rss_mib(&net, i, "VmHWM")).max().unwrap_or(0);
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
