//! Who controls an account: its key, rotated by the account itself or
//! recovered by its guardians (issue 16, item 3).
//!
//! An account id is the public key it was created with and never changes.
//! A key that was never rotated has no record and signs for itself. A
//! rotation or a recovery retires the signing key (`KeyRole::Retired`: it
//! signs for nothing any more) and makes the new key sign for the account
//! (`KeyRole::Signs`); `akey/` names the account's current key. Consents,
//! policies, balance and history stay under the account id.

use serde::{Deserialize, Serialize};

use super::access::read;
use super::keys;
use super::records::Account;
use super::store::{Overlay, StateRead, StoreError};
use super::StateExt;
use crate::ids::{AccountId, Height, Timestamp};

/// What a rotated key is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub enum KeyRole {
    /// It signs for `account` (it was rotated in at `since`).
    Signs { account: AccountId, since: Height },
    /// It signed for `account` until `at` and signs for nothing now.
    Retired { account: AccountId, at: Height },
}

/// An account's guardians: `threshold` of them can start moving the account
/// to a new key, which takes effect `delay_ms` of block time later unless
/// the account's key cancels it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Guardians {
    /// Distinct, in ascending order.
    pub guardians: Vec<AccountId>,
    pub threshold: u8,
    pub delay_ms: u64,
    pub set_at: Height,
}

/// A recovery under way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Recovery {
    pub new_key: AccountId,
    /// Guardians who support it, ascending.
    pub supporters: Vec<AccountId>,
    pub started_at: Timestamp,
    /// When the threshold was reached; the key moves `delay_ms` after it.
    pub armed_at: Option<Timestamp>,
}

/// Typed reads of account control, on any state.
pub trait ControlExt: StateRead {
    fn key_role(&self, key: &AccountId) -> Result<Option<KeyRole>, StoreError> {
        read(self, &keys::key_role(key))
    }
    /// The key that signs for `account` now.
    fn current_key(&self, account: &AccountId) -> Result<AccountId, StoreError> {
        Ok(read(self, &keys::account_key(account))?.unwrap_or(*account))
    }
    fn guardians(&self, account: &AccountId) -> Result<Option<Guardians>, StoreError> {
        read(self, &keys::guardians(account))
    }
    fn recovery(&self, account: &AccountId) -> Result<Option<Recovery>, StoreError> {
        read(self, &keys::recovery(account))
    }
    /// Whether `key` was never used: no role, no nonce or balance, no
    /// consumer or enterprise record. Only such a key may take over an
    /// account (else one key would sign for two accounts).
    fn is_fresh_key(&self, key: &AccountId) -> Result<bool, StoreError> {
        Ok(self.key_role(key)?.is_none()
            && self.get(&keys::account_key(key))?.is_none()
            && self.account(key)? == Account::default()
            && self.consumer(key)?.is_none()
            && self.enterprise(key)?.is_none())
    }
}

impl<S: StateRead + ?Sized> ControlExt for S {}

impl Overlay<'_> {
    /// Moves `account` from its current key `old` to `new` at `height`.
    pub fn move_key(
        &mut self,
        account: &AccountId,
        old: &AccountId,
        new: &AccountId,
        height: Height,
    ) {
        self.put(
            keys::key_role(old),
            &KeyRole::Retired {
                account: *account,
                at: height,
            },
        );
        self.put(
            keys::key_role(new),
            &KeyRole::Signs {
                account: *account,
                since: height,
            },
        );
        self.put(keys::account_key(account), new);
        self.delete(keys::recovery(account));
    }
    pub fn put_guardians(&mut self, account: &AccountId, g: &Guardians) {
        self.put(keys::guardians(account), g);
    }
    pub fn delete_guardians(&mut self, account: &AccountId) {
        self.delete(keys::guardians(account));
    }
    pub fn put_recovery(&mut self, account: &AccountId, r: &Recovery) {
        self.put(keys::recovery(account), r);
    }
    pub fn delete_recovery(&mut self, account: &AccountId) {
        self.delete(keys::recovery(account));
    }
}
