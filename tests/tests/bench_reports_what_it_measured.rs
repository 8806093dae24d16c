//! `assent bench` against a real 4-validator network: it admits and funds its
//! enterprises through governance and the mint, registers consumers, sends a
//! mixed load, and its JSON summary accounts for every tx it sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

use assent_tests::{bin, Net};

#[test]
fn bench_reports_what_it_measured() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let summary = net.dir.path().join("bench.json");
    let out = Command::new(bin("assent"))
        .args(["bench", "--home"])
        .arg(net.dir.path())
        .args([
            "--duration",
            "3s",
            "--rate",
            "300",
            "--consumers",
            "200",
            "--enterprises",
            "4",
            "--drain",
            "60s",
            "--json-out",
        ])
        .arg(&summary)
        .env("ASSENT_PASSPHRASE", assent_tests::PASS)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("committed") && stdout.contains("summary: {"),
        "{stdout}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let setup = &s["setup"];
    assert_eq!(setup["submitted"], 400, "{setup}");
    assert_eq!(
        setup["committed"], 400,
        "every registration and grant applied: {setup}"
    );
    assert_eq!(s["submitted"], 900, "{s}");
    // Every tx sent is accounted for: committed, rejected in a block, refused or lost.
    let sum = |v: &serde_json::Value| -> u64 {
        v.as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum()
    };
    let committed = s["committed"].as_u64().unwrap();
    let accounted =
        committed + sum(&s["rejected"]) + sum(&s["refused"]) + s["lost"].as_u64().unwrap();
    assert_eq!(accounted, 900, "{s}");
    assert!(committed >= 800, "a light load commits: {s}");
    assert_eq!(
        s["latency_ms"]["samples"].as_u64().unwrap(),
        committed + sum(&s["rejected"]),
        "one latency per tx seen in a block"
    );
    assert!(s["latency_ms"]["p50"].as_f64().unwrap() > 0.0);
    // Latency from when the target rate made each tx due is never below
    // latency from its admitted submission (a tx is sent once due, or later
    // after backpressure); the setup, offered as fast as accepted, has none.
    for p in ["p50", "p99", "max"] {
        let due = s["latency_from_schedule_ms"][p].as_f64().unwrap();
        assert!(due >= s["latency_ms"][p].as_f64().unwrap(), "{p}: {s}");
    }
    assert!(setup["latency_from_schedule_ms"].is_null(), "{setup}");
    assert!(stdout.contains("from schedule"), "{stdout}");
    assert!(s["uses_settled"].as_u64().unwrap() > 0, "{s}");
    // What the measured run cost the 4 validators, and the openssl yardstick
    // (a null R is allowed, with a note, on a machine without openssl).
    assert!(
        s["validator_cpu_us_per_tx"]
            .as_f64()
            .is_some_and(|x| x > 0.0),
        "{s}"
    );
    assert_eq!(s["validators_sampled"], 4, "{s}");
    assert!(
        s["bytes_written_per_tx"].as_f64().is_some_and(|x| x >= 0.0),
        "{s}"
    );
    match s["r"].as_f64() {
        Some(r) => assert!(r > 0.0, "{s}"),
        None => assert!(
            s["r"].is_null() && !s["notes"].as_array().unwrap().is_empty(),
            "{s}"
        ),
    }
    // How much of the machine's CPU stayed idle: a share of all cores.
    assert!(
        s["machine_idle_pct"]
            .as_f64()
            .is_some_and(|x| (0.0..=100.0).contains(&x)),
        "{s}"
    );
    assert!(
        stdout.contains("validator CPU")
            && stdout.contains("yardstick")
            && stdout.contains("machine idle"),
        "{stdout}"
    );
    // The chain agrees: the settled uses are on every node.
    let h = net.height(0).unwrap();
    for i in 1..4 {
        net.wait_height(i, h, Duration::from_secs(30));
        assert_eq!(net.block_roots(i, h), net.block_roots(0, h));
    }
}

fn bench_err(args: &[&str]) -> String {
    let out = Command::new(bin("assent"))
        .arg("bench")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "bench {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bench_refuses_bad_flags_and_a_missing_devnet_with_one_clear_line() {
    let empty = tempfile::tempdir().unwrap();
    let home = empty.path().to_str().unwrap();
    for (args, says) in [
        (vec!["--home", home], "no devnet in"),
        (vec!["--home", home, "--rate", "0"], "--txs"),
        (vec!["--home", home, "--mix", "mint=3"], "unknown kind"),
        (vec!["--home", home, "--mix", "use=0"], "above 0"),
        (
            vec!["--home", home, "--uses-per-record", "0"],
            "--uses-per-record",
        ),
        (vec!["--home", home, "--duration", "soon"], "duration"),
    ] {
        let err = bench_err(&args);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Nothing was written to the directory it was pointed at.
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[test]
fn replay_of_a_missing_or_broken_home_is_one_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(bin("assentd"))
        .args(["replay", "--home"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("config.toml"),
        "{err}"
    );
    std::fs::write(empty.path().join("config.toml"), "moniker = [").unwrap();
    let out = Command::new(bin("assentd"))
        .args(["replay", "--home"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(empty.path().join("config.toml")).unwrap(),
        "moniker = ["
    );
}
