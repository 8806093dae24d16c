//! A test chain whose blocks carry headers and commit certificates signed
//! by a validator set, as a node stores them: what receipts and state
//! proofs are built from.

use assent_contracts::block::BlockHeader;
use assent_contracts::commit::{
    vote_message, CommitCertificate, CommitSignature, VoteKind, VOTE_TAG,
};
use assent_contracts::crypto::Keypair;
use assent_contracts::receipt::{Receipt, Subject, Trust};
use assent_contracts::state::Validator;
use assent_contracts::state_proof::{RecordRef, StateProof};
use assent_contracts::tx::*;
use assent_contracts::*;
use assent_contracts::{block, merkle, state};

use super::*;

/// One committed block, as a node stores it.
pub struct Stored {
    pub header: BlockHeader,
    pub cert: CommitCertificate,
    pub txs: Vec<SignedTx>,
    pub out: BlockOutput,
}

/// A test chain whose blocks get headers and commit certificates signed by
/// `signers` (the validators of `validators`).
pub struct CertChain {
    pub c: TestChain,
    pub signers: Vec<Keypair>,
    pub validators: Vec<Validator>,
    pub genesis_hash: Hash32,
    pub prev: BlockHash,
    pub blocks: Vec<Stored>,
}

pub fn validator_set(keys: &[Keypair]) -> Vec<Validator> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| Validator {
            name: format!("val{i}"),
            consensus_key: k.account(),
            power: 1,
            p2p_address: String::new(),
        })
        .collect()
}

/// The commit certificate of `header`, signed by each of `signers`.
pub fn certify(signers: &[Keypair], header: &BlockHeader) -> CommitCertificate {
    let hash = header.hash();
    let signatures = signers
        .iter()
        .map(|k| {
            let msg = vote_message(
                VoteKind::Precommit,
                header.height.0,
                Some(0),
                Some(hash),
                &k.account(),
            );
            CommitSignature {
                validator: k.account(),
                signature: k.sign(VOTE_TAG, header.chain_id.as_bytes(), &msg),
            }
        })
        .collect();
    CommitCertificate {
        height: header.height,
        round: 0,
        block_hash: hash,
        signatures,
    }
}

impl CertChain {
    /// `seeds` pick the validator keys; `label` makes the genesis hash differ.
    pub fn new(a: &Actors, seeds: std::ops::Range<u8>, label: &str) -> CertChain {
        let signers: Vec<Keypair> = seeds.map(key).collect();
        let genesis_hash = Hash32::tagged("test-genesis", &[label.as_bytes()]);
        CertChain {
            c: TestChain::new(a),
            validators: validator_set(&signers),
            signers,
            genesis_hash,
            prev: BlockHash(genesis_hash),
            blocks: Vec::new(),
        }
    }

    /// The state proof of `record` after the last block.
    pub fn state_proof(&self, record: RecordRef) -> StateProof {
        let b = self.blocks.last().expect("a committed block");
        let value = state::StateRead::get(&self.c.store, &record.key()).expect("reads");
        StateProof::build(
            self.genesis_hash,
            record,
            value.as_deref(),
            &b.out.tree,
            &b.header,
            &b.cert,
        )
        .expect("a tree without pages proves")
    }

    pub fn trust(&self) -> Trust<'_> {
        Trust {
            chain_id: CHAIN,
            genesis_hash: self.genesis_hash,
            validators: &self.validators,
            history: None,
        }
    }

    /// Commits a block; 3 of the 4 validators sign its certificate.
    pub fn commit(&mut self, txs: Vec<SignedTx>) -> usize {
        let out = self.c.block(txs.clone());
        self.seal(txs, out)
    }

    /// Commits a block of no txs whose writes are `writes` (what governance
    /// would write, set directly): the state moves, a header and a
    /// certificate by the current signers follow.
    pub fn commit_writes(&mut self, writes: state::Writes) -> usize {
        self.c.store.apply(&writes);
        self.c.height = self.c.height.next();
        self.c.time = self.c.time.plus_ms(1_000);
        let (tree, state_root) =
            block::next_state(&self.c.tree, self.c.height, &writes).expect("applies");
        self.c.tree = tree.clone();
        self.c.root = state_root;
        let results_root = merkle::root(&block::result_leaves([], &[], &[]));
        let out = BlockOutput {
            writes,
            tree,
            results: Vec::new(),
            end_events: Vec::new(),
            state_root,
            results_root,
            txs_root: merkle::root(&[]),
        };
        self.seal(Vec::new(), out)
    }

    fn seal(&mut self, txs: Vec<SignedTx>, out: BlockOutput) -> usize {
        let header = BlockHeader {
            chain_id: CHAIN.into(),
            height: self.c.height,
            time: self.c.time,
            prev_hash: self.prev,
            txs_root: out.txs_root,
            results_root: out.results_root,
            state_root: out.state_root,
            proposer: self.signers[0].account(),
        };
        let hash = header.hash();
        let cert = certify(&self.signers[..3], &header);
        self.prev = hash;
        self.blocks.push(Stored {
            header,
            cert,
            txs,
            out,
        });
        self.blocks.len() - 1
    }

    /// Signs and commits one tx with filler txs around it (so the Merkle
    /// paths are not trivial); returns (block, index of the tx).
    pub fn run(&mut self, k: &Keypair, payload: Payload, filler: &[&Keypair]) -> (usize, usize) {
        let mut txs: Vec<SignedTx> = filler
            .iter()
            .map(|f| {
                let to = key(99).account();
                self.c.sign(
                    f,
                    Payload::Transfer(Transfer {
                        to,
                        amount: Amount(1),
                    }),
                )
            })
            .collect();
        let index = txs.len() / 2;
        txs.insert(index, self.c.sign(k, payload));
        (self.commit(txs), index)
    }

    pub fn receipt(&self, at: (usize, usize), subject: Subject) -> Receipt {
        self.try_receipt(at, subject)
            .expect("a receipt of that subject")
    }

    /// The receipt of a tx or use, or `None` if there is no such subject.
    pub fn try_receipt(&self, at: (usize, usize), subject: Subject) -> Option<Receipt> {
        let b = &self.blocks[at.0];
        Receipt::build(
            self.genesis_hash,
            subject,
            &b.header,
            &b.cert,
            &b.txs,
            &b.out.results,
            &b.out.end_events,
            at.1,
        )
    }

    pub fn outcome(&self, at: (usize, usize)) -> &TxOutcome {
        &self.blocks[at.0].out.results[at.1].outcome
    }
}
