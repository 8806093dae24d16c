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

/// `npm ci` unless every dev dependency in the package's `package.json` is
/// installed in its `node_modules`.
pub fn install(dir: &Path) {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("package.json")).expect("package.json"),
    )
    .expect("package.json is JSON");
    let installed = manifest["devDependencies"].as_object().is_some_and(|deps| {
        deps.keys().all(|d| {
            dir.join("node_modules")
                .join(d)
                .join("package.json")
                .exists()
        })
    });
    if !installed {
        npm(dir, &["ci", "--no-audit", "--no-fund"]);
    }
}

/// `web/app` (the consumer web app) of this checkout.
pub fn app_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/app")
}

/// The Chromium to drive: `$CHROMIUM`, else Debian's `/usr/bin/chromium`;
/// if there is none, says loudly that `what` is not tested in this run.
pub fn chromium(what: &str) -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return Some(path);
    }
    eprintln!(
        "\n\n!!! SKIPPED: {what} needs Chromium at {} (Debian: apt-get install chromium chromium-driver; .ci/run installs it); it is NOT tested in this run !!!\n\n",
        path.display()
    );
    None
}
