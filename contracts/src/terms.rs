//! The terms a consent is made of: DPV purposes and personal-data categories,
//! identifiability levels, enterprise sectors, consumer interest tags.
//!
//! Purposes and categories are the W3C Data Privacy Vocabulary terms embedded
//! from `contracts/vocab/` (license in `contracts/vocab/LICENSE-DPV.md`). A term
//! covers only itself: a consent for `Marketing` does not cover
//! `DirectMarketing`. Broader-term coverage would silently widen what a consumer
//! agreed to, so it is not done (recorded in ARCHITECTURE.md).

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const PURPOSES_CSV: &str = include_str!("../vocab/dpv-purposes.csv");
const CATEGORIES_CSV: &str = include_str!("../vocab/pd-categories.csv");
const CONSENT_STATUS_CSV: &str = include_str!("../vocab/dpv-consent-status.csv");
const LOCATIONS_CSV: &str = include_str!("../vocab/dpv-locations.csv");

/// One vocabulary term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabTerm {
    pub term: &'static str,
    pub iri: &'static str,
    pub label: &'static str,
    /// IRIs of the broader terms (`;`-separated in the CSV), possibly empty.
    pub broader: &'static str,
}

impl VocabTerm {
    /// The broader terms' IRIs.
    pub fn broader(&self) -> impl Iterator<Item = &'static str> {
        self.broader.split(';').filter(|s| !s.is_empty())
    }
}

fn parse_csv(csv: &'static str) -> Vec<VocabTerm> {
    let mut terms: Vec<VocabTerm> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split(',');
            Some(VocabTerm {
                term: cols.next()?,
                iri: cols.next()?,
                label: cols.next()?,
                broader: cols.next().unwrap_or(""),
            })
        })
        .filter(|t| !t.term.is_empty())
        .collect();
    terms.sort_by(|a, b| a.term.cmp(b.term));
    terms
}

/// The embedded DPV purposes, sorted by term.
pub fn purposes() -> &'static [VocabTerm] {
    static P: OnceLock<Vec<VocabTerm>> = OnceLock::new();
    P.get_or_init(|| parse_csv(PURPOSES_CSV))
}

/// The embedded DPV personal-data categories, sorted by term.
pub fn categories() -> &'static [VocabTerm] {
    static C: OnceLock<Vec<VocabTerm>> = OnceLock::new();
    C.get_or_init(|| parse_csv(CATEGORIES_CSV))
}

/// The embedded DPV consent statuses, sorted by term.
pub fn consent_statuses() -> &'static [VocabTerm] {
    static S: OnceLock<Vec<VocabTerm>> = OnceLock::new();
    S.get_or_init(|| parse_csv(CONSENT_STATUS_CSV))
}

/// The codes of DPV's location extension (`https://w3id.org/dpv/loc#`):
/// countries (ISO 3166-1 alpha-2), their subdivisions (ISO 3166-2) and
/// unions such as `EU` and `EEA`; sorted.
pub fn locations() -> &'static [&'static str] {
    static L: OnceLock<Vec<&'static str>> = OnceLock::new();
    L.get_or_init(|| {
        let mut v: Vec<&'static str> = LOCATIONS_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .collect();
        v.sort_unstable();
        v
    })
}

/// Whether `code` (e.g. `EU`, `DE`, `US-CA`) names a DPV location.
pub fn is_location(code: &str) -> bool {
    locations().binary_search(&code).is_ok()
}

/// Term → position in `list`, for lookups on the execution path (every use
/// checks its category and purpose): a hash and one comparison instead of
/// a binary search over strings. Only looked up, never iterated.
type TermIndex = rustc_hash::FxHashMap<&'static str, usize>;

fn index_of(list: &'static [VocabTerm]) -> TermIndex {
    list.iter().enumerate().map(|(i, t)| (t.term, i)).collect()
}

fn purpose_index() -> &'static TermIndex {
    static I: OnceLock<TermIndex> = OnceLock::new();
    I.get_or_init(|| index_of(purposes()))
}

fn category_index() -> &'static TermIndex {
    static I: OnceLock<TermIndex> = OnceLock::new();
    I.get_or_init(|| index_of(categories()))
}

fn lookup(list: &'static [VocabTerm], index: &TermIndex, term: &str) -> Option<&'static VocabTerm> {
    index.get(term).and_then(|&i| list.get(i))
}

/// Up to three known terms close to `input`, to suggest in error messages.
pub fn suggest(list: &'static [VocabTerm], input: &str) -> Vec<&'static str> {
    let needle = input.to_ascii_lowercase();
    list.iter()
        .filter(|t| {
            let l = t.term.to_ascii_lowercase();
            !needle.is_empty() && (l.contains(&needle) || needle.contains(&l))
        })
        .take(3)
        .map(|t| t.term)
        .collect()
}

macro_rules! vocab_term {
    ($(#[$doc:meta])* $name:ident, $list:ident, $index:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Whether the term is in the embedded vocabulary.
            pub fn is_known(&self) -> bool {
                lookup($list(), $index(), &self.0).is_some()
            }
            /// The vocabulary entry (IRI, label) of a known term.
            pub fn vocab(&self) -> Option<&'static VocabTerm> {
                lookup($list(), $index(), &self.0)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let t = $name(s.trim().to_string());
                if t.is_known() {
                    return Ok(t);
                }
                if let Some(why) = not_a($what, s.trim()) {
                    return Err(format!(
                        concat!("`{}` is not a DPV ", $what, " term: {}"),
                        s.trim(),
                        why
                    ));
                }
                let near = suggest($list(), s.trim());
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", near.join(", "))
                };
                Err(format!(
                    concat!("`{}` is not a DPV ", $what, " term{}; the list is in contracts/vocab/"),
                    s.trim(),
                    hint
                ))
            }
        }
    };
}

/// DPV concepts people mistake for a `what` (purpose, category): why each is
/// not one. Earlier versions of the purpose list carried both.
fn not_a(what: &str, term: &str) -> Option<&'static str> {
    match (what, term) {
        ("purpose", "Sector") => Some(
            "in DPV, dpv:Sector is the sector of activity of an organisation, not a purpose of \
             processing (an enterprise's sector is set when it is admitted; a policy names one \
             with --sector); name what the data is used for, e.g. DirectMarketing",
        ),
        ("purpose", "RightsFulfilment") => Some(
            "in DPV, dpv:RightsFulfilment sits under the legal basis dpv:LegalObligation, not \
             under dpv:Purpose: fulfilling a data subject's rights rests on a legal obligation, \
             never on their consent",
        ),
        _ => None,
    }
}

vocab_term!(
    /// A DPV purpose, e.g. `DirectMarketing`.
    Purpose, purposes, purpose_index, "purpose"
);
vocab_term!(
    /// A DPV personal-data category, e.g. `Purchase`.
    Category, categories, category_index, "personal-data category"
);

/// IRI of DPV's special categories of personal data (GDPR Art. 9 and the like).
pub const SPECIAL_CATEGORY_IRI: &str = "https://w3id.org/dpv#SpecialCategoryPersonalData";

impl Category {
    /// Whether DPV files the category (or any broader category of it) under
    /// `SpecialCategoryPersonalData` — health, biometric, religious belief, ...
    /// Receipts mark such consents `sensitive`.
    pub fn is_special(&self) -> bool {
        let mut next: Vec<&'static str> = match self.vocab() {
            Some(t) => t.broader().collect(),
            None => return false,
        };
        // The vocabulary is a tree of a few hundred terms; the bound only
        // guards against a cycle in a future CSV.
        for _ in 0..categories().len() {
            let Some(iri) = next.pop() else { return false };
            if iri == SPECIAL_CATEGORY_IRI {
                return true;
            }
            if let Some(t) = categories().iter().find(|t| t.iri == iri) {
                next.extend(t.broader());
            }
        }
        false
    }
}

/// How identifiable the data may be. A consent at a level covers lower levels.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Aggregate,
    Pseudonymous,
    Identified,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Aggregate => "aggregate",
            Level::Pseudonymous => "pseudonymous",
            Level::Identified => "identified",
        })
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "aggregate" => Ok(Level::Aggregate),
            "pseudonymous" => Ok(Level::Pseudonymous),
            "identified" => Ok(Level::Identified),
            other => Err(format!(
                "`{other}` is not a level; use aggregate, pseudonymous or identified"
            )),
        }
    }
}

/// An enterprise's sector, used by consumer policies ("any retail enterprise…").
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "lowercase")]
pub enum Sector {
    Retail,
    Finance,
    Health,
    Insurance,
    Telecom,
    Media,
    Advertising,
    Travel,
    Education,
    Technology,
    Energy,
    Public,
}

impl Sector {
    pub const ALL: [Sector; 12] = [
        Sector::Retail,
        Sector::Finance,
        Sector::Health,
        Sector::Insurance,
        Sector::Telecom,
        Sector::Media,
        Sector::Advertising,
        Sector::Travel,
        Sector::Education,
        Sector::Technology,
        Sector::Energy,
        Sector::Public,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Sector::Retail => "retail",
            Sector::Finance => "finance",
            Sector::Health => "health",
            Sector::Insurance => "insurance",
            Sector::Telecom => "telecom",
            Sector::Media => "media",
            Sector::Advertising => "advertising",
            Sector::Travel => "travel",
            Sector::Education => "education",
            Sector::Technology => "technology",
            Sector::Energy => "energy",
            Sector::Public => "public",
        }
    }
}

impl fmt::Display for Sector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Sector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let l = s.trim().to_ascii_lowercase();
        Sector::ALL
            .iter()
            .copied()
            .find(|x| x.name() == l)
            .ok_or_else(|| {
                let names: Vec<&str> = Sector::ALL.iter().map(|x| x.name()).collect();
                format!(
                    "`{}` is not a sector; use one of: {}",
                    s.trim(),
                    names.join(", ")
                )
            })
    }
}

/// A consumer's self-declared interest tag: 1–32 characters of `a-z`, `0-9`, `-`.
#[derive(
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(transparent)]
pub struct Tag(pub String);

impl Tag {
    pub const MAX_LEN: usize = 32;

    pub fn check(&self) -> Result<(), String> {
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if self.0.is_empty() || self.0.len() > Self::MAX_LEN || !self.0.chars().all(ok_char) {
            return Err(format!(
                "tag `{}` must be 1-{} characters of a-z, 0-9 and -",
                self.0.escape_debug(),
                Self::MAX_LEN
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Tag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = Tag(s.trim().to_string());
        t.check()?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_is_found_as_itself_and_nothing_else_is() {
        for t in purposes() {
            assert_eq!(Purpose(t.term.to_string()).vocab(), Some(t));
        }
        for t in categories() {
            assert_eq!(Category(t.term.to_string()).vocab(), Some(t));
        }
        for bad in ["", "purchase", "Purchase ", "DirectMarketingX"] {
            assert!(!Category(bad.into()).is_known(), "{bad:?}");
            assert!(!Purpose(bad.into()).is_known(), "{bad:?}");
        }
    }

    #[test]
    fn vocabularies_are_embedded_whole() {
        assert_eq!(purposes().len(), 118);
        assert_eq!(categories().len(), 221);
        assert!(consent_statuses()
            .iter()
            .any(|t| t.term == "ConsentWithdrawn"));
    }

    #[test]
    fn dpv_locations_are_embedded() {
        for code in ["EU", "EEA", "DE", "US", "US-CA", "IE"] {
            assert!(is_location(code), "{code}");
        }
        for code in ["", "eu", "XX", "US-", "Europe"] {
            assert!(!is_location(code), "{code}");
        }
        assert!(locations().len() > 5000);
    }

    #[test]
    fn unknown_terms_are_refused_with_a_hint() {
        assert!("DirectMarketing".parse::<Purpose>().is_ok());
        assert!("Purchase".parse::<Category>().is_ok());
        let err = "marketing".parse::<Purpose>().unwrap_err();
        assert!(
            err.contains("not a DPV purpose") && err.contains("did you mean"),
            "{err}"
        );
    }

    #[test]
    fn dpv_concepts_that_are_not_purposes_are_refused_naming_the_term() {
        let err = "Sector".parse::<Purpose>().unwrap_err();
        assert!(
            err.starts_with("`Sector` is not a DPV purpose term: in DPV, dpv:Sector is the sector"),
            "{err}"
        );
    }

    #[test]
    fn levels_are_ordered() {
        assert!(Level::Aggregate < Level::Pseudonymous && Level::Pseudonymous < Level::Identified);
    }
}
