#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Interest tags matched on the consumer's side (ARCHITECTURE.md decision
//! 33), with the real `assent` CLI against a real devnet: alice declares
//! tags, acme posts requests for some tags and for none; `assent consumer
//! requests --matching` shows alice exactly the requests for her tags and
//! the open one, `my-tags` reads her tags back (also in a fresh home that
//! has only her key). Nothing the node answers about alice, nor any block, holds her tags.

use std::path::Path;
use std::process::Output;

use assent_tests::Net;
use serde_json::{json, Value};

/// `assent --output json ARGS` in `home`.
fn assent_in(net: &Net, home: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    assent_tests::assent_in(net, home, &all)
}

fn json_in(net: &Net, home: &Path, args: &[&str]) -> Value {
    let out = assent_in(net, home, args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

/// Request ids, in the order of the answer.
fn ids(v: &Value) -> Vec<String> {
    v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn requests_for_a_consumers_tags_are_found_by_its_key_and_by_nothing_else() {
    let net = Net::started(1);
    let home = net.dir.path();
    let cli = |args: &[&str]| json_in(&net, home, args);

    let reg = cli(&[
        "consumer",
        "register",
        "--from",
        "alice",
        "--tag",
        "trailrunning,beekeeping",
    ]);
    assert_eq!(reg["status"], "committed", "{reg}");
    assert_eq!(reg["your_tags"], json!(["trailrunning", "beekeeping"]));
    let alice = reg["sender"].as_str().unwrap().to_string();

    let mut posted = vec![];
    for target in [Some("trailrunning"), Some("chess"), None] {
        let mut args = vec![
            "request",
            "post",
            "--from",
            "acme",
            "--category",
            "Purchase",
            "--purpose",
            "DirectMarketing",
            "--level",
            "aggregate",
            "--price",
            "2",
            "--duration",
            "1h",
        ];
        if let Some(t) = target {
            args.extend(["--target-tag", t]);
        }
        let r = cli(&args);
        assert_eq!(r["status"], "committed", "{r}");
        posted.push(r["tx_id"].as_str().unwrap().to_string());
    }
    let (for_her, for_chess, for_all) = (&posted[0], &posted[1], &posted[2]);

    // Every request, each marked on alice's machine.
    let all = cli(&["consumer", "requests", "--key", "alice"]);
    assert_eq!(all["tags"], json!(["beekeeping", "trailrunning"]), "{all}");
    assert_eq!(all["padding"], 14);
    assert_eq!(ids(&all).len(), 3);
    for r in all["requests"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        assert_eq!(r["matches"], json!(id != for_chess), "{r}");
        let want = if id == for_her {
            json!(["trailrunning"])
        } else {
            json!([])
        };
        assert_eq!(r["your_tags_targeted"], want, "{r}");
    }
    let mut matching = ids(&cli(&[
        "consumer",
        "requests",
        "--key",
        "alice",
        "--matching",
    ]));
    matching.sort();
    let mut want = vec![for_her.clone(), for_all.clone()];
    want.sort();
    assert_eq!(matching, want);

    // A new set: beekeeping dropped; the chess request now matches.
    let set = cli(&[
        "consumer",
        "tags",
        "--from",
        "alice",
        "--tag",
        "chess,trailrunning",
    ]);
    assert_eq!(set["status"], "committed", "{set}");
    let now = cli(&["consumer", "my-tags", "--key", "alice"]);
    assert_eq!(now["tags"], json!(["chess", "trailrunning"]), "{now}");
    assert_eq!(
        ids(&cli(&[
            "consumer",
            "requests",
            "--key",
            "alice",
            "--matching"
        ]))
        .len(),
        3
    );

    // In a fresh home with only alice's key file: the tags requests target
    // are found from the chain; one no request targets needs --candidate.
    let fresh = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fresh.path().join("keys")).unwrap();
    std::fs::copy(
        home.join("keys/alice.json"),
        fresh.path().join("keys/alice.json"),
    )
    .unwrap();
    let back = json_in(
        &net,
        fresh.path(),
        &["consumer", "my-tags", "--key", "alice"],
    );
    assert_eq!(back["tags"], json!(["chess", "trailrunning"]), "{back}");
    assert_eq!(back["unknown"], 0);

    let v = net.get(0, &format!("/v1/consumers/{alice}/tags")).unwrap();
    assert_eq!(v["commitments"].as_array().unwrap().len(), 16, "{v}");

    // Nothing the node serves about alice, and no block, names a tag that
    // no request targets.
    let mut served = vec![v.to_string()];
    for route in ["earnings", "consents", "policies", "uses", "links"] {
        served.push(
            net.get(0, &format!("/v1/consumers/{alice}/{route}"))
                .unwrap()
                .to_string(),
        );
    }
    served.push(
        net.get(0, &format!("/v1/accounts/{alice}"))
            .unwrap()
            .to_string(),
    );
    for h in 1..=net.height(0).unwrap() {
        served.push(net.get(0, &format!("/v1/blocks/{h}")).unwrap().to_string());
    }
    assert!(
        !served.iter().any(|s| s.contains("beekeeping")),
        "a declared tag is on the chain"
    );
}
