//! Compact JSON Web Signatures (RFC 7515) with EdDSA over Ed25519 (RFC 8037):
//! the node signs standard-format consent receipts (Kantara, ISO 27560) with
//! its validator key; `assent receipt verify` checks them offline.
//!
//! The protected header is `{"alg":"EdDSA","typ":"JWT","kid":"<assent1…>",
//! "jwk":{"kty":"OKP","crv":"Ed25519","x":"<base64url key>"}}`; `kid` is the
//! signer's account, and must be the key of `jwk`.
//!
//! The validator key signs the raw JWS signing input (RFC 8037 has no
//! domain tag). That input always starts with `eyJ` (base64url of `{"`), and
//! every other message this key signs starts with an `assent/…` domain tag
//! (votes, proposals, block streams: see `assent_contracts::commit`), so a
//! JWS signature can never be replayed as a consensus signature or the
//! reverse. [`sign`] refuses a header that would not start with `{"`.
//!
//! Verification uses the ledger's one signature rule (ZIP-215, via
//! `ed25519-consensus`).

use assent_contracts::crypto::Keypair;
use assent_contracts::AccountId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

/// Largest compact JWS [`verify`] reads.
pub const MAX_JWS_BYTES: usize = 16 * 1024 * 1024;

/// Why a JWS was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS: expected three base64url parts separated by '.', found {0}")]
    Shape(usize),
    #[error("the JWS is larger than {MAX_JWS_BYTES} bytes")]
    TooLarge,
    #[error("the JWS {part} is not base64url: {why}")]
    Base64 { part: &'static str, why: String },
    #[error("the JWS {part} is not a JSON object: {why}")]
    Json { part: &'static str, why: String },
    #[error("the JWS header says alg {0:?}; only EdDSA (Ed25519) is accepted")]
    Alg(String),
    #[error(
        "the JWS header's jwk is not an Ed25519 public key (kty OKP, crv Ed25519, x of 32 bytes)"
    )]
    Jwk,
    #[error("the JWS header's kid {kid:?} is not the account of its jwk ({account})")]
    Kid { kid: String, account: AccountId },
    #[error("the JWS signature does not verify with the key in its header")]
    Signature,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(part: &'static str, text: &str) -> Result<Vec<u8>, JwsError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|e| JwsError::Base64 {
        part,
        why: e.to_string(),
    })
}

/// The protected header a key signs with.
pub fn header(signer: &AccountId) -> Value {
    json!({
        "alg": "EdDSA",
        "typ": "JWT",
        "kid": signer.to_string(),
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64(signer.as_bytes())},
    })
}

/// Signs `payload` (serialized as compact JSON) as a compact JWS.
pub fn sign(key: &Keypair, payload: &Value) -> String {
    use ed25519_dalek::Signer as _;
    let head = header(&key.account()).to_string();
    // A JSON object serializes as `{"…`, so the input starts with "eyJ".
    debug_assert!(head.starts_with("{\""));
    let input = format!(
        "{}.{}",
        b64(head.as_bytes()),
        b64(payload.to_string().as_bytes())
    );
    let signing = ed25519_dalek::SigningKey::from_bytes(&key.seed());
    let sig = signing.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

/// A JWS whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The key that signed (from the header's `jwk`, equal to its `kid`).
    pub signer: AccountId,
    pub header: Value,
    pub payload: Value,
}

/// Verifies a compact JWS against the key its header carries. Whether that
/// key is one to trust is the caller's decision (e.g. a genesis validator).
pub fn verify(compact: &str) -> Result<Verified, JwsError> {
    let compact = compact.trim();
    if compact.len() > MAX_JWS_BYTES {
        return Err(JwsError::TooLarge);
    }
    let parts: Vec<&str> = compact.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(JwsError::Shape(parts.len()));
    };
    let object = |part: &'static str, bytes: Vec<u8>| -> Result<Value, JwsError> {
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| JwsError::Json {
            part,
            why: e.to_string(),
        })?;
        if v.is_object() {
            Ok(v)
        } else {
            Err(JwsError::Json {
                part,
                why: "not an object".into(),
            })
        }
    };
    let header = object("header", unb64("header", h)?)?;
    match header.get("alg").and_then(Value::as_str) {
        Some("EdDSA") => {}
        other => return Err(JwsError::Alg(other.unwrap_or("(none)").to_string())),
    }
    let jwk = header.get("jwk").ok_or(JwsError::Jwk)?;
    let field = |k: &str| jwk.get(k).and_then(Value::as_str);
    if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
        return Err(JwsError::Jwk);
    }
    let x = unb64("jwk x", field("x").ok_or(JwsError::Jwk)?)?;
    let key: [u8; 32] = x.try_into().map_err(|_| JwsError::Jwk)?;
    let signer = AccountId(key);
    if let Some(kid) = header.get("kid") {
        let kid = kid.as_str().unwrap_or_default();
        if kid.parse::<AccountId>().ok() != Some(signer) {
            return Err(JwsError::Kid {
                kid: kid.to_string(),
                account: signer,
            });
        }
    }
    let sig: [u8; 64] = unb64("signature", s)?
        .try_into()
        .map_err(|_| JwsError::Signature)?;
    let vk = ed25519_consensus::VerificationKey::try_from(key).map_err(|_| JwsError::Jwk)?;
    let input_len = h.len() + 1 + p.len();
    vk.verify(
        &ed25519_consensus::Signature::from(sig),
        &compact.as_bytes()[..input_len],
    )
    .map_err(|_| JwsError::Signature)?;
    let payload = object("payload", unb64("payload", p)?)?;
    Ok(Verified {
        signer,
        header,
        payload,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signed_payload_verifies_and_any_change_is_refused() {
        let key = Keypair::from_seed([7; 32]);
        let payload = json!({"version": "KI-CR-v1.1.0", "n": 1});
        let jws = sign(&key, &payload);
        assert!(jws.starts_with("eyJ"));
        let v = verify(&jws).unwrap();
        assert_eq!(v.signer, key.account());
        assert_eq!(v.payload, payload);
        assert_eq!(v.header["kid"], key.account().to_string());

        let parts: Vec<&str> = jws.split('.').collect();
        let other = b64(json!({"version": "KI-CR-v1.1.0", "n": 2})
            .to_string()
            .as_bytes());
        let swapped = format!("{}.{other}.{}", parts[0], parts[2]);
        assert_eq!(verify(&swapped), Err(JwsError::Signature));

        // Someone else's key in the header: the signature does not match it.
        let mallory = Keypair::from_seed([8; 32]);
        let forged_head = b64(header(&mallory.account()).to_string().as_bytes());
        let forged = format!("{forged_head}.{}.{}", parts[1], parts[2]);
        assert_eq!(verify(&forged), Err(JwsError::Signature));

        // A kid that is not the jwk's account.
        let mut h = header(&key.account());
        h["kid"] = json!(mallory.account().to_string());
        let bad_kid = format!(
            "{}.{}.{}",
            b64(h.to_string().as_bytes()),
            parts[1],
            parts[2]
        );
        assert!(matches!(verify(&bad_kid), Err(JwsError::Kid { .. })));

        let mut h = header(&key.account());
        h["alg"] = json!("none");
        let none = format!("{}.{}.", b64(h.to_string().as_bytes()), parts[1]);
        assert!(matches!(verify(&none), Err(JwsError::Alg(_))));
        assert_eq!(verify("a.b"), Err(JwsError::Shape(2)));
        assert!(matches!(verify("!!.e30.AA"), Err(JwsError::Base64 { .. })));
    }
}
