//! Processes of a devnet: finding `assentd`, starting it, asking whether a
//! pid is still one of our nodes, and stopping it (SIGTERM, then SIGKILL
//! after a grace period). Signals go through the `kill` command, so no
//! unsafe code is needed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::devnet::{PidEntry, LOG_FILE};

/// How often a stopping process is looked at.
const POLL: Duration = Duration::from_millis(100);

/// The binary's file name.
const ASSENTD: &str = "assentd";

/// `assentd`: `--assentd PATH` / `ASSENT_ASSENTD`, else next to this
/// executable, else on PATH.
pub fn find_assentd(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        if p.is_file() {
            return Ok(p);
        }
        bail!(
            "--assentd: {} is not a file; build the node with `cargo build --release` (it is target/release/assentd)",
            p.display()
        );
    }
    let exe = format!("{ASSENTD}{}", std::env::consts::EXE_SUFFIX);
    let mut looked = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        let p = dir.join(&exe);
        if p.is_file() {
            return Ok(p);
        }
        looked.push(dir.display().to_string());
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(&exe);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    looked.push("PATH".into());
    bail!(
        "cannot find `{ASSENTD}` (looked in {}): build it with `cargo build --release`, or pass --assentd PATH",
        looked.join(" and ")
    )
}

/// One node we started.
#[derive(Debug)]
pub struct Running {
    pub node: String,
    pub dir: PathBuf,
    pub child: Child,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn entry(&self) -> PidEntry {
        PidEntry {
            node: self.node.clone(),
            pid: self.pid(),
            dir: self.dir.clone(),
        }
    }

    /// `Some(how it ended)` once the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("cannot be watched: {e}")),
        }
    }
}

/// Starts `assentd start --home DIR` with its output appended to DIR/assentd.log.
/// The node gets its own process group, so a Ctrl-C in the terminal reaches
/// only `assent`, which then stops the nodes in order.
pub fn start(assentd: &Path, node: &str, dir: &Path, passphrase: &str) -> Result<Running> {
    let log_path = dir.join(LOG_FILE);
    let log = File::options()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let log2 = log
        .try_clone()
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let mut cmd = Command::new(assentd);
    cmd.arg("start")
        .arg("--home")
        .arg(dir)
        .env("ASSENT_PASSPHRASE", passphrase)
        // The log is a file: no terminal colour codes in it.
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd
        .spawn()
        .map_err(|e| anyhow!("cannot start {} for {node}: {e}", assentd.display()))?;
    Ok(Running {
        node: node.to_string(),
        dir: dir.to_path_buf(),
        child,
    })
}

/// Sends `signal` (TERM, KILL, 0) to `pid`; true if it was delivered.
pub fn send_signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether `pid` exists (it may be anyone's process).
pub fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Whether the command line of `pid` has `arg` as one of its arguments:
/// `Some(answer)`, or `None` if it cannot be read (/proc, else `ps`).
fn has_argument(pid: u32, arg: &str) -> Option<bool> {
    if let Ok(bytes) = std::fs::read(format!("/proc/{pid}/cmdline")) {
        return Some(bytes.split(|b| *b == 0).any(|a| a == arg.as_bytes()));
    }
    let out = Command::new("ps")
        .args(["-p", &pid.to_string(), "-o", "command="])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let cmd = String::from_utf8_lossy(&out.stdout);
    let cmd = cmd.trim_end();
    Some(cmd.ends_with(arg) || cmd.contains(&format!("{arg} ")))
}

/// Whether the pid file's entry is still that node: the pid is alive and
/// its command line names the node's directory (so a reused pid is left alone).
pub fn is_running(e: &PidEntry) -> bool {
    alive(e.pid) && has_argument(e.pid, &e.dir.display().to_string()).unwrap_or(true)
}

/// How one node was stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// It exited after SIGTERM.
    Term,
    /// It had to be killed.
    Killed,
    /// It was not running.
    NotRunning,
}

impl Stopped {
    pub fn words(&self) -> &'static str {
        match self {
            Stopped::Term => "stopped",
            Stopped::Killed => "killed (did not stop within the grace period)",
            Stopped::NotRunning => "was not running",
        }
    }
}

/// After a SIGKILL the node could not remove its own pid file.
fn remove_node_pid_file(dir: &Path) {
    let _ = std::fs::remove_file(dir.join("assentd.pid"));
}

/// Stops nodes we started: SIGTERM to all, then SIGKILL to those still
/// running after `grace`. Every child is reaped.
pub fn stop_children(nodes: &mut [Running], grace: Duration) -> Vec<(String, u32, Stopped)> {
    let mut result: Vec<Option<Stopped>> = nodes
        .iter_mut()
        .map(|n| {
            if n.exited().is_some() {
                Some(Stopped::NotRunning)
            } else {
                send_signal(n.pid(), "TERM");
                None
            }
        })
        .collect();
    let deadline = Instant::now() + grace;
    while result.iter().any(Option::is_none) && Instant::now() < deadline {
        std::thread::sleep(POLL);
        for (n, r) in nodes.iter_mut().zip(result.iter_mut()) {
            if r.is_none() && n.exited().is_some() {
                *r = Some(Stopped::Term);
            }
        }
    }
    for (n, r) in nodes.iter_mut().zip(result.iter_mut()) {
        if r.is_none() {
            let _ = n.child.kill();
            let _ = n.child.wait();
            remove_node_pid_file(&n.dir);
            *r = Some(Stopped::Killed);
        }
    }
    nodes
        .iter()
        .zip(result)
        .map(|(n, r)| (n.node.clone(), n.pid(), r.unwrap_or(Stopped::NotRunning)))
        .collect()
}

/// Stops nodes listed in a pid file (not our children): SIGTERM, then
/// SIGKILL after `grace`.
pub fn stop_listed(entries: &[PidEntry], grace: Duration) -> Vec<(PidEntry, Stopped)> {
    let mut result: Vec<Option<Stopped>> = entries
        .iter()
        .map(|e| {
            if is_running(e) && send_signal(e.pid, "TERM") {
                None
            } else {
                Some(Stopped::NotRunning)
            }
        })
        .collect();
    let deadline = Instant::now() + grace;
    while result.iter().any(Option::is_none) && Instant::now() < deadline {
        std::thread::sleep(POLL);
        for (e, r) in entries.iter().zip(result.iter_mut()) {
            if r.is_none() && !is_running(e) {
                *r = Some(Stopped::Term);
            }
        }
    }
    for (e, r) in entries.iter().zip(result.iter_mut()) {
        if r.is_none() {
            send_signal(e.pid, "KILL");
            remove_node_pid_file(&e.dir);
            *r = Some(Stopped::Killed);
        }
    }
    entries
        .iter()
        .cloned()
        .zip(result.into_iter().map(|r| r.unwrap_or(Stopped::NotRunning)))
        .collect()
}

/// The last non-empty line of a log, shortened, for error messages.
pub fn log_tail(path: &Path) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).to_string())
        .unwrap_or_default();
    let last = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("(the log is empty)");
    let short: String = last.chars().take(200).collect();
    if short.len() < last.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Whether something already listens on 127.0.0.1:`port`.
pub fn port_in_use(port: u16) -> bool {
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::AddrInUse,
    }
}

/// Ctrl-C and SIGTERM, caught from the moment nodes are started, so that
/// an interrupted `devnet up` stops what it started instead of dying.
#[derive(Debug)]
pub struct Signals {
    hit: Arc<Mutex<Option<&'static str>>>,
}

impl Signals {
    /// Catches the signals from now on (a thread waits for them).
    pub fn install() -> Result<Signals> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot watch for Ctrl-C")?;
        let hit = Arc::new(Mutex::new(None));
        let seen = hit.clone();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (mut int, mut term) = {
                let _guard = rt.enter();
                (
                    signal(SignalKind::interrupt()).context("cannot watch for Ctrl-C")?,
                    signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?,
                )
            };
            std::thread::spawn(move || {
                rt.block_on(async move {
                    let which = tokio::select! {
                        _ = int.recv() => "Ctrl-C",
                        _ = term.recv() => "SIGTERM",
                    };
                    if let Ok(mut h) = seen.lock() {
                        *h = Some(which);
                    }
                });
            });
        }
        #[cfg(not(unix))]
        std::thread::spawn(move || {
            rt.block_on(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    if let Ok(mut h) = seen.lock() {
                        *h = Some("Ctrl-C");
                    }
                }
            });
        });
        Ok(Signals { hit })
    }

    /// The signal received so far, if any.
    pub fn received(&self) -> Option<&'static str> {
        self.hit.lock().ok().and_then(|h| *h)
    }
}
