//! Every decoder answers arbitrary or mutated bytes with a value or an error,
//! never a panic; and whatever decodes re-encodes to exactly the same bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::codec;
use assent_contracts::state::*;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;
use proptest::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

fn roundtrip_or_error<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(v) = codec::decode::<T>(bytes) {
        prop_assert_eq!(codec::encode(&v).unwrap(), bytes.to_vec());
    }
    Ok(())
}

fn all_decoders(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(tx) = SignedTx::decode(bytes, 1 << 20) {
        prop_assert_eq!(tx.encode(), bytes.to_vec());
        let _ = tx.verify(CHAIN);
    }
    if let Ok(b) = Block::decode(bytes) {
        prop_assert_eq!(b.encode(), bytes.to_vec());
    }
    roundtrip_or_error::<Payload>(bytes)?;
    roundtrip_or_error::<BlockHeader>(bytes)?;
    roundtrip_or_error::<TxResult>(bytes)?;
    roundtrip_or_error::<Vec<Event>>(bytes)?;
    // What a use receipt carries (decision 34).
    roundtrip_or_error::<assent_contracts::use_tree::SignedUses>(bytes)?;
    roundtrip_or_error::<assent_contracts::use_tree::UsesResult>(bytes)?;
    roundtrip_or_error::<Use>(bytes)?;
    roundtrip_or_error::<Account>(bytes)?;
    roundtrip_or_error::<Consumer>(bytes)?;
    roundtrip_or_error::<Enterprise>(bytes)?;
    roundtrip_or_error::<Consent>(bytes)?;
    roundtrip_or_error::<Policy>(bytes)?;
    roundtrip_or_error::<Request>(bytes)?;
    roundtrip_or_error::<Proposal>(bytes)?;
    roundtrip_or_error::<Params>(bytes)?;
    roundtrip_or_error::<Vec<Validator>>(bytes)?;
    roundtrip_or_error::<InitialState>(bytes)?;
    Ok(())
}

fn valid_tx_bytes() -> Vec<Vec<u8>> {
    let a = actors();
    let p = vec![
        Payload::GrantConsent(grant(&a.acme, 3)),
        record(vec![a_use(
            &a.alice,
            UseBasis::Consent(ConsentId::default()),
            2,
        )]),
        Payload::Transfer(Transfer {
            to: a.bob.account(),
            amount: Amount(300),
        }),
    ];
    p.into_iter()
        .map(|p| {
            TxBody {
                sender: a.alice.account(),
                nonce: 1,
                payload: p,
            }
            .sign(CHAIN, &a.alice)
            .encode()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        all_decoders(&bytes)?;
    }

    #[test]
    fn mutated_valid_txs_never_panic(which in 0usize..3, edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let mut bytes = valid_tx_bytes()[which].clone();
        for (pos, val) in edits {
            let i = pos % bytes.len();
            bytes[i] = val;
        }
        all_decoders(&bytes)?;
        bytes.truncate(cut % (bytes.len() + 1));
        all_decoders(&bytes)?;
    }
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let big = vec![0u8; 300_000];
    assert!(matches!(
        SignedTx::decode(&big, 256 * 1024),
        Err(TxDecodeError::TooLarge { .. })
    ));
    let huge = vec![0u8; codec::MAX_DECODE_BYTES + 1];
    assert!(matches!(
        codec::decode::<Block>(&huge),
        Err(codec::CodecError::TooLarge { .. })
    ));
}

#[test]
fn a_flipped_bit_in_a_signed_tx_never_yields_a_valid_different_tx() {
    for bytes in valid_tx_bytes() {
        let original = SignedTx::decode(&bytes, 1 << 20).unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                if let Ok(tx) = SignedTx::decode(&b, 1 << 20) {
                    assert_ne!(tx, original);
                    assert!(
                        tx.verify(CHAIN).is_err(),
                        "byte {i} bit {bit} gave another valid tx"
                    );
                }
            }
        }
    }
}
