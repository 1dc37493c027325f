//! Reading what a request says: form and query parameters, credentials in headers, and the
//! address the fake itself was reached at (for URLs a platform hands back, such as an upload
//! URL, which clients must follow as given).

use std::collections::HashMap;

use axum::http::{HeaderMap, Uri, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use url::form_urlencoded;

use super::oauth::ClientCredentials;

/// Query or form parameters, decoded; the first of repeated names wins.
pub type Params = HashMap<String, String>;

/// Decodes `a=1&b=x%20y+z` (a form body or a query string).
pub fn parse_form(input: &[u8]) -> Params {
    let mut params = Params::new();
    for (name, value) in form_urlencoded::parse(input) {
        params
            .entry(name.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    params
}

/// The query of a request, as parameters (none when it has no query).
pub fn parse_query(query: Option<&str>) -> Params {
    parse_form(query.unwrap_or_default().as_bytes())
}

/// `uri` with `pairs` appended to its query (it may already have one), for redirects back to a
/// client's `redirect_uri`.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = match uri.find('?') {
        None => "?",
        Some(_) if uri.ends_with('?') || uri.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{uri}{separator}{encoded}")
}

/// The token of `Authorization: Bearer <token>` (the scheme is case-insensitive, RFC 7235).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let (scheme, token) = authorization(headers)?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The client credentials of `Authorization: Basic base64(id:secret)`. Each half is
/// form-urlencoded before it is joined (RFC 6749 §2.3.1; the `oauth2` crate does so), so it is
/// decoded here; a `:` or `=` sent raw is kept as it is.
pub fn basic_credentials(headers: &HeaderMap) -> Option<ClientCredentials> {
    let (scheme, encoded) = authorization(headers)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some(ClientCredentials {
        id: form_decode(id),
        secret: form_decode(secret),
    })
}

/// The client credentials of a form body's `client_id` and `client_secret`: RFC 6749 §2.3.1's
/// alternative to Basic, and the only way LinkedIn, Google and TikTok read them. `None` unless
/// both are present and non-empty.
pub fn form_credentials(params: &Params) -> Option<ClientCredentials> {
    let present = |name: &str| params.get(name).filter(|value| !value.is_empty()).cloned();
    Some(ClientCredentials {
        id: present("client_id")?,
        secret: present("client_secret")?,
    })
}

fn authorization(headers: &HeaderMap) -> Option<(&str, &str)> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
}

/// One form-urlencoded component. Escaping `&` and `=` first makes the whole text one name for
/// the parser, so only `%XX` and `+` are decoded.
fn form_decode(component: &str) -> String {
    let one_name = component.replace('&', "%26").replace('=', "%3D");
    form_urlencoded::parse(one_name.as_bytes())
        .next()
        .map(|(name, _)| name.into_owned())
        .unwrap_or_default()
}

/// The absolute URL the fake was reached at: scheme and `Host` of the request, plus the prefix
/// the fake is nested under (`/sandbox/pinterest` under `--sandbox`), which is the part of the
/// original path (`original`, axum's `OriginalUri`) that the nested router no longer sees
/// (`seen`). A fake hands this back in URLs its platform would host elsewhere.
pub fn own_base_url(headers: &HeaderMap, original: &Uri, seen: &Uri) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| original.authority().map(|authority| authority.as_str()))
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|proto| proto.to_str().ok())
        .filter(|proto| matches!(*proto, "http" | "https"))
        .or_else(|| original.scheme_str())
        .unwrap_or("http");
    let prefix = original
        .path()
        .strip_suffix(seen.path())
        .unwrap_or_default();
    format!("{scheme}://{host}{prefix}")
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn forms_decode_plus_and_percent_and_keep_the_first_of_a_name() {
        let params = parse_form(b"a=x%20y+z&b=&a=second&scope=boards%3Aread%2Cpins%3Aread");
        assert_eq!(params["a"], "x y z");
        assert_eq!(params["b"], "");
        assert_eq!(params["scope"], "boards:read,pins:read");
    }

    #[test]
    fn a_query_is_appended_to_an_existing_one() {
        assert_eq!(
            with_query("https://app.test/cb", &[("code", "a b"), ("state", "s&t")]),
            "https://app.test/cb?code=a+b&state=s%26t"
        );
        assert_eq!(
            with_query("https://app.test/cb?x=1", &[("code", "c")]),
            "https://app.test/cb?x=1&code=c"
        );
    }

    #[test]
    fn basic_credentials_are_decoded_from_base64_and_form_encoding() {
        let encoded = STANDARD.encode("my%20client:s3cr%3At==");
        let credentials = basic_credentials(&with_authorization(&format!("Basic {encoded}")));
        let credentials = credentials.expect("well-formed credentials");
        assert_eq!(credentials.id, "my client");
        assert_eq!(credentials.secret, "s3cr:t==");
        assert!(basic_credentials(&with_authorization("Bearer abc")).is_none());
        assert!(basic_credentials(&with_authorization("Basic not-base64!")).is_none());
    }

    #[test]
    fn form_credentials_need_both_halves() {
        let credentials = form_credentials(&parse_form(b"client_id=my+app&client_secret=s%3Ds"));
        let credentials = credentials.expect("both halves are present");
        assert_eq!(credentials.id, "my app");
        assert_eq!(credentials.secret, "s=s");
        assert!(form_credentials(&parse_form(b"client_id=app")).is_none());
        assert!(form_credentials(&parse_form(b"client_id=app&client_secret=")).is_none());
    }

    #[test]
    fn a_bearer_token_needs_the_bearer_scheme() {
        assert_eq!(
            bearer_token(&with_authorization("Bearer pina_x")),
            Some("pina_x")
        );
        assert_eq!(
            bearer_token(&with_authorization("bearer pina_x")),
            Some("pina_x")
        );
        assert_eq!(bearer_token(&with_authorization("Bearer ")), None);
        assert_eq!(bearer_token(&with_authorization("Basic abc")), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }

    #[test]
    fn the_base_url_keeps_the_prefix_the_fake_is_nested_under() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:3000"));
        let original: Uri = "/sandbox/pinterest/v5/media".parse().unwrap();
        let seen: Uri = "/v5/media".parse().unwrap();
        assert_eq!(
            own_base_url(&headers, &original, &seen),
            "http://127.0.0.1:3000/sandbox/pinterest"
        );
        assert_eq!(
            own_base_url(&headers, &seen, &seen),
            "http://127.0.0.1:3000"
        );
    }
}
