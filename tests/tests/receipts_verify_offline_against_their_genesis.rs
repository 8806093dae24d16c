//! On a 4-validator network: receipts of a grant, pause, resume, settled use
//! and revocation, fetched from the API and with `assent consent receipt`,
//! verify offline with `assent receipt verify --genesis` and say what they
//! prove; against another network's genesis they are refused as another
//! chain's. The Kantara and ISO 27560 receipts pass a field-list check (every
//! required field, with its JSON type, DPV terms by IRI, the ledger id as
//! the principal) and their JWS verifies with the issuing validator's key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use assent_contracts::terms::{self, Level};
use assent_contracts::tx::*;
use assent_contracts::{AccountId, Amount, ConsentId, Hash32, Payload};
use assent_tests::Net;
use assent_tests::{verify_receipt, write_json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

fn grant_payload(acme: &AccountId, category: &str) -> Payload {
    Payload::GrantConsent(GrantConsent {
        enterprise: *acme,
        categories: vec![category.parse().unwrap()],
        purposes: vec!["DirectMarketing".parse().unwrap()],
        level: Level::Pseudonymous,
        price_per_use: Amount(3),
        max_uses: None,
        expires_at: None,
        request: None,
    })
}

/// Waits until node `i` has committed and indexed the tx whose status is `r`
/// (it was submitted to, and reported by, another node).
fn seen_by(net: &Net, i: usize, r: &Value) {
    let id = r["tx_id"].as_str().expect("status names its tx");
    assert_eq!(net.wait_tx(i, id)["status"], "committed");
}

fn assert_verifies(net: &Net, file: &Path, expect: &[&str]) {
    let (ok, out, err) = verify_receipt(net, file, &net.genesis_path(), &[]);
    assert!(ok, "{} did not verify: {err}", file.display());
    for e in expect {
        assert!(out.contains(e), "{out:?} lacks {e:?}");
    }
    assert!(out.contains("committed by"), "{out}");
    assert!(out.contains("block time 20"), "{out}");
}

// ---- the field-list checker -------------------------------------------------

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_rfc3339(s: &str) -> bool {
    s.len() >= 20 && s.ends_with('Z') && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T'
}

fn purpose_iris() -> Vec<&'static str> {
    terms::purposes().iter().map(|t| t.iri).collect()
}

fn category_iris() -> Vec<&'static str> {
    terms::categories().iter().map(|t| t.iri).collect()
}

/// `v[key]` exists with the JSON type `kind` ("string", "integer", "bool",
/// "array", "object"); strings and arrays must not be empty unless `empty_ok`.
fn field<'a>(v: &'a Value, key: &str, kind: &str, empty_ok: bool) -> &'a Value {
    let f = v.get(key).unwrap_or_else(|| panic!("missing {key} in {v}"));
    let ok = match kind {
        "string" => f.as_str().is_some_and(|s| empty_ok || !s.is_empty()),
        "integer" => f.is_u64(),
        "bool" => f.is_boolean(),
        "array" => f.as_array().is_some_and(|a| empty_ok || !a.is_empty()),
        "object" => f.is_object(),
        _ => unreachable!(),
    };
    assert!(ok, "{key} is not a {kind}: {f}");
    f
}

fn check_kantara(r: &Value, principal: &AccountId, sensitive: bool) {
    assert_eq!(field(r, "version", "string", false), "KI-CR-v1.1.0");
    field(r, "jurisdiction", "string", false);
    field(r, "consentTimestamp", "integer", false);
    field(r, "collectionMethod", "string", false);
    assert!(is_uuid(
        field(r, "consentReceiptID", "string", false)
            .as_str()
            .unwrap()
    ));
    field(r, "language", "string", false);
    // The ledger id, never a name or phone.
    assert_eq!(
        field(r, "piiPrincipalId", "string", false),
        &principal.to_string()
    );
    for c in field(r, "piiControllers", "array", false)
        .as_array()
        .unwrap()
    {
        field(c, "piiController", "string", false);
        field(c, "contact", "string", false);
        field(c, "address", "object", false);
        field(c, "email", "string", true);
        field(c, "phone", "string", true);
        field(c, "piiControllerUrl", "string", false);
    }
    field(r, "policyUrl", "string", false);
    let (ps, cs) = (purpose_iris(), category_iris());
    for s in field(r, "services", "array", false).as_array().unwrap() {
        field(s, "service", "string", false);
        for p in field(s, "purposes", "array", false).as_array().unwrap() {
            field(p, "purpose", "string", false);
            for c in field(p, "purposeCategory", "array", false)
                .as_array()
                .unwrap()
            {
                assert!(ps.contains(&c.as_str().unwrap()), "not a DPV purpose: {c}");
            }
            assert_eq!(field(p, "consentType", "string", false), "EXPLICIT");
            for c in field(p, "piiCategory", "array", false).as_array().unwrap() {
                assert!(cs.contains(&c.as_str().unwrap()), "not a DPV category: {c}");
            }
            field(p, "primaryPurpose", "bool", false);
            field(p, "termination", "string", false);
            field(p, "thirdPartyDisclosure", "bool", false);
        }
    }
    assert_eq!(field(r, "sensitive", "bool", false), sensitive);
    let spi = field(r, "spiCat", "array", true).as_array().unwrap();
    assert_eq!(spi.is_empty(), !sensitive);
    field(r, "assent:proof", "object", false);
}

fn check_iso(r: &Value, principal: &AccountId, status: &str) {
    let ctx = field(r, "@context", "object", false);
    assert_eq!(ctx["dpv"], "https://w3id.org/dpv#");
    assert_eq!(field(r, "@type", "string", false), "dpv:ConsentRecord");
    field(r, "@id", "string", false);
    field(r, "dct:identifier", "string", false);
    assert_eq!(
        field(r, "dct:conformsTo", "object", false)["@id"],
        "https://w3id.org/dpv/schema/dpv-27560#record"
    );
    let subject = field(r, "dpv:hasDataSubject", "object", false);
    assert_eq!(
        field(subject, "dct:identifier", "string", false),
        &principal.to_string()
    );
    let controller = field(r, "dpv:hasDataController", "object", false);
    field(controller, "@id", "string", false);
    let process = field(r, "dpv:hasProcess", "object", false);
    let (ps, cs) = (purpose_iris(), category_iris());
    for p in field(process, "dpv:hasPurpose", "array", false)
        .as_array()
        .unwrap()
    {
        assert!(
            ps.contains(&p["@id"].as_str().unwrap()),
            "not a DPV purpose: {p}"
        );
    }
    for c in field(process, "dpv:hasPersonalData", "array", false)
        .as_array()
        .unwrap()
    {
        assert!(
            cs.contains(&c["@id"].as_str().unwrap()),
            "not a DPV category: {c}"
        );
    }
    let events = field(r, "dpv:hasConsentStatus", "array", false)
        .as_array()
        .unwrap();
    let latest = &events[events.len() - 1]["@type"];
    let latest = latest
        .as_str()
        .or_else(|| latest[0].as_str())
        .unwrap()
        .to_string();
    match status {
        "ConsentPaused" => assert_eq!(latest, "dpv:ConsentStatusInvalidForProcessing"),
        s => assert_eq!(latest, format!("dpv:{s}")),
    }
    for e in events {
        let t = field(e, "dpv:isIndicatedAtTime", "object", false)["@value"]
            .as_str()
            .unwrap();
        assert!(is_rfc3339(t), "{t}");
        field(e, "dpv:hasIndicationMethod", "string", false);
    }
    for k in ["dct:created", "dct:modified"] {
        let t = field(r, k, "object", false)["@value"].as_str().unwrap();
        assert!(is_rfc3339(t), "{k}: {t}");
    }
    assert!(
        r.get("dpv:hasWithdrawalMethod").is_none(),
        "DPV removed hasWithdrawalMethod"
    );
    field(r, "assent:proof", "object", false);
}

/// Verifies a compact JWS independently (base64url + ed25519): the header
/// is EdDSA with the validator's key, and the payload is `receipt`.
fn check_jws(jws: &str, receipt: &Value, validators: &[String]) {
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert!(jws.starts_with("eyJ"));
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["jwk"]["kty"], "OKP");
    assert_eq!(header["jwk"]["crv"], "Ed25519");
    let kid = header["kid"].as_str().unwrap();
    assert!(
        validators.iter().any(|v| v == kid),
        "kid {kid} is not a validator"
    );
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(header["jwk"]["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(kid.parse::<AccountId>().unwrap().0, x);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
    let sig: [u8; 64] = URL_SAFE_NO_PAD
        .decode(parts[2])
        .unwrap()
        .try_into()
        .unwrap();
    let input = format!("{}.{}", parts[0], parts[1]);
    key.verify_strict(
        input.as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&sig),
    )
    .expect("the JWS signature verifies");
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(&payload, receipt);
}

#[test]
fn receipts_of_every_kind_verify_offline_and_standard_receipts_are_valid() {
    let mut net = Net::new(4);
    net.start_all();
    for i in 0..4 {
        net.wait_height(i, 2, Duration::from_secs(90));
    }
    let files = tempfile::tempdir().unwrap();
    let dir = files.path();
    let alice = net.key("alice");
    let acme = net.key("acme");
    let validators: Vec<String> = net.status(0).unwrap()["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["consensus_key"].as_str().unwrap().to_string())
        .collect();

    let r = net.run(
        0,
        &alice,
        Payload::RegisterConsumer(RegisterConsumer {
            tags: Default::default(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    let tx = net.sign(1, &alice, grant_payload(&acme.account(), "Purchase"));
    let consent = ConsentId(tx.id().0);
    assert_eq!(net.submit(1, &tx).0, 202);
    assert_eq!(net.wait_tx(1, &tx.id().to_string())["status"], "committed");
    for i in [2, 3] {
        net.wait_tx(i, &tx.id().to_string());
    }
    let route = format!("/v1/consents/{consent}/receipt");

    // The grant: from the API, and from the CLI (another node).
    let grant = write_json(dir, "grant.json", &net.get(2, &route).unwrap());
    assert_verifies(
        &net,
        &grant,
        &[
            "alice (",
            "granted acme (",
            "DirectMarketing on Purchase data",
            "status ConsentGiven",
        ],
    );
    let cli_grant = dir.join("grant-cli.json");
    let out = net.cli(
        3,
        &[
            "consent",
            "receipt",
            &consent.to_string(),
            "--key",
            "alice",
            "--out",
            cli_grant.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_verifies(&net, &cli_grant, &["granted acme ("]);

    let r = net.run(0, &alice, Payload::PauseConsent(PauseConsent { consent }));
    assert_eq!(r["status"], "committed", "{r}");
    seen_by(&net, 1, &r);
    let pause = write_json(dir, "pause.json", &net.get(1, &route).unwrap());
    assert_verifies(
        &net,
        &pause,
        &[
            &format!("paused consent {consent} to acme ("),
            "status ConsentPaused",
        ],
    );

    let r = net.run(0, &alice, Payload::ResumeConsent(ResumeConsent { consent }));
    assert_eq!(r["status"], "committed", "{r}");
    seen_by(&net, 2, &r);
    let resume = dir.join("resume.json");
    let out = net.cli(
        2,
        &[
            "consent",
            "receipt",
            &consent.to_string(),
            "--key",
            "alice",
            "--out",
            resume.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_verifies(
        &net,
        &resume,
        &[
            &format!("resumed consent {consent} to acme ("),
            "status ConsentGiven",
        ],
    );
    let listed = net
        .get(0, &format!("/v1/consumers/{}/consents", alice.account()))
        .unwrap();
    assert_eq!(listed["consents"][0]["status"], "ConsentGiven");

    let r = net.run(
        2,
        &acme,
        Payload::RecordUse(RecordUse {
            uses: vec![Use {
                consumer: alice.account(),
                basis: UseBasis::Consent(consent),
                category: "Purchase".parse().unwrap(),
                purpose: "DirectMarketing".parse().unwrap(),
                level: Level::Pseudonymous,
                units: 2,
                evidence_hash: Hash32([7; 32]),
            }],
        }),
    );
    let use_id = r["events"][0]["use_settled"]["use_id"]
        .as_str()
        .unwrap()
        .to_string();
    seen_by(&net, 3, &r);
    let use_file = write_json(
        dir,
        "use.json",
        &net.get(3, &format!("/v1/uses/{use_id}/receipt")).unwrap(),
    );
    assert_verifies(
        &net,
        &use_file,
        &[
            "acme (",
            "used alice (",
            "Purchase data for DirectMarketing (2 unit(s)), settled: paid 6 points",
        ],
    );

    let r = net.run(3, &alice, Payload::RevokeConsent(RevokeConsent { consent }));
    assert_eq!(r["status"], "committed", "{r}");
    seen_by(&net, 0, &r);
    let revoke = write_json(dir, "revoke.json", &net.get(0, &route).unwrap());
    assert_verifies(
        &net,
        &revoke,
        &[
            &format!("revoked consent {consent} to acme ("),
            "status ConsentWithdrawn",
        ],
    );

    // JSON output.
    let (ok, out, _) = verify_receipt(&net, &revoke, &net.genesis_path(), &["--output", "json"]);
    assert!(ok);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"][0]["valid"], true, "{v}");
    assert_eq!(v["results"][0]["status"], "ConsentWithdrawn", "{v}");
    assert_eq!(
        v["results"][0]["statements"].as_array().unwrap().len(),
        2,
        "{v}"
    );

    // Another network's genesis: refused as another chain's.
    let other = Net::new(4);
    for f in [&grant, &pause, &resume, &use_file, &revoke] {
        let (ok, _, err) = verify_receipt(&net, f, &other.genesis_path(), &[]);
        assert!(!ok, "{} verified against another genesis", f.display());
        assert!(err.contains("from another chain"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    // Tampered: one hex digit of the revocation's tx.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&revoke).unwrap()).unwrap();
    let tx = v["receipts"][1]["tx"].as_str().unwrap().to_string();
    let last = if tx.ends_with('0') { "1" } else { "0" };
    v["receipts"][1]["tx"] = Value::String(format!("{}{last}", &tx[..tx.len() - 1]));
    let bad = write_json(dir, "tampered.json", &v);
    let (ok, _, err) = verify_receipt(&net, &bad, &net.genesis_path(), &[]);
    assert!(!ok);
    assert!(
        err.contains("receipt #1") && err.contains("signature"),
        "{err}"
    );

    // (b) The standard formats, for the withdrawn consent and for a live
    // consent on special-category data, once acme has published the contact
    // details the ISO 27560 record profile asks of a controller.
    let r = net.run(
        0,
        &acme,
        Payload::SetContact(SetContact {
            email: "privacy@acme.example".into(),
            phone: String::new(),
            address: "1 Market Street, Springfield, US".into(),
            notice_url: String::new(),
            notice_language: "en".into(),
        }),
    );
    assert_eq!(r["status"], "committed", "{r}");
    seen_by(&net, 1, &r);
    seen_by(&net, 2, &r);
    let tx = net.sign(0, &alice, grant_payload(&acme.account(), "HealthRecord"));
    let health = ConsentId(tx.id().0);
    assert_eq!(net.submit(0, &tx).0, 202);
    assert_eq!(net.wait_tx(0, &tx.id().to_string())["status"], "committed");
    for i in [1, 2] {
        net.wait_tx(i, &tx.id().to_string());
    }
    for (c, status, sensitive) in [
        (consent, "ConsentWithdrawn", false),
        (health, "ConsentGiven", true),
    ] {
        let k = net
            .get(1, &format!("/v1/consents/{c}/receipt?format=kantara"))
            .unwrap();
        assert_eq!(k["format"], "kantara", "{k}");
        check_kantara(&k["receipt"], &alice.account(), sensitive);
        check_jws(k["jws"].as_str().unwrap(), &k["receipt"], &validators);
        assert_eq!(k["receipt"]["assent:status"]["status"], status);
        let kf = write_json(dir, &format!("kantara-{c}.json"), &k);
        // It carries the consent's state proof at issue, and the CLI checks it.
        let want = if status == "ConsentWithdrawn" {
            "was ConsentWithdrawn (revoked at height"
        } else {
            "was ConsentGiven (live)"
        };
        assert_eq!(
            k["receipt"]["assent:statusProof"]["version"],
            "assent-state-proof/1"
        );
        assert_verifies(
            &net,
            &kf,
            &[
                "valid kantara receipt signed by validator validator-1 (",
                &format!("status {status}"),
                want,
            ],
        );
        let mut swapped = k.clone();
        swapped["receipt"]["assent:statusProof"]["record"]["id"] = Value::String("00".repeat(32));
        let v1 = net.key("validator-1");
        swapped["jws"] = Value::String(assent_cli::jws::sign(&v1, &swapped["receipt"]));
        let sf = write_json(dir, &format!("kantara-swapped-{c}.json"), &swapped);
        let (ok, _, err) = verify_receipt(&net, &sf, &net.genesis_path(), &[]);
        assert!(
            !ok && err.contains("assent:statusProof is of consent"),
            "{err}"
        );

        let i = net
            .get(2, &format!("/v1/consents/{c}/receipt?format=iso27560"))
            .unwrap();
        check_iso(&i["receipt"], &alice.account(), status);
        check_jws(i["jws"].as_str().unwrap(), &i["receipt"], &validators);
        // The bare compact JWS verifies too.
        let jf = dir.join(format!("iso-{c}.jws"));
        std::fs::write(&jf, i["jws"].as_str().unwrap()).unwrap();
        assert_verifies(
            &net,
            &jf,
            &["valid iso27560 receipt signed by validator validator-2 ("],
        );
        let (ok, _, err) = verify_receipt(&net, &jf, &other.genesis_path(), &[]);
        assert!(!ok && err.contains("not a validator of chain"), "{err}");
    }
    // A JWS whose payload was changed, or signed by a key that is no validator.
    let k = net
        .get(1, &format!("/v1/consents/{consent}/receipt?format=kantara"))
        .unwrap();
    let parts: Vec<&str> = k["jws"].as_str().unwrap().split('.').collect();
    let mut doc = k["receipt"].clone();
    doc["piiPrincipalId"] = Value::String(acme.account().to_string());
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(doc.to_string()),
        parts[2]
    );
    let ff = dir.join("forged.jws");
    std::fs::write(&ff, &forged).unwrap();
    let (ok, _, err) = verify_receipt(&net, &ff, &net.genesis_path(), &[]);
    assert!(!ok && err.contains("signature does not verify"), "{err}");
    let by_alice = assent_cli::jws::sign(&alice, &doc);
    std::fs::write(&ff, &by_alice).unwrap();
    let (ok, _, err) = verify_receipt(&net, &ff, &net.genesis_path(), &[]);
    assert!(!ok && err.contains("not a validator"), "{err}");
    // A validator-signed document whose principal is not the proof's.
    // (Sign it with a real validator key of this net.)
    let v0 = net.key("validator-0");
    std::fs::write(&ff, assent_cli::jws::sign(&v0, &doc)).unwrap();
    let (ok, _, err) = verify_receipt(&net, &ff, &net.genesis_path(), &[]);
    assert!(!ok && err.contains("names data subject"), "{err}");
}
