//! The consumer web app in real headless Chromium against four real
//! `assentd` processes, the page served by one of them at `/app/`.
//! `web/app/test/browser.mjs` (puppeteer-core) plays a consumer: creates a
//! key in the browser, registers with tags, grants acme; acme records a use
//! from the `assent` CLI and the page shows it and the earnings without a
//! reload; the consumer rates acme; pause, resume and revoke through the page; acme's next use is
//! refused and the page says why; the export downloads; a wrong passphrase
//! is refused; 简体中文; the node goes away and the page says so. It records
//! every request the page made and takes screenshots at desktop and phone
//! widths into `target/web-app-screenshots/`. This test then checks what
//! the script saw against the chain itself.
//!
//! Without Node.js or Chromium the test says so loudly and passes; `.ci/run`
//! installs Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use assent_tests::web::{app_dir, chromium, install, node_available};
use assent_tests::{bin, wait_until, Net, PASS};

/// Where the screenshots go: `target/web-app-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/<test> -> target/
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    target.join("web-app-screenshots")
}

#[test]
fn a_consumer_runs_the_web_app_in_chromium_against_a_real_network() {
    if !node_available("the web app's browser test") {
        return;
    }
    let Some(chromium) = chromium("the web app's browser test") else {
        return;
    };
    let dir = app_dir();
    install(&dir);

    let net = Net::started(4);
    let node = &net.nodes[1];
    let app_url = format!("{}/app/", node.api);
    let shots = screenshot_dir();
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let mut child = Command::new("node")
        .arg("test/browser.mjs")
        .current_dir(&dir)
        .env("APP_URL", &app_url)
        .env("ASSENT_BIN", bin("assent"))
        .env("ASSENT_HOME", net.dir.path())
        .env("ASSENT_NODE", &node.api)
        .env("ASSENT_PASSPHRASE", PASS)
        .env("ASSENT_KDF", "fast")
        .env("ENTERPRISE", "acme")
        .env("NODE_PID", node.pid().unwrap().to_string())
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The script bounds each of its steps with a deadline; reading the
    // pipes to their end waits for it to exit.
    let mut err_pipe = child.stderr.take().unwrap();
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        err_pipe.read_to_string(&mut s).unwrap();
        s
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let stderr = errs.join().unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "test/browser.mjs failed ({status}); screenshots (failure.png) in {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        shots.display()
    );
    let last = stdout.lines().last().unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(last).unwrap_or_else(|e| {
        panic!("the script's last line is not its JSON report ({e}):\n{stdout}")
    });
    println!("browser report: {report}");

    // Every request the page made went to the node it came from.
    let origin = node.api.trim_end_matches('/');
    assert_eq!(
        report["origins"],
        serde_json::json!([origin]),
        "the page made requests elsewhere: {report}"
    );
    assert!(report["requests"].as_u64().unwrap() > 10, "{report}");

    // What the page showed is what the chain holds. Node 1 is gone (the
    // script stopped it to see the page say so); node 0 answers.
    let account = report["account"].as_str().unwrap();
    let consent = report["consent"].as_str().unwrap();
    let consents = net
        .get(0, &format!("/v1/consumers/{account}/consents"))
        .unwrap();
    let ours = consents["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == consent)
        .unwrap_or_else(|| panic!("consent {consent} is not {account}'s: {consents}"));
    assert_eq!(ours["status"], "ConsentWithdrawn", "{ours}");
    // The rating the page gave acme is the one on the chain.
    assert!(report["rating"].as_u64().is_some(), "{report}");
    assert_eq!(ours["rating"], report["rating"], "{ours}\n{report}");
    let earnings = net
        .get(0, &format!("/v1/consumers/{account}/earnings"))
        .unwrap();
    let earned = earnings["earned"].as_u64();
    assert!(earned.is_some_and(|e| e > 0), "{earnings}");
    assert_eq!(report["earned"].as_u64(), earned, "{report}\n{earnings}");
    let uses = net
        .get(0, &format!("/v1/consumers/{account}/uses"))
        .unwrap();
    assert_eq!(
        report["uses_shown"].as_u64(),
        uses["uses"].as_array().map(|u| u.len() as u64),
        "{report}\n{uses}"
    );
    assert!(
        report["refused_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{report}"
    );
    assert!(report["export_bytes"].as_u64().unwrap() > 0, "{report}");
    assert!(
        report["zh_sample"]
            .as_str()
            .is_some_and(|s| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "no Chinese text on the page in 简体中文: {report}"
    );

    // The screenshots exist and are PNGs, at both widths.
    let names: Vec<String> = report["screenshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    for width in ["desktop", "phone"] {
        assert!(
            names.iter().any(|n| n.contains(width)),
            "no {width} screenshot: {names:?}"
        );
    }
    for name in &names {
        let path = shots.join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            path.display()
        );
    }
    println!("screenshots in {}", shots.display());

    // The script stopped node 1; the other three still commit.
    let h = net.height(0).unwrap();
    assert!(
        wait_until("the other nodes to commit", Duration::from_secs(30), || {
            net.height(0).is_some_and(|now| now > h)
        }),
        "the network stopped after the page's node went away"
    );
}
