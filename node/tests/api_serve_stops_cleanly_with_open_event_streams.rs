//! `api::serve` on a real socket: it answers, and on shutdown it returns even
//! while an event stream is open (the stream ends, the client sees EOF).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use std::time::Duration;

use api_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEADLINE: Duration = Duration::from_secs(10);

async fn request(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let signed = operator_signature_lines(path);
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: test\r\nAccept: */*\r\n{signed}\r\n").as_bytes(),
    )
    .await
    .unwrap();
    s
}

/// Reads until `needle` appears; returns everything read.
async fn read_until(s: &mut TcpStream, needle: &str) -> String {
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(DEADLINE, async {
        while !text.contains(needle) {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "connection closed before `{needle}`: {text}");
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no `{needle}` within {DEADLINE:?}: {text}"));
    text
}

#[tokio::test]
async fn serve_answers_and_returns_on_shutdown_with_a_stream_open() {
    let t = node();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(assent_node::api::serve(
        t.shared.clone(),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));

    let mut health = request(addr, "/health").await;
    let text = read_until(&mut health, "\r\n\r\nok").await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    let mut events = request(addr, "/v1/events").await;
    let head = read_until(&mut events, "\r\n\r\n").await;
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"),
        "{head}"
    );
    // A live event reaches the open stream.
    commit(&t, vec![register(&t.keys.alice, 0)]);
    read_until(&mut events, "id: 1:0").await;

    stop.send(()).unwrap();
    let served = tokio::time::timeout(DEADLINE, server)
        .await
        .expect("serve returns after shutdown")
        .unwrap();
    assert!(served.is_ok(), "{served:?}");
    // The stream's connection ends.
    let mut rest = Vec::new();
    tokio::time::timeout(DEADLINE, events.read_to_end(&mut rest))
        .await
        .expect("the stream ends")
        .ok();
}
