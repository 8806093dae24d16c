//! The block journal: an append-only, segmented, checksummed record log and
//! the node's source of truth for the committed chain.
//!
//! Format. Segments are `DIR/NNNNNNNN.journal` (8+ digit sequence, no gaps).
//! A segment is a run of records, each a 25-byte little-endian header then
//! the payload: `magic "ASJ\x01" (4) | kind u8 | height u64 | len u32 |
//! crc u32 | hcrc u32`, where `crc` is CRC32 of bytes 0..17 plus the payload
//! and `hcrc` is CRC32 of bytes 0..21, so a header is trusted (and the scan
//! can hop over payloads it does not read) without reading its payload.
//!
//! Invariants:
//! - Blocks (kind 1) appear at most once per height, at strictly consecutive
//!   heights (the first may be any height >= 1). A certificate (kind 2)
//!   follows the block of its height; the latest certificate wins.
//! - Only the last segment can hold a torn record: a segment is fdatasynced
//!   before the next one is created, so a bad record anywhere else is
//!   corruption, never a crash artifact.
//! - `open` reads every header; the last segment's payloads are CRC-checked
//!   at open, the others' when `get` reads them. A torn tail (a prefix of a
//!   record, a record failing its CRC that ends exactly at EOF, or trailing
//!   zeros) is truncated away; anything bad followed by more data fails
//!   `open` with an error naming the file and the height.
//! - After a failed write or sync the journal refuses further writes (the
//!   node must stop and reopen, which repairs the tail): fsync errors cannot
//!   be retried safely and a half-written record must not be followed.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A committed block's bytes; at most one per height.
pub const KIND_BLOCK: u8 = 1;
/// A commit certificate for a height that already has a block.
pub const KIND_CERTIFICATE: u8 = 2;
/// Largest payload a record may carry.
pub const MAX_PAYLOAD: usize = 64 * 1024 * 1024;
/// Default segment size.
pub const DEFAULT_SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

use super::journal_record::{
    encode_header, le, parse_header, record_crc, Header, Parsed, HEADER_LEN, MAGIC,
};

pub use super::journal_error::JournalError;
use super::journal_error::{corrupt, io_err};

const HEADER: u64 = HEADER_LEN as u64;
const SUFFIX: &str = ".journal";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalConfig {
    /// Roll to a new segment once the current one reaches this size.
    pub segment_bytes: u64,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            segment_bytes: DEFAULT_SEGMENT_BYTES,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Height of a dropped torn last record: from its header when that much
    /// survived, else the height after the previous good record. None when
    /// nothing was dropped, or (rarely) when the journal held no good record.
    pub dropped_torn_tail: Option<u64>,
    /// Bytes cut off the last segment (0 when nothing was dropped).
    pub dropped_tail_bytes: u64,
    pub segments: usize,
    pub records: u64,
}

/// Where a record lives: (segment index, header offset, payload length).
#[derive(Clone, Copy)]
struct Loc(u32, u64, u32);

/// (height, kind) -> location. Block heights are consecutive, so a Vec of
/// (block, latest certificate) indexed by `height - first` is the map.
#[derive(Default)]
struct Index {
    first: u64,
    slots: Vec<(Loc, Option<Loc>)>,
}

impl Index {
    fn last_block(&self) -> Option<u64> {
        let n = u64::try_from(self.slots.len()).ok()?;
        n.checked_sub(1).map(|i| self.first + i)
    }

    fn slot(&self, height: u64) -> Option<usize> {
        let i = usize::try_from(height.checked_sub(self.first)?).ok()?;
        (i < self.slots.len()).then_some(i)
    }

    fn loc(&self, kind: u8, height: u64) -> Result<Option<Loc>, JournalError> {
        let slot = self.slot(height).and_then(|i| self.slots.get(i));
        match kind {
            KIND_BLOCK => Ok(slot.map(|s| s.0)),
            KIND_CERTIFICATE => Ok(slot.and_then(|s| s.1)),
            _ => Err(JournalError::UnknownKind { kind, height }),
        }
    }

    /// The ordering rules, shared by `append` (misuse) and `open` (corruption).
    fn check(&self, kind: u8, height: u64) -> Result<(), JournalError> {
        let last = self.last_block();
        match kind {
            KIND_BLOCK if height >= 1 && last.is_none_or(|l| l.checked_add(1) == Some(height)) => {
                Ok(())
            }
            KIND_BLOCK => {
                let expected = last.map_or(1, |l| l.saturating_add(1));
                Err(JournalError::NonConsecutiveBlock { height, expected })
            }
            KIND_CERTIFICATE if self.slot(height).is_some() => Ok(()),
            KIND_CERTIFICATE => Err(JournalError::CertificateWithoutBlock { height }),
            _ => Err(JournalError::UnknownKind { kind, height }),
        }
    }

    /// Records a location; `check` must have passed.
    fn insert(&mut self, kind: u8, height: u64, loc: Loc) {
        if kind == KIND_BLOCK {
            if self.slots.is_empty() {
                self.first = height;
            }
            self.slots.push((loc, None));
        } else if let Some(slot) = self.slot(height).and_then(|i| self.slots.get_mut(i)) {
            slot.1 = Some(loc);
        }
    }
}

fn segment_name(seq: u64) -> String {
    format!("{seq:08}{SUFFIX}")
}

/// Sorted segment sequence numbers. Any other `*.journal` name is refused
/// rather than skipped: it may be a segment someone renamed.
fn list_segments(dir: &Path) -> Result<Vec<u64>, JournalError> {
    let mut seqs = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(SUFFIX) else {
            continue;
        };
        match stem.parse::<u64>() {
            Ok(seq) if segment_name(seq) == name => seqs.push(seq),
            _ => return Err(JournalError::StrayFile { path: entry.path() }),
        }
    }
    seqs.sort_unstable();
    Ok(seqs)
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

fn all_zero(file: &File, path: &Path, mut pos: u64, end: u64) -> Result<bool, JournalError> {
    let mut buf = vec![0u8; 64 * 1024];
    while pos < end {
        let n = usize::try_from(end - pos).map_or(buf.len(), |r| r.min(buf.len()));
        let chunk = &mut buf[..n];
        file.read_exact_at(chunk, pos).map_err(io_err(path))?;
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        pos += n as u64;
    }
    Ok(true)
}

struct Segment {
    seq: u64,
    path: PathBuf,
    len: u64,
}

/// Index state carried across segments while `open` scans them.
#[derive(Default)]
struct Scan {
    index: Index,
    /// Height of the last good record, to name where a bad one sits.
    prev: Option<u64>,
    records: u64,
}

impl Scan {
    /// The height after the last good record: where a record whose own
    /// header is unreadable most likely belongs.
    fn next(&self) -> Option<u64> {
        self.prev.map(|h| h.saturating_add(1))
    }

    /// Indexes one segment; returns the offset and best-known height of a
    /// torn tail (only ever in the `last` segment).
    fn segment(
        &mut self,
        seg: u32,
        path: &Path,
        file: &File,
        len: u64,
        last: bool,
    ) -> Result<Option<(u64, Option<u64>)>, JournalError> {
        let (mut pos, mut payload) = (0u64, Vec::new());
        if len == 0 && !last {
            return Err(corrupt(path, self.next(), 0, "empty segment before others"));
        }
        while pos < len {
            let guess = self.next();
            let bad = |height, why: &str| Err(corrupt(path, height, pos, why));
            let rest = len - pos;
            if rest < HEADER {
                let mut b = vec![0u8; rest as usize];
                file.read_exact_at(&mut b, pos).map_err(io_err(path))?;
                let n = b.len().min(MAGIC.len());
                // A crash leaves a prefix of a real header, or zeros; any
                // other short tail is damage.
                if !last || (b[..n] != MAGIC[..n] && b.iter().any(|&x| x != 0)) {
                    return bad(guess, &format!("{rest} stray bytes at the end"));
                }
                let readable = b.len() >= 13 && b[..4] == MAGIC;
                let height = readable.then(|| u64::from_le_bytes(le(&b, 5)));
                return Ok(Some((pos, height.or(guess))));
            }
            let mut hb = [0u8; HEADER_LEN];
            file.read_exact_at(&mut hb, pos).map_err(io_err(path))?;
            let Header(kind, height, plen, crc) = match parse_header(&hb) {
                Parsed::Good(h) => h,
                _ if last && all_zero(file, path, pos, len)? => return Ok(Some((pos, guess))),
                // A last record failing its checksum that ends exactly at
                // EOF is what a crash mid-append can leave.
                Parsed::BadCrc(h, l) if last && pos + HEADER + u64::from(l) == len => {
                    return Ok(Some((pos, Some(h))))
                }
                Parsed::BadMagic => return bad(guess, "bad record magic"),
                Parsed::BadCrc(..) => return bad(guess, "bad header checksum"),
            };
            let at = Some(height);
            if plen as usize > MAX_PAYLOAD {
                return bad(at, &format!("record length {plen} over the limit"));
            }
            if let Err(e) = self.index.check(kind, height) {
                return bad(at, &e.to_string());
            }
            let end = pos + HEADER + u64::from(plen);
            if end > len && last {
                return Ok(Some((pos, at)));
            } else if end > len {
                return bad(at, &format!("record runs past the segment's end ({len})"));
            }
            if last {
                payload.resize(plen as usize, 0);
                file.read_exact_at(&mut payload, pos + HEADER)
                    .map_err(io_err(path))?;
                let intact = record_crc(&hb, &payload) == crc;
                // Failing at EOF is a torn write; failing mid-file is damage.
                if !intact && end == len {
                    return Ok(Some((pos, at)));
                } else if !intact {
                    return bad(at, "record checksum mismatch");
                }
            }
            self.index.insert(kind, height, Loc(seg, pos, plen));
            (self.prev, self.records, pos) = (at, self.records + 1, end);
        }
        Ok(None)
    }
}

pub struct Journal {
    dir: PathBuf,
    cfg: JournalConfig,
    /// Full segments, oldest first. `Loc.0` indexes these; `sealed.len()`
    /// means the active segment.
    sealed: Vec<Segment>,
    active: Segment,
    /// Read-write handle on the active segment, written with `pwrite` only
    /// (never O_APPEND, with which Linux ignores the offset).
    writer: File,
    /// Read-only handle on the active segment, for `get`.
    reader: File,
    index: Index,
    bytes_written: u64,
    /// A segment was created since the directory was last fsynced.
    dir_dirty: bool,
    /// Why writes are refused, after a failed write or sync.
    failed: Option<String>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let blocks = (self.first_block_height(), self.last_block_height());
        f.debug_struct("Journal")
            .field("dir", &self.dir)
            .field("segments", &(self.sealed.len() + 1))
            .field("blocks", &blocks)
            .field("failed", &self.failed.is_some())
            .finish_non_exhaustive()
    }
}

fn open_active(path: &Path, create: bool) -> Result<(File, File), JournalError> {
    let mut opts = OpenOptions::new();
    let writer = opts.read(true).write(true).create_new(create).open(path);
    let writer = writer.map_err(io_err(path))?;
    Ok((writer, File::open(path).map_err(io_err(path))?))
}

impl Journal {
    /// Opens the journal in `dir` (created if missing), rebuilding the index
    /// and dropping a torn tail; see the module doc for what counts as torn.
    pub fn open(dir: &Path, cfg: JournalConfig) -> Result<(Journal, OpenReport), JournalError> {
        if cfg.segment_bytes == 0 {
            return Err(JournalError::Config("segment_bytes must be at least 1"));
        }
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
            // The new directory's own entry must be durable too.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let seqs = list_segments(dir)?;
        let (mut scan, mut report) = (Scan::default(), OpenReport::default());
        let mut sealed: Vec<Segment> = Vec::with_capacity(seqs.len());
        for (i, &seq) in seqs.iter().enumerate() {
            let path = dir.join(segment_name(seq));
            if let Some(prev) = sealed.last().map(|s| s.seq).filter(|p| p + 1 != seq) {
                let (missing, next) = (dir.join(segment_name(prev + 1)), segment_name(seq));
                let why = format!("segment missing (the next one is {next})");
                return Err(corrupt(&missing, scan.next(), 0, why));
            }
            let file = File::open(&path).map_err(io_err(&path))?;
            let mut len = file.metadata().map_err(io_err(&path))?.len();
            let seg = u32::try_from(i).map_err(|_| JournalError::Config("too many segments"))?;
            if let Some((at, height)) = scan.segment(seg, &path, &file, len, i + 1 == seqs.len())? {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io_err(&path))?;
                f.set_len(at)
                    .and_then(|()| f.sync_all())
                    .map_err(io_err(&path))?;
                report.dropped_torn_tail = height;
                report.dropped_tail_bytes = len - at;
                len = at;
            }
            sealed.push(Segment { seq, path, len });
        }
        let (active, dir_dirty) = match sealed.pop() {
            Some(s) => (s, false),
            None => (
                Segment {
                    seq: 1,
                    path: dir.join(segment_name(1)),
                    len: 0,
                },
                true,
            ),
        };
        let (writer, reader) = open_active(&active.path, dir_dirty)?;
        report.segments = sealed.len() + 1;
        report.records = scan.records;
        let (index, bytes_written, failed) = (scan.index, 0, None);
        let dir = dir.to_path_buf();
        let journal = Journal {
            dir,
            cfg,
            sealed,
            active,
            writer,
            reader,
            index,
            bytes_written,
            dir_dirty,
            failed,
        };
        Ok((journal, report))
    }

    /// Appends one record: readable by `get` at once, durable only after
    /// `sync`. A refused record leaves the journal unchanged.
    pub fn append(&mut self, kind: u8, height: u64, payload: &[u8]) -> Result<(), JournalError> {
        self.append_parts(kind, height, &[payload])
    }

    /// Appends one record whose payload is `parts` one after another,
    /// written from the caller's buffers (a block's bytes are not copied
    /// into a record first). As [`append`](Self::append) otherwise.
    pub fn append_parts(
        &mut self,
        kind: u8,
        height: u64,
        parts: &[&[u8]],
    ) -> Result<(), JournalError> {
        if let Some(why) = &self.failed {
            return Err(JournalError::Failed(why.clone()));
        }
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > MAX_PAYLOAD {
            return Err(JournalError::PayloadTooLarge { height, len });
        }
        self.index.check(kind, height)?;
        if self.active.len >= self.cfg.segment_bytes && self.active.len > 0 {
            self.roll().map_err(|e| self.fail(e))?;
        }
        let header = encode_header(kind, height, parts);
        let offset = self.active.len;
        let mut written = self.writer.write_all_at(&header, offset);
        let mut at = offset + HEADER;
        for part in parts {
            written = written.and_then(|()| self.writer.write_all_at(part, at));
            at += part.len() as u64;
        }
        if let Err(source) = written {
            // Best effort: reopening repairs the tail anyway, and `fail`
            // stops any record from being written after the partial one.
            let _ = self.writer.set_len(offset);
            let path = self.active.path.clone();
            return Err(self.fail(JournalError::Io { path, source }));
        }
        let seg = u32::try_from(self.sealed.len()).unwrap_or(u32::MAX);
        self.index
            .insert(kind, height, Loc(seg, offset, len as u32));
        self.active.len += HEADER + len as u64;
        self.bytes_written += HEADER + len as u64;
        Ok(())
    }

    /// Makes every appended record durable: fdatasync of the active segment
    /// (earlier ones were synced when sealed), and of the directory after a
    /// segment was created.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        if let Some(why) = &self.failed {
            return Err(JournalError::Failed(why.clone()));
        }
        let res = self.writer.sync_data().map_err(io_err(&self.active.path));
        res.and_then(|()| self.sync_dir_if_dirty())
            .map_err(|e| self.fail(e))
    }

    /// The latest record of `kind` at `height`, read from disk and CRC-checked.
    pub fn get(&self, kind: u8, height: u64) -> Result<Option<Vec<u8>>, JournalError> {
        let Some(Loc(seg, offset, len)) = self.index.loc(kind, height)? else {
            return Ok(None);
        };
        let opened;
        let (path, file) = match self.sealed.get(seg as usize) {
            // Opened per read, so a long chain does not pin a descriptor per
            // segment; old blocks are read rarely (sync, API).
            Some(s) => {
                opened = File::open(&s.path).map_err(io_err(&s.path))?;
                (&s.path, &opened)
            }
            None => (&self.active.path, &self.reader),
        };
        let bad = |why: &str| corrupt(path, Some(height), offset, why);
        let mut buf = vec![0u8; HEADER_LEN + len as usize];
        match file.read_exact_at(&mut buf, offset) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(bad("the segment was cut short since open"))
            }
            Err(e) => return Err(io_err(path)(e)),
        }
        let (hb, payload) = buf.split_at(HEADER_LEN);
        match parse_header(hb) {
            Parsed::Good(Header(k, h, l, _)) if (k, h, l) != (kind, height, len) => {
                Err(bad("the record there is not the one indexed at open"))
            }
            Parsed::Good(Header(.., crc)) if record_crc(hb, payload) != crc => {
                Err(bad("record checksum mismatch"))
            }
            Parsed::Good(_) => {
                buf.drain(..HEADER_LEN);
                Ok(Some(buf))
            }
            Parsed::BadMagic => Err(bad("bad record magic")),
            Parsed::BadCrc(..) => Err(bad("bad header checksum")),
        }
    }

    pub fn last_block_height(&self) -> Option<u64> {
        self.index.last_block()
    }

    pub fn first_block_height(&self) -> Option<u64> {
        (!self.index.slots.is_empty()).then_some(self.index.first)
    }

    /// Bytes (headers included) appended since `open`.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    pub fn size_on_disk(&self) -> u64 {
        self.sealed.iter().map(|s| s.len).sum::<u64>() + self.active.len
    }

    fn fail(&mut self, e: JournalError) -> JournalError {
        self.failed = Some(e.to_string());
        e
    }

    fn sync_dir_if_dirty(&mut self) -> Result<(), JournalError> {
        if self.dir_dirty {
            sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    fn roll(&mut self) -> Result<(), JournalError> {
        // Seal first: a segment is durable, and named in the directory,
        // before its successor exists. That is what lets `open` call any bad
        // record outside the last segment corruption, not a torn write.
        self.writer.sync_data().map_err(io_err(&self.active.path))?;
        self.sync_dir_if_dirty()?;
        // Saturating: at u64::MAX the name exists and create_new fails cleanly.
        let seq = self.active.seq.saturating_add(1);
        let path = self.dir.join(segment_name(seq));
        (self.writer, self.reader) = open_active(&path, true)?;
        let next = Segment { seq, path, len: 0 };
        self.sealed.push(std::mem::replace(&mut self.active, next));
        self.dir_dirty = true;
        Ok(())
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
