//! Identity links: a consumer binds an identifier an enterprise already holds
//! (a member card, a phone number, an email address, an OpenID subject) to
//! their account *for that enterprise only*, without the identifier reaching
//! the chain.
//!
//! The chain holds only a commitment
//!
//! ```text
//! SHA-256 over "assent/identity-link/v1" and, each length-prefixed:
//!   chain id, consumer key, enterprise key, kind, normalised identifier, salt
//! ```
//!
//! ([`crate::ids::Hash32::tagged`]). The salt is 32 random bytes the
//! consumer's CLI draws for each link and hands to that enterprise alone, off
//! the chain. So:
//! - the enterprise, holding the identifier in its own records and the salt,
//!   recomputes the commitment and sees whether it matches ([`commitment`]);
//! - nobody else can test guesses (a phone number has few enough values to
//!   enumerate, 32 salt bytes do not);
//! - two enterprises' commitments for one person differ (another enterprise
//!   key in the hash, another salt), so they cannot be joined on them;
//! - binding the consumer's key and the chain id means a commitment copied to
//!   another account, or another chain, no longer matches.
//!
//! Identifiers are normalised per kind before hashing ([`normalize`]) so that
//! the consumer and the enterprise reach the same bytes from the forms people
//! write. Pure: no randomness here, the salt comes in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, Hash32, LinkCommitment, LinkSalt};

/// Domain tag of identity-link commitments.
pub const LINK_COMMITMENT_TAG: &str = "assent/identity-link/v1";

/// Longest identifier accepted, in bytes after normalisation.
pub const MAX_IDENTIFIER: usize = 256;

/// What kind of identifier a link binds. Variant order is part of the
/// encoding: append only.
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
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A loyalty or membership card number, as printed (trimmed).
    MemberCard,
    /// A phone number in E.164 form (`+` and 7 to 15 digits).
    Phone,
    /// An email address (trimmed, lower case).
    Email,
    /// An OpenID subject as `issuer|subject` (an OpenID Connect `iss` and
    /// `sub`, or an app login such as WeChat's app id and openid).
    Openid,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 4] = [
        IdentityKind::MemberCard,
        IdentityKind::Phone,
        IdentityKind::Email,
        IdentityKind::Openid,
    ];

    /// The stable text form, e.g. `member_card` (also hashed into the commitment).
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::MemberCard => "member_card",
            IdentityKind::Phone => "phone",
            IdentityKind::Email => "email",
            IdentityKind::Openid => "openid",
        }
    }

    /// The kind in words, e.g. `email address`.
    pub fn noun(self) -> &'static str {
        match self {
            IdentityKind::MemberCard => "member card",
            IdentityKind::Phone => "phone number",
            IdentityKind::Email => "email address",
            IdentityKind::Openid => "OpenID subject",
        }
    }

    /// One byte per kind, for state keys.
    pub fn code(self) -> u8 {
        match self {
            IdentityKind::MemberCard => 1,
            IdentityKind::Phone => 2,
            IdentityKind::Email => 3,
            IdentityKind::Openid => 4,
        }
    }

    pub fn from_code(b: u8) -> Option<IdentityKind> {
        IdentityKind::ALL.into_iter().find(|k| k.code() == b)
    }

    /// What a well-formed identifier of this kind looks like, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            IdentityKind::MemberCard => "a card number, e.g. ACME-0042-1234",
            IdentityKind::Phone => "an international number starting with + (or 00), e.g. +44 20 7946 0000",
            IdentityKind::Email => "an email address, e.g. alice@example.com",
            IdentityKind::Openid => "issuer|subject, e.g. https://accounts.example.com|248289761001 or wx1234abcd|oABC123",
        }
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdentityKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        IdentityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| {
                format!("`{s}` is not an identity kind; use member_card, phone, email or openid")
            })
    }
}

/// Why an identifier cannot be linked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} identifier {why}; expected {}", kind.expected())]
pub struct IdentifierError {
    pub kind: IdentityKind,
    pub why: String,
}

fn bad<T>(kind: IdentityKind, why: impl Into<String>) -> Result<T, IdentifierError> {
    Err(IdentifierError {
        kind,
        why: why.into(),
    })
}

/// The canonical form of an identifier of `kind`, or why it is malformed.
///
/// - member card: trimmed; 1 to 64 bytes with no control characters (case and
///   inner spaces kept: a card number is what is printed on it);
/// - phone: E.164, `+` then 7 to 15 digits, the first not 0; spaces, dots,
///   hyphens and parentheses are dropped, a leading `00` becomes `+`; a number
///   without its country code is refused (it cannot be made E.164 safely);
/// - email: trimmed, ASCII letters lower-cased (other characters kept as
///   typed); one `@`, a non-empty local part, a domain
///   with a dot, no spaces; at most 254 bytes;
/// - openid: `issuer|subject`, each part trimmed, non-empty, without spaces;
///   both compared exactly (OpenID Connect compares `iss` and `sub` case-sensitively).
pub fn normalize(kind: IdentityKind, raw: &str) -> Result<String, IdentifierError> {
    let s = raw.trim();
    if s.is_empty() {
        return bad(kind, "is empty");
    }
    if s.chars().any(char::is_control) {
        return bad(kind, "contains control characters");
    }
    let out = match kind {
        IdentityKind::MemberCard => {
            if s.len() > 64 {
                return bad(kind, format!("is {} bytes long; at most 64", s.len()));
            }
            s.to_string()
        }
        IdentityKind::Phone => normalize_phone(s)?,
        IdentityKind::Email => normalize_email(s)?,
        IdentityKind::Openid => normalize_openid(s)?,
    };
    if out.len() > MAX_IDENTIFIER {
        return bad(
            kind,
            format!("is {} bytes long; at most {MAX_IDENTIFIER}", out.len()),
        );
    }
    Ok(out)
}

fn normalize_phone(s: &str) -> Result<String, IdentifierError> {
    let k = IdentityKind::Phone;
    let rest = if let Some(r) = s.strip_prefix('+') {
        r
    } else if let Some(r) = s.strip_prefix("00") {
        r
    } else {
        return bad(
            k,
            format!("{s:?} has no country code (start it with + or 00)"),
        );
    };
    let mut digits = String::with_capacity(16);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return bad(k, format!("{s:?} holds {c:?}, which is not a digit")),
        }
    }
    if !(7..=15).contains(&digits.len()) {
        return bad(
            k,
            format!(
                "{s:?} has {} digits; E.164 numbers have 7 to 15",
                digits.len()
            ),
        );
    }
    if digits.starts_with('0') {
        return bad(k, format!("{s:?}: a country code never starts with 0"));
    }
    Ok(format!("+{digits}"))
}

fn normalize_email(s: &str) -> Result<String, IdentifierError> {
    let k = IdentityKind::Email;
    // ASCII only: a Unicode lower-casing would depend on the Unicode
    // version of whoever computes it, and both sides must reach one byte string.
    let e = s.to_ascii_lowercase();
    if e.contains(char::is_whitespace) {
        return bad(k, format!("{s:?} contains spaces"));
    }
    if e.len() > 254 {
        return bad(k, format!("is {} bytes long; at most 254", e.len()));
    }
    let mut parts = e.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return bad(k, format!("{s:?} must hold exactly one @"));
    };
    if local.is_empty() {
        return bad(k, format!("{s:?} has nothing before the @"));
    }
    if domain.split('.').count() < 2 || domain.split('.').any(str::is_empty) {
        return bad(
            k,
            format!("{s:?}: the domain after the @ must be a name such as example.com"),
        );
    }
    Ok(e)
}

fn normalize_openid(s: &str) -> Result<String, IdentifierError> {
    let k = IdentityKind::Openid;
    let Some((issuer, subject)) = s.split_once('|') else {
        return bad(
            k,
            format!("{s:?} has no `|` between the issuer and the subject"),
        );
    };
    let (issuer, subject) = (issuer.trim(), subject.trim());
    if issuer.is_empty() {
        return bad(k, "has an empty issuer");
    }
    if subject.is_empty() {
        return bad(k, "has an empty subject");
    }
    if issuer.contains(char::is_whitespace) || subject.contains(char::is_whitespace) {
        return bad(k, "contains spaces inside the issuer or the subject");
    }
    if subject.contains('|') {
        return bad(k, "holds more than one `|`");
    }
    Ok(format!("{issuer}|{subject}"))
}

/// The commitment of an already normalised identifier (see the module docs).
pub fn commitment(
    chain_id: &str,
    consumer: &AccountId,
    enterprise: &AccountId,
    kind: IdentityKind,
    normalized: &str,
    salt: &LinkSalt,
) -> LinkCommitment {
    LinkCommitment(Hash32::tagged(
        LINK_COMMITMENT_TAG,
        &[
            chain_id.as_bytes(),
            consumer.as_bytes(),
            enterprise.as_bytes(),
            kind.as_str().as_bytes(),
            normalized.as_bytes(),
            salt.as_bytes(),
        ],
    ))
}

/// Normalises `raw` and commits to it: what the consumer puts on the chain
/// and what the enterprise recomputes from its own record.
pub fn commit_identifier(
    chain_id: &str,
    consumer: &AccountId,
    enterprise: &AccountId,
    kind: IdentityKind,
    raw: &str,
    salt: &LinkSalt,
) -> Result<LinkCommitment, IdentifierError> {
    let n = normalize(kind, raw)?;
    Ok(commitment(chain_id, consumer, enterprise, kind, &n, salt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_text_and_codes() {
        for k in IdentityKind::ALL {
            assert_eq!(k.as_str().parse::<IdentityKind>(), Ok(k));
            assert_eq!(IdentityKind::from_code(k.code()), Some(k));
        }
        assert_eq!("member-card".parse(), Ok(IdentityKind::MemberCard));
        assert!("passport".parse::<IdentityKind>().is_err());
        assert_eq!(IdentityKind::from_code(0), None);
    }
}
