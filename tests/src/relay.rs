//! Delaying relays between the lab's nodes: what `tc netem delay` would do,
//! in user space, for a kernel without `sch_netem`.
//!
//! Each ordered pair of nodes (i, j) gets a listener on the bridge address
//! for each of j's peer ports (consensus and tx gossip); node i's config
//! names these listeners as its peers, and blackhole routes cut the direct
//! node-to-node paths, so every byte between validators crosses a relay. A
//! relay forwards each direction of a connection through a bounded queue,
//! holding every chunk until `delay` after it was read (order kept: a link
//! with a fixed one-way delay). A cut pair (a partition) refuses new
//! connections and ends the open ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Chunks queued per direction before the reader waits (backpressure).
const QUEUE: usize = 256;

#[derive(Debug)]
struct Shared {
    delay_ms: AtomicU64,
    /// Bytes written onward by every relay.
    bytes: AtomicU64,
    cut: Mutex<BTreeSet<(usize, usize)>>,
    /// Bumped on every cut: open connections of a cut pair end.
    cuts: watch::Sender<u64>,
}

/// The relays of one lab; dropped, they stop.
#[derive(Debug)]
pub struct Relays {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// One relay: node `from` reaches `to_addr` (a port of node `to`) through
/// `listen`.
#[derive(Debug, Clone)]
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub listen: String,
    pub to_addr: String,
}

impl Relays {
    /// Starts a relay for every link.
    pub fn start(links: &[Link]) -> Relays {
        let (cuts, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            delay_ms: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            cut: Mutex::new(BTreeSet::new()),
            cuts,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the relays");
        for link in links {
            let listener = runtime
                .block_on(TcpListener::bind(&link.listen))
                .unwrap_or_else(|e| panic!("relay listen on {}: {e}", link.listen));
            runtime.spawn(accept(listener, link.clone(), shared.clone()));
        }
        Relays {
            shared,
            runtime: Some(runtime),
        }
    }

    /// Every chunk from now on is held this long in each direction.
    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Bytes the relays have passed on so far.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::SeqCst)
    }

    /// Cuts the links between `a` and `b`, both ways.
    pub fn cut(&self, a: usize, b: usize) {
        {
            let mut cut = self.shared.cut.lock().unwrap();
            cut.insert((a, b));
            cut.insert((b, a));
        }
        self.shared.cuts.send_modify(|n| *n += 1);
    }

    /// Restores every cut link.
    pub fn heal(&self) {
        self.shared.cut.lock().unwrap().clear();
    }
}

impl Drop for Relays {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn is_cut(shared: &Shared, link: &Link) -> bool {
    shared.cut.lock().unwrap().contains(&(link.from, link.to))
}

async fn accept(listener: TcpListener, link: Link, shared: Arc<Shared>) {
    while let Ok((inbound, _)) = listener.accept().await {
        if is_cut(&shared, &link) {
            continue; // dropped: the connection is refused
        }
        let (link, shared) = (link.clone(), shared.clone());
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(&link.to_addr).await else {
                return;
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let mut cuts = shared.cuts.subscribe();
            let (ri, wi) = inbound.into_split();
            let (ro, wo) = outbound.into_split();
            let pumps =
                async { tokio::join!(pump(ri, wo, shared.clone()), pump(ro, wi, shared.clone())) };
            let cut = async {
                while cuts.changed().await.is_ok() {
                    if is_cut(&shared, &link) {
                        return;
                    }
                }
                std::future::pending::<()>().await;
            };
            tokio::select! {
                _ = pumps => {}
                () = cut => {}
            }
        });
    }
}

/// Copies one direction, each chunk held until the delay after it was read.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    shared: Arc<Shared>,
) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    let counter = shared.clone();
    let read = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let due = Instant::now()
                        + Duration::from_millis(shared.delay_ms.load(Ordering::SeqCst));
                    if tx.send((due, buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let write = async move {
        while let Some((due, bytes)) = rx.recv().await {
            // The injected delay itself, not a wait for a condition.
            tokio::time::sleep_until(due).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
            counter
                .bytes
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(read, write);
}
