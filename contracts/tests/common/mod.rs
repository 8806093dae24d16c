//! A small in-memory chain for the contracts' integration tests: a genesis,
//! keys from fixed seeds, and blocks executed exactly as a node would
//! (verify each signature, execute, apply the writes, chain the state root).
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

pub mod certs;

use assent_contracts::crypto::Keypair;
use assent_contracts::state::{
    Enterprise, EnterpriseStatus, MemStore, Operator, Params, StateExt, StateTree, Validator,
};
use assent_contracts::tx::*;
use assent_contracts::*;

pub const CHAIN: &str = "assent-test-1";
pub const T0: u64 = 1_800_000_000_000;

pub fn key(seed: u8) -> Keypair {
    Keypair::from_seed([seed; 32])
}

/// Fixed actors of the test genesis.
pub struct Actors {
    pub mint: Keypair,
    pub operators: Vec<Keypair>,
    /// Retail enterprise, funded.
    pub acme: Keypair,
    /// Finance enterprise, funded.
    pub bank: Keypair,
    /// Retail enterprise with no points.
    pub broke: Keypair,
    pub alice: Keypair,
    pub bob: Keypair,
}

pub fn actors() -> Actors {
    Actors {
        mint: key(1),
        operators: (2..=5).map(key).collect(),
        acme: key(10),
        bank: key(11),
        broke: key(12),
        alice: key(20),
        bob: key(21),
    }
}

pub const FUNDS: u64 = 1_000_000;

pub fn initial_state(a: &Actors) -> InitialState {
    let ent = |name: &str, sector| Enterprise {
        name: name.into(),
        sector,
        jurisdiction: "EU".into(),
        policy_url: format!("https://{name}.example/privacy"),
        status: EnterpriseStatus::Active,
        admitted_at: Height(0),
    };
    InitialState {
        chain_id: CHAIN.into(),
        params: Params::default(),
        mint_authority: a.mint.account(),
        operators: a
            .operators
            .iter()
            .enumerate()
            .map(|(i, k)| Operator {
                account: k.account(),
                name: format!("op{i}"),
            })
            .collect(),
        validators: a
            .operators
            .iter()
            .enumerate()
            .map(|(i, k)| Validator {
                name: format!("val{i}"),
                consensus_key: k.account(),
                power: 1,
                p2p_address: format!("/ip4/127.0.0.1/tcp/{}", 26600 + i),
            })
            .collect(),
        enterprises: vec![
            (a.acme.account(), ent("acme", terms::Sector::Retail)),
            (a.bank.account(), ent("bank", terms::Sector::Finance)),
            (a.broke.account(), ent("broke", terms::Sector::Retail)),
        ],
        balances: vec![
            (a.acme.account(), Amount(FUNDS)),
            (a.bank.account(), Amount(FUNDS)),
        ],
        referral: None,
    }
}

pub struct TestChain {
    pub chain_id: String,
    pub store: MemStore,
    /// The header's state root after the last block.
    pub root: Hash32,
    pub tree: StateTree,
    pub height: Height,
    pub time: Timestamp,
    pending: BTreeMap<AccountId, u64>,
}

impl TestChain {
    pub fn new(a: &Actors) -> TestChain {
        TestChain::from_initial(initial_state(a))
    }

    /// The test genesis with the advocacy share's terms set.
    pub fn with_referrals(a: &Actors, terms: assent_contracts::state::ReferralTerms) -> TestChain {
        TestChain::from_initial(InitialState {
            referral: Some(terms),
            ..initial_state(a)
        })
    }

    pub fn from_initial(init: InitialState) -> TestChain {
        let (_, _, root) = init.build().unwrap();
        let (store, tree) = init.to_mem_store().unwrap();
        TestChain {
            chain_id: CHAIN.into(),
            store,
            root,
            tree,
            height: Height(0),
            time: Timestamp(T0),
            pending: BTreeMap::new(),
        }
    }

    /// Signs a tx with the sender's next nonce (counting txs signed for the next block).
    pub fn sign(&mut self, k: &Keypair, payload: Payload) -> SignedTx {
        let sender = k.account();
        let base = self.store.account(&sender).unwrap().nonce;
        let n = self.pending.entry(sender).or_insert(0);
        let nonce = base + *n;
        *n += 1;
        TxBody {
            sender,
            nonce,
            payload,
        }
        .sign(&self.chain_id, k)
    }

    /// Executes a block of txs (1 s after the previous one) and commits it.
    pub fn block(&mut self, txs: Vec<SignedTx>) -> BlockOutput {
        self.pending.clear();
        let verified: Vec<VerifiedTx> = txs
            .into_iter()
            .map(|t| {
                t.verify(&self.chain_id)
                    .expect("test txs are signed correctly")
            })
            .collect();
        self.height = self.height.next();
        self.time = self.time.plus_ms(1_000);
        let ctx = BlockContext {
            chain_id: self.chain_id.clone(),
            height: self.height,
            time: self.time,
            proposer: AccountId([0; 32]),
        };
        let out = execute_block(&self.store, &ctx, &self.tree, &verified).unwrap();
        self.store.apply(&out.writes);
        self.root = out.state_root;
        self.tree = out.tree.clone();
        out
    }

    /// Runs one tx in its own block and returns its outcome.
    pub fn run(&mut self, k: &Keypair, payload: Payload) -> TxOutcome {
        let tx = self.sign(k, payload);
        self.block(vec![tx]).results.remove(0).outcome
    }

    pub fn advance(&mut self, ms: u64) {
        self.time = self.time.plus_ms(ms);
    }

    pub fn balance(&self, id: &AccountId) -> u64 {
        self.store.account(id).unwrap().balance.0
    }

    /// Sum of all balances plus the operators' pool.
    pub fn total_points(&self) -> u64 {
        use assent_contracts::state::{keys, StateRead};
        let accounts: u64 = self
            .store
            .scan_prefix(b"acct/")
            .unwrap()
            .into_iter()
            .map(|(_, v)| {
                assent_contracts::codec::decode::<assent_contracts::state::Account>(&v)
                    .unwrap()
                    .balance
                    .0
            })
            .sum();
        let _ = keys::SUPPLY;
        accounts + self.store.operator_pool().unwrap().0
    }
}

pub fn events(o: &TxOutcome) -> &[Event] {
    match o {
        TxOutcome::Applied { events } => events,
        TxOutcome::Rejected(e) => panic!("expected the tx to apply, it was rejected: {e}"),
    }
}

pub fn rejection(o: &TxOutcome) -> &TxError {
    match o {
        TxOutcome::Rejected(e) => e,
        TxOutcome::Applied { events } => {
            panic!("expected a rejection, the tx applied with {events:?}")
        }
    }
}

pub fn cat(s: &str) -> terms::Category {
    s.parse().unwrap()
}
pub fn purp(s: &str) -> terms::Purpose {
    s.parse().unwrap()
}

pub fn register() -> Payload {
    Payload::RegisterConsumer(RegisterConsumer {
        tags: assent_contracts::tags::TagCommitments {
            epoch: 0,
            commitments: vec![TagCommitment(Hash32([0x1a; 32]))],
        },
    })
}

pub fn grant(enterprise: &Keypair, price: u64) -> GrantConsent {
    GrantConsent {
        enterprise: enterprise.account(),
        categories: vec![cat("Purchase")],
        purposes: vec![purp("DirectMarketing")],
        level: terms::Level::Pseudonymous,
        price_per_use: Amount(price),
        max_uses: None,
        expires_at: None,
        request: None,
    }
}

/// The consent id created by a GrantConsent outcome.
pub fn granted(o: &TxOutcome) -> ConsentId {
    match events(o).first() {
        Some(Event::ConsentGranted { consent, .. }) => *consent,
        other => panic!("expected ConsentGranted, got {other:?}"),
    }
}

pub fn a_use(consumer: &Keypair, basis: UseBasis, units: u32) -> Use {
    Use {
        consumer: consumer.account(),
        basis,
        category: cat("Purchase"),
        purpose: purp("DirectMarketing"),
        level: terms::Level::Pseudonymous,
        units,
        evidence_hash: Hash32([9; 32]),
    }
}

pub fn record(uses: Vec<Use>) -> Payload {
    Payload::RecordUse(RecordUse { uses })
}

/// Per-use outcomes of a RecordUse: Ok(paid) or Err(code).
pub fn use_outcomes(o: &TxOutcome) -> Vec<Result<u64, ErrorCode>> {
    events(o)
        .iter()
        .filter_map(|e| match e {
            Event::UseSettled { paid, .. } => Some(Ok(paid.0)),
            Event::UseRejected { code, .. } => Some(Err(*code)),
            _ => None,
        })
        .collect()
}
