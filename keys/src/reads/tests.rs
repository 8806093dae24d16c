#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn key() -> Keypair {
    Keypair::from_seed([7; 32])
}

fn signed(target: &str) -> (SignedHeaders, ReceivedSignature) {
    let h = sign(&key(), "assent-test", "GET", target, 1_000, 60);
    let r = ReceivedSignature::parse(&h.signature_input, &h.signature).unwrap();
    (h, r)
}

#[test]
fn a_signature_verifies_for_its_request_and_no_other() {
    let (_, r) = signed("/v1/consumers/x/uses?limit=5");
    r.verify(
        "assent-test",
        "GET",
        "/v1/consumers/x/uses",
        Some("limit=5"),
    )
    .unwrap();
    assert_eq!(r.params.keyid, key().account());
    for (chain, method, path, query) in [
        (
            "assent-other",
            "GET",
            "/v1/consumers/x/uses",
            Some("limit=5"),
        ),
        (
            "assent-test",
            "POST",
            "/v1/consumers/x/uses",
            Some("limit=5"),
        ),
        (
            "assent-test",
            "GET",
            "/v1/consumers/y/uses",
            Some("limit=5"),
        ),
        (
            "assent-test",
            "GET",
            "/v1/consumers/x/uses",
            Some("limit=6"),
        ),
        ("assent-test", "GET", "/v1/consumers/x/uses", None),
    ] {
        let e = r.verify(chain, method, path, query).unwrap_err();
        assert_eq!(e.code(), "bad_signature");
    }
}

#[test]
fn the_key_cache_keeps_only_keys_that_signed_and_still_checks_each_request() {
    let cache = KeyCache::default();
    let (_, r) = signed("/v1/status");
    let e = cache
        .verify(&r, "assent-test", "GET", "/v1/other", None)
        .unwrap_err();
    assert_eq!(e.code(), "bad_signature");
    assert!(cache.is_empty(), "a key whose signature failed was kept");
    cache
        .verify(&r, "assent-test", "GET", "/v1/status", None)
        .unwrap();
    assert_eq!(cache.len(), 1);
    // From the cache: the same checks, the same answers.
    cache
        .verify(&r, "assent-test", "GET", "/v1/status", None)
        .unwrap();
    let e = cache
        .verify(&r, "assent-other", "GET", "/v1/status", None)
        .unwrap_err();
    assert_eq!(e.code(), "bad_signature");
    assert_eq!(cache.len(), 1);
}

#[test]
fn a_small_order_key_signs_nothing() {
    // The identity point as the key and (R = identity, s = 0) as the
    // signature: the ZIP-215 equation holds for every message, so
    // anyone could "sign" as this key. Reads refuse it.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let r = ReceivedSignature {
        params: ReadParams {
            created: 1_000,
            expires: 1_060,
            nonce: "n".into(),
            keyid: AccountId(identity),
        },
        raw_params: String::new(),
        signature: Signature(sig),
    };
    let e = r
        .verify("assent-test", "GET", "/v1/status", None)
        .unwrap_err();
    assert_eq!(e.code(), "bad_signature");
    let cache = KeyCache::default();
    let e = cache
        .verify(&r, "assent-test", "GET", "/v1/status", None)
        .unwrap_err();
    assert_eq!(e.code(), "bad_signature");
    // The same bytes pass the ledger's ZIP-215 check: the refusal is the
    // strict check's, not an accident of the message.
    let message = signature_base("GET", "/v1/status", None, "");
    assert!(crypto::verify(
        &AccountId(identity),
        READ_SIGNATURE_TAG,
        b"assent-test",
        message.as_bytes(),
        &Signature(sig)
    )
    .is_ok());
}

#[test]
fn the_window_is_checked() {
    let (_, r) = signed("/v1/status");
    r.params.check_time(1_000).unwrap();
    r.params.check_time(1_060).unwrap();
    assert_eq!(
        r.params.check_time(1_061).unwrap_err().code(),
        "signature_expired"
    );
    assert_eq!(
        r.params.check_time(900).unwrap_err().code(),
        "signature_not_yet_valid"
    );
    let long = ReadParams {
        expires: 1_000 + MAX_LIFETIME_S + 1,
        ..r.params.clone()
    };
    assert_eq!(
        long.check_time(1_000).unwrap_err().code(),
        "signature_lifetime_too_long"
    );
}

#[test]
fn garbage_headers_are_refused_with_a_reason() {
    let (h, _) = signed("/v1/status");
    let input = h.signature_input.clone();
    let cases = [
        (String::new(), h.signature.clone(), "labelled"),
        (
            input.replace("assent=", "other="),
            h.signature.clone(),
            "labelled",
        ),
        (
            input.replace("\"@query\"", ""),
            h.signature.clone(),
            "cover exactly",
        ),
        (format!("{input};foo=1"), h.signature.clone(), "unknown"),
        (format!("{input};created=1"), h.signature.clone(), "twice"),
        (
            input.replace("assent-read", "assent-tx"),
            h.signature.clone(),
            "tag is",
        ),
        (
            input.replace("ed25519", "rsa"),
            h.signature.clone(),
            "not supported",
        ),
        (
            input.replace("created=1000", "created=-1"),
            h.signature.clone(),
            "integer",
        ),
        (input.clone(), "assent=:AAAA:".to_string(), "64 bytes"),
        (input.clone(), "assent=:!!:".to_string(), "base64"),
        (
            input.clone(),
            "assent=AAAA".to_string(),
            "Signature must be",
        ),
        (
            "x".repeat(MAX_INPUT_HEADER + 1),
            h.signature.clone(),
            "longer than",
        ),
    ];
    for (i, s, why) in cases {
        let e = ReceivedSignature::parse(&i, &s).unwrap_err();
        assert_eq!(e.code(), "bad_signature_header", "{i} / {s}");
        assert!(e.to_string().contains(why), "{e} lacks {why:?}");
    }
}

#[test]
fn a_read_signature_is_not_a_tx_signature() {
    let (_, r) = signed("/v1/status");
    let base = signature_base("GET", "/v1/status", None, &r.raw_params);
    let as_tx = crypto::verify(
        &key().account(),
        crypto::TX_SIGNATURE_TAG,
        b"assent-test",
        base.as_bytes(),
        &r.signature,
    );
    assert!(as_tx.is_err());
}
