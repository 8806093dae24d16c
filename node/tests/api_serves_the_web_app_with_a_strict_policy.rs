//! `GET /app/…`: the web app built into assentd (`web/app/dist`), every file
//! with its type and a Content-Security-Policy that allows no inline script
//! or style and nothing but this origin; the page itself has no inline
//! script, style or event handler for that policy to refuse; `GET /` sends
//! a browser to the app; names outside the app are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_support;

use api_support::*;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use tower::ServiceExt;

async fn fetch(t: &TestNode, uri: &str, etag: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    if let Some(e) = etag {
        req = req.header(header::IF_NONE_MATCH, e);
    }
    let resp = t
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap();
    (parts.status, parts.headers, bytes.to_vec())
}

/// Every `src="…"` and `href="…"` value of `html`.
fn references(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            refs.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    refs
}

#[tokio::test]
async fn the_app_is_served_with_a_policy_its_page_keeps() {
    let t = node();
    let (s, h, _) = fetch(&t, "/", None).await;
    assert!(s.is_redirection(), "{s}");
    assert_eq!(h[header::LOCATION], "/app/");
    let (s, h, _) = fetch(&t, "/app", None).await;
    assert_eq!(
        (s, &h[header::LOCATION]),
        (StatusCode::PERMANENT_REDIRECT, &"/app/".parse().unwrap())
    );

    let (s, h, body) = fetch(&t, "/app/", None).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, assent_node::api::CONTENT_SECURITY_POLICY);
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "style-src 'self';",
        "connect-src 'self';",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");

    // Nothing on the page that the policy would refuse: no inline script,
    // style or handler, nothing from another origin.
    let html = String::from_utf8(body).unwrap();
    let lower = html.to_lowercase();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("<script") {
        let tag_end = rest[i..].find('>').unwrap() + i;
        let tag = &rest[i..tag_end];
        assert!(tag.contains("src="), "inline script: {tag}");
        assert!(
            rest[tag_end + 1..].trim_start().starts_with("</script>"),
            "script with a body: {tag}"
        );
        rest = &rest[tag_end..];
    }
    assert!(!lower.contains("<style"), "inline <style> in the page");
    assert!(
        !lower.contains(" style=\""),
        "inline style attribute in the page"
    );
    assert!(
        !lower.contains(" onclick=") && !lower.contains(" onload="),
        "inline handler"
    );
    assert!(
        lower.contains("<html lang="),
        "the page declares its language"
    );
    assert!(
        lower.contains("name=\"viewport\""),
        "the page has a viewport for phones"
    );

    // Every file the page refers to is served, with its type and the policy.
    let refs = references(&html);
    assert!(refs.iter().any(|r| r.ends_with(".js")), "{refs:?}");
    assert!(refs.iter().any(|r| r.ends_with(".css")), "{refs:?}");
    for r in &refs {
        assert!(
            !r.contains("://") && !r.starts_with("//"),
            "the page loads {r} from elsewhere"
        );
        let path = format!("/app/{}", r.trim_start_matches("./"));
        let (s, h, bytes) = fetch(&t, &path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(!bytes.is_empty(), "{path} is empty");
        assert!(h.contains_key("content-security-policy"), "{path}");
        let ty = h[header::CONTENT_TYPE].to_str().unwrap();
        if r.ends_with(".js") {
            assert_eq!(ty, "text/javascript; charset=utf-8", "{path}");
        } else if r.ends_with(".css") {
            assert_eq!(ty, "text/css; charset=utf-8", "{path}");
        }
    }

    // A browser that has the file asks again and gets 304 Not Modified.
    let (_, h, _) = fetch(&t, "/app/index.html", None).await;
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(h[header::CACHE_CONTROL], "no-cache");
    let (s, h, body) = fetch(&t, "/app/index.html", Some(&etag)).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(h[header::ETAG], etag.as_str());
    let (s, _, _) = fetch(&t, "/app/index.html", Some("\"stale\"")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn names_outside_the_app_are_refused_with_a_reason() {
    let t = node();
    for bad in [
        "/app/no-such-file.js",
        "/app/../Cargo.toml",
        "/app/%2e%2e/Cargo.toml",
        "/app/.hidden",
        "/app/a//b.js",
        "/app/index.html.map",
        "/app/index",
    ] {
        let (s, h, body) = fetch(&t, bad, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(h[header::CONTENT_TYPE], "application/json", "{bad}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(
            v["code"] == "no_such_app_file" || v["code"] == "not_found",
            "{bad}: {v}"
        );
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    // A method the app does not take.
    let resp = t
        .router
        .clone()
        .oneshot(Request::post("/app/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}
