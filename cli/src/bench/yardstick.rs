//! The machine yardstick of BENCHMARKS.md: how many Ed25519 signatures one
//! core verifies per second (`openssl speed ed25519`), measured in the same
//! session as the run so a tx/s figure can be compared across machines.

use std::process::{Command, Stdio};
use std::time::Duration;

/// Why there is no yardstick figure.
#[derive(Debug, thiserror::Error)]
pub enum YardstickError {
    #[error("the yardstick was skipped (--no-yardstick)")]
    Skipped,
    #[error("openssl is not installed (no `openssl` on PATH)")]
    NotInstalled,
    #[error("cannot run openssl: {0}")]
    Spawn(std::io::Error),
    #[error("`openssl speed ed25519` failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("`openssl speed ed25519` printed no Ed25519 row under a `verify/s` column")]
    NoRow,
    #[error("`openssl speed ed25519` printed `{0}` as verify/s, not a positive number")]
    BadNumber(String),
}

/// Seconds to run each half (sign, verify) of the benchmark: short after a
/// short run (tests, smoke runs), BENCHMARKS.md's 3 s otherwise.
pub fn seconds_for(measured: Duration) -> u64 {
    if measured < Duration::from_secs(10) {
        1
    } else {
        3
    }
}

/// Runs `openssl speed -seconds N ed25519`; Ed25519 verifies per second on one core.
pub fn run(seconds: u64) -> Result<f64, YardstickError> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "ed25519"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => YardstickError::NotInstalled,
            _ => YardstickError::Spawn(e),
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(YardstickError::Failed {
            status: out.status.to_string(),
            stderr: stderr.lines().last().unwrap_or("").trim().to_string(),
        });
    }
    parse_verify_per_sec(&String::from_utf8_lossy(&out.stdout))
}

/// The `verify/s` figure of the Ed25519 row of `openssl speed` output:
///
/// ```text
///                               sign    verify    sign/s verify/s
///  253 bits EdDSA (Ed25519)   0.0001s   0.0002s  14290.0   4959.0
/// ```
///
/// The column is found by its header rather than assumed, so a layout
/// that moved it is an error, not a wrong number.
pub fn parse_verify_per_sec(stdout: &str) -> Result<f64, YardstickError> {
    let mut column: Option<usize> = None;
    for line in stdout.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "verify/s") {
            // Counted from the right: the row's label has more words than the header's.
            column = Some(words.len() - i);
            continue;
        }
        let Some(from_right) = column else {
            continue;
        };
        let Some(close) = line.find("(Ed25519)") else {
            continue;
        };
        let values: Vec<&str> = line[close + "(Ed25519)".len()..]
            .split_whitespace()
            .collect();
        let Some(v) = values
            .len()
            .checked_sub(from_right)
            .and_then(|i| values.get(i))
        else {
            return Err(YardstickError::NoRow);
        };
        return match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
            _ => Err(YardstickError::BadNumber((*v).to_string())),
        };
    }
    Err(YardstickError::NoRow)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// `openssl speed -seconds 1 ed25519` on this machine (OpenSSL 3.0.19), stdout.
    const OPENSSL_3: &str = "version: 3.0.19
built on: Fri Apr  3 12:29:32 2026 UTC
options: bn(64,64)
compiler: gcc -fPIC -pthread -m64 -Wa,--noexecstack -Wall -O2 -DNDEBUG
CPUINFO: OPENSSL_ia32cap=0xfffa32034f8bffff:0x415f46f1bf2ffb
                              sign    verify    sign/s verify/s
 253 bits EdDSA (Ed25519)   0.0001s   0.0002s  14290.0   4959.0
";

    #[test]
    fn bench_yardstick_reads_the_verify_column() {
        assert_eq!(parse_verify_per_sec(OPENSSL_3).unwrap(), 4959.0);
        // OpenSSL 1.1.1 prints the same table under a different preamble.
        let v111 = "OpenSSL 1.1.1w  11 Sep 2023\nbuilt on: reproducible\n                              sign    verify    sign/s verify/s\n 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  26592.0  10397.0\n";
        assert_eq!(parse_verify_per_sec(v111).unwrap(), 10397.0);
    }

    #[test]
    fn bench_yardstick_without_its_row_or_number_is_an_error() {
        assert!(matches!(
            parse_verify_per_sec("version: 3.0.19\n"),
            Err(YardstickError::NoRow)
        ));
        // A row with no header above it is not trusted.
        let no_header = " 253 bits EdDSA (Ed25519)   0.0001s   0.0002s  14290.0   4959.0\n";
        assert!(matches!(
            parse_verify_per_sec(no_header),
            Err(YardstickError::NoRow)
        ));
        let cut = OPENSSL_3.replace("0.0001s   0.0002s  14290.0   4959.0", "");
        assert!(matches!(
            parse_verify_per_sec(&cut),
            Err(YardstickError::NoRow)
        ));
        let bad = OPENSSL_3.replace("4959.0", "n/a");
        assert!(matches!(
            parse_verify_per_sec(&bad),
            Err(YardstickError::BadNumber(s)) if s == "n/a"
        ));
    }

    #[test]
    fn bench_yardstick_runs_the_installed_openssl() {
        // The parser against this machine's openssl, whatever its version;
        // without openssl the bench reports null and so does nothing here.
        match run(1) {
            Ok(v) => assert!(v > 0.0),
            Err(YardstickError::NotInstalled) => {}
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn bench_yardstick_is_short_after_a_short_run() {
        assert_eq!(seconds_for(Duration::from_secs(3)), 1);
        assert_eq!(seconds_for(Duration::from_millis(9_999)), 1);
        assert_eq!(seconds_for(Duration::from_secs(10)), 3);
        assert_eq!(seconds_for(Duration::from_secs(90)), 3);
    }
}
