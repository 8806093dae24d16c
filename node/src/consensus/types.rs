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

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use assent_contracts::commit::{self, VoteKind};
use assent_contracts::crypto::{self, Keypair};
use assent_contracts::ids::{self, AccountId, BlockHash, Hash32};
use assent_contracts::state::Validator as LedgerValidator;
use borsh::{BorshDeserialize, BorshSerialize};
use malachitebft_core_types::{
    self as mc, CommitCertificate, CommitSignature, LinearTimeouts, NilOrVal, Round,
    SignedExtension, VoteType, VotingPower,
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

/// A 64-byte ed25519 signature (the bytes of the ledger's [`crypto::Signature`]).
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, BorshSerialize, BorshDeserialize)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sig:{}", hex::encode(&self.0[..8]))
    }
}

impl From<crypto::Signature> for Signature {
    fn from(s: crypto::Signature) -> Self {
        Signature(s.0)
    }
}

impl From<Signature> for crypto::Signature {
    fn from(s: Signature) -> Self {
        crypto::Signature(s.0)
    }
}

/// Why a public key or signature could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a public key is 32 bytes, got {0}")]
    Length(usize),
    #[error("{0} is not a valid ed25519 key or is a small-order (weak) key")]
    Weak(AccountId),
    #[error("a signature is 64 bytes, got {0}")]
    SignatureLength(usize),
}

/// An ed25519 verification key, verified under ZIP-215 (`ed25519-consensus`).
/// Never a small-order key.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(ed25519_consensus::VerificationKey);

impl PublicKey {
    /// The key of `account`; refuses invalid and small-order keys.
    pub fn from_account(account: &AccountId) -> Result<PublicKey, KeyError> {
        if crypto::is_weak_key(account) {
            return Err(KeyError::Weak(*account));
        }
        let vk = ed25519_consensus::VerificationKey::try_from(account.0);
        vk.map(PublicKey).map_err(|_| KeyError::Weak(*account))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Length(bytes.len()))?;
        PublicKey::from_account(&AccountId(arr))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn address(&self) -> Address {
        Address(*self.0.as_bytes())
    }

    /// ZIP-215 verification of `sig` over exactly `message`.
    pub fn verify(&self, message: &[u8], sig: &Signature) -> bool {
        let sig = ed25519_consensus::Signature::from(sig.0);
        self.0.verify(&sig, message).is_ok()
    }
}

/// The consensus private key (shared, never copied out of the keypair).
#[derive(Clone)]
pub struct PrivateKey(pub Arc<Keypair>);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({})", self.0.account())
    }
}

/// ed25519 with ZIP-215 verification, and borsh-encodable signatures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ed25519Scheme;

impl mc::SigningScheme for Ed25519Scheme {
    type DecodingError = KeyError;
    type Signature = Signature;
    type PublicKey = PublicKey;
    type PrivateKey = PrivateKey;

    fn decode_signature(bytes: &[u8]) -> Result<Signature, KeyError> {
        let arr = <[u8; 64]>::try_from(bytes);
        arr.map(Signature)
            .map_err(|_| KeyError::SignatureLength(bytes.len()))
    }

    fn encode_signature(signature: &Signature) -> Vec<u8> {
        signature.0.to_vec()
    }

    fn decode_public_key(bytes: &[u8]) -> Result<PublicKey, KeyError> {
        PublicKey::from_bytes(bytes)
    }

    fn encode_public_key(public_key: &PublicKey) -> Vec<u8> {
        public_key.as_bytes().to_vec()
    }
}

/// One validator as consensus sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validator {
    pub address: Address,
    pub public_key: PublicKey,
    pub voting_power: VotingPower,
}

impl mc::Validator<AssentContext> for Validator {
    fn address(&self) -> &Address {
        &self.address
    }

    fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    fn voting_power(&self) -> VotingPower {
        self.voting_power
    }
}

/// Why a validator set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    #[error("the validator set is empty; consensus needs at least one validator")]
    Empty,
    #[error("validator {0} appears more than once")]
    Duplicate(AccountId),
    #[error("validator {0} has an invalid or small-order consensus key")]
    WeakKey(AccountId),
    #[error("validator {0} has zero voting power")]
    ZeroPower(AccountId),
    #[error("the total voting power exceeds {max}; lower the powers")]
    TotalPowerTooLarge { max: u64 },
}

/// The validators of one height, in CometBFT order (power descending, then
/// address ascending). Never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total_power: VotingPower,
}

impl ValidatorSet {
    /// The largest total power: the engine computes `total * 3` in a `u64`.
    pub const MAX_TOTAL_POWER: u64 = u64::MAX / 3;

    /// Builds the set from the ledger's validators (any order).
    pub fn from_ledger(validators: &[LedgerValidator]) -> Result<ValidatorSet, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(validators.len());
        let mut total: u64 = 0;
        for v in validators {
            let key = v.consensus_key;
            if !seen.insert(key) {
                return Err(ValidatorSetError::Duplicate(key));
            }
            let public_key =
                PublicKey::from_account(&key).map_err(|_| ValidatorSetError::WeakKey(key))?;
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(key));
            }
            let max = Self::MAX_TOTAL_POWER;
            total = (total.checked_add(v.power).filter(|t| *t <= max))
                .ok_or(ValidatorSetError::TotalPowerTooLarge { max })?;
            out.push(Validator {
                address: Address::from(key),
                public_key,
                voting_power: v.power,
            });
        }
        out.sort_by(|a, b| {
            b.voting_power
                .cmp(&a.voting_power)
                .then(a.address.cmp(&b.address))
        });
        Ok(ValidatorSet {
            validators: out,
            total_power: total,
        })
    }

    /// The validators in set order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false (a set is never empty).
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    pub fn total_power(&self) -> VotingPower {
        self.total_power
    }

    pub fn get(&self, address: &Address) -> Option<&Validator> {
        self.validators.iter().find(|v| &v.address == address)
    }

    /// The proposer of `(height, round)`: plain round-robin over the set
    /// order, index = (height + round) mod n (a Nil round counts as 0). Every
    /// validator proposes equally often whatever its power; deterministic
    /// because the set order is.
    pub fn proposer(&self, height: Height, round: Round) -> &Validator {
        // The set is never empty (checked in `from_ledger`): the index is in range.
        let n = self.validators.len().max(1) as u128;
        let r = u128::from(round.as_u32().unwrap_or(0));
        &self.validators[((u128::from(height.0) + r) % n) as usize]
    }
}

impl mc::ValidatorSet<AssentContext> for ValidatorSet {
    fn count(&self) -> usize {
        self.validators.len()
    }

    fn total_voting_power(&self) -> VotingPower {
        self.total_power
    }

    fn get_by_address(&self, address: &Address) -> Option<&Validator> {
        self.get(address)
    }

    fn get_by_index(&self, index: usize) -> Option<&Validator> {
        self.validators.get(index)
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

/// One part of a streamed proposal: `Init`, then the encoded block in `Data`
/// chunks, then `Fin` with the proposer's block-stream signature.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum ProposalPart {
    Init {
        height: Height,
        round: Round,
        pol_round: Round,
        proposer: Address,
    },
    Data(Vec<u8>),
    Fin {
        signature: Signature,
    },
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
mod tests {
    use super::*;
    use mc::{Context as _, Height as _, Validator as _, ValidatorSet as _, Value as _};

    fn ledger(seed: u8, power: u64) -> LedgerValidator {
        let consensus_key = Keypair::from_seed([seed; 32]).account();
        LedgerValidator {
            name: format!("v{seed}"),
            consensus_key,
            power,
            p2p_address: String::new(),
        }
    }

    fn set(vals: &[(u8, u64)]) -> Result<ValidatorSet, ValidatorSetError> {
        let vals: Vec<_> = vals.iter().map(|&(s, p)| ledger(s, p)).collect();
        ValidatorSet::from_ledger(&vals)
    }

    #[test]
    fn ids_print_as_the_ledger_prints_them() {
        let account = Keypair::from_seed([7; 32]).account();
        let address = Address::from(account);
        assert_eq!(address.to_string(), account.to_string());
        assert!(address.to_string().starts_with("assent1"));
        assert_eq!(AccountId::from(address), account);
        let hash = BlockHash(Hash32([0xab; 32]));
        let value = BlockValue::new(hash);
        assert_eq!(value.id().to_string(), hash.to_string());
        assert_eq!(BlockHash::from(value.id()), hash);
    }

    #[test]
    fn validator_set_order_is_power_then_address() {
        let vs = set(&[(1, 5), (2, 10), (3, 5), (4, 1)]).unwrap();
        let powers: Vec<u64> = vs.validators().iter().map(|v| v.voting_power()).collect();
        assert_eq!(powers, vec![10, 5, 5, 1]);
        assert!(vs.validators()[1].address < vs.validators()[2].address);
        assert_eq!(vs.total_voting_power(), 21);
        for (i, v) in vs.validators().iter().enumerate() {
            assert_eq!(vs.get_by_address(&v.address), Some(v));
            assert_eq!(vs.get_by_index(i), Some(v));
        }
        assert_eq!(vs.get_by_address(&Address([0; 32])), None);
        assert_eq!(vs, set(&[(4, 1), (3, 5), (2, 10), (1, 5)]).unwrap());
    }

    #[test]
    fn validator_set_rejects_bad_sets() {
        use ValidatorSetError as E;
        assert_eq!(set(&[]), Err(E::Empty));
        assert!(matches!(
            set(&[(1, 1), (2, 1), (1, 3)]),
            Err(E::Duplicate(_))
        ));
        assert!(matches!(set(&[(1, 0)]), Err(E::ZeroPower(_))));
        let too_much = set(&[(1, u64::MAX / 3), (2, 1)]);
        assert!(matches!(too_much, Err(E::TotalPowerTooLarge { .. })));
        let mut weak = ledger(1, 1);
        weak.consensus_key = AccountId([0; 32]); // a small-order point
        assert!(matches!(
            ValidatorSet::from_ledger(&[weak]),
            Err(E::WeakKey(_))
        ));
    }

    #[test]
    fn proposer_rotates_round_robin() {
        let ctx = AssentContext::new("c");
        let vs = set(&[(1, 1), (2, 1), (3, 1)]).unwrap();
        let at = |h: u64, r: Round| ctx.select_proposer(&vs, Height(h), r).address;
        let nth = |i: usize| vs.validators()[i].address;
        assert_eq!(at(1, Round::new(0)), nth(1));
        assert_eq!(at(1, Round::new(1)), nth(2));
        assert_eq!(at(2, Round::new(0)), nth(2));
        assert_eq!(at(3, Round::new(0)), nth(0));
        assert_eq!(at(4, Round::Nil), at(4, Round::new(0)));
        assert_eq!(
            at(u64::MAX, Round::new(u32::MAX)),
            nth(((u64::MAX as u128 + u32::MAX as u128) % 3) as usize)
        );
    }

    #[test]
    fn vote_equality_ignores_the_extension() {
        let ctx = AssentContext::new("c");
        let (h, r, id, a) = (
            Height(3),
            Round::new(1),
            NilOrVal::Val(BlockId([1; 32])),
            Address([2; 32]),
        );
        let v = ctx.new_precommit(h, r, id, a);
        let ext = SignedExtension::<AssentContext>::new(vec![1, 2, 3], Signature([9; 64]));
        assert_eq!(v, mc::Vote::extend(v.clone(), ext));
        assert_ne!(v, ctx.new_prevote(h, r, id, a));
    }

    #[test]
    fn certificate_conversion_round_trips() {
        let sigs = vec![
            CommitSignature::new(Address([1; 32]), Signature([5; 64])),
            CommitSignature::new(Address([2; 32]), Signature([6; 64])),
        ];
        let (height, round, value_id) = (Height(9), Round::new(2), BlockId([4; 32]));
        let cert = CommitCertificate::<AssentContext> {
            height,
            round,
            value_id,
            commit_signatures: sigs,
        };
        let ledger = to_ledger_certificate(&cert);
        assert_eq!((ledger.height, ledger.round), (ids::Height(9), 2));
        assert_eq!(from_ledger_certificate(&ledger), cert);
        let nil = CommitCertificate {
            round: Round::Nil,
            ..cert
        };
        assert_eq!(to_ledger_certificate(&nil).round, NIL_ROUND_IN_LEDGER);
    }

    #[test]
    fn height_arithmetic_never_overflows() {
        assert_eq!(Height(u64::MAX).increment(), Height(u64::MAX));
        assert_eq!(Height(0).decrement(), None);
        assert_eq!(Height::INITIAL, Height(1));
    }
}
