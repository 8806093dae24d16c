//! Interest tags (decision 33): a consumer's tags reach the chain only as
//! salted commitments. No tx, result, event or state record holds a tag a
//! consumer declared; the consumer, holding the salts, matches a public
//! request's target tags against its own set; another consumer's commitment
//! to the same tag is unrelated; a new set shares no commitment with the old
//! one; malformed sets are refused before any state is read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::{StateExt, StateRead};
use assent_contracts::tags::{self, TagCommitments};
use assent_contracts::terms::{Level, Tag};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

/// Stands in for the client's key-derived salt (`assent_keys::derive`):
/// secret to everyone but the consumer, different per consumer, epoch and tag.
fn salt(consumer: &AccountId, epoch: u64, tag: &str) -> TagSalt {
    TagSalt(Hash32::tagged(
        "test/tag-salt",
        &[consumer.as_bytes(), &epoch.to_le_bytes(), tag.as_bytes()],
    ))
}

/// What the client sends: the tags' commitments padded with `pad` others, sorted.
fn set(consumer: &AccountId, epoch: u64, tags: &[&str], pad: u64) -> TagCommitments {
    let mut commitments: Vec<TagCommitment> = tags
        .iter()
        .map(|t| {
            tags::commitment(
                CHAIN,
                consumer,
                &t.parse().unwrap(),
                &salt(consumer, epoch, t),
            )
        })
        .collect();
    commitments.extend((0..pad).map(|i| {
        TagCommitment(Hash32::tagged(
            "test/pad",
            &[consumer.as_bytes(), &epoch.to_le_bytes(), &i.to_le_bytes()],
        ))
    }));
    commitments.sort();
    TagCommitments { epoch, commitments }
}

/// The client's local match: is `tag` one of this consumer's tags on the chain?
fn declared(c: &TestChain, consumer: &AccountId, tag: &Tag) -> bool {
    let on_chain = c.store.consumer(consumer).unwrap().unwrap().tags;
    let mine = tags::commitment(
        CHAIN,
        consumer,
        tag,
        &salt(consumer, on_chain.epoch, &tag.0),
    );
    on_chain.contains(&mine)
}

/// Every byte the ledger holds or hands out: each block's txs, results and
/// end events, and every state record.
fn everything(c: &TestChain, blocks: &[(Vec<SignedTx>, BlockOutput)]) -> Vec<Vec<u8>> {
    let mut all: Vec<Vec<u8>> = c
        .store
        .scan_prefix(b"")
        .unwrap()
        .into_iter()
        .flat_map(|(k, v)| [k, v])
        .collect();
    for (txs, out) in blocks {
        all.extend(txs.iter().map(SignedTx::encode));
        all.extend(out.results.iter().map(|r| codec::encode(r).unwrap()));
        all.push(codec::encode(&out.end_events).unwrap());
    }
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn no_tag_a_consumer_declared_is_on_the_chain_and_the_consumer_still_matches_requests() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let (alice, bob) = (a.alice.account(), a.bob.account());
    let mut blocks = vec![];
    let mut run = |c: &mut TestChain, k: &Keypair, p: Payload| {
        let tx = c.sign(k, p);
        let out = c.block(vec![tx.clone()]);
        let outcome = out.results[0].outcome.clone();
        blocks.push((vec![tx], out));
        outcome
    };
    let reg = |set| Payload::RegisterConsumer(RegisterConsumer { tags: set });
    events(&run(
        &mut c,
        &a.alice,
        reg(set(&alice, 0, &["runner", "vegan"], 14)),
    ));
    events(&run(&mut c, &a.bob, reg(set(&bob, 0, &["runner"], 15))));
    // acme's request is public, target tags and all.
    let request = Payload::PostRequest(PostRequest {
        categories: vec![cat("Purchase")],
        purposes: vec![purp("DirectMarketing")],
        level: Level::Pseudonymous,
        price_per_use: Amount(5),
        duration_ms: 60_000,
        target_tags: vec!["cyclist".parse().unwrap()],
    });
    events(&run(&mut c, &a.acme, request));

    // Each consumer, with its salts, finds its own tags and no others.
    let tag = |t: &str| -> Tag { t.parse().unwrap() };
    assert!(declared(&c, &alice, &tag("runner")));
    assert!(declared(&c, &alice, &tag("vegan")));
    assert!(!declared(&c, &alice, &tag("cyclist")));
    assert!(declared(&c, &bob, &tag("runner")) && !declared(&c, &bob, &tag("vegan")));
    // Same tag, two consumers: unrelated commitments, and the padded sets
    // are the same size whatever the count.
    let (ca, cb) = (
        c.store.consumer(&alice).unwrap().unwrap().tags,
        c.store.consumer(&bob).unwrap().unwrap().tags,
    );
    assert_eq!(ca.commitments.len(), MAX_TAGS);
    assert_eq!(cb.commitments.len(), MAX_TAGS);
    assert!(ca.commitments.iter().all(|x| !cb.contains(x)));

    // Alice changes her tags: a new epoch, so not one commitment is kept
    // (a reader cannot tell which tag stayed); she matches the request now.
    let before = ca.clone();
    let new = set(&alice, 5, &["runner", "cyclist"], 14);
    let o = run(&mut c, &a.alice, Payload::SetTags(SetTags { tags: new }));
    assert_eq!(events(&o), [Event::TagsSet { consumer: alice }]);
    let after = c.store.consumer(&alice).unwrap().unwrap().tags;
    assert_eq!(after.epoch, 5);
    assert!(after.commitments.iter().all(|x| !before.contains(x)));
    assert!(declared(&c, &alice, &tag("cyclist")) && !declared(&c, &alice, &tag("vegan")));

    // Not one byte the ledger holds names a tag a consumer declared; the
    // request's own target tag is public by design.
    let all = everything(&c, &blocks);
    for t in ["runner", "vegan"] {
        assert!(
            !all.iter().any(|b| holds(b, t)),
            "`{t}` is readable on the chain"
        );
    }
    assert!(
        all.iter().any(|b| holds(b, "cyclist")),
        "the request is public"
    );
}

#[test]
fn malformed_sets_and_strangers_are_refused() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let alice = a.alice.account();
    let refused = |p: &Payload| check_stateless(p).unwrap_err().code;
    let mut unsorted = set(&alice, 1, &["runner", "vegan"], 0);
    unsorted.commitments.reverse();
    let mut repeated = set(&alice, 1, &["runner"], 0);
    repeated.commitments.push(repeated.commitments[0]);
    let too_many = set(&alice, 1, &[], MAX_TAGS as u64 + 1);
    for (tags, code) in [
        (unsorted, ErrorCode::InvalidField),
        (repeated, ErrorCode::DuplicateItem),
        (too_many, ErrorCode::TooManyItems),
    ] {
        let p = Payload::SetTags(SetTags { tags: tags.clone() });
        assert_eq!(refused(&p), code);
        let r = Payload::RegisterConsumer(RegisterConsumer { tags });
        assert_eq!(refused(&r), code);
        assert_eq!(rejection(&c.run(&a.alice, r)).code, code);
    }
    // Only a consumer sets tags; an empty set clears them.
    let empty = Payload::SetTags(SetTags {
        tags: TagCommitments::default(),
    });
    assert_eq!(
        rejection(&c.run(&a.alice, empty.clone())).code,
        ErrorCode::NotConsumer
    );
    c.run(&a.alice, register());
    events(&c.run(&a.alice, empty));
    let held = c.store.consumer(&alice).unwrap().unwrap().tags;
    assert_eq!(held, TagCommitments::default());
}
