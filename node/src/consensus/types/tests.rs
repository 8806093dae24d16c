//! Tests of the consensus types.

use super::*;
use assent_contracts::crypto::Keypair;
use assent_contracts::state::Validator as LedgerValidator;
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
