//! Signed-read vectors: the headers of fixed read signatures.

use crate::*;

pub fn read_vectors() -> Vec<Value> {
    let alice = Keypair::from_seed(seed(0x11));
    let acme = Keypair::from_seed(mixed_seed());
    let cases = [
        (
            "consumer_uses_with_query",
            &alice,
            CHAIN,
            "GET",
            format!("/v1/consumers/{}/uses?limit=5", alice.account()),
            1_764_850_000u64,
            1_764_850_060u64,
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "tx_status_no_query",
            &acme,
            CHAIN,
            "GET",
            format!("/v1/txs/{}", h(0xab)),
            1_800_000_000,
            1_800_000_300,
            "n",
        ),
        (
            "empty_query_other_chain",
            &acme,
            "assent-devnet",
            "GET",
            "/v1/events?".to_string(),
            1_700_000_000,
            1_700_000_001,
            "A-Z_a-z-0-9",
        ),
    ];
    cases
        .into_iter()
        .map(
            |(name, key, chain, method, target, created, expires, nonce)| {
                let signed = reads::sign_with(key, chain, method, &target, created, expires, nonce);
                let received =
                    ReceivedSignature::parse(&signed.signature_input, &signed.signature).unwrap();
                let (path, query) = reads::split_target(&target);
                received.verify(chain, method, path, query).unwrap();
                let base = reads::signature_base(method, path, query, &received.raw_params);
                json!({
                    "name": name,
                    "seed": hex::encode(key.seed()),
                    "chain_id": chain,
                    "method": method,
                    "target": target,
                    "created": created,
                    "expires": expires,
                    "nonce": nonce,
                    "signature_base": base,
                    "signature_input": signed.signature_input,
                    "signature": signed.signature,
                })
            },
        )
        .collect()
}
