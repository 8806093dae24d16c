//! Tests of [`super`] (`streaming.rs`), kept in their own file.

use super::*;
use proptest::prelude::*;

fn peer(seed: u8) -> PeerId {
    let kp = libp2p::identity::Keypair::ed25519_from_bytes([seed; 32]).unwrap();
    PeerId::from_bytes(&kp.public().to_peer_id().to_bytes()).unwrap()
}

const ROOTS: Roots = Roots {
    results_root: [3; 32],
    state_root: [4; 32],
};

fn block(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt))
        .collect()
}

fn messages(
    height: u64,
    nonce: u32,
    bytes: &[u8],
    part_size: usize,
) -> Vec<StreamMessage<ProposalPart>> {
    let (h, r) = (Height(height), Round::new(1));
    let opening = Opening {
        height: h,
        round: r,
        pol_round: Round::Nil,
        proposer: Address([9; 32]),
    };
    let parts = split_block(&opening, bytes, ROOTS, Signature([7; 64]), part_size);
    stream_messages(stream_id(h, r, nonce), parts)
}

/// The completed stream of a message's progress, if it completed one.
fn completed(p: Option<Progress>) -> Option<CompletedStream> {
    match p {
        Some(Progress::Completed(c)) => Some(c),
        _ => None,
    }
}

fn feed(
    streams: &mut PartStreams,
    publisher: PeerId,
    msgs: impl IntoIterator<Item = StreamMessage<ProposalPart>>,
) -> Vec<CompletedStream> {
    msgs.into_iter()
        .filter_map(|m| completed(streams.insert(publisher, m).unwrap()))
        .collect()
}

#[test]
fn split_produces_init_data_fin_and_end_marker() {
    let msgs = messages(5, 0, &block(10, 0), 4);
    assert_eq!(msgs.len(), 1 + 3 + 1 + 1);
    assert!(matches!(
        msgs[0].content,
        StreamContent::Data(ProposalPart::Init { .. })
    ));
    assert!(matches!(
        msgs[4].content,
        StreamContent::Data(ProposalPart::Fin { .. })
    ));
    assert!(msgs[5].content.is_fin());
    for (i, m) in msgs.iter().enumerate() {
        assert_eq!(m.sequence, i as u64);
    }
    let id = stream_id(Height(5), Round::new(1), 7).to_bytes();
    assert_eq!(id.len(), 16);
    assert_eq!(&id[..8], &5u64.to_be_bytes());
    assert_eq!(&id[8..12], &1u32.to_be_bytes());
    assert_eq!(&id[12..], &7u32.to_be_bytes());
    // A zero part size still makes progress.
    assert_eq!(
        split_block(
            &Opening {
                height: Height(1),
                round: Round::new(0),
                pol_round: Round::Nil,
                proposer: Address([1; 32]),
            },
            &[1, 2],
            ROOTS,
            Signature([0; 64]),
            0
        )
        .len(),
        4
    );
}

#[test]
fn in_order_stream_reassembles() {
    let bytes = block(1000, 3);
    let mut s = PartStreams::default();
    let done = feed(&mut s, peer(1), messages(5, 0, &bytes, 64));
    assert_eq!(done.len(), 1);
    let c = &done[0];
    assert_eq!(
        (c.height, c.round, c.pol_round),
        (Height(5), Round::new(1), Round::Nil)
    );
    assert_eq!(c.proposer, Address([9; 32]));
    assert_eq!(c.publisher, peer(1));
    assert_eq!(c.block_bytes, bytes);
    assert_eq!(c.signature, Signature([7; 64]));
    assert!(s.is_empty());
    assert_eq!(s.buffered_bytes(), 0);
}

#[test]
fn out_of_order_with_duplicates_completes_exactly_once() {
    let bytes = block(1000, 1);
    let msgs = messages(5, 0, &bytes, 100);
    let mut shuffled: Vec<_> = msgs.iter().rev().cloned().collect();
    // Interleave duplicates.
    for m in msgs.iter().step_by(2) {
        shuffled.insert(3, m.clone());
    }
    shuffled.extend(msgs.iter().cloned()); // the whole stream again, after completion
    let mut s = PartStreams::default();
    let done = feed(&mut s, peer(1), shuffled);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].block_bytes, bytes);
    assert!(s.is_empty());
    assert_eq!(s.buffered_bytes(), 0);
}

#[test]
fn publishers_with_the_same_stream_id_do_not_mix() {
    let (a, b) = (block(500, 1), block(700, 2));
    let (ma, mb) = (messages(5, 0, &a, 50), messages(5, 0, &b, 50));
    assert_eq!(ma[0].stream_id, mb[0].stream_id);
    let mut s = PartStreams::default();
    let mut done = Vec::new();
    let n = ma.len().max(mb.len());
    for i in 0..n {
        if let Some(m) = ma.get(i) {
            done.extend(completed(s.insert(peer(1), m.clone()).unwrap()));
        }
        if let Some(m) = mb.get(i) {
            done.extend(completed(s.insert(peer(2), m.clone()).unwrap()));
        }
    }
    assert_eq!(done.len(), 2);
    let of = |p: PeerId| {
        done.iter()
            .find(|c| c.publisher == p)
            .unwrap()
            .block_bytes
            .clone()
    };
    assert_eq!(of(peer(1)), a);
    assert_eq!(of(peer(2)), b);
    assert!(s.is_empty());
}

#[test]
fn garbage_streams_are_dropped() {
    let msgs = messages(5, 0, &block(300, 1), 100);
    let mut s = PartStreams::default();
    // Sequence 0 that is not Init.
    let mut bad = msgs[1].clone();
    bad.sequence = 0;
    assert!(matches!(
        s.insert(peer(1), bad),
        Err(StreamError::Malformed(_))
    ));
    // Two different end markers.
    let id = stream_id(Height(6), Round::new(0), 0);
    let m = |seq, content| StreamMessage::new(id.clone(), seq, content);
    assert_eq!(s.insert(peer(2), m(4, StreamContent::Fin)), Ok(None));
    assert!(s.insert(peer(2), m(5, StreamContent::Fin)).is_err());
    assert!(s.is_empty());
    // Late parts of a dropped stream are ignored, not buffered.
    assert_eq!(
        s.insert(
            peer(2),
            m(1, StreamContent::Data(ProposalPart::Data(vec![1])))
        ),
        Ok(None)
    );
    assert!(s.is_empty());
    // A Fin part in the middle.
    let id = stream_id(Height(7), Round::new(0), 0);
    let m = |seq, content| StreamMessage::new(id.clone(), seq, content);
    let init = ProposalPart::Init {
        height: Height(7),
        round: Round::new(0),
        pol_round: Round::Nil,
        proposer: Address([1; 32]),
        data_parts: 1,
    };
    assert_eq!(s.insert(peer(3), m(0, StreamContent::Data(init))), Ok(None));
    assert_eq!(
        s.insert(
            peer(3),
            m(
                1,
                StreamContent::Data(ProposalPart::Fin {
                    roots: ROOTS,
                    signature: Signature([0; 64])
                })
            )
        ),
        Ok(None)
    );
    assert_eq!(
        s.insert(
            peer(3),
            m(2, StreamContent::Data(ProposalPart::Data(vec![1])))
        ),
        Ok(None)
    );
    assert!(matches!(
        s.insert(peer(3), m(3, StreamContent::Fin)),
        Err(StreamError::Malformed(_))
    ));
    // A part after the end marker; an empty stream; a long stream id.
    let id = stream_id(Height(8), Round::new(0), 0);
    assert_eq!(
        s.insert(
            peer(4),
            StreamMessage::new(id.clone(), 2, StreamContent::Fin)
        ),
        Ok(None)
    );
    assert!(s
        .insert(
            peer(4),
            StreamMessage::new(id, 2, StreamContent::Data(ProposalPart::Data(vec![])))
        )
        .is_err());
    let id = stream_id(Height(9), Round::new(0), 0);
    assert!(s
        .insert(peer(4), StreamMessage::new(id, 0, StreamContent::Fin))
        .is_err());
    let long = StreamId::new(Bytes::from(vec![0; MAX_STREAM_ID_BYTES + 1]));
    assert!(matches!(
        s.insert(peer(4), StreamMessage::new(long, 0, StreamContent::Fin)),
        Err(StreamError::StreamIdTooLong { .. })
    ));
    assert!(s.is_empty());
    assert_eq!(s.buffered_bytes(), 0);
}

#[test]
fn oversized_streams_are_dropped() {
    let limits = StreamLimits {
        max_stream_bytes: 1000,
        ..StreamLimits::default()
    };
    let mut s = PartStreams::with_limits(limits);
    let msgs = messages(5, 0, &block(2000, 1), 100);
    let results: Vec<_> = msgs.into_iter().map(|m| s.insert(peer(1), m)).collect();
    assert!(results
        .iter()
        .any(|r| matches!(r, Err(StreamError::TooLarge { .. }))));
    assert!(results.iter().all(|r| !matches!(r, Ok(Some(_)))));
    assert!(s.is_empty());
    assert_eq!(s.buffered_bytes(), 0);
    // A sequence number no stream of this size can reach.
    let id = stream_id(Height(6), Round::new(0), 0);
    let far = StreamMessage::new(id, 1_000_000, StreamContent::Fin);
    assert!(matches!(
        s.insert(peer(1), far),
        Err(StreamError::TooLarge { .. })
    ));
    assert!(s.is_empty());
}

#[test]
fn eviction_keeps_the_bounds() {
    let limits = StreamLimits {
        max_streams: 4,
        max_streams_per_publisher: 2,
        max_stream_bytes: 10_000,
        max_closed: 8,
    };
    let mut s = PartStreams::with_limits(limits);
    for p in 0..5u8 {
        for nonce in 0..3u32 {
            // Only the first two messages: the streams stay open.
            for m in messages(5, nonce, &block(1000, p), 100).into_iter().take(2) {
                s.insert(peer(p), m).unwrap();
            }
            assert!(s.len() <= 4);
            assert!(s.buffered_bytes() <= 4 * 10_000);
        }
    }
    assert_eq!(s.len(), 4);
    // The most recent publisher kept its two newest streams.
    let last = messages(5, 2, &block(1000, 4), 100);
    assert_eq!(feed(&mut s, peer(4), last.into_iter().skip(2)).len(), 1);
    assert!(s.closed.len() <= 8 && s.closed_order.len() <= 8);
}

#[test]
fn prune_drops_old_heights() {
    let mut s = PartStreams::default();
    for h in [3u64, 4, 5] {
        for m in messages(h, 0, &block(100, 0), 10).into_iter().take(3) {
            s.insert(peer(1), m).unwrap();
        }
    }
    assert_eq!(s.len(), 3);
    s.prune_below(Height(5));
    assert_eq!(s.len(), 1);
    assert!(s.buffered_bytes() > 0);
    s.prune_below(Height(6));
    assert!(s.is_empty());
    assert_eq!(s.buffered_bytes(), 0);
}

proptest! {
    #[test]
    fn random_messages_keep_memory_bounded(
        ops in proptest::collection::vec((0u8..6, 0u64..4, 0u64..40, 0u8..4, 0usize..300), 1..300)
    ) {
        let limits = StreamLimits { max_streams: 5, max_streams_per_publisher: 2, max_stream_bytes: 2_000, max_closed: 16 };
        let mut s = PartStreams::with_limits(limits);
        for (p, id, seq, kind, len) in ops {
            let content = match kind {
                0 => StreamContent::Fin,
                1 => StreamContent::Data(ProposalPart::Init { height: Height(id), round: Round::new(0), pol_round: Round::Nil, proposer: Address([p; 32]), data_parts: 1 }),
                2 => StreamContent::Data(ProposalPart::Data(vec![p; len])),
                _ => StreamContent::Data(ProposalPart::Fin { roots: ROOTS, signature: Signature([p; 64]) }),
            };
            let msg = StreamMessage::new(stream_id(Height(id), Round::new(0), 0), seq, content);
            let _ = s.insert(peer(p), msg);
            prop_assert!(s.len() <= 5);
            prop_assert!(s.streams.values().all(|b| b.bytes <= 2_000));
            prop_assert_eq!(s.buffered_bytes(), s.streams.values().map(|b| b.bytes).sum::<usize>());
            prop_assert!(s.closed.len() <= 16);
            for p in 0..6u8 {
                prop_assert!(s.streams.keys().filter(|k| k.0 == peer(p)).count() <= 2);
            }
        }
    }

    #[test]
    fn any_delivery_order_completes_once(seed in any::<u64>(), len in 0usize..3000, part in 1usize..700) {
        let bytes = block(len, seed as u8);
        let mut msgs = messages(5, 0, &bytes, part);
        // Deterministic shuffle with duplicates.
        let mut x = seed | 1;
        let mut order = Vec::new();
        for _ in 0..(msgs.len() * 2) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.push(msgs[(x % msgs.len() as u64) as usize].clone());
        }
        msgs.extend(order);
        msgs.rotate_left((seed % 5) as usize);
        let mut s = PartStreams::default();
        let progress: Vec<Progress> = msgs
            .into_iter()
            .filter_map(|m| s.insert(peer(1), m).unwrap())
            .collect();
        // Opened at most once, before it completes, with the same bytes.
        let (opened, done): (Vec<_>, Vec<_>) = progress
            .into_iter()
            .partition(|p| matches!(p, Progress::Opened(_)));
        prop_assert_eq!(done.len(), 1);
        prop_assert!(opened.len() <= 1);
        let Some(Progress::Completed(done)) = done.first() else {
            panic!("not completed");
        };
        prop_assert_eq!(&done.block_bytes, &bytes);
        if let Some(Progress::Opened(o)) = opened.first() {
            prop_assert_eq!(&o.block_bytes, &bytes);
        }
        prop_assert!(s.is_empty());
    }
}

#[test]
fn a_stream_carries_its_roots_and_counts_its_data_parts() {
    let bytes = block(10, 0);
    let done = feed(
        &mut PartStreams::default(),
        peer(1),
        messages(5, 0, &bytes, 4),
    );
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].roots, ROOTS);
    assert_eq!(done[0].block_bytes, bytes);
    for claimed in [2, 4] {
        let mut msgs = messages(5, 0, &bytes, 4);
        if let StreamContent::Data(ProposalPart::Init { data_parts, .. }) = &mut msgs[0].content {
            *data_parts = claimed;
        }
        let mut s = PartStreams::default();
        let last = msgs.into_iter().map(|m| s.insert(peer(1), m)).last();
        assert!(
            matches!(last, Some(Err(StreamError::Malformed(_)))),
            "{claimed} data parts claimed for 3: {last:?}"
        );
        assert!(s.is_empty());
    }
}

#[test]
fn a_stream_opens_once_its_data_is_in_and_before_its_fin_part() {
    let bytes = block(1_000, 9);
    let msgs = messages(5, 0, &bytes, 300);
    // Init, 4 data parts, the Fin part, the end marker.
    assert_eq!(msgs.len(), 7);
    let mut s = PartStreams::default();
    let got: Vec<_> = msgs
        .iter()
        .map(|m| s.insert(peer(1), m.clone()).unwrap())
        .collect();
    assert!(got[..4].iter().all(Option::is_none));
    let Some(Progress::Opened(o)) = &got[4] else {
        panic!("the last data part opens the stream: {:?}", got[4]);
    };
    assert_eq!(
        (o.publisher, o.height, o.round, o.proposer),
        (peer(1), Height(5), Round::new(1), Address([9; 32]))
    );
    assert_eq!(o.block_bytes, bytes);
    assert_eq!(got[5], None);
    assert!(matches!(got[6], Some(Progress::Completed(_))));
    // The last data part after the end marker: it completes the stream,
    // nothing opens.
    let mut late = messages(5, 1, &bytes, 300);
    let last_data = late.remove(4);
    late.push(last_data);
    let mut s = PartStreams::default();
    let got: Vec<_> = late
        .into_iter()
        .filter_map(|m| s.insert(peer(1), m).unwrap())
        .collect();
    assert_eq!(got.len(), 1);
    assert!(matches!(got[0], Progress::Completed(_)));
    // A duplicate of a data part counts once: no early opening.
    let mut dup = messages(5, 2, &bytes, 300);
    dup[3] = dup[2].clone();
    let mut s = PartStreams::default();
    let got: Vec<_> = dup[..5]
        .iter()
        .filter_map(|m| s.insert(peer(1), m.clone()).unwrap())
        .collect();
    assert!(got.is_empty(), "{got:?}");
}
