//! The Malachite [`Context`](mc::Context) of assent and the types it names.
//!
//! Invariants:
//! - [`Address`] is the validator's 32-byte ed25519 consensus key; its
//!   `Display` is the bech32m text of the ledger's [`AccountId`], because the
//!   network layer compares `Address::to_string()` with the address string of
//!   the `NetworkIdentity`.
//! - [`BlockValue`] carries only the block hash: the block itself travels in
//!   the proposal parts and in sync `value_bytes`, so `Value::id()` is free.
//! - [`Vote`] equality ignores the extension (WAL replay compares re-derived
//!   votes with recorded ones), and the extension is never signed with the vote.
//! - A [`ValidatorSet`] is never empty, has unique non-weak keys, positive
//!   powers, a total power small enough for the engine's 2/3 arithmetic, and is
//!   sorted by power descending, then address ascending.

use std::fmt;

use assent_contracts::commit::{self, VoteKind};
use assent_contracts::ids::{self, AccountId, BlockHash, Hash32};
use borsh::{BorshDeserialize, BorshSerialize};
mod keys;
mod validators;

pub use keys::{Ed25519Scheme, KeyError, PrivateKey, PublicKey, Signature};
pub use validators::{Validator, ValidatorSet, ValidatorSetError};

use malachitebft_core_types::{
    self as mc, CommitCertificate, CommitSignature, LinearTimeouts, NilOrVal, Round,
    SignedExtension, VoteType,
};

/// The consensus context: carries the chain id, which every consensus
/// signature includes for domain separation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssentContext {
    pub chain_id: String,
}

impl AssentContext {
    pub fn new(chain_id: impl Into<String>) -> Self {
        AssentContext {
            chain_id: chain_id.into(),
        }
    }
}

/// A block height as the engine sees it (the ledger's height, 1 = first block).
#[derive(
    Copy,
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    BorshSerialize,
    BorshDeserialize,
)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl mc::Height for Height {
    const ZERO: Self = Height(0);
    const INITIAL: Self = Height(1);

    fn increment_by(&self, n: u64) -> Self {
        Height(self.0.saturating_add(n))
    }

    fn decrement_by(&self, n: u64) -> Option<Self> {
        self.0.checked_sub(n).map(Height)
    }

    fn as_u64(&self) -> u64 {
        self.0
    }
}

impl From<ids::Height> for Height {
    fn from(h: ids::Height) -> Self {
        Height(h.0)
    }
}

impl From<Height> for ids::Height {
    fn from(h: Height) -> Self {
        ids::Height(h.0)
    }
}

/// A validator's address: its 32-byte ed25519 consensus key.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Address(pub [u8; 32]);

impl Address {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn account(&self) -> AccountId {
        AccountId(self.0)
    }
}

/// Bech32m (`assent1…`), exactly as [`AccountId`] prints.
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&AccountId(self.0), f)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl mc::Address for Address {}

impl From<AccountId> for Address {
    fn from(a: AccountId) -> Self {
        Address(a.0)
    }
}

impl From<Address> for AccountId {
    fn from(a: Address) -> Self {
        AccountId(a.0)
    }
}

/// Id of a proposed value: the hash of the block header ([`BlockHash`]).
#[derive(
    Copy, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BlockId(pub [u8; 32]);

impl BlockId {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The ledger's block hash with these bytes.
    pub fn hash(&self) -> BlockHash {
        BlockHash(Hash32(self.0))
    }
}

/// Lowercase hex, as [`BlockHash`] prints.
impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block:{}", hex::encode(&self.0[..8]))
    }
}

impl From<BlockHash> for BlockId {
    fn from(h: BlockHash) -> Self {
        BlockId(h.0 .0)
    }
}

impl From<BlockId> for BlockHash {
    fn from(id: BlockId) -> Self {
        id.hash()
    }
}

/// The value consensus agrees on: a block, named by its hash.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize,
)]
pub struct BlockValue {
    pub id: BlockId,
}

impl BlockValue {
    pub fn new(id: impl Into<BlockId>) -> Self {
        BlockValue { id: id.into() }
    }
}

impl mc::Value for BlockValue {
    type Id = BlockId;

    fn id(&self) -> BlockId {
        self.id
    }
}

/// A proposal: the engine publishes it signed; it carries only the block id.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Proposal {
    pub height: Height,
    pub round: Round,
    pub value: BlockValue,
    pub pol_round: Round,
    pub proposer: Address,
}

impl mc::Proposal<AssentContext> for Proposal {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &BlockValue {
        &self.value
    }

    fn take_value(self) -> BlockValue {
        self.value
    }

    fn pol_round(&self) -> Round {
        self.pol_round
    }

    fn validator_address(&self) -> &Address {
        &self.proposer
    }
}

/// A prevote or precommit. `PartialEq` ignores `extension`.
#[derive(Clone, Debug, BorshSerialize, BorshDeserialize)]
pub struct Vote {
    pub vote_type: VoteType,
    pub height: Height,
    pub round: Round,
    pub value: NilOrVal<BlockId>,
    pub validator: Address,
    pub extension: Option<SignedExtension<AssentContext>>,
}

impl Vote {
    /// A vote without extension.
    pub fn new(t: VoteType, h: Height, r: Round, v: NilOrVal<BlockId>, a: Address) -> Self {
        Vote {
            vote_type: t,
            height: h,
            round: r,
            value: v,
            validator: a,
            extension: None,
        }
    }
}

impl PartialEq for Vote {
    fn eq(&self, o: &Self) -> bool {
        (
            self.vote_type,
            self.height,
            self.round,
            self.value,
            self.validator,
        ) == (o.vote_type, o.height, o.round, o.value, o.validator)
    }
}

impl Eq for Vote {}

impl mc::Vote<AssentContext> for Vote {
    fn height(&self) -> Height {
        self.height
    }

    fn round(&self) -> Round {
        self.round
    }

    fn value(&self) -> &NilOrVal<BlockId> {
        &self.value
    }

    fn take_value(self) -> NilOrVal<BlockId> {
        self.value
    }

    fn vote_type(&self) -> VoteType {
        self.vote_type
    }

    fn validator_address(&self) -> &Address {
        &self.validator
    }

    fn extension(&self) -> Option<&SignedExtension<AssentContext>> {
        self.extension.as_ref()
    }

    fn take_extension(&mut self) -> Option<SignedExtension<AssentContext>> {
        self.extension.take()
    }

    fn extend(mut self, extension: SignedExtension<AssentContext>) -> Self {
        self.extension = Some(extension);
        self
    }
}

/// The ledger's name for a vote type.
pub fn vote_kind(vote_type: VoteType) -> VoteKind {
    match vote_type {
        VoteType::Prevote => VoteKind::Prevote,
        VoteType::Precommit => VoteKind::Precommit,
    }
}

/// One part of a streamed proposal: `Init`, then the encoded block without
/// its roots in `data_parts` `Data` chunks, then `Fin` with the roots and
/// the proposer's block-stream signature. The roots come last so that a
/// proposer can send its txs before it has executed them (ARCHITECTURE
/// decision 50).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    Init {
        height: Height,
        round: Round,
        pol_round: Round,
        proposer: Address,
        /// How many `Data` parts follow.
        data_parts: u32,
    },
    Data(Vec<u8>),
    Fin {
        roots: Roots,
        signature: Signature,
    },
}

/// A block's two roots, as the `Fin` part of its proposal carries them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Roots {
    pub results_root: [u8; 32],
    pub state_root: [u8; 32],
}

impl mc::ProposalPart<AssentContext> for ProposalPart {
    fn is_first(&self) -> bool {
        matches!(self, ProposalPart::Init { .. })
    }

    fn is_last(&self) -> bool {
        matches!(self, ProposalPart::Fin { .. })
    }
}

impl mc::Context for AssentContext {
    type Address = Address;
    type Height = Height;
    type ProposalPart = ProposalPart;
    type Proposal = Proposal;
    type Validator = Validator;
    type ValidatorSet = ValidatorSet;
    type Timeouts = LinearTimeouts;
    type Value = BlockValue;
    type Vote = Vote;
    type Extension = Vec<u8>;
    type SigningScheme = Ed25519Scheme;

    fn select_proposer<'a>(&self, vs: &'a ValidatorSet, h: Height, r: Round) -> &'a Validator {
        vs.proposer(h, r)
    }

    fn new_proposal(&self, h: Height, r: Round, v: BlockValue, pol: Round, a: Address) -> Proposal {
        Proposal {
            height: h,
            round: r,
            value: v,
            pol_round: pol,
            proposer: a,
        }
    }

    fn new_prevote(&self, h: Height, r: Round, v: NilOrVal<BlockId>, a: Address) -> Vote {
        Vote::new(VoteType::Prevote, h, r, v, a)
    }

    fn new_precommit(&self, h: Height, r: Round, v: NilOrVal<BlockId>, a: Address) -> Vote {
        Vote::new(VoteType::Precommit, h, r, v, a)
    }
}

/// Round written for a nil round in a ledger certificate; see
/// [`to_ledger_certificate`].
pub const NIL_ROUND_IN_LEDGER: u32 = u32::MAX;

/// The ledger's offline-verifiable form of an engine commit certificate
/// (same signatures: the engine signs the ledger's vote bytes).
///
/// The engine decides only in a real round, so its certificates never carry
/// a nil round. If one did, it is written as [`NIL_ROUND_IN_LEDGER`]; its
/// signatures (made over a nil round) then fail `verify`, so the mapping can
/// only refuse, never accept, a certificate.
pub fn to_ledger_certificate(cert: &CommitCertificate<AssentContext>) -> commit::CommitCertificate {
    let signatures = (cert.commit_signatures.iter())
        .map(|s| commit::CommitSignature {
            validator: s.address.into(),
            signature: s.signature.into(),
        })
        .collect();
    commit::CommitCertificate {
        height: cert.height.into(),
        round: cert.round.as_u32().unwrap_or(NIL_ROUND_IN_LEDGER),
        block_hash: cert.value_id.into(),
        signatures,
    }
}

/// The engine form of a ledger commit certificate (for sync and restarts).
pub fn from_ledger_certificate(
    cert: &commit::CommitCertificate,
) -> CommitCertificate<AssentContext> {
    let signatures = (cert.signatures.iter())
        .map(|s| CommitSignature::new(s.validator.into(), s.signature.into()))
        .collect();
    CommitCertificate {
        height: cert.height.into(),
        round: Round::new(cert.round),
        value_id: cert.block_hash.into(),
        commit_signatures: signatures,
    }
}

#[cfg(test)]
mod tests;
