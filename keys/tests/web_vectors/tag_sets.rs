//! Tag-set vectors: salts, commitments, padded sets and what recovery finds.

use crate::*;

/// A recovery to check: the recovering key's seed, the candidates, and what
/// it must find (tags, padding, unknown).
type Recovery = ([u8; 32], Vec<Tag>, (Vec<Tag>, usize, usize));

/// One tag-set vector: a key, the account it declares for, a chain, an
/// epoch and tags.
struct TagCase {
    name: &'static str,
    seed: [u8; 32],
    consumer: AccountId,
    chain: &'static str,
    epoch: u64,
    tags: Vec<Tag>,
    recover: Vec<Recovery>,
}

fn tag_cases() -> Vec<TagCase> {
    let tags = |ts: &[&str]| ts.iter().map(|t| tag(t)).collect::<Vec<_>>();
    let sixteen: Vec<Tag> = (0..MAX_TAGS).map(|i| tag(&format!("t{i:02}"))).collect();
    vec![
        TagCase {
            name: "two_tags_one_repeated",
            seed: seed(0x11),
            consumer: Keypair::from_seed(seed(0x11)).account(),
            chain: CHAIN,
            epoch: 0,
            tags: tags(&["vegan", "runner", "vegan"]),
            recover: vec![
                (
                    seed(0x11),
                    tags(&["cyclist", "runner", "vegan", "runner"]),
                    (tags(&["runner", "vegan"]), MAX_TAGS - 2, 0),
                ),
                // Another key (after a rotation, say) recognises nothing.
                (
                    seed(0x22),
                    tags(&["runner", "vegan"]),
                    (vec![], 0, MAX_TAGS),
                ),
            ],
        },
        TagCase {
            // The pinned salt of keys/src/derive.rs (`derivations_are_pinned`).
            name: "derive_rs_pinned_salt",
            seed: seed(7),
            consumer: Keypair::from_seed(seed(7)).account(),
            chain: "chain-a",
            epoch: 3,
            tags: tags(&["runner"]),
            recover: vec![(seed(7), vec![], (vec![], MAX_TAGS - 1, 1))],
        },
        TagCase {
            // A rotated-in key declares for another account; a full set (no
            // padding); an epoch above 2^53 (decimal text in JSON).
            name: "full_set_rotated_key_large_epoch",
            seed: mixed_seed(),
            consumer: Keypair::from_seed(seed(0x33)).account(),
            chain: "assent-devnet",
            epoch: (1 << 53) + 5,
            tags: sixteen.clone(),
            recover: vec![(
                mixed_seed(),
                [sixteen[..10].to_vec(), tags(&["zzz"])].concat(),
                (sixteen[..10].to_vec(), 0, MAX_TAGS - 10),
            )],
        },
        TagCase {
            name: "no_tags_all_padding",
            seed: seed(0x22),
            consumer: Keypair::from_seed(seed(0x22)).account(),
            chain: CHAIN,
            epoch: 1 << 32,
            tags: vec![],
            recover: vec![(seed(0x22), tags(&["runner"]), (vec![], MAX_TAGS, 0))],
        },
    ]
}

/// Tag salts, commitments and padded sets (keys/src/derive.rs,
/// contracts/src/tags.rs) for fixed inputs, and what recovery finds.
pub fn tag_set_vectors() -> Vec<Value> {
    tag_cases()
        .into_iter()
        .map(|c| {
            let key = Keypair::from_seed(c.seed);
            let set = derive::tag_set(&key, c.chain, &c.consumer, c.epoch, &c.tags).unwrap();
            set.check(MAX_TAGS).unwrap();
            assert_eq!(set.commitments.len(), MAX_TAGS, "{}", c.name);
            let distinct: std::collections::BTreeSet<&Tag> = c.tags.iter().collect();
            let each: Vec<Value> = distinct
                .iter()
                .map(|t| {
                    let salt = derive::tag_salt(&key, c.chain, &c.consumer, c.epoch, t);
                    let commitment = derive::tag_commitment(&key, c.chain, &c.consumer, c.epoch, t);
                    assert_eq!(
                        commitment,
                        tags::commitment(c.chain, &c.consumer, t, &salt)
                    );
                    assert!(set.contains(&commitment));
                    json!({ "tag": t.0, "salt": salt.to_string(), "commitment": commitment.to_string() })
                })
                .collect();
            let recover: Vec<Value> = c
                .recover
                .iter()
                .map(|(with, candidates, (tags, padding, unknown))| {
                    let r = derive::recover_tags(
                        &Keypair::from_seed(*with),
                        c.chain,
                        &c.consumer,
                        &set,
                        candidates,
                    );
                    assert_eq!(
                        (&r.tags, r.padding, r.unknown),
                        (tags, *padding, *unknown),
                        "{}",
                        c.name
                    );
                    json!({
                        "seed": hex::encode(with),
                        "candidates": candidates.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
                        "tags": r.tags.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
                        "padding": r.padding,
                        "unknown": r.unknown,
                    })
                })
                .collect();
            safe_numbers(json!({
                "name": c.name,
                "seed": hex::encode(c.seed),
                "consumer": c.consumer.to_string(),
                "chain_id": c.chain,
                "epoch": c.epoch,
                "tags": c.tags.iter().map(|t| t.0.clone()).collect::<Vec<_>>(),
                "each": each,
                "set": set,
                "recover": recover,
            }))
        })
        .collect()
}
