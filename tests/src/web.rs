//! Running the TypeScript package `web/assent-js` from tests: its
//! directory, whether Node.js is here, and `npm` with its output checked.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `web/assent-js` of this checkout.
pub fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/assent-js")
}

/// Whether `tool --version` runs.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether `node` and `npm` are on the PATH; if not, says loudly that
/// `what` is not tested in this run.
pub fn node_available(what: &str) -> bool {
    if have("node") && have("npm") {
        return true;
    }
    eprintln!(
        "\n\n!!! SKIPPED: {what} needs `node` and `npm` on the PATH (Debian: apt-get install nodejs npm); it is NOT tested in this run !!!\n\n"
    );
    false
}

/// `npm ARGS` in `dir`; panics with both outputs if it fails. Its stdout.
pub fn npm(dir: &Path, args: &[&str]) -> String {
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
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`npm {}` in {} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        args.join(" "),
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `npm ci` unless the package's dev tools are installed.
pub fn install(dir: &Path) {
    if !dir.join("node_modules/.bin/tsc").exists() {
        npm(dir, &["ci", "--no-audit", "--no-fund"]);
    }
}
