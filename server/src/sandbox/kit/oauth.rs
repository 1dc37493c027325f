//! The OAuth 2.0 authorization server inside every fake: one registered confidential app, the
//! authorize request's checks, single-use codes bound to what was consented to, tokens with
//! lifetimes, refresh with or without rotation, revocation, and bearer authentication.
//!
//! Each platform's differences are data in [`OAuthConfig`] (PKCE policy, scope separator,
//! lifetimes, rotation, token prefixes); how answers look is the fake's: this module returns
//! [`IssuedTokens`], [`OAuthError`] and [`BearerError`] for the fake to render in its platform's
//! shape. It is strict where any platform is, because a lenient fake lets client bugs through:
//! codes are spent by one use and expire, a code only redeems with the redirect URI (and PKCE
//! verifier) it was issued for, a rotated refresh token is spent.
//!
//! Times come from the caller (`now`), so a fake on a `ManualClock` expires codes and tokens
//! without waiting.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

use super::ids::random_token;
use super::request::{Params, with_query};

/// Whether a platform takes PKCE on its authorize request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    /// An S256 challenge is mandatory (X, Etsy).
    Required,
    /// Checked when the authorize request carried one (Google, TikTok web).
    Optional,
    /// Ignored: the platform has no PKCE (Pinterest, LinkedIn, Meta).
    NotUsed,
}

/// What a refresh does to the refresh token it spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token is spent; a successor comes with the answer (X, Squarespace).
    Rotate,
    /// The same token keeps working until it expires or is revoked (Google, Pinterest by
    /// default).
    Keep,
}

/// Whether and how refresh tokens are issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// `None`: refresh tokens never expire.
    pub lifetime: Option<TimeDelta>,
    pub rotation: Rotation,
    /// Issue a refresh token only when this scope was granted (X's `offline.access`).
    pub only_with_scope: Option<&'static str>,
}

/// Whether one consent lets its code be exchanged for a refresh token (when the platform's
/// [`RefreshPolicy`] issues them at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A refresh token comes with the code's access token.
    Offline,
    /// Only an access token: Google without `access_type=offline`, or a repeat consent without
    /// `prompt=consent`.
    Online,
}

/// One platform's OAuth facts, and the app registered with the fake.
#[derive(Clone)]
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Every scope the platform knows; anything else is refused at consent, which catches a typo
    /// in the scopes the app asks for.
    pub known_scopes: &'static [&'static str],
    /// How the `scope` parameter separates scopes (a space in RFC 6749; a comma at Pinterest,
    /// Meta and TikTok).
    pub scope_separator: char,
    pub pkce: Pkce,
    /// Whether an authorize request without `state` is refused.
    pub state_required: bool,
    pub code_lifetime: TimeDelta,
    /// `None`: access tokens never expire (Meta page tokens).
    pub access_token_lifetime: Option<TimeDelta>,
    /// `None`: the platform issues no refresh tokens.
    pub refresh: Option<RefreshPolicy>,
    pub access_token_prefix: &'static str,
    pub refresh_token_prefix: &'static str,
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("pkce", &self.pkce)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

/// A client's id and secret as presented at a token endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: String,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A set of granted scopes, in the order they were asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Splits on `separator`, trimming and dropping empty pieces and repeats.
    pub fn parse(raw: &str, separator: char) -> Self {
        let mut scopes: Vec<String> = Vec::new();
        for scope in raw.split(separator).map(str::trim) {
            if !scope.is_empty() && !scopes.iter().any(|seen| seen == scope) {
                scopes.push(scope.to_owned());
            }
        }
        Self(scopes)
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|granted| granted == scope)
    }

    pub fn join(&self, separator: char) -> String {
        self.0.join(&separator.to_string())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// What a token stands for: an account of the fake and the scopes it granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub account_id: String,
    pub scopes: Scopes,
}

/// An authorize query that passed the checks; the fields are what a code will be bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    /// The S256 challenge; always `None` under [`Pkce::NotUsed`].
    pub code_challenge: Option<String>,
}

impl AuthorizeRequest {
    /// Where the browser goes when the user declines.
    pub fn denied_location(&self) -> String {
        let mut pairs = vec![("error", "access_denied")];
        if let Some(state) = &self.state {
            pairs.push(("state", state.as_str()));
        }
        with_query(&self.redirect_uri, &pairs)
    }
}

/// The token endpoint's parameters for `grant_type=authorization_code`.
#[derive(Debug, Clone, Copy)]
pub struct CodeRedemption<'a> {
    pub code: &'a str,
    pub redirect_uri: &'a str,
    /// Checked when the client also sends it in the form.
    pub client_id: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// A successful token answer, for the fake to render.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    /// Seconds; `None` for a token that never expires.
    pub expires_in: Option<i64>,
    pub refresh: Option<IssuedRefresh>,
    pub grant: Grant,
}

#[derive(Debug, Clone)]
pub struct IssuedRefresh {
    pub token: String,
    /// Seconds left; `None` for a token that never expires.
    pub expires_in: Option<i64>,
    /// False when a refresh kept the token the client already has ([`Rotation::Keep`]): most
    /// platforms then leave it out of the answer.
    pub is_new: bool,
}

/// Why a token request was refused, in OAuth's terms (RFC 6749 §5.2); the fake picks the
/// platform's status and body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A parameter is missing or malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// Missing or wrong client credentials.
    #[error("Client authentication failed.")]
    InvalidClient,
    /// The code or refresh token is unknown, spent, expired, revoked or bound to something else.
    #[error("{0}")]
    InvalidGrant(String),
    #[error("grant_type {0:?} is not supported.")]
    UnsupportedGrantType(String),
}

/// Why a bearer token was refused. Platforms word these differently, and some tell an expired
/// token from a revoked one (the difference decides between refreshing and asking the user to
/// reconnect), so the distinction is kept for the fake to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Never issued by this fake.
    Unknown,
    /// Revoked, singly or with every token of its account.
    Revoked,
    Expired,
    /// The token is live but was not granted this scope.
    MissingScope(String),
}

/// How many of each token request arrived, whatever they were answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OAuthCounts {
    pub code_exchanges: usize,
    pub refreshes: usize,
    pub revocations: usize,
}

#[derive(Debug)]
struct IssuedCode {
    request: AuthorizeRequest,
    account_id: String,
    access: Access,
    expires_at: DateTime<Utc>,
    spent: bool,
}

#[derive(Debug)]
struct AccessToken {
    grant: Grant,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
}

#[derive(Debug)]
struct RefreshToken {
    grant: Grant,
    expires_at: Option<DateTime<Utc>>,
    /// Used once under rotation: its successor was issued.
    spent: bool,
    revoked: bool,
}

/// The authorization server's state. Lives inside a fake's world, behind the fake's lock.
pub struct AuthorizationServer {
    config: OAuthConfig,
    codes: HashMap<String, IssuedCode>,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, RefreshToken>,
    counts: OAuthCounts,
    /// S256 challenges written in hex rather than base64url (what some report of TikTok).
    hex_challenges: bool,
}

impl fmt::Debug for AuthorizationServer {
    // The maps hold live tokens; printing them would gain a failing test nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationServer")
            .field("config", &self.config)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl AuthorizationServer {
    pub fn new(config: OAuthConfig) -> Self {
        Self {
            config,
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            counts: OAuthCounts::default(),
            hex_challenges: false,
        }
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Expects S256 challenges as the verifier's SHA-256 in lowercase hex (64 characters)
    /// instead of base64url: authorize requests with the other kind are refused.
    pub fn expect_hex_challenges(&mut self, hex: bool) {
        self.hex_challenges = hex;
    }

    /// Lifetime of access tokens issued from now on; zero or less issues tokens that are already
    /// expired, `None` tokens that never expire.
    pub fn set_access_token_lifetime(&mut self, lifetime: Option<TimeDelta>) {
        self.config.access_token_lifetime = lifetime;
    }

    /// Whether and how refresh tokens are issued from now on; `None` stops issuing them and
    /// refuses every refresh, even with a token issued before (an app that lost programmatic
    /// refresh at LinkedIn).
    pub fn set_refresh(&mut self, refresh: Option<RefreshPolicy>) {
        self.config.refresh = refresh;
    }

    // --- Consent ------------------------------------------------------------------------------

    /// Checks an authorize query the way a platform does before it shows consent. The error is
    /// the sentence the 400 page shows.
    pub fn check_authorize(&self, params: &Params) -> Result<AuthorizeRequest, String> {
        let client_id = required(params, "client_id")?;
        if client_id != self.config.client_id {
            return Err(format!(
                "client_id \"{client_id}\" is not a registered app."
            ));
        }
        let redirect_uri = required(params, "redirect_uri")?;
        check_redirect_uri(redirect_uri)?;
        if params.get("response_type").map(String::as_str) != Some("code") {
            return Err("response_type must be \"code\".".to_owned());
        }
        let scopes = Scopes::parse(required(params, "scope")?, self.config.scope_separator);
        if let Some(unknown) = scopes
            .iter()
            .find(|scope| !self.config.known_scopes.contains(scope))
        {
            return Err(format!(
                "scope \"{unknown}\" is not a known scope (scopes are separated by {:?}).",
                self.config.scope_separator
            ));
        }
        let state = params
            .get("state")
            .filter(|state| !state.is_empty())
            .cloned();
        if state.is_none() && self.config.state_required {
            return Err("state is missing.".to_owned());
        }
        Ok(AuthorizeRequest {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scopes,
            state,
            code_challenge: self.code_challenge(params)?,
        })
    }

    fn code_challenge(&self, params: &Params) -> Result<Option<String>, String> {
        let challenge = params.get("code_challenge").filter(|c| !c.is_empty());
        match (self.config.pkce, challenge) {
            (Pkce::NotUsed, _) | (Pkce::Optional, None) => Ok(None),
            (Pkce::Required, None) => {
                Err("code_challenge is missing: PKCE is mandatory.".to_owned())
            }
            (Pkce::Required | Pkce::Optional, Some(challenge)) => {
                if params.get("code_challenge_method").map(String::as_str) != Some("S256") {
                    return Err("code_challenge_method must be \"S256\".".to_owned());
                }
                check_code_challenge(challenge, self.hex_challenges)?;
                Ok(Some(challenge.clone()))
            }
        }
    }

    /// The checked request again, for the consent form's hidden fields.
    pub fn consent_fields(&self, request: &AuthorizeRequest) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("response_type", "code".to_owned()),
            ("client_id", request.client_id.clone()),
            ("redirect_uri", request.redirect_uri.clone()),
            ("scope", request.scopes.join(self.config.scope_separator)),
        ];
        if let Some(state) = &request.state {
            fields.push(("state", state.clone()));
        }
        if let Some(challenge) = &request.code_challenge {
            fields.push(("code_challenge", challenge.clone()));
            fields.push(("code_challenge_method", "S256".to_owned()));
        }
        fields
    }

    /// The user allowed `request` as `account_id`: issues a code bound to it and returns where the
    /// browser goes (`redirect_uri?code=..&state=..`).
    pub fn approve(
        &mut self,
        request: AuthorizeRequest,
        account_id: &str,
        now: DateTime<Utc>,
    ) -> String {
        self.approve_for(request, account_id, Access::Offline, now)
    }

    /// As [`AuthorizationServer::approve`], saying whether the code's exchange includes a refresh
    /// token, for platforms where the authorize request decides that (Google's `access_type`).
    pub fn approve_for(
        &mut self,
        request: AuthorizeRequest,
        account_id: &str,
        access: Access,
        now: DateTime<Utc>,
    ) -> String {
        let code = random_token("");
        let mut pairs = vec![("code", code.as_str())];
        if let Some(state) = &request.state {
            pairs.push(("state", state.as_str()));
        }
        let location = with_query(&request.redirect_uri, &pairs);
        self.codes.insert(
            code,
            IssuedCode {
                request,
                account_id: account_id.to_owned(),
                access,
                expires_at: now + self.config.code_lifetime,
                spent: false,
            },
        );
        location
    }

    // --- Token endpoint -----------------------------------------------------------------------

    /// Counts a token request by its grant type. Called before any scripted failure, so the
    /// counters say what clients attempted, not what succeeded.
    pub fn count_token_request(&mut self, grant_type: Option<&str>) {
        match grant_type {
            Some("authorization_code") => self.counts.code_exchanges += 1,
            Some("refresh_token") => self.counts.refreshes += 1,
            _ => {}
        }
    }

    pub fn check_client(&self, presented: Option<&ClientCredentials>) -> Result<(), OAuthError> {
        match presented {
            Some(client)
                if client.id == self.config.client_id
                    && client.secret == self.config.client_secret =>
            {
                Ok(())
            }
            _ => Err(OAuthError::InvalidClient),
        }
    }

    /// The whole token endpoint for platforms without quirks: client check, then
    /// `authorization_code` or `refresh_token`. `rotation` overrides the policy's for this
    /// request (Pinterest rotates only when asked).
    pub fn token_request(
        &mut self,
        client: Option<&ClientCredentials>,
        params: &Params,
        rotation: Option<Rotation>,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        self.check_client(client)?;
        match params.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let redemption = CodeRedemption {
                    code: required_param(params, "code")?,
                    redirect_uri: required_param(params, "redirect_uri")?,
                    client_id: params.get("client_id").map(String::as_str),
                    code_verifier: params.get("code_verifier").map(String::as_str),
                };
                self.exchange_code(redemption, now)
            }
            Some("refresh_token") => {
                self.refresh(required_param(params, "refresh_token")?, rotation, now)
            }
            Some(other) => Err(OAuthError::UnsupportedGrantType(other.to_owned())),
            None => Err(OAuthError::InvalidRequest(
                "grant_type is missing.".to_owned(),
            )),
        }
    }

    /// Spends a live code whose redirect URI (and PKCE verifier) match the consent it came from.
    pub fn exchange_code(
        &mut self,
        redemption: CodeRedemption<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        let hex_challenges = self.hex_challenges;
        let issued = self
            .codes
            .get_mut(redemption.code)
            .filter(|issued| !issued.spent && now < issued.expires_at)
            .ok_or_else(|| {
                OAuthError::InvalidGrant(
                    "The authorization code is invalid, expired or already used.".to_owned(),
                )
            })?;
        if issued.request.redirect_uri != redemption.redirect_uri {
            return Err(OAuthError::InvalidGrant(
                "redirect_uri does not match the one the code was issued for.".to_owned(),
            ));
        }
        if redemption
            .client_id
            .is_some_and(|client_id| client_id != issued.request.client_id)
        {
            return Err(OAuthError::InvalidGrant(
                "The code was issued to another client.".to_owned(),
            ));
        }
        if let Some(challenge) = &issued.request.code_challenge {
            let verifier = redemption.code_verifier.ok_or_else(|| {
                OAuthError::InvalidRequest("code_verifier is missing.".to_owned())
            })?;
            if challenge_of(verifier, hex_challenges) != *challenge {
                return Err(OAuthError::InvalidGrant(
                    "code_verifier does not match the code_challenge.".to_owned(),
                ));
            }
        }
        issued.spent = true;
        let grant = Grant {
            account_id: issued.account_id.clone(),
            scopes: issued.request.scopes.clone(),
        };
        Ok(match issued.access {
            Access::Offline => self.issue(grant, now),
            Access::Online => self.issue_access(grant, now),
        })
    }

    /// Issues a new access token for a live refresh token; `rotation` (default: the policy's)
    /// decides whether the refresh token is spent and succeeded.
    pub fn refresh(
        &mut self,
        refresh_token: &str,
        rotation: Option<Rotation>,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        let Some(policy) = self.config.refresh else {
            return Err(OAuthError::UnsupportedGrantType("refresh_token".to_owned()));
        };
        let refresh = self
            .refresh_tokens
            .get_mut(refresh_token)
            .ok_or_else(|| OAuthError::InvalidGrant("The refresh token is invalid.".to_owned()))?;
        if refresh.revoked || refresh.spent {
            return Err(OAuthError::InvalidGrant(
                "The refresh token was revoked or already used.".to_owned(),
            ));
        }
        if refresh
            .expires_at
            .is_some_and(|expires_at| now >= expires_at)
        {
            return Err(OAuthError::InvalidGrant(
                "The refresh token has expired.".to_owned(),
            ));
        }
        let grant = refresh.grant.clone();
        match rotation.unwrap_or(policy.rotation) {
            Rotation::Rotate => {
                refresh.spent = true;
                Ok(self.issue(grant, now))
            }
            Rotation::Keep => {
                let kept = IssuedRefresh {
                    token: refresh_token.to_owned(),
                    expires_in: refresh
                        .expires_at
                        .map(|expires_at| (expires_at - now).num_seconds()),
                    is_new: false,
                };
                let mut tokens = self.issue_access(grant, now);
                tokens.refresh = Some(kept);
                Ok(tokens)
            }
        }
    }

    /// An access token and, when the policy says so, a new refresh token.
    fn issue(&mut self, grant: Grant, now: DateTime<Utc>) -> IssuedTokens {
        let refresh = self
            .config
            .refresh
            .filter(|policy| {
                policy
                    .only_with_scope
                    .is_none_or(|scope| grant.scopes.contains(scope))
            })
            .map(|policy| {
                let token = random_token(self.config.refresh_token_prefix);
                self.refresh_tokens.insert(
                    token.clone(),
                    RefreshToken {
                        grant: grant.clone(),
                        expires_at: policy.lifetime.map(|lifetime| now + lifetime),
                        spent: false,
                        revoked: false,
                    },
                );
                IssuedRefresh {
                    token,
                    expires_in: policy.lifetime.map(|lifetime| lifetime.num_seconds()),
                    is_new: true,
                }
            });
        let mut tokens = self.issue_access(grant, now);
        tokens.refresh = refresh;
        tokens
    }

    fn issue_access(&mut self, grant: Grant, now: DateTime<Utc>) -> IssuedTokens {
        self.issue_access_token(grant, self.config.access_token_lifetime, now)
    }

    /// An access token for `grant` living `lifetime` (`None`: for ever), minted outside any code
    /// or refresh: for platforms whose tokens come from other tokens (Meta's long-lived user
    /// tokens and page tokens). Revoked and checked like every other access token; not counted.
    pub fn issue_access_token(
        &mut self,
        grant: Grant,
        lifetime: Option<TimeDelta>,
        now: DateTime<Utc>,
    ) -> IssuedTokens {
        let access_token = random_token(self.config.access_token_prefix);
        self.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                grant: grant.clone(),
                expires_at: lifetime.map(|lifetime| now + lifetime),
                revoked: false,
            },
        );
        IssuedTokens {
            access_token,
            expires_in: lifetime.map(|lifetime| lifetime.num_seconds()),
            refresh: None,
            grant,
        }
    }

    // --- Revocation ---------------------------------------------------------------------------

    /// Revokes the token whichever kind it is, and counts the revocation. Whether the token was
    /// known is returned, though OAuth revocation (RFC 7009) answers success either way.
    pub fn revoke(&mut self, token: &str) -> bool {
        self.counts.revocations += 1;
        let mut known = false;
        if let Some(access) = self.access_tokens.get_mut(token) {
            access.revoked = true;
            known = true;
        }
        if let Some(refresh) = self.refresh_tokens.get_mut(token) {
            refresh.revoked = true;
            known = true;
        }
        known
    }

    /// What the user removing the app at the platform does: every token of that account dies.
    /// Not counted as a revocation, which counts API calls.
    pub fn revoke_account(&mut self, account_id: &str) {
        for access in self.access_tokens.values_mut() {
            if access.grant.account_id == account_id {
                access.revoked = true;
            }
        }
        for refresh in self.refresh_tokens.values_mut() {
            if refresh.grant.account_id == account_id {
                refresh.revoked = true;
            }
        }
    }

    /// Revokes the token and every other token of its account, and counts one revocation: Google
    /// ends the whole grant whichever of its tokens is revoked. Whether the token was known is
    /// returned.
    pub fn revoke_grant(&mut self, token: &str) -> bool {
        self.counts.revocations += 1;
        let account_id = self
            .access_tokens
            .get(token)
            .map(|access| &access.grant)
            .or_else(|| self.refresh_tokens.get(token).map(|refresh| &refresh.grant))
            .map(|grant| grant.account_id.clone());
        match account_id {
            Some(account_id) => {
                self.revoke_account(&account_id);
                true
            }
            None => false,
        }
    }

    /// Whether `account_id` holds a refresh token that still works: Google issues another on a
    /// repeat consent only when the app asks for it (`prompt=consent`).
    pub fn has_live_refresh_token(&self, account_id: &str, now: DateTime<Utc>) -> bool {
        self.refresh_tokens.values().any(|refresh| {
            refresh.grant.account_id == account_id
                && !refresh.revoked
                && !refresh.spent
                && refresh.expires_at.is_none_or(|expires_at| now < expires_at)
        })
    }

    // --- Resource server ----------------------------------------------------------------------

    /// The grant behind a live bearer token carrying every scope in `scopes`. Revocation is
    /// reported before expiry: a revoked token cannot be refreshed back to life, an expired one
    /// can.
    pub fn authenticate(
        &self,
        token: Option<&str>,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<Grant, BearerError> {
        let token = token.ok_or(BearerError::Missing)?;
        let access = self.access_tokens.get(token).ok_or(BearerError::Unknown)?;
        if access.revoked {
            return Err(BearerError::Revoked);
        }
        if access
            .expires_at
            .is_some_and(|expires_at| now >= expires_at)
        {
            return Err(BearerError::Expired);
        }
        if let Some(missing) = scopes
            .iter()
            .find(|scope| !access.grant.scopes.contains(scope))
        {
            return Err(BearerError::MissingScope((*missing).to_owned()));
        }
        Ok(access.grant.clone())
    }

    /// Every access and refresh token ever issued: tests look for them where they must never
    /// appear (logs, pages, API answers).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.access_tokens
            .keys()
            .chain(self.refresh_tokens.keys())
            .cloned()
            .collect()
    }

    pub fn counts(&self) -> OAuthCounts {
        self.counts
    }
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, String> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| format!("{name} is missing."))
}

fn required_param<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    required(params, name).map_err(OAuthError::InvalidRequest)
}

/// Redirect URIs are not registered with the fakes (tests listen on random ports), so any
/// absolute http(s) URL is accepted; it goes back out in a `Location` header, which takes
/// visible ASCII only.
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let absolute = uri.starts_with("https://") || uri.starts_with("http://");
    let printable = uri.bytes().all(|byte| byte.is_ascii_graphic());
    if absolute && printable && !uri.contains('#') {
        Ok(())
    } else {
        Err("redirect_uri must be an absolute http(s) URL without a fragment.".to_owned())
    }
}

/// base64url without padding of a SHA-256 digest is 43 characters; lowercase hex, 64.
fn check_code_challenge(challenge: &str, hex: bool) -> Result<(), String> {
    if hex {
        let lower_hex = challenge
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        return if challenge.len() == 64 && lower_hex {
            Ok(())
        } else {
            Err(
                "code_challenge must be the SHA-256 of the verifier in lowercase hex \
                 (64 characters)."
                    .to_owned(),
            )
        };
    }
    let base64url = challenge
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if challenge.len() == 43 && base64url {
        Ok(())
    } else {
        Err(
            "code_challenge must be the SHA-256 of the verifier in base64url without padding \
             (43 characters)."
                .to_owned(),
        )
    }
}

/// The S256 challenge `verifier` makes, in hex or in base64url.
fn challenge_of(verifier: &str, hex: bool) -> String {
    if hex {
        hex::encode(Sha256::digest(verifier.as_bytes()))
    } else {
        s256(verifier)
    }
}

/// PKCE S256: base64url-without-padding of the verifier's SHA-256.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::kit::request::parse_form;

    const REDIRECT: &str = "http://127.0.0.1:3000/callback";
    const VERIFIER: &str = "a-pkce-verifier-of-at-least-43-characters-0123456789";

    fn config(pkce: Pkce, rotation: Rotation) -> OAuthConfig {
        OAuthConfig {
            client_id: "client".to_owned(),
            client_secret: "secret".to_owned(),
            known_scopes: &["read", "write", "offline"],
            scope_separator: ' ',
            pkce,
            state_required: true,
            code_lifetime: TimeDelta::seconds(30),
            access_token_lifetime: Some(TimeDelta::hours(1)),
            refresh: Some(RefreshPolicy {
                lifetime: Some(TimeDelta::days(90)),
                rotation,
                only_with_scope: None,
            }),
            access_token_prefix: "at_",
            refresh_token_prefix: "rt_",
        }
    }

    fn client() -> ClientCredentials {
        ClientCredentials {
            id: "client".to_owned(),
            secret: "secret".to_owned(),
        }
    }

    fn authorize_params(extra: &str) -> Params {
        parse_form(
            format!(
                "client_id=client&redirect_uri={REDIRECT}&response_type=code&scope=read+write&state=s{extra}"
            )
            .as_bytes(),
        )
    }

    fn code_of(location: &str) -> String {
        let (_, query) = location.split_once('?').expect("a query");
        parse_form(query.as_bytes())["code"].clone()
    }

    fn exchange(
        server: &mut AuthorizationServer,
        code: &str,
        verifier: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        server.exchange_code(
            CodeRedemption {
                code,
                redirect_uri: REDIRECT,
                client_id: None,
                code_verifier: verifier,
            },
            now,
        )
    }

    #[test]
    fn a_code_redeems_once_within_its_lifetime() {
        let now = Utc::now();
        let mut server = AuthorizationServer::new(config(Pkce::NotUsed, Rotation::Keep));
        let request = server.check_authorize(&authorize_params("")).unwrap();
        let location = server.approve(request, "7", now);
        assert!(location.starts_with(REDIRECT) && location.ends_with("&state=s"));
        let code = code_of(&location);
        let tokens = exchange(&mut server, &code, None, now).unwrap();
        assert!(tokens.access_token.starts_with("at_"));
        assert_eq!(tokens.grant.account_id, "7");
        assert!(matches!(
            exchange(&mut server, &code, None, now),
            Err(OAuthError::InvalidGrant(_))
        ));

        let request = server.check_authorize(&authorize_params("")).unwrap();
        let late = code_of(&server.approve(request, "7", now));
        assert!(exchange(&mut server, &late, None, now + TimeDelta::seconds(30)).is_err());
    }

    #[test]
    fn pkce_is_checked_as_the_policy_says() {
        let now = Utc::now();
        let challenge = format!(
            "&code_challenge={}&code_challenge_method=S256",
            s256(VERIFIER)
        );
        let mut required = AuthorizationServer::new(config(Pkce::Required, Rotation::Rotate));
        assert!(required.check_authorize(&authorize_params("")).is_err());
        let request = required
            .check_authorize(&authorize_params(&challenge))
            .unwrap();
        let code = code_of(&required.approve(request, "1", now));
        assert!(
            exchange(
                &mut required,
                &code,
                Some("another-verifier-of-43-characters-000000000"),
                now
            )
            .is_err()
        );
        assert!(exchange(&mut required, &code, Some(VERIFIER), now).is_ok());

        let optional = AuthorizationServer::new(config(Pkce::Optional, Rotation::Rotate));
        assert!(
            optional
                .check_authorize(&authorize_params(""))
                .unwrap()
                .code_challenge
                .is_none()
        );
        let not_used = AuthorizationServer::new(config(Pkce::NotUsed, Rotation::Rotate));
        let ignored = not_used
            .check_authorize(&authorize_params(&challenge))
            .unwrap();
        assert!(ignored.code_challenge.is_none());
    }

    #[test]
    fn unknown_scopes_and_clients_are_refused_at_consent() {
        let server = AuthorizationServer::new(config(Pkce::NotUsed, Rotation::Keep));
        let mut params = authorize_params("");
        params.insert("scope".to_owned(), "read,write".to_owned());
        assert!(
            server
                .check_authorize(&params)
                .unwrap_err()
                .contains("read,write")
        );
        params.insert("scope".to_owned(), "read".to_owned());
        params.insert("client_id".to_owned(), "other".to_owned());
        assert!(server.check_authorize(&params).is_err());
    }

    #[test]
    fn rotation_spends_the_refresh_token_and_keep_does_not() {
        let now = Utc::now();
        for rotation in [Rotation::Rotate, Rotation::Keep] {
            let mut server = AuthorizationServer::new(config(Pkce::NotUsed, rotation));
            let request = server.check_authorize(&authorize_params("")).unwrap();
            let code = code_of(&server.approve(request, "1", now));
            let first = exchange(&mut server, &code, None, now).unwrap();
            let refresh_token = first.refresh.unwrap().token;
            let second = server.refresh(&refresh_token, None, now).unwrap();
            let again = server.refresh(&refresh_token, None, now);
            match rotation {
                Rotation::Rotate => {
                    assert!(second.refresh.unwrap().is_new);
                    assert!(again.is_err());
                }
                Rotation::Keep => {
                    assert!(!second.refresh.unwrap().is_new);
                    assert!(again.is_ok());
                }
            }
        }
    }

    #[test]
    fn bearer_authentication_tells_expired_from_revoked() {
        let now = Utc::now();
        let mut server = AuthorizationServer::new(config(Pkce::NotUsed, Rotation::Keep));
        let mut params = authorize_params("");
        params.insert("grant_type".to_owned(), "authorization_code".to_owned());
        let request = server.check_authorize(&params).unwrap();
        let code = code_of(&server.approve(request, "1", now));
        params.insert("code".to_owned(), code);
        assert_eq!(
            server.token_request(None, &params, None, now).unwrap_err(),
            OAuthError::InvalidClient
        );
        let tokens = server
            .token_request(Some(&client()), &params, None, now)
            .unwrap();
        let token = Some(tokens.access_token.as_str());
        assert!(server.authenticate(token, &["read"], now).is_ok());
        assert_eq!(
            server.authenticate(token, &["offline"], now),
            Err(BearerError::MissingScope("offline".to_owned()))
        );
        assert_eq!(
            server.authenticate(token, &[], now + TimeDelta::hours(1)),
            Err(BearerError::Expired)
        );
        assert_eq!(
            server.authenticate(Some("nope"), &[], now),
            Err(BearerError::Unknown)
        );
        assert_eq!(
            server.authenticate(None, &[], now),
            Err(BearerError::Missing)
        );
        server.revoke_account("1");
        assert_eq!(
            server.authenticate(token, &[], now),
            Err(BearerError::Revoked)
        );
        let refresh_token = tokens.refresh.unwrap().token;
        assert!(server.refresh(&refresh_token, None, now).is_err());
        assert_eq!(server.issued_tokens().len(), 2);
    }

    #[test]
    fn an_online_consent_gets_no_refresh_token_and_revoking_one_token_ends_the_grant() {
        let now = Utc::now();
        let mut server = AuthorizationServer::new(config(Pkce::NotUsed, Rotation::Keep));
        let request = server.check_authorize(&authorize_params("")).unwrap();
        let online = code_of(&server.approve_for(request, "1", Access::Online, now));
        let tokens = exchange(&mut server, &online, None, now).unwrap();
        assert!(tokens.refresh.is_none());
        assert!(!server.has_live_refresh_token("1", now));

        let request = server.check_authorize(&authorize_params("")).unwrap();
        let offline = code_of(&server.approve_for(request, "1", Access::Offline, now));
        let offline = exchange(&mut server, &offline, None, now).unwrap();
        assert!(server.has_live_refresh_token("1", now));

        assert!(server.revoke_grant(&offline.access_token));
        assert!(!server.has_live_refresh_token("1", now));
        assert_eq!(
            server.authenticate(Some(&tokens.access_token), &[], now),
            Err(BearerError::Revoked)
        );
        assert!(!server.revoke_grant("never-issued"));
        assert_eq!(server.counts().revocations, 2);
    }
}
