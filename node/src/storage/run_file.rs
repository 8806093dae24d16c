//! The format of one index run: an immutable file of key-value entries in
//! strictly ascending key order, written once and read by offset.
//!
//! ```text
//! block*   [u32 payload length][u32 CRC-32 of payload][payload]
//!          payload = entry*, entry = [u16 key len][u32 value len][key][value]
//! fences   one more block: per data block [u16 key len][u64 offset][u32 length][first key]
//! trailer  [u64 fences offset][u64 entry count][8-byte magic]
//! ```
//!
//! A reader keeps the fences (one key per ~32 KiB block) in memory and reads
//! the one block that can hold a key; every block is checked against its
//! CRC when read, so a flipped bit is an error naming the run, never a
//! wrong answer.

use std::sync::Arc;

use super::backend::{Entries, RunFile, RunSpace, RunWriter, StoreError};

const MAGIC: &[u8; 8] = b"ASNTRUN1";
const TRAILER: u64 = 24;
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
    last: Option<Vec<u8>>,
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
    pub fn new(
        space: RunSpace,
        id: u64,
        block_bytes: usize,
        out: Box<dyn RunWriter>,
    ) -> RunBuilder {
        RunBuilder {
            space,
            id,
            block_bytes,
            out,
            block: Vec::with_capacity(block_bytes + 1024),
            block_first: Vec::new(),
            fences: Vec::new(),
            offset: 0,
            entries: 0,
            last: None,
        }
    }

    /// Appends an entry; keys must be strictly ascending.
    pub fn push(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        if self.last.as_deref().is_some_and(|l| l >= key) {
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
        self.last = Some(key.to_vec());
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
        self.frame(&fences)?;
        let mut trailer = [0u8; TRAILER as usize];
        trailer[..8].copy_from_slice(&at.to_le_bytes());
        trailer[8..16].copy_from_slice(&self.entries.to_le_bytes());
        trailer[16..].copy_from_slice(MAGIC);
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
        let entries = le::<8>(&mut t).map(u64::from_le_bytes).unwrap_or(0);
        if t != MAGIC {
            return Err(corrupt(space, id, "its trailer is not a run's (bad magic)"));
        }
        let fence_len = (len - TRAILER)
            .checked_sub(at)
            .and_then(|n| n.checked_sub(FRAME as u64))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| corrupt(space, id, "its fence offset is outside the file"))?;
        let reader = RunReader {
            space,
            id,
            entries,
            file,
            fences: Vec::new(),
        };
        let payload = reader.read_block(at, fence_len)?;
        let mut b = payload.as_slice();
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

    /// Reads and checks the framed payload at `offset` of `len` bytes.
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
        Ok(b.to_vec())
    }

    pub fn blocks(&self) -> usize {
        self.fences.len()
    }

    /// The entries of block `i`, in key order.
    pub fn block(&self, i: usize) -> Result<Block, StoreError> {
        let Some(f) = self.fences.get(i) else {
            return Ok(Vec::new());
        };
        let payload = self.read_block(f.offset, f.len)?;
        let mut b = payload.as_slice();
        let mut out = Vec::new();
        while !b.is_empty() {
            let entry = (|| {
                let klen = u16::from_le_bytes(le(&mut b)?) as usize;
                let vlen = u32::from_le_bytes(le(&mut b)?) as usize;
                let k = take(&mut b, klen)?.to_vec();
                let v = take(&mut b, vlen)?.to_vec();
                Some((k, v))
            })()
            .ok_or_else(|| {
                corrupt(
                    self.space,
                    self.id,
                    format!("the block at offset {} is cut short", f.offset),
                )
            })?;
            out.push(entry);
        }
        Ok(out)
    }

    /// The block that holds `key` if any does: the last whose first key is
    /// not above it.
    fn block_of(&self, key: &[u8]) -> Option<usize> {
        self.fences
            .partition_point(|f| f.first.as_slice() <= key)
            .checked_sub(1)
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(i) = self.block_of(key) else {
            return Ok(None);
        };
        let Some(f) = self.fences.get(i) else {
            return Ok(None);
        };
        // Walk the block without copying what is passed over.
        let payload = self.read_block(f.offset, f.len)?;
        let mut b = payload.as_slice();
        while !b.is_empty() {
            let entry = (|| {
                let klen = u16::from_le_bytes(le(&mut b)?) as usize;
                let vlen = u32::from_le_bytes(le(&mut b)?) as usize;
                Some((take(&mut b, klen)?, take(&mut b, vlen)?))
            })();
            match entry {
                Some((k, v)) if k == key => return Ok(Some(v.to_vec())),
                Some((k, _)) if k > key => return Ok(None),
                Some(_) => {}
                None => {
                    return Err(corrupt(
                        self.space,
                        self.id,
                        format!("the block at offset {} is cut short", f.offset),
                    ))
                }
            }
        }
        Ok(None)
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

/// Every entry of a run in key order, one block in memory at a time.
pub struct RunIter {
    run: Arc<RunReader>,
    next_block: usize,
    pending: std::vec::IntoIter<(Vec<u8>, Vec<u8>)>,
}

impl RunIter {
    pub fn new(run: Arc<RunReader>) -> RunIter {
        RunIter {
            run,
            next_block: 0,
            pending: Vec::new().into_iter(),
        }
    }
}

impl Iterator for RunIter {
    type Item = Result<(Vec<u8>, Vec<u8>), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.pending.next() {
                return Some(Ok(e));
            }
            if self.next_block >= self.run.blocks() {
                return None;
            }
            match self.run.block(self.next_block) {
                Ok(b) => self.pending = b.into_iter(),
                Err(e) => {
                    self.next_block = usize::MAX;
                    return Some(Err(e));
                }
            }
            self.next_block += 1;
        }
    }
}
