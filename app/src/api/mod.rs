//! Server functions, one module per area. Each is thin: find the session, parse the input into
//! checked types, call one port, map the error.

pub mod account;
pub mod settings;

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
    use leptos_axum::ResponseOptions;

    use super::REQUEST_ID_HEADER;
    use crate::services::{AccountsPort, SignInAttempt};
    use crate::types::{ApiError, Authenticated, session_token_from_headers};

    pub(crate) fn accounts() -> AccountsPort {
        expect_context::<AccountsPort>()
    }

    fn parts() -> Parts {
        expect_context::<Parts>()
    }

    /// The peer address the request came from, as the rate limiter keys it.
    pub(crate) fn client_key() -> String {
        parts()
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned())
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

    /// Signs in, stores the session in the cookie and sends the browser home.
    pub(crate) async fn start_session(email: String, password: String) -> Result<(), ApiError> {
        let attempt = SignInAttempt {
            email,
            password,
            client: client_key(),
        };
        let session = accounts().sign_in(attempt).await?;
        set_cookie(accounts().session_cookie(Some(&session)));
        leptos_axum::redirect(super::account::HOME_PATH);
        Ok(())
    }

    /// A plain HTML form post (no JavaScript yet): server_fn answers it with a redirect back
    /// to the form, the error in the URL, and the page shows it. Same test as server_fn's.
    fn is_form_navigation() -> bool {
        use_context::<Parts>()
            .and_then(|parts| parts.headers.get(http::header::ACCEPT).cloned())
            .and_then(|accept| {
                accept
                    .to_str()
                    .ok()
                    .map(|accept| accept.contains("text/html"))
            })
            .unwrap_or(false)
    }

    /// Sets the response status from the error and names the request in `Internal` errors,
    /// so that a server function fails exactly like the REST API does. A form posted without
    /// JavaScript keeps server_fn's redirect back to the form instead.
    pub(crate) fn respond<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
        result.map_err(|error| {
            let error = match error {
                ApiError::Internal { request_id: None } => ApiError::Internal {
                    request_id: use_context::<Parts>()
                        .and_then(|parts| parts.headers.get(REQUEST_ID_HEADER).cloned())
                        .and_then(|value| value.to_str().ok().map(str::to_owned)),
                },
                other => other,
            };
            if let Some(response) =
                use_context::<ResponseOptions>().filter(|_| !is_form_navigation())
            {
                response.set_status(error.status());
            }
            error
        })
    }
}
