//! What one client of the HTTP API may hold: connections, a request rate,
//! event streams and export jobs, per client IP address, plus a cap on all
//! connections and on idle ones. A client over a limit is refused at once
//! (a connection is closed on accept; a request gets 429 with the reason
//! and `Retry-After`); it never queues. The table of clients is bounded:
//! when it is full, clients that hold nothing and whose request budget has
//! refilled are forgotten first, and if none can be, a new client is refused.
//!
//! Requests that reach the router without a peer address (in-process tests)
//! are not counted.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

/// Most clients tracked at once (each entry is a few dozen bytes).
pub const MAX_CLIENTS: usize = 65_536;

/// `[api]` limits (docs/node-interfaces.md, "Configuration").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientLimits {
    /// Open connections in all.
    pub max_connections: usize,
    /// Open connections of one client.
    pub max_connections_per_client: u32,
    /// Requests per second of one client, sustained; bursts of twice that.
    pub requests_per_second: u32,
    /// Event streams (`GET /v1/events`) of one client.
    pub max_streams_per_client: u32,
    /// Exports being built for one client.
    pub max_exports_per_client: u32,
    /// Longest a request may take to answer (an event stream's body is not
    /// a request: it lasts as long as the client reads it).
    pub request_timeout: Duration,
    /// A connection on which nothing was read or written for this long is
    /// closed (an idle keep-alive, a client that stopped reading).
    pub idle_timeout: Duration,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_connections: 4_096,
            max_connections_per_client: 256,
            requests_per_second: 2_000,
            max_streams_per_client: 32,
            max_exports_per_client: 1,
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// Why a client was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The node holds its maximum of connections.
    Connections,
    /// This client holds its maximum of connections.
    ClientConnections,
    /// The table of clients is full of clients that hold something.
    Clients,
    /// Over the request rate; retry after this long.
    Rate(Duration),
    Streams,
    Exports,
}

impl Refused {
    /// Metric label.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::Connections => "connections",
            Refused::ClientConnections => "client_connections",
            Refused::Clients => "clients",
            Refused::Rate(_) => "rate",
            Refused::Streams => "streams",
            Refused::Exports => "exports",
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Held {
    Connection,
    Stream,
    Export,
}

#[derive(Debug)]
struct Client {
    connections: u32,
    streams: u32,
    exports: u32,
    /// Request budget in thousandths of a request.
    budget_milli: u64,
    refilled: Instant,
}

#[derive(Debug)]
struct Table {
    connections: usize,
    clients: BTreeMap<IpAddr, Client>,
}

/// The per-client accounting of one API server.
#[derive(Debug)]
pub struct Clients {
    limits: ClientLimits,
    table: Mutex<Table>,
}

/// Holds one connection, stream or export of a client; releases it on drop.
#[derive(Debug)]
pub struct Permit {
    clients: Arc<Clients>,
    ip: IpAddr,
    held: Held,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut t = self.clients.lock();
        if let Held::Connection = self.held {
            t.connections = t.connections.saturating_sub(1);
        }
        if let Some(c) = t.clients.get_mut(&self.ip) {
            let n = match self.held {
                Held::Connection => &mut c.connections,
                Held::Stream => &mut c.streams,
                Held::Export => &mut c.exports,
            };
            *n = n.saturating_sub(1);
        }
    }
}

impl Clients {
    pub fn new(limits: ClientLimits) -> Arc<Clients> {
        Arc::new(Clients {
            limits,
            table: Mutex::new(Table {
                connections: 0,
                clients: BTreeMap::new(),
            }),
        })
    }

    pub fn limits(&self) -> &ClientLimits {
        &self.limits
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic while holding the lock leaves counts, not broken invariants.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn burst_milli(&self) -> u64 {
        u64::from(self.limits.requests_per_second).saturating_mul(2_000)
    }

    /// The client's entry, refilled to `now`; created (with a full budget)
    /// if the table has room or can make some.
    fn entry<'t>(
        &self,
        t: &'t mut Table,
        ip: IpAddr,
        now: Instant,
    ) -> Result<&'t mut Client, Refused> {
        let burst = self.burst_milli();
        let rate = u64::from(self.limits.requests_per_second);
        if !t.clients.contains_key(&ip) && t.clients.len() >= MAX_CLIENTS {
            // Forget clients that hold nothing and whose budget is full again.
            t.clients.retain(|_, c| {
                let full = c.budget_milli.saturating_add(refill(c.refilled, now, rate)) >= burst;
                c.connections + c.streams + c.exports > 0 || !full
            });
            if t.clients.len() >= MAX_CLIENTS {
                return Err(Refused::Clients);
            }
        }
        let c = t.clients.entry(ip).or_insert(Client {
            connections: 0,
            streams: 0,
            exports: 0,
            budget_milli: burst,
            refilled: now,
        });
        c.budget_milli = c
            .budget_milli
            .saturating_add(refill(c.refilled, now, rate))
            .min(burst);
        c.refilled = now;
        Ok(c)
    }

    /// A new connection from `ip`.
    pub fn connect(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refused> {
        let mut t = self.lock();
        if t.connections >= self.limits.max_connections {
            return Err(Refused::Connections);
        }
        let c = self.entry(&mut t, ip, Instant::now())?;
        if c.connections >= self.limits.max_connections_per_client {
            return Err(Refused::ClientConnections);
        }
        c.connections += 1;
        t.connections += 1;
        Ok(self.permit(ip, Held::Connection))
    }

    /// One request of `ip`, at `now`: spends one request of its budget.
    pub fn request(&self, ip: IpAddr, now: Instant) -> Result<(), Refused> {
        let mut t = self.lock();
        let rate = u64::from(self.limits.requests_per_second).max(1);
        let c = self.entry(&mut t, ip, now)?;
        if c.budget_milli < 1_000 {
            // Time until one whole request has been earned back.
            let missing = 1_000 - c.budget_milli;
            let ms = missing.div_ceil(rate).max(1);
            return Err(Refused::Rate(Duration::from_millis(ms)));
        }
        c.budget_milli -= 1_000;
        Ok(())
    }

    /// An event stream of `ip`, held while the stream is open.
    pub fn stream(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refused> {
        self.hold(
            ip,
            Held::Stream,
            self.limits.max_streams_per_client,
            Refused::Streams,
        )
    }

    /// An export of `ip`, held while it is built and sent.
    pub fn export(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refused> {
        self.hold(
            ip,
            Held::Export,
            self.limits.max_exports_per_client,
            Refused::Exports,
        )
    }

    fn hold(
        self: &Arc<Self>,
        ip: IpAddr,
        held: Held,
        max: u32,
        over: Refused,
    ) -> Result<Permit, Refused> {
        let mut t = self.lock();
        let c = self.entry(&mut t, ip, Instant::now())?;
        let n = match held {
            Held::Stream => &mut c.streams,
            _ => &mut c.exports,
        };
        if *n >= max {
            return Err(over);
        }
        *n += 1;
        Ok(self.permit(ip, held))
    }

    fn permit(self: &Arc<Self>, ip: IpAddr, held: Held) -> Permit {
        Permit {
            clients: self.clone(),
            ip,
            held,
        }
    }

    /// (open connections, clients tracked).
    pub fn counts(&self) -> (usize, usize) {
        let t = self.lock();
        (t.connections, t.clients.len())
    }
}

/// Thousandths of a request earned between `since` and `now` at `rate` per second.
fn refill(since: Instant, now: Instant, rate: u64) -> u64 {
    let ms = u64::try_from(now.saturating_duration_since(since).as_millis()).unwrap_or(u64::MAX);
    ms.saturating_mul(rate)
}

/// The peer address of a request, as the router sees it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, LimitedListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, LimitedListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

/// A TCP listener that admits a connection only within the limits, and
/// closes connections that stay idle.
pub struct LimitedListener {
    inner: TcpListener,
    clients: Arc<Clients>,
    refused: Box<dyn Fn(Refused) + Send + Sync>,
}

impl std::fmt::Debug for LimitedListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LimitedListener")
            .field("inner", &self.inner)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

impl LimitedListener {
    pub fn new(
        inner: TcpListener,
        clients: Arc<Clients>,
        refused: impl Fn(Refused) + Send + Sync + 'static,
    ) -> LimitedListener {
        LimitedListener {
            inner,
            clients,
            refused: Box::new(refused),
        }
    }
}

impl Listener for LimitedListener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            let (io, addr) = Listener::accept(&mut self.inner).await;
            match self.clients.connect(addr.ip()) {
                Ok(permit) => {
                    let idle = self.clients.limits.idle_timeout;
                    return (
                        Conn {
                            io,
                            idle,
                            deadline: Box::pin(tokio::time::sleep(idle)),
                            _permit: permit,
                        },
                        addr,
                    );
                }
                Err(why) => {
                    tracing::debug!(target: "assent::api", %addr, reason = why.code(), "connection refused");
                    (self.refused)(why);
                    drop(io);
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An admitted connection: closed with `TimedOut` once nothing has been read
/// or written on it for the idle timeout.
#[derive(Debug)]
pub struct Conn {
    io: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    _permit: Permit,
}

impl Conn {
    fn progressed(&mut self) {
        let at = tokio::time::Instant::now() + self.idle;
        self.deadline.as_mut().reset(at);
    }

    /// Pending I/O: an error once the idle deadline has passed.
    fn idle_check<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for longer than api.idle_timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.progressed();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.idle_check(cx),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.progressed();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => self.idle_check(cx),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Pending => self.idle_check(cx),
            r => r,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ClientLimits {
        ClientLimits {
            max_connections: 3,
            max_connections_per_client: 2,
            requests_per_second: 10,
            max_streams_per_client: 1,
            max_exports_per_client: 1,
            ..ClientLimits::default()
        }
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn connections_are_capped_per_client_and_in_all_and_released_on_drop() {
        let c = Clients::new(limits());
        let a1 = c.connect(ip(1)).unwrap();
        let _a2 = c.connect(ip(1)).unwrap();
        assert_eq!(c.connect(ip(1)).unwrap_err(), Refused::ClientConnections);
        let _b1 = c.connect(ip(2)).unwrap();
        assert_eq!(c.connect(ip(3)).unwrap_err(), Refused::Connections);
        drop(a1);
        assert_eq!(c.counts().0, 2);
        let _c1 = c.connect(ip(3)).unwrap();
    }

    #[test]
    fn a_client_over_its_rate_is_told_when_to_retry_and_earns_requests_back() {
        let c = Clients::new(limits());
        let t0 = Instant::now();
        // A burst of twice the rate, then refused.
        for _ in 0..20 {
            c.request(ip(1), t0).unwrap();
        }
        let Err(Refused::Rate(after)) = c.request(ip(1), t0) else {
            panic!("the 21st request in one instant passed");
        };
        assert_eq!(after, Duration::from_millis(100));
        // Another client is not affected.
        c.request(ip(2), t0).unwrap();
        // 100 ms later one request is back, not two.
        let t1 = t0 + Duration::from_millis(100);
        c.request(ip(1), t1).unwrap();
        assert!(c.request(ip(1), t1).is_err());
    }

    #[test]
    fn streams_and_exports_are_capped_per_client() {
        let c = Clients::new(limits());
        let s = c.stream(ip(1)).unwrap();
        assert_eq!(c.stream(ip(1)).unwrap_err(), Refused::Streams);
        let _other = c.stream(ip(2)).unwrap();
        drop(s);
        let _s = c.stream(ip(1)).unwrap();
        let _e = c.export(ip(1)).unwrap();
        assert_eq!(c.export(ip(1)).unwrap_err(), Refused::Exports);
    }

    #[test]
    fn the_table_of_clients_is_bounded() {
        let c = Clients::new(ClientLimits {
            max_connections: MAX_CLIENTS + 10,
            ..limits()
        });
        let mut held = Vec::new();
        for i in 0..MAX_CLIENTS as u32 {
            held.push(c.connect(IpAddr::from(i.to_be_bytes())).unwrap());
        }
        // Full of clients that hold a connection: a new one is refused.
        let new = IpAddr::from([255, 255, 255, 255]);
        assert_eq!(c.connect(new).unwrap_err(), Refused::Clients);
        // Once they hold nothing (and their budget is full), they are forgotten.
        held.clear();
        let _p = c.connect(new).unwrap();
        assert!(c.counts().1 <= MAX_CLIENTS);
    }
}
