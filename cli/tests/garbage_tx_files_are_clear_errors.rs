//! `assent tx decode` refuses anything but one canonical signed tx, with one
//! line that names what is wrong, and never panics.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Home, CHAIN};

fn signed_hex(home: &Home) -> String {
    let to = home.key("to");
    home.key("me");
    home.ok(&[
        "tx",
        "build",
        "transfer",
        "--to",
        &to,
        "--amount",
        "1",
        "--from",
        "me",
        "--nonce",
        "0",
        "--chain-id",
        CHAIN,
        "--out",
        "-",
    ])
}

fn decode_fails(home: &Home, name: &str, content: &[u8]) -> String {
    let path = home.file(name);
    std::fs::write(&path, content).unwrap();
    home.fails(&["tx", "decode", path.to_str().unwrap(), "--chain-id", CHAIN])
}

#[test]
fn garbage_truncated_and_extended_files_name_the_problem() {
    let home = Home::new();
    let good = signed_hex(&home);
    let digits = good.trim();

    let line = decode_fails(&home, "words.tx", b"hello world\n");
    assert!(line.contains("not hex: `h` at offset 0"), "{line}");

    let line = decode_fails(
        &home,
        "odd.tx",
        format!("{}\n", &digits[..digits.len() - 1]).as_bytes(),
    );
    assert!(line.contains("not hex: odd number of hex digits"), "{line}");

    let line = decode_fails(
        &home,
        "short.tx",
        format!("{}\n", &digits[..digits.len() - 20]).as_bytes(),
    );
    assert!(
        line.contains("do not decode") && line.contains("end early"),
        "{line}"
    );

    let line = decode_fails(&home, "long.tx", format!("{digits}00\n").as_bytes());
    assert!(line.contains("1 trailing bytes"), "{line}");

    let line = decode_fails(&home, "empty.tx", b"");
    assert!(line.contains("empty"), "{line}");

    let line = decode_fails(&home, "blank.tx", b"  \n\n");
    assert!(line.contains("empty"), "{line}");

    let line = decode_fails(&home, "zeros.bin", &[0u8; 3]);
    assert!(line.contains("do not decode"), "{line}");

    let line = home.fails(&["tx", "decode", home.file("missing.tx").to_str().unwrap()]);
    assert!(line.contains("cannot open"), "{line}");
}

#[test]
fn raw_bytes_decode_like_their_hex() {
    let home = Home::new();
    let good = signed_hex(&home);
    let raw = hex::decode(good.trim()).unwrap();
    let path = home.file("raw.bin");
    std::fs::write(&path, &raw).unwrap();
    let d = common::json(&home.ok(&[
        "tx",
        "decode",
        path.to_str().unwrap(),
        "--chain-id",
        CHAIN,
        "--output",
        "json",
    ]));
    assert_eq!(d["signature_valid"], true);
    assert_eq!(d["kind"], "Transfer");

    // A flipped bit in the signature still decodes but no longer verifies.
    let mut bad = raw.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    let line = home.fails(&["tx", "decode", path.to_str().unwrap(), "--chain-id", CHAIN]);
    assert!(line.contains("does not verify"), "{line}");
}

#[test]
fn random_bytes_never_panic() {
    let home = Home::new();
    // A fixed pseudo-random sequence: the same inputs on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..40 {
        let len = (i * 7) % 200;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        for format in ["auto", "raw", "hex"] {
            let path = home.file("r.bin");
            std::fs::write(&path, &bytes).unwrap();
            let out = home.run(&["tx", "decode", path.to_str().unwrap(), "--format", format]);
            if !out.status.success() {
                common::expect_clean_failure(out, &["tx", "decode", format]);
            }
        }
    }
}
