//! `assent devnet up` starts one `assentd start --home DIR/node-i` per
//! validator, records their pids, waits until every node's API reports
//! height >= 2, and then returns (`--detach`, stopped later by `devnet
//! down`) or stays until Ctrl-C and stops the nodes itself.
//!
//! `assentd` here is a shell script that marks its start and idles until
//! SIGTERM; the test serves each node's `GET /v1/status` (one block higher
//! at each call) once the script has started, so the CLI's port check sees
//! free ports first.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::fake_node::{Answer, FakeNode};
use common::{expect_clean_failure, expect_ok, json, Home};
use serde_json::json;

const N: u16 = 2;
const DEADLINE: Duration = Duration::from_secs(30);

const FAKE_ASSENTD: &str = r#"#!/bin/sh
# fake assentd: `start --home DIR`; marks its start, idles until SIGTERM
touch "$3/fake-started"
trap 'kill $! 2>/dev/null; exit 0' TERM
sleep 60 &
wait $!
"#;

fn fake_assentd(home: &Home) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = home.file("assentd");
    std::fs::write(&p, FAKE_ASSENTD).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A base port whose devnet ports (base + 10 i + 0..3) are all free now;
/// each test of this file gets its own `lane` so they never pick the same.
fn free_base(lane: u16) -> u16 {
    let start = 20_000 + (std::process::id() % 500) as u16 * 40 + lane * 20;
    (0..250u16)
        .map(|k| start + k * 80)
        .find(|base| {
            (0..N).all(|i| {
                (0..3).all(|d| TcpListener::bind(("127.0.0.1", base + 10 * i + d)).is_ok())
            })
        })
        .expect("no free ports")
}

/// Waits for a condition, up to [`DEADLINE`].
fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + DEADLINE;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Once every fake node has started, serves its status on its API port.
fn serve_status(dir: &Path, base: u16) -> Vec<FakeNode> {
    (0..N)
        .map(|i| {
            let marker = dir.join(format!("node-{i}/fake-started"));
            wait_until("the fake assentd to start", || marker.exists());
            let listener = TcpListener::bind(("127.0.0.1", base + 10 * i + 2)).unwrap();
            // Each answer is one block higher: the chain is being committed.
            let height = AtomicU64::new(3);
            FakeNode::on(listener, move |_| {
                let h = height.fetch_add(1, Ordering::SeqCst);
                Answer::json(200, json!({"chain_id": "assent-devnet-1", "height": h}))
            })
        })
        .collect()
}

fn alive(pid: u64) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn spawn_up(home: &Home, args: &[&str]) -> Child {
    home.cmd(args)
        .env_remove("ASSENT_PASSPHRASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn detached_nodes_are_found_by_status_and_stopped_by_down() {
    let home = Home::new();
    let assentd = fake_assentd(&home);
    let dir = home.file("devnet");
    let d = dir.to_str().unwrap();
    let base = free_base(0).to_string();
    let up_args = [
        "--output",
        "json",
        "devnet",
        "up",
        "--home",
        d,
        "--validators",
        "2",
        "--detach",
        "--base-port",
        &base,
        "--assentd",
        assentd.to_str().unwrap(),
        "--wait",
        "30s",
    ];
    let child = spawn_up(&home, &up_args);
    let servers = serve_status(&dir, base.parse().unwrap());
    let v = json(&expect_ok(
        child.wait_with_output().unwrap(),
        &["devnet", "up"],
    ));
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    let pids: Vec<u64> = nodes.iter().map(|n| n["pid"].as_u64().unwrap()).collect();
    for n in nodes {
        assert!(n["height"].as_u64().unwrap() >= 4, "{v}");
    }
    assert!(pids.iter().all(|p| alive(*p)));
    let pid_file = std::fs::read_to_string(dir.join("devnet.pids")).unwrap();
    assert_eq!(pid_file.lines().filter(|l| !l.starts_with('#')).count(), 2);
    let examples = v["examples"].as_array().unwrap();
    assert!(examples[0]
        .as_str()
        .unwrap()
        .contains("ASSENT_NODE=http://127.0.0.1:"));
    assert!(examples.iter().any(|e| e
        .as_str()
        .unwrap()
        .starts_with("assent consent grant --from alice")));

    // A second `up` refuses while the nodes run.
    let again = spawn_up(&home, &up_args);
    let line = expect_clean_failure(again.wait_with_output().unwrap(), &["devnet", "up"]);
    assert!(
        line.contains("already running") && line.contains("devnet down"),
        "{line}"
    );

    let s = json(&home.ok(&["--output", "json", "devnet", "status", "--home", d]));
    for n in s["nodes"].as_array().unwrap() {
        assert!(n["height"].as_u64().unwrap() >= 4, "{s}");
        assert_eq!(n["running"], true, "{s}");
    }

    drop(servers);
    let down = json(&home.ok(&["--output", "json", "devnet", "down", "--home", d]));
    for n in down["stopped"].as_array().unwrap() {
        assert_eq!(n["result"], "stopped", "{down}");
    }
    assert!(!dir.join("devnet.pids").exists());
    wait_until("the nodes to exit", || pids.iter().all(|p| !alive(*p)));
    let s = home.ok(&["devnet", "status", "--home", d]);
    assert!(s.contains("down (connection refused)"), "{s}");
}

#[test]
fn foreground_up_stops_its_nodes_on_ctrl_c() {
    let home = Home::new();
    let assentd = fake_assentd(&home);
    let dir = home.file("devnet");
    let d = dir.to_str().unwrap();
    let base = free_base(1);
    let base_s = base.to_string();
    let mut child = spawn_up(
        &home,
        &[
            "devnet",
            "up",
            "--home",
            d,
            "--validators",
            "2",
            "--base-port",
            &base_s,
            "--assentd",
            assentd.to_str().unwrap(),
        ],
    );
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let servers = serve_status(&dir, base);
    let mut seen = Vec::new();
    let end = Instant::now() + DEADLINE;
    while !seen.iter().any(|l: &String| l.contains("press Ctrl-C")) {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => panic!("no ready message; output so far: {seen:?}"),
        }
    }
    assert!(
        seen.iter()
            .any(|l| l.starts_with("devnet running: 2 validators")),
        "{seen:?}"
    );
    let pids: Vec<u64> = std::fs::read_to_string(dir.join("devnet.pids"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    drop(servers);

    assert!(Command::new("kill")
        .args(["-s", "INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "devnet up did not exit after Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let rest: Vec<String> = rx.iter().collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("Ctrl-C; stopping the nodes")),
        "{rest:?}"
    );
    assert_eq!(
        rest.iter().filter(|l| l.ends_with(") stopped")).count(),
        2,
        "{rest:?}"
    );
    assert!(!dir.join("devnet.pids").exists());
    assert!(pids.iter().all(|p| !alive(*p)));
}

#[test]
fn a_port_in_use_is_named_with_the_fix() {
    let home = Home::new();
    let assentd = fake_assentd(&home);
    let dir = home.file("devnet");
    let base = free_base(2);
    let _taken = TcpListener::bind(("127.0.0.1", base + 2)).unwrap();
    let out = home
        .cmd(&[
            "devnet",
            "up",
            "--home",
            dir.to_str().unwrap(),
            "--validators",
            "2",
            "--detach",
            "--base-port",
            &base.to_string(),
            "--assentd",
            assentd.to_str().unwrap(),
        ])
        .env_remove("ASSENT_PASSPHRASE")
        .output()
        .unwrap();
    let line = expect_clean_failure(out, &["devnet", "up"]);
    assert!(
        line.contains(&format!(
            "port {} (API of node-0) is already in use",
            base + 2
        )) && line.contains("assent devnet down")
            && line.contains(&format!("lsof -i :{}", base + 2)),
        "{line}"
    );
    assert!(!dir.join("devnet.pids").exists(), "nothing was started");
    assert!(!dir.join("node-0/fake-started").exists());
}
