//! Tests of the proposal intake: what a Byzantine validator or a stranger
//! can make this node hold or judge.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::consensus::signing::ConsensusSigner;
use crate::consensus::streaming::{split_block, stream_id, stream_messages, Opening};
use crate::consensus::types::{Roots, Signature};
use assent_contracts::state::Validator as LedgerValidator;

const CHAIN: &str = "assent-test";

struct Net {
    signers: Vec<ConsensusSigner>,
    set: ValidatorSet,
    ctx: AssentContext,
}

fn net(n: u8) -> Net {
    let signers: Vec<ConsensusSigner> = (0..n)
        .map(|i| ConsensusSigner::from_seed([i + 1; 32], CHAIN).unwrap())
        .collect();
    let ledger: Vec<LedgerValidator> = signers
        .iter()
        .enumerate()
        .map(|(i, s)| LedgerValidator {
            name: format!("v{i}"),
            consensus_key: s.address().account(),
            power: 1,
            p2p_address: String::new(),
        })
        .collect();
    Net {
        set: ValidatorSet::from_ledger(&ledger).unwrap(),
        signers,
        ctx: AssentContext::new(CHAIN),
    }
}

impl Net {
    fn peer(&self, address: Address) -> PeerId {
        let s = self
            .signers
            .iter()
            .find(|s| s.address() == address)
            .unwrap();
        PeerId::from_bytes(&s.libp2p_keypair().public().to_peer_id().to_bytes()).unwrap()
    }

    fn proposer(&self, height: u64, round: u32) -> Address {
        self.ctx
            .select_proposer(&self.set, Height(height), Round::new(round))
            .address
    }

    fn not_proposer(&self, height: u64, round: u32) -> Address {
        let p = self.proposer(height, round);
        self.signers
            .iter()
            .map(|s| s.address())
            .find(|a| *a != p)
            .unwrap()
    }

    fn intake(&self, height: u64) -> Intake {
        let mut i = Intake::new(self.ctx.clone());
        assert!(i.start_height(Height(height), self.set.clone()).is_empty());
        i.start_round(Round::new(0));
        i
    }
}

/// The messages of one stream: `claimed` as Init.proposer, `nonce` to make
/// distinct streams, `salt` to make distinct blocks.
fn stream(
    height: u64,
    round: u32,
    claimed: Address,
    nonce: u32,
    salt: u8,
) -> Vec<StreamMessage<ProposalPart>> {
    let (h, r) = (Height(height), Round::new(round));
    let block: Vec<u8> = (0..1_000u32).map(|i| (i as u8) ^ salt).collect();
    let opening = Opening {
        height: h,
        round: r,
        pol_round: Round::Nil,
        proposer: claimed,
    };
    let parts = split_block(&opening, &block, Roots::default(), Signature([7; 64]), 300);
    stream_messages(stream_id(h, r, nonce), parts)
}

fn feed(
    intake: &mut Intake,
    publisher: PeerId,
    msgs: Vec<StreamMessage<ProposalPart>>,
) -> Result<Option<Accepted>, Refused> {
    let mut last = None;
    for m in msgs {
        last = intake.part(publisher, m)?;
    }
    Ok(last)
}

#[test]
fn the_rounds_proposer_gets_its_stream_judged() {
    let net = net(4);
    let mut intake = net.intake(5);
    let p = net.proposer(5, 0);
    let got = feed(&mut intake, net.peer(p), stream(5, 0, p, 1, 0)).unwrap();
    match got {
        Some(Accepted::Judge(s)) => {
            assert_eq!((s.height, s.proposer), (Height(5), p));
            assert_eq!(s.block_bytes.len(), 1_000);
        }
        other => panic!("expected a stream to judge, got {other:?}"),
    }
}

#[test]
fn a_stranger_cannot_open_a_stream_or_buffer_a_byte() {
    let net = net(4);
    let mut intake = net.intake(5);
    let p = net.proposer(5, 0);
    for seed in 0..64u8 {
        // Fresh identities, each claiming to carry the proposer's stream.
        let kp = libp2p::identity::Keypair::ed25519_from_bytes([seed ^ 0x80; 32]).unwrap();
        let stranger = PeerId::from_bytes(&kp.public().to_peer_id().to_bytes()).unwrap();
        let r = feed(&mut intake, stranger, stream(5, 0, p, u32::from(seed), 0));
        assert!(matches!(r, Err(Refused::NotAValidator(_))), "{r:?}");
    }
    assert_eq!(intake.held(), (0, 0, 0));
    // The honest proposer's stream still goes through.
    let r = feed(&mut intake, net.peer(p), stream(5, 0, p, 1, 0)).unwrap();
    assert!(matches!(r, Some(Accepted::Judge(_))));
}

#[test]
fn a_validator_cannot_publish_another_validators_proposal() {
    let net = net(4);
    let mut intake = net.intake(5);
    let p = net.proposer(5, 0);
    let liar = net.not_proposer(5, 0);
    let r = feed(&mut intake, net.peer(liar), stream(5, 0, p, 1, 0));
    assert_eq!(
        r.unwrap_err(),
        Refused::NotItsOwn {
            publisher: liar,
            claimed: p
        }
    );
}

#[test]
fn a_validator_that_is_not_the_rounds_proposer_is_refused() {
    let net = net(4);
    let mut intake = net.intake(5);
    let liar = net.not_proposer(5, 0);
    let r = feed(&mut intake, net.peer(liar), stream(5, 0, liar, 1, 0));
    assert!(matches!(r, Err(Refused::NotTheProposer { .. })), "{r:?}");
}

#[test]
fn an_equivocating_proposer_gets_one_value_per_round() {
    let net = net(4);
    let mut intake = net.intake(5);
    let p = net.proposer(5, 0);
    let first = feed(&mut intake, net.peer(p), stream(5, 0, p, 1, 0)).unwrap();
    assert!(matches!(first, Some(Accepted::Judge(_))));
    // Another block for the same round, and the same again under new stream ids.
    for nonce in 2..20 {
        let r = feed(
            &mut intake,
            net.peer(p),
            stream(5, 0, p, nonce, nonce as u8),
        );
        assert_eq!(
            r.unwrap_err(),
            Refused::SecondValue {
                height: 5,
                round: 0
            }
        );
    }
    // Its next round (if it is the proposer again) is a new slot.
    let round = (1..40).find(|r| net.proposer(5, *r) == p).unwrap();
    intake.start_round(Round::new(round));
    let next = feed(&mut intake, net.peer(p), stream(5, round, p, 99, 1)).unwrap();
    assert!(matches!(next, Some(Accepted::Judge(_))));
}

#[test]
fn heights_and_rounds_far_ahead_or_past_are_refused() {
    let net = net(4);
    let mut intake = net.intake(5);
    let far = 5 + HEIGHTS_AHEAD + 1;
    let p = net.proposer(far, 0);
    let r = feed(&mut intake, net.peer(p), stream(far, 0, p, 1, 0));
    assert_eq!(
        r.unwrap_err(),
        Refused::TooFarAhead {
            height: far,
            current: 5
        }
    );
    let p = net.proposer(4, 0);
    let r = feed(&mut intake, net.peer(p), stream(4, 0, p, 2, 0));
    assert_eq!(r.unwrap_err(), Refused::Past(4));
    let round = ROUNDS_AHEAD + 1;
    let p = net.proposer(5, round);
    let r = feed(&mut intake, net.peer(p), stream(5, round, p, 3, 0));
    assert_eq!(r.unwrap_err(), Refused::RoundTooFar { round });
}

#[test]
fn later_heights_keep_one_stream_per_round_and_hand_them_over_in_order() {
    let net = net(4);
    let mut intake = net.intake(5);
    let mut expected = Vec::new();
    for round in [2u32, 0, 1] {
        let p = net.proposer(6, round);
        let r = feed(&mut intake, net.peer(p), stream(6, round, p, round, 0)).unwrap();
        assert!(matches!(r, Some(Accepted::Later)));
        // A second value for the same later slot is not kept.
        let again = feed(&mut intake, net.peer(p), stream(6, round, p, 50 + round, 9));
        assert!(
            matches!(again, Err(Refused::SecondValue { .. })),
            "{again:?}"
        );
        expected.push(round);
    }
    assert_eq!(intake.held().2, 3);
    expected.sort_unstable();
    let due = intake.start_height(Height(6), net.set.clone());
    let rounds: Vec<u32> = due.iter().map(|s| s.round.as_u32().unwrap()).collect();
    assert_eq!(rounds, expected);
    assert_eq!(intake.held().2, 0);
}

#[test]
fn a_validators_many_streams_never_evict_another_validators() {
    let net = net(4);
    let mut intake = net.intake(5);
    let p = net.proposer(5, 0);
    // The honest proposer's stream, all but its last message.
    let mut honest = stream(5, 0, p, 1, 0);
    let last = honest.pop().unwrap();
    assert!(feed(&mut intake, net.peer(p), honest).unwrap().is_none());
    // Another validator opens as many incomplete streams as it likes.
    let flooder = net.not_proposer(5, 0);
    for nonce in 0..500u32 {
        let mut s = stream(5, 0, flooder, 1_000 + nonce, 0);
        s.truncate(2);
        let _ = feed(&mut intake, net.peer(flooder), s);
    }
    let (open, bytes, _) = intake.held();
    assert!(open <= 1 + STREAMS_PER_VALIDATOR, "{open} streams open");
    assert!(
        bytes < 1_000 * (1 + STREAMS_PER_VALIDATOR) * 2,
        "{bytes} bytes"
    );
    // The honest stream survived and completes.
    let r = intake.part(net.peer(p), last).unwrap();
    assert!(matches!(r, Some(Accepted::Judge(_))), "{r:?}");
}

#[test]
fn only_the_current_rounds_untaken_stream_executes_before_it_completes() {
    let n = net(4);
    let mut intake = n.intake(3);
    let p = n.proposer(3, 0);
    let got: Vec<_> = stream(3, 0, p, 1, 0)
        .into_iter()
        .map(|m| intake.part(n.peer(p), m).unwrap())
        .collect();
    // Init, four data parts (the last opens it), the Fin part, the end.
    assert_eq!(got.len(), 7);
    assert!(
        matches!(&got[4], Some(Accepted::Execute(o)) if o.proposer == p && o.height == Height(3))
    );
    let executes = got
        .iter()
        .filter(|r| matches!(r, Some(Accepted::Execute(_))))
        .count();
    assert_eq!(executes, 1);
    assert!(matches!(got.last(), Some(Some(Accepted::Judge(_)))));
    // A second stream for the taken round: never executed, then refused.
    let second: Vec<_> = stream(3, 0, p, 2, 1)
        .into_iter()
        .map(|m| intake.part(n.peer(p), m))
        .collect();
    assert!(second
        .iter()
        .all(|r| !matches!(r, Ok(Some(Accepted::Execute(_))))));
    assert!(matches!(
        second.last(),
        Some(Err(Refused::SecondValue { .. }))
    ));
    // The next height's stream is kept for later, not executed now.
    let p4 = n.proposer(4, 0);
    let later: Vec<_> = stream(4, 0, p4, 3, 2)
        .into_iter()
        .map(|m| intake.part(n.peer(p4), m).unwrap())
        .collect();
    assert!(later
        .iter()
        .all(|r| !matches!(r, Some(Accepted::Execute(_)))));
    assert!(matches!(later.last(), Some(Some(Accepted::Later))));
    // A validator that is not the round's proposer: nothing of its stream
    // executes, and it is refused once, when complete.
    let q = n.not_proposer(3, 1);
    let wrong: Vec<_> = stream(3, 1, q, 4, 3)
        .into_iter()
        .map(|m| intake.part(n.peer(q), m))
        .collect();
    assert!(
        wrong[..6].iter().all(|r| matches!(r, Ok(None))),
        "{wrong:?}"
    );
    assert!(matches!(wrong[6], Err(Refused::NotTheProposer { .. })));
}
