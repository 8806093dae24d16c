//! State snapshots this node serves to nodes that sync from one
//! ([`assent_contracts::snapshot`]): every `snapshot_interval` heights the
//! committed state is written to `data/snapshots/<height>/` as 256 chunk
//! files (records in tree-path order) and a `manifest.json`; the last
//! [`KEEP`] are kept.
//!
//! Writing one reads the state through a pinned [`StateSnapshot`] in pages
//! (sled, then the unpersisted layers), sorts records into per-chunk files
//! on disk, then seals each chunk in turn: memory holds one chunk, never
//! the whole state. The directory appears under its final name only when
//! complete (written as `tmp-<height>`, renamed); a half-written one left
//! by a crash is removed on start.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use assent_contracts::snapshot::{self, Chunk, Manifest, CHUNKS, SNAPSHOT_VERSION};
use assent_contracts::Height;

use super::{Store, StoreError};

/// Snapshots kept on disk.
pub const KEEP: usize = 2;

/// The snapshots of one node.
#[derive(Debug)]
pub struct Snapshots {
    dir: PathBuf,
    /// Heights between snapshots; 0: none are taken.
    interval: u64,
    busy: AtomicBool,
}

fn io(what: &Path, e: std::io::Error) -> StoreError {
    StoreError::Corrupt {
        what: format!("snapshot file {}", what.display()),
        why: e.to_string(),
    }
}

impl Snapshots {
    /// Opens `dir` (created if missing), removing half-written snapshots.
    pub fn open(dir: PathBuf, interval: u64) -> Result<Snapshots, StoreError> {
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))?.flatten() {
            if entry.file_name().to_string_lossy().starts_with("tmp-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        Ok(Snapshots {
            dir,
            interval,
            busy: AtomicBool::new(false),
        })
    }

    fn heights(&self) -> Vec<u64> {
        let mut hs: Vec<u64> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        hs.sort_unstable_by(|a, b| b.cmp(a));
        hs
    }

    /// The manifests of the kept snapshots, newest first.
    pub fn list(&self) -> Vec<Manifest> {
        self.heights()
            .into_iter()
            .filter_map(|h| {
                let text =
                    std::fs::read(self.dir.join(h.to_string()).join("manifest.json")).ok()?;
                serde_json::from_slice(&text).ok()
            })
            .collect()
    }

    /// The bytes of chunk `index` of the snapshot at `height`, if kept.
    pub fn chunk(&self, height: u64, index: usize) -> Option<Vec<u8>> {
        if index >= CHUNKS {
            return None;
        }
        std::fs::read(
            self.dir
                .join(height.to_string())
                .join(format!("chunk-{index:03}")),
        )
        .ok()
    }

    /// Takes a snapshot in the background if `h` is due and none is being
    /// written.
    pub fn maybe_take(self: &std::sync::Arc<Self>, store: &Store, h: Height) {
        if self.interval == 0 || h.0 == 0 || !h.0.is_multiple_of(self.interval) {
            return;
        }
        if self.busy.swap(true, Ordering::AcqRel) {
            tracing::warn!(target: "assent::storage", height = h.0, "the previous state snapshot is still being written; skipping this one");
            return;
        }
        let (me, store) = (self.clone(), store.clone());
        let spawned = std::thread::Builder::new()
            .name("assent-snapshot".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                match me.take(&store) {
                    Ok(m) => tracing::info!(target: "assent::storage", height = m.height.0, records = m.records(), ms = started.elapsed().as_millis() as u64, "state snapshot written"),
                    Err(e) => tracing::error!(target: "assent::storage", error = %e, "writing a state snapshot failed; the node serves the older ones"),
                }
                me.busy.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.busy.store(false, Ordering::Release);
        }
    }

    /// Writes a snapshot of the committed state now.
    pub fn take(&self, store: &Store) -> Result<Manifest, StoreError> {
        let snap = store.snapshot();
        let h = snap.height();
        let header = store
            .block(h)?
            .ok_or_else(|| StoreError::Corrupt {
                what: format!("block {h}"),
                why: "committed but missing from the journal".into(),
            })?
            .header;
        let tmp = self.dir.join(format!("tmp-{}", h.0));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        // Sort records into one raw file per chunk: len-prefixed key, value.
        let raw = |i: usize| tmp.join(format!("raw-{i:03}"));
        let mut files = (0..CHUNKS)
            .map(|i| {
                std::fs::File::create(raw(i))
                    .map(|f| BufWriter::with_capacity(8 * 1024, f))
                    .map_err(|e| io(&raw(i), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        snap.for_each_record(&mut |k, v| {
            let i = snapshot::chunk_index(k);
            let w = &mut files[i];
            let put = |w: &mut BufWriter<std::fs::File>, b: &[u8]| {
                w.write_all(&(b.len() as u32).to_le_bytes())?;
                w.write_all(b)
            };
            put(w, k)
                .and_then(|()| put(w, v))
                .map_err(|e| io(&raw(i), e))
        })?;
        drop(snap);
        for (i, mut f) in files.into_iter().enumerate() {
            f.flush().map_err(|e| io(&raw(i), e))?;
        }
        let mut chunks = Vec::with_capacity(CHUNKS);
        for i in 0..CHUNKS {
            let records = read_raw(&raw(i))?;
            let (info, bytes) = snapshot::seal_chunk(records);
            let path = tmp.join(format!("chunk-{i:03}"));
            std::fs::write(&path, &bytes).map_err(|e| io(&path, e))?;
            std::fs::remove_file(raw(i)).map_err(|e| io(&raw(i), e))?;
            chunks.push(info);
        }
        let manifest = Manifest {
            version: SNAPSHOT_VERSION.to_string(),
            chain_id: header.chain_id.clone(),
            height: h,
            state_root: header.state_root,
            chunks,
        };
        // The node's own snapshot must check against its own header.
        manifest.check(&header).map_err(|e| StoreError::Corrupt {
            what: format!("state snapshot at height {h}"),
            why: e.to_string(),
        })?;
        let text = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        let path = tmp.join("manifest.json");
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
        let done = self.dir.join(h.0.to_string());
        let _ = std::fs::remove_dir_all(&done);
        std::fs::rename(&tmp, &done).map_err(|e| io(&done, e))?;
        for old in self.heights().into_iter().skip(KEEP) {
            let _ = std::fs::remove_dir_all(self.dir.join(old.to_string()));
        }
        Ok(manifest)
    }
}

fn read_raw(path: &Path) -> Result<Chunk, StoreError> {
    let mut r = BufReader::new(std::fs::File::open(path).map_err(|e| io(path, e))?);
    let mut records = Vec::new();
    let next = |r: &mut BufReader<std::fs::File>| -> std::io::Result<Option<Vec<u8>>> {
        let mut len = [0u8; 4];
        match r.read_exact(&mut len) {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            other => other?,
        }
        let mut b = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut b)?;
        Ok(Some(b))
    };
    while let Some(k) = next(&mut r).map_err(|e| io(path, e))? {
        let v = next(&mut r)
            .map_err(|e| io(path, e))?
            .ok_or_else(|| io(path, std::io::ErrorKind::UnexpectedEof.into()))?;
        records.push((k, v));
    }
    Ok(records)
}
