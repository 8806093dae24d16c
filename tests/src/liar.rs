//! A lying peer for state-sync tests: an HTTP server that answers every GET
//! with what an honest node answers, except that it offers a snapshot a
//! million heights above the chain and flips a byte of every snapshot
//! chunk it serves.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The running liar; stops on drop.
#[derive(Debug)]
pub struct Liar {
    pub url: String,
    /// Chunks it corrupted.
    pub lies: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn serve(mut conn: TcpStream, upstream: &str, http: &reqwest::blocking::Client, lies: &AtomicU64) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone the connection"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    // The rest of the request head; the reader's signature is passed on
    // (it covers the method, path and query, not the host).
    let mut req = http.get(format!("{upstream}{path}"));
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => return,
            Ok(_) if h == "\r\n" => break,
            Ok(_) => {
                if let Some((name, value)) = h.trim_end().split_once(": ") {
                    let name = name.to_ascii_lowercase();
                    if name == "signature-input" || name == "signature" {
                        req = req.header(name, value.to_string());
                    }
                }
            }
        }
    }
    let (status, mut body) = match req.send() {
        Ok(r) => (
            r.status().as_u16(),
            r.bytes().map(|b| b.to_vec()).unwrap_or_default(),
        ),
        Err(_) => (502, Vec::new()),
    };
    // It also offers a snapshot far above the chain, which it cannot back.
    if path == "/v1/snapshots" {
        if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&body) {
            if let Some(list) = v["snapshots"].as_array_mut() {
                if let Some(first) = list.first().cloned() {
                    let mut fake = first;
                    let h = fake["height"].as_u64().unwrap_or(0) + 1_000_000;
                    fake["height"] = serde_json::json!(h);
                    list.insert(0, fake);
                    lies.fetch_add(1, Ordering::Relaxed);
                }
            }
            body = serde_json::to_vec(&v).unwrap_or(body);
        }
    }
    if path.contains("/chunks/") && !body.is_empty() {
        let mid = body.len() / 2;
        body[mid] ^= 0x01;
        lies.fetch_add(1, Ordering::Relaxed);
    }
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn
        .write_all(head.as_bytes())
        .and_then(|()| conn.write_all(&body));
}

impl Liar {
    /// A liar in front of the node whose API is `upstream`.
    pub fn start(upstream: &str) -> Liar {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the liar");
        let addr = listener.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let lies = Arc::new(AtomicU64::new(0));
        let (flag, count, up) = (stop.clone(), lies.clone(), upstream.to_string());
        let thread = std::thread::spawn(move || {
            let http = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client");
            for conn in listener.incoming() {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                if let Ok(c) = conn {
                    serve(c, &up, &http, &count);
                }
            }
        });
        Liar {
            url: format!("http://{addr}"),
            lies,
            stop,
            addr,
            thread: Some(thread),
        }
    }
}

impl Drop for Liar {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
