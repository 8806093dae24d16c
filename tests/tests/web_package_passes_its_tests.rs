//! Runs the TypeScript package's own tests (`web/assent-js`: `npm ci` when
//! its `node_modules` is missing, then `npm test`: tsc, then `node --test`),
//! so `cargo test --workspace` covers them: they check the package against
//! the golden vectors `web_vectors_are_pinned.rs` pins. Without `node` and
//! `npm` on the PATH the test says so loudly and passes; the machines and CI
//! of this project have Node.js 20 and npm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_tests::web::{install, node_available, npm, package_dir};

#[test]
fn the_typescript_package_passes_its_tests_against_the_shared_vectors() {
    if !node_available("web/assent-js's own tests") {
        return;
    }
    let dir = package_dir();
    install(&dir);
    let stdout = npm(&dir, &["test"]);
    // The node test runner's summary (`# pass N`, `# fail 0`).
    let summary = ["# tests ", "# pass ", "# fail ", "# skipped "];
    for line in stdout
        .lines()
        .filter(|l| summary.iter().any(|s| l.starts_with(s)))
    {
        println!("assent-js {line}");
    }
}
