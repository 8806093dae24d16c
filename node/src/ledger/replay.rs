//! `assentd replay`: re-executes a stopped node's stored chain from genesis
//! and checks it, block by block: strict decode, every tx signature (batch
//! rule), the commit certificate against the validator set of that height,
//! the parent link, and the txs, results and state roots of every header.
//!
//! State lives in memory during a replay (the node's store is only read), so
//! this measures what re-execution itself costs: decoding, signature checks
//! and the contracts. Signature checks of later blocks run on the other cores
//! while the current block executes, and the executing thread checks the
//! next block nobody has taken instead of waiting for its own.

use std::path::Path;
use std::time::{Duration, Instant};

use assent_contracts::crypto::{SignerKeys, SIGNER_KEYS_PER_GENERATION};
use assent_contracts::state::StateExt;
use assent_contracts::tx::{verify_covered_batch, CoveredTx};
use assent_contracts::{execute_block, Block, BlockHash, BlockHeader, Height, VerifiedTx};
use assent_genesis::Genesis;

use crate::config::NodeConfig;
use crate::storage::{Store, StoreConfig};

mod ahead;

use ahead::Ahead;

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Setup(String),
    #[error("block {height}: {why}")]
    Block { height: u64, why: String },
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub blocks: u64,
    pub txs: u64,
    pub signatures: u64,
    pub secs: f64,
    pub height: u64,
    pub state_root: String,
}

impl ReplayReport {
    pub fn tx_per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.txs as f64 / self.secs
        } else {
            0.0
        }
    }
}

struct Checked {
    height: u64,
    header: BlockHeader,
    txs: Vec<VerifiedTx>,
}

fn block_err(height: u64, why: impl Into<String>) -> ReplayError {
    ReplayError::Block {
        height,
        why: why.into(),
    }
}

/// Reads, decodes and signature-checks block `h`.
fn check_block(
    store: &Store,
    chain_id: &str,
    keys: &SignerKeys,
    h: u64,
) -> Result<Checked, ReplayError> {
    let bytes = store
        .journal_entry(Height(h))
        .map_err(|e| block_err(h, e.to_string()))?
        .ok_or_else(|| block_err(h, "missing from the block journal"))?
        .block;
    let Block {
        header,
        txs: signed,
    } = Block::decode(&bytes).map_err(|e| block_err(h, e.to_string()))?;
    let mut txs = Vec::with_capacity(signed.len());
    let signed = signed.into_iter().map(CoveredTx::new).collect();
    for r in verify_covered_batch(chain_id, signed, rand::rngs::OsRng, Some(keys)) {
        match r {
            Ok(v) => txs.push(v),
            Err(refused) => {
                return Err(block_err(
                    h,
                    format!(
                        "tx {} has a bad signature: {}",
                        refused.tx.id(),
                        refused.error
                    ),
                ))
            }
        }
    }
    Ok(Checked {
        height: h,
        header,
        txs,
    })
}

/// Replays the node at `home` (which must be stopped) up to `to` (default:
/// its last block). `progress` gets a line every few seconds.
pub fn replay(
    home: &Path,
    to: Option<u64>,
    progress: &mut dyn FnMut(&str),
) -> Result<ReplayReport, ReplayError> {
    let cfg = NodeConfig::load(home).map_err(|e| ReplayError::Setup(e.to_string()))?;
    let genesis = Genesis::load(cfg.genesis_path())
        .map_err(|e| ReplayError::Setup(format!("{}: {e}", cfg.genesis_path().display())))?;
    // Read only: no indexer; the persister has nothing to write.
    let store_cfg = StoreConfig {
        index: false,
        ..cfg.store_config()
    };
    let store = Store::open(&cfg.store_path(), &store_cfg, &genesis).map_err(|e| {
        ReplayError::Setup(format!(
            "{e} (a running node holds its store: stop it first, e.g. `assent devnet down`)"
        ))
    })?;
    let last = store.journal_tip();
    let to = to.unwrap_or(last);
    if to > last {
        return Err(ReplayError::Setup(format!(
            "--to {to} is above the store's last block {last}"
        )));
    }
    let (mut state, mut tree) = genesis
        .initial_state()
        .to_mem_store()
        .map_err(|e| ReplayError::Setup(format!("genesis state: {e}")))?;
    let genesis_root = genesis.state_root();
    let chain_id = genesis.chain_id().to_string();
    let lanes = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1) as u64;

    let start = Instant::now();
    let mut report = ReplayReport {
        blocks: 0,
        txs: 0,
        signatures: 0,
        secs: 0.0,
        height: 0,
        state_root: genesis_root.to_string(),
    };
    let keys = SignerKeys::new(SIGNER_KEYS_PER_GENERATION);
    let check = |h| check_block(&store, &chain_id, &keys, h);
    let ahead = Ahead::new(to, 4 * (lanes + 1), &check);
    std::thread::scope(|s| -> Result<(), ReplayError> {
        // The checkers stop when this closure ends, even by a panic, before
        // the scope waits for them.
        let _stop = ahead.stop_on_drop();
        for _ in 0..lanes {
            s.spawn(|| ahead.checker());
        }
        let mut root = genesis_root;
        let mut prev_hash = BlockHash::default();
        let mut last_print = Instant::now();
        for h in 1..=to {
            let c = ahead.block(h)?;
            if c.height != h {
                return Err(block_err(
                    h,
                    format!("checker sent block {} out of order", c.height),
                ));
            }
            let header = &c.header;
            if header.height.0 != h || header.chain_id != chain_id {
                return Err(block_err(
                    h,
                    "the stored block is for another height or chain",
                ));
            }
            if h > 1 && header.prev_hash != prev_hash {
                return Err(block_err(
                    h,
                    "its parent hash is not the previous block's hash",
                ));
            }
            let validators = state
                .validators()
                .map_err(|e| block_err(h, e.to_string()))?;
            let cert = store
                .journal_certificate(Height(h))
                .map_err(|e| block_err(h, e.to_string()))?
                .ok_or_else(|| block_err(h, "no commit certificate stored"))?;
            cert.verify_for(&chain_id, header, &validators)
                .map_err(|e| block_err(h, format!("commit certificate: {e}")))?;
            let out = execute_block(&state, &header.context(), &tree, &c.txs)
                .map_err(|e| block_err(h, e.to_string()))?;
            for (field, got, want) in [
                ("txs_root", out.txs_root, header.txs_root),
                ("results_root", out.results_root, header.results_root),
                ("state_root", out.state_root, header.state_root),
            ] {
                if got != want {
                    return Err(block_err(
                        h,
                        format!("re-execution gives {field} {got}, the header says {want}"),
                    ));
                }
            }
            state.apply(&out.writes);
            tree = out.tree;
            root = out.state_root;
            prev_hash = header.hash();
            report.blocks += 1;
            report.txs += c.txs.len() as u64;
            report.signatures += c.txs.len() as u64 + cert.signatures.len() as u64;
            report.height = h;
            if last_print.elapsed() >= Duration::from_secs(2) {
                last_print = Instant::now();
                let secs = start.elapsed().as_secs_f64();
                progress(&format!(
                    "height {h}/{to}: {} txs in {secs:.1} s ({:.0} tx/s)",
                    report.txs,
                    report.txs as f64 / secs
                ));
            }
        }
        report.state_root = root.to_string();
        Ok(())
    })?;
    report.secs = start.elapsed().as_secs_f64();
    Ok(report)
}
