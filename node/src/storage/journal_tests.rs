//! Tests of the block journal: round trips, misuse, torn tails at every
//! cut, corruption naming file and height.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
const B: u8 = KIND_BLOCK;
const C: u8 = KIND_CERTIFICATE;
const SMALL: JournalConfig = JournalConfig { segment_bytes: 200 };
const BIG: JournalConfig = JournalConfig {
    segment_bytes: 1 << 20,
};

/// A payload naming its kind, height and version; 20..=26 bytes.
fn p(kind: u8, height: u64, version: u8) -> Vec<u8> {
    let mut p = vec![kind, version];
    p.extend_from_slice(&height.to_le_bytes());
    p.resize(20 + (height % 7) as usize, version);
    p
}

fn get(j: &Journal, kind: u8, height: u64) -> Option<Vec<u8>> {
    j.get(kind, height).unwrap()
}

/// Blocks `from..=to`, each followed by its certificate, synced.
fn fill(j: &mut Journal, from: u64, to: u64) {
    for h in from..=to {
        j.append(B, h, &p(B, h, 0)).unwrap();
        j.append(C, h, &p(C, h, 0)).unwrap();
    }
    j.sync().unwrap();
}

/// Offset of block `h` in a journal written by `fill(j, 1, ..)`.
fn block_at(h: u64) -> u64 {
    (1..h).map(|g| 2 * HEADER + 2 * (20 + g % 7)).sum()
}

fn seg(dir: &Path, seq: u64) -> PathBuf {
    dir.join(segment_name(seq))
}

fn flip(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x40;
    fs::write(path, bytes).unwrap();
}

fn assert_corrupt(err: JournalError, file: &Path, height: u64) {
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains(&format!("at height {height} ")), "{text}");
    assert!(text.contains("syncs from its peers"), "{text}");
    // Only the store is to be moved: the consensus WAL stays.
    assert!(text.contains("store directory (data/store)"), "{text}");
    assert!(text.contains("keep data/wal"), "{text}");
    assert!(!text.contains("data directory"), "{text}");
    assert!(matches!(err, JournalError::Corrupt { height: Some(h), .. } if h == height));
}

#[test]
fn round_trip_across_segment_rolls_and_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("journal");
    let (mut j, report) = Journal::open(&dir, SMALL).unwrap();
    assert_eq!((report.records, report.segments), (0, 1));
    j.append(B, 5, &p(B, 5, 0)).unwrap();
    assert_eq!(get(&j, B, 5), Some(p(B, 5, 0)), "readable before sync");
    j.append(C, 5, &p(C, 5, 0)).unwrap();
    fill(&mut j, 6, 40);
    let size = j.size_on_disk();
    assert_eq!(j.bytes_written(), size);
    drop(j);
    let (mut j, report) = Journal::open(&dir, SMALL).unwrap();
    assert!(report.segments > 5, "{report:?}");
    assert_eq!((report.records, report.dropped_torn_tail), (72, None));
    assert_eq!(j.first_block_height(), Some(5));
    assert_eq!(j.last_block_height(), Some(40));
    assert_eq!((j.size_on_disk(), j.bytes_written()), (size, 0));
    let files = (1..=report.segments as u64).map(|s| seg(&dir, s));
    let on_disk: u64 = files.map(|f| fs::metadata(f).unwrap().len()).sum();
    assert_eq!(on_disk, size);
    fill(&mut j, 41, 45);
    for h in 5..=45 {
        assert_eq!(get(&j, B, h), Some(p(B, h, 0)), "{h}");
        assert_eq!(get(&j, C, h), Some(p(C, h, 0)), "{h}");
    }
    assert_eq!(
        (get(&j, B, 4), get(&j, B, 46), get(&j, C, 46)),
        (None, None, None)
    );
    assert!(matches!(
        j.get(9, 5),
        Err(JournalError::UnknownKind { kind: 9, .. })
    ));
}

#[test]
fn latest_certificate_wins_also_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut j, _) = Journal::open(dir.path(), SMALL).unwrap();
    fill(&mut j, 1, 10);
    j.append(C, 3, &p(C, 3, 1)).unwrap();
    j.append(C, 3, &p(C, 3, 2)).unwrap();
    assert_eq!(get(&j, C, 3), Some(p(C, 3, 2)));
    j.sync().unwrap();
    drop(j);
    let (j, _) = Journal::open(dir.path(), SMALL).unwrap();
    assert_eq!(get(&j, C, 3), Some(p(C, 3, 2)));
    assert_eq!(get(&j, C, 4), Some(p(C, 4, 0)));
}

#[test]
fn append_refuses_misuse_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut j, _) = Journal::open(dir.path(), BIG).unwrap();
    let e = j.append(B, 0, b"x").unwrap_err();
    assert!(matches!(
        e,
        JournalError::NonConsecutiveBlock {
            height: 0,
            expected: 1
        }
    ));
    let e = j.append(C, 1, b"x").unwrap_err();
    assert!(matches!(
        e,
        JournalError::CertificateWithoutBlock { height: 1 }
    ));
    fill(&mut j, 7, 9);
    let size = j.size_on_disk();
    for h in [7, 9, 11] {
        let e = j.append(B, h, b"x").unwrap_err().to_string();
        assert!(e.starts_with(&format!(
            "block {h} is out of order: the journal's next block is 10"
        )));
    }
    for h in [6, 10] {
        let e = j.append(C, h, b"x").unwrap_err().to_string();
        assert!(e.contains(&format!("height {h}, where the journal has no block")));
    }
    let e = j.append(3, 10, b"x").unwrap_err();
    assert!(matches!(e, JournalError::UnknownKind { kind: 3, .. }));
    let e = j.append(B, 10, &vec![0u8; MAX_PAYLOAD + 1]).unwrap_err();
    assert!(matches!(e, JournalError::PayloadTooLarge { .. }));
    assert_eq!(j.size_on_disk(), size);
    assert_eq!(fs::metadata(seg(dir.path(), 1)).unwrap().len(), size);
    fill(&mut j, 10, 10); // a refusal does not stop later appends
    drop(j);
    let (j, report) = Journal::open(dir.path(), BIG).unwrap();
    assert_eq!((report.records, j.last_block_height()), (8, Some(10)));
}

/// Segment bytes of blocks 1..=3 with certificates, then `last` (block
/// 4 or a second certificate for 3), and where that last record starts.
fn with_last(dir: &Path, last: u8) -> (Vec<u8>, usize) {
    let (mut j, _) = Journal::open(dir, BIG).unwrap();
    fill(&mut j, 1, 3);
    let start = j.size_on_disk() as usize;
    let h = if last == B { 4 } else { 3 };
    j.append(last, h, &p(last, h, 1)).unwrap();
    j.sync().unwrap();
    (fs::read(seg(dir, 1)).unwrap(), start)
}

#[test]
fn torn_tail_at_every_cut_is_dropped_and_appends_continue() {
    let src = tempfile::tempdir().unwrap();
    let (bytes, start) = with_last(src.path(), B);
    for cut in start..=bytes.len() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(seg(dir.path(), 1), &bytes[..cut]).unwrap();
        let (mut j, report) = Journal::open(dir.path(), BIG).unwrap();
        let torn = cut != start && cut != bytes.len();
        assert_eq!(report.dropped_torn_tail, torn.then_some(4), "cut {cut}");
        assert_eq!(
            report.dropped_tail_bytes,
            (cut - start) as u64 * u64::from(torn)
        );
        if cut == bytes.len() {
            continue;
        }
        assert_eq!(
            (j.last_block_height(), j.size_on_disk()),
            (Some(3), start as u64)
        );
        assert_eq!(
            fs::metadata(seg(dir.path(), 1)).unwrap().len(),
            start as u64
        );
        j.append(B, 4, &p(B, 4, 2)).unwrap();
        j.sync().unwrap();
        drop(j);
        let (j, report) = Journal::open(dir.path(), BIG).unwrap();
        assert_eq!((report.records, report.dropped_torn_tail), (7, None));
        assert_eq!(get(&j, B, 4), Some(p(B, 4, 2)));
    }
}

#[test]
fn torn_certificate_leaves_the_previous_one_and_zeros_count_as_torn() {
    let src = tempfile::tempdir().unwrap();
    let (mut bytes, _) = with_last(src.path(), C);
    let mut bad_crc = bytes.clone();
    *bad_crc.last_mut().unwrap() ^= 1;
    let dir = tempfile::tempdir().unwrap();
    for torn in [&bytes[..bytes.len() - 1], &bad_crc] {
        fs::write(seg(dir.path(), 1), torn).unwrap();
        let (j, report) = Journal::open(dir.path(), BIG).unwrap();
        assert_eq!(report.dropped_torn_tail, Some(3));
        assert_eq!(get(&j, C, 3), Some(p(C, 3, 0)));
    }
    // A crash can also leave the file extended with zeros.
    bytes.resize(bytes.len() + 5000, 0);
    fs::write(seg(dir.path(), 1), &bytes).unwrap();
    let (mut j, report) = Journal::open(dir.path(), BIG).unwrap();
    assert_eq!(
        (report.dropped_torn_tail, report.dropped_tail_bytes),
        (Some(4), 5000)
    );
    assert_eq!(get(&j, C, 3), Some(p(C, 3, 1)));
    fill(&mut j, 4, 4);
}

#[test]
fn flipped_byte_in_the_last_segment_fails_open_naming_file_and_height() {
    for (what, delta) in [("payload", HEADER + 3), ("kind", 4), ("length", 13)] {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path(), BIG).unwrap();
        fill(&mut j, 1, 5);
        drop(j);
        flip(&seg(dir.path(), 1), block_at(3) + delta);
        let err = Journal::open(dir.path(), BIG).expect_err(what);
        assert_corrupt(err, &seg(dir.path(), 1), 3);
    }
}

#[test]
fn flipped_byte_in_an_earlier_segment_fails_get_naming_file_and_height() {
    let dir = tempfile::tempdir().unwrap();
    let first = seg(dir.path(), 1);
    let (mut j, _) = Journal::open(dir.path(), SMALL).unwrap();
    fill(&mut j, 1, 20);
    drop(j);
    flip(&first, block_at(2) + HEADER + 1);
    let (j, _) = Journal::open(dir.path(), SMALL).unwrap();
    assert_corrupt(j.get(B, 2).unwrap_err(), &first, 2);
    assert_eq!(get(&j, B, 1), Some(p(B, 1, 0)));
    drop(j);
    // A bad header there fails the scan itself, and so does a torn-
    // looking tail: only the last segment may have one.
    flip(&first, block_at(3) + 6);
    assert_corrupt(Journal::open(dir.path(), SMALL).unwrap_err(), &first, 3);
    flip(&first, block_at(3) + 6);
    let mut bytes = fs::read(&first).unwrap();
    bytes.extend_from_slice(&MAGIC[..3]);
    fs::write(&first, &bytes).unwrap();
    let err = Journal::open(dir.path(), SMALL).unwrap_err();
    assert!(err.to_string().contains("3 stray bytes"), "{err}");
    assert_corrupt(err, &first, 4);
}

#[test]
fn out_of_order_heights_and_missing_segments_fail_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for h in [1, 3] {
        bytes.extend_from_slice(&encode_header(B, h, &[b"blk"]));
        bytes.extend_from_slice(b"blk");
    }
    fs::write(seg(dir.path(), 1), &bytes).unwrap();
    let err = Journal::open(dir.path(), BIG).unwrap_err();
    assert!(err.to_string().contains("block 3 is out of order"), "{err}");
    assert_corrupt(err, &seg(dir.path(), 1), 3);

    let dir = tempfile::tempdir().unwrap();
    let (mut j, _) = Journal::open(dir.path(), SMALL).unwrap();
    fill(&mut j, 1, 20);
    drop(j);
    fs::remove_file(seg(dir.path(), 2)).unwrap();
    let err = Journal::open(dir.path(), SMALL).unwrap_err().to_string();
    assert!(err.contains("segment missing"), "{err}");
    assert!(
        err.contains(&seg(dir.path(), 2).display().to_string()),
        "{err}"
    );
}

#[test]
fn garbage_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("README"), "not ours, ignored").unwrap();
    for garbage in [
        &b"this is not a journal segment, just some text"[..],
        b"hello",
    ] {
        fs::write(seg(dir.path(), 1), garbage).unwrap();
        let err = Journal::open(dir.path(), BIG).unwrap_err().to_string();
        assert!(
            err.contains(&seg(dir.path(), 1).display().to_string()),
            "{err}"
        );
        assert!(err.contains("at an unknown height"), "{err}");
    }
    fs::remove_file(seg(dir.path(), 1)).unwrap();
    fs::write(dir.path().join("old.journal"), "x").unwrap();
    let err = Journal::open(dir.path(), BIG).unwrap_err();
    assert!(matches!(err, JournalError::StrayFile { .. }), "{err}");
    assert!(Journal::open(dir.path(), JournalConfig { segment_bytes: 0 }).is_err());
}

#[test]
fn journal_can_sit_behind_a_lock() {
    fn shareable<T: Send + Sync + fmt::Debug>() {}
    shareable::<Journal>();
    shareable::<JournalError>();
}

#[test]
fn a_record_appended_in_parts_is_one_payload() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("journal");
    let (mut j, _) = Journal::open(&dir, BIG).unwrap();
    let (head, body, tail) = (p(B, 1, 0), vec![7u8; 5000], p(C, 1, 3));
    let whole = [&head[..], &body, &tail].concat();
    j.append_parts(B, 1, &[&head, &body, &tail]).unwrap();
    j.append_parts(C, 1, &[]).unwrap();
    j.append(B, 2, &whole).unwrap();
    j.sync().unwrap();
    assert_eq!(get(&j, B, 1), Some(whole.clone()));
    assert_eq!(
        get(&j, C, 1),
        Some(Vec::new()),
        "no parts: an empty payload"
    );
    drop(j);
    // Byte for byte the record `append` writes of the whole payload.
    let bytes = fs::read(seg(&dir, 1)).unwrap();
    let first = HEADER as usize + whole.len();
    let second_at = first + HEADER as usize;
    assert_eq!(bytes[4], B);
    assert_eq!(
        bytes[HEADER as usize..first],
        bytes[second_at + HEADER as usize..second_at + HEADER as usize + whole.len()]
    );
    assert_eq!(
        bytes[13..17],
        bytes[second_at + 13..second_at + 17],
        "same length"
    );
    let crc = u32::from_le_bytes(le(&bytes, 17));
    assert_eq!(
        crc,
        record_crc(&bytes[..HEADER as usize], &whole),
        "the CRC of the whole"
    );
    let (j, report) = Journal::open(&dir, BIG).unwrap();
    assert_eq!(report.records, 3);
    assert_eq!(get(&j, B, 1), Some(whole));
    drop(j);
    // The CRC covers every part: a byte flipped in the middle one is found.
    flip(&seg(&dir, 1), HEADER + head.len() as u64 + 100);
    let err = Journal::open(&dir, BIG).expect_err("a damaged record");
    assert_corrupt(err, &seg(&dir, 1), 1);
}
