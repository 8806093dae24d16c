//! The ledger's vocabularies and its standard receipts, checked as a DPO
//! would check them with the standards' own material:
//!
//! - every purpose, data category and consent status of `contracts/vocab/`
//!   is a DPV term of its kind (a narrower term of `dpv:Purpose`,
//!   `dpv:PersonalData`, `dpv:ConsentStatus` in the DPV 2.3 term lists
//!   vendored in `tests/standards/dpv/`), and DPV concepts that are not
//!   purposes are refused naming the term;
//! - on a 4-validator network, the ISO/IEC TS 27560 records of a
//!   granted-and-used, a paused, a revoked and an expired consent, parsed as
//!   JSON-LD into RDF triples by a real parser (oxjsonld), use only DPV terms
//!   that exist (properties and classes, of the right kind) and carry every
//!   field the DPV-27560 record profile marks MUST; a record claims the
//!   profile only once the controller has published its contact;
//! - the Kantara CR 1.1 receipts of the same consents validate against the
//!   Kantara working group's JSON schema (vendored in
//!   `tests/standards/kantara/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use assent_contracts::terms::{self, Level, Purpose};
use assent_contracts::tx::*;
use assent_contracts::{Amount, ConsentId, Hash32, Payload, Timestamp};
use assent_tests::standards::*;
use assent_tests::{wait_until, Net};
use serde_json::Value;

#[test]
fn the_ledgers_vocabularies_are_dpv_terms_of_their_kind() {
    let d = Dpv::load();
    for (list, root) in [
        (terms::purposes(), dpv("Purpose")),
        (terms::categories(), dpv("PersonalData")),
        (terms::consent_statuses(), dpv("ConsentStatus")),
    ] {
        assert!(!list.is_empty());
        for t in list {
            assert!(d.is_class(t.iri), "{} is not a DPV 2.3 term", t.iri);
            assert!(
                d.is_a(t.iri, &root),
                "{} is not a narrower term of {root}",
                t.iri
            );
        }
    }
    for t in terms::categories() {
        assert!(t.iri.starts_with(PD) || t.iri.starts_with(DPV), "{}", t.iri);
    }
    // The location codes the ledger embeds (for jurisdictions) are DPV's.
    for code in terms::locations() {
        assert!(d.locations.contains(&format!("{LOC}{code}")), "{code}");
    }
    assert_eq!(terms::locations().len(), d.locations.len());
    // DPV concepts that are not purposes are refused, naming the term.
    assert!(!d.is_a(&dpv("Sector"), &dpv("Purpose")));
    assert!(!d.is_a(&dpv("RightsFulfilment"), &dpv("Purpose")));
    for term in ["Sector", "RightsFulfilment"] {
        let err = term.parse::<Purpose>().unwrap_err();
        assert!(
            err.starts_with(&format!(
                "`{term}` is not a DPV purpose term: in DPV, dpv:{term}"
            )),
            "{err}"
        );
    }
}

/// Checks an ISO 27560 record: every DPV IRI it uses exists in DPV 2.3 and is
/// of the kind its property wants; every field the DPV-27560 record profile
/// marks MUST is present. Returns the consent status IRIs of its events.
fn check_record(g: &Graph, d: &Dpv, claims_profile: bool) -> BTreeSet<String> {
    // 1. Every DPV term used exists: properties as properties, the rest as classes.
    for (s, p, o) in &g.triples {
        if p.starts_with(DPV) {
            assert!(d.properties.contains(p), "{p} is not a DPV 2.3 property");
        }
        for n in [s, o] {
            if let Some(iri) = n.iri() {
                if iri.starts_with(DPV) || iri.starts_with(PD) {
                    assert!(d.is_class(iri), "{iri} is not a DPV 2.3 term");
                }
                if iri.starts_with(LOC) {
                    assert!(d.locations.contains(iri), "{iri} is not a DPV 2.3 location");
                }
            }
        }
    }
    assert!(
        !g.triples
            .iter()
            .any(|(_, p, _)| p == &dpv("hasWithdrawalMethod")),
        "DPV removed hasWithdrawalMethod in v1"
    );

    // 2. Record metadata.
    let records = g.subjects_of_type(&dpv("ConsentRecord"));
    assert_eq!(records.len(), 1, "one dpv:ConsentRecord");
    let r = records[0];
    let conforms = g.objects(r, &format!("{DCT}conformsTo"));
    if claims_profile {
        assert_eq!(conforms, vec![&Node::Iri(RECORD_PROFILE.into())]);
    } else {
        assert!(
            conforms.is_empty(),
            "claims the profile without the controller's contact"
        );
        let why = g.must(r, "urn:assent:conformance");
        assert!(
            matches!(why[0], Node::Literal(t, _) if t.contains("has not published")),
            "{why:?}"
        );
    }
    assert!(matches!(
        g.must(r, &format!("{DCT}identifier"))[0],
        Node::Literal(..)
    ));
    let subject = g.must(r, &dpv("hasDataSubject"))[0].clone();
    assert!(g.types(&subject).contains(&dpv("DataSubject").as_str()));

    // 3. The notice, with its language.
    for n in g.must(r, &dpv("hasNotice")) {
        assert!(g.types(n).contains(&dpv("ConsentNotice").as_str()));
        g.must(n, &format!("{DCT}language"));
    }

    // 4. The process: purposes, personal data, storage, controller,
    // recipients, consent controls, jurisdiction, rights, legal basis.
    let kinds = |n: &Node, root: &str| {
        let t = g.types(n);
        assert!(
            t.iter().any(|t| d.is_a(t, root)),
            "{n:?} has no type under {root}: {t:?}"
        );
    };
    let processes = g.must(r, &dpv("hasProcess"));
    for p in processes {
        assert!(g.types(p).contains(&dpv("Process").as_str()));
        for x in g.must(p, &dpv("hasPurpose")) {
            let iri = x.iri().expect("a purpose by IRI");
            assert!(d.is_a(iri, &dpv("Purpose")), "{iri} is not a purpose");
        }
        for x in g.must(p, &dpv("hasPersonalData")) {
            let iri = x.iri().expect("personal data by IRI");
            assert!(
                d.is_a(iri, &dpv("PersonalData")),
                "{iri} is not personal data"
            );
        }
        for x in g.must(p, &dpv("hasStorageCondition")) {
            kinds(x, &dpv("StorageCondition"));
        }
        for x in g.must(p, &dpv("hasConsentControl")) {
            kinds(x, &dpv("ConsentControl"));
            assert!(g.types(x).contains(&dpv("WithdrawConsent").as_str()));
            g.must(x, &dpv("isExercisedAt"));
        }
        for x in g.must(p, &dpv("hasRight")) {
            kinds(x, &dpv("DataSubjectRight"));
            g.must(x, &dpv("isExercisedAt"));
        }
        for x in g.must(p, &dpv("hasLegalBasis")) {
            assert!(d.is_a(x.iri().unwrap(), &dpv("Consent")), "{x:?}");
        }
        // acme's jurisdiction, EU, as DPV's location term.
        assert_eq!(
            g.must(p, &dpv("hasJurisdiction")),
            vec![&Node::Iri(format!("{LOC}EU"))]
        );
        g.must(p, &dpv("hasRecipient"));
        // 5. The controller is an entity of the record with a name, an
        // identifier, a contact and a postal address.
        let entities = g.must(r, &dpv("hasEntity"));
        for c in g.must(p, &dpv("hasDataController")) {
            assert!(
                entities.contains(&c),
                "controller {c:?} is not under dpv:hasEntity"
            );
            assert!(g.types(c).contains(&dpv("DataController").as_str()));
            g.must(c, &dpv("hasName"));
            g.must(c, &dpv("hasIdentifier"));
            if claims_profile {
                let point = g.must(c, &format!("{SCHEMA}contactPoint"))[0];
                g.must(point, &format!("{SCHEMA}email"));
                let address = g.must(c, &format!("{SCHEMA}address"))[0];
                assert!(g
                    .types(address)
                    .contains(&format!("{SCHEMA}PostalAddress").as_str()));
                g.must(address, &format!("{SCHEMA}streetAddress"));
            }
        }
    }

    // 6. The consent events: each a DPV consent status (or assent's paused
    // state under ConsentStatusInvalidForProcessing), with time, who
    // indicated it and how; the grant with its duration.
    let mut statuses = BTreeSet::new();
    for e in g.must(r, &dpv("hasConsentStatus")) {
        let t = g.types(e);
        assert!(
            t.iter().any(|t| d.is_a(t, &dpv("ConsentStatus"))),
            "event {e:?} has no DPV consent status: {t:?}"
        );
        let time = g.must(e, &dpv("isIndicatedAtTime"));
        assert!(
            matches!(time[0], Node::Literal(_, dt) if dt == XSD_DATE_TIME),
            "{time:?}"
        );
        g.must(e, &dpv("isIndicatedBy"));
        g.must(e, &dpv("hasIndicationMethod"));
        for x in g.must(e, &dpv("hasDuration")) {
            kinds(x, &dpv("Duration"));
        }
        statuses.extend(t.into_iter().map(str::to_string));
    }
    statuses
}

// ---- the devnet ---------------------------------------------------------------

fn grant(n: &Net, alice: &assent_contracts::crypto::Keypair, g: GrantConsent) -> ConsentId {
    let tx = n.sign(0, alice, Payload::GrantConsent(g));
    assert_eq!(n.submit(0, &tx).0, 202);
    assert_eq!(n.wait_tx(0, &tx.id().to_string())["status"], "committed");
    ConsentId(tx.id().0)
}

fn terms_of(acme: &assent_contracts::AccountId, category: &str) -> GrantConsent {
    GrantConsent {
        enterprise: *acme,
        categories: vec![category.parse().unwrap()],
        purposes: vec!["DirectMarketing".parse().unwrap()],
        level: Level::Pseudonymous,
        price_per_use: Amount(2),
        max_uses: None,
        expires_at: None,
        request: None,
    }
}

/// The signed standard receipt of consent `c` in `format`, fetched from node 1
/// once node 1 has seen every tx up to node 0's head.
fn receipt(n: &Net, c: &ConsentId, format: &str) -> Value {
    let v = n
        .get(1, &format!("/v1/consents/{c}/receipt?format={format}"))
        .unwrap_or_else(|| panic!("no {format} receipt of {c}"));
    assert_eq!(v["format"], format, "{v}");
    v
}

fn caught_up(n: &Net) {
    let h = n.height(0).unwrap();
    n.wait_height(1, h, Duration::from_secs(60));
    wait_until("node 1 to index its head", Duration::from_secs(60), || {
        n.status(1)
            .and_then(|s| s["indexed_height"].as_u64())
            .is_some_and(|x| x >= h)
    });
}

#[test]
fn receipts_of_granted_paused_revoked_and_expired_consents_pass_the_standards_checks() {
    let d = Dpv::load();
    let kantara = kantara_validator();
    let net = Net::started(4);
    let alice = net.key("alice");
    let acme = net.key("acme");
    let r = net.run(
        0,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: Default::default(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");

    // Granted with at most 10 uses, and used.
    let used = grant(
        &net,
        &alice,
        GrantConsent {
            max_uses: Some(10),
            ..terms_of(&acme.account(), "Purchase")
        },
    );
    let r = net.run(
        0,
        &acme,
        Payload::RecordUse(RecordUse {
            uses: vec![Use {
                consumer: alice.account(),
                basis: UseBasis::Consent(used),
                category: "Purchase".parse().unwrap(),
                purpose: "DirectMarketing".parse().unwrap(),
                level: Level::Pseudonymous,
                units: 3,
                evidence_hash: Hash32([5; 32]),
            }],
        }),
    );
    assert!(r["events"][0].get("use_settled").is_some(), "{r}");

    // Before acme publishes its contact, its records do not claim the profile.
    caught_up(&net);
    let iso = receipt(&net, &used, "iso27560");
    let statuses = check_record(&Graph::parse(&iso["receipt"]), &d, false);
    assert!(statuses.contains(&dpv("ConsentGiven")));
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("unclaimed.json");
    std::fs::write(&file, iso.to_string()).unwrap();
    let text = net.verify_ok(0, &file);
    assert!(text.contains("profile not claimed: "), "{text}");

    let r = net.run(
        0,
        &acme,
        Payload::SetContact(SetContact {
            email: "privacy@acme.example".into(),
            phone: "+1 555 0100".into(),
            address: "1 Market Street, Springfield, US".into(),
            notice_url: "https://acme.example/privacy/notice".into(),
            notice_language: "en-US".into(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");

    // Paused; revoked (special-category data); expiring in a few seconds.
    let paused = grant(&net, &alice, terms_of(&acme.account(), "Location"));
    let r = net.run(
        0,
        &alice,
        Payload::PauseConsent(PauseConsent { consent: paused }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    let revoked = grant(&net, &alice, terms_of(&acme.account(), "HealthRecord"));
    let r = net.run(
        0,
        &alice,
        Payload::RevokeConsent(RevokeConsent { consent: revoked }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    let now = net.status(0).unwrap()["time_ms"].as_u64().unwrap();
    // Far enough ahead that the grant commits first even on a slow machine.
    let expires = now + 10_000;
    let expired = grant(
        &net,
        &alice,
        GrantConsent {
            expires_at: Some(Timestamp(expires)),
            ..terms_of(&acme.account(), "EmailAddress")
        },
    );
    assert!(
        wait_until(
            "block time to pass the expiry",
            Duration::from_secs(60),
            || {
                net.status(1)
                    .and_then(|s| s["time_ms"].as_u64())
                    .is_some_and(|t| t > expires)
            }
        ),
        "the chain's block time did not pass {expires}"
    );
    caught_up(&net);

    for (c, status, doc_status) in [
        (used, dpv("ConsentGiven"), "ConsentGiven"),
        (
            paused,
            "urn:assent:ConsentPaused".to_string(),
            "ConsentPaused",
        ),
        (revoked, dpv("ConsentWithdrawn"), "ConsentWithdrawn"),
        (expired, dpv("ConsentExpired"), "ConsentExpired"),
    ] {
        let iso = receipt(&net, &c, "iso27560");
        assert_eq!(iso["receipt"]["assent:status"]["status"], doc_status);
        let statuses = check_record(&Graph::parse(&iso["receipt"]), &d, true);
        assert!(statuses.contains(&status), "{doc_status}: {statuses:?}");
        assert!(statuses.contains(&dpv("ConsentGiven")), "the grant event");

        let k = receipt(&net, &c, "kantara");
        assert_eq!(k["receipt"]["assent:status"]["status"], doc_status);
        check_kantara(&kantara, &k["receipt"]);
        let controller = &k["receipt"]["piiControllers"][0];
        assert_eq!(controller["email"], "privacy@acme.example");
        assert_eq!(controller["phone"], "+1 555 0100");
        // The receipt's language is the controller's notice's, as in the ISO record.
        assert_eq!(k["receipt"]["language"], "en-US");
    }
}
