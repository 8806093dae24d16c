//! `assent receipt verify FILE... --genesis GENESIS`: checks receipts offline,
//! with no node, against a chain's genesis file.
//!
//! Accepted files: a receipt (`assent-receipt/2`, of a tx or of one use —
//! which carries no other use of its RecordUse, decision 34), a
//! consent proof (`assent-consent-proof/1`), a state proof
//! (`assent-state-proof/1`: a record or its absence at a height), and the signed standard forms
//! (`{"format", "jws", "receipt"}` as the node serves them, or the bare
//! compact JWS). For a signed form the JWS must verify against the key in its
//! header AND that key must be one of the genesis validators; then the
//! embedded `assent:proof` is verified like a consent proof, and the
//! document must name the same consent and data subject as the proof.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use assent_cli::jws;
use assent_contracts::consent_proof::{ConsentProof, ProvenConsent, CONSENT_PROOF_VERSION};
use assent_contracts::receipt::{Proven, Receipt, Trust, RECEIPT_VERSION};
use assent_contracts::state::Validator;
use assent_contracts::state_proof::{RecordRef, StateProof, STATE_PROOF_VERSION};
use assent_contracts::validator_history::ValidatorHistory;
use assent_contracts::AccountId;
use assent_genesis::time::format_utc;
use assent_genesis::Genesis;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::context::Ctx;

/// Largest receipt file read.
const MAX_FILE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check receipts offline against a chain's genesis: say what each proves, or which check failed
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Receipt files: a receipt, a consent proof, a state proof, or a signed Kantara / ISO 27560 receipt
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The chain's genesis file (e.g. ./devnet/genesis.toml)
    #[arg(long, value_name = "GENESIS")]
    pub genesis: PathBuf,
    /// For a chain whose validator set changed: the proofs of every change, as a
    /// node serves them (`GET /v1/validator-sets`), checked from the genesis set
    #[arg(long, value_name = "FILE")]
    pub validator_sets: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, cmd: ReceiptCommand) -> Result<()> {
    match cmd {
        ReceiptCommand::Verify(a) => verify(ctx, &a),
    }
}

/// What the genesis says: the trust anchor and display names.
struct Chain {
    chain_id: String,
    genesis_hash: assent_contracts::Hash32,
    validators: Vec<Validator>,
    /// Registered names from the genesis (enterprises, operators, validators).
    names: BTreeMap<AccountId, String>,
    /// Names of the keys in the local keystore.
    keystore: assent_cli::accounts::Names,
    /// The validator sets after later changes (`--validator-sets`).
    history: Option<ValidatorHistory>,
}

impl Chain {
    fn load(path: &Path, sets: Option<&Path>, ctx: &Ctx) -> Result<Chain> {
        let g = Genesis::load(path).map_err(|e| anyhow!("--genesis {}: {e}", path.display()))?;
        let history = match sets {
            None => None,
            Some(file) => {
                let bad = |why: String| anyhow!("--validator-sets {}: {why}", file.display());
                let meta = std::fs::metadata(file).map_err(|e| bad(e.to_string()))?;
                if meta.len() > MAX_FILE {
                    return Err(bad(format!("larger than {MAX_FILE} bytes")));
                }
                let text = std::fs::read(file).map_err(|e| bad(e.to_string()))?;
                #[derive(serde::Deserialize)]
                struct Sets {
                    proofs: Vec<StateProof>,
                }
                let sets: Sets = serde_json::from_slice(&text)
                    .map_err(|e| bad(format!("not the JSON of GET /v1/validator-sets ({e})")))?;
                let h = ValidatorHistory::follow(
                    g.chain_id(),
                    g.hash(),
                    g.initial_state().validators,
                    &sets.proofs,
                )
                .map_err(|e| bad(e.to_string()))?;
                Some(h)
            }
        };
        let mut names = BTreeMap::new();
        for e in g.enterprises() {
            names.insert(e.account, e.name.clone());
        }
        for o in g.operators() {
            names.insert(o.account, o.name.clone());
        }
        for v in g.validators() {
            names.insert(v.consensus_key, v.name.clone());
        }
        Ok(Chain {
            chain_id: g.chain_id().to_string(),
            genesis_hash: g.hash(),
            validators: g.initial_state().validators,
            names,
            keystore: ctx.names(),
            history,
        })
    }

    fn trust(&self) -> Trust<'_> {
        Trust {
            chain_id: &self.chain_id,
            genesis_hash: self.genesis_hash,
            validators: &self.validators,
            history: self.history.as_ref(),
        }
    }

    /// The name of a key of the local keystore (the user's own name for an
    /// account they hold), else the name the genesis registers.
    fn name(&self, a: &AccountId) -> Option<String> {
        self.keystore
            .name(a)
            .map(str::to_string)
            .or_else(|| self.names.get(a).cloned())
    }
}

/// One verified statement: its sentence and where it is in the chain.
fn statement(chain: &Chain, p: &Proven) -> Value {
    json!({
        "text": p.describe(&|a| chain.name(a)),
        "height": p.height.0,
        "time": format_utc(p.time),
        "block_hash": p.block_hash.to_string(),
        "tx_id": p.tx_id.to_string(),
        "signers": p.commit.signers,
        "validators": p.commit.validators,
    })
}

fn consent_statements(chain: &Chain, p: &ProvenConsent) -> Vec<Value> {
    p.steps
        .iter()
        .map(|s| statement(chain, &s.proven))
        .collect()
}

/// Verifies one file; the JSON result (`valid: true`) or the failed check.
fn verify_file(chain: &Chain, path: &Path) -> Result<Value> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_FILE {
        bail!(
            "{} is larger than {MAX_FILE} bytes; not a receipt",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = text.trim();
    if text.starts_with("eyJ") {
        return signed(chain, None, text);
    }
    let v: Value = serde_json::from_str(text)
        .map_err(|e| anyhow!("not a receipt: not JSON and not a compact JWS ({e})"))?;
    if let Some(compact) = v.get("jws").and_then(Value::as_str) {
        let format = v.get("format").and_then(Value::as_str).map(str::to_string);
        return signed(chain, format, compact);
    }
    match v.get("version").and_then(Value::as_str) {
        Some(RECEIPT_VERSION) => {
            let r: Receipt = serde_json::from_value(v).map_err(|e| anyhow!("a malformed receipt: {e}"))?;
            let p = r.verify(&chain.trust())?;
            Ok(json!({"kind": "receipt", "statements": [statement(chain, &p)]}))
        }
        Some(CONSENT_PROOF_VERSION) => {
            let c: ConsentProof =
                serde_json::from_value(v).map_err(|e| anyhow!("a malformed consent proof: {e}"))?;
            let p = c.verify(&chain.trust())?;
            Ok(json!({
                "kind": "consent_proof",
                "consent": p.consent.to_string(),
                "status": p.status(),
                "statements": consent_statements(chain, &p),
            }))
        }
        Some(STATE_PROOF_VERSION) => {
            let sp: StateProof =
                serde_json::from_value(v).map_err(|e| anyhow!("a malformed state proof: {e}"))?;
            let p = sp.verify(&chain.trust())?;
            Ok(json!({
                "kind": "state_proof",
                "record": p.record,
                "height": p.height.0,
                "exists": p.value.is_some(),
                "value": p.value,
                "statements": [{
                    "text": p.describe(),
                    "height": p.height.0,
                    "time": format_utc(p.time),
                    "block_hash": p.block_hash.to_string(),
                    "signers": p.commit.signers,
                    "validators": p.commit.validators,
                }],
            }))
        }
        other => bail!(
            "not a receipt: version {:?}; expected {RECEIPT_VERSION}, {CONSENT_PROOF_VERSION}, {STATE_PROOF_VERSION}, or a signed receipt with a `jws`",
            other.unwrap_or("(none)")
        ),
    }
}

/// A signed Kantara / ISO 27560 receipt.
fn signed(chain: &Chain, format: Option<String>, compact: &str) -> Result<Value> {
    let j = jws::verify(compact)?;
    let latest = chain.history.as_ref().map_or(&[][..], |h| h.latest());
    if !chain
        .validators
        .iter()
        .chain(latest)
        .any(|v| v.consensus_key == j.signer)
    {
        bail!(
            "the JWS is signed by {}, which is not a validator of chain {}; only the chain's validators issue receipts",
            j.signer,
            chain.chain_id
        );
    }
    let doc = &j.payload;
    let kind = match (doc.get("version"), doc.get("@type").and_then(Value::as_str)) {
        (Some(_), _) => "kantara",
        (_, Some("dpv:ConsentRecord")) => "iso27560",
        _ => bail!("the signed document is neither a Kantara receipt nor an ISO 27560 record"),
    };
    if let Some(f) = &format {
        if f != kind {
            bail!("the file says format {f:?} but its signed document is a {kind} receipt");
        }
    }
    let proof = doc
        .get("assent:proof")
        .ok_or_else(|| anyhow!("the signed {kind} receipt carries no assent:proof"))?;
    let proof: ConsentProof = serde_json::from_value(proof.clone())
        .map_err(|e| anyhow!("the assent:proof of the {kind} receipt is malformed: {e}"))?;
    let p = proof.verify(&chain.trust())?;
    let principal = match kind {
        "kantara" => doc.get("piiPrincipalId"),
        _ => doc
            .get("dpv:hasDataSubject")
            .and_then(|s| s.get("dct:identifier")),
    }
    .and_then(Value::as_str);
    if principal != Some(p.consumer.to_string().as_str()) {
        bail!(
            "the {kind} receipt names data subject {principal:?}, but its proof is of a consent of {}",
            p.consumer
        );
    }
    if doc.get("assent:consent").and_then(Value::as_str) != Some(p.consent.to_string().as_str()) {
        bail!(
            "the {kind} receipt's assent:consent is not the consent its proof proves ({})",
            p.consent
        );
    }
    // The consent's status at issue, if the document carries its proof.
    let mut statements = consent_statements(chain, &p);
    let status_proof = match doc.get("assent:statusProof") {
        None | Some(Value::Null) => Value::Null,
        Some(sp) => {
            let sp: StateProof = serde_json::from_value(sp.clone()).map_err(|e| {
                anyhow!("the assent:statusProof of the {kind} receipt is malformed: {e}")
            })?;
            if sp.record != RecordRef::Consent(p.consent) {
                bail!(
                    "the {kind} receipt's assent:statusProof is of {} {}, not of consent {}",
                    sp.record.kind(),
                    sp.record.id(),
                    p.consent
                );
            }
            let proven = sp
                .verify(&chain.trust())
                .map_err(|e| anyhow!("the assent:statusProof of the {kind} receipt: {e}"))?;
            statements.push(json!({
                "text": proven.describe(),
                "height": proven.height.0,
                "time": format_utc(proven.time),
                "block_hash": proven.block_hash.to_string(),
                "signers": proven.commit.signers,
                "validators": proven.commit.validators,
            }));
            json!({"height": proven.height.0})
        }
    };
    let signer = chain
        .name(&j.signer)
        .map_or_else(|| j.signer.to_string(), |n| format!("{n} ({})", j.signer));
    Ok(json!({
        "kind": kind,
        "signed_by": j.signer.to_string(),
        "signed_by_text": signer,
        "consent": p.consent.to_string(),
        "status": p.status(),
        "document_status": doc.get("assent:status").and_then(|s| s.get("status")),
        "profile": profile(kind, doc),
        "status_proof": status_proof,
        "statements": statements,
    }))
}

/// The standard profile a signed document claims, or why it claims none
/// (an ISO 27560 record claims the DPV-27560 record profile only when the
/// controller has published the contact details it requires).
fn profile(kind: &str, doc: &Value) -> Value {
    match kind {
        "kantara" => json!({"claims": doc.get("version")}),
        _ => match doc.get("dct:conformsTo").and_then(|c| c.get("@id")) {
            Some(p) => json!({"claims": p}),
            None => json!({"claims": null, "why_not": doc.get("assent:conformance")}),
        },
    }
}

fn text_of(file: &Path, v: &Value) -> String {
    let mut lines = Vec::new();
    let kind = v["kind"].as_str().unwrap_or_default();
    let head = match kind {
        "receipt" => "receipt".to_string(),
        "state_proof" => format!(
            "state proof of {} {} at height {}",
            v["record"]["kind"].as_str().unwrap_or_default(),
            v["record"]["id"].as_str().unwrap_or_default(),
            v["height"]
        ),
        "consent_proof" => format!(
            "consent proof of consent {}, status {}",
            v["consent"].as_str().unwrap_or_default(),
            v["status"].as_str().unwrap_or_default()
        ),
        k => format!(
            "{k} receipt signed by validator {}; consent {}, status {}",
            v["signed_by_text"].as_str().unwrap_or_default(),
            v["consent"].as_str().unwrap_or_default(),
            v["status"].as_str().unwrap_or_default()
        ),
    };
    lines.push(format!("{}: valid {head}", file.display()));
    match (&v["profile"]["claims"], &v["profile"]["why_not"]) {
        (Value::String(p), _) => {
            lines.push(format!("  conforms to {p} (as the signing node says)"))
        }
        (Value::Null, Value::String(why)) => lines.push(format!("  profile {why}")),
        _ => {}
    }
    for s in v["statements"].as_array().into_iter().flatten() {
        lines.push(format!(
            "  {} (block time {})",
            s["text"].as_str().unwrap_or_default(),
            s["time"].as_str().unwrap_or_default()
        ));
    }
    lines.join("\n")
}

/// The name of the receipt check that failed (`ReceiptError::check`), if a
/// receipt's check failed — also one inside a consent proof.
fn failed_check(e: &anyhow::Error) -> Option<&'static str> {
    use assent_contracts::consent_proof::ConsentProofError;
    use assent_contracts::receipt::ReceiptError;
    e.chain().find_map(|c| {
        if let Some(r) = c.downcast_ref::<ReceiptError>() {
            return Some(r.check());
        }
        match c.downcast_ref::<ConsentProofError>() {
            Some(ConsentProofError::Receipt { error, .. }) => Some(error.check()),
            _ => None,
        }
    })
}

fn verify(ctx: &Ctx, a: &VerifyArgs) -> Result<()> {
    let chain = Chain::load(&a.genesis, a.validator_sets.as_deref(), ctx)?;
    let mut results = Vec::new();
    let mut texts = Vec::new();
    let mut failed = Vec::new();
    for f in &a.files {
        match verify_file(&chain, f) {
            Ok(mut v) => {
                texts.push(text_of(f, &v));
                v["file"] = json!(f.display().to_string());
                v["valid"] = json!(true);
                results.push(v);
            }
            Err(e) => {
                let why = format!("{e:#}");
                results.push(json!({
                    "file": f.display().to_string(),
                    "valid": false,
                    "error": why,
                    "check": failed_check(&e),
                }));
                failed.push(format!("{}: {why}", f.display()));
            }
        }
    }
    let n = a.files.len();
    if ctx.is_json() {
        ctx.emit("", &json!({"chain_id": chain.chain_id, "results": results}))?;
    } else if !texts.is_empty() {
        ctx.emit(&texts.join("\n"), &Value::Null)?;
    }
    match failed.len() {
        0 => Ok(()),
        1 if n == 1 => Err(anyhow!("{}", failed[0])),
        k => {
            if !ctx.is_json() {
                for f in &failed {
                    eprintln!("error: {f}");
                }
            }
            Err(anyhow!("{k} of {n} receipts did not verify"))
        }
    }
}
