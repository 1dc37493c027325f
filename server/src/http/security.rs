//! Security headers on every response. The Content-Security-Policy allows scripts only from
//! this origin plus the one inline hydration script, which carries a fresh nonce per request
//! (Leptos reads it from the request extensions and puts it on the `<script>` tag).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use http::header::{self, HeaderValue};
use rand::RngCore as _;

/// The nonce of this request's inline scripts.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

impl CspNonce {
    fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .into(),
        )
    }
}

/// What the middleware needs to know about the deployment.
#[derive(Clone)]
pub struct SecurityPolicy {
    /// Send HSTS: only when the app is reached over https, never on localhost.
    pub strict_transport: bool,
    /// The media bucket's origin, which browsers send uploads to directly (`MEDIA_STORE`);
    /// `None` on local disk, where uploads come here.
    pub upload_origin: Option<std::sync::Arc<str>>,
}

pub async fn set_security_headers(
    State(policy): State<SecurityPolicy>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = CspNonce::generate();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: blob: https://pbs.twimg.com; font-src 'self'; connect-src 'self'{}; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        nonce.0,
        policy
            .upload_origin
            .as_deref()
            .map(|origin| format!(" {origin}"))
            .unwrap_or_default()
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).expect("base64 and ASCII make a valid header value"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if policy.strict_transport {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}
