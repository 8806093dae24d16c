//! (f) Garbage, malformed and oversized requests get a 4xx with a JSON reason,
//! and the node keeps committing and answering.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use assent_tests::Net;

#[test]
fn garbage_requests_are_refused_and_the_node_stays_healthy() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("/v1/txs", "text/plain", b"not hex at all".to_vec()),
        ("/v1/txs", "text/plain", b"00ff00ff".to_vec()),
        (
            "/v1/txs",
            "application/octet-stream",
            vec![0xde, 0xad, 0xbe, 0xef],
        ),
        ("/v1/txs", "application/json", b"{\"tx\": 42}".to_vec()),
        ("/v1/txs", "application/json", b"{not json".to_vec()),
        ("/v1/txs", "image/png", b"abcd".to_vec()),
        (
            "/v1/txs",
            "application/octet-stream",
            vec![7u8; 1024 * 1024 + 64 * 1024],
        ),
        (
            "/v1/txs/batch",
            "application/json",
            b"{\"txs\": \"nope\"}".to_vec(),
        ),
        ("/v1/txs/batch", "application/json", vec![b'['; 100_000]),
    ];
    for (path, ct, body) in cases {
        let len = body.len();
        let (status, json) = net.post_raw(0, path, ct, body);
        assert!(
            (400..500).contains(&status),
            "{path} {ct} ({len} bytes) gave {status}: {json}"
        );
        assert!(
            json["code"].is_string() && json["message"].is_string(),
            "{path} {ct}: no JSON reason: {json}"
        );
    }
    for path in [
        "/v1/accounts/nonsense",
        "/v1/txs/zz",
        "/v1/blocks/notanumber",
        "/v1/consumers/assent1xyz/consents",
        "/v1/blocks/99999999",
    ] {
        // Signed by an operator, so the garbage itself is what is refused.
        let r = net.signed_get(0, path).send().unwrap();
        let status = r.status().as_u16();
        let json: serde_json::Value = r.json().unwrap_or_default();
        assert!(
            (400..500).contains(&status) && status != 401 && status != 403,
            "{path} gave {status}"
        );
        assert!(json["message"].is_string(), "{path}: {json}");
    }
    let h = net.height(0).unwrap();
    net.wait_height(0, h + 3, Duration::from_secs(30));
    let health = reqwest::blocking::get(format!("{}/health", net.nodes[0].api)).unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(net.nodes[0].running());
}
