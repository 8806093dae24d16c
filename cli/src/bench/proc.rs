//! What the kernel counts for each validator process of a local devnet: CPU
//! time from `/proc/PID/stat` and bytes sent to storage from `/proc/PID/io`;
//! and for the whole machine, its cores' idle time from `/proc/stat`.
//! Linux only: elsewhere every read fails, and the bench reports nulls with
//! a note rather than a number it did not measure.
//!
//! A validator is only sampled if its process is an `assentd` whose `--home`
//! is one of the devnet's node directories, so a stale pid file or a reused
//! pid is never counted as a validator.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assent_genesis::Genesis;

use crate::devnet::{self, PID_FILE};

/// Ticks per second when `getconf CLK_TCK` cannot say (the value on every
/// mainstream Linux architecture).
const DEFAULT_CLK_TCK: u64 = 100;

/// The command name `assentd` runs under (the kernel truncates `comm` to
/// 15 bytes; this is shorter).
const ASSENTD: &str = "assentd";

/// Why a `/proc` file did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProcParseError {
    #[error("no `(command)` in /proc/PID/stat")]
    NoComm,
    #[error("/proc/PID/stat has no field {0}")]
    MissingField(usize),
    #[error("field {field} of /proc/PID/stat is `{got}`, not a whole number")]
    NotANumber { field: usize, got: String },
    #[error("no `write_bytes:` line in /proc/PID/io (kernel without I/O accounting?)")]
    NoWriteBytes,
    #[error("`write_bytes:` in /proc/PID/io is `{0}`, not a whole number")]
    BadWriteBytes(String),
    #[error("/proc/stat does not start with the all-cores `cpu` line")]
    NoCpuLine,
    #[error("the `cpu` line of /proc/stat has `{0}` where 8 whole numbers should be")]
    BadCpuLine(String),
}

/// The fields of `/proc/PID/stat` the bench uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Field 2, without its parentheses.
    pub comm: String,
    /// Field 14: user-mode CPU time of all the process's threads, in clock ticks.
    pub utime: u64,
    /// Field 15: kernel-mode CPU time, in clock ticks.
    pub stime: u64,
    /// Field 22: when the process started, in clock ticks after boot; a
    /// different value under the same pid means a different process.
    pub start_time: u64,
}

impl Stat {
    pub fn cpu_ticks(&self) -> u64 {
        self.utime.saturating_add(self.stime)
    }
}

/// Parses `/proc/PID/stat`. `comm` may itself hold spaces and parentheses,
/// and only the last `)` of the line can end it, so fields are counted from there.
pub fn parse_stat(text: &str) -> Result<Stat, ProcParseError> {
    let open = text.find('(').ok_or(ProcParseError::NoComm)?;
    let close = text.rfind(')').ok_or(ProcParseError::NoComm)?;
    if close < open {
        return Err(ProcParseError::NoComm);
    }
    let comm = text[open + 1..close].to_string();
    // The first field after `comm` is field 3 (state).
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let field = |n: usize| -> Result<u64, ProcParseError> {
        let got = rest.get(n - 3).ok_or(ProcParseError::MissingField(n))?;
        got.parse().map_err(|_| ProcParseError::NotANumber {
            field: n,
            got: (*got).to_string(),
        })
    };
    Ok(Stat {
        comm,
        utime: field(14)?,
        stime: field(15)?,
        start_time: field(22)?,
    })
}

/// Parses the `write_bytes:` line of `/proc/PID/io`.
pub fn parse_io_write_bytes(text: &str) -> Result<u64, ProcParseError> {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("write_bytes:"))
        .ok_or(ProcParseError::NoWriteBytes)?;
    let v = line.trim();
    v.parse()
        .map_err(|_| ProcParseError::BadWriteBytes(v.to_string()))
}

/// The whole machine's CPU time so far, all cores, in clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineTicks {
    /// idle + iowait.
    pub idle: u64,
    /// user + nice + system + idle + iowait + irq + softirq + steal (guest
    /// time is counted in user and nice already).
    pub total: u64,
}

/// Parses the first line of `/proc/stat`: `cpu` and the ticks of every core
/// together, by kind.
pub fn parse_machine_ticks(text: &str) -> Result<MachineTicks, ProcParseError> {
    let line = text.lines().next().unwrap_or("");
    let mut fields = line.split_whitespace();
    if fields.next() != Some("cpu") {
        return Err(ProcParseError::NoCpuLine);
    }
    let mut t = [0u64; 8];
    for slot in &mut t {
        let got = fields.next().unwrap_or("(nothing)");
        *slot = got
            .parse()
            .map_err(|_| ProcParseError::BadCpuLine(got.to_string()))?;
    }
    let [user, nice, system, idle, iowait, irq, softirq, steal] = t;
    Ok(MachineTicks {
        idle: idle.saturating_add(iowait),
        total: [user, nice, system, idle, iowait, irq, softirq, steal]
            .iter()
            .fold(0u64, |a, b| a.saturating_add(*b)),
    })
}

/// `/proc/stat`'s all-cores line now, or why not.
pub fn read_machine_ticks() -> Result<MachineTicks, String> {
    let path = "/proc/stat";
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    parse_machine_ticks(&text).map_err(|e| format!("{path}: {e}"))
}

/// Clock ticks per second of `/proc/PID/stat` times. The cli has no libc
/// binding for `sysconf(_SC_CLK_TCK)`, so `getconf` answers; call it once.
pub fn clock_ticks_per_sec() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|t: &u64| *t > 0)
        .unwrap_or(DEFAULT_CLK_TCK)
}

/// `/proc/PID/stat` of a live process, or why not (gone, not Linux, garbled).
pub fn read_stat(pid: u32) -> Result<Stat, String> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    parse_stat(&text).map_err(|e| format!("{path}: {e}"))
}

/// `write_bytes` of `/proc/PID/io`, or why not (it is readable only by the
/// process's owner, and missing without kernel I/O accounting).
pub fn read_write_bytes(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/io");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    parse_io_write_bytes(&text).map_err(|e| format!("{path}: {e}"))
}

/// The `--home` argument of an `assentd` command line (NUL-separated, as in
/// `/proc/PID/cmdline`), in either `--home DIR` or `--home=DIR` form.
pub fn home_argument(cmdline: &[u8]) -> Option<PathBuf> {
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    for (i, a) in args.iter().enumerate() {
        let a = String::from_utf8_lossy(a);
        if a == "--home" {
            let next = args.get(i + 1)?;
            return Some(PathBuf::from(String::from_utf8_lossy(next).into_owned()));
        }
        if let Some(dir) = a.strip_prefix("--home=") {
            return Some(PathBuf::from(dir));
        }
    }
    None
}

/// The node directory `pid` runs in, if it is an `assentd`: its `--home`,
/// resolved against the process's working directory and canonicalized.
fn assentd_home(pid: u32) -> Option<PathBuf> {
    if read_stat(pid).ok()?.comm != ASSENTD {
        return None;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let home = home_argument(&cmdline)?;
    let home = if home.is_relative() {
        std::fs::read_link(format!("/proc/{pid}/cwd"))
            .ok()?
            .join(home)
    } else {
        home
    };
    home.canonicalize().ok()
}

/// One validator process to sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    /// Its node directory's name (`node-0`), as in the pid file.
    pub name: String,
    pub pid: u32,
}

/// The validators found, and what could not be found.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub validators: Vec<Validator>,
    pub notes: Vec<String>,
}

/// The running `assentd` of each node of the devnet in `dir`: first those
/// listed in `DIR/devnet.pids`, then, for nodes it does not list (a network
/// started some other way, e.g. by the integration tests), any `assentd`
/// in `/proc` whose `--home` is the node's directory.
pub fn find_validators(dir: &Path, genesis: &Genesis) -> Found {
    match devnet::plan(dir, genesis) {
        Ok(plans) => {
            let nodes: Vec<(PathBuf, String)> = plans
                .iter()
                .map(|p| (p.dir.clone(), devnet::node_dir_name(p.index)))
                .collect();
            find_nodes(&dir.join(PID_FILE), &nodes)
        }
        Err(e) => Found {
            validators: Vec::new(),
            notes: vec![format!("cannot tell the devnet's node directories: {e}")],
        },
    }
}

/// [`find_validators`] for `nodes` given as (directory, name).
pub fn find_nodes(pid_file: &Path, nodes: &[(PathBuf, String)]) -> Found {
    let mut found = Found::default();
    // Node directory (canonical) → its name; `None` once a process is found.
    let mut wanted: Vec<(Option<PathBuf>, String)> = nodes
        .iter()
        .map(|(d, name)| (d.canonicalize().ok(), name.clone()))
        .collect();
    let mut claim = |pid: u32, found: &mut Found| -> bool {
        let Some(home) = assentd_home(pid) else {
            return false;
        };
        let Some(slot) = wanted
            .iter_mut()
            .find(|(d, _)| d.as_deref() == Some(home.as_path()))
        else {
            return false;
        };
        slot.0 = None;
        found.validators.push(Validator {
            name: slot.1.clone(),
            pid,
        });
        true
    };
    match devnet::read_pids(pid_file) {
        Ok(entries) => {
            for e in entries {
                if !claim(e.pid, &mut found) {
                    found.notes.push(format!(
                        "{} lists {} as pid {}, which is not a running assentd of this devnet",
                        pid_file.display(),
                        e.node,
                        e.pid
                    ));
                }
            }
        }
        Err(e) => found.notes.push(e.to_string()),
    }
    let listed = found.validators.len();
    if listed < nodes.len() {
        if let Ok(entries) = std::fs::read_dir("/proc") {
            let mut pids: Vec<u32> = entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect();
            pids.sort_unstable();
            for pid in pids {
                claim(pid, &mut found);
            }
        }
        if found.validators.len() > listed {
            found.notes.push(format!(
                "{} of the validators found by their --home in /proc, not in {}",
                found.validators.len() - listed,
                pid_file.display()
            ));
        }
    }
    for (_, name) in wanted {
        if !found.validators.iter().any(|v| v.name == name) {
            found.notes.push(format!(
                "{name}: no running assentd with its directory as --home; not sampled"
            ));
        }
    }
    found.validators.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// A real line (bash on this machine).
    const BASH: &str = "3927 (bash) S 3926 3927 3927 0 -1 4194560 4296 44301 2 20 1 4 217 5 20 0 1 0 195439 5124096 1007 18446744073709551615 94034605248512 94034606037917 140725471084912 0 0 0 65536 4 1132560123 1 0 0 17 0 0 0 0 0 0 94034606271216 94034606319460 94035295457280 140725471087485 140725471087500 140725471087500 140725471088618 0\n";

    #[test]
    fn bench_stat_fields_are_counted_from_the_last_paren() {
        let s = parse_stat(BASH).unwrap();
        assert_eq!(s.comm, "bash");
        assert_eq!((s.utime, s.stime, s.start_time), (1, 4, 195439));
        assert_eq!(s.cpu_ticks(), 5);
        // A command name with spaces and parentheses (a thread may rename
        // itself to anything) must not shift the fields.
        let odd = BASH.replace("(bash)", "(tokio (rt) ) x)");
        let s = parse_stat(&odd).unwrap();
        assert_eq!(s.comm, "tokio (rt) ) x");
        assert_eq!((s.utime, s.stime, s.start_time), (1, 4, 195439));
        let assentd = "81234 (assentd) S 1 81234 3927 0 -1 4194304 51234 0 0 0 12345 678 0 0 20 0 9 0 204529 3133440000 38901 18446744073709551615 1 1 0 0 0 0 0 4096 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let s = parse_stat(assentd).unwrap();
        assert_eq!(
            s,
            Stat {
                comm: "assentd".into(),
                utime: 12345,
                stime: 678,
                start_time: 204529
            }
        );
    }

    #[test]
    fn bench_stat_garbage_is_an_error_not_a_number() {
        assert_eq!(parse_stat(""), Err(ProcParseError::NoComm));
        assert_eq!(parse_stat("12 bash S 1"), Err(ProcParseError::NoComm));
        assert_eq!(parse_stat(") x ("), Err(ProcParseError::NoComm));
        assert_eq!(
            parse_stat("12 (bash) S 1 2 3"),
            Err(ProcParseError::MissingField(14))
        );
        let bad = BASH.replace(" 1 4 217 ", " x 4 217 ");
        assert_eq!(
            parse_stat(&bad),
            Err(ProcParseError::NotANumber {
                field: 14,
                got: "x".into()
            })
        );
    }

    #[test]
    fn bench_machine_ticks_are_read_from_the_all_cores_line() {
        // The real layout of /proc/stat (two cores).
        let stat = "cpu  5432 10 2100 90000 300 0 45 5 0 0\ncpu0 2700 5 1050 45000 150 0 20 3 0 0\ncpu1 2732 5 1050 45000 150 0 25 2 0 0\nintr 123 4 5\n";
        assert_eq!(
            parse_machine_ticks(stat),
            Ok(MachineTicks {
                idle: 90_300,
                total: 5432 + 10 + 2100 + 90_000 + 300 + 45 + 5,
            })
        );
        assert_eq!(
            parse_machine_ticks("cpu0 1 2 3 4 5 6 7 8\n"),
            Err(ProcParseError::NoCpuLine)
        );
        assert_eq!(
            parse_machine_ticks("cpu 1 2 3 x 5 6 7 8\n"),
            Err(ProcParseError::BadCpuLine("x".into()))
        );
        assert_eq!(
            parse_machine_ticks("cpu 1 2 3\n"),
            Err(ProcParseError::BadCpuLine("(nothing)".into()))
        );
        assert_eq!(parse_machine_ticks(""), Err(ProcParseError::NoCpuLine));
    }

    #[test]
    fn bench_io_write_bytes_is_read_from_its_line() {
        // The real layout of /proc/PID/io.
        let io = "rchar: 6976\nwchar: 120\nsyscr: 10\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 1638400\ncancelled_write_bytes: 8192\n";
        assert_eq!(parse_io_write_bytes(io), Ok(1_638_400));
        // Not confused with cancelled_write_bytes.
        assert_eq!(
            parse_io_write_bytes("cancelled_write_bytes: 5\n"),
            Err(ProcParseError::NoWriteBytes)
        );
        assert_eq!(
            parse_io_write_bytes("write_bytes: lots\n"),
            Err(ProcParseError::BadWriteBytes("lots".into()))
        );
    }

    #[test]
    fn bench_home_argument_in_both_forms() {
        let c = b"/x/assentd\0start\0--home\0/d/node-1\0";
        assert_eq!(home_argument(c), Some(PathBuf::from("/d/node-1")));
        let c = b"assentd\0start\0--home=node 2\0";
        assert_eq!(home_argument(c), Some(PathBuf::from("node 2")));
        assert_eq!(home_argument(b"assentd\0start\0"), None);
        assert_eq!(home_argument(b"assentd\0--home"), None);
    }

    /// A stand-in `assentd`: a script of that name (the kernel names a
    /// script's process after the script) that waits for its stdin to close.
    fn fake_assentd(bin: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let script = bin.join(ASSENTD);
        std::fs::write(&script, "#!/bin/sh\nread _line\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    fn start(script: &Path, home: &Path) -> std::process::Child {
        // A fork in another test thread can briefly hold the just-written
        // script open, and exec then fails with ETXTBSY: try again.
        for _ in 0..50 {
            match Command::new(script)
                .args(["start", "--home"])
                .arg(home)
                .stdin(Stdio::piped())
                .spawn()
            {
                Ok(c) => return c,
                Err(e) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(e) => panic!("cannot start {}: {e}", script.display()),
            }
        }
        panic!("{} stayed busy", script.display());
    }

    #[test]
    fn bench_validators_are_found_by_pid_file_or_by_home_and_never_by_a_stale_pid() {
        if !Path::new("/proc/self/cmdline").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let nodes: Vec<(PathBuf, String)> = (0..3)
            .map(|i| {
                let d = dir.path().join(format!("node-{i}"));
                std::fs::create_dir(&d).unwrap();
                (d, format!("node-{i}"))
            })
            .collect();
        let script = fake_assentd(dir.path());
        let mut a = start(&script, &nodes[0].0);
        let mut b = start(&script, &nodes[1].0);
        // Wait (with a deadline) until the script has replaced the fork's name.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while [a.id(), b.id()].iter().any(|p| assentd_home(*p).is_none()) {
            assert!(
                std::time::Instant::now() < deadline,
                "fake assentd never ran"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // The pid file lists node-0 and, stale, this test process as node-2.
        let pid_file = dir.path().join(PID_FILE);
        let list = format!(
            "node-0 {} {}\nnode-2 {} {}\n",
            a.id(),
            nodes[0].0.display(),
            std::process::id(),
            nodes[2].0.display()
        );
        std::fs::write(&pid_file, list).unwrap();
        let found = find_nodes(&pid_file, &nodes);
        drop(a.stdin.take());
        drop(b.stdin.take());
        a.wait().unwrap();
        b.wait().unwrap();
        assert_eq!(
            found.validators,
            vec![
                Validator {
                    name: "node-0".into(),
                    pid: a.id()
                },
                Validator {
                    name: "node-1".into(),
                    pid: b.id()
                },
            ]
        );
        let notes = found.notes.join("\n");
        assert!(
            notes.contains("not a running assentd of this devnet"),
            "{notes}"
        );
        assert!(
            notes.contains("1 of the validators found by their --home"),
            "{notes}"
        );
        assert!(notes.contains("node-2: no running assentd"), "{notes}");
    }

    #[test]
    fn bench_own_process_reads_back() {
        // Only on Linux, where /proc exists; elsewhere the bench reports nulls.
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let s = read_stat(std::process::id()).unwrap();
        assert!(s.start_time > 0);
        assert!(clock_ticks_per_sec() > 0);
    }
}
