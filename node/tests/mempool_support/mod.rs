//! Shared fixture of the mempool tests: a genesis store with funded keys,
//! transfers, a pool, and admission and reaping helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_contracts::crypto::Keypair;
use assent_contracts::state::{Account, MemStore, Operator, Overlay, Params, Validator};
use assent_contracts::tx::Transfer;
use assent_contracts::{
    AccountId, Amount, BlockContext, Height, InitialState, Payload, SignedTx, Timestamp, TxBody,
    TxId,
};
use std::sync::Mutex;

use assent_node::mempool::{self, AdmissionError, Mempool, MempoolLimits, Origin, ReapLimits};
use rand::rngs::OsRng;

pub const CHAIN: &str = "assent-mempool-test";

pub fn key(seed: u8) -> Keypair {
    Keypair::from_seed([seed; 32])
}

pub fn genesis_store() -> MemStore {
    let op = key(1);
    InitialState {
        chain_id: CHAIN.into(),
        params: Params::default(),
        mint_authority: key(2).account(),
        operators: vec![Operator {
            account: op.account(),
            name: "op0".into(),
        }],
        validators: vec![Validator {
            name: "val0".into(),
            consensus_key: op.account(),
            power: 1,
            p2p_address: "/ip4/127.0.0.1/tcp/26600".into(),
        }],
        enterprises: vec![],
        // Keys 10..=254 are funded, so their first transfers would apply (a
        // key's first tx is run against the state at admission); key 9 only
        // receives; key 255 is fresh and empty.
        balances: (10..=254u8)
            .map(|s| (key(s).account(), Amount(1_000_000)))
            .collect(),
        referral: None,
    }
    .to_mem_store()
    .unwrap()
    .0
}

/// Sets an account's state nonce, as committed blocks would.
pub fn set_nonce(store: &mut MemStore, who: &Keypair, nonce: u64) {
    let writes = {
        let mut o = Overlay::new(&*store);
        o.put_account(
            &who.account(),
            &Account {
                nonce,
                balance: Amount(0),
            },
        );
        o.into_writes()
    };
    store.apply(&writes);
}

pub fn transfer(from: &Keypair, nonce: u64, amount: u64) -> SignedTx {
    TxBody {
        sender: from.account(),
        nonce,
        payload: Payload::Transfer(Transfer {
            to: key(9).account(),
            amount: Amount(amount),
        }),
    }
    .sign(CHAIN, from)
}

/// The block a tx admitted now would go into (a new key's first tx is run
/// as if in it).
pub fn next() -> BlockContext {
    BlockContext {
        chain_id: CHAIN.into(),
        height: Height(1),
        time: Timestamp(1_000),
        proposer: key(1).account(),
    }
}

pub fn pool() -> Mempool {
    Mempool::new(MempoolLimits::default())
}

/// Admission exactly as the node runs it (`mempool::admit`), into a pool
/// the test owns.
pub fn submit(
    mp: &mut Mempool,
    origin: Origin,
    raw: Vec<Vec<u8>>,
    store: &MemStore,
) -> Vec<Result<TxId, AdmissionError>> {
    mempool::admit(&Mutex::new(mp), origin, &next(), raw, store, OsRng)
}

pub fn admit_one(
    mp: &mut Mempool,
    store: &MemStore,
    tx: &SignedTx,
) -> Result<TxId, AdmissionError> {
    submit(mp, Origin::Client, vec![tx.encode()], store)
        .pop()
        .unwrap()
}

pub fn admit_all(mp: &mut Mempool, store: &MemStore, txs: &[SignedTx]) {
    let raw = txs.iter().map(SignedTx::encode).collect();
    for r in submit(mp, Origin::Client, raw, store) {
        r.unwrap();
    }
}

/// (sender, nonce) of each reaped tx.
pub fn reaped(
    mp: &Mempool,
    store: &MemStore,
    max_txs: usize,
    max_bytes: usize,
) -> Vec<(AccountId, u64)> {
    mp.reap(store, ReapLimits::of(max_txs, max_bytes))
        .iter()
        .map(|t| (t.sender(), t.tx().body.nonce))
        .collect()
}
