#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use assent_contracts::crypto::Keypair;
use assent_contracts::tx::Transfer;
use assent_contracts::{AccountId, Amount, BlockHash, Hash32, Payload, Timestamp, TxBody};

use super::*;
use crate::ledger::chain::{same_roots, set_roots, InvalidBlock};

fn transfer(seed: u8, nonce: u64, amount: u64) -> SignedTx {
    let from = Keypair::from_seed([seed; 32]);
    TxBody {
        sender: from.account(),
        nonce,
        payload: Payload::Transfer(Transfer {
            to: Keypair::from_seed([99; 32]).account(),
            amount: Amount(amount),
        }),
    }
    .sign("test", &from)
}

fn block(n: u8) -> Block {
    Block {
        header: BlockHeader {
            chain_id: "test".into(),
            height: Height(4),
            time: Timestamp(1_000),
            prev_hash: BlockHash(Hash32([1; 32])),
            txs_root: Hash32([2; 32]),
            results_root: Hash32([3; 32]),
            state_root: Hash32([4; 32]),
            proposer: AccountId([5; 32]),
        },
        txs: (0..n)
            .map(|i| transfer(i + 1, 0, 10 + u64::from(i)))
            .collect(),
    }
}

fn ids(b: &Block) -> Vec<TxId> {
    b.txs.iter().map(SignedTx::id).collect()
}

/// `b` as a proposal could name it: the txs for which `held(i)` is true by
/// id and signature, the others whole.
fn compact_of(b: &Block, ids: &[TxId], held: impl Fn(usize) -> bool) -> CompactBlock {
    let mut compact = CompactBlock::whole(b.clone());
    for (i, slot) in compact.slots.iter_mut().enumerate() {
        if held(i) {
            *slot = Slot::Held {
                id: ids[i],
                signature: b.txs[i].signature,
            };
        }
    }
    compact
}

/// A mempool holding `txs`, looked up by id.
fn pool(txs: &[SignedTx]) -> BTreeMap<TxId, VerifiedTx> {
    txs.iter()
        .map(|t| (t.id(), VerifiedTx::previously_verified(t.clone())))
        .collect()
}

fn kinds(txs: &[Filled]) -> String {
    txs.iter()
        .map(|t| match t {
            Filled::Sent(_) => 's',
            Filled::Pool(_) => 'p',
            Filled::Fetched(_) => 'f',
            Filled::Missing { .. } => '?',
        })
        .collect()
}

#[test]
fn a_compact_block_filled_from_the_pool_is_the_proposed_block_byte_for_byte() {
    let b = block(5);
    let compact = compact_of(&b, &ids(&b), |i| i % 2 == 0);
    let bytes = compact.encode();
    assert!(bytes.len() < b.encode().len(), "held txs are sent as ids");
    let got = CompactBlock::decode(&bytes).unwrap();
    assert_eq!(got, compact);
    assert_eq!(
        got.header.hash(),
        b.header.hash(),
        "the signed hash is the block's"
    );

    let held = pool(&b.txs);
    let (header, txs, missing) = got.resolve(|id| held.get(id).cloned());
    assert_eq!(kinds(&txs), "pspsp");
    assert!(missing.is_empty());
    let (assembled, assembled_bytes) = assemble(header, txs).unwrap();
    assert_eq!(assembled, b);
    assert_eq!(assembled_bytes, b.encode());
}

#[test]
fn txs_the_pool_lacks_or_holds_with_another_signature_are_missing() {
    let b = block(4);
    let compact = compact_of(&b, &ids(&b), |_| true);
    // The pool holds tx 0, not tx 1, and tx 2's body with another signature.
    let mut other_sig = b.txs[2].clone();
    other_sig.signature.0[0] ^= 1;
    let mut held = pool(&[b.txs[0].clone(), b.txs[3].clone()]);
    held.insert(b.txs[2].id(), VerifiedTx::previously_verified(other_sig));
    let (header, txs, missing) = compact.resolve(|id| held.get(id).cloned());
    assert_eq!(kinds(&txs), "p??p");
    assert_eq!(missing, vec![1, 2]);
    assert!(
        assemble(header, txs).is_none(),
        "a block with holes is not assembled"
    );
}

#[test]
fn fetched_txs_fill_only_the_slots_they_are_named_by() {
    let b = block(4);
    let compact = compact_of(&b, &ids(&b), |_| true);
    let (header, mut txs, missing) = compact.resolve(|_| None);
    assert_eq!(missing, vec![0, 1, 2, 3]);
    let right: Vec<Vec<u8>> = b.txs.iter().map(SignedTx::encode).collect();
    let before = txs.clone();

    // Too few, garbage, another tx, the right tx with another signature.
    let e = fill(&mut txs, &missing, &right[..3], 1 << 20).unwrap_err();
    assert_eq!(e, FillError::Count { got: 3, want: 4 });
    let mut garbage = right.clone();
    garbage[1] = vec![0xff; 7];
    assert!(matches!(
        fill(&mut txs, &missing, &garbage, 1 << 20),
        Err(FillError::Undecodable { index: 1, .. })
    ));
    let mut swapped = right.clone();
    swapped.swap(2, 3);
    assert_eq!(
        fill(&mut txs, &missing, &swapped, 1 << 20),
        Err(FillError::NotNamed { index: 2 })
    );
    let mut resigned = right.clone();
    let mut t = b.txs[3].clone();
    t.signature = transfer(9, 0, 1).signature;
    resigned[3] = t.encode();
    assert_eq!(
        fill(&mut txs, &missing, &resigned, 1 << 20),
        Err(FillError::NotNamed { index: 3 })
    );
    // Another body under the slot's signature: a peer (not the proposer)
    // could otherwise get a good block judged invalid for a bad signature.
    let mut rebodied = right.clone();
    let mut t = b.txs[1].clone();
    if let Payload::Transfer(tr) = &mut t.body.payload {
        tr.amount = Amount(tr.amount.0 + 1);
    }
    rebodied[1] = t.encode();
    assert_eq!(
        fill(&mut txs, &missing, &rebodied, 1 << 20),
        Err(FillError::NotNamed { index: 1 })
    );
    // A tx over the size bound is refused undecoded.
    assert!(matches!(
        fill(&mut txs, &missing, &right, 8),
        Err(FillError::Undecodable { index: 0, .. })
    ));
    assert_eq!(txs, before, "a refused answer fills nothing");

    fill(&mut txs, &missing, &right, 1 << 20).unwrap();
    assert_eq!(kinds(&txs), "ffff");
    assert_eq!(assemble(header, txs).unwrap().1, b.encode());
}

#[test]
fn a_whole_block_sends_every_tx_and_garbage_proposals_are_refused() {
    let b = block(3);
    let whole = CompactBlock::whole(b.clone());
    let (header, txs, missing) = whole.clone().resolve(|_| None);
    assert_eq!((kinds(&txs).as_str(), missing.len()), ("sss", 0));
    assert_eq!(assemble(header, txs).unwrap().0, b);

    let bytes = whole.encode();
    assert!(
        CompactBlock::decode(&bytes[..bytes.len() - 1]).is_err(),
        "truncated"
    );
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(CompactBlock::decode(&trailing).is_err(), "trailing bytes");
    assert!(CompactBlock::decode(&[0xff; 64]).is_err(), "garbage");
    assert!(CompactBlock::decode(&[]).is_err(), "empty");
    // A plain block's bytes are not a compact block's.
    assert!(CompactBlock::decode(&b.encode()).is_err());
}

#[test]
fn a_peer_asking_past_the_end_of_a_block_gets_nothing() {
    let b = block(3);
    assert_eq!(
        txs_at(&b.txs, &[2, 0]),
        Some(vec![b.txs[2].encode(), b.txs[0].encode()])
    );
    assert_eq!(txs_at(&b.txs, &[0, 3]), None);
}

/// A chain of the fuzzing genesis and a block of two registrations on it.
fn chain_with_block() -> (Chain, crate::ledger::chain::Executed, Vec<SignedTx>) {
    use assent_contracts::tx::RegisterConsumer;
    let genesis = assent_genesis::Genesis::from_toml_str(&crate::fuzzing::genesis_toml()).unwrap();
    let chain = Chain::open(crate::storage::Store::memory(&genesis).unwrap(), &genesis).unwrap();
    let txs: Vec<SignedTx> = (0..2u8)
        .map(|i| {
            let k = Keypair::from_seed([0x60 + i; 32]);
            TxBody {
                sender: k.account(),
                nonce: 0,
                payload: Payload::RegisterConsumer(RegisterConsumer {
                    tags: Default::default(),
                }),
            }
            .sign(crate::fuzzing::CHAIN, &k)
        })
        .collect();
    let verified = txs
        .iter()
        .map(|t| t.clone().verify(crate::fuzzing::CHAIN).unwrap())
        .collect();
    let proposer = crate::fuzzing::validator_key(0).account();
    let executed = chain
        .build_block(verified, proposer, Timestamp(1_800_000_000_000))
        .unwrap();
    (chain, executed, txs)
}

/// A fetch of the txs at `indices` of block `hash` at height 1.
fn ask(hash: BlockHash, indices: Vec<u32>) -> FetchRequest {
    FetchRequest {
        height: 1,
        hash,
        indices,
    }
}

/// `txs` with their signatures checked, as a proposer's pool holds them.
fn verified(txs: &[SignedTx]) -> Vec<VerifiedTx> {
    txs.iter()
        .map(|t| t.clone().verify(crate::fuzzing::CHAIN).unwrap())
        .collect()
}

#[test]
fn a_peer_is_answered_from_the_block_in_memory_or_on_disk_and_nothing_else() {
    // Executed and remembered (a proposal this node built or judged).
    let (chain, executed, txs) = chain_with_block();
    let hash = executed.hash;
    assert_eq!(executed.block.txs, txs, "both txs made the block");
    chain.remember(executed).unwrap();
    assert_eq!(
        answer(&chain, &ask(hash, vec![1, 0])),
        FetchResponse::Txs(vec![txs[1].encode(), txs[0].encode()])
    );
    assert_eq!(answer(&chain, &ask(hash, vec![2])), FetchResponse::Unknown);
    let other = BlockHash(Hash32([7; 32]));
    assert_eq!(answer(&chain, &ask(other, vec![0])), FetchResponse::Unknown);

    // Kept undecided on disk only (after a restart, say).
    let (chain, executed, txs) = chain_with_block();
    let hash = executed.hash;
    assert_eq!(answer(&chain, &ask(hash, vec![0])), FetchResponse::Unknown);
    chain
        .store()
        .save_undecided(Height(1), &hash, &executed.bytes, None)
        .unwrap();
    assert_eq!(
        answer(&chain, &ask(hash, vec![0])),
        FetchResponse::Txs(vec![txs[0].encode()])
    );
    // The same bytes asked under another height are not found.
    let wrong_height = FetchRequest {
        height: 2,
        hash,
        indices: vec![0],
    };
    assert_eq!(answer(&chain, &wrong_height), FetchResponse::Unknown);
}

#[test]
fn a_block_sent_before_its_roots_executes_to_the_roots_its_proposer_signs() {
    let (proposing, built, txs) = chain_with_block();
    let (validating, _, _) = chain_with_block();
    let verified = verified(&txs);
    let proposer = crate::fuzzing::validator_key(0).account();
    let prepared = proposing
        .prepare_block(verified.clone(), proposer, Timestamp(1_800_000_000_000))
        .unwrap();
    // What the proposer streams before it executes: ids only, no roots.
    let compact = CompactBlock::named(prepared.header.clone(), &prepared.txs);
    assert!(compact.roots_are_zero());
    assert!(compact.slots.iter().all(|s| matches!(s, Slot::Held { .. })));
    let executed = proposing.execute_prepared(prepared).unwrap();
    assert_eq!(
        (executed.hash, &executed.bytes),
        (built.hash, &built.bytes),
        "preparing then executing builds the same block"
    );
    // The validator fills it from its pool and executes it meanwhile.
    let pool = |id: &TxId| verified.iter().find(|v| v.id() == *id).cloned();
    let (header, filled, missing) = CompactBlock::decode(&compact.encode())
        .unwrap()
        .resolve(pool);
    assert!(missing.is_empty());
    let (mut block, mut bytes) = assemble(header, filled).unwrap();
    let output = validating
        .execute_proposal(&block, bytes.len(), None, &|_| None, None)
        .unwrap()
        .unwrap();
    // The roots that arrive in the Fin part: the proposer's.
    let h = &executed.block.header;
    let signed = (h.results_root, h.state_root);
    assert_eq!(same_roots(signed, &output), Ok(()));
    let mut wrong = signed;
    wrong.1 .0[0] ^= 1;
    assert_eq!(
        same_roots(wrong, &output),
        Err(InvalidBlock::Mismatch {
            field: "state_root"
        })
    );
    set_roots(&mut block, &mut bytes, signed.0, signed.1);
    assert_eq!(block.header.hash(), executed.hash);
    assert_eq!(
        bytes, executed.bytes,
        "the roots are written into the bytes in place"
    );
    // Bytes that are not the block's own are replaced by its encoding.
    let mut other = vec![0u8; 10];
    set_roots(&mut block, &mut other, signed.0, signed.1);
    assert_eq!(other, executed.bytes);
}

#[test]
fn proposal_bytes_with_roots_or_garbage_are_refused_with_their_reason() {
    let b = block(2);
    // `block` has roots: a proposal may not send them outside its Fin part.
    let with_roots = CompactBlock::whole(b.clone());
    assert!(matches!(
        CompactBlock::decode_proposal(&with_roots.encode()),
        Err(ProposalBytesError::RootsOutsideFin)
    ));
    let (without, roots) = with_roots.without_roots();
    assert_eq!(roots.results_root, b.header.results_root.0);
    assert_eq!(roots.state_root, b.header.state_root.0);
    let got = CompactBlock::decode_proposal(&without.encode()).unwrap();
    assert_eq!(got, without);
    let mut back = got;
    back.set_roots(&roots);
    assert_eq!(back.header.hash(), b.header.hash());
    for garbage in [&b""[..], &b"\x00\x01"[..], &[0xff; 64][..]] {
        let err = CompactBlock::decode_proposal(garbage).unwrap_err();
        assert!(matches!(err, ProposalBytesError::Undecodable(_)), "{err}");
        assert!(err.to_string().starts_with("proposal parts do not decode"));
    }
}

#[test]
fn a_proposer_answers_for_the_block_it_offers_by_its_hash_without_roots() {
    let (chain, _, txs) = chain_with_block();
    let verified = verified(&txs);
    let proposer = crate::fuzzing::validator_key(0).account();
    let now = Timestamp(1_800_000_000_000);
    let prepared = chain
        .prepare_block(verified.clone(), proposer, now)
        .unwrap();
    // What a validator asks under: the hash of the header it was sent.
    let unrooted = CompactBlock::named(prepared.header.clone(), &prepared.txs)
        .header
        .hash();
    assert_eq!(unrooted, prepared.header.hash(), "the roots are still zero");
    assert_eq!(
        answer(&chain, &ask(unrooted, vec![0])),
        FetchResponse::Unknown,
        "nothing is offered before the proposer offers it"
    );
    chain.offer(&prepared).unwrap();
    let both = FetchResponse::Txs(vec![txs[1].encode(), txs[0].encode()]);
    assert_eq!(
        answer(&chain, &ask(unrooted, vec![1, 0])),
        both,
        "while it executes"
    );
    assert_eq!(
        answer(&chain, &ask(unrooted, vec![2])),
        FetchResponse::Unknown
    );
    let executed = chain.execute_prepared(prepared).unwrap();
    assert_eq!(executed.block.txs, txs, "the block keeps its txs");
    assert_eq!(
        answer(&chain, &ask(unrooted, vec![1, 0])),
        both,
        "once executed"
    );
    assert_eq!(
        answer(&chain, &ask(executed.hash, vec![0])),
        FetchResponse::Unknown,
        "the hash with roots is answered once the block is remembered"
    );
    let hash = executed.hash;
    chain.remember(executed).unwrap();
    assert_eq!(
        answer(&chain, &ask(hash, vec![0])),
        FetchResponse::Txs(vec![txs[0].encode()])
    );
    // The next offer replaces it: one block at most is offered.
    let next = chain
        .prepare_block(verified[..1].to_vec(), proposer, now)
        .unwrap();
    let next_unrooted = next.header.hash();
    chain.offer(&next).unwrap();
    assert_eq!(
        answer(&chain, &ask(unrooted, vec![0])),
        FetchResponse::Unknown
    );
    assert_eq!(
        answer(&chain, &ask(next_unrooted, vec![0])),
        FetchResponse::Txs(vec![txs[0].encode()])
    );
    // A block executed without being offered (build_block; the first
    // block again) is not offered.
    let built = chain.build_block(verified, proposer, now).unwrap();
    assert_eq!(built.hash, hash);
    assert_eq!(
        answer(&chain, &ask(unrooted, vec![0])),
        FetchResponse::Unknown
    );
    assert_eq!(
        answer(&chain, &ask(next_unrooted, vec![0])),
        FetchResponse::Txs(vec![txs[0].encode()]),
        "and leaves the offer as it was"
    );
}
