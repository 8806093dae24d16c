//! Body bytes the ledger refuses, which the package must refuse too.

use crate::*;

/// Body bytes the ledger's codec refuses; the package must refuse them too.
pub fn invalid_bodies() -> Vec<Value> {
    let key = Keypair::from_seed(seed(0x11));
    let enc = |nonce: u64, p: Payload| {
        TxBody {
            sender: key.account(),
            nonce,
            payload: p,
        }
        .encode()
    };
    let revoke_all = |e: Option<AccountId>| Payload::RevokeAll(RevokeAll { enterprise: e });
    // Sender (32 bytes), then the nonce varint: 5 as [5] is canonical, as
    // [251, 5, 0] it is over-long.
    let mut overlong = enc(5, revoke_all(None));
    overlong.splice(32..33, [251, 5, 0]);
    let mut trailing = enc(5, revoke_all(None));
    trailing.push(0);
    let mut bad_option = enc(5, revoke_all(None));
    *bad_option.last_mut().unwrap() = 2;
    let mut bad_variant = enc(5, revoke_all(None));
    bad_variant[33] = 200;
    let mut bad_level = enc(
        1,
        Payload::SetPolicy(SetPolicy {
            target: PolicyTarget::Sector(Sector::Retail),
            categories: vec![],
            purposes: vec![],
            level: Level::Aggregate,
            min_price: Amount(0),
        }),
    );
    // sender, nonce, variant 7, target (0, 0), two empty lists, then the level.
    assert_eq!(bad_level[32..], [1, 7, 0, 0, 0, 0, 0, 0]);
    bad_level[38] = 3;
    let mut bad_utf8 = enc(
        1,
        Payload::PostRequest(PostRequest {
            categories: vec![],
            purposes: vec![],
            level: Level::Aggregate,
            price_per_use: Amount(0),
            duration_ms: 1,
            target_tags: vec![tag("ab")],
        }),
    );
    let n = bad_utf8.len();
    bad_utf8[n - 1] = 0xff;
    let one_commitment = |epoch| {
        Payload::SetTags(SetTags {
            tags: TagCommitments {
                epoch,
                commitments: vec![TagCommitment(h(0x5a))],
            },
        })
    };
    // sender, nonce, variant 1, epoch 0, then the list length 1.
    let mut long_list = enc(1, one_commitment(0));
    assert_eq!(long_list[32..36], [1, 1, 0, 1]);
    long_list[35] = 2;
    // An epoch of 7 written as [251, 7, 0] is over-long.
    let mut overlong_epoch = enc(1, one_commitment(7));
    overlong_epoch.splice(34..35, [251, 7, 0]);
    let truncated = enc(
        5,
        Payload::PauseConsent(PauseConsent {
            consent: ConsentId(h(1)),
        }),
    );
    let truncated = truncated[..truncated.len() - 1].to_vec();
    let cases = [
        ("overlong_nonce", overlong),
        ("trailing_byte", trailing),
        ("option_tag_2", bad_option),
        ("unknown_payload_variant", bad_variant),
        ("unknown_level", bad_level),
        ("tag_not_utf8", bad_utf8),
        ("list_longer_than_bytes", long_list),
        ("overlong_epoch", overlong_epoch),
        ("truncated_hash", truncated),
    ];
    cases
        .into_iter()
        .map(|(name, bytes)| {
            assert!(
                codec::decode::<TxBody>(&bytes).is_err(),
                "the codec takes {name}"
            );
            json!({ "name": name, "body_hex": hex::encode(bytes) })
        })
        .collect()
}
