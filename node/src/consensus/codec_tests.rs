//! Tests of [`super`] (`codec.rs`), kept in their own file.

use super::*;
use crate::consensus::types::{BlockValue, Proposal, Roots, Vote};
use malachitebft_core_types::{
    NilOrVal, PolkaSignature, RoundCertificate, RoundCertificateType, RoundSignature,
    SignedMessage, Validity, VoteType,
};
use malachitebft_engine::util::streaming::{StreamContent, StreamId};
use malachitebft_peer::PeerId;
use proptest::prelude::*;

fn sig(b: u8) -> Signature {
    Signature([b; 64])
}

fn peer(seed: u8) -> PeerId {
    let kp = libp2p::identity::Keypair::ed25519_from_bytes([seed; 32]).unwrap();
    PeerId::from_bytes(&kp.public().to_peer_id().to_bytes()).unwrap()
}

fn vote(ext: bool) -> Vote {
    Vote {
        vote_type: VoteType::Precommit,
        height: Height(12),
        round: Round::new(3),
        value: NilOrVal::Val(BlockId([7; 32])),
        validator: Address([1; 32]),
        extension: ext.then(|| SignedMessage::new(vec![1, 2, 3], sig(4))),
    }
}

fn proposal() -> Proposal {
    Proposal {
        height: Height(12),
        round: Round::new(0),
        value: BlockValue::new(BlockId([7; 32])),
        pol_round: Round::Nil,
        proposer: Address([2; 32]),
    }
}

fn ext_cert(with_ext: bool) -> ExtendedCommitCertificate<AssentContext> {
    ExtendedCommitCertificate {
        height: Height(12),
        round: Round::new(1),
        value_id: BlockId([7; 32]),
        commit_signatures: vec![
            ExtendedCommitSignature::new(Address([1; 32]), sig(1), None),
            ExtendedCommitSignature::new(
                Address([2; 32]),
                sig(2),
                with_ext.then(|| SignedMessage::new(vec![9; 5], sig(3))),
            ),
        ],
    }
}

fn response() -> Response<AssentContext> {
    Response::ValueResponse(ValueResponse::new(
        Height(12),
        vec![
            RawDecidedValue::new(Bytes::from_static(b"block-12"), ext_cert(false)),
            RawDecidedValue::new(Bytes::from(vec![0u8; 300]), ext_cert(true)),
        ],
    ))
}

fn round_trip<T>(value: T)
where
    T: PartialEq + std::fmt::Debug,
    WireCodec: Codec<T, Error = CodecError>,
{
    let bytes = WireCodec.encode(&value).unwrap();
    let back: T = WireCodec.decode(bytes.clone()).unwrap();
    assert_eq!(back, value);
    // Trailing bytes are refused.
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(Codec::<T>::decode(&WireCodec, Bytes::from(longer)).is_err());
}

#[test]
fn every_engine_type_round_trips() {
    round_trip(ProposalPart::Init {
        height: Height(1),
        round: Round::new(0),
        pol_round: Round::Nil,
        proposer: Address([3; 32]),
        data_parts: 2,
    });
    round_trip(ProposalPart::Data(vec![1, 2, 3]));
    round_trip(ProposalPart::Fin {
        roots: Roots {
            results_root: [1; 32],
            state_root: [2; 32],
        },
        signature: sig(5),
    });
    round_trip(SignedConsensusMsg::Vote(SignedMessage::new(
        vote(false),
        sig(1),
    )));
    round_trip(SignedConsensusMsg::Proposal(SignedMessage::new(
        proposal(),
        sig(2),
    )));
    round_trip(LivenessMsg::Vote(SignedMessage::new(vote(true), sig(1))));
    let polka = PolkaCertificate {
        height: Height(4),
        round: Round::new(2),
        value_id: BlockId([8; 32]),
        polka_signatures: vec![PolkaSignature::new(Address([1; 32]), sig(6))],
    };
    round_trip(LivenessMsg::PolkaCertificate(polka.clone()));
    round_trip(polka);
    round_trip(LivenessMsg::SkipRoundCertificate(RoundCertificate {
        height: Height(4),
        round: Round::new(2),
        cert_type: RoundCertificateType::Skip,
        round_signatures: vec![RoundSignature::new(
            VoteType::Prevote,
            NilOrVal::Nil,
            Address([1; 32]),
            sig(6),
        )],
    }));
    let id = StreamId::new(Bytes::from_static(b"stream"));
    round_trip(StreamMessage::new(
        id.clone(),
        0,
        StreamContent::Data(ProposalPart::Data(vec![1])),
    ));
    round_trip(StreamMessage::<ProposalPart>::new(
        id,
        3,
        StreamContent::Fin,
    ));
    round_trip(Status::<AssentContext> {
        peer_id: peer(1),
        tip_height: Height(10),
        history_min_height: Height(1),
    });
    round_trip(Request::<AssentContext>::ValueRequest(
        malachitebft_sync::ValueRequest::new(Height(3)..=Height(8)),
    ));
    round_trip(response());
    round_trip(Response::<AssentContext>::ValueResponse(
        ValueResponse::new(Height(1), vec![]),
    ));
    round_trip(ProposedValue::<AssentContext> {
        height: Height(5),
        round: Round::new(1),
        valid_round: Round::Nil,
        proposer: Address([2; 32]),
        value: BlockValue::new(BlockId([3; 32])),
        validity: Validity::Invalid,
    });
    round_trip(ext_cert(true).trim_vote_extensions());
    round_trip(ext_cert(true));
    round_trip(ext_cert(false));
    round_trip(ValidatorProof::<AssentContext>::new(
        vec![1; 32],
        peer(2).to_bytes(),
        sig(9),
    ));
}

#[test]
fn encoded_len_is_exact() {
    for r in [
        response(),
        Response::ValueResponse(ValueResponse::new(Height(1), vec![])),
    ] {
        assert_eq!(
            WireCodec.encoded_len(&r).unwrap(),
            Codec::<Response<AssentContext>>::encode(&WireCodec, &r)
                .unwrap()
                .len()
        );
    }
    let mut nil_round = ext_cert(true);
    nil_round.round = Round::Nil;
    let r = Response::ValueResponse(ValueResponse::new(
        Height(2),
        vec![RawDecidedValue::new(Bytes::new(), nil_round)],
    ));
    let len = Codec::<Response<AssentContext>>::encode(&WireCodec, &r)
        .unwrap()
        .len();
    assert_eq!(WireCodec.encoded_len(&r).unwrap(), len);
}

#[test]
fn oversized_input_is_refused_before_decoding() {
    let big = Bytes::from(vec![0u8; MAX_MESSAGE_BYTES + 1]);
    let err = Codec::<ProposalPart>::decode(&WireCodec, big.clone()).unwrap_err();
    assert!(matches!(err, CodecError::TooLarge { .. }));
    let err = Codec::<Response<AssentContext>>::decode(&WireCodec, big).unwrap_err();
    assert!(matches!(err, CodecError::TooLarge { .. }));
    let huge = ProposalPart::Data(vec![0; MAX_MESSAGE_BYTES]);
    assert!(matches!(
        WireCodec.encode(&huge),
        Err(CodecError::TooLarge { .. })
    ));
}

#[test]
fn validator_proof_fields_are_bounded() {
    let proof =
        ValidatorProof::<AssentContext>::new(vec![1; MAX_PROOF_FIELD_BYTES + 1], vec![2], sig(1));
    let bytes = WireCodec.encode(&proof).unwrap();
    assert!(Codec::<ValidatorProof<AssentContext>>::decode(&WireCodec, bytes).is_err());
}

/// Pins the wire and WAL format: a change here breaks WAL replay and peers.
#[test]
fn golden_encodings() {
    let v = SignedConsensusMsg::Vote(SignedMessage::new(vote(false), sig(0xee)));
    let bytes = WireCodec.encode(&v).unwrap();
    let expected = format!(
        "00{}{}{}01{}{}{}{}",
        "01",               // precommit
        "0c00000000000000", // height 12
        "0103000000",       // round Some(3)
        "07".repeat(32),    // Val(block id)
        "01".repeat(32),    // validator
        "00",               // no extension
        "ee".repeat(64),    // signature
    );
    assert_eq!(hex::encode(&bytes), expected);

    let proof = ValidatorProof::<AssentContext>::new(vec![0xaa; 2], vec![0xbb; 3], sig(0xcc));
    let bytes = WireCodec.encode(&proof).unwrap();
    assert_eq!(
        hex::encode(&bytes),
        format!("02000000aaaa03000000bbbbbb{}", "cc".repeat(64))
    );

    let r = Response::<AssentContext>::ValueResponse(ValueResponse::new(
        Height(2),
        vec![RawDecidedValue::new(
            Bytes::from_static(b"\x01"),
            ExtendedCommitCertificate {
                height: Height(2),
                round: Round::new(0),
                value_id: BlockId([0x11; 32]),
                commit_signatures: vec![ExtendedCommitSignature::new(
                    Address([0x22; 32]),
                    sig(0x33),
                    None,
                )],
            },
        )],
    ));
    let bytes = Codec::<Response<AssentContext>>::encode(&WireCodec, &r).unwrap();
    let expected = format!(
        "0200000000000000{}{}{}{}{}{}{}{}{}",
        "01000000",         // one value
        "0100000001",       // value bytes
        "0200000000000000", // height
        "0100000000",       // round 0
        "11".repeat(32),    // value id
        "01000000",         // one signature
        "22".repeat(32),    // address
        "33".repeat(64),    // signature
        "00",               // no extension
    );
    assert_eq!(hex::encode(&bytes), expected);
}

fn decode_all(bytes: &[u8]) {
    let b = || Bytes::copy_from_slice(bytes);
    let c = WireCodec;
    let _ = Codec::<ProposalPart>::decode(&c, b());
    let _ = Codec::<SignedConsensusMsg<AssentContext>>::decode(&c, b());
    let _ = Codec::<LivenessMsg<AssentContext>>::decode(&c, b());
    let _ = Codec::<StreamMessage<ProposalPart>>::decode(&c, b());
    let _ = Codec::<ValidatorProof<AssentContext>>::decode(&c, b());
    let _ = Codec::<Status<AssentContext>>::decode(&c, b());
    let _ = Codec::<Request<AssentContext>>::decode(&c, b());
    let _ = Codec::<Response<AssentContext>>::decode(&c, b());
    let _ = Codec::<ProposedValue<AssentContext>>::decode(&c, b());
    let _ = Codec::<PolkaCertificate<AssentContext>>::decode(&c, b());
    let _ = Codec::<CommitCertificate<AssentContext>>::decode(&c, b());
    let _ = Codec::<ExtendedCommitCertificate<AssentContext>>::decode(&c, b());
}

fn arb_round() -> impl Strategy<Value = Round> {
    prop_oneof![Just(Round::Nil), any::<u32>().prop_map(Round::new)]
}

fn arb_sig() -> impl Strategy<Value = Signature> {
    (any::<[u8; 32]>(), any::<[u8; 32]>()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        Signature(s)
    })
}

fn arb_vote() -> impl Strategy<Value = Vote> {
    (
        any::<bool>(),
        any::<u64>(),
        arb_round(),
        proptest::option::of(any::<[u8; 32]>()),
        any::<[u8; 32]>(),
        proptest::option::of((proptest::collection::vec(any::<u8>(), 0..64), arb_sig())),
    )
        .prop_map(|(pre, h, round, value, addr, ext)| Vote {
            vote_type: if pre {
                VoteType::Prevote
            } else {
                VoteType::Precommit
            },
            height: Height(h),
            round,
            value: value.map_or(NilOrVal::Nil, |v| NilOrVal::Val(BlockId(v))),
            validator: Address(addr),
            extension: ext.map(|(e, s)| SignedMessage::new(e, s)),
        })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(flip in any::<usize>(), cut in any::<usize>(), byte in any::<u8>()) {
        for good in [
            Codec::<Response<AssentContext>>::encode(&WireCodec, &response()).unwrap(),
            WireCodec.encode(&SignedConsensusMsg::Vote(SignedMessage::new(vote(true), sig(1)))).unwrap(),
        ] {
            let mut b = good.to_vec();
            let i = flip % b.len();
            b[i] = byte;
            decode_all(&b);
            decode_all(&b[..cut % b.len()]);
        }
    }

    #[test]
    fn random_votes_round_trip(v in arb_vote(), s in arb_sig()) {
        let msg = SignedConsensusMsg::Vote(SignedMessage::new(v, s));
        let back: SignedConsensusMsg<AssentContext> = WireCodec.decode(WireCodec.encode(&msg).unwrap()).unwrap();
        // Vote equality ignores the extension: compare it too.
        match (&back, &msg) {
            (SignedConsensusMsg::Vote(a), SignedConsensusMsg::Vote(b)) => prop_assert_eq!(&a.extension, &b.extension),
            _ => prop_assert!(false),
        }
        prop_assert_eq!(back, msg);
    }

    #[test]
    fn random_parts_round_trip(data in proptest::collection::vec(any::<u8>(), 0..2048), seq in any::<u64>(), id in proptest::collection::vec(any::<u8>(), 0..32)) {
        let msg = StreamMessage::new(StreamId::new(Bytes::from(id)), seq, StreamContent::Data(ProposalPart::Data(data)));
        let back: StreamMessage<ProposalPart> = WireCodec.decode(WireCodec.encode(&msg).unwrap()).unwrap();
        prop_assert_eq!(back, msg);
    }
}
