//! Signed reads: HTTP message signatures (RFC 9421) over a read request,
//! with which an account proves to a node who is asking (issue 14, item 1).
//!
//! A signed request carries two headers:
//!
//! ```text
//! Signature-Input: assent=("@method" "@path" "@query");created=1764850000;expires=1764850060;nonce="…";keyid="assent1…";alg="ed25519";tag="assent-read"
//! Signature: assent=:<base64 of 64 bytes>:
//! ```
//!
//! The signature base is RFC 9421's (one line per component, then
//! `"@signature-params"`), and the bytes signed are that base under this
//! crate's domain scheme: `assent/read/v1 || len(chain id) || chain id ||
//! base` ([`assent_contracts::crypto::signing_message`]). So a read signature
//! names its chain, can never verify as a tx, a vote or a JWS, and a generic
//! RFC 9421 verifier needs only that prefix to check it. `keyid` is the
//! signing key (`assent1…`): the account's own key, or the key it rotated to.
//!
//! Parsing is strict: exactly this label, these components in this order,
//! each parameter once, no other parameters.

use base64::Engine as _;

use assent_contracts::crypto::{self, Keypair, Signature};
use assent_contracts::AccountId;

/// Domain tag of read-request signatures.
pub const READ_SIGNATURE_TAG: &[u8] = b"assent/read/v1";
/// The signature label in both headers.
pub const LABEL: &str = "assent";
/// The covered components, in order.
pub const COMPONENTS: &str = r#"("@method" "@path" "@query")"#;
/// RFC 9421 `tag` parameter every read signature carries.
pub const TAG: &str = "assent-read";
/// Longest a signature may be valid (`expires - created`), in seconds.
pub const MAX_LIFETIME_S: u64 = 300;
/// How far in the future `created` may be (clock skew), in seconds.
pub const MAX_SKEW_S: u64 = 30;
/// Lifetime the clients give their signatures, in seconds.
pub const DEFAULT_LIFETIME_S: u64 = 60;
/// Longest nonce accepted, in characters.
pub const MAX_NONCE: usize = 64;
/// Longest `Signature-Input` header accepted, in bytes.
pub const MAX_INPUT_HEADER: usize = 512;

/// Header names (lower case, as HTTP/2 and axum use them).
pub const SIGNATURE_INPUT: &str = "signature-input";
pub const SIGNATURE: &str = "signature";

/// Why a read signature was refused. Each is a 401 with its own code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadSigError {
    #[error("{0}")]
    Malformed(String),
    #[error(
        "the signature expired at {expires} (now {now}, Unix seconds); sign the request again"
    )]
    Expired { expires: u64, now: u64 },
    #[error("the signature is created at {created}, more than {MAX_SKEW_S} s after this node's clock ({now}); check the client's clock")]
    NotYetValid { created: u64, now: u64 },
    #[error("the signature is valid for {0} s; at most {MAX_LIFETIME_S} s is accepted")]
    TooLong(u64),
    #[error("the signature does not verify for key {0} over this method, path, query and chain")]
    Invalid(AccountId),
}

impl ReadSigError {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadSigError::Malformed(_) => "bad_signature_header",
            ReadSigError::Expired { .. } => "signature_expired",
            ReadSigError::NotYetValid { .. } => "signature_not_yet_valid",
            ReadSigError::TooLong(_) => "signature_lifetime_too_long",
            ReadSigError::Invalid(_) => "bad_signature",
        }
    }
}

/// The parameters of one read signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadParams {
    /// Unix seconds.
    pub created: u64,
    /// Unix seconds.
    pub expires: u64,
    /// Unique per signature (the node refuses a second use).
    pub nonce: String,
    /// The signing key.
    pub keyid: AccountId,
}

impl ReadParams {
    /// The inner list and parameters exactly as `Signature-Input` carries
    /// them after `assent=`, and as `"@signature-params"` signs them.
    pub fn serialize(&self) -> String {
        format!(
            "{COMPONENTS};created={};expires={};nonce=\"{}\";keyid=\"{}\";alg=\"ed25519\";tag=\"{TAG}\"",
            self.created, self.expires, self.nonce, self.keyid
        )
    }

    /// Checks the validity window against `now` (Unix seconds).
    pub fn check_time(&self, now: u64) -> Result<(), ReadSigError> {
        let lifetime = self.expires.saturating_sub(self.created);
        if lifetime > MAX_LIFETIME_S {
            return Err(ReadSigError::TooLong(lifetime));
        }
        if self.created > now.saturating_add(MAX_SKEW_S) {
            return Err(ReadSigError::NotYetValid {
                created: self.created,
                now,
            });
        }
        if now > self.expires {
            return Err(ReadSigError::Expired {
                expires: self.expires,
                now,
            });
        }
        Ok(())
    }
}

/// The RFC 9421 signature base of a request. `query` is the raw query
/// without `?` (`None` when the target has none).
pub fn signature_base(method: &str, path: &str, query: Option<&str>, params: &str) -> String {
    format!(
        "\"@method\": {method}\n\"@path\": {path}\n\"@query\": ?{}\n\"@signature-params\": {params}",
        query.unwrap_or("")
    )
}

/// The two headers of a signed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedHeaders {
    pub signature_input: String,
    pub signature: String,
}

/// Signs `method target` (`target` = path and optional `?query`) for `chain_id`,
/// valid from `now` (Unix seconds) for `lifetime` seconds, with a fresh
/// random nonce.
pub fn sign(
    key: &Keypair,
    chain_id: &str,
    method: &str,
    target: &str,
    now: u64,
    lifetime: u64,
) -> SignedHeaders {
    let nonce: [u8; 16] = rand::random();
    sign_with(
        key,
        chain_id,
        method,
        target,
        now,
        now.saturating_add(lifetime),
        &hex::encode(nonce),
    )
}

/// Signs `method target` for `chain_id` with the given window and nonce: the
/// deterministic core of [`sign`] (ed25519 signatures are deterministic), so
/// other implementations (the TypeScript package in `web/assent-js`) can be
/// pinned to it byte for byte. A nonce must never be used twice: only tests
/// pass a fixed one.
pub fn sign_with(
    key: &Keypair,
    chain_id: &str,
    method: &str,
    target: &str,
    created: u64,
    expires: u64,
    nonce: &str,
) -> SignedHeaders {
    let params = ReadParams {
        created,
        expires,
        nonce: nonce.to_string(),
        keyid: key.account(),
    };
    let (path, query) = split_target(target);
    let p = params.serialize();
    let base = signature_base(method, path, query, &p);
    let sig = key.sign(READ_SIGNATURE_TAG, chain_id.as_bytes(), base.as_bytes());
    SignedHeaders {
        signature_input: format!("{LABEL}={p}"),
        signature: format!(
            "{LABEL}=:{}:",
            base64::engine::general_purpose::STANDARD.encode(sig.0)
        ),
    }
}

/// `(path, query)` of a request target.
pub fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    }
}

/// A read signature as received, parsed but not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedSignature {
    pub params: ReadParams,
    /// The parameters exactly as received (what was signed).
    pub raw_params: String,
    pub signature: Signature,
}

impl ReceivedSignature {
    /// Parses the two header values.
    pub fn parse(
        signature_input: &str,
        signature: &str,
    ) -> Result<ReceivedSignature, ReadSigError> {
        let bad = |m: String| ReadSigError::Malformed(m);
        if signature_input.len() > MAX_INPUT_HEADER {
            return Err(bad(format!(
                "Signature-Input is longer than {MAX_INPUT_HEADER} bytes"
            )));
        }
        let raw = signature_input
            .strip_prefix(LABEL)
            .and_then(|s| s.strip_prefix('='))
            .ok_or_else(|| {
                bad(format!(
                    "Signature-Input must be one signature labelled `{LABEL}=`"
                ))
            })?;
        let rest = raw.strip_prefix(COMPONENTS).ok_or_else(|| {
            bad(format!(
                "Signature-Input must cover exactly {COMPONENTS}, in that order"
            ))
        })?;
        let params = parse_params(rest)?;
        let sig = signature
            .strip_prefix(LABEL)
            .and_then(|s| s.strip_prefix("=:"))
            .and_then(|s| s.strip_suffix(':'))
            .ok_or_else(|| bad(format!("Signature must be `{LABEL}=:<base64>:`")))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sig)
            .map_err(|e| bad(format!("the Signature value is not base64: {e}")))?;
        let signature: [u8; 64] = bytes.try_into().map_err(|b: Vec<u8>| {
            bad(format!(
                "an ed25519 signature is 64 bytes, this one is {}",
                b.len()
            ))
        })?;
        Ok(ReceivedSignature {
            params,
            raw_params: raw.to_string(),
            signature: Signature(signature),
        })
    }

    /// Verifies the signature over `method path ?query` for `chain_id` with
    /// the key `keyid` names.
    pub fn verify(
        &self,
        chain_id: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Result<(), ReadSigError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(&self.params.keyid.0)
            .map_err(|_| ReadSigError::Invalid(self.params.keyid))?;
        self.verify_with(&key, chain_id, method, path, query)
    }

    /// [`verify`](Self::verify) with `keyid` already decompressed (a
    /// [`KeyCache`]'s).
    fn verify_with(
        &self,
        key: &ed25519_dalek::VerifyingKey,
        chain_id: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Result<(), ReadSigError> {
        let base = signature_base(method, path, query, &self.raw_params);
        // Reads are not consensus: no validator must agree with another on
        // which edge-case signatures pass, so they take `ed25519-dalek`'s
        // strict check (canonical encodings; a small-order key, for which
        // anyone could sign, is refused), which picks the CPU's AVX2 code
        // at run time and costs about 70 % of the ZIP-215 check txs use
        // (BENCHMARKS.md).
        let message =
            crypto::signing_message(READ_SIGNATURE_TAG, chain_id.as_bytes(), base.as_bytes());
        key.verify_strict(
            &message,
            &ed25519_dalek::Signature::from_bytes(&self.signature.0),
        )
        .map_err(|_| ReadSigError::Invalid(self.params.keyid))
    }
}

/// Most keys a [`KeyCache`] holds; when full it starts again empty.
pub const KEY_CACHE_SIZE: usize = 65_536;

/// The decompressed keys of recent readers, so a reader's next request
/// skips decompressing its key (≈ 4 µs of a ≈ 45 µs check). Only keys that
/// made a valid signature go in, and it never holds more than
/// [`KEY_CACHE_SIZE`].
#[derive(Debug, Default)]
pub struct KeyCache {
    keys: std::sync::Mutex<std::collections::HashMap<[u8; 32], ed25519_dalek::VerifyingKey>>,
}

impl KeyCache {
    /// [`ReceivedSignature::verify`] through the cache.
    pub fn verify(
        &self,
        r: &ReceivedSignature,
        chain_id: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Result<(), ReadSigError> {
        let id = r.params.keyid.0;
        let lock = || self.keys.lock().unwrap_or_else(|p| p.into_inner());
        let cached = lock().get(&id).copied();
        let key = match cached {
            Some(k) => k,
            None => ed25519_dalek::VerifyingKey::from_bytes(&id)
                .map_err(|_| ReadSigError::Invalid(r.params.keyid))?,
        };
        r.verify_with(&key, chain_id, method, path, query)?;
        if cached.is_none() {
            let mut keys = lock();
            if keys.len() >= KEY_CACHE_SIZE {
                keys.clear();
            }
            keys.insert(id, key);
        }
        Ok(())
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Parses `;created=…;expires=…;nonce="…";keyid="…";alg="ed25519";tag="assent-read"`
/// (any order, each once; `alg` optional).
fn parse_params(mut s: &str) -> Result<ReadParams, ReadSigError> {
    let bad = |m: String| ReadSigError::Malformed(m);
    let (mut created, mut expires, mut nonce, mut keyid, mut alg, mut tag) =
        (None, None, None, None, None, None);
    while !s.is_empty() {
        let body = s
            .strip_prefix(';')
            .ok_or_else(|| bad("Signature-Input parameters are `;name=value`".into()))?;
        let end = body.find(';').unwrap_or(body.len());
        let (item, next) = body.split_at(end);
        s = next;
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("parameter `{item}` has no value")))?;
        let slot = match name {
            "created" => &mut created,
            "expires" => &mut expires,
            "nonce" => &mut nonce,
            "keyid" => &mut keyid,
            "alg" => &mut alg,
            "tag" => &mut tag,
            other => {
                return Err(bad(format!(
                    "unknown Signature-Input parameter `{other}`; the parameters are created, expires, nonce, keyid, alg and tag"
                )))
            }
        };
        if slot.replace(value).is_some() {
            return Err(bad(format!("parameter `{name}` is given twice")));
        }
    }
    fn need<'a>(v: Option<&'a str>, name: &str) -> Result<&'a str, ReadSigError> {
        v.ok_or_else(|| {
            ReadSigError::Malformed(format!("Signature-Input lacks the `{name}` parameter"))
        })
    }
    let int = |v: &str, name: &str| {
        if v.is_empty() || v.len() > 15 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(format!(
                "`{name}` must be Unix seconds, an integer, not {v:?}"
            )));
        }
        v.parse::<u64>()
            .map_err(|e| bad(format!("`{name}` is not a number: {e}")))
    };
    let string = |v: &str, name: &str| {
        v.strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .filter(|v| !v.contains(['"', '\\']))
            .map(str::to_string)
            .ok_or_else(|| bad(format!("`{name}` must be a quoted string without escapes")))
    };
    let tag_v = string(need(tag, "tag")?, "tag")?;
    if tag_v != TAG {
        return Err(bad(format!(
            "tag is {tag_v:?}; a read signature carries tag=\"{TAG}\""
        )));
    }
    if let Some(a) = alg {
        let a = string(a, "alg")?;
        if a != "ed25519" {
            return Err(bad(format!("alg {a:?} is not supported; use \"ed25519\"")));
        }
    }
    let nonce = string(need(nonce, "nonce")?, "nonce")?;
    if nonce.is_empty()
        || nonce.len() > MAX_NONCE
        || !nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad(format!(
            "the nonce must be 1 to {MAX_NONCE} characters of A-Z a-z 0-9 - _"
        )));
    }
    let keyid = string(need(keyid, "keyid")?, "keyid")?;
    let keyid = keyid
        .parse::<AccountId>()
        .map_err(|e| bad(format!("keyid {keyid:?} is not a key: {e}")))?;
    Ok(ReadParams {
        created: int(need(created, "created")?, "created")?,
        expires: int(need(expires, "expires")?, "expires")?,
        nonce,
        keyid,
    })
}

#[cfg(test)]
mod tests;
