//! What a signed read costs the node before its handler runs (issue 14:
//! ≤ 50 µs per request): parsing the RFC 9421 headers, checking the window,
//! verifying the Ed25519 signature under the `assent/read/v1` domain (ed25519-dalek's
//! strict check, the reader's key decompressed once and kept), and
//! admitting the nonce into the replay guard (here with about 120,000
//! live signatures, the oldest expiring as new ones come). The node also reads the key's role and the operator set,
//! two state lookups of well under a microsecond each (BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_contracts::crypto::Keypair;
use assent_keys::reads::{self, KeyCache, ReceivedSignature};
use assent_node::api::ReplayGuard;
use criterion::{criterion_group, criterion_main, Criterion};

const CHAIN: &str = "assent-bench-1";

fn signed_read(c: &mut Criterion) {
    let key = Keypair::from_seed([7; 32]);
    let target = "/v1/consumers/assent1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq/uses?limit=50";
    let (path, query) = reads::split_target(target);
    let now = 1_764_850_000;
    let guard = ReplayGuard::default();
    for i in 0..100_000u64 {
        guard
            .admit(key.account(), &format!("warm{i}"), now + 1, now)
            .unwrap();
    }
    // Fresh signatures (fresh nonces), as clients send them.
    let pool: Vec<_> = (0..4_096)
        .map(|_| reads::sign(&key, CHAIN, "GET", target, now, 60))
        .collect();
    let mut g = c.benchmark_group("signed_read");
    // The signature check alone, over a message of a read's size.
    let msg = vec![7u8; 320];
    let sig = key.sign(reads::READ_SIGNATURE_TAG, CHAIN.as_bytes(), &msg);
    let account = key.account();
    g.bench_function("ed25519_verify_only", |b| {
        b.iter(|| {
            assent_contracts::crypto::verify(
                &account,
                reads::READ_SIGNATURE_TAG,
                CHAIN.as_bytes(),
                &msg,
                &sig,
            )
            .unwrap()
        })
    });
    // The same with the key already decompressed (a cache of keys).
    let vk = ed25519_consensus::VerificationKey::try_from(account.0).unwrap();
    let framed = assent_contracts::crypto::signing_message(
        reads::READ_SIGNATURE_TAG,
        CHAIN.as_bytes(),
        &msg,
    );
    let esig = ed25519_consensus::Signature::from(sig.0);
    g.bench_function("ed25519_verify_cached_key", |b| {
        b.iter(|| vk.verify(&esig, &framed).unwrap())
    });
    // What reads use: ed25519-dalek's strict check (AVX2 picked at run
    // time), with the key decompressed per request or kept.
    let dalek_sig = ed25519_dalek::Signature::from_bytes(&sig.0);
    g.bench_function("ed25519_dalek_strict", |b| {
        b.iter(|| {
            ed25519_dalek::VerifyingKey::from_bytes(&account.0)
                .unwrap()
                .verify_strict(&framed, &dalek_sig)
                .unwrap()
        })
    });
    let dalek_key = ed25519_dalek::VerifyingKey::from_bytes(&account.0).unwrap();
    g.bench_function("ed25519_dalek_strict_cached_key", |b| {
        b.iter(|| dalek_key.verify_strict(&framed, &dalek_sig).unwrap())
    });
    let mut j = 0usize;
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            let h = &pool[j % pool.len()];
            j += 1;
            ReceivedSignature::parse(&h.signature_input, &h.signature).unwrap()
        })
    });
    let mut i = 0usize;
    g.bench_function("parse_check_verify", |b| {
        b.iter(|| {
            let h = &pool[i % pool.len()];
            i += 1;
            let r = ReceivedSignature::parse(&h.signature_input, &h.signature).unwrap();
            r.params.check_time(now).unwrap();
            r.verify(CHAIN, "GET", path, query).unwrap();
            r
        })
    });
    // What the node does: the reader's key from its cache of keys.
    let keys = KeyCache::default();
    let mut n = 0u64;
    g.bench_function("parse_check_verify_admit", |b| {
        b.iter(|| {
            let h = &pool[(n as usize) % pool.len()];
            n += 1;
            let r = ReceivedSignature::parse(&h.signature_input, &h.signature).unwrap();
            r.params.check_time(now).unwrap();
            keys.verify(&r, CHAIN, "GET", path, query).unwrap();
            // A distinct nonce per iteration (the pool repeats); the clock
            // advances a second per 2,000 reads, so about 120,000
            // signatures stay live and the oldest expire as new ones come.
            let t = now + n / 2_000;
            guard
                .admit(key.account(), &format!("{}{n}", r.params.nonce), t + 60, t)
                .unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, signed_read);
criterion_main!(benches);
