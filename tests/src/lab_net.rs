//! Networks in the lab: every node in a network namespace of its own
//! ([`lab::Lab`]), and optionally every link through a delaying relay.

use std::path::Path;

use crate::{lab, Net};

impl Net {
    /// Lays out an `n`-validator network whose nodes each run in a network
    /// namespace of a new [`lab::Lab`] (not started). Every address in the
    /// configs becomes the owning node's lab address.
    pub fn in_lab(n: usize) -> Net {
        let lab = lab::Lab::new(n);
        let mut net = Net::new(n);
        let port_of = |api: &str| -> u16 { api.rsplit(':').next().unwrap().parse().unwrap() };
        // Node i's ports are base + 10 i + 0..3 (see `free_base`).
        let base = port_of(&net.nodes[0].api) - 2;
        // Node i's address wherever a port of node i appears: configs, and
        // the genesis (validators' p2p addresses pin their peer ids).
        let relocate = |path: &Path| {
            let text = std::fs::read_to_string(path).unwrap();
            let mut out = String::new();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("127.0.0.1") {
                out.push_str(&rest[..at]);
                let after = &rest[at + "127.0.0.1".len()..];
                let digits: String = after
                    .trim_start_matches(['/', ':', 't', 'c', 'p'])
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let port: u16 = digits.parse().expect("an address with a port");
                out.push_str(&lab.ip(usize::from((port - base) / 10)));
                rest = after;
            }
            out.push_str(rest);
            std::fs::write(path, out).unwrap();
        };
        relocate(&net.genesis_path());
        for i in 0..n {
            let home = net.nodes[i].home.clone();
            relocate(&home.join("config.toml"));
            relocate(&home.join("genesis.toml"));
            net.nodes[i].api = net.nodes[i].api.replace("127.0.0.1", &lab.ip(i));
        }
        net.lab = Some(lab);
        net
    }

    /// Like [`Net::in_lab`], with every link between validators through
    /// the lab's delaying relays ([`lab::Lab::relay`]): each node's config
    /// names the relays as its peers (consensus peers pinned to the
    /// validator's peer id, since the relay's address is no genesis address).
    pub fn in_lab_relayed(n: usize) -> Net {
        let mut net = Net::in_lab(n);
        let port = |addr: &str| -> u16 { addr.rsplit(['/', ':']).next().unwrap().parse().unwrap() };
        let mut ports = Vec::new();
        let mut peer_ids = Vec::new();
        for i in 0..n {
            let cfg = net.config(i);
            ports.push((
                port(cfg["p2p"]["listen"].as_str().unwrap()),
                port(cfg["p2p"]["gossip_listen"].as_str().unwrap()),
            ));
            let key: assent_contracts::AccountId = net.consensus_key(i).parse().unwrap();
            peer_ids.push(assent_node::gossip::peer_id_of(&key).unwrap());
        }
        net.lab.as_mut().unwrap().relay(&ports);
        let lab = net.lab.as_ref().unwrap();
        for i in 0..n {
            let path = net.nodes[i].home.join("config.toml");
            let mut cfg = net.config(i);
            let others = (0..n).filter(|&j| j != i);
            let peers: Vec<toml::Value> = others
                .clone()
                .map(|j| {
                    let (host, p) = lab.relay_addr(i, j, 0);
                    format!("/ip4/{host}/tcp/{p}/p2p/{}", peer_ids[j]).into()
                })
                .collect();
            let gossip: Vec<toml::Value> = others
                .map(|j| {
                    let (host, p) = lab.relay_addr(i, j, 1);
                    format!("/ip4/{host}/tcp/{p}").into()
                })
                .collect();
            cfg["p2p"]["peers"] = toml::Value::Array(peers);
            cfg["p2p"]["gossip_peers"] = toml::Value::Array(gossip);
            std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
        }
        net
    }
}
