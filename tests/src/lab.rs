//! A network lab: each node in its own Linux network namespace, joined by
//! veth pairs to one bridge, so that faults cross a real network stack.
//!
//! - Node `i` has the address `10.77.K.(i+1)`; the bridge (this process's
//!   side, where the tests' HTTP clients live) has `10.77.K.254`.
//! - A partition is a set of blackhole routes inside the namespaces: a node
//!   cannot send to the nodes of the other side, while the test still
//!   reaches every node's API. Healing deletes the routes.
//! - Everything is named after this process and removed on drop, also when
//!   a test fails; labs left behind by a killed test run are removed by the
//!   next one.
//!
//! - [`Lab::relay`] routes every link between nodes through user-space
//!   relays on the bridge ([`crate::relay`]) whose delay can be set; a
//!   partition then also cuts the relays. [`Lab::set_loss`] drops a share of
//!   the packets on each node's link (iptables' `statistic` match): the
//!   kernel here has no `sch_netem`, so these stand in for `tc netem delay
//!   … loss …`.
//!
//! It needs root and `ip` (iproute2), and `iptables-legacy` for loss. One lab runs at a time in a test
//! binary (a lock), so scenarios do not share the two cores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
static NEXT: AtomicU8 = AtomicU8::new(0);

/// Runs `ip ARGS`; panics with its stderr when it fails.
fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .expect("run `ip` (iproute2; the fault tests need it and root)");
    assert!(
        out.status.success(),
        "ip {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// Like [`ip`], ignoring failure (teardown of what may be gone already).
fn ip_quiet(args: &[&str]) {
    let _ = Command::new("ip").args(args).output();
}

#[derive(Debug)]
pub struct Lab {
    subnet: u8,
    bridge: String,
    pub namespaces: Vec<String>,
    blackholes: Mutex<Vec<(usize, usize)>>,
    /// The relays, once [`Lab::relay`] set them up.
    pub relays: Option<crate::relay::Relays>,
    /// Ports whose packets [`Lab::set_loss`] drops, per node.
    loss_ports: Vec<Vec<u16>>,
    _turn: MutexGuard<'static, ()>,
}

impl Lab {
    /// `n` namespaces on a fresh bridge.
    pub fn new(n: usize) -> Lab {
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        remove_leftovers();
        let pid = std::process::id();
        let k = NEXT.fetch_add(1, Ordering::SeqCst);
        let tag = format!("al{pid}x{k}");
        let subnet = ((pid as u64 * 7 + k as u64) % 250) as u8 + 1;
        let bridge = format!("{tag}b");
        let lab = Lab {
            subnet,
            bridge: bridge.clone(),
            namespaces: (0..n).map(|i| format!("{tag}n{i}")).collect(),
            blackholes: Mutex::new(Vec::new()),
            relays: None,
            loss_ports: vec![Vec::new(); n],
            _turn: turn,
        };
        ip(&["link", "add", &bridge, "type", "bridge"]);
        ip(&[
            "addr",
            "add",
            &format!("10.77.{subnet}.254/24"),
            "dev",
            &bridge,
        ]);
        ip(&["link", "set", &bridge, "up"]);
        for (i, ns) in lab.namespaces.iter().enumerate() {
            let host_end = format!("{tag}h{i}");
            let ns_end = format!("{tag}v{i}");
            ip(&["netns", "add", ns]);
            ip(&[
                "link", "add", &host_end, "type", "veth", "peer", "name", &ns_end,
            ]);
            ip(&["link", "set", &ns_end, "netns", ns]);
            ip(&["link", "set", &host_end, "master", &bridge, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            ip(&[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{}/24", lab.ip(i)),
                "dev",
                &ns_end,
            ]);
            ip(&["-n", ns, "link", "set", &ns_end, "up"]);
        }
        lab
    }

    /// Node `i`'s address.
    pub fn ip(&self, i: usize) -> String {
        format!("10.77.{}.{}", self.subnet, i + 1)
    }

    /// The command prefix that runs a program inside node `i`'s namespace.
    pub fn exec_in(&self, i: usize) -> Vec<String> {
        vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            self.namespaces[i].clone(),
        ]
    }

    /// Cuts every link between nodes of different `sides` (both ways).
    /// Nodes not named keep all their links.
    pub fn partition(&self, sides: &[&[usize]]) {
        let mut holes = self.blackholes.lock().unwrap();
        for (a, side) in sides.iter().enumerate() {
            for other in &sides[a + 1..] {
                for &i in *side {
                    for &j in *other {
                        if let Some(r) = &self.relays {
                            // The direct paths are cut already.
                            r.cut(i, j);
                            continue;
                        }
                        for (from, to) in [(i, j), (j, i)] {
                            self.blackhole("add", from, to);
                            holes.push((from, to));
                        }
                    }
                }
            }
        }
    }

    /// Adds (`"add"`) or deletes (`"del"`) the route that drops what node
    /// `from` sends to node `to`.
    fn blackhole(&self, op: &str, from: usize, to: usize) {
        ip(&[
            "-n",
            &self.namespaces[from],
            "route",
            op,
            "blackhole",
            &format!("{}/32", self.ip(to)),
        ]);
    }

    /// Restores every link cut by [`Lab::partition`].
    pub fn heal(&self) {
        if let Some(r) = &self.relays {
            r.heal();
        }
        let mut holes = self.blackholes.lock().unwrap();
        for (from, to) in holes.drain(..) {
            self.blackhole("del", from, to);
        }
    }
}

impl Lab {
    /// The bridge-side address through which node `from` reaches port
    /// `port_index` (0 consensus, 1 gossip) of node `to`.
    pub fn relay_addr(&self, from: usize, to: usize, port_index: usize) -> (String, u16) {
        let n = self.namespaces.len();
        let port = 7000 + 10 * (from * n + to) as u16 + port_index as u16;
        (format!("10.77.{}.254", self.subnet), port)
    }

    /// Routes every link between nodes through relays: `ports[j]` are node
    /// j's peer ports (consensus, gossip). The direct paths between nodes
    /// are cut for good (blackhole routes [`Lab::heal`] does not remove);
    /// node i's config must name [`Lab::relay_addr`]`(i, j, _)` as j's.
    pub fn relay(&mut self, ports: &[(u16, u16)]) {
        let n = self.namespaces.len();
        let mut links = Vec::new();
        for from in 0..n {
            for to in (0..n).filter(|&to| to != from) {
                self.blackhole("add", from, to);
                for (k, port) in [ports[to].0, ports[to].1].into_iter().enumerate() {
                    let (host, listen) = self.relay_addr(from, to, k);
                    links.push(crate::relay::Link {
                        from,
                        to,
                        listen: format!("{host}:{listen}"),
                        to_addr: format!("{}:{port}", self.ip(to)),
                    });
                }
            }
        }
        for (i, p) in ports.iter().enumerate() {
            // Node i's own peer ports and the relays it dials.
            let mut mine = vec![p.0, p.1];
            for to in (0..n).filter(|&to| to != i) {
                mine.extend([0, 1].map(|k| self.relay_addr(i, to, k).1));
            }
            self.loss_ports[i] = mine;
        }
        self.relays = Some(crate::relay::Relays::start(&links));
    }

    /// Drops `percent` % of the peer-to-peer packets entering and leaving
    /// each node (`0` removes the rule). Needs [`Lab::relay`] first.
    pub fn set_loss(&self, percent: u32) {
        for (i, ns) in self.namespaces.iter().enumerate() {
            for chain in ["INPUT", "OUTPUT"] {
                let _ = Command::new("ip")
                    .args(["netns", "exec", ns, "iptables-legacy", "-F", chain])
                    .output();
                if percent == 0 || self.loss_ports[i].is_empty() {
                    continue;
                }
                let ports: Vec<String> = self.loss_ports[i].iter().map(u16::to_string).collect();
                let out = Command::new("ip")
                    .args(["netns", "exec", ns, "iptables-legacy", "-A", chain])
                    .args(["-p", "tcp", "-m", "multiport", "--ports", &ports.join(",")])
                    .args(["-m", "statistic", "--mode", "random", "--probability"])
                    .arg(format!("{:.4}", f64::from(percent) / 100.0))
                    .args(["-j", "DROP"])
                    .output()
                    .expect("run iptables-legacy (the loss scenario needs it; .ci/run installs iptables)");
                assert!(
                    out.status.success(),
                    "iptables-legacy in {ns}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
    }
}

impl Lab {
    /// Packets the loss rules of [`Lab::set_loss`] have dropped so far.
    pub fn dropped_packets(&self) -> u64 {
        self.namespaces
            .iter()
            .flat_map(|ns| {
                ["INPUT", "OUTPUT"].map(|chain| {
                    let out = Command::new("ip")
                        .args(["netns", "exec", ns, "iptables-legacy", "-L", chain])
                        .args(["-v", "-x", "-n"])
                        .output()
                        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                        .unwrap_or_default();
                    out.lines()
                        .filter(|l| l.contains("DROP"))
                        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
                        .sum::<u64>()
                })
            })
            .sum()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            ip_quiet(&["netns", "del", ns]);
        }
        ip_quiet(&["link", "del", &self.bridge]);
    }
}

/// Removes namespaces and bridges of labs whose test process is gone.
fn remove_leftovers() {
    let alive = |tag: &str| -> bool {
        let pid: String = tag
            .trim_start_matches("al")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        pid.parse::<u32>()
            .is_ok_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
    };
    if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            if name.starts_with("al") && name.contains('x') && !alive(name) {
                ip_quiet(&["netns", "del", name]);
            }
        }
    }
    if let Ok(out) = Command::new("ip")
        .args(["-o", "link", "show", "type", "bridge"])
        .output()
    {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let name = line.split(':').nth(1).unwrap_or("").trim();
            if name.starts_with("al") && name.ends_with('b') && !alive(name) {
                ip_quiet(&["link", "del", name]);
            }
        }
    }
}
