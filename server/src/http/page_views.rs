//! Counts `page_viewed` for the app's own pages. Every page is drawn by the server (islands
//! hydrate only their parts, and links load whole pages), so a page drawn for a signed-in
//! person is a page they viewed, with nothing for the browser to send or an ad blocker to drop.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, StatusCode};

use app::services::ProductEventLog as _;
use app::types::{AppEvent, session_token_from_headers};

use crate::state::AppState;

/// The pages counted, by path, with their names in the event list. Sign-in and registration
/// are left out: nobody is signed in to count them for.
const PAGES: &[(&str, &str)] = &[
    ("/studio", "studio"),
    ("/compose", "compose"),
    ("/calendar", "calendar"),
    ("/posts", "posts"),
    ("/products", "products"),
    ("/connections", "connections"),
    ("/settings", "settings"),
    ("/analytics", "analytics"),
    ("/media", "media"),
    ("/templates", "templates"),
];

/// The name `page_viewed` gives the page at `path`, if it is one of the app's.
fn page_at(path: &str) -> Option<&'static str> {
    let path = path
        .strip_suffix('/')
        .filter(|path| !path.is_empty())
        .unwrap_or(path);
    if let Some(id) = path.strip_prefix("/posts/") {
        return (!id.is_empty() && !id.contains('/')).then_some("post");
    }
    PAGES
        .iter()
        .find(|(page_path, _)| *page_path == path)
        .map(|(_, name)| *name)
}

/// After a page is drawn (200) for a valid session, counts it. A redirect to sign in, an
/// error page or a server function call counts nothing.
pub async fn count_page_views(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let viewed = (request.method() == Method::GET)
        .then(|| page_at(request.uri().path()))
        .flatten()
        .and_then(|page| {
            session_token_from_headers(request.headers()).map(|token| (page, token.to_owned()))
        });
    let response = next.run(request).await;
    if let Some((page, token)) = viewed
        && response.status() == StatusCode::OK
        && let Ok(who) = state.services.accounts.authenticate(&token).await
    {
        state
            .analytics
            .record(&who.user, AppEvent::PageViewed { page })
            .await;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_has_its_name_and_other_paths_none() {
        assert_eq!(page_at("/calendar"), Some("calendar"));
        assert_eq!(page_at("/calendar/"), Some("calendar"));
        assert_eq!(
            page_at("/posts/0b7f0c3e-4a1d-4c55-9b0e-2f6f5f0d1a2b"),
            Some("post")
        );
        assert_eq!(page_at("/posts"), Some("posts"));
        for other in [
            "/",
            "/login",
            "/register",
            "/posts/a/b",
            "/rpc/posts/move",
            "/pkg/app.js",
        ] {
            assert_eq!(page_at(other), None, "{other}");
        }
    }

    #[test]
    fn every_page_name_is_in_the_event_list() {
        for name in PAGES.iter().map(|(_, name)| *name).chain(["post"]) {
            let tracked = AppEvent::PageViewed { page: name }.tracked();
            assert!(
                crate::analytics::events::check(&tracked, chrono::Utc::now()).is_ok(),
                "{name} is not in page_viewed's list"
            );
        }
    }
}
