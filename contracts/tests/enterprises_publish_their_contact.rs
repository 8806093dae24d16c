//! SetContact: an admitted enterprise publishes how data subjects reach it as
//! a data controller; the record is replaced whole; anyone else, or a
//! malformed contact, is refused with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_contracts::state::StateExt;
use assent_contracts::tx::*;
use assent_contracts::*;
use common::*;

fn contact(email: &str, address: &str) -> Payload {
    Payload::SetContact(SetContact {
        email: email.into(),
        phone: String::new(),
        address: address.into(),
        notice_url: String::new(),
        notice_language: "en".into(),
    })
}

#[test]
fn an_enterprise_sets_and_replaces_its_contact() {
    let a = actors();
    let mut c = TestChain::new(&a);
    let acme = a.acme.account();
    assert_eq!(c.store.contact(&acme).unwrap(), None);

    let o = c.run(
        &a.acme,
        contact("privacy@acme.example", "1 Market St, London, GB"),
    );
    assert_eq!(
        events(&o),
        &[events::Event::ContactSet { enterprise: acme }]
    );
    let set = c.store.contact(&acme).unwrap().unwrap();
    assert_eq!(set.email, "privacy@acme.example");
    assert_eq!(set.address, "1 Market St, London, GB");
    assert_eq!(set.set_at, c.height);

    let o = c.run(
        &a.acme,
        Payload::SetContact(SetContact {
            email: "dpo@acme.example".into(),
            phone: "+44 20 7946 0000".into(),
            address: "2 Market St, London, GB".into(),
            notice_url: "https://acme.example/notice".into(),
            notice_language: "de-AT".into(),
        }),
    );
    assert!(matches!(o, TxOutcome::Applied { .. }), "{o:?}");
    let now = c.store.contact(&acme).unwrap().unwrap();
    assert_eq!(now.email, "dpo@acme.example");
    assert_eq!(now.phone, "+44 20 7946 0000");
    assert_eq!(now.notice_url, "https://acme.example/notice");
    assert_eq!(now.notice_language, "de-AT");
}

#[test]
fn only_an_enterprise_with_a_well_formed_contact_may_set_one() {
    let a = actors();
    let mut c = TestChain::new(&a);
    c.run(&a.alice, register());
    let o = c.run(&a.alice, contact("alice@example.org", "Somewhere 1"));
    assert_eq!(rejection(&o).code, error::ErrorCode::NotEnterprise);
    assert_eq!(c.store.contact(&a.alice.account()).unwrap(), None);

    for (email, address, what) in [
        ("acme.example", "1 Market St", "email"),
        ("@acme.example", "1 Market St", "email"),
        ("privacy@", "1 Market St", "email"),
        ("privacy @acme.example", "1 Market St", "email"),
        ("privacy@acme.example", "  ", "address"),
        ("privacy@acme.example", "line 1\nline 2", "address"),
    ] {
        let p = contact(email, address);
        let err = check_stateless(&p).unwrap_err();
        assert_eq!(
            err.code,
            error::ErrorCode::InvalidField,
            "{email:?} {address:?}"
        );
        assert!(err.reason.contains(what), "{}", err.reason);
        let o = c.run(&a.acme, p);
        assert_eq!(rejection(&o).code, error::ErrorCode::InvalidField);
    }
    let mut p = SetContact {
        email: "privacy@acme.example".into(),
        phone: String::new(),
        address: "1 Market St".into(),
        notice_url: String::new(),
        notice_language: String::new(),
    };
    for bad in ["", "english", "e", "en_GB", "en-", "en-toolongsubtag"] {
        p.notice_language = bad.into();
        let err = check_stateless(&Payload::SetContact(p.clone())).unwrap_err();
        assert!(
            err.reason.contains("notice_language"),
            "{bad:?}: {}",
            err.reason
        );
    }
    assert_eq!(c.store.contact(&a.acme.account()).unwrap(), None);
}
