//! The format of one index run: an immutable file of key-value entries in
//! strictly ascending key order, written once and read by offset.
//!
//! ```text
//! block*   [u32 payload length][u32 CRC-32 of payload][payload]
//!          payload = entry*, entry = [u16 key len][u32 value len][key][value]
//! fences   one more block: per data block [u16 key len][u64 offset][u32 length][first key]
//! bloom    one more block: a Bloom filter of the keys, u64 words
//! trailer  [u64 fences offset][u64 bloom offset][u64 entry count][8-byte magic]
//! ```
//!
//! A reader keeps the fences (one key per block) and the Bloom filter
//! (10 bits per key) in memory. A point read asks the filter first (a key
//! the run lacks is skipped ≈ 99 % of the time without reading anything),
//! then reads the one block that can hold the key; every block is checked
//! against its CRC when read, so a flipped bit is an error naming the run,
//! never a wrong answer.
//!
//! The filter's layout follows the magic: `ASNTRUN3` runs (written now)
//! have blocked filters, `ASNTRUN2` runs (still read) spread ones; see
//! [`super::run_filter`].

use std::sync::Arc;

use super::backend::{Entries, RunFile, RunSpace, RunWriter, StoreError};
use super::run_filter::{key_hash, Bloom, KeyHash, BLOCK_WORDS};
#[cfg(test)]
use super::run_filter::{key_hash_v2, BLOOM_BITS_PER_KEY};

const MAGIC: &[u8; 8] = b"ASNTRUN3";
const MAGIC_V2: &[u8; 8] = b"ASNTRUN2";
const TRAILER: u64 = 32;
const FRAME: usize = 8;

/// Writes a run from entries given in ascending key order.
pub struct RunBuilder {
    space: RunSpace,
    id: u64,
    /// Payload size at which a data block is closed.
    block_bytes: usize,
    out: Box<dyn RunWriter>,
    block: Vec<u8>,
    block_first: Vec<u8>,
    fences: Vec<u8>,
    offset: u64,
    entries: u64,
    /// The last key pushed (empty before the first).
    last: Vec<u8>,
    bloom: Bloom,
}

fn corrupt(space: RunSpace, id: u64, why: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: format!("{} run {id:016x}", space.name()),
        why: why.into(),
    }
}

impl std::fmt::Debug for RunBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RunBuilder({} run {:016x}, {} entries)",
            self.space.name(),
            self.id,
            self.entries
        )
    }
}

impl RunBuilder {
    /// A run of about `expected` entries (the Bloom filter's size; more
    /// only raise its false positives).
    pub fn new(
        space: RunSpace,
        id: u64,
        block_bytes: usize,
        expected: usize,
        out: Box<dyn RunWriter>,
    ) -> RunBuilder {
        RunBuilder {
            bloom: Bloom::for_keys(expected),
            space,
            id,
            block_bytes,
            out,
            block: Vec::with_capacity(block_bytes + 1024),
            block_first: Vec::new(),
            fences: Vec::new(),
            offset: 0,
            entries: 0,
            last: Vec::new(),
        }
    }

    /// Appends an entry; keys must be strictly ascending.
    pub fn push(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        if self.entries > 0 && self.last.as_slice() >= key {
            return Err(corrupt(
                self.space,
                self.id,
                "entries given out of key order",
            ));
        }
        let (Ok(klen), Ok(vlen)) = (u16::try_from(key.len()), u32::try_from(value.len())) else {
            return Err(corrupt(self.space, self.id, "an entry over the size limit"));
        };
        if self.block.is_empty() {
            self.block_first = key.to_vec();
        }
        self.block.extend_from_slice(&klen.to_le_bytes());
        self.block.extend_from_slice(&vlen.to_le_bytes());
        self.block.extend_from_slice(key);
        self.block.extend_from_slice(value);
        self.entries += 1;
        self.bloom.insert(key_hash(key));
        self.last.clear();
        self.last.extend_from_slice(key);
        if self.block.len() >= self.block_bytes {
            self.close_block()?;
        }
        Ok(())
    }

    fn frame(&mut self, payload: &[u8]) -> Result<u32, StoreError> {
        let len = u32::try_from(payload.len())
            .map_err(|_| corrupt(self.space, self.id, "block too large"))?;
        let mut head = [0u8; FRAME];
        head[..4].copy_from_slice(&len.to_le_bytes());
        head[4..].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
        self.out.write(&head)?;
        self.out.write(payload)?;
        Ok(len)
    }

    fn close_block(&mut self) -> Result<(), StoreError> {
        let block = std::mem::take(&mut self.block);
        let len = self.frame(&block)?;
        let klen = self.block_first.len() as u16;
        self.fences.extend_from_slice(&klen.to_le_bytes());
        self.fences.extend_from_slice(&self.offset.to_le_bytes());
        self.fences.extend_from_slice(&len.to_le_bytes());
        self.fences.extend_from_slice(&self.block_first);
        self.offset += FRAME as u64 + u64::from(len);
        self.block = block;
        self.block.clear();
        Ok(())
    }

    /// Writes the fences and trailer and makes the run durable; returns the
    /// entry count.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        if !self.block.is_empty() {
            self.close_block()?;
        }
        let fences = std::mem::take(&mut self.fences);
        let at = self.offset;
        let len = self.frame(&fences)?;
        let bloom_at = at + FRAME as u64 + u64::from(len);
        let words: Vec<u8> = self
            .bloom
            .words()
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        self.frame(&words)?;
        let mut trailer = [0u8; TRAILER as usize];
        trailer[..8].copy_from_slice(&at.to_le_bytes());
        trailer[8..16].copy_from_slice(&bloom_at.to_le_bytes());
        trailer[16..24].copy_from_slice(&self.entries.to_le_bytes());
        trailer[24..].copy_from_slice(MAGIC);
        self.out.write(&trailer)?;
        self.out.finish()?;
        Ok(self.entries)
    }
}

#[derive(Debug)]
struct Fence {
    first: Vec<u8>,
    offset: u64,
    len: u32,
}

/// One block's entries.
type Block = Vec<(Vec<u8>, Vec<u8>)>;

/// A finished run opened for reading.
#[derive(Debug)]
pub struct RunReader {
    pub space: RunSpace,
    pub id: u64,
    pub entries: u64,
    file: Arc<dyn RunFile>,
    fences: Vec<Fence>,
    bloom: Bloom,
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Some(head)
}

fn le<const N: usize>(b: &mut &[u8]) -> Option<[u8; N]> {
    take(b, N)?.try_into().ok()
}

impl RunReader {
    pub fn open(space: RunSpace, id: u64, file: Arc<dyn RunFile>) -> Result<RunReader, StoreError> {
        let len = file.size();
        if len < TRAILER {
            return Err(corrupt(
                space,
                id,
                format!("{len} bytes, shorter than its trailer"),
            ));
        }
        let trailer = file.read_at(len - TRAILER, TRAILER as usize)?;
        let mut t = trailer.as_slice();
        let at = le::<8>(&mut t).map(u64::from_le_bytes).unwrap_or(u64::MAX);
        let bloom_at = le::<8>(&mut t).map(u64::from_le_bytes).unwrap_or(u64::MAX);
        let entries = le::<8>(&mut t).map(u64::from_le_bytes).unwrap_or(0);
        let blocked = match t {
            _ if t == MAGIC => true,
            _ if t == MAGIC_V2 => false,
            _ => return Err(corrupt(space, id, "its trailer is not a run's (bad magic)")),
        };
        // The length of the framed block from `from` to `to`.
        let between = |from: u64, to: u64, what: &str| {
            to.checked_sub(from)
                .and_then(|n| n.checked_sub(FRAME as u64))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| corrupt(space, id, format!("its {what} offset is outside the file")))
        };
        let fence_len = between(at, bloom_at, "fence")?;
        let bloom_len = between(bloom_at, len - TRAILER, "filter")?;
        let mut reader = RunReader {
            space,
            id,
            entries,
            file,
            fences: Vec::new(),
            bloom: Bloom::Spread(Vec::new()),
        };
        let block = reader.read_block(bloom_at, bloom_len)?;
        let words: Vec<u64> = block[FRAME..]
            .chunks_exact(8)
            .filter_map(|w| w.try_into().ok().map(u64::from_le_bytes))
            .collect();
        reader.bloom = if blocked {
            if !words.len().is_multiple_of(BLOCK_WORDS) {
                return Err(corrupt(
                    space,
                    id,
                    format!(
                        "its filter is {} words, not whole {BLOCK_WORDS}-word blocks",
                        words.len()
                    ),
                ));
            }
            Bloom::Blocked(words)
        } else {
            Bloom::Spread(words)
        };
        let payload = reader.read_block(at, fence_len)?;
        let mut b = &payload[FRAME..];
        let mut fences = Vec::new();
        while !b.is_empty() {
            let fence = (|| {
                let klen = u16::from_le_bytes(le(&mut b)?) as usize;
                let offset = u64::from_le_bytes(le(&mut b)?);
                let len = u32::from_le_bytes(le(&mut b)?);
                let first = take(&mut b, klen)?.to_vec();
                Some(Fence { first, offset, len })
            })()
            .ok_or_else(|| corrupt(space, id, "its fences are cut short"))?;
            fences.push(fence);
        }
        Ok(RunReader { fences, ..reader })
    }

    /// Reads and checks the framed payload at `offset` of `len` bytes; the
    /// payload is the returned buffer from [`FRAME`] on (not copied out).
    fn read_block(&self, offset: u64, len: u32) -> Result<Vec<u8>, StoreError> {
        let framed = self.file.read_at(offset, FRAME + len as usize)?;
        let mut b = framed.as_slice();
        let stored_len = le::<4>(&mut b).map(u32::from_le_bytes);
        let crc = le::<4>(&mut b).map(u32::from_le_bytes);
        if stored_len != Some(len) {
            return Err(corrupt(
                self.space,
                self.id,
                format!("the block at offset {offset} has the wrong length"),
            ));
        }
        if crc != Some(crc32fast::hash(b)) {
            return Err(corrupt(
                self.space,
                self.id,
                format!("the block at offset {offset} fails its checksum"),
            ));
        }
        Ok(framed)
    }

    /// The entries of block `i`, in key order.
    pub fn block(&self, i: usize) -> Result<Block, StoreError> {
        let mut out = Vec::new();
        self.walk(i, |k, v| {
            out.push((k.to_vec(), v.to_vec()));
            true
        })?;
        Ok(out)
    }

    /// Calls `f` with each entry of block `i` in key order until it returns
    /// `false`; nothing is copied but what `f` keeps.
    fn walk(&self, i: usize, mut f: impl FnMut(&[u8], &[u8]) -> bool) -> Result<(), StoreError> {
        let Some(fence) = self.fences.get(i) else {
            return Ok(());
        };
        let payload = self.read_block(fence.offset, fence.len)?;
        let mut b = &payload[FRAME..];
        while !b.is_empty() {
            let entry = (|| {
                let klen = u16::from_le_bytes(le(&mut b)?) as usize;
                let vlen = u32::from_le_bytes(le(&mut b)?) as usize;
                Some((take(&mut b, klen)?, take(&mut b, vlen)?))
            })();
            let Some((k, v)) = entry else {
                return Err(corrupt(
                    self.space,
                    self.id,
                    format!("the block at offset {} is cut short", fence.offset),
                ));
            };
            if !f(k, v) {
                break;
            }
        }
        Ok(())
    }

    /// The block that holds `key` if any does: the last whose first key is
    /// not above it.
    fn block_of(&self, key: &[u8]) -> Option<usize> {
        self.fences
            .partition_point(|f| f.first.as_slice() <= key)
            .checked_sub(1)
    }

    /// The value of `hash`'s key.
    pub fn get(&self, hash: &KeyHash<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        let key = hash.key;
        if !self.bloom.may_contain(hash) {
            return Ok(None);
        }
        let Some(i) = self.block_of(key) else {
            return Ok(None);
        };
        let mut found = None;
        self.walk(i, |k, v| {
            if k == key {
                found = Some(v.to_vec());
            }
            k < key
        })?;
        Ok(found)
    }

    /// Entries with `from <= key < to`, ascending (descending when `rev`),
    /// at most `limit`.
    pub fn range(
        &self,
        from: &[u8],
        to: &[u8],
        rev: bool,
        limit: usize,
    ) -> Result<Entries, StoreError> {
        let mut out = Vec::new();
        if from >= to || limit == 0 {
            return Ok(out);
        }
        if rev {
            // The last block that can hold a key below `to`.
            let mut i = self.fences.partition_point(|f| f.first.as_slice() < to);
            while i > 0 {
                i -= 1;
                for (k, v) in self.block(i)?.into_iter().rev() {
                    if k.as_slice() >= to {
                        continue;
                    }
                    if k.as_slice() < from || out.len() == limit {
                        return Ok(out);
                    }
                    out.push((k, v));
                }
            }
        } else {
            let mut i = self.block_of(from).unwrap_or(0);
            while i < self.fences.len() {
                for (k, v) in self.block(i)? {
                    if k.as_slice() < from {
                        continue;
                    }
                    if k.as_slice() >= to || out.len() == limit {
                        return Ok(out);
                    }
                    out.push((k, v));
                }
                i += 1;
            }
        }
        Ok(out)
    }
}

/// Every entry of a run in key order, one block in memory at a time; the
/// current entry is borrowed from that block, not copied.
pub struct RunCursor {
    run: Arc<RunReader>,
    next_block: usize,
    /// The current block as read (its payload from [`FRAME`] on).
    block: Vec<u8>,
    /// Where the next entry starts in `block`.
    pos: usize,
    key: std::ops::Range<usize>,
    value: std::ops::Range<usize>,
}

impl RunCursor {
    /// A cursor before the run's first entry: call [`RunCursor::advance`].
    pub fn new(run: Arc<RunReader>) -> RunCursor {
        RunCursor {
            run,
            next_block: 0,
            block: Vec::new(),
            pos: 0,
            key: 0..0,
            value: 0..0,
        }
    }

    /// Moves to the next entry; `false` past the last.
    pub fn advance(&mut self) -> Result<bool, StoreError> {
        while self.pos >= self.block.len() {
            let Some(fence) = self.run.fences.get(self.next_block) else {
                return Ok(false);
            };
            self.block = self.run.read_block(fence.offset, fence.len)?;
            self.pos = FRAME;
            self.next_block += 1;
        }
        let at = self.pos;
        let header = self.block.get(at..at + 6).ok_or_else(|| self.cut_short())?;
        let klen = u16::from_le_bytes([header[0], header[1]]) as usize;
        let vlen = u32::from_le_bytes([header[2], header[3], header[4], header[5]]) as usize;
        let key = at + 6..at + 6 + klen;
        let value = key.end..key.end + vlen;
        if value.end > self.block.len() {
            return Err(self.cut_short());
        }
        self.pos = value.end;
        self.key = key;
        self.value = value;
        Ok(true)
    }

    fn cut_short(&self) -> StoreError {
        let offset = self
            .next_block
            .checked_sub(1)
            .and_then(|i| self.run.fences.get(i))
            .map_or(0, |f| f.offset);
        corrupt(
            self.run.space,
            self.run.id,
            format!("the block at offset {offset} is cut short"),
        )
    }

    /// The current entry's key (after an `advance` that returned `true`).
    pub fn key(&self) -> &[u8] {
        self.block.get(self.key.clone()).unwrap_or_default()
    }

    pub fn value(&self) -> &[u8] {
        self.block.get(self.value.clone()).unwrap_or_default()
    }
}

/// Rewrites a finished run (`bytes`, holding `keys`) in the older layout
/// (`ASNTRUN2`: a spread filter), as a store written before the blocked
/// filters holds it; or, with `words` set, gives it a blocked filter of
/// that many words (all set).
#[cfg(test)]
pub(super) fn rewrite_filter<'a>(
    bytes: &[u8],
    keys: impl Iterator<Item = &'a [u8]>,
    words: Option<usize>,
) -> Vec<u8> {
    let field = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let trailer = bytes.len() - TRAILER as usize;
    let bloom_at = field(trailer + 8);
    let entries = field(trailer + 16);
    let (filter, magic) = match words {
        Some(n) => (vec![u64::MAX; n], MAGIC),
        None => {
            let mut w = vec![0u64; (entries as usize * BLOOM_BITS_PER_KEY).div_ceil(64)];
            for k in keys {
                for (i, m) in Bloom::spread_probes(w.len(), key_hash_v2(k)) {
                    w[i] |= m;
                }
            }
            (w, MAGIC_V2)
        }
    };
    let payload: Vec<u8> = filter.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut out = bytes[..bloom_at as usize].to_vec();
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&bytes[trailer..trailer + 24]);
    out.extend_from_slice(magic);
    out
}
