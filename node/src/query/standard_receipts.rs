//! Consent receipts in the formats privacy tooling reads, generated from the
//! ledger record (the consent, its enterprise's registration) and carrying
//! the self-proving [`ConsentProof`] as the extension field `assent:proof`:
//!
//! - [`kantara`]: Kantara Initiative Consent Receipt 1.1 (`KI-CR-v1.1.0`) JSON;
//! - [`iso27560`]: an ISO/IEC TS 27560 consent record as DPV JSON-LD,
//!   conforming to `https://w3id.org/dpv/schema/dpv-27560#record`.
//!
//! The node returns both signed by its validator key as a compact JWS
//! ([`assent_keys::jws`]); the JWS only says which node issued the document,
//! while `assent:proof` proves the consent's history to anyone holding the
//! genesis. Purposes and categories are DPV terms, given with their IRIs.
//!
//! The ledger registers an enterprise's name, sector, jurisdiction and
//! policy URL, but no postal address, email or phone: those Kantara fields
//! are present with what the ledger knows (the address's country is the
//! jurisdiction; email and phone are empty strings).

use assent_contracts::consent_proof::ConsentProof;
use assent_contracts::crypto::Keypair;
use assent_contracts::state::{Consent, ConsentState, Enterprise, EnterpriseContact};
use assent_contracts::state_proof::StateProof;
use assent_contracts::terms::{self, Category, Purpose};
use assent_contracts::{AccountId, Hash32, Height, Timestamp};
use assent_genesis::time::format_utc;
use serde_json::{json, Value};

/// `version` of Kantara Consent Receipt 1.1.
pub const KANTARA_VERSION: &str = "KI-CR-v1.1.0";
/// What a DPV consent record conforms to (DPV's ISO/IEC TS 27560 guide).
pub const DPV_27560_RECORD: &str = "https://w3id.org/dpv/schema/dpv-27560#record";
/// Name of the extension field that carries the self-proving history.
pub const PROOF_FIELD: &str = "assent:proof";
/// The extension field that carries the consent's state proof at issue.
pub const STATUS_PROOF_FIELD: &str = "assent:statusProof";

const DPV: &str = "https://w3id.org/dpv#";

/// The formats `GET /v1/consents/{id}/receipt` serves.
pub const FORMATS: &[&str] = &["proof", "kantara", "iso27560"];

/// A consent's status at the tip, as receipts and the API name it: DPV's
/// `ConsentGiven`, `ConsentWithdrawn`, `ConsentExpired`, and assent's own
/// `ConsentPaused` (DPV has no paused state; in JSON-LD it is an assent term
/// under DPV's `ConsentStatusInvalidForProcessing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub name: &'static str,
    /// Block time from which it holds.
    pub time: Timestamp,
    /// Height of the block that set it (the grant's for a given or expired consent).
    pub height: Height,
}

impl Status {
    /// Revoked > expired (at block time `now`) > paused > given, as the API says.
    pub fn of(c: &Consent, now: Timestamp) -> Status {
        match c.state {
            ConsentState::Revoked { height, time } => Status {
                name: "ConsentWithdrawn",
                time,
                height,
            },
            _ if c.expires_at.is_some_and(|t| t <= now) => Status {
                name: "ConsentExpired",
                time: c.expires_at.unwrap_or(now),
                height: c.granted_height,
            },
            ConsentState::Paused { height, time } => Status {
                name: "ConsentPaused",
                time,
                height,
            },
            ConsentState::Active => Status {
                name: "ConsentGiven",
                time: c.granted_time,
                height: c.granted_height,
            },
        }
    }

    /// The status's IRI: DPV's, or an assent URN for `ConsentPaused`.
    pub fn iri(&self) -> String {
        match self.name {
            "ConsentPaused" => "urn:assent:ConsentPaused".to_string(),
            n => format!("{DPV}{n}"),
        }
    }
}

/// Everything a standard receipt is made from.
#[derive(Debug)]
pub struct Record<'a> {
    pub chain_id: &'a str,
    pub genesis_hash: Hash32,
    pub consent: &'a Consent,
    pub enterprise: &'a Enterprise,
    /// The enterprise's published contact (`SetContact`), if any.
    pub contact: Option<&'a EnterpriseContact>,
    pub status: Status,
    /// Block time of the tip the receipt was issued at.
    pub issued_at: Timestamp,
    /// The issuing node's validator key.
    pub issuer: AccountId,
    pub proof: &'a ConsentProof,
    /// The consent's status proof at the head the receipt was issued at
    /// (`assent:statusProof`): what the consent *was* then, provably.
    pub status_proof: Option<&'a StateProof>,
}

fn purpose_iri(p: &Purpose) -> String {
    p.vocab()
        .map_or_else(|| format!("{DPV}{p}"), |t| t.iri.to_string())
}

fn category_iri(c: &Category) -> String {
    c.vocab().map_or_else(
        || format!("https://w3id.org/dpv/pd#{c}"),
        |t| t.iri.to_string(),
    )
}

fn or_unstated(s: &str) -> &str {
    if s.trim().is_empty() {
        "unstated"
    } else {
        s
    }
}

/// A receipt id for Kantara's `consentReceiptID`: an RFC 9562 version-8 UUID
/// from a tagged hash of the consent and its status, so the same state always
/// gets the same id and every change a new one.
pub fn receipt_uuid(r: &Record<'_>) -> String {
    let h = Hash32::tagged(
        "assent/consent-receipt-id/v1",
        &[
            r.chain_id.as_bytes(),
            r.consent.id.as_bytes(),
            r.status.name.as_bytes(),
            &r.status.height.0.to_be_bytes(),
        ],
    );
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&h.0[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// When the consent ends, in words (Kantara's `termination`).
fn termination(c: &Consent) -> String {
    let mut s = String::from(
        "when the PII principal revokes it (a RevokeConsent or RevokeAll transaction signed with their key; effective from the block that includes it)",
    );
    if let Some(t) = c.expires_at {
        s.push_str(&format!(", or at {}", format_utc(t)));
    }
    if let Some(m) = c.max_uses {
        s.push_str(&format!(", or after {m} unit(s) of use"));
    }
    s
}

fn collection_method(chain_id: &str) -> String {
    format!("GrantConsent transaction signed with the PII principal's own key (ed25519) on the assent ledger {chain_id}")
}

/// Fields both formats carry under the `assent:` prefix.
fn extensions(r: &Record<'_>, v: &mut Value) {
    let c = r.consent;
    let ext = json!({
        "assent:chain": {"chain_id": r.chain_id, "genesis_hash": r.genesis_hash.to_string()},
        "assent:consent": c.id.to_string(),
        "assent:controller": c.enterprise.to_string(),
        "assent:status": {
            "status": r.status.name,
            "time": format_utc(r.status.time),
            "height": r.status.height.0,
        },
        "assent:terms": {
            "level": c.level.to_string(),
            "price_per_use": c.price_per_use.0,
            "max_uses": c.max_uses,
            "used": c.used,
            "expires_at": c.expires_at.map(format_utc),
            "request": c.request.map(|q| q.to_string()),
        },
        "assent:issuer": r.issuer.to_string(),
        "assent:issuedAt": format_utc(r.issued_at),
        PROOF_FIELD: r.proof,
    });
    let ext = match (ext, r.status_proof) {
        (Value::Object(mut m), Some(sp)) => {
            m.insert(
                STATUS_PROOF_FIELD.to_string(),
                serde_json::to_value(sp).unwrap_or(Value::Null),
            );
            Value::Object(m)
        }
        (ext, _) => ext,
    };
    if let (Some(obj), Value::Object(ext)) = (v.as_object_mut(), ext) {
        obj.extend(ext);
    }
}

/// Kantara's `piiControllers` entry: the enterprise and the contact it
/// published (`SetContact`); without one, the email and phone are empty and
/// the contact points to the privacy policy.
fn kantara_controller(e: &Enterprise, contact: Option<&EnterpriseContact>) -> Value {
    let mut address = json!({"addressCountry": or_unstated(&e.jurisdiction)});
    let (who, email, phone) = match contact {
        Some(k) => {
            address["streetAddress"] = json!(k.address);
            (
                format!("{} privacy contact ({})", e.name, k.email),
                k.email.as_str(),
                k.phone.as_str(),
            )
        }
        None => (
            format!(
                "{} (privacy contact: see {})",
                e.name,
                or_unstated(&e.policy_url)
            ),
            "",
            "",
        ),
    };
    json!({
        "piiController": e.name,
        "onBehalf": false,
        "contact": who,
        "address": address,
        "email": email,
        "phone": phone,
        "piiControllerUrl": e.policy_url,
    })
}

/// The Kantara Consent Receipt 1.1 of a consent.
pub fn kantara(r: &Record<'_>) -> Value {
    let c = r.consent;
    let e = r.enterprise;
    let purposes: Vec<Value> = c
        .purposes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "purpose": p.vocab().map_or(p.as_str(), |t| t.label),
                "purposeCategory": [purpose_iri(p)],
                "consentType": "EXPLICIT",
                "piiCategory": c.categories.iter().map(category_iri).collect::<Vec<_>>(),
                "primaryPurpose": i == 0,
                "termination": termination(c),
                "thirdPartyDisclosure": false,
            })
        })
        .collect();
    let special: Vec<String> = c
        .categories
        .iter()
        .filter(|x| x.is_special())
        .map(category_iri)
        .collect();
    let mut v = json!({
        "version": KANTARA_VERSION,
        "jurisdiction": or_unstated(&e.jurisdiction),
        "consentTimestamp": c.granted_time.0 / 1000,
        "collectionMethod": collection_method(r.chain_id),
        "consentReceiptID": receipt_uuid(r),
        "language": r.contact.map_or("en", |k| k.notice_language.as_str()),
        "piiPrincipalId": c.consumer.to_string(),
        "piiControllers": [kantara_controller(e, r.contact)],
        "policyUrl": e.policy_url,
        "services": [{
            "service": format!("{} ({} sector): use of the principal's data under consent {}", e.name, e.sector.name(), c.id),
            "purposes": purposes,
        }],
        "sensitive": !special.is_empty(),
        "spiCat": special,
    });
    extensions(r, &mut v);
    v
}

/// The ISO/IEC TS 27560 consent record of a consent, as DPV JSON-LD, in the
/// shape of DPV's record profile (`dpv-27560#record`, DPV 2.x terms only):
/// record metadata, the consent notice, one process (purposes, personal
/// data, storage, controller as recipient, consent controls, rights,
/// jurisdiction), the entities (controller with contact and postal address,
/// data subject) and the consent events (the grant, and the latest change).
///
/// The record claims the profile (`dct:conformsTo`) only when the controller
/// has published its contact and address (`SetContact`); without them it
/// says what is missing in `assent:conformance` instead. Where the ledger
/// cannot know a value it says so rather than invent one: storage location
/// and retention are the controller's, given by its notice.
pub fn iso27560(r: &Record<'_>) -> Value {
    let c = r.consent;
    let e = r.enterprise;
    let subject = format!("urn:assent:account:{}", c.consumer);
    let controller = format!("urn:assent:account:{}", c.enterprise);
    let record = format!("urn:assent:{}:consent:{}", r.chain_id, c.id);
    let notice_url = r
        .contact
        .map(|k| k.notice_url.as_str())
        .filter(|u| !u.is_empty())
        .unwrap_or(e.policy_url.as_str());
    // An IRI for the notice node: its URL, or a name of our own when the
    // controller gave none that is absolute.
    let notice = if notice_url.starts_with("https://") || notice_url.starts_with("http://") {
        notice_url.to_string()
    } else {
        format!("urn:assent:{}:notice:{}", r.chain_id, c.enterprise)
    };
    let jurisdiction = jurisdiction(&e.jurisdiction);
    let withdraw_at = format!(
        "a RevokeConsent (or RevokeAll) transaction signed with the data subject's key, submitted to any node of ledger {} (POST /v1/txs), e.g. `assent consent revoke {}`",
        r.chain_id, c.id
    );
    let mut entity = json!({
        "@id": controller,
        "@type": "dpv:DataController",
        "dpv:hasName": e.name,
        "dpv:hasIdentifier": c.enterprise.to_string(),
        "dpv:hasJurisdiction": jurisdiction.clone(),
        "schema:url": e.policy_url,
    });
    if let (Some(k), Some(obj)) = (r.contact, entity.as_object_mut()) {
        let mut point = json!({
            "@type": "schema:ContactPoint",
            "schema:contactType": "privacy",
            "schema:email": k.email,
            "schema:url": notice_url,
        });
        if !k.phone.is_empty() {
            point["schema:telephone"] = json!(k.phone);
        }
        obj.insert("schema:contactPoint".into(), point);
        obj.insert(
            "schema:address".into(),
            json!({"@type": "schema:PostalAddress", "schema:streetAddress": k.address}),
        );
        obj.insert("dpv:hasContact".into(), json!(k.email));
        obj.insert("dpv:hasAddress".into(), json!(k.address));
    }
    let mut v = json!({
        "@context": {
            "dpv": DPV,
            "pd": "https://w3id.org/dpv/pd#",
            "loc": "https://w3id.org/dpv/loc#",
            "dct": "http://purl.org/dc/terms/",
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "schema": "https://schema.org/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "assent": "urn:assent:",
        },
        "@id": record,
        "@type": "dpv:ConsentRecord",
        "dct:identifier": c.id.to_string(),
        "dct:created": date_time(c.granted_time),
        "dct:modified": date_time(r.status.time),
        "dct:publisher": {"@id": format!("urn:assent:account:{}", r.issuer)},
        "dpv:hasDataSubject": {
            "@id": subject,
            "@type": "dpv:DataSubject",
            "dct:identifier": c.consumer.to_string(),
        },
        "dpv:hasDataController": {"@id": controller},
        "dpv:hasJurisdiction": jurisdiction.clone(),
        "dpv:hasLegalBasis": {"@id": format!("{DPV}ExplicitlyExpressedConsent")},
        "dpv:hasNotice": {
            "@id": notice,
            "@type": "dpv:ConsentNotice",
            "dct:language": r.contact.map_or("en", |k| k.notice_language.as_str()),
        },
        "dpv:hasProcess": {
            "@id": format!("{record}#process"),
            "@type": "dpv:Process",
            "dpv:hasPurpose": c.purposes.iter().map(|p| json!({"@id": purpose_iri(p)})).collect::<Vec<_>>(),
            "dpv:hasPersonalData": c.categories.iter().map(|x| json!({"@id": category_iri(x)})).collect::<Vec<_>>(),
            "dpv:hasDataController": {"@id": controller},
            "dpv:hasRecipient": [{"@id": controller}],
            "dpv:hasJurisdiction": jurisdiction,
            "dpv:hasLegalBasis": {"@id": format!("{DPV}ExplicitlyExpressedConsent")},
            "dpv:hasStorageCondition": [{
                "@type": "dpv:StorageCondition",
                "dct:description": "Where and for how long the controller stores the data is stated in its notice; the ledger holds no personal data, only this record of consent and of each use.",
                "dct:source": {"@id": notice},
            }],
            "dpv:hasConsentControl": [{
                "@type": "dpv:WithdrawConsent",
                "dpv:isExercisedAt": withdraw_at.clone(),
            }],
            "dpv:hasRight": [
                {
                    "@type": "dpv:DataSubjectRight",
                    "dct:title": "Right to withdraw consent",
                    "dpv:isExercisedAt": withdraw_at,
                },
                {
                    "@type": "dpv:DataSubjectRight",
                    "dct:title": "Right of access and to data portability (the data subject's records on the ledger)",
                    "dpv:isExercisedAt": format!("GET /v1/consumers/{}/export on any node of ledger {}, e.g. `assent consumer export`", c.consumer, r.chain_id),
                },
            ],
        },
        "dpv:hasEntity": [
            entity,
            {"@id": subject, "@type": "dpv:DataSubject", "dpv:hasIdentifier": c.consumer.to_string()},
        ],
        "dpv:hasConsentStatus": events(r, &subject),
    });
    let missing = conformance_gaps(r);
    if let Some(obj) = v.as_object_mut() {
        if missing.is_empty() {
            obj.insert("dct:conformsTo".into(), json!({"@id": DPV_27560_RECORD}));
        } else {
            obj.insert(
                "assent:conformance".into(),
                json!(format!(
                    "not claimed: {} has not published {} (SetContact), which the DPV-27560 record profile requires of a controller",
                    e.name,
                    missing.join(" or ")
                )),
            );
        }
    }
    extensions(r, &mut v);
    v
}

/// What the record profile needs that the controller has not published.
pub fn conformance_gaps(r: &Record<'_>) -> Vec<&'static str> {
    match r.contact {
        None => vec!["a contact", "a postal address"],
        Some(_) => Vec::new(),
    }
}

fn date_time(t: Timestamp) -> Value {
    json!({"@value": format_utc(t), "@type": "xsd:dateTime"})
}

/// A jurisdiction as DPV's location extension names it (`loc:EU`,
/// `loc:US-CA`) when it is one of its codes, else as text.
fn jurisdiction(j: &str) -> Value {
    if terms::is_location(j) {
        json!({"@id": format!("https://w3id.org/dpv/loc#{j}")})
    } else {
        json!(or_unstated(j))
    }
}

/// How long the consent holds (DPV durations): until a time, for a number
/// of uses, or until the data subject withdraws it.
fn duration(c: &Consent) -> Vec<Value> {
    let mut d = Vec::new();
    if let Some(t) = c.expires_at {
        d.push(json!({"@type": "dpv:UntilTimeDuration", "rdf:value": date_time(t)}));
    }
    if let Some(m) = c.max_uses {
        d.push(json!({"@type": "dpv:FixedOccurrencesDuration", "rdf:value": m, "dct:description": "units of use"}));
    }
    if d.is_empty() {
        d.push(json!({"@type": "dpv:UntilEventDuration", "rdf:value": "until the data subject withdraws it"}));
    }
    d
}

/// The consent events: the grant, then the latest change when there is one
/// (the same two steps the embedded consent proof proves).
fn events(r: &Record<'_>, subject: &str) -> Vec<Value> {
    let c = r.consent;
    let mut out = vec![json!({
        "@type": ["dpv:ConsentGiven", "dpv:ExplicitlyExpressedConsent"],
        "dpv:isIndicatedBy": {"@id": subject},
        "dpv:isIndicatedAtTime": date_time(c.granted_time),
        "dpv:hasIndicationMethod": collection_method(r.chain_id),
        "dpv:hasDuration": duration(c),
        "assent:height": c.granted_height.0,
    })];
    let s = r.status;
    // Each event's duration: a resumed consent holds as the grant said; a
    // pause until the data subject resumes or revokes; the end states for good.
    let final_state = || vec![json!({"@type": "dpv:EndlessDuration"})];
    let (types, method, lasts): (Value, String, Vec<Value>) = match s.name {
        "ConsentGiven" if s.height == c.granted_height => return out,
        "ConsentGiven" => (
            json!("dpv:ConsentGiven"),
            "ResumeConsent transaction signed with the data subject's key".into(),
            duration(c),
        ),
        "ConsentPaused" => (
            json!(["dpv:ConsentStatusInvalidForProcessing", "assent:ConsentPaused"]),
            "PauseConsent transaction signed with the data subject's key (uses are refused until a ResumeConsent)".into(),
            vec![json!({"@type": "dpv:UntilEventDuration", "rdf:value": "until the data subject resumes or revokes it"})],
        ),
        "ConsentExpired" => (
            json!("dpv:ConsentExpired"),
            "the end of the duration the data subject set in the grant".into(),
            final_state(),
        ),
        _ => (
            json!("dpv:ConsentWithdrawn"),
            "RevokeConsent or RevokeAll transaction signed with the data subject's key".into(),
            final_state(),
        ),
    };
    out.push(json!({
        "@type": types,
        "dpv:isIndicatedBy": {"@id": subject},
        "dpv:isIndicatedAtTime": date_time(s.time),
        "dpv:hasIndicationMethod": method,
        "dpv:hasDuration": lasts,
        "assent:height": s.height.0,
    }));
    out
}

/// A standard receipt signed by the issuing node: `{"format", "jws", "receipt"}`
/// where `receipt` is the JWS payload, decoded.
pub fn signed(format: &str, key: &Keypair, receipt: Value) -> Value {
    let jws = assent_keys::jws::sign(key, &receipt);
    json!({"format": format, "jws": jws, "receipt": receipt})
}
