//! Server functions, one module per area. Each is thin: find the session, parse the input into
//! checked types, call one port, map the error.
//!
//! A server function takes what it needs from the context (its port) before its first
//! `.await`: when a page calls one while rendering on the server, it runs inside a resource
//! whose reactive owner may be gone by the time the function resumes, and `expect_context`
//! would then panic.

pub mod account;
pub mod analytics;
pub mod connections;
pub mod media;
pub mod meta;
pub mod posts;
pub mod settings;
pub mod stores;
pub mod studio;
pub mod templates;

/// Where server functions live. The `#[server(prefix = …)]` attributes must say the same (a
/// macro argument cannot name a constant); a test checks that they do.
pub const SERVER_FN_PREFIX: &str = "/rpc";

/// The header that carries a request's id; the server sets it on every request and response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[cfg(test)]
mod tests {
    use leptos::server_fn::ServerFn;

    #[test]
    fn every_server_function_lives_under_the_prefix() {
        let paths = [
            <super::account::CurrentUser as ServerFn>::PATH,
            <super::account::Register as ServerFn>::PATH,
            <super::account::SignIn as ServerFn>::PATH,
            <super::account::SignOut as ServerFn>::PATH,
            <super::settings::UpdateProfile as ServerFn>::PATH,
            <super::settings::ChangePassword as ServerFn>::PATH,
            <super::settings::TimeZones as ServerFn>::PATH,
            <super::connections::LoadConnections as ServerFn>::PATH,
            <super::connections::AuthorizeConnection as ServerFn>::PATH,
            <super::connections::DisconnectConnection as ServerFn>::PATH,
            <super::posts::CreatePost as ServerFn>::PATH,
            <super::posts::UpdatePost as ServerFn>::PATH,
            <super::posts::ListPosts as ServerFn>::PATH,
            <super::posts::GetPost as ServerFn>::PATH,
            <super::posts::DuplicatePost as ServerFn>::PATH,
            <super::posts::RetryTarget as ServerFn>::PATH,
            <super::posts::CancelPost as ServerFn>::PATH,
            <super::posts::DeletePost as ServerFn>::PATH,
            <super::media::ListMedia as ServerFn>::PATH,
            <super::media::LoadLibrary as ServerFn>::PATH,
            <super::media::DeleteMedia as ServerFn>::PATH,
            <super::meta::IsSandbox as ServerFn>::PATH,
            <super::studio::StudioSettingsOf as ServerFn>::PATH,
            <super::studio::SaveCaptionWriter as ServerFn>::PATH,
            <super::studio::SaveBrandVoice as ServerFn>::PATH,
            <super::studio::TestCaptionWriter as ServerFn>::PATH,
            <super::stores::LoadStores as ServerFn>::PATH,
            <super::stores::AuthorizeStore as ServerFn>::PATH,
            <super::stores::SyncStore as ServerFn>::PATH,
            <super::stores::DisconnectStore as ServerFn>::PATH,
            <super::stores::LoadProducts as ServerFn>::PATH,
            <super::stores::DraftFromProduct as ServerFn>::PATH,
            <super::posts::LoadCalendar as ServerFn>::PATH,
            <super::analytics::LoadAnalytics as ServerFn>::PATH,
            <super::posts::MovePost as ServerFn>::PATH,
            <super::templates::LoadTemplates as ServerFn>::PATH,
            <super::templates::StartTemplate as ServerFn>::PATH,
            <super::templates::CreateTemplate as ServerFn>::PATH,
            <super::templates::UpdateTemplate as ServerFn>::PATH,
            <super::templates::DeleteTemplate as ServerFn>::PATH,
            <super::templates::SavePostAsTemplate as ServerFn>::PATH,
        ];
        for path in paths {
            assert!(
                path.starts_with(&format!("{}/", super::SERVER_FN_PREFIX)),
                "{path}"
            );
        }
    }
}

/// Server-only plumbing shared by the server functions.
#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use http::request::Parts;
    use leptos::prelude::{expect_context, use_context};
    use leptos::server_fn::error::ServerFnUrlError;
    use leptos_axum::ResponseOptions;

    use super::REQUEST_ID_HEADER;
    use crate::services::{
        AccountsPort, ConnectionsPort, MediaPort, PostsPort, Services, StudioPreferencesPort,
    };
    use crate::types::{ApiError, Authenticated, ClientAddr, session_token_from_headers};

    pub(crate) fn accounts() -> AccountsPort {
        expect_context::<Services>().accounts
    }

    pub(crate) fn connections() -> ConnectionsPort {
        expect_context::<Services>().connections
    }

    pub(crate) fn posts() -> PostsPort {
        expect_context::<Services>().posts
    }

    pub(crate) fn media() -> MediaPort {
        expect_context::<Services>().media
    }

    pub(crate) fn stores() -> crate::services::StoresPort {
        expect_context::<Services>().stores
    }

    pub(crate) fn post_analytics() -> crate::services::PostAnalyticsPort {
        expect_context::<Services>().analytics
    }

    pub(crate) fn templates() -> crate::services::TemplatesPort {
        expect_context::<Services>().templates
    }

    pub(crate) fn events() -> crate::services::ProductEventsPort {
        expect_context::<Services>().events
    }

    pub(crate) fn studio() -> StudioPreferencesPort {
        expect_context::<Services>().studio
    }

    fn parts() -> Parts {
        expect_context::<Parts>()
    }

    /// The address this request is charged to, as the server's middleware decided it. Without
    /// one (the server was wired without it) nothing is let through: failing open would give
    /// every caller one shared, unthrottled identity.
    pub(crate) fn client_addr() -> Result<ClientAddr, ApiError> {
        parts()
            .extensions
            .get::<ClientAddr>()
            .copied()
            .ok_or(ApiError::Internal { request_id: None })
    }

    /// The signed-in user, if the request carries a live session.
    pub(crate) async fn current_session() -> Result<Option<Authenticated>, ApiError> {
        let parts = parts();
        let Some(token) = session_token_from_headers(&parts.headers) else {
            return Ok(None);
        };
        match accounts().authenticate(token).await {
            Ok(who) => Ok(Some(who)),
            Err(ApiError::Unauthorized) => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub(crate) async fn require_session() -> Result<Authenticated, ApiError> {
        current_session().await?.ok_or(ApiError::Unauthorized)
    }

    pub(crate) fn set_cookie(value: String) {
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            expect_context::<ResponseOptions>().append_header(http::header::SET_COOKIE, value);
        }
    }

    /// A plain HTML form post to a server function (no JavaScript yet): server_fn answers it
    /// with a redirect back to the form, the error in the URL, and the page shows it. Same
    /// test as server_fn's, limited to server-function requests: a page rendering on the
    /// server also accepts HTML, and there the status must follow the error.
    fn is_form_post(parts: &Parts) -> bool {
        parts.uri.path().starts_with(super::SERVER_FN_PREFIX)
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    }

    /// Sets the response status from the error and names the request in `Internal` errors,
    /// so that a server function fails exactly like the REST API does. A form posted without
    /// JavaScript keeps server_fn's redirect back to the form instead.
    pub(crate) fn respond<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
        respond_keeping(result, &[])
    }

    /// [`respond`], and when a form posted without JavaScript fails, the redirect back to it
    /// also carries `keep` (field name and value, never a password), so the page can fill
    /// those fields in again and the user retypes only what was wrong.
    pub(crate) fn respond_keeping<T>(
        result: Result<T, ApiError>,
        keep: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        result.map_err(|error| {
            let parts = use_context::<Parts>();
            let error = match error {
                ApiError::Internal { request_id: None } => ApiError::Internal {
                    request_id: parts
                        .as_ref()
                        .and_then(|parts| parts.headers.get(REQUEST_ID_HEADER))
                        .and_then(|value| value.to_str().ok().map(str::to_owned)),
                },
                other => other,
            };
            let Some(response) = use_context::<ResponseOptions>() else {
                return error;
            };
            match parts.as_ref().filter(|parts| is_form_post(parts)) {
                Some(parts) => {
                    if let Some(location) = form_error_location(parts, &error, keep) {
                        response.insert_header(http::header::LOCATION, location);
                    }
                }
                None => response.set_status(error.status()),
            }
            error
        })
    }

    /// Where a failed no-JavaScript form post goes back to: the page it came from, with the
    /// error encoded as server_fn does it (so the page's action shows it) and the kept fields.
    fn form_error_location(
        parts: &Parts,
        error: &ApiError,
        keep: &[(&str, &str)],
    ) -> Option<http::HeaderValue> {
        if keep.is_empty() {
            return None;
        }
        let mut referer = parts
            .headers
            .get(http::header::REFERER)?
            .to_str()
            .ok()?
            .to_owned();
        ServerFnUrlError::<ApiError>::strip_error_info(&mut referer);
        let mut url = ServerFnUrlError::new(parts.uri.path(), error.clone())
            .to_url(&referer)
            .ok()?;
        let others: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(name, _)| !keep.iter().any(|(kept, _)| name == kept))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(others)
            .extend_pairs(keep.iter().copied());
        http::HeaderValue::from_str(url.as_str()).ok()
    }
}
