//! The shell of every page a fake shows a person (consent, control, a published post), and the
//! small answers around them. Pages are self-contained apart from one stylesheet that the fake
//! serves itself: a file rather than inline style, so the app's Content-Security-Policy
//! (`style-src 'self'`) lets it through when the fakes are nested under `--sandbox`. Every
//! echoed value is escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f5f4;color:#1c1917;margin:0}\
main{max-width:34rem;margin:3rem auto;padding:1.5rem;background:#fff;border:1px solid #d6d3d1;border-radius:1rem}\
label{display:block;font-weight:600;margin-top:1rem}\
input[type=text],select{font:inherit;padding:.5rem;width:100%;box-sizing:border-box}\
button{font:inherit;padding:.5rem 1.25rem;margin:1rem .5rem 0 0;border-radius:2rem;border:1px solid #1c1917;background:#fff;color:#1c1917;cursor:pointer}\
button.primary{background:#1c1917;color:#fff}\
.hint,.meta{color:#57534e;font-size:.9rem}.text{white-space:pre-wrap;font-size:1.2rem}\
ul.urls{padding-left:1.2rem;word-break:break-all}";

/// A page: `stylesheet` is the href of the fake's [`stylesheet`] route relative to the page
/// (`../sandbox.css` from `/oauth/`), so the page works wherever the fake is mounted.
pub fn page(title: &str, body: &str, stylesheet: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body><main>
{body}
</main></body>
</html>"#,
        title = escape_html(title),
        stylesheet = escape_html(stylesheet),
    )
}

/// The handler of a fake's stylesheet route.
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}

/// The 400 page of an authorize request the fake cannot honour. It never redirects: with a bad
/// client or redirect URI there is nowhere safe to send the user back to.
pub fn refusal_page(platform: &str, problem: &str, stylesheet: &str) -> Response {
    let body = format!(
        "<h1>Sandbox {platform} cannot authorize this request</h1>\n<p role=\"alert\">{problem}</p>",
        platform = escape_html(platform),
        problem = escape_html(problem),
    );
    let title = format!("Sandbox {platform} — bad authorization request");
    (
        StatusCode::BAD_REQUEST,
        Html(page(&title, &body, stylesheet)),
    )
        .into_response()
}

/// A 302 to `location`, as OAuth servers answer a consent (axum's `Redirect` offers 303, 307 and
/// 308). Redirect URIs are checked to be visible ASCII before a code is issued, so the fallback
/// is for a fake that skipped that check.
pub fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => (
            StatusCode::BAD_REQUEST,
            "The redirect location cannot be sent in a Location header.",
        )
            .into_response(),
    }
}

/// A profile picture that needs no network: the name's initial on a colour of its own, as an SVG
/// data URL (platforms answer with a CDN address; a fake has none).
pub fn avatar_data_url(name: &str) -> String {
    let initial = name.chars().next().map_or('?', |c| c.to_ascii_uppercase());
    let hue = name.bytes().fold(0u32, |sum, byte| {
        sum.wrapping_mul(31).wrapping_add(u32::from(byte))
    }) % 360;
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="24" fill="hsl({hue},55%,45%)"/><text x="24" y="31" font-family="sans-serif" font-size="22" text-anchor="middle" fill="#fff">{initial}</text></svg>"##,
        initial = escape_html(&initial.to_string()),
    );
    format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg))
}

pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_text_is_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let html = page("<title>", "<p>body</p>", "../sandbox.css");
        assert!(html.contains("<title>&lt;title&gt;</title>"));
        assert!(html.contains(r#"href="../sandbox.css""#));
    }

    #[test]
    fn a_redirect_is_a_302_with_the_location() {
        let response = found("https://app.test/cb?code=abc");
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            response.headers()[header::LOCATION],
            "https://app.test/cb?code=abc"
        );
    }
}
