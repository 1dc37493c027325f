//! The OAuth 2.0 plumbing every platform's file shares, on the `oauth2` crate: building the
//! client, reading a token answer, and sorting a failed token request. A platform's file keeps
//! what differs (its endpoints, scopes, PKCE or not).

use std::borrow::Cow;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use app::types::Platform;

use super::{AuthorizationStart, PlatformError, TokenSet};
use crate::config::ClientCredentials;

pub type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// How the app proves who it is to the token endpoint.
#[derive(Debug, Clone, Copy)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(id:secret)` (X, Pinterest).
    Basic,
    /// `client_id` and `client_secret` in the form body (LinkedIn, Google, TikTok).
    InBody,
}

/// An OAuth client for one platform's consent and token URLs. Both URLs are built from the
/// configuration, which checked them as absolute http(s) URLs.
pub fn client(
    credentials: &ClientCredentials,
    auth_url: String,
    token_url: String,
    auth: ClientAuth,
) -> OAuthClient {
    BasicClient::new(ClientId::new(credentials.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            credentials.client_secret.expose_secret().to_owned(),
        ))
        .set_auth_uri(AuthUrl::new(auth_url).expect("the configured auth URL is a URL"))
        .set_token_uri(TokenUrl::new(token_url).expect("the configured API URL is a URL"))
        .set_auth_type(match auth {
            ClientAuth::Basic => AuthType::BasicAuth,
            ClientAuth::InBody => AuthType::RequestBody,
        })
}

pub fn redirect_url(redirect_uri: &str) -> RedirectUrl {
    RedirectUrl::new(redirect_uri.to_owned()).expect("the redirect URI is built from a URL")
}

/// The consent URL for `state` with a fresh PKCE challenge (S256), the platform's scopes and
/// any parameters of its own (Google's `access_type=offline`).
pub fn authorize_with_pkce(
    client: &OAuthClient,
    scopes: &[&str],
    redirect_uri: &str,
    state: &str,
    extra: &[(&str, &str)],
) -> AuthorizationStart {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let state = state.to_owned();
    let mut request = client
        .authorize_url(move || CsrfToken::new(state))
        .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())))
        .set_pkce_challenge(challenge)
        .set_redirect_uri(Cow::Owned(redirect_url(redirect_uri)));
    for (name, value) in extra {
        request = request.add_extra_param((*name).to_owned(), (*value).to_owned());
    }
    let (url, _) = request.url();
    AuthorizationStart {
        url: url.to_string(),
        pkce_verifier: SecretString::from(verifier.secret().to_owned()),
    }
}

/// Trades an authorization code and its PKCE verifier for tokens, at a token endpoint that
/// answers in OAuth's own shape.
pub async fn exchange_code(
    platform: Platform,
    client: &OAuthClient,
    http: &reqwest::Client,
    code: &str,
    pkce_verifier: &SecretString,
    redirect_uri: &str,
    scopes: &[&str],
) -> Result<TokenSet, PlatformError> {
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(
            pkce_verifier.expose_secret().to_owned(),
        ))
        .set_redirect_uri(Cow::Owned(redirect_url(redirect_uri)))
        .request_async(http)
        .await
        .map_err(|error| token_error(platform, error))?;
    Ok(token_set(&response, scopes))
}

/// New tokens for a refresh token, at a token endpoint that answers in OAuth's own shape.
pub async fn refresh(
    platform: Platform,
    client: &OAuthClient,
    http: &reqwest::Client,
    refresh_token: &SecretString,
    scopes: &[&str],
) -> Result<TokenSet, PlatformError> {
    let refresh = RefreshToken::new(refresh_token.expose_secret().to_owned());
    let response = client
        .exchange_refresh_token(&refresh)
        .request_async(http)
        .await
        .map_err(|error| token_error(platform, error))?;
    Ok(token_set(&response, scopes))
}

/// The tokens of a successful answer. When the platform does not echo the scopes, the ones
/// asked for are recorded.
pub fn token_set(response: &BasicTokenResponse, asked: &[&str]) -> TokenSet {
    TokenSet {
        access: SecretString::from(response.access_token().secret().to_owned()),
        refresh: response
            .refresh_token()
            .map(|token| SecretString::from(token.secret().to_owned())),
        expires_in: response.expires_in(),
        scopes: response
            .scopes()
            .map(|scopes| {
                scopes
                    .iter()
                    .map(|scope| scope.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| asked.join(" ")),
    }
}

/// A failed token request. `invalid_grant` means the code or refresh token is spent or
/// revoked: only the user can fix that. The error's text never includes a token.
pub fn token_error<RE: std::error::Error + 'static>(
    platform: Platform,
    error: RequestTokenError<RE, BasicErrorResponse>,
) -> PlatformError {
    let name = platform.display_name();
    match error {
        RequestTokenError::ServerResponse(response) => match response.error() {
            BasicErrorResponseType::InvalidGrant => PlatformError::Reauth {
                detail: format!("{name} no longer accepts this account's authorization"),
            },
            BasicErrorResponseType::InvalidClient | BasicErrorResponseType::UnauthorizedClient => {
                let prefix = platform.as_str().to_uppercase();
                PlatformError::permanent(format!(
                    "{name} refused this app's credentials: the operator should check {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET"
                ))
            }
            other => {
                PlatformError::permanent(format!("{name} refused the authorization ({other})"))
            }
        },
        RequestTokenError::Request(_) => PlatformError::Retryable {
            wait: None,
            maybe_done: true,
            detail: format!("{name}'s token service could not be reached"),
        },
        RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => PlatformError::Retryable {
            wait: None,
            maybe_done: true,
            detail: format!("{name}'s token service gave an answer we could not read"),
        },
    }
}

/// A token answer read by hand, for platforms whose answer is not OAuth's exact shape
/// (Pinterest and LinkedIn send no `token_type` or join scopes with commas): the fields every
/// one of them sends.
#[derive(Deserialize)]
pub struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

impl TokenAnswer {
    /// The tokens, with the scopes space-separated whatever the platform used; the ones asked
    /// for when it did not say.
    pub fn into_tokens(self, asked: &[&str]) -> TokenSet {
        TokenSet {
            access: SecretString::from(self.access_token),
            refresh: self.refresh_token.map(SecretString::from),
            expires_in: self.expires_in.map(std::time::Duration::from_secs),
            scopes: self
                .scope
                .map(|scope| {
                    scope
                        .split([',', ' '])
                        .filter(|part| !part.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| asked.join(" ")),
        }
    }
}
