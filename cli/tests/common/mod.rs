//! Runs the real `assent` binary in a throwaway home directory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod fake_node;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const PASS: &str = "correct horse battery staple";
pub const CHAIN: &str = "assent-test-1";

/// A home directory and the environment every run gets.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A command with a fast KDF, the test passphrase, and nothing inherited
    /// that could change the outcome.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_assent"));
        c.args(args)
            .env("ASSENT_HOME", self.path())
            .env("ASSENT_KDF", "fast")
            .env("ASSENT_PASSPHRASE", PASS)
            .env_remove("ASSENT_CHAIN_ID")
            .env_remove("ASSENT_NODE")
            .env_remove("ASSENT_ASSENTD")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        expect_ok(self.run(args), args)
    }

    /// Runs and expects a clean failure; returns the one stderr line.
    pub fn fails(&self, args: &[&str]) -> String {
        expect_clean_failure(self.run(args), args)
    }

    /// Creates key `name` (fast KDF) and returns its account.
    pub fn key(&self, name: &str) -> String {
        self.ok(&["keys", "new", name]);
        self.ok(&["keys", "show", name]).trim().to_string()
    }
}

pub fn expect_ok(out: Output, args: &[&str]) -> String {
    assert!(
        out.status.success(),
        "assent {args:?} failed: {}\nstdout: {}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A failure the way the CLI promises it: non-zero exit, no panic, exactly
/// one `error: ...` line on stderr.
pub fn expect_clean_failure(out: Output, args: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "assent {args:?} succeeded");
    assert_ne!(
        out.status.code(),
        Some(101),
        "assent {args:?} panicked: {err}"
    );
    assert!(!err.contains("panicked"), "assent {args:?} panicked: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "assent {args:?}: expected one stderr line, got {err:?}"
    );
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_string()
}

pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// 64 hex characters made of one repeated byte.
pub fn hex32(byte: u8) -> String {
    hex::encode([byte; 32])
}
