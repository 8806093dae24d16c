//! Transaction envelope: body, signature, id, and the verified form execution takes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{
    CancelRecovery, ClaimRecovery, ClearPolicy, GrantConsent, LinkIdentity, Mint, NameReferrer,
    PauseConsent, PostRequest, Propose, Rate, RecordUse, RegisterConsumer, ResumeConsent,
    RevokeAll, RevokeConsent, RotateKey, SetContact, SetGuardians, SetPolicy, SetTags,
    SupportRecovery, Transfer, UnlinkIdentity, Vote,
};
use crate::codec::{self, CodecError};
use crate::crypto::{self, Keypair, Signature, SignatureError, TX_SIGNATURE_TAG};
use crate::ids::{AccountId, Hash32, TxId};
use crate::use_tree::{self, UsesCommitment, USES_TXID_TAG};

/// What a transaction does. Variant order is part of the encoding: append only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Payload {
    RegisterConsumer(RegisterConsumer),
    SetTags(SetTags),
    GrantConsent(GrantConsent),
    RevokeConsent(RevokeConsent),
    RevokeAll(RevokeAll),
    PauseConsent(PauseConsent),
    ResumeConsent(ResumeConsent),
    SetPolicy(SetPolicy),
    ClearPolicy(ClearPolicy),
    PostRequest(PostRequest),
    RecordUse(RecordUse),
    Rate(Rate),
    Transfer(Transfer),
    Mint(Mint),
    Propose(Propose),
    Vote(Vote),
    SetContact(SetContact),
    LinkIdentity(LinkIdentity),
    UnlinkIdentity(UnlinkIdentity),
    NameReferrer(NameReferrer),
    RotateKey(RotateKey),
    SetGuardians(SetGuardians),
    SupportRecovery(SupportRecovery),
    CancelRecovery(CancelRecovery),
    ClaimRecovery(ClaimRecovery),
}

impl Payload {
    /// The kind's name, as in DESIGN.md (`GrantConsent`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::RegisterConsumer(_) => "RegisterConsumer",
            Payload::SetTags(_) => "SetTags",
            Payload::GrantConsent(_) => "GrantConsent",
            Payload::RevokeConsent(_) => "RevokeConsent",
            Payload::RevokeAll(_) => "RevokeAll",
            Payload::PauseConsent(_) => "PauseConsent",
            Payload::ResumeConsent(_) => "ResumeConsent",
            Payload::SetPolicy(_) => "SetPolicy",
            Payload::ClearPolicy(_) => "ClearPolicy",
            Payload::PostRequest(_) => "PostRequest",
            Payload::RecordUse(_) => "RecordUse",
            Payload::Rate(_) => "Rate",
            Payload::Transfer(_) => "Transfer",
            Payload::Mint(_) => "Mint",
            Payload::Propose(_) => "Propose",
            Payload::Vote(_) => "Vote",
            Payload::SetContact(_) => "SetContact",
            Payload::LinkIdentity(_) => "LinkIdentity",
            Payload::UnlinkIdentity(_) => "UnlinkIdentity",
            Payload::NameReferrer(_) => "NameReferrer",
            Payload::RotateKey(_) => "RotateKey",
            Payload::SetGuardians(_) => "SetGuardians",
            Payload::SupportRecovery(_) => "SupportRecovery",
            Payload::CancelRecovery(_) => "CancelRecovery",
            Payload::ClaimRecovery(_) => "ClaimRecovery",
        }
    }
}

/// Tag of a tx id (but a RecordUse's: [`USES_TXID_TAG`]).
const TXID_TAG: &str = "assent/txid/v1";

/// What a tx's id and signature cover, and under which tags: its canonical
/// body — except a RecordUse's, which is its [`UsesCommitment`] (decision
/// 34), so one use can be proven without the others.
#[derive(Debug)]
struct Covered {
    signature_tag: &'static [u8],
    id_tag: &'static str,
    bytes: Vec<u8>,
    /// A RecordUse's uses' leaves, hashed once for its id and kept for its
    /// result's leaf.
    use_leaves: Option<Vec<Hash32>>,
}

impl Covered {
    fn id(&self) -> TxId {
        TxId(Hash32::tagged(self.id_tag, &[&self.bytes]))
    }
}

/// The signed part of a transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct TxBody {
    pub sender: AccountId,
    /// Must equal the sender's account nonce; each accepted tx raises it by one.
    pub nonce: u64,
    pub payload: Payload,
}

impl TxBody {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_infallible(self)
    }

    /// The tx id: tagged hash of the canonical body (a RecordUse: of its
    /// [`UsesCommitment`]).
    pub fn id(&self) -> TxId {
        self.covered().id()
    }

    /// A RecordUse's commitment to its uses; `None` for other kinds.
    pub fn uses_commitment(&self) -> Option<UsesCommitment> {
        match &self.payload {
            Payload::RecordUse(r) => Some(UsesCommitment::of(self.sender, self.nonce, &r.uses)),
            _ => None,
        }
    }

    fn covered(&self) -> Covered {
        match &self.payload {
            Payload::RecordUse(r) => {
                let leaves = use_tree::use_leaves(&r.uses);
                Covered {
                    signature_tag: crypto::USES_SIGNATURE_TAG,
                    id_tag: USES_TXID_TAG,
                    bytes: UsesCommitment::from_leaves(self.sender, self.nonce, &leaves).encode(),
                    use_leaves: Some(leaves),
                }
            }
            _ => Covered {
                signature_tag: TX_SIGNATURE_TAG,
                id_tag: TXID_TAG,
                bytes: self.encode(),
                use_leaves: None,
            },
        }
    }

    /// Signs the body for one chain.
    pub fn sign(self, chain_id: &str, key: &Keypair) -> SignedTx {
        let c = self.covered();
        let signature = key.sign(c.signature_tag, chain_id.as_bytes(), &c.bytes);
        SignedTx {
            body: self,
            signature,
        }
    }
}

/// A transaction as it travels: body plus the sender's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SignedTx {
    pub body: TxBody,
    pub signature: Signature,
}

/// Why a transaction's bytes or signature were refused before execution.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxDecodeError {
    #[error("transaction is {len} bytes; the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("transaction bytes do not decode: {0}")]
    Codec(#[from] CodecError),
    #[error("transaction signature refused: {0}")]
    Signature(#[from] SignatureError),
}

impl SignedTx {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_infallible(self)
    }

    /// Strict decode: canonical bytes only, at most `max_len` bytes.
    pub fn decode(bytes: &[u8], max_len: usize) -> Result<SignedTx, TxDecodeError> {
        if bytes.len() > max_len {
            return Err(TxDecodeError::TooLarge {
                len: bytes.len(),
                max: max_len,
            });
        }
        Ok(codec::decode_native(bytes)?)
    }

    pub fn id(&self) -> TxId {
        self.body.id()
    }

    /// The exact message the sender signed for `chain_id`.
    pub fn signing_message(&self, chain_id: &str) -> Vec<u8> {
        let c = self.body.covered();
        crypto::signing_message(c.signature_tag, chain_id.as_bytes(), &c.bytes)
    }

    /// Checks the signature for `chain_id` and returns the verified form.
    pub fn verify(self, chain_id: &str) -> Result<VerifiedTx, SignatureError> {
        let c = self.body.covered();
        crypto::verify(
            &self.body.sender,
            c.signature_tag,
            chain_id.as_bytes(),
            &c.bytes,
            &self.signature,
        )?;
        Ok(VerifiedTx::from_parts(self, c))
    }
}

/// A transaction whose signature was refused, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedTx {
    pub tx: Box<SignedTx>,
    pub error: SignatureError,
}

/// Verifies many transactions for one chain; one answer per tx, the same as
/// [`SignedTx::verify`] would give. See [`crypto::verify_batch`].
pub fn verify_batch<R: rand_core::RngCore + rand_core::CryptoRng>(
    chain_id: &str,
    txs: Vec<SignedTx>,
    rng: R,
) -> Vec<Result<VerifiedTx, RefusedTx>> {
    verify_covered_batch(
        chain_id,
        txs.into_iter().map(CoveredTx::new).collect(),
        rng,
        None,
    )
}

/// A decoded tx with what its id and signature cover worked out once: a
/// RecordUse's is the Merkle root of its uses (4,000 hashes for 2,000
/// uses), which admission needs for the id before the signature check and
/// then again for the check.
#[derive(Debug)]
pub struct CoveredTx {
    tx: SignedTx,
    covered: Covered,
    id: TxId,
}

impl CoveredTx {
    pub fn new(tx: SignedTx) -> CoveredTx {
        let covered = tx.body.covered();
        let id = covered.id();
        CoveredTx { tx, covered, id }
    }

    pub fn tx(&self) -> &SignedTx {
        &self.tx
    }

    pub fn id(&self) -> TxId {
        self.id
    }
}

/// [`verify_batch`] for txs whose coverage is already worked out, with a
/// cache of signers' decompressed keys (see [`crypto::SignerKeys`]); the
/// answers are the same.
pub fn verify_covered_batch<R: rand_core::RngCore + rand_core::CryptoRng>(
    chain_id: &str,
    txs: Vec<CoveredTx>,
    rng: R,
    keys: Option<&crypto::SignerKeys>,
) -> Vec<Result<VerifiedTx, RefusedTx>> {
    let msgs: Vec<Vec<u8>> = txs
        .iter()
        .map(|t| {
            crypto::signing_message(
                t.covered.signature_tag,
                chain_id.as_bytes(),
                &t.covered.bytes,
            )
        })
        .collect();
    let items: Vec<(AccountId, &[u8], Signature)> = txs
        .iter()
        .zip(&msgs)
        .map(|(t, m)| (t.tx.body.sender, m.as_slice(), t.tx.signature))
        .collect();
    let answers = crypto::verify_batch_with(&items, rng, keys);
    txs.into_iter()
        .zip(answers)
        .map(|(t, ok)| match ok {
            Ok(()) => Ok(VerifiedTx::from_parts(t.tx, t.covered)),
            Err(error) => Err(RefusedTx {
                tx: Box::new(t.tx),
                error,
            }),
        })
        .collect()
}

/// A transaction whose signature this node has checked, with its id and
/// canonical bytes computed once. Only execution of verified txs exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTx {
    tx: SignedTx,
    id: TxId,
    bytes: Vec<u8>,
    use_leaves: Option<Arc<[Hash32]>>,
}

impl VerifiedTx {
    fn from_parts(tx: SignedTx, covered: Covered) -> VerifiedTx {
        let id = covered.id();
        let bytes = tx.encode();
        VerifiedTx {
            tx,
            id,
            bytes,
            use_leaves: covered.use_leaves.map(Arc::from),
        }
    }

    /// A RecordUse's uses' leaves (`use_tree::use_leaves`), as computed
    /// for its id; `None` for any other kind.
    pub fn use_leaves(&self) -> Option<&[Hash32]> {
        self.use_leaves.as_deref()
    }

    /// Wraps a tx this node verified earlier (e.g. at mempool admission) and
    /// remembered by id. Calling it on a tx that was never verified breaks the
    /// ledger's promise; the node's verified-id cache is the only caller.
    pub fn previously_verified(tx: SignedTx) -> VerifiedTx {
        let c = tx.body.covered();
        VerifiedTx::from_parts(tx, c)
    }

    pub fn tx(&self) -> &SignedTx {
        &self.tx
    }
    pub fn id(&self) -> TxId {
        self.id
    }
    pub fn sender(&self) -> AccountId {
        self.tx.body.sender
    }
    /// Canonical bytes of the signed tx (what blocks carry and receipts prove).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn into_signed(self) -> SignedTx {
        self.tx
    }
    /// The tx and its canonical bytes, without copying either.
    pub fn into_parts(self) -> (SignedTx, Vec<u8>) {
        (self.tx, self.bytes)
    }
}
