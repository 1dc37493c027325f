//! The ports: what the UI's server functions may ask of the backend. Only traits live here;
//! the `server` crate implements them and hands them to Leptos as context, so a change in the
//! backend never recompiles the UI.

use std::sync::Arc;

use async_trait::async_trait;

use crate::types::{
    ApiError, Authenticated, ClientAddr, Email, EnteredPassword, IssuedSession, Password,
    ProfileUpdate, TimeZoneName, User, UserId,
};

/// A new account, already checked.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub time_zone: TimeZoneName,
}

/// An account just created, and the session it starts signed in with.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub user: User,
    pub session: IssuedSession,
}

/// Who is trying to sign in. `client` is the address failed attempts are counted against.
#[derive(Debug)]
pub struct SignInAttempt {
    pub email: String,
    pub password: EnteredPassword,
    pub client: ClientAddr,
}

/// Accounts and sessions.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates the account and its first session in one call (one hash, no sign-in throttle).
    async fn register(&self, registration: Registration) -> Result<NewAccount, ApiError>;

    /// Starts a session. Wrong email and wrong password fail alike (`InvalidCredentials`);
    /// repeated failures fail with `RateLimited` before the password is even checked.
    async fn sign_in(&self, attempt: SignInAttempt) -> Result<IssuedSession, ApiError>;

    /// The live session behind a token, or `Unauthorized` (bad, expired or revoked token).
    async fn authenticate(&self, token: &str) -> Result<Authenticated, ApiError>;

    /// Revokes this session: its token stops working everywhere at once.
    async fn sign_out(&self, who: &Authenticated) -> Result<(), ApiError>;

    async fn update_profile(&self, owner: UserId, update: ProfileUpdate) -> Result<User, ApiError>;

    /// Changes the password after checking the current one, and revokes every other session.
    /// A wrong current password counts as a failed sign-in from `client`.
    async fn change_password(
        &self,
        who: &Authenticated,
        current: EnteredPassword,
        new: Password,
        client: ClientAddr,
    ) -> Result<(), ApiError>;

    /// The `Set-Cookie` value that stores `session` in the browser (or clears it on `None`).
    fn session_cookie(&self, session: Option<&IssuedSession>) -> String;
}

pub type AccountsPort = Arc<dyn Accounts>;

/// Every port, built once at start-up and handed both to Leptos (as context, for the server
/// functions) and to the REST handlers (in their state). A test can build one from other
/// implementations. Later ports (posts, connections, AI) are fields here.
#[derive(Clone)]
pub struct Services {
    pub accounts: AccountsPort,
}
