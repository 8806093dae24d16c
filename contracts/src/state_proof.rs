//! Proofs of current state: one ledger record (a consent, an account's
//! balance, a policy, an enterprise's standing, ...) or its absence, as of
//! one height, provable offline against the chain's genesis.
//!
//! A [`StateProof`] carries the record's stored bytes (or nothing, for
//! absence), its path in the state tree ([`crate::state::tree`]), the header
//! of that height and the header's commit certificate. [`StateProof::verify`]
//! checks the certificate against the genesis validators, derives the
//! record's key from its kind and id (so a proof cannot be about another
//! record than it says), recomputes the tree root from the path, and checks
//! that root, bound to the height, is the header's `state_root`. Unlike a
//! receipt, which shows that a change happened, this shows what the record
//! *was* at that height — that nothing changed it afterwards, up to then.

use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::codec;
use crate::commit::{CertError, CommitCertificate, CommitCheck};
use crate::ids::{AccountId, BlockHash, ConsentId, Hash32, Height, PolicyId, RequestId, Timestamp};
use crate::receipt::Trust;
use crate::state::tree::{self, ProofEnd, StateTree, TreeProof, TreeProofError};
use crate::state::{
    keys, Account, Consent, Consumer, Enterprise, Policy, Reputation, Request, StoreError,
    Validator,
};

/// The `version` of every state proof of this format.
pub const STATE_PROOF_VERSION: &str = "assent-state-proof/1";

/// Which record a proof is about. The key is derived from this, never sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum RecordRef {
    Consent(ConsentId),
    /// An account's nonce and balance.
    Account(AccountId),
    Consumer(AccountId),
    Policy(PolicyId),
    Enterprise(AccountId),
    Reputation(AccountId),
    Request(RequestId),
    /// The validator set (after the height).
    Validators,
}

impl RecordRef {
    /// The state key of the record.
    pub fn key(&self) -> Vec<u8> {
        match self {
            RecordRef::Consent(id) => keys::consent(id),
            RecordRef::Account(id) => keys::account(id),
            RecordRef::Consumer(id) => keys::consumer(id),
            RecordRef::Policy(id) => keys::policy(id),
            RecordRef::Enterprise(id) => keys::enterprise(id),
            RecordRef::Reputation(id) => keys::reputation(id),
            RecordRef::Request(id) => keys::request(id),
            RecordRef::Validators => keys::VALIDATORS.to_vec(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            RecordRef::Consent(_) => "consent",
            RecordRef::Account(_) => "account",
            RecordRef::Consumer(_) => "consumer",
            RecordRef::Policy(_) => "policy",
            RecordRef::Enterprise(_) => "enterprise",
            RecordRef::Reputation(_) => "reputation",
            RecordRef::Request(_) => "request",
            RecordRef::Validators => "validators",
        }
    }

    pub fn id(&self) -> String {
        match self {
            RecordRef::Consent(id) => id.to_string(),
            RecordRef::Policy(id) => id.to_string(),
            RecordRef::Request(id) => id.to_string(),
            RecordRef::Validators => String::new(),
            RecordRef::Account(id)
            | RecordRef::Consumer(id)
            | RecordRef::Enterprise(id)
            | RecordRef::Reputation(id) => id.to_string(),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<Record, codec::CodecError> {
        Ok(match self {
            RecordRef::Consent(_) => Record::Consent(codec::decode(bytes)?),
            RecordRef::Account(_) => Record::Account(codec::decode(bytes)?),
            RecordRef::Consumer(_) => Record::Consumer(codec::decode(bytes)?),
            RecordRef::Policy(_) => Record::Policy(codec::decode(bytes)?),
            RecordRef::Enterprise(_) => Record::Enterprise(codec::decode(bytes)?),
            RecordRef::Reputation(_) => Record::Reputation(codec::decode(bytes)?),
            RecordRef::Request(_) => Record::Request(codec::decode(bytes)?),
            RecordRef::Validators => Record::Validators(codec::decode(bytes)?),
        })
    }
}

/// A proven record, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
pub enum Record {
    Consent(Consent),
    Account(Account),
    Consumer(Consumer),
    Policy(Policy),
    Enterprise(Enterprise),
    Reputation(Reputation),
    Request(Request),
    Validators(Vec<Validator>),
}

/// A state proof, as JSON. Build with [`StateProof::build`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateProof {
    pub version: String,
    pub chain_id: String,
    /// Hex of the genesis hash of the chain that issued it.
    pub genesis_hash: String,
    pub record: RecordRef,
    pub height: Height,
    /// Hex of the record's canonical bytes; `null` when the proof shows
    /// that no such record exists.
    pub value: Option<String>,
    /// The record's path in the state tree.
    pub proof: TreeProof,
    /// Hex of the canonical header of `height`.
    pub header: String,
    /// Hex of the canonical commit certificate of that header.
    pub certificate: String,
}

/// Why a state proof was refused. Each names the check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateProofError {
    #[error("not an assent state proof: version is {0:?}, expected {STATE_PROOF_VERSION:?}")]
    Version(String),
    #[error(
        "the proof is from another chain: chain {proof_chain:?} (genesis {proof_genesis}), \
         but the genesis given is chain {chain:?} (genesis {genesis}); check it against that chain's genesis file"
    )]
    OtherChain {
        proof_chain: String,
        proof_genesis: String,
        chain: String,
        genesis: String,
    },
    #[error("field {field} is not valid hex: {why}")]
    Hex { field: &'static str, why: String },
    #[error("field {field} does not decode: {why}")]
    Decode { field: &'static str, why: String },
    #[error("the block header is for chain {0:?}, not this chain")]
    HeaderChain(String),
    #[error("the commit certificate does not commit this header: {0}")]
    Certificate(CertError),
    #[error("the proof is for height {proof}, but the header is of height {header}")]
    Height { proof: Height, header: Height },
    #[error("the state path is malformed: {0}")]
    Path(TreeProofError),
    #[error(
        "the record and its path do not lead to the header's state_root: \
         the record, the path or the header was changed, or the proof is for another height"
    )]
    StateRoot,
}

impl From<CertError> for StateProofError {
    fn from(e: CertError) -> Self {
        StateProofError::Certificate(e)
    }
}

/// Everything a valid state proof shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenState {
    pub chain_id: String,
    pub height: Height,
    pub time: Timestamp,
    pub block_hash: BlockHash,
    pub record: RecordRef,
    /// The record at that height; `None`: there was no such record.
    pub value: Option<Record>,
    pub commit: CommitCheck,
}

fn hex_field(field: &'static str, text: &str) -> Result<Vec<u8>, StateProofError> {
    hex::decode(text).map_err(|e| StateProofError::Hex {
        field,
        why: e.to_string(),
    })
}

fn decode_field<T: serde::de::DeserializeOwned + Serialize>(
    field: &'static str,
    text: &str,
) -> Result<T, StateProofError> {
    codec::decode(&hex_field(field, text)?).map_err(|e| StateProofError::Decode {
        field,
        why: e.to_string(),
    })
}

impl StateProof {
    /// The proof of `record` in `tree`, the state after `header`.
    pub fn build(
        genesis_hash: Hash32,
        record: RecordRef,
        value: Option<&[u8]>,
        tree: &StateTree,
        header: &BlockHeader,
        certificate: &CommitCertificate,
    ) -> Result<StateProof, StoreError> {
        Ok(StateProof {
            version: STATE_PROOF_VERSION.to_string(),
            chain_id: header.chain_id.clone(),
            genesis_hash: hex::encode(genesis_hash.0),
            record,
            height: header.height,
            value: value.map(hex::encode),
            proof: tree.prove(&record.key())?,
            header: hex::encode(codec::encode_infallible(header)),
            certificate: hex::encode(codec::encode_infallible(certificate)),
        })
    }

    /// Checks everything, in order: format, chain, header, certificate,
    /// height, path, state root, record.
    pub fn verify(&self, trust: &Trust<'_>) -> Result<ProvenState, StateProofError> {
        if self.version != STATE_PROOF_VERSION {
            return Err(StateProofError::Version(self.version.clone()));
        }
        let genesis = hex_field("genesis_hash", &self.genesis_hash)?;
        if self.chain_id != trust.chain_id || genesis != trust.genesis_hash.0 {
            return Err(StateProofError::OtherChain {
                proof_chain: self.chain_id.clone(),
                proof_genesis: self.genesis_hash.clone(),
                chain: trust.chain_id.to_string(),
                genesis: trust.genesis_hash.to_string(),
            });
        }
        let header: BlockHeader = decode_field("header", &self.header)?;
        if header.chain_id != trust.chain_id {
            return Err(StateProofError::HeaderChain(header.chain_id));
        }
        let cert: CommitCertificate = decode_field("certificate", &self.certificate)?;
        let commit =
            cert.verify_for(trust.chain_id, &header, trust.validators_for(header.height))?;
        if header.height != self.height {
            return Err(StateProofError::Height {
                proof: self.height,
                header: header.height,
            });
        }
        let value = self
            .value
            .as_deref()
            .map(|v| hex_field("value", v))
            .transpose()?;
        let root = self
            .proof
            .root(&self.record.key(), value.as_deref())
            .map_err(StateProofError::Path)?;
        if tree::state_root(header.height, &root) != header.state_root {
            return Err(StateProofError::StateRoot);
        }
        let value = value
            .map(|v| self.record.decode(&v))
            .transpose()
            .map_err(|e| StateProofError::Decode {
                field: "value",
                why: e.to_string(),
            })?;
        Ok(ProvenState {
            chain_id: header.chain_id.clone(),
            height: header.height,
            time: header.time,
            block_hash: header.hash(),
            record: self.record,
            value,
            commit,
        })
    }

    /// Whether the proof shows the record absent.
    pub fn is_absence(&self) -> bool {
        !matches!(self.proof.end, ProofEnd::Found)
    }
}

impl ProvenState {
    /// One sentence saying what the proof shows.
    pub fn describe(&self) -> String {
        let what = match self.record {
            RecordRef::Validators => "the validator set".to_string(),
            r => format!("{} {}", r.kind(), r.id()),
        };
        let body = match &self.value {
            None => format!("no {what} existed"),
            Some(Record::Consent(c)) => {
                let status = match c.state {
                    crate::state::ConsentState::Active => "ConsentGiven (live)".to_string(),
                    crate::state::ConsentState::Paused { height, .. } => {
                        format!("ConsentPaused (since height {height})")
                    }
                    crate::state::ConsentState::Revoked { height, .. } => {
                        format!("ConsentWithdrawn (revoked at height {height})")
                    }
                };
                format!(
                    "{what} from {} to {} was {status}, {} unit(s) used",
                    c.consumer, c.enterprise, c.used
                )
            }
            Some(Record::Account(a)) => {
                format!(
                    "{what} had a balance of {} points (nonce {})",
                    a.balance.0, a.nonce
                )
            }
            Some(Record::Consumer(c)) => format!(
                "{what} was registered (since height {}), {} use(s) settled, {} points earned",
                c.registered_at, c.uses_settled, c.earned.0
            ),
            Some(Record::Policy(p)) => format!(
                "{what} of {} stood (set at height {}), minimum price {} points",
                p.consumer, p.set_height, p.min_price.0
            ),
            Some(Record::Enterprise(e)) => {
                format!("{what} ({}) had status {:?}", e.name, e.status)
            }
            Some(Record::Reputation(r)) => format!(
                "{what}: {} use(s) settled, {} rejected, {} rating(s)",
                r.uses_settled, r.uses_rejected, r.ratings
            ),
            Some(Record::Validators(v)) => format!(
                "{what} was {}",
                v.iter()
                    .map(|v| format!("{} ({}, power {})", v.name, v.consensus_key, v.power))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(Record::Request(r)) => format!(
                "{what} of {} was open until block time {} ms, {} grant(s)",
                r.enterprise, r.expires_at.0, r.grants
            ),
        };
        format!(
            "at height {} (block {}), {body}; committed by {} of {} validators",
            self.height, self.block_hash, self.commit.signers, self.commit.validators
        )
    }
}
