//! Sessions as the UI and the REST API see them.

use chrono::{DateTime, Utc};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::User;

/// Name of the HttpOnly cookie that carries the session JWT.
pub const SESSION_COOKIE: &str = "picscripter_session";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub Uuid);

/// A freshly signed-in session: the bearer token and when it stops working.
/// Returned once, by sign-in; the server keeps only the session id.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssuedSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSession")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Who is making this request: a user and the live session they used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Authenticated {
    pub user: User,
    pub session_id: SessionId,
}

/// The session token of a request: `Authorization: Bearer …` first (REST clients), then the
/// session cookie (the browser). `None` when neither is present.
pub fn session_token_from_headers(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim());
    }
    request_cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `name` among a request's `Cookie` headers.
pub fn request_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_token_is_found_case_insensitively() {
        let map = headers(&[("authorization", "bearer abc.def")]);
        assert_eq!(session_token_from_headers(&map), Some("abc.def"));
    }

    #[test]
    fn session_cookie_is_found_among_others() {
        let map = headers(&[("cookie", "theme=dark; picscripter_session=tok; x=y")]);
        assert_eq!(session_token_from_headers(&map), Some("tok"));
    }

    #[test]
    fn a_non_bearer_authorization_header_is_not_a_session() {
        let map = headers(&[
            ("authorization", "Basic dTpw"),
            ("cookie", "picscripter_session=tok"),
        ]);
        assert_eq!(session_token_from_headers(&map), None);
    }

    #[test]
    fn no_credentials_means_no_token() {
        assert_eq!(
            session_token_from_headers(&headers(&[("cookie", "theme=dark")])),
            None
        );
    }
}
