//! `assent keys`: create, list, show; wrong passphrases, duplicates and bad
//! names are refused with one clear line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{json, Home};

#[test]
fn new_key_is_listed_and_shown_with_its_account() {
    let home = Home::new();
    let created = json(&home.ok(&["--output", "json", "keys", "new", "alice"]));
    let account = created["account"].as_str().unwrap().to_string();
    assert!(account.starts_with("assent1"), "{account}");
    assert_eq!(created["name"], "alice");

    home.ok(&["keys", "new", "bob"]);
    let list = json(&home.ok(&["keys", "list", "--output", "json"]));
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(list[0]["account"], account.as_str());

    // Reading public facts needs no passphrase.
    let shown = home
        .cmd(&["keys", "show", "alice"])
        .env_remove("ASSENT_PASSPHRASE")
        .output()
        .unwrap();
    assert_eq!(common::expect_ok(shown, &["keys", "show"]).trim(), account);
    let text_list = home.ok(&["keys", "list"]);
    assert!(
        text_list.contains("alice") && text_list.contains(&account),
        "{text_list}"
    );
}

#[test]
fn key_file_is_private_and_records_its_kdf() {
    let home = Home::new();
    home.ok(&["keys", "new", "carol"]);
    let path = home.path().join("keys/carol.json");
    let file = json(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(file["version"], 1);
    assert_eq!(file["kdf"]["algorithm"], "argon2id");
    assert_eq!(file["cipher"], "chacha20poly1305");
    assert_eq!(file["nonce"].as_str().unwrap().len(), 24);
    assert_eq!(file["ciphertext"].as_str().unwrap().len(), 96);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}

#[test]
fn default_kdf_is_the_full_argon2id_cost() {
    let home = Home::new();
    let out = home
        .cmd(&["keys", "new", "dave"])
        .env_remove("ASSENT_KDF")
        .output()
        .unwrap();
    common::expect_ok(out, &["keys", "new"]);
    let file = json(&std::fs::read_to_string(home.path().join("keys/dave.json")).unwrap());
    assert_eq!(file["kdf"]["m_cost_kib"], 19456);
    assert_eq!(file["kdf"]["t_cost"], 2);
    // A file made at full cost still opens when tests ask for the fast KDF:
    // the cost comes from the file.
    let to = home.key("erin");
    home.ok(&[
        "tx",
        "build",
        "transfer",
        "--to",
        &to,
        "--amount",
        "1",
        "--from",
        "dave",
        "--nonce",
        "0",
        "--chain-id",
        "c",
        "--out",
        "-",
    ]);
}

#[test]
fn wrong_passphrase_is_a_clear_error() {
    let home = Home::new();
    let to = home.key("alice");
    let out = home
        .cmd(&[
            "tx",
            "build",
            "transfer",
            "--to",
            &to,
            "--amount",
            "1",
            "--from",
            "alice",
            "--nonce",
            "0",
            "--chain-id",
            "c",
        ])
        .env("ASSENT_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    let line = common::expect_clean_failure(out, &["tx", "build"]);
    assert_eq!(
        line,
        "error: wrong passphrase for key alice (decryption failed)"
    );
}

#[test]
fn duplicate_name_is_refused_and_the_key_is_kept() {
    let home = Home::new();
    let first = home.key("alice");
    let line = home.fails(&["keys", "new", "alice"]);
    assert!(line.contains("key `alice` already exists"), "{line}");
    let line = home.fails(&["keys", "import", "alice", "--seed-hex", &common::hex32(7)]);
    assert!(line.contains("already exists"), "{line}");
    assert_eq!(home.ok(&["keys", "show", "alice"]).trim(), first);
}

#[test]
fn bad_names_and_missing_keys_are_refused() {
    let home = Home::new();
    for bad in ["Alice", "a b", "../x", "", &"x".repeat(65)] {
        let line = home.fails(&["keys", "new", bad]);
        assert!(line.contains("is not a valid key name"), "{bad:?}: {line}");
    }
    let line = home.fails(&["keys", "show", "nobody"]);
    assert!(line.contains("no key named `nobody`"), "{line}");
}

#[test]
fn import_gives_the_account_of_the_seed() {
    let home = Home::new();
    let a = json(&home.ok(&[
        "keys",
        "import",
        "one",
        "--seed-hex",
        &common::hex32(1),
        "--output",
        "json",
    ]));
    let b = json(&home.ok(&[
        "keys",
        "import",
        "two",
        "--seed-hex",
        &common::hex32(1),
        "--output",
        "json",
    ]));
    assert_eq!(a["account"], b["account"]);
    let line = home.fails(&["keys", "import", "three", "--seed-hex", "abc"]);
    assert!(line.contains("--seed-hex"), "{line}");
}

#[test]
fn without_a_passphrase_source_it_says_how_to_give_one() {
    let home = Home::new();
    let out = home
        .cmd(&["keys", "new", "alice"])
        .env_remove("ASSENT_PASSPHRASE")
        .output()
        .unwrap();
    let line = common::expect_clean_failure(out, &["keys", "new"]);
    assert!(line.contains("ASSENT_PASSPHRASE"), "{line}");
    let out = home
        .cmd(&["keys", "new", "alice"])
        .env("ASSENT_PASSPHRASE", "")
        .output()
        .unwrap();
    let line = common::expect_clean_failure(out, &["keys", "new"]);
    assert!(line.contains("passphrase is empty"), "{line}");
    assert!(home.ok(&["keys", "list"]).contains("no keys"));
}

#[test]
fn export_seed_gives_back_the_imported_seed_which_web_assent_js_takes() {
    let home = Home::new();
    // The seed of web/assent-js's golden vectors' alice: the package's
    // `SigningKey.fromSeed` gives the account pinned there.
    let seed = "11".repeat(32);
    let imported = json(&home.ok(&[
        "keys",
        "import",
        "alice",
        "--seed-hex",
        &seed,
        "--output",
        "json",
    ]));
    let out = home
        .cmd(&["keys", "export-seed", "alice"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        common::expect_ok(out, &["keys", "export-seed"]).trim(),
        seed
    );
    assert!(
        stderr.contains("whoever sees it controls the account"),
        "{stderr}"
    );
    let exported = json(&home.ok(&["--output", "json", "keys", "export-seed", "alice"]));
    assert_eq!(exported["seed_hex"], seed.as_str());
    assert_eq!(exported["account"], imported["account"]);
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../web/assent-js/test/vectors.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let alice = vectors["txs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["seed"] == seed.as_str())
        .unwrap();
    assert_eq!(alice["account"], imported["account"]);

    let out = home
        .cmd(&["keys", "export-seed", "alice"])
        .env("ASSENT_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    let line = common::expect_clean_failure(out, &["keys", "export-seed"]);
    assert_eq!(
        line,
        "error: wrong passphrase for key alice (decryption failed)"
    );
}

#[test]
fn a_seed_moves_through_a_file_or_stdin_and_garbage_is_refused() {
    use std::io::Write;
    let home = Home::new();
    let seed = common::hex32(9);
    let from_hex = json(&home.ok(&[
        "--output",
        "json",
        "keys",
        "import",
        "a",
        "--seed-hex",
        &seed,
    ]));
    // A file as the web app's "show my secret seed" saves it: a line of hex.
    let file = home.file("seed.txt");
    std::fs::write(&file, format!("{seed}\n")).unwrap();
    let from_file = json(&home.ok(&[
        "--output",
        "json",
        "keys",
        "import",
        "b",
        "--seed-file",
        file.to_str().unwrap(),
    ]));
    assert_eq!(from_file["account"], from_hex["account"]);
    let mut child = home
        .cmd(&[
            "--output",
            "json",
            "keys",
            "import",
            "c",
            "--seed-file",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(seed.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let from_stdin = json(&common::expect_ok(
        out,
        &["keys", "import", "--seed-file", "-"],
    ));
    assert_eq!(from_stdin["account"], from_hex["account"]);

    std::fs::write(&file, "not a seed").unwrap();
    let line = home.fails(&["keys", "import", "d", "--seed-file", file.to_str().unwrap()]);
    assert!(
        line.contains("seed.txt: expected 64 hex characters"),
        "{line}"
    );
    std::fs::write(&file, "0".repeat(4096)).unwrap();
    let line = home.fails(&["keys", "import", "d", "--seed-file", file.to_str().unwrap()]);
    assert!(line.contains("longer than 1024 bytes"), "{line}");
    let line = home.fails(&["keys", "import", "d", "--seed-file", "/nonexistent/seed"]);
    assert!(line.contains("cannot open the seed file"), "{line}");
    let line = home.fails(&["keys", "import", "d"]);
    assert!(line.contains("--seed-file"), "{line}");
    let line = home.fails(&[
        "keys",
        "import",
        "d",
        "--seed-hex",
        &seed,
        "--seed-file",
        "-",
    ]);
    assert!(line.contains("cannot be used with"), "{line}");
    // Nothing half-made: no key `d`.
    assert!(!home.ok(&["keys", "list"]).contains("\nd "));
}
