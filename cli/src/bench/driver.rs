//! Sends pre-signed txs to the nodes through `POST /v1/txs/batch` (binary
//! batches) at a
//! target rate (or as fast as the nodes take them), and follows
//! `GET /v1/events?view=blocks` on one node to time each tx from submission
//! to commit.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _, Result};
use assent_contracts::crypto::Keypair;
use assent_keys::reads;
use serde::Deserialize;
use serde_json::Value;

use super::batching::{fitting, Window};
use super::costs::Costs;
use super::workload::Prepared;

/// How a run is driven.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub label: String,
    /// Offered txs per second in all; 0 = as fast as the nodes accept.
    pub rate: u64,
    /// Most txs submitted to one node and not yet seen committed.
    pub max_outstanding: usize,
    /// Once everything is sent, how long to wait without a new commit
    /// before the txs still pending are counted lost.
    pub drain: Duration,
    /// Print a progress line every second (to stderr).
    pub progress: bool,
    /// The operator key (and chain id) the block stream is read with: the
    /// blocks view is for operators.
    pub reader: Option<(Arc<Keypair>, String)>,
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    pub label: String,
    pub offered_rate: u64,
    pub submitted: usize,
    /// Seconds from the first submission to the last one.
    pub submit_secs: f64,
    /// Seconds from the first submission to the last commit seen.
    pub commit_secs: f64,
    /// Applied in a block.
    pub committed: usize,
    /// Refused at admission, by code (not counting `overloaded`, which the
    /// bench honours: it waits the `Retry-After` and sends the tx again).
    pub refused: BTreeMap<String, u64>,
    /// Refusals `overloaded` (backpressure) the bench waited out and retried.
    pub deferred: u64,
    /// Included in a block but rejected, by code.
    pub rejected: BTreeMap<String, u64>,
    /// Admitted but never seen in a block before the drain ended.
    pub lost: usize,
    /// Submit → commit latency of every tx seen in a block, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// Scheduled → commit latency (from when the offered rate made each tx
    /// due, so waits at the client for backpressure count too), sorted;
    /// empty when the run offered as fast as accepted.
    pub from_due_us: Vec<u64>,
    pub uses_settled: u64,
    pub uses_rejected: BTreeMap<String, u64>,
    pub blocks: u64,
    pub first_height: u64,
    pub last_height: u64,
    /// Largest number of txs in one block.
    pub max_block_txs: usize,
    /// What the run cost the validators; measured runs only, filled in by the caller.
    pub costs: Option<Costs>,
}

#[derive(Deserialize)]
struct BlockSummary {
    height: u64,
    applied: Vec<String>,
    rejected: Vec<(String, String)>,
    uses_settled: u64,
    uses_rejected: BTreeMap<String, u64>,
}

/// Shared between the submitters, the watcher and the progress printer.
struct Track {
    t0: Instant,
    /// The offered rate (tx/s; 0 = as fast as accepted): tx `i` is due
    /// `i / rate` seconds after t0.
    rate: u64,
    /// Tx id → position in the run.
    index: HashMap<String, u32>,
    /// Nanoseconds after t0 each tx was sent (0 = not yet).
    sent_at: Vec<AtomicU64>,
    /// Node each tx went to.
    node_of: Vec<u8>,
    /// Per node: txs seen in a block (applied or rejected), for backpressure.
    done_per_node: Vec<AtomicU64>,
    /// Txs finished: seen in a block or refused at admission.
    finished: AtomicU64,
    submitted: AtomicU64,
    stop: AtomicBool,
    watch: Mutex<Watched>,
    refused: Mutex<BTreeMap<String, u64>>,
    refused_count: AtomicU64,
    /// `overloaded` refusals waited out and sent again.
    deferred: AtomicU64,
}

#[derive(Default)]
struct Watched {
    latencies_us: Vec<u64>,
    from_due_us: Vec<u64>,
    recent_us: Vec<u64>,
    committed: usize,
    rejected: BTreeMap<String, u64>,
    uses_settled: u64,
    uses_rejected: BTreeMap<String, u64>,
    blocks: u64,
    first_height: u64,
    last_height: u64,
    last_commit_ns: u64,
    max_block_txs: usize,
    error: Option<String>,
}

fn http_client(timeout: Option<Duration>) -> Result<reqwest::blocking::Client> {
    let mut b = reqwest::blocking::Client::builder().no_proxy();
    if let Some(t) = timeout {
        b = b.timeout(t);
    } else {
        b = b.timeout(None::<Duration>);
    }
    b.build().context("cannot set up an HTTP client")
}

/// Opens the block stream of `url`; returns once the node answered, so
/// every block committed after this call is seen.
fn open_stream(
    url: &str,
    reader: Option<&(Arc<Keypair>, String)>,
) -> Result<reqwest::blocking::Response> {
    let target = "/v1/events?view=blocks";
    let mut req = http_client(None)?.get(format!("{url}{target}"));
    if let Some((key, chain)) = reader {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let h = reads::sign(key, chain, "GET", target, now, reads::DEFAULT_LIFETIME_S);
        req = req
            .header(reads::SIGNATURE_INPUT, h.signature_input)
            .header(reads::SIGNATURE, h.signature);
    }
    let resp = req
        .send()
        .with_context(|| format!("cannot open the event stream of {url}"))?;
    if !resp.status().is_success() {
        return Err(anyhow!(
            "{url}/v1/events?view=blocks answered HTTP {}; is this an assentd with the blocks view?",
            resp.status()
        ));
    }
    Ok(resp)
}

fn watch(track: Arc<Track>, resp: reqwest::blocking::Response) {
    let mut reader = BufReader::new(resp);
    let mut line = String::new();
    let mut event = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => {
                track
                    .watch
                    .lock()
                    .map(|mut w| w.error = Some("the event stream ended".into()))
                    .ok();
                return;
            }
            Ok(_) => {}
            Err(e) => {
                track
                    .watch
                    .lock()
                    .map(|mut w| w.error = Some(format!("the event stream broke: {e}")))
                    .ok();
                return;
            }
        }
        let l = line.trim_end();
        if let Some(ev) = l.strip_prefix("event:") {
            event = ev.trim().to_string();
        } else if let Some(data) = l.strip_prefix("data:") {
            if event == "block" {
                let now = track.t0.elapsed().as_nanos() as u64;
                match serde_json::from_str::<BlockSummary>(data.trim()) {
                    Ok(b) => record_block(&track, b, now),
                    Err(e) => {
                        track
                            .watch
                            .lock()
                            .map(|mut w| {
                                w.error = Some(format!("a block event did not parse: {e}"))
                            })
                            .ok();
                        return;
                    }
                }
            }
        } else if l.is_empty() {
            event.clear();
        }
        if track.stop.load(Ordering::Relaxed) {
            return;
        }
    }
}

fn record_block(track: &Track, b: BlockSummary, now_ns: u64) {
    let mut lat = Vec::new();
    let mut from_due = Vec::new();
    let mut committed = 0usize;
    let mut rejected: Vec<String> = Vec::new();
    let mut ours = 0usize;
    let ids = b
        .applied
        .iter()
        .map(|id| (id, None))
        .chain(b.rejected.iter().map(|(id, code)| (id, Some(code))));
    for (id, code) in ids {
        let Some(&seq) = track.index.get(id.as_str()) else {
            continue;
        };
        ours += 1;
        let sent = track.sent_at[seq as usize].load(Ordering::Relaxed);
        if sent > 0 {
            lat.push(now_ns.saturating_sub(sent) / 1_000);
        }
        if let Some(due_ns) = u64::from(seq)
            .saturating_mul(1_000_000_000)
            .checked_div(track.rate)
        {
            from_due.push(now_ns.saturating_sub(due_ns) / 1_000);
        }
        match code {
            None => committed += 1,
            Some(c) => rejected.push(c.clone()),
        }
        let node = track.node_of[seq as usize] as usize;
        track.done_per_node[node].fetch_add(1, Ordering::Relaxed);
    }
    track.finished.fetch_add(ours as u64, Ordering::Relaxed);
    let Ok(mut w) = track.watch.lock() else {
        return;
    };
    if w.first_height == 0 {
        w.first_height = b.height;
    }
    w.last_height = b.height;
    w.blocks += 1;
    if ours > 0 {
        w.last_commit_ns = now_ns;
        w.max_block_txs = w.max_block_txs.max(ours);
        w.uses_settled += b.uses_settled;
        for (code, n) in b.uses_rejected {
            *w.uses_rejected.entry(code).or_default() += n;
        }
    }
    w.committed += committed;
    for c in rejected {
        *w.rejected.entry(c).or_default() += 1;
    }
    w.recent_us.extend_from_slice(&lat);
    w.latencies_us.extend(lat);
    w.from_due_us.extend(from_due);
}

/// Submits node `k`'s share: `items` are (position in run, tx).
fn submit(
    track: Arc<Track>,
    url: String,
    k: usize,
    items: Vec<(u32, &Prepared)>,
    cfg: &RunConfig,
) -> Result<()> {
    let client = http_client(Some(Duration::from_secs(120)))?;
    let mut sent = 0usize;
    let rate = cfg.rate as f64;
    // How many txs, and bytes of them, the next batch offers: after a
    // refusal, twice what the node took (so a busy node is not sent
    // thousands of txs, or megabytes, to refuse again every 100 ms),
    // growing back while it takes everything.
    let mut window = Window::FULL;
    while sent < items.len() && !track.stop.load(Ordering::Relaxed) {
        let due = if cfg.rate == 0 {
            items.len()
        } else {
            let allowed = (track.t0.elapsed().as_secs_f64() * rate) as u32;
            items.partition_point(|(pos, _)| *pos < allowed)
        };
        let done = track.done_per_node[k].load(Ordering::Relaxed) as usize;
        let outstanding = sent.saturating_sub(done);
        let room = cfg.max_outstanding.saturating_sub(outstanding);
        let n = due.saturating_sub(sent).min(window.txs).min(room);
        let n = fitting(&items[sent..sent + n], window.bytes);
        if n == 0 {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let batch = &items[sent..sent + n];
        // A binary batch: the raw txs in the codec's framing, no JSON or
        // hex for the node to scan (its cheapest way in, as a
        // high-volume client would send them).
        let body = assent_contracts::codec::encode_native(
            &batch
                .iter()
                .map(|(_, p)| p.bytes.as_slice())
                .collect::<Vec<&[u8]>>(),
        )?;
        let at = (track.t0.elapsed().as_nanos() as u64).max(1);
        for (pos, _) in batch {
            track.sent_at[*pos as usize].store(at, Ordering::Relaxed);
        }
        let resp = client
            .post(format!("{url}/v1/txs/batch"))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .with_context(|| format!("POST {url}/v1/txs/batch failed"))?;
        let status = resp.status();
        let retry_header = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let v: Value = resp
            .json()
            .with_context(|| format!("{url}/v1/txs/batch answered HTTP {status} without JSON"))?;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS
            && v.get("code").and_then(Value::as_str) == Some("rate_limited")
        {
            // Over the node's per-client request rate (one node taking the
            // whole load): the same batch again after the wait it asks for.
            let ms = v
                .get("retry_after_ms")
                .and_then(Value::as_u64)
                .unwrap_or(1_000);
            std::thread::sleep(Duration::from_millis(ms.clamp(1, 10_000)));
            continue;
        }
        let Some(results) = v.get("results").and_then(Value::as_array) else {
            return Err(anyhow!("{url}/v1/txs/batch answered HTTP {status}: {v}"));
        };
        // Backpressure: the node took what fitted and refused the rest
        // `overloaded`; those are sent again after its Retry-After.
        let over = results
            .iter()
            .position(|r| r.get("code").and_then(Value::as_str) == Some("overloaded"));
        let settled = over.unwrap_or(results.len()).min(n);
        track.submitted.fetch_add(settled as u64, Ordering::Relaxed);
        let mut refused = 0u64;
        for r in &results[..settled] {
            if let Some(code) = r.get("code").and_then(Value::as_str) {
                refused += 1;
                if let Ok(mut m) = track.refused.lock() {
                    *m.entry(code.to_string()).or_default() += 1;
                }
            }
        }
        // Refused txs never reach a block: count them as done for backpressure.
        track.done_per_node[k].fetch_add(refused, Ordering::Relaxed);
        track.finished.fetch_add(refused, Ordering::Relaxed);
        track.refused_count.fetch_add(refused, Ordering::Relaxed);
        sent += settled;
        let settled_bytes = batch[..settled].iter().map(|(_, p)| p.bytes.len()).sum();
        window = window.next(settled, settled_bytes, n);
        if settled < n {
            track
                .deferred
                .fetch_add((n - settled) as u64, Ordering::Relaxed);
            // The precise wait when the node gives one, else its header.
            let ms = v
                .get("retry_after_ms")
                .and_then(Value::as_u64)
                .or_else(|| retry_header.map(|s| s.saturating_mul(1000)))
                .or_else(|| {
                    v.get("retry_after_s")
                        .and_then(Value::as_u64)
                        .map(|s| s * 1000)
                })
                .unwrap_or(1000)
                .clamp(50, 60_000);
            let until = Instant::now() + Duration::from_millis(ms);
            while Instant::now() < until && !track.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    Ok(())
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `txs` against `urls` (node i gets the txs planned for node i mod n).
pub fn run(urls: &[String], txs: &[Prepared], cfg: &RunConfig) -> Result<RunResult> {
    if urls.is_empty() {
        return Err(anyhow!("no node to send to"));
    }
    let index: HashMap<String, u32> = txs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i as u32))
        .collect();
    let resp = open_stream(&urls[0], cfg.reader.as_ref())?;
    let track = Arc::new(Track {
        t0: Instant::now(),
        rate: cfg.rate,
        index,
        sent_at: (0..txs.len()).map(|_| AtomicU64::new(0)).collect(),
        node_of: txs.iter().map(|p| (p.node % urls.len()) as u8).collect(),
        done_per_node: (0..urls.len()).map(|_| AtomicU64::new(0)).collect(),
        finished: AtomicU64::new(0),
        submitted: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        watch: Mutex::new(Watched::default()),
        refused: Mutex::new(BTreeMap::new()),
        refused_count: AtomicU64::new(0),
        deferred: AtomicU64::new(0),
    });
    let watcher = {
        let t = track.clone();
        std::thread::spawn(move || watch(t, resp))
    };
    let mut per_node: Vec<Vec<(u32, &Prepared)>> = vec![Vec::new(); urls.len()];
    for (i, p) in txs.iter().enumerate() {
        per_node[p.node % urls.len()].push((i as u32, p));
    }
    let total = txs.len() as u64;
    let mut submit_end = Duration::ZERO;
    let outcome: Result<()> = std::thread::scope(|s| {
        let handles: Vec<_> = per_node
            .into_iter()
            .enumerate()
            .map(|(k, items)| {
                let t = track.clone();
                let url = urls[k].clone();
                s.spawn(move || submit(t, url, k, items, cfg))
            })
            .collect();
        let mut last_print = Instant::now();
        let mut last_finished = 0u64;
        let mut drain_deadline: Option<Instant> = None;
        let mut drained_at = 0u64;
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let all_sent = handles.iter().all(|h| h.is_finished());
            if all_sent && drain_deadline.is_none() {
                submit_end = track.t0.elapsed();
                drain_deadline = Some(Instant::now() + cfg.drain);
            }
            let finished = track.finished.load(Ordering::Relaxed);
            // The drain ends `cfg.drain` after the last commit seen, so a
            // backlog that is still committing is waited for.
            if finished > drained_at {
                drained_at = finished;
                if let Some(d) = drain_deadline.as_mut() {
                    *d = Instant::now() + cfg.drain;
                }
            }
            if let Ok(w) = track.watch.lock() {
                if let Some(e) = &w.error {
                    track.stop.store(true, Ordering::Relaxed);
                    return Err(anyhow!("{e}"));
                }
            }
            if cfg.progress && last_print.elapsed() >= Duration::from_secs(1) {
                let dt = last_print.elapsed().as_secs_f64();
                last_print = Instant::now();
                let mut recent = match track.watch.lock() {
                    Ok(mut w) => std::mem::take(&mut w.recent_us),
                    Err(_) => Vec::new(),
                };
                recent.sort_unstable();
                let height = track.watch.lock().map(|w| w.last_height).unwrap_or(0);
                let submitted = track.submitted.load(Ordering::Relaxed);
                eprintln!(
                    "[{}] {:>5.1}s  sent {submitted:>8}/{total}  done {finished:>8}  {:>7.0} tx/s  p50 {:>6.0} ms  p99 {:>6.0} ms  in flight {:>6}  height {height}",
                    cfg.label,
                    track.t0.elapsed().as_secs_f64(),
                    (finished - last_finished) as f64 / dt,
                    pct(&recent, 0.5) as f64 / 1000.0,
                    pct(&recent, 0.99) as f64 / 1000.0,
                    submitted.saturating_sub(finished),
                );
                last_finished = finished;
            }
            let drained = all_sent && finished >= track.submitted.load(Ordering::Relaxed);
            if drained || drain_deadline.is_some_and(|d| Instant::now() >= d) {
                track.stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        for h in handles {
            h.join()
                .map_err(|_| anyhow!("a submitter thread panicked"))??;
        }
        Ok(())
    });
    track.stop.store(true, Ordering::Relaxed);
    outcome?;
    drop(watcher); // it ends at its next event; blocks keep coming
    let mut w = track
        .watch
        .lock()
        .map_err(|_| anyhow!("the watcher panicked"))?;
    let refused = track.refused.lock().map(|m| m.clone()).unwrap_or_default();
    let mut lat = std::mem::take(&mut w.latencies_us);
    lat.sort_unstable();
    let mut from_due = std::mem::take(&mut w.from_due_us);
    from_due.sort_unstable();
    let submitted = track.submitted.load(Ordering::Relaxed) as usize;
    let seen = lat.len();
    let refused_n = track.refused_count.load(Ordering::Relaxed) as usize;
    Ok(RunResult {
        label: cfg.label.clone(),
        offered_rate: cfg.rate,
        submitted,
        submit_secs: submit_end.as_secs_f64(),
        commit_secs: w.last_commit_ns as f64 / 1e9,
        committed: w.committed,
        refused,
        deferred: track.deferred.load(Ordering::Relaxed),
        rejected: w.rejected.clone(),
        lost: submitted.saturating_sub(seen + refused_n),
        latencies_us: lat,
        from_due_us: from_due,
        uses_settled: w.uses_settled,
        uses_rejected: w.uses_rejected.clone(),
        blocks: w.blocks,
        first_height: w.first_height,
        last_height: w.last_height,
        max_block_txs: w.max_block_txs,
        costs: None,
    })
}

impl RunResult {
    pub fn percentile_ms(&self, p: f64) -> f64 {
        pct(&self.latencies_us, p) as f64 / 1000.0
    }
    /// A percentile of [`RunResult::from_due_us`], in ms.
    pub fn from_due_ms(&self, p: f64) -> f64 {
        pct(&self.from_due_us, p) as f64 / 1000.0
    }
    pub fn offered_tps(&self) -> f64 {
        per_sec(self.submitted, self.submit_secs)
    }
    pub fn committed_tps(&self) -> f64 {
        per_sec(self.committed, self.commit_secs)
    }
    pub fn uses_per_sec(&self) -> f64 {
        per_sec(self.uses_settled as usize, self.commit_secs)
    }
}

fn per_sec(n: usize, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}
