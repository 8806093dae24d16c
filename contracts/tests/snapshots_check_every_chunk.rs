//! A state snapshot is checked piece by piece: its manifest against the
//! header's state root, each chunk against its manifest entry. A changed
//! record, a record moved to another chunk, a dropped record, a changed
//! chunk hash or another height's header are each refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_contracts::block::BlockHeader;
use assent_contracts::snapshot::{
    self, check_chunk, Chunk, Manifest, SnapshotError, CHUNKS, SNAPSHOT_VERSION,
};
use assent_contracts::state::tree::state_root;
use assent_contracts::state::StateTree;
use assent_contracts::{AccountId, BlockHash, Hash32, Height, Timestamp};

fn records(n: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..n)
        .map(|i| {
            (
                format!("cnst/{i:08}").into_bytes(),
                format!("value {i}").into_bytes(),
            )
        })
        .collect()
}

/// A snapshot of `recs` at height 7 and the header that certifies it.
fn snapshot_of(recs: &[(Vec<u8>, Vec<u8>)]) -> (Manifest, Vec<Vec<u8>>, BlockHeader) {
    let tree = StateTree::from_records(recs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
    let header = BlockHeader {
        chain_id: "snap-test".into(),
        height: Height(7),
        time: Timestamp(1),
        prev_hash: BlockHash(Hash32([1; 32])),
        txs_root: Hash32::ZERO,
        results_root: Hash32::ZERO,
        state_root: state_root(Height(7), &tree.root()),
        proposer: AccountId([2; 32]),
    };
    let mut chunks: Vec<Chunk> = vec![Vec::new(); CHUNKS];
    for (k, v) in recs {
        chunks[snapshot::chunk_index(k)].push((k.clone(), v.clone()));
    }
    let (infos, bytes): (Vec<_>, Vec<_>) = chunks.into_iter().map(snapshot::seal_chunk).unzip();
    let manifest = Manifest {
        version: SNAPSHOT_VERSION.into(),
        chain_id: "snap-test".into(),
        height: Height(7),
        state_root: header.state_root,
        chunks: infos,
    };
    (manifest, bytes, header)
}

#[test]
fn a_whole_snapshot_checks_and_restores_every_record() {
    let recs = records(3_000);
    let (m, bytes, header) = snapshot_of(&recs);
    m.check(&header).unwrap();
    assert_eq!(m.records(), 3_000);
    let mut restored: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (i, b) in bytes.iter().enumerate() {
        restored.extend(check_chunk(&m, i, b).unwrap());
    }
    restored.sort();
    assert_eq!(restored, recs);
    // An empty state snapshots too.
    let (m, bytes, header) = snapshot_of(&[]);
    m.check(&header).unwrap();
    assert!(check_chunk(&m, 0, &bytes[0]).unwrap().is_empty());
}

#[test]
fn a_bad_chunk_is_refused_by_name() {
    let recs = records(2_000);
    let (m, bytes, _) = snapshot_of(&recs);
    let i = (0..CHUNKS).find(|i| m.chunks[*i].records >= 2).unwrap();
    let good: Chunk = snapshot::decode_chunk(&bytes[i]).unwrap();

    // A changed value.
    let mut bad = good.clone();
    bad[0].1.push(b'!');
    let enc = snapshot::encode_chunk(&bad);
    let mut m2 = m.clone();
    m2.chunks[i].bytes = enc.len() as u64;
    assert_eq!(
        check_chunk(&m2, i, &enc),
        Err(SnapshotError::ChunkHash { index: i })
    );
    // A dropped record.
    let enc = snapshot::encode_chunk(&good[1..].to_vec());
    m2.chunks[i].bytes = enc.len() as u64;
    assert_eq!(
        check_chunk(&m2, i, &enc),
        Err(SnapshotError::ChunkHash { index: i })
    );
    // A record of another chunk slipped in.
    let j = (0..CHUNKS)
        .find(|j| *j != i && m.chunks[*j].records > 0)
        .unwrap();
    let other: Chunk = snapshot::decode_chunk(&bytes[j]).unwrap();
    let mut bad = good.clone();
    bad.push(other[0].clone());
    let enc = snapshot::encode_chunk(&bad);
    m2.chunks[i].bytes = enc.len() as u64;
    assert!(matches!(
        check_chunk(&m2, i, &enc),
        Err(SnapshotError::Order { .. })
    ));
    // Out of path order.
    let mut bad = good.clone();
    bad.swap(0, 1);
    let enc = snapshot::encode_chunk(&bad);
    assert!(matches!(
        check_chunk(&m, i, &enc),
        Err(SnapshotError::Order { .. })
    ));
    // Another length than the manifest's; bytes that do not decode.
    assert!(matches!(
        check_chunk(&m, i, &bytes[i][1..]),
        Err(SnapshotError::ChunkSize { .. })
    ));
    let junk = vec![0xff; bytes[i].len()];
    assert!(matches!(
        check_chunk(&m, i, &junk),
        Err(SnapshotError::Decode { .. })
    ));
}

#[test]
fn a_bad_manifest_is_refused_by_name() {
    let (m, _, header) = snapshot_of(&records(500));
    let mut bad = m.clone();
    bad.chunks[3].hash = Hash32([9; 32]);
    assert_eq!(bad.check(&header), Err(SnapshotError::StateRoot));
    // The root does not cover the record counts (only a subtree's hash);
    // a wrong count fails the chunk's own check, at any peer.
    let bytes = snapshot_of(&records(500)).1;
    let mut bad = m.clone();
    bad.chunks[3].records += 1;
    assert_eq!(
        check_chunk(&bad, 3, &bytes[3]),
        Err(SnapshotError::ChunkHash { index: 3 })
    );
    let mut bad = m.clone();
    bad.chunks.pop();
    assert_eq!(
        bad.check(&header),
        Err(SnapshotError::ChunkCount(CHUNKS - 1))
    );
    // The same records under the next height's header: the root binds the height.
    let mut next = header.clone();
    next.height = Height(8);
    assert!(matches!(
        m.check(&next),
        Err(SnapshotError::OtherBlock { .. })
    ));
    let mut relabelled = m.clone();
    relabelled.height = Height(8);
    next.state_root = header.state_root;
    assert_eq!(relabelled.check(&next), Err(SnapshotError::StateRoot));
    let mut bad = m.clone();
    bad.version = "assent-snapshot/0".into();
    assert!(matches!(bad.check(&header), Err(SnapshotError::Version(_))));
}

#[test]
fn a_chunk_larger_than_the_codecs_limit_checks_record_by_record() {
    // 150 records of 64 KiB in chunk 0: 9.6 MB, over the codec's 8 MiB.
    let big: Vec<(Vec<u8>, Vec<u8>)> = (0u32..)
        .map(|i| format!("cnst/{i:08}").into_bytes())
        .filter(|k| snapshot::chunk_index(k) == 0)
        .take(150)
        .map(|k| (k, vec![7u8; 64 * 1024]))
        .collect();
    let (m, bytes, header) = snapshot_of(&big);
    m.check(&header).unwrap();
    assert!(bytes[0].len() > assent_contracts::codec::MAX_DECODE_BYTES);
    assert_eq!(check_chunk(&m, 0, &bytes[0]).unwrap().len(), 150);
}
