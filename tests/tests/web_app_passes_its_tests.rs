//! Runs the web app's own tests (`web/app`: `npm ci` when its dev tools are
//! missing, then `npm test`: the type-check, its unit tests — the two
//! languages' catalogues have the same keys, the key vault encrypts and
//! refuses a wrong passphrase under WebCrypto, backup files, request
//! matching, the event-stream parser — and the check that the committed
//! `web/app/dist`, which assentd embeds, is what the sources build). Without
//! `node` and `npm` on the PATH the test says so loudly and passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_tests::web::{app_dir, install, node_available, npm};

#[test]
fn the_web_app_passes_its_tests_and_its_built_files_are_current() {
    if !node_available("web/app's own tests") {
        return;
    }
    let dir = app_dir();
    install(&dir);
    let stdout = npm(&dir, &["test"]);
    assert!(
        stdout.contains("# fail 0"),
        "the node test runner reported failures:\n{stdout}"
    );
    assert!(stdout.contains("dist/ is up to date"), "{stdout}");
    for line in stdout.lines().filter(|l| l.starts_with("# pass ")) {
        println!("web/app {line}");
    }
}
