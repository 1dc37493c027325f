//! The product's icon and web app manifest, built into the binary: browsers ask for
//! `/favicon.ico` on every page load, and an app installed to a home screen reads the manifest.

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};

const FAVICON_SVG: &[u8] = include_bytes!("../../assets/favicon.svg");
const FAVICON_ICO: &[u8] = include_bytes!("../../assets/favicon.ico");
const MANIFEST: &[u8] = include_bytes!("../../assets/manifest.webmanifest");
/// Icons change with releases only; a day of caching saves a request per page.
const CACHE: &str = "public, max-age=86400";

fn asset(content_type: &'static str, body: &'static [u8]) -> impl IntoResponse {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, CACHE)], body)
}

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON_SVG) }),
        )
        .route(
            "/favicon.ico",
            get(|| async { asset("image/x-icon", FAVICON_ICO) }),
        )
        .route(
            "/manifest.webmanifest",
            get(|| async { asset("application/manifest+json", MANIFEST) }),
        )
}
