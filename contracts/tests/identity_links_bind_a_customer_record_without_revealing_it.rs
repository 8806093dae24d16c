//! Identity links: a consumer binds a member card, phone, email or OpenID
//! subject for one enterprise as a salted commitment; the enterprise, holding
//! the identifier and the salt, recomputes it; nothing on the chain reveals
//! the identifier or joins one enterprise's link to another's; an unlink
//! binds from the next block.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::identity::{self, IdentityKind};
use assent_contracts::state::{keys, StateExt, StateRead};
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

fn salt(b: u8) -> LinkSalt {
    LinkSalt(Hash32([b; 32]))
}

fn link(kind: IdentityKind, enterprise: AccountId, commitment: LinkCommitment) -> Payload {
    Payload::LinkIdentity(LinkIdentity {
        enterprise,
        kind,
        commitment,
    })
}

/// What the consumer's CLI does: normalise, commit with a fresh salt.
fn commit(
    consumer: AccountId,
    enterprise: AccountId,
    kind: IdentityKind,
    id: &str,
    s: &LinkSalt,
) -> LinkCommitment {
    identity::commit_identifier(CHAIN, &consumer, &enterprise, kind, id, s).unwrap()
}

/// What the enterprise does: recompute from its own record and compare with the chain.
fn matches(
    c: &TestChain,
    consumer: AccountId,
    enterprise: AccountId,
    kind: IdentityKind,
    own_record: &str,
    s: &LinkSalt,
) -> Option<bool> {
    let on_chain = c
        .store
        .identity_link(&consumer, &enterprise, kind)
        .unwrap()?;
    let mine = identity::commit_identifier(CHAIN, &consumer, &enterprise, kind, own_record, s)
        .map_err(|_| ())
        .ok();
    Some(mine == Some(on_chain.commitment))
}

/// Three of the four operators suspend an enterprise.
fn suspend(c: &mut TestChain, a: &Actors, enterprise: AccountId) {
    let o = c.run(
        &a.operators[0],
        Payload::Propose(Propose {
            action: GovAction::SuspendEnterprise {
                account: enterprise,
            },
        }),
    );
    let proposal = events(&o)
        .iter()
        .find_map(|e| match e {
            Event::ProposalCreated { proposal, .. } => Some(*proposal),
            _ => None,
        })
        .unwrap();
    for op in &a.operators[1..3] {
        events(&c.run(
            op,
            Payload::Vote(Vote {
                proposal,
                yes: true,
            }),
        ));
    }
    let e = c.store.enterprise(&enterprise).unwrap().unwrap();
    assert_eq!(e.status, state::EnterpriseStatus::Suspended);
}

#[test]
fn a_link_matches_the_enterprises_own_record_of_the_customer() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let (alice, acme) = (a.alice.account(), a.acme.account());

    // alice typed her address in mixed case with spaces; acme's CRM holds it in lower case.
    let s = salt(7);
    let cm = commit(alice, acme, IdentityKind::Email, "  Alice@Example.COM ", &s);
    let o = c.run(&a.alice, link(IdentityKind::Email, acme, cm));
    assert_eq!(
        events(&o),
        &[Event::IdentityLinked {
            consumer: alice,
            enterprise: acme,
            kind: IdentityKind::Email,
            commitment: cm,
        }]
    );
    let stored = c
        .store
        .identity_link(&alice, &acme, IdentityKind::Email)
        .unwrap()
        .unwrap();
    assert_eq!(stored.commitment, cm);
    assert_eq!(stored.linked_at, c.height);
    assert_eq!(
        matches(
            &c,
            alice,
            acme,
            IdentityKind::Email,
            "alice@example.com",
            &s
        ),
        Some(true)
    );

    // Every kind, each with its own salt, all listed for alice.
    let more = [
        (
            IdentityKind::MemberCard,
            "ACME-0042-1234",
            "ACME-0042-1234 ",
        ),
        (IdentityKind::Phone, "+44 20 7946 0000", "00442079460000"),
        (
            IdentityKind::Openid,
            "wx8f2a0c1d|oAbC123xyz",
            " wx8f2a0c1d | oAbC123xyz ",
        ),
    ];
    for (i, (kind, typed, crm)) in more.iter().enumerate() {
        let s = salt(10 + i as u8);
        let o = c.run(
            &a.alice,
            link(*kind, acme, commit(alice, acme, *kind, typed, &s)),
        );
        events(&o);
        assert_eq!(
            matches(&c, alice, acme, *kind, crm, &s),
            Some(true),
            "{kind}"
        );
    }
    let listed: Vec<IdentityKind> = c
        .store
        .identity_links_of(&alice)
        .unwrap()
        .into_iter()
        .map(|(e, k, _)| {
            assert_eq!(e, acme);
            k
        })
        .collect();
    assert_eq!(listed, IdentityKind::ALL.to_vec());
}

#[test]
fn a_wrong_identifier_salt_consumer_or_chain_does_not_match() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let (alice, bob, acme) = (a.alice.account(), a.bob.account(), a.acme.account());
    let s = salt(7);
    let k = IdentityKind::Phone;
    c.run(
        &a.alice,
        link(k, acme, commit(alice, acme, k, "+44 20 7946 0000", &s)),
    );

    assert_eq!(
        matches(&c, alice, acme, k, "+44 20 7946 0001", &s),
        Some(false)
    );
    assert_eq!(
        matches(&c, alice, acme, k, "+44 20 7946 0000", &salt(8)),
        Some(false)
    );
    // A malformed record of the enterprise's own is no match either.
    assert_eq!(
        matches(&c, alice, acme, k, "020 7946 0000", &s),
        Some(false)
    );
    // No link of another kind, for another enterprise or of another consumer.
    assert_eq!(
        matches(&c, alice, acme, IdentityKind::Email, "x@y.z", &s),
        None
    );
    assert_eq!(
        matches(&c, alice, a.bank.account(), k, "+44 20 7946 0000", &s),
        None
    );
    assert_eq!(matches(&c, bob, acme, k, "+44 20 7946 0000", &s), None);

    // The commitment binds the consumer's key and the chain: copied to bob's
    // account, or recomputed for another chain, it does not match.
    let on_chain = c.store.identity_link(&alice, &acme, k).unwrap().unwrap();
    let as_bob = commit(bob, acme, k, "+44 20 7946 0000", &s);
    assert_ne!(as_bob, on_chain.commitment);
    let other_chain =
        identity::commit_identifier("other-chain-1", &alice, &acme, k, "+44 20 7946 0000", &s)
            .unwrap();
    assert_ne!(other_chain, on_chain.commitment);
}

#[test]
fn two_enterprises_commitments_for_one_person_differ_and_neither_reveals_the_identifier() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let (alice, acme, bank) = (a.alice.account(), a.acme.account(), a.bank.account());
    let email = "alice@example.com";
    let k = IdentityKind::Email;
    c.run(
        &a.alice,
        link(k, acme, commit(alice, acme, k, email, &salt(1))),
    );
    c.run(
        &a.alice,
        link(k, bank, commit(alice, bank, k, email, &salt(2))),
    );
    let at_acme = c.store.identity_link(&alice, &acme, k).unwrap().unwrap();
    let at_bank = c.store.identity_link(&alice, &bank, k).unwrap().unwrap();
    assert_ne!(at_acme.commitment, at_bank.commitment);

    // Even with one salt reused, the enterprise key in the hash keeps them apart.
    assert_ne!(
        commit(alice, acme, k, email, &salt(1)),
        commit(alice, bank, k, email, &salt(1))
    );
    // acme, holding its own salt, cannot recognise bank's commitment: it is
    // not what acme would compute for bank with acme's salt.
    assert_ne!(commit(alice, bank, k, email, &salt(1)), at_bank.commitment);

    // No record anywhere in the state holds the identifier, in any case or form.
    let needles: [&[u8]; 3] = [email.as_bytes(), b"ALICE@EXAMPLE.COM", b"example.com"];
    for (key, value) in c.store.scan_prefix(b"").unwrap() {
        for n in needles {
            assert!(
                !value.windows(n.len()).any(|w| w == n) && !key.windows(n.len()).any(|w| w == n),
                "record {:?} holds the identifier",
                String::from_utf8_lossy(&key)
            );
        }
    }
}

#[test]
fn removing_a_link_makes_the_lookup_at_the_next_height_fail() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let (alice, acme) = (a.alice.account(), a.acme.account());
    let k = IdentityKind::MemberCard;
    c.run(
        &a.alice,
        link(k, acme, commit(alice, acme, k, "ACME-0042", &salt(3))),
    );
    let linked_at = c.height;
    let before = c.store.clone();
    assert_eq!(
        matches(&c, alice, acme, k, "ACME-0042", &salt(3)),
        Some(true)
    );

    let o = c.run(
        &a.alice,
        Payload::UnlinkIdentity(UnlinkIdentity {
            enterprise: acme,
            kind: k,
        }),
    );
    assert_eq!(
        events(&o),
        &[Event::IdentityUnlinked {
            consumer: alice,
            enterprise: acme,
            kind: k,
        }]
    );
    assert_eq!(c.height, linked_at.next());
    assert_eq!(matches(&c, alice, acme, k, "ACME-0042", &salt(3)), None);
    assert!(c.store.identity_links_of(&alice).unwrap().is_empty());
    assert!(c
        .store
        .get(&keys::identity_link(&alice, &acme, k))
        .unwrap()
        .is_none());
    // The state at the linking height still had it (what a proof for that height shows).
    assert!(before.identity_link(&alice, &acme, k).unwrap().is_some());

    // A second unlink has nothing to remove; a new link (a new salt) is allowed.
    let o = c.run(
        &a.alice,
        Payload::UnlinkIdentity(UnlinkIdentity {
            enterprise: acme,
            kind: k,
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::NotLinked);
    let o = c.run(
        &a.alice,
        link(k, acme, commit(alice, acme, k, "ACME-0042", &salt(4))),
    );
    events(&o);
    assert_eq!(
        matches(&c, alice, acme, k, "ACME-0042", &salt(3)),
        Some(false)
    );
    assert_eq!(
        matches(&c, alice, acme, k, "ACME-0042", &salt(4)),
        Some(true)
    );
}

#[test]
fn a_duplicate_link_an_unknown_or_suspended_enterprise_and_an_unregistered_consumer_are_refused() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let (alice, acme) = (a.alice.account(), a.acme.account());
    let k = IdentityKind::Email;
    let cm = commit(alice, acme, k, "alice@example.com", &salt(1));

    let o = c.run(&a.alice, link(k, acme, cm));
    assert_eq!(rejection(&o).code, ErrorCode::NotConsumer);
    c.run(&a.alice, register());

    let stranger = key(99).account();
    let o = c.run(&a.alice, link(k, stranger, cm));
    assert_eq!(rejection(&o).code, ErrorCode::UnknownEnterprise);
    // An enterprise's key is no consumer, and a consumer is no enterprise.
    let o = c.run(&a.acme, link(k, a.bank.account(), cm));
    assert_eq!(rejection(&o).code, ErrorCode::NotConsumer);
    c.run(&a.bob, register());
    let o = c.run(&a.alice, link(k, a.bob.account(), cm));
    assert_eq!(rejection(&o).code, ErrorCode::UnknownEnterprise);

    events(&c.run(&a.alice, link(k, acme, cm)));
    let o = c.run(
        &a.alice,
        link(
            k,
            acme,
            commit(alice, acme, k, "alice@work.example", &salt(2)),
        ),
    );
    let err = rejection(&o);
    assert_eq!(err.code, ErrorCode::AlreadyLinked);
    assert!(err.reason.contains("unlink it first"), "{}", err.reason);
    assert_eq!(
        c.store
            .identity_link(&alice, &acme, k)
            .unwrap()
            .unwrap()
            .commitment,
        cm
    );
    // Another kind for the same enterprise is another link.
    let phone = IdentityKind::Phone;
    events(&c.run(
        &a.alice,
        link(
            phone,
            acme,
            commit(alice, acme, phone, "+8613800138000", &salt(3)),
        ),
    ));

    // A suspended enterprise gets no new link; one made before stays removable.
    let broke = a.broke.account();
    events(&c.run(
        &a.alice,
        link(
            k,
            broke,
            commit(alice, broke, k, "alice@example.com", &salt(5)),
        ),
    ));
    suspend(&mut c, &a, broke);
    let o = c.run(
        &a.alice,
        link(
            phone,
            broke,
            commit(alice, broke, phone, "+8613800138000", &salt(6)),
        ),
    );
    assert_eq!(rejection(&o).code, ErrorCode::EnterpriseSuspended);
    events(&c.run(
        &a.alice,
        Payload::UnlinkIdentity(UnlinkIdentity {
            enterprise: broke,
            kind: k,
        }),
    ));

    // A zero commitment is refused before any state is read.
    let zero = link(k, acme, LinkCommitment(Hash32::ZERO));
    let err = check_stateless(&zero).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidField);
    assert!(err.reason.contains("commitment"), "{}", err.reason);
    // An unlink by someone who is not a consumer.
    let o = c.run(
        &a.acme,
        Payload::UnlinkIdentity(UnlinkIdentity {
            enterprise: acme,
            kind: k,
        }),
    );
    assert_eq!(rejection(&o).code, ErrorCode::NotConsumer);
}

#[test]
fn identifiers_are_normalised_per_kind_and_malformed_ones_refused_with_a_reason() {
    use IdentityKind::*;
    for (kind, raw, want) in [
        (Email, "  Alice@Example.COM\t", "alice@example.com"),
        (
            Email,
            "a.b+tag@mail.example.co.uk",
            "a.b+tag@mail.example.co.uk",
        ),
        (Phone, "+44 (20) 7946-0000", "+442079460000"),
        (Phone, "0086 138.0013.8000", "+8613800138000"),
        (Phone, "+683 4002", "+6834002"),
        // Only ASCII letters are lower-cased, so no Unicode version decides a match.
        (Email, "ZOË@Example.com", "zoË@example.com"),
        (MemberCard, "  ACME 0042 1234 ", "ACME 0042 1234"),
        (
            Openid,
            "https://accounts.example.com|248289761001",
            "https://accounts.example.com|248289761001",
        ),
        (Openid, " wx8f2a0c1d | oAbC123xyz ", "wx8f2a0c1d|oAbC123xyz"),
    ] {
        assert_eq!(
            identity::normalize(kind, raw).unwrap(),
            want,
            "{kind} {raw:?}"
        );
    }
    // OpenID subjects are case-sensitive: these are two people.
    assert_ne!(
        identity::normalize(Openid, "wx1|oAbC").unwrap(),
        identity::normalize(Openid, "wx1|oabc").unwrap()
    );
    for (kind, raw, why) in [
        (Email, "", "is empty"),
        (Email, "alice.example.com", "exactly one @"),
        (Email, "alice@@example.com", "exactly one @"),
        (Email, "@example.com", "nothing before the @"),
        (Email, "alice@localhost", "domain"),
        (Email, "alice@example..com", "domain"),
        (Email, "al ice@example.com", "spaces"),
        (Phone, "020 7946 0000", "country code"),
        (Phone, "+44 20 7946 000x", "not a digit"),
        (Phone, "+123456", "7 to 15"),
        (Phone, "+1234567890123456", "7 to 15"),
        (Phone, "+0442079460000", "never starts with 0"),
        (MemberCard, "   ", "is empty"),
        (MemberCard, "ACME\n0042", "control characters"),
        (MemberCard, &"9".repeat(65), "at most 64"),
        (Openid, "wx8f2a0c1d", "no `|`"),
        (Openid, "|oAbC", "empty issuer"),
        (Openid, "wx8f2a0c1d|", "empty subject"),
        (Openid, "wx 8f|oAbC", "spaces"),
        (Openid, "a|b|c", "more than one `|`"),
    ] {
        let err = identity::normalize(kind, raw).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(why), "{kind} {raw:?}: {text}");
        assert!(text.contains("expected"), "{text}");
    }
}
