//! Offered load for multi-process tests.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use assent_contracts::crypto::Keypair;
use assent_contracts::tx::RegisterConsumer;
use assent_contracts::{Payload, TxBody};

/// Offers fresh registrations (100 every ~100 ms, keys from `seed` and a
/// counter) to the nodes in `apis` in turn until `stop`; counts what the
/// nodes accepted in `accepted`. A node that does not answer is skipped.
pub fn offer_registrations(
    apis: &[String],
    chain_id: &str,
    seed: u8,
    stop: &AtomicBool,
    accepted: &AtomicU64,
) {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    let mut n: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        let txs: Vec<String> = (0..100)
            .map(|_| {
                n += 1;
                let mut key = [seed; 32];
                key[..8].copy_from_slice(&n.to_le_bytes());
                let k = Keypair::from_seed(key);
                let tx = TxBody {
                    sender: k.account(),
                    nonce: 0,
                    payload: Payload::RegisterConsumer(RegisterConsumer {
                        tags: Default::default(),
                    }),
                }
                .sign(chain_id, &k);
                hex::encode(tx.encode())
            })
            .collect();
        let api = &apis[(n / 100) as usize % apis.len()];
        if let Ok(r) = http
            .post(format!("{api}/v1/txs/batch"))
            .json(&serde_json::json!({ "txs": txs }))
            .send()
        {
            if let Ok(v) = r.json::<serde_json::Value>() {
                accepted.fetch_add(v["accepted"].as_u64().unwrap_or(0), Ordering::Relaxed);
            }
        }
        // Pacing of the offered load, not a wait for a condition.
        std::thread::sleep(Duration::from_millis(100));
    }
}
