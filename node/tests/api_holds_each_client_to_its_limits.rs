//! The HTTP API, served on a real socket, holds each client (peer IP) to its
//! `[api]` limits: connections beyond its share are closed on accept and
//! come back when it closes one; requests over its rate get 429
//! `rate_limited` with `Retry-After`; a second event stream is refused with
//! 429; an idle connection is closed; a cursor far in the future is refused;
//! every refusal is counted in `assent_api_clients_refused_total`. Waits
//! poll a condition with a deadline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use api_support::*;
use assent_node::api;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

struct Server {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn serve(api_lines: &str) -> Server {
    let t = node_with_api(api_lines);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(api::serve(t.shared.clone(), listener, async move {
        let _ = stopped.await;
    }));
    Server { addr, _stop: stop }
}

/// A response's status, headers (lower-cased names) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET path` on `s` and reads the answer's head, and its body when it
/// has a Content-Length (an event stream's body is not read).
/// The request is signed by the operator, who may read every route.
async fn get(s: &mut TcpStream, path: &str) -> std::io::Result<Answer> {
    let signed = operator_signature_lines(path);
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n{signed}\r\n").as_bytes())
        .await?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse::<usize>().unwrap());
    let mut body = vec![0u8; len.unwrap_or(0)];
    s.read_exact(&mut body).await?;
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// True once the server has closed `s` (read gives EOF or an error).
async fn closed(s: &mut TcpStream, within: Duration) -> bool {
    let mut b = [0u8; 64];
    match tokio::time::timeout(within, s.read(&mut b)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

async fn poll_until(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within {limit:?}");
}

/// The refusals counted for `reason`; 0 while this connection itself is
/// refused (the client's closed connections may not be released yet).
async fn refused_total(addr: SocketAddr, reason: &str) -> u64 {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return 0;
    };
    let Ok(m) = get(&mut s, "/metrics").await else {
        return 0;
    };
    let key = format!("assent_api_clients_refused_total{{reason=\"{reason}\"}} ");
    m.body
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .map_or(0, |v| v.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_connections_is_closed_on_accept_until_it_closes_one() {
    let srv = serve("max_connections_per_client = 3").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(srv.addr).await.unwrap();
        assert_eq!(get(&mut s, "/health").await.unwrap().status, 200);
        open.push(s);
    }
    let mut fourth = TcpStream::connect(srv.addr).await.unwrap();
    assert!(
        get(&mut fourth, "/health").await.is_err()
            || closed(&mut fourth, Duration::from_secs(5)).await,
        "a 4th connection of one client was served"
    );
    // The three still work; once one closes, a new one is admitted.
    assert_eq!(get(&mut open[0], "/health").await.unwrap().status, 200);
    open.pop();
    poll_until(
        "a connection slot to come back",
        Duration::from_secs(10),
        async || {
            let Ok(mut s) = TcpStream::connect(srv.addr).await else {
                return false;
            };
            matches!(get(&mut s, "/health").await, Ok(a) if a.status == 200)
        },
    )
    .await;
    // The refused connection was counted (the metrics request is the 4th
    // connection again only if the slot above was kept: it was dropped).
    drop(open);
    poll_until(
        "the refusal to be counted",
        Duration::from_secs(10),
        async || refused_total(srv.addr, "client_connections").await >= 1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_request_rate_is_told_to_retry_later() {
    let srv = serve("requests_per_second_per_client = 5").await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    // A burst of twice the rate passes at once.
    for i in 0..10 {
        assert_eq!(
            get(&mut s, "/health").await.unwrap().status,
            200,
            "request {i}"
        );
    }
    let mut limited = None;
    for _ in 0..100 {
        let a = get(&mut s, "/v1/status").await.unwrap();
        if a.status == 429 {
            limited = Some(a);
            break;
        }
    }
    let a = limited.expect("100 requests over a 5/s budget all passed");
    assert!(a.body.contains("\"code\":\"rate_limited\""), "{}", a.body);
    let retry: u64 = a
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // The connection is still usable, and the budget comes back.
    poll_until(
        "the budget to refill",
        Duration::from_secs(10),
        async || get(&mut s, "/health").await.unwrap().status == 200,
    )
    .await;
    drop(s);
    poll_until(
        "the refusal to be counted",
        Duration::from_secs(10),
        async || refused_total(srv.addr, "rate").await >= 1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_event_stream_of_one_client_is_refused_and_a_future_cursor_too() {
    let srv = serve("max_streams_per_client = 1").await;
    let mut first = TcpStream::connect(srv.addr).await.unwrap();
    let a = get(&mut first, "/v1/events").await.unwrap();
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("text/event-stream"));
    let mut second = TcpStream::connect(srv.addr).await.unwrap();
    let b = get(&mut second, "/v1/events").await.unwrap();
    assert_eq!(b.status, 429, "{}", b.body);
    assert!(
        b.body.contains("\"code\":\"too_many_streams\""),
        "{}",
        b.body
    );
    // Other requests of the client still pass.
    assert_eq!(get(&mut second, "/v1/status").await.unwrap().status, 200);
    // A cursor far beyond the tip would hold a stream for nothing.
    let c = get(&mut second, "/v1/events?from=1000000:0").await.unwrap();
    assert_eq!(c.status, 400);
    assert!(
        c.body.contains("\"code\":\"cursor_in_future\""),
        "{}",
        c.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed() {
    let srv = serve("request_timeout_ms = 100\nidle_timeout_ms = 1100").await;
    let mut quiet = TcpStream::connect(srv.addr).await.unwrap();
    assert!(
        closed(&mut quiet, Duration::from_secs(20)).await,
        "a connection that sent nothing stayed open"
    );
    // After a request, an idle keep-alive connection is closed too.
    let mut used = TcpStream::connect(srv.addr).await.unwrap();
    assert_eq!(get(&mut used, "/health").await.unwrap().status, 200);
    assert!(closed(&mut used, Duration::from_secs(20)).await);
}
