//! The standards' own material, vendored in `tests/standards/`, for tests
//! that check receipts and vocabularies as an auditor would: DPV 2.3's term
//! lists (classes with their broader terms, properties, locations), a
//! JSON-LD document read as RDF triples by a real parser (oxjsonld), and the
//! Kantara working group's Consent Receipt 1.1 JSON schema.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use oxrdf::{NamedOrBlankNode, Term};
use serde_json::Value;

pub const DPV: &str = "https://w3id.org/dpv#";
pub const PD: &str = "https://w3id.org/dpv/pd#";
pub const LOC: &str = "https://w3id.org/dpv/loc#";
pub const DCT: &str = "http://purl.org/dc/terms/";
pub const SCHEMA: &str = "https://schema.org/";
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
pub const XSD_DATE_TIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";
pub const RECORD_PROFILE: &str = "https://w3id.org/dpv/schema/dpv-27560#record";

pub fn standards() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("standards")
}

// ---- the vendored DPV term lists --------------------------------------------

/// DPV 2.3 core and PD: each class with its broader terms, and the
/// properties; the location extension's terms.
#[derive(Debug)]
pub struct Dpv {
    broader: BTreeMap<String, Vec<String>>,
    pub properties: BTreeSet<String>,
    pub locations: BTreeSet<String>,
}

impl Dpv {
    pub fn load() -> Dpv {
        let dir = standards().join("dpv");
        let classes = std::fs::read_to_string(dir.join("classes.csv")).unwrap();
        let mut broader = BTreeMap::new();
        for line in classes.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            assert_eq!(cols.len(), 3, "classes.csv: {line}");
            let parents = cols[1]
                .split(';')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            broader.insert(cols[0].to_string(), parents);
        }
        let properties = std::fs::read_to_string(dir.join("properties.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect();
        let locations = std::fs::read_to_string(dir.join("locations.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(str::to_string)
            .collect();
        let d = Dpv {
            broader,
            properties,
            locations,
        };
        assert!(d.broader.len() > 1000 && d.properties.len() > 100);
        d
    }

    pub fn is_class(&self, iri: &str) -> bool {
        self.broader.contains_key(iri)
    }

    /// `iri` is `root` or, following `broader` links, a narrower term of it.
    pub fn is_a(&self, iri: &str, root: &str) -> bool {
        let mut todo = vec![iri.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(t) = todo.pop() {
            if t == root {
                return true;
            }
            if seen.insert(t.clone()) {
                todo.extend(self.broader.get(&t).into_iter().flatten().cloned());
            }
        }
        false
    }
}

pub fn dpv(term: &str) -> String {
    format!("{DPV}{term}")
}

// ---- a JSON-LD document as RDF triples ----------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    Iri(String),
    Blank(String),
    /// Lexical form and datatype IRI.
    Literal(String, String),
}

impl Node {
    pub fn iri(&self) -> Option<&str> {
        match self {
            Node::Iri(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Graph {
    pub triples: Vec<(Node, String, Node)>,
}

impl Graph {
    /// Parses a JSON-LD document with oxjsonld (no remote contexts: the
    /// receipt's context is inline).
    pub fn parse(doc: &Value) -> Graph {
        let bytes = serde_json::to_vec(doc).unwrap();
        let mut triples = Vec::new();
        for q in oxjsonld::JsonLdParser::new().for_slice(&bytes) {
            let q = q.unwrap_or_else(|e| panic!("not valid JSON-LD: {e}"));
            let s = match q.subject {
                NamedOrBlankNode::NamedNode(n) => Node::Iri(n.into_string()),
                NamedOrBlankNode::BlankNode(b) => Node::Blank(b.into_string()),
            };
            let o = match q.object {
                Term::NamedNode(n) => Node::Iri(n.into_string()),
                Term::BlankNode(b) => Node::Blank(b.into_string()),
                Term::Literal(l) => {
                    let dt = l.datatype().as_str().to_string();
                    Node::Literal(l.value().to_string(), dt)
                }
                #[allow(unreachable_patterns)]
                other => panic!("unexpected term {other}"),
            };
            triples.push((s, q.predicate.into_string(), o));
        }
        assert!(triples.len() > 20, "too few triples: {triples:?}");
        Graph { triples }
    }

    pub fn objects(&self, s: &Node, p: &str) -> Vec<&Node> {
        self.triples
            .iter()
            .filter(|(ts, tp, _)| ts == s && tp == p)
            .map(|(_, _, o)| o)
            .collect()
    }

    /// The objects of `s p`, at least one, or a panic naming the field.
    pub fn must(&self, s: &Node, p: &str) -> Vec<&Node> {
        let o = self.objects(s, p);
        assert!(
            !o.is_empty(),
            "{s:?} lacks {p}, which the record profile requires"
        );
        o
    }

    pub fn types(&self, s: &Node) -> Vec<&str> {
        self.objects(s, RDF_TYPE)
            .into_iter()
            .filter_map(Node::iri)
            .collect()
    }

    pub fn subjects_of_type(&self, t: &str) -> Vec<&Node> {
        let mut out: Vec<&Node> = self
            .triples
            .iter()
            .filter(|(_, p, o)| p == RDF_TYPE && o.iri() == Some(t))
            .map(|(s, _, _)| s)
            .collect();
        out.dedup();
        out
    }
}

// ---- the Kantara working group's schema ---------------------------------------

/// The working group's schema (draft-04). The file opens with `//` comment
/// lines, which JSON does not allow: they are dropped, nothing else changes.
pub fn kantara_validator() -> jsonschema::Validator {
    let path = standards()
        .join("kantara")
        .join("kantara-consent-receipt-v1_1-schema.json");
    let text: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let schema: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn schema_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

pub fn check_kantara(v: &jsonschema::Validator, doc: &Value) {
    let errors = schema_errors(v, doc);
    assert!(
        errors.is_empty(),
        "not a valid Kantara CR 1.1 receipt: {errors:#?}"
    );
    // The validator does reject: the same receipt without a required field,
    // or with a field of the wrong type, fails.
    for (field, bad) in [
        ("piiControllers", None),
        ("consentTimestamp", Some("yesterday")),
    ] {
        let mut broken = doc.clone();
        match bad {
            None => {
                broken.as_object_mut().unwrap().remove(field);
            }
            Some(b) => broken[field] = Value::String(b.into()),
        }
        assert!(
            !schema_errors(v, &broken).is_empty(),
            "{field}: {bad:?} passed"
        );
    }
}
