//! Runs the TypeScript package's own tests (`web/assent-js`: `npm ci` when
//! its `node_modules` is missing, then `npm test`: tsc, then `node --test`),
//! so `cargo test --workspace` covers them: they check the package against
//! the golden vectors `web_vectors_are_pinned.rs` pins. Without `node` and
//! `npm` on the PATH the test says so loudly and passes; the machines and CI
//! of this project have Node.js 20 and npm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/assent-js")
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

fn npm(dir: &Path, args: &[&str]) {
    let out = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("NO_COLOR", "1")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("npm_config_update_notifier", "false")
        .output()
        .unwrap_or_else(|e| panic!("npm {args:?} did not start: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "`npm {}` in {} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        args.join(" "),
        dir.display(),
        out.status
    );
    // The node test runner's summary (`# pass N`, `# fail 0`).
    let summary = ["# tests ", "# pass ", "# fail ", "# skipped "];
    for line in stdout
        .lines()
        .filter(|l| summary.iter().any(|s| l.starts_with(s)))
    {
        println!("assent-js {line}");
    }
}

#[test]
fn the_typescript_package_passes_its_tests_against_the_shared_vectors() {
    if !have("node") || !have("npm") {
        eprintln!(
            "\n\n!!! SKIPPED: web/assent-js's tests need `node` and `npm` on the PATH \
             (Debian: apt-get install nodejs npm); the package is NOT tested in this run !!!\n\n"
        );
        return;
    }
    let dir = package_dir();
    if !dir.join("node_modules/.bin/tsc").exists() {
        npm(&dir, &["ci", "--no-audit", "--no-fund"]);
    }
    npm(&dir, &["test"]);
}
