//! `api.metrics_listen`: `/metrics` is served on a listener of its own, and
//! the API's `/metrics` says where they went.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use axum::http::StatusCode;

#[tokio::test]
async fn metrics_move_to_their_own_listener() {
    let t = node_with_api("metrics_listen = \"127.0.0.1:9\"");
    let (s, v) = get_unsigned(&t.router, "/metrics").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("metrics_elsewhere")),
        "{v}"
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(assent_node::api::serve_metrics(
        t.shared.clone(),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("assent_height"), "{text}");
    // Only /metrics is there.
    let other = reqwest::get(format!("http://{addr}/v1/status"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
