//! Tests of `config.rs`: the contract example, defaults, and an error naming
//! the field for every bad value.

use super::*;

const GOOD: &str = r#"
moniker = "validator-0"
[keys]
validator_key = "validator-0"
[p2p]
listen = "/ip4/127.0.0.1/tcp/26600"
gossip_listen = "/ip4/127.0.0.1/tcp/26601"
peers = ["/ip4/127.0.0.1/tcp/26610"]
gossip_peers = ["/ip4/127.0.0.1/tcp/26611"]
[api]
listen = "127.0.0.1:26602"
"#;

fn parse(text: &str) -> Result<NodeConfig, ConfigError> {
    NodeConfig::parse(Path::new("/h"), Path::new("/h/config.toml"), text)
}

#[test]
fn the_contract_example_parses_with_lan_defaults() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.api_listen.port(), 26602);
    assert_eq!(c.timing.propose, Duration::from_millis(1_000));
    assert_eq!(c.timing.max_block_txs, 2_000);
    assert_eq!(c.timing.block_budget, Duration::from_millis(250));
    assert_eq!(c.mempool_gap_expiry_blocks, 600);
    assert_eq!(
        c.mempool_backlog,
        crate::mempool::BacklogLimits {
            backlog_ms: 500,
            min_txs: 2_000,
            min_bytes: crate::mempool::MIN_BACKLOG_BYTES,
        }
    );
    assert_eq!(c.mempool_max_bytes, 256 << 20);
    assert_eq!(c.mempool_max_account_bytes, 16 << 20);
    assert_eq!(c.peers.len(), 1);
}

#[test]
fn metrics_may_have_a_listener_of_their_own_and_reads_a_key() {
    let c = parse(GOOD).unwrap();
    assert_eq!((c.metrics_listen, c.read_key), (None, None));
    let c = parse(&format!("{GOOD}metrics_listen = \"127.0.0.1:26660\"\n")).unwrap();
    assert_eq!(c.metrics_listen.map(|a| a.port()), Some(26660));
    let c = parse(&GOOD.replace(
        "validator_key = \"validator-0\"",
        "validator_key = \"validator-0\"\nread_key = \"operator-0\"",
    ))
    .unwrap();
    assert_eq!(c.read_key.as_deref(), Some("operator-0"));
}

#[test]
fn api_limits_default_and_parse() {
    assert_eq!(parse(GOOD).unwrap().api_limits, ClientLimits::default());
    let c = parse(&format!(
        "{GOOD}max_connections = 100\nmax_connections_per_client = 10\nrequests_per_second_per_client = 50\nmax_streams_per_client = 0\nmax_exports_per_client = 0\nrequest_timeout_ms = 2000\nidle_timeout_ms = 3000\n"
    ))
    .unwrap();
    assert_eq!(
        c.api_limits,
        ClientLimits {
            max_connections: 100,
            max_connections_per_client: 10,
            requests_per_second: 50,
            max_streams_per_client: 0,
            max_exports_per_client: 0,
            request_timeout: Duration::from_secs(2),
            idle_timeout: Duration::from_secs(3),
        }
    );
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (GOOD.replace("26602\"", "x\""), "api.listen"),
        (
            format!("{GOOD}metrics_listen = \"nowhere\"\n"),
            "api.metrics_listen",
        ),
        (
            format!("{GOOD}metrics_listen = \"127.0.0.1:26602\"\n"),
            "api.metrics_listen",
        ),
        (
            GOOD.replace(
                "validator_key = \"validator-0\"",
                "validator_key = \"validator-0\"\nread_key = \" \"",
            ),
            "keys.read_key",
        ),
        (
            GOOD.replace("\"/ip4/127.0.0.1/tcp/26610\"", "\"nonsense\""),
            "p2p.peers[0]",
        ),
        (
            GOOD.replace(
                "gossip_listen = \"/ip4/127.0.0.1/tcp/26601\"",
                "gossip_listen = \"/ip4/127.0.0.1/tcp/26600\"",
            ),
            "p2p.gossip_listen",
        ),
        (
            format!("{GOOD}[consensus]\npropose_timeout_ms = 1\n"),
            "consensus.propose_timeout_ms",
        ),
        (
            format!("{GOOD}[consensus]\npropose_timout_ms = 100\n"),
            "propose_timout_ms",
        ),
        (
            format!("{GOOD}[consensus]\nmax_block_txs = 0\n"),
            "consensus.max_block_txs",
        ),
        (
            format!("{GOOD}[consensus]\nblock_budget_ms = 0\n"),
            "consensus.block_budget_ms",
        ),
        (
            GOOD.replace("moniker = \"validator-0\"", "moniker = 7"),
            "moniker",
        ),
        (
            format!("{GOOD}[mempool]\ngap_expiry_blocks = 0\n"),
            "mempool.gap_expiry_blocks",
        ),
        (format!("{GOOD}[mempool]\nmax_mb = 0\n"), "mempool.max_mb"),
        (
            format!("{GOOD}[mempool]\nbacklog_ms = 60001\n"),
            "mempool.backlog_ms",
        ),
        (
            format!("{GOOD}[mempool]\nmin_backlog_txs = 0\n"),
            "mempool.min_backlog_txs",
        ),
        (
            format!("{GOOD}[mempool]\nmax_txs = 10\nmin_backlog_txs = 11\n"),
            "mempool.min_backlog_txs",
        ),
        (
            format!("{GOOD}[store]\nproof_history_mb = 0\n"),
            "store.proof_history_mb",
        ),
        (
            format!("{GOOD}[store]\nstate_tree_mb = 8\n"),
            "store.state_tree_mb",
        ),
        (
            format!("{GOOD}[state_sync]\npeers = [\"10.0.0.2:26602\"]\n"),
            "state_sync.peers",
        ),
        (
            format!("{GOOD}[state_sync]\npeers = [\"http://a b\"]\n"),
            "state_sync.peers",
        ),
        (
            format!("{GOOD}[state_sync]\nsnapshot_interval = -1\n"),
            "snapshot_interval",
        ),
        // GOOD ends inside [api].
        (
            format!("{GOOD}max_connections_per_client = 0\n"),
            "api.max_connections_per_client",
        ),
        (
            format!("{GOOD}max_connections = 10\nmax_connections_per_client = 20\n"),
            "api.max_connections_per_client",
        ),
        (
            format!("{GOOD}requests_per_second_per_client = 0\n"),
            "api.requests_per_second_per_client",
        ),
        (
            format!("{GOOD}request_timeout_ms = 50\n"),
            "api.request_timeout_ms",
        ),
        (
            format!("{GOOD}request_timeout_ms = 5000\nidle_timeout_ms = 5000\n"),
            "api.idle_timeout_ms",
        ),
        (format!("{GOOD}max_conections = 5\n"), "max_conections"),
        (
            format!("{GOOD}[mempool]\nmax_mb = 8\nmax_account_mb = 9\n"),
            "mempool.max_account_mb",
        ),
        (format!("{GOOD}[store]\ncache_mb = 1\n"), "store.cache_mb"),
        (format!("{GOOD}[store]\ncache_mb = \"big\"\n"), "cache_mb"),
        (format!("{GOOD}[store]\ncach_mb = 64\n"), "cach_mb"),
        (
            format!("{GOOD}[store]\nunpersisted_mb = 0\n"),
            "store.unpersisted_mb",
        ),
        (
            format!("{GOOD}[store]\nstate_cache_mb = -1\n"),
            "state_cache_mb",
        ),
        (
            format!("{GOOD}[store]\npersist_interval_ms = 1\n"),
            "store.persist_interval_ms",
        ),
        (format!("{GOOD}[index]\nenabled = \"yes\"\n"), "enabled"),
        (format!("{GOOD}[index]\nenable = false\n"), "enable"),
        (
            format!("{GOOD}[mempool]\ngap_expiry_blocks = -5\n"),
            "gap_expiry_blocks",
        ),
    ];
    for (text, field) in cases {
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains(field), "`{field}` not in: {err}");
    }
}

#[test]
fn a_config_without_keys_is_a_full_node_and_needs_peers_to_follow() {
    let keyless = GOOD.replace("[keys]\nvalidator_key = \"validator-0\"\n", "");
    let err = parse(&keyless).unwrap_err().to_string();
    assert!(
        err.contains("state_sync.peers") && err.contains("full node"),
        "{err}"
    );
    let full = parse(&format!(
        "{keyless}[state_sync]\npeers = [\"http://10.0.0.2:26602\"]\n"
    ))
    .unwrap();
    assert_eq!(full.validator_key, None);
    assert_eq!(full.state_sync_peers, ["http://10.0.0.2:26602"]);
    // A named key that is blank is a mistake, not a full node.
    let err = parse(&GOOD.replace("\"validator-0\"\n[p2p]", "\"  \"\n[p2p]"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("keys.validator_key"), "{err}");
}

#[test]
fn a_pool_smaller_than_a_block_takes_itself_as_the_backlog_floor() {
    // Only max_txs set, below the default floor: not an error about a key
    // the operator never wrote.
    let c = parse(&format!("{GOOD}[mempool]\nmax_txs = 500\n")).unwrap();
    assert_eq!(c.mempool_backlog.min_txs, 500);
    // Set explicitly, the floor is still checked against the pool.
    let err = parse(&format!(
        "{GOOD}[mempool]\nmax_txs = 500\nmin_backlog_txs = 600\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("mempool.min_backlog_txs"), "{err}");
    assert!(err.contains("600 is out of range"), "{err}");
}

#[test]
fn the_byte_backlog_floor_is_set_in_mib_and_checked_against_the_pool() {
    let c = parse(&format!("{GOOD}[mempool]\nmin_backlog_mb = 4\n")).unwrap();
    assert_eq!(c.mempool_backlog.min_bytes, 4 << 20);
    for (bad, why) in [("0", "0 is out of range"), ("300", "300 is out of range")] {
        let err = parse(&format!("{GOOD}[mempool]\nmin_backlog_mb = {bad}\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("mempool.min_backlog_mb"), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(err.contains("mempool.max_mb (256)"), "{err}");
    }
}
