//! Helpers of the fault scenarios (`tests/faults_in_a_real_network.rs`,
//! `tests/fault_campaign_long.rs`, the Byzantine test): waiting on heights,
//! watching that none pass, signals, small disks that fill up, the clock
//! skew library, memory figures of a node.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{wait_until, Net};

/// The highest height any of `nodes` reports.
pub fn top(net: &Net, nodes: &[usize]) -> u64 {
    nodes
        .iter()
        .filter_map(|&i| net.height(i))
        .max()
        .unwrap_or(0)
}

/// Waits until every one of `nodes` is `more` heights past where the
/// highest of them is now.
pub fn advance(net: &Net, nodes: &[usize], more: u64, limit: Duration) {
    let target = top(net, nodes) + more;
    for &i in nodes {
        net.wait_height(i, target, limit);
    }
}

/// Watches `nodes` for `period`: none may pass `height`.
pub fn stays_at_most(net: &Net, nodes: &[usize], height: u64, period: Duration) {
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

/// The node index whose validator proposed block `h`.
pub fn proposer_of(net: &Net, h: u64) -> usize {
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

pub fn signal(net: &Net, i: usize, sig: &str) {
    let pid = net.nodes[i].pid().expect("the node runs");
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// libfaketime, installed by `.ci/run` (Debian's `faketime`).
pub const FAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A small ext4 disk (a loop-mounted image, 1 KiB blocks) mounted at a
/// directory, unmounted on drop. [`SmallDisk::hog`] takes every block that
/// is or becomes free until [`SmallDisk::free`].
#[derive(Debug)]
pub struct SmallDisk {
    at: std::path::PathBuf,
    filler: std::path::PathBuf,
    hog: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl SmallDisk {
    pub fn mount(image: std::path::PathBuf, at: std::path::PathBuf, mib: u32) -> SmallDisk {
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
    pub fn hog(&mut self) {
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

    pub fn free(&mut self) {
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
pub fn exits_with_one_line(net: &mut Net, i: usize, what: &str) -> String {
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

/// A memory figure of node `i`'s process from /proc (`VmRSS` now, `VmHWM`
/// its peak), in MiB; 0 when it does not run.
pub fn rss_mib(net: &Net, i: usize, field: &str) -> u64 {
    let Some(pid) = net.nodes[i].pid() else {
        return 0;
    };
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}
