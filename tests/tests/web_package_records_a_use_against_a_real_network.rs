//! The TypeScript package `web/assent-js` against real `assentd` processes:
//! its README example (`examples/record-use.mjs`) runs under Node.js with
//! alice's and acme's seeds: alice registers with a tag through the package
//! (salted commitments, padded and sorted as the CLI makes them) and reads
//! it back with her key, grants acme, acme records a use, alice reads her
//! earnings, every read signed by the package (RFC 9421) and checked by the
//! node. The `assent` CLI then recovers the same tag from the commitments
//! the package made. Without `node` and `npm` on the PATH the test says so
//! loudly and passes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assent_tests::web::{install, node_available, npm, package_dir};
use assent_tests::Net;

#[test]
fn web_package_records_a_use_against_a_real_network() {
    if !node_available("web/assent-js's real-network test") {
        return;
    }
    let dir = package_dir();
    install(&dir);
    npm(&dir, &["run", "build"]);

    let net = Net::started(4);
    let alice = net.key("alice");
    let acme = net.key("acme");
    let mut child = Command::new("node")
        .arg("examples/record-use.mjs")
        .current_dir(&dir)
        .env("ASSENT_NODE", &net.nodes[1].api)
        .env("ALICE_SEED", hex::encode(alice.seed()))
        .env("ACME_SEED", hex::encode(acme.seed()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The script waits on each tx with its own 30 s deadline; this one
    // bounds the whole run. Reading the pipes to their end waits for exit.
    let deadline = Instant::now() + Duration::from_secs(150);
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let errs = std::thread::spawn(move || {
        let mut s = String::new();
        err_pipe.read_to_string(&mut s).unwrap();
        s
    });
    out_pipe.read_to_string(&mut stdout).unwrap();
    stderr.push_str(&errs.join().unwrap());
    let status = child.wait().unwrap();
    assert!(Instant::now() < deadline, "the example took too long");
    assert!(
        status.success(),
        "examples/record-use.mjs failed ({status}):\n{stdout}\n{stderr}"
    );
    let result: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    // 2 units at 3 points: 6 paid; the operators' 10 % of 6 rounds down to 0.
    let settled = &result["events"][0]["use_settled"];
    assert_eq!(settled["paid"], 6, "{result}\n{stderr}");
    assert_eq!(result["earned"], 6, "{result}");
    // What the script showed before signing is what the bytes said.
    assert!(
        stderr.contains(&format!("signing: {} (nonce ", acme.account()))
            && stderr.contains("record 1 use of consumers' data"),
        "{stderr}"
    );
    // The package made alice's tag commitments and read them back with her key.
    assert_eq!(
        result["tags"],
        serde_json::json!({ "tags": ["runner"], "padding": 15, "unknown": 0 }),
        "{result}"
    );
    assert_eq!(result["tag_commitments"], 16, "{result}");
    assert!(
        stderr.contains("register as a consumer with 16 tag commitments (epoch "),
        "{stderr}"
    );
    // The CLI, with alice's key, reads the package's set as its own: same
    // salts, same padding.
    let out = net.cli(
        0,
        &[
            "--output",
            "json",
            "consumer",
            "my-tags",
            "--key",
            "alice",
            "--candidate",
            "runner,vegan",
        ],
    );
    assert!(
        out.status.success(),
        "assent consumer my-tags failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mine: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(mine["tags"], serde_json::json!(["runner"]), "{mine}");
    assert_eq!(
        (&mine["padding"], &mine["unknown"]),
        (&15.into(), &0.into()),
        "{mine}"
    );
    // The node saw the package's read signatures and took them.
    let consents = net
        .get(0, &format!("/v1/consumers/{}/consents", alice.account()))
        .unwrap();
    assert_eq!(
        consents["consents"][0]["id"], result["consent"],
        "{consents}"
    );
}
