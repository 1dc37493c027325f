//! Cross-site request refusal (login CSRF and its relatives). A browser sends a state-changing
//! request to us from another site's page when that page posts a form here; the browser then
//! attaches our cookies, or (for sign-in) sets the attacker's session on the visitor. Such a
//! request is refused when the browser says it is cross-site: `Sec-Fetch-Site` other than
//! `same-origin`/`none`, or else an `Origin` that is not this site. Requests with neither
//! header come from non-browser clients and pass. Checked: every unsafe method to `/rpc/*`,
//! and to `/api/*` when it is authenticated by the session cookie rather than a Bearer token
//! (a Bearer token is never attached by a browser on its own).

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, header};

use app::types::{ApiError, SESSION_COOKIE, request_cookie};

use super::error::error_response_for;
use super::guard::Check;

/// The origins whose pages may send state-changing requests.
#[derive(Debug, Clone)]
pub struct SameSitePolicy {
    /// This site, as users reach it (`PUBLIC_BASE_URL`): `https://app.example.com`.
    own_origin: String,
    /// `CORS_ORIGINS`: other front-ends allowed to call us.
    allowed: Vec<HeaderValue>,
}

impl SameSitePolicy {
    pub fn new(public_base_url: &http::Uri, allowed: Vec<HeaderValue>) -> Self {
        let own_origin = format!(
            "{}://{}",
            public_base_url.scheme_str().unwrap_or("http"),
            public_base_url
                .authority()
                .map(|authority| authority.as_str())
                .unwrap_or_default()
        );
        Self {
            own_origin,
            allowed,
        }
    }

    fn origin_allowed(&self, origin: &HeaderValue, headers: &HeaderMap) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        if origin.eq_ignore_ascii_case(&self.own_origin)
            || self.allowed.iter().any(|allowed| allowed == origin)
        {
            return true;
        }
        // The page's origin names the host the browser sent this request to: same site even
        // when PUBLIC_BASE_URL is written differently (127.0.0.1 against localhost).
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        let origin_authority = origin.split_once("://").map(|(_, authority)| authority);
        matches!((host, origin_authority), (Some(host), Some(authority)) if host.eq_ignore_ascii_case(authority))
    }

    /// Whether a request must be refused as cross-site.
    pub fn is_cross_site(&self, method: &Method, path: &str, headers: &HeaderMap) -> bool {
        if matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) {
            return false;
        }
        let checked = path.starts_with(app::api::SERVER_FN_PREFIX)
            || (path.starts_with("/api/")
                && !headers.contains_key(header::AUTHORIZATION)
                && request_cookie(headers, SESSION_COOKIE).is_some());
        if !checked {
            return false;
        }
        let origin = headers.get(header::ORIGIN);
        match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
            Some(b"same-origin" | b"none") => false,
            Some(_) => !origin.is_some_and(|origin| self.origin_allowed(origin, headers)),
            None => origin.is_some_and(|origin| !self.origin_allowed(origin, headers)),
        }
    }
}

/// The check: refuses cross-site state-changing requests with 403 `cross_site`.
impl Check for Arc<SameSitePolicy> {
    fn check(&self, request: &mut Request) -> Option<Response> {
        let path = request.uri().path();
        if !self.is_cross_site(request.method(), path, request.headers()) {
            return None;
        }
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|origin| origin.to_str().ok())
            .unwrap_or("none");
        tracing::warn!(path, origin, "refused a cross-site request");
        Some(error_response_for(path, ApiError::CrossSite))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SameSitePolicy {
        SameSitePolicy::new(
            &"https://app.example.com".parse().unwrap(),
            vec![HeaderValue::from_static("https://studio.example.com")],
        )
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const SIGN_IN: &str = "/rpc/account/sign-in";

    #[test]
    fn a_form_posted_from_another_site_is_refused() {
        let evil = headers(&[
            ("origin", "https://evil.example.net"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(policy().is_cross_site(&Method::POST, SIGN_IN, &evil));
        let old_browser = headers(&[("origin", "https://evil.example.net")]);
        assert!(policy().is_cross_site(&Method::POST, SIGN_IN, &old_browser));
        let sibling = headers(&[
            ("origin", "https://x.example.com"),
            ("sec-fetch-site", "same-site"),
        ]);
        assert!(policy().is_cross_site(&Method::POST, SIGN_IN, &sibling));
        let opaque = headers(&[("origin", "null")]);
        assert!(policy().is_cross_site(&Method::POST, SIGN_IN, &opaque));
    }

    #[test]
    fn this_site_allowed_origins_and_non_browsers_pass() {
        let own = headers(&[
            ("origin", "https://app.example.com"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert!(!policy().is_cross_site(&Method::POST, SIGN_IN, &own));
        let studio = headers(&[
            ("origin", "https://studio.example.com"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!policy().is_cross_site(&Method::POST, SIGN_IN, &studio));
        let via_host = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert!(!policy().is_cross_site(&Method::POST, SIGN_IN, &via_host));
        assert!(!policy().is_cross_site(&Method::POST, SIGN_IN, &headers(&[])));
    }

    #[test]
    fn reads_bearer_calls_and_cookieless_api_calls_are_not_checked() {
        let evil = headers(&[
            ("origin", "https://evil.example.net"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!policy().is_cross_site(&Method::GET, SIGN_IN, &evil));
        assert!(!policy().is_cross_site(&Method::POST, "/api/auth/login", &evil));
        let bearer = headers(&[
            ("origin", "https://evil.example.net"),
            ("authorization", "Bearer x"),
            ("cookie", "picscripter_session=x"),
        ]);
        assert!(!policy().is_cross_site(&Method::POST, "/api/auth/logout", &bearer));
        let cookie = headers(&[
            ("origin", "https://evil.example.net"),
            ("cookie", "picscripter_session=x"),
        ]);
        assert!(policy().is_cross_site(&Method::POST, "/api/auth/logout", &cookie));
    }
}
