//! Key rotations and social recoveries in random histories: the harness
//! signs every consumer's tx with its account's current key, and the model
//! predicts which key signs for which account, that a retired key's txs are
//! refused, and that a recovered account keeps its consents, policies,
//! balance and links (checked by the other invariants, which are all by
//! account id).

use std::collections::{BTreeMap, BTreeSet};

use assent_contracts::crypto::Keypair;
use assent_contracts::error::ErrorCode;
use assent_contracts::state::{ControlExt, MemStore};
use assent_contracts::tx::*;
use assent_contracts::{AccountId, Payload};
use proptest::prelude::*;

use super::model::{Expect, World};

/// The harness's side: the key each account signs with now.
pub struct Keys {
    current: BTreeMap<AccountId, Keypair>,
    next_seed: u8,
}

impl Keys {
    pub fn new() -> Keys {
        Keys {
            current: BTreeMap::new(),
            next_seed: 120,
        }
    }

    /// The key that signs for `k`'s account now.
    pub fn signer<'a>(&'a self, k: &'a Keypair) -> &'a Keypair {
        self.current.get(&k.account()).unwrap_or(k)
    }

    /// A key never used before.
    pub fn fresh(&mut self) -> Keypair {
        self.next_seed = self.next_seed.wrapping_add(1).max(120);
        Keypair::from_seed([self.next_seed; 32])
    }

    pub fn moved(&mut self, account: AccountId, to: Keypair) {
        self.current.insert(account, to);
    }
}

/// The txs of a Rotate or Recover op: (signer, payload), in order. The
/// account of consumer `c` moves to a fresh key either way.
pub fn txs(
    w: &World,
    keys: &mut Keys,
    c: usize,
    recover: Option<usize>,
) -> Vec<(Keypair, Payload)> {
    let me = &w.consumers[c];
    let account = me.account();
    let fresh = keys.fresh();
    let copy = |k: &Keypair| Keypair::from_seed(k.seed());
    let out = match recover {
        None => vec![(
            copy(keys.signer(me)),
            Payload::RotateKey(RotateKey {
                new_key: fresh.account(),
            }),
        )],
        Some(g) => {
            // The two other consumers, in an order `g` picks.
            let mut others: Vec<&Keypair> = w
                .consumers
                .iter()
                .filter(|k| k.account() != account)
                .collect();
            if g % 2 == 1 {
                others.reverse();
            }
            vec![
                (
                    copy(keys.signer(me)),
                    Payload::SetGuardians(SetGuardians {
                        guardians: others.iter().map(|k| k.account()).collect(),
                        threshold: 2,
                        delay_ms: 0,
                    }),
                ),
                (
                    copy(keys.signer(others[0])),
                    Payload::SupportRecovery(SupportRecovery {
                        account,
                        new_key: fresh.account(),
                    }),
                ),
                (
                    copy(keys.signer(others[1])),
                    Payload::SupportRecovery(SupportRecovery {
                        account,
                        new_key: fresh.account(),
                    }),
                ),
                (
                    copy(&fresh),
                    Payload::ClaimRecovery(ClaimRecovery { account }),
                ),
            ]
        }
    };
    keys.moved(account, fresh);
    out
}

/// The model's side.
#[derive(Default)]
pub struct MKeys {
    /// Rotated-in key → its account.
    signs_for: BTreeMap<AccountId, AccountId>,
    /// Account → its current key (absent: its own id).
    current: BTreeMap<AccountId, AccountId>,
    retired: BTreeSet<AccountId>,
}

impl MKeys {
    /// The account `signer` acts for, or the rejection of a retired key.
    pub fn account_of(&self, signer: AccountId) -> Result<AccountId, Expect> {
        if self.retired.contains(&signer) {
            return Err(Expect::Rejected(ErrorCode::KeyRotated));
        }
        Ok(self.signs_for.get(&signer).copied().unwrap_or(signer))
    }

    /// Predicts (and applies) a key-control tx by `sender` (the account)
    /// signed by `signer`. The harness only makes valid ones.
    pub fn judge(&mut self, sender: AccountId, signer: AccountId, p: &Payload) -> Expect {
        let moved = |account: AccountId, new: AccountId, s: &mut MKeys| {
            let old = s.current.get(&account).copied().unwrap_or(account);
            s.retired.insert(old);
            s.signs_for.insert(new, account);
            s.current.insert(account, new);
        };
        match p {
            Payload::RotateKey(r) => moved(sender, r.new_key, self),
            Payload::ClaimRecovery(c) => moved(c.account, signer, self),
            Payload::SetGuardians(_) | Payload::SupportRecovery(_) => {}
            other => panic!("not a key-control tx: {other:?}"),
        }
        Expect::Applied
    }

    /// The ledger agrees on every consumer account's current key and on
    /// every retired key.
    pub fn check(&self, w: &World, store: &MemStore) -> Result<(), TestCaseError> {
        for c in &w.consumers {
            let want = self
                .current
                .get(&c.account())
                .copied()
                .unwrap_or(c.account());
            prop_assert_eq!(store.current_key(&c.account()).unwrap(), want);
            prop_assert!(store.recovery(&c.account()).unwrap().is_none());
        }
        for k in &self.retired {
            let retired = matches!(
                store.key_role(k).unwrap(),
                Some(assent_contracts::state::KeyRole::Retired { .. })
            );
            prop_assert!(retired, "key {} is not retired", k);
        }
        Ok(())
    }
}
