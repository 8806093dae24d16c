//! Node commands fail the way the CLI promises (one `error:` line, non-zero
//! exit): a node that is down or answers garbage is named with what to do;
//! garbage tx files and bad account arguments are refused before any
//! network call; accounts may be given as addresses or key names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fake_node::{closed_port, Answer, FakeNode};
use common::{hex32, Home, CHAIN};
use serde_json::json;

/// A node that must not be called: it records requests, and answers 500.
fn silent_node() -> FakeNode {
    FakeNode::start(|_| Answer::json(500, json!({"code": "internal", "message": "unexpected"})))
}

#[test]
fn a_node_that_is_down_is_one_clear_line() {
    let home = Home::new();
    home.key("alice");
    let url = format!("http://127.0.0.1:{}", closed_port());
    for args in [
        vec!["status"],
        vec!["balance", "alice"],
        vec!["consent", "list", "alice"],
        vec!["tx", "status", &hex32(1)],
        vec!["consumer", "register", "--from", "alice"],
    ] {
        let mut full = vec!["--node", url.as_str()];
        full.extend_from_slice(&args);
        let line = home.fails(&full);
        assert_eq!(
            line,
            format!("error: cannot reach the node at {url}: connection refused — is the devnet running? start it with `assent devnet up`"),
            "{args:?}"
        );
    }
    // ASSENT_NODE is the same as --node; a bad URL is named.
    let out = home
        .cmd(&["status"])
        .env("ASSENT_NODE", &url)
        .output()
        .unwrap();
    let line = common::expect_clean_failure(out, &["status"]);
    assert!(line.contains("connection refused"), "{line}");
    let line = home.fails(&["--node", "https://example.org", "status"]);
    assert!(line.contains("https is not supported"), "{line}");
}

#[test]
fn a_node_that_answers_garbage_is_one_clear_line() {
    let home = Home::new();
    let node = FakeNode::start(|_| Answer {
        status: 200,
        body: "<html>hello</html>".into(),
    });
    let line = home.fails(&["--node", &node.url(), "status"]);
    assert!(
        line.contains(&format!(
            "the node at {} gave an answer to GET /v1/status that is not the assent API",
            node.url()
        )) && line.contains("not JSON"),
        "{line}"
    );
    let wrong = FakeNode::start(|_| Answer::json(200, json!({"hello": "world"})));
    let line = home.fails(&["--node", &wrong.url(), "status"]);
    assert!(line.contains("not the assent API"), "{line}");
}

#[test]
fn garbage_tx_files_are_refused_before_any_network_call() {
    let home = Home::new();
    let node = silent_node();
    for (name, content) in [
        ("empty.tx", &b""[..]),
        ("words.tx", b"hello world\n"),
        ("short.tx", b"abcd\n"),
        ("bytes.tx", &[0xff, 0x00, 0x13, 0x37][..]),
    ] {
        let path = home.file(name);
        std::fs::write(&path, content).unwrap();
        let line = home.fails(&[
            "--node",
            &node.url(),
            "tx",
            "submit",
            path.to_str().unwrap(),
        ]);
        assert!(line.contains(name), "{line}");
    }
    let line = home.fails(&["--node", &node.url(), "tx", "submit", "/no/such/file.tx"]);
    assert!(line.contains("cannot open /no/such/file.tx"), "{line}");
    let line = home.fails(&["--node", &node.url(), "tx", "status", "not-an-id"]);
    assert!(line.starts_with("error: ID:"), "{line}");
    for bad in ["v1/status", "//evil.example/v1/status", "/v1/has space"] {
        let line = home.fails(&["--node", &node.url(), "get", bad]);
        assert!(line.contains("PATH must be a route"), "{line}");
    }
    assert!(node.routes().is_empty(), "{:?}", node.routes());
}

#[test]
fn key_names_and_accounts_both_name_accounts() {
    let home = Home::new();
    home.key("alice");
    let acme = home.key("acme");
    let node = silent_node();
    let url = node.url();
    let grant = |enterprise: &str| {
        home.fails(&[
            "--node",
            &url,
            "consent",
            "grant",
            "--from",
            "alice",
            "--enterprise",
            enterprise,
            "--category",
            "Purchase",
            "--purpose",
            "DirectMarketing",
            "--level",
            "aggregate",
            "--price",
            "1",
        ])
    };
    let line = grant("nosuchkey");
    assert!(
        line.starts_with("error: --enterprise: `nosuchkey` is not an account (assent1…) and there is no key `nosuchkey` in"),
        "{line}"
    );
    let line = grant("assent1nope");
    assert!(
        line.starts_with("error: --enterprise: `assent1nope` is not an account address"),
        "{line}"
    );
    let line = grant("Acme Corp");
    assert!(line.contains("neither an account"), "{line}");
    let line = home.fails(&["--node", &url, "balance"]);
    assert!(line.contains("give the account"), "{line}");
    let line = home.fails(&["--node", &url, "balance", "--key", "bob"]);
    assert!(line.contains("there is no key `bob`"), "{line}");
    let line = home.fails(&[
        "--node", &url, "transfer", "--from", "bob", "--to", "acme", "--amount", "1",
    ]);
    assert!(line.contains("no key named `bob`"), "{line}");
    assert!(node.routes().is_empty(), "{:?}", node.routes());

    // Offline, a key name and the account it names sign the same payload.
    let build = |to: &str| {
        home.ok(&[
            "--output",
            "json",
            "tx",
            "build",
            "transfer",
            "--to",
            to,
            "--amount",
            "5",
            "--from",
            "alice",
            "--nonce",
            "0",
            "--chain-id",
            CHAIN,
            "--out",
            "-",
        ])
    };
    assert_eq!(build("acme"), build(&acme));
}

#[test]
fn devnet_up_without_assentd_says_how_to_build_it() {
    let home = Home::new();
    // A copy of `assent` in a directory without `assentd`, and an empty PATH.
    let bin = home.file("bin");
    std::fs::create_dir(&bin).unwrap();
    let assent = bin.join("assent");
    std::fs::copy(env!("CARGO_BIN_EXE_assent"), &assent).unwrap();
    let dir = home.file("net");
    let run = || {
        std::process::Command::new(&assent)
            .args(["devnet", "up", "--home", dir.to_str().unwrap()])
            .env("PATH", home.file("empty-path"))
            .env("ASSENT_KDF", "fast")
            .env_remove("ASSENT_ASSENTD")
            .env_remove("ASSENT_HOME")
            .output()
    };
    // A freshly written executable is briefly "busy" while a process that
    // another test thread forks holds its descriptor until it execs: a
    // transient error of the copy, retried a bounded number of times.
    let mut tries = 0;
    let out = loop {
        match run() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other.unwrap(),
        }
    };
    let line = common::expect_clean_failure(out, &["devnet", "up"]);
    assert!(
        line.contains("cannot find `assentd`") && line.contains("cargo build --release"),
        "{line}"
    );
    assert!(
        !dir.exists(),
        "nothing is created when the node binary is missing"
    );
}

#[test]
fn devnet_add_node_without_a_devnet_or_a_running_one_says_what_to_do() {
    let home = Home::new();
    let dir = home.file("none");
    let line = home.fails(&["devnet", "add-node", "--home", dir.to_str().unwrap()]);
    assert!(
        line.contains("no devnet in") && line.contains("devnet up"),
        "{line}"
    );
    assert!(!dir.exists(), "nothing is created");
    // A devnet laid out but not running: nothing to follow, nothing added.
    let net = home.file("net");
    home.ok(&[
        "devnet",
        "up",
        "--no-start",
        "--validators",
        "4",
        "--home",
        net.to_str().unwrap(),
        "--base-port",
        "29600",
    ]);
    let line = home.fails(&[
        "devnet",
        "add-node",
        "--no-start",
        "--home",
        net.to_str().unwrap(),
    ]);
    assert!(
        line.contains("answers") && line.contains("devnet up"),
        "{line}"
    );
    assert!(!net.join("node-4").exists(), "no node directory was made");
}
