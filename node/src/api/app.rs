//! The consumer web app (`web/app`, built into `web/app/dist` and into this
//! binary): `GET /app/…` serves its files with a strict Content-Security-
//! Policy (no inline script or style, nothing but this origin), and `GET /`
//! sends a browser there. The app talks only to this node's API
//! (ARCHITECTURE.md, decision 38).

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::RustEmbed;

use super::error::ApiError;

/// Every file of `web/app/dist`, embedded at build time (in debug builds
/// too: the bytes served are the bytes built, never read from disk).
#[derive(RustEmbed)]
#[folder = "../web/app/dist/"]
#[allow_missing = true]
struct Assets;

/// The policy every app file is served with: scripts, styles, images and
/// requests from this origin only; no inline script or style, no frames,
/// no forms posting anywhere, no plugins.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The headers that go with every app file besides its type.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

/// The media type of an app file, by its extension; `None` for a kind of
/// file the app does not ship (it is not served).
fn media_type(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// The files of `web/app/dist` when this binary was built (node/build.rs);
/// naming it here rebuilds the crate when a file is added or removed.
pub const FILES: &str = env!("ASSENT_APP_FILES");

/// Whether this binary carries the app (a checkout without `web/app/dist`
/// builds without it).
pub fn built_in() -> bool {
    !FILES.is_empty() && Assets::get("index.html").is_some()
}

/// `GET /`: a browser is sent to the app.
pub(crate) async fn root() -> Redirect {
    Redirect::to("/app/")
}

/// `GET /app`: the app's address ends with a slash (its files are relative).
pub(crate) async fn app_slash() -> Redirect {
    Redirect::permanent("/app/")
}

/// `GET /app/`: the app's page.
pub(crate) async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

/// `GET /app/{*path}`: one file of the app.
pub(crate) async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    // Only plain relative names: no `..`, no empty or hidden segments.
    let plain = !path.is_empty()
        && path
            .split('/')
            .all(|s| !s.is_empty() && !s.starts_with('.') && s.len() <= 128);
    let found = plain
        .then(|| media_type(path).zip(Assets::get(path)))
        .flatten();
    let Some((media, asset)) = found else {
        let msg = if built_in() {
            format!("the web app has no file {path:?}")
        } else {
            "this assentd was built without the web app (web/app/dist was missing at build time)"
                .to_string()
        };
        return ApiError::new(StatusCode::NOT_FOUND, "no_such_app_file", msg).into_response();
    };
    let etag = format!("\"{}\"", hex::encode(asset.metadata.sha256_hash()));
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static(media))],
            asset.data.into_owned(),
        )
            .into_response()
    };
    let h = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(*name, HeaderValue::from_static(value));
    }
    // Revalidate every time: a node upgrade serves the new app at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::media_type;

    #[test]
    fn only_the_kinds_of_file_the_app_ships_have_a_type() {
        assert_eq!(media_type("index.html"), Some("text/html; charset=utf-8"));
        assert_eq!(
            media_type("a/b/main.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(media_type("main.js.map"), None);
        assert_eq!(media_type("README"), None);
        assert_eq!(media_type("x.exe"), None);
    }
}
