//! Typed reads and writes of ledger records.

use super::keys;
use super::records::*;
use super::store::{Overlay, StateRead, StoreError};
use crate::codec;
use crate::identity::IdentityKind;
use crate::ids::{AccountId, Amount, ConsentId, PolicyId, ProposalId, RequestId};

pub(super) fn read<T: bincode::Decode<()>, S: StateRead + ?Sized>(
    s: &S,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    // Decoded where the store holds the bytes, not from a copy of them.
    let mut decoded = Ok(None);
    s.read_with(key, &mut |bytes| {
        // Our own records: written canonically by the codec, read back
        // without the re-encoding check that bytes from outside need.
        decoded = bytes.map(codec::decode_stored_native).transpose();
    })?;
    decoded.map_err(|e| StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        why: e.to_string(),
    })
}

/// Typed reads, on any state (a store or an overlay).
pub trait StateExt: StateRead {
    fn account(&self, id: &AccountId) -> Result<Account, StoreError> {
        Ok(read(self, &keys::account(id))?.unwrap_or_default())
    }
    fn consumer(&self, id: &AccountId) -> Result<Option<Consumer>, StoreError> {
        read(self, &keys::consumer(id))
    }
    fn enterprise(&self, id: &AccountId) -> Result<Option<Enterprise>, StoreError> {
        read(self, &keys::enterprise(id))
    }
    fn contact(&self, id: &AccountId) -> Result<Option<EnterpriseContact>, StoreError> {
        read(self, &keys::contact(id))
    }
    fn identity_link(
        &self,
        consumer: &AccountId,
        enterprise: &AccountId,
        kind: IdentityKind,
    ) -> Result<Option<IdentityLink>, StoreError> {
        read(self, &keys::identity_link(consumer, enterprise, kind))
    }
    /// Every identity link of a consumer, by enterprise key then kind.
    fn identity_links_of(
        &self,
        consumer: &AccountId,
    ) -> Result<Vec<(AccountId, IdentityKind, IdentityLink)>, StoreError> {
        let mut out = Vec::new();
        for (k, v) in self.scan_prefix(&keys::identity_links_prefix(consumer))? {
            let corrupt = |why: String| StoreError::Corrupt {
                key: String::from_utf8_lossy(&k).into_owned(),
                why,
            };
            let (enterprise, kind) = keys::parse_identity_link(&k)
                .ok_or_else(|| corrupt("not an identity link key".into()))?;
            let link = codec::decode_stored_native(&v).map_err(|e| corrupt(e.to_string()))?;
            out.push((enterprise, kind, link));
        }
        Ok(out)
    }
    fn referral(&self, consumer: &AccountId) -> Result<Option<Referral>, StoreError> {
        read(self, &keys::referral(consumer))
    }
    fn referrer_totals(&self, referrer: &AccountId) -> Result<ReferrerTotals, StoreError> {
        Ok(read(self, &keys::referrer_totals(referrer))?.unwrap_or_default())
    }
    fn referral_terms(&self) -> Result<Option<ReferralTerms>, StoreError> {
        read(self, keys::REFERRAL_TERMS)
    }
    fn reputation(&self, id: &AccountId) -> Result<Reputation, StoreError> {
        Ok(read(self, &keys::reputation(id))?.unwrap_or_default())
    }
    fn consent(&self, id: &ConsentId) -> Result<Option<Consent>, StoreError> {
        read(self, &keys::consent(id))
    }
    /// Ids of every consent a consumer ever granted, in id order.
    fn consents_of(&self, consumer: &AccountId) -> Result<Vec<ConsentId>, StoreError> {
        Ok(self
            .scan_prefix(&keys::consumer_consents_prefix(consumer))?
            .into_iter()
            .filter_map(|(k, _)| keys::trailing_id(&k))
            .map(|b| ConsentId(crate::ids::Hash32(b)))
            .collect())
    }
    fn policy(&self, id: &PolicyId) -> Result<Option<Policy>, StoreError> {
        read(self, &keys::policy(id))
    }
    fn policies_of(&self, consumer: &AccountId) -> Result<Vec<PolicyId>, StoreError> {
        Ok(self
            .scan_prefix(&keys::consumer_policies_prefix(consumer))?
            .into_iter()
            .filter_map(|(k, _)| keys::trailing_id(&k))
            .map(|b| PolicyId(crate::ids::Hash32(b)))
            .collect())
    }
    fn request(&self, id: &RequestId) -> Result<Option<Request>, StoreError> {
        read(self, &keys::request(id))
    }
    fn rating(&self, consent: &ConsentId) -> Result<Option<u8>, StoreError> {
        read(self, &keys::rating(consent))
    }
    fn proposal(&self, id: &ProposalId) -> Result<Option<Proposal>, StoreError> {
        read(self, &keys::proposal(id))
    }
    fn params(&self) -> Result<Params, StoreError> {
        read(self, keys::PARAMS)?.ok_or_else(|| missing(keys::PARAMS))
    }
    fn chain_id(&self) -> Result<String, StoreError> {
        read(self, keys::CHAIN_ID)?.ok_or_else(|| missing(keys::CHAIN_ID))
    }
    fn mint_authority(&self) -> Result<AccountId, StoreError> {
        read(self, keys::MINT_AUTHORITY)?.ok_or_else(|| missing(keys::MINT_AUTHORITY))
    }
    fn supply(&self) -> Result<Amount, StoreError> {
        Ok(read(self, keys::SUPPLY)?.unwrap_or_default())
    }
    fn operator_pool(&self) -> Result<Amount, StoreError> {
        Ok(read(self, keys::OPERATOR_POOL)?.unwrap_or_default())
    }
    fn operators(&self) -> Result<Vec<Operator>, StoreError> {
        Ok(read(self, keys::OPERATORS)?.unwrap_or_default())
    }
    fn validators(&self) -> Result<Vec<Validator>, StoreError> {
        Ok(read(self, keys::VALIDATORS)?.unwrap_or_default())
    }
    fn is_operator(&self, id: &AccountId) -> Result<bool, StoreError> {
        Ok(self.operators()?.iter().any(|o| &o.account == id))
    }
}

impl<S: StateRead + ?Sized> StateExt for S {}

fn missing(key: &[u8]) -> StoreError {
    StoreError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        why: "missing; the state was not initialised from a genesis".into(),
    }
}

/// Typed writes into an overlay.
impl Overlay<'_> {
    pub fn put<T: bincode::Encode>(&mut self, key: Vec<u8>, value: &T) {
        self.put_raw(key, codec::encode_infallible(value));
    }
    pub fn put_account(&mut self, id: &AccountId, a: &Account) {
        self.put(keys::account(id), a);
    }
    pub fn put_consumer(&mut self, id: &AccountId, c: &Consumer) {
        self.put(keys::consumer(id), c);
    }
    pub fn put_enterprise(&mut self, id: &AccountId, e: &Enterprise) {
        self.put(keys::enterprise(id), e);
    }
    pub fn put_contact(&mut self, id: &AccountId, c: &EnterpriseContact) {
        self.put(keys::contact(id), c);
    }
    pub fn put_identity_link(
        &mut self,
        consumer: &AccountId,
        enterprise: &AccountId,
        kind: IdentityKind,
        link: &IdentityLink,
    ) {
        self.put(keys::identity_link(consumer, enterprise, kind), link);
    }
    pub fn delete_identity_link(
        &mut self,
        consumer: &AccountId,
        enterprise: &AccountId,
        kind: IdentityKind,
    ) {
        self.delete(keys::identity_link(consumer, enterprise, kind));
    }
    pub fn put_referral(&mut self, consumer: &AccountId, r: &Referral) {
        self.put(keys::referral(consumer), r);
    }
    pub fn put_referrer_totals(&mut self, referrer: &AccountId, t: &ReferrerTotals) {
        self.put(keys::referrer_totals(referrer), t);
    }
    pub fn put_referral_terms(&mut self, t: &ReferralTerms) {
        self.put(keys::REFERRAL_TERMS.to_vec(), t);
    }
    pub fn put_reputation(&mut self, id: &AccountId, r: &Reputation) {
        self.put(keys::reputation(id), r);
    }
    /// A new consent: its record and its entry in the consumer's list.
    pub fn insert_consent(&mut self, c: &Consent) {
        self.put_consent(c);
        self.put_raw(keys::consumer_consent(&c.consumer, &c.id), Vec::new());
    }
    /// A changed consent (its list entry exists since its grant): one write,
    /// not two, for every use, pause, resume and revocation.
    pub fn put_consent(&mut self, c: &Consent) {
        self.put(keys::consent(&c.id), c);
    }
    pub fn put_policy(&mut self, p: &Policy) {
        self.put(keys::policy(&p.id), p);
        self.put_raw(keys::consumer_policy(&p.consumer, &p.id), Vec::new());
    }
    pub fn delete_policy(&mut self, p: &Policy) {
        self.delete(keys::policy(&p.id));
        self.delete(keys::consumer_policy(&p.consumer, &p.id));
    }
    pub fn put_request(&mut self, r: &Request) {
        self.put(keys::request(&r.id), r);
    }
    pub fn put_rating(&mut self, consent: &ConsentId, score: u8) {
        self.put(keys::rating(consent), &score);
    }
    pub fn put_proposal(&mut self, p: &Proposal) {
        self.put(keys::proposal(&p.id), p);
    }
    pub fn put_params(&mut self, p: &Params) {
        self.put(keys::PARAMS.to_vec(), p);
    }
    pub fn put_supply(&mut self, a: Amount) {
        self.put(keys::SUPPLY.to_vec(), &a);
    }
    pub fn put_operator_pool(&mut self, a: Amount) {
        self.put(keys::OPERATOR_POOL.to_vec(), &a);
    }
    pub fn put_operators(&mut self, ops: &[Operator]) {
        self.put(keys::OPERATORS.to_vec(), &ops);
    }
    pub fn put_validators(&mut self, vals: &[Validator]) {
        self.put(keys::VALIDATORS.to_vec(), &vals);
    }
}
