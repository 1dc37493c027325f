//! [`AccountService`]: registration, sign-in, sessions, profile and password changes. It
//! implements the UI's `Accounts` port; the REST handlers call the same methods.

use std::time::Instant;

use async_trait::async_trait;
use chrono::Utc;
use cookie::{Cookie, SameSite};
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use uuid::Uuid;

use app::services::{Accounts, Registration, SignInAttempt};
use app::types::{
    ApiError, Authenticated, Email, IssuedSession, Password, ProfileUpdate, SESSION_COOKIE,
    SessionId, User, UserId,
};

use super::password::{self, HashError};
use super::throttle::FailedLogins;
use super::token::TokenKeys;
use crate::db::{DbError, sessions, users};

pub struct AccountService {
    db: DatabaseConnection,
    keys: TokenKeys,
    failed_logins: FailedLogins,
    secure_cookies: bool,
}

impl AccountService {
    pub fn new(db: DatabaseConnection, jwt_secret: &SecretString, secure_cookies: bool) -> Self {
        Self {
            db,
            keys: TokenKeys::new(jwt_secret),
            failed_logins: FailedLogins::default(),
            secure_cookies,
        }
    }
}

impl From<HashError> for ApiError {
    fn from(error: HashError) -> Self {
        tracing::error!(%error, "password hashing failed");
        ApiError::Internal { request_id: None }
    }
}

#[async_trait]
impl Accounts for AccountService {
    #[tracing::instrument(skip_all)]
    async fn register(&self, registration: Registration) -> Result<User, ApiError> {
        let password_hash = password::hash(&registration.password).await?;
        let new = users::NewUser {
            email: &registration.email,
            password_hash,
            time_zone: &registration.time_zone,
        };
        match users::insert(&self.db, new).await {
            Ok(user) => {
                tracing::info!(user_id = %user.id.0, "account created");
                Ok(user)
            }
            Err(DbError::Conflict) => Err(ApiError::Conflict {
                message: "An account with this email already exists. Sign in instead.".into(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn sign_in(&self, attempt: SignInAttempt) -> Result<IssuedSession, ApiError> {
        let SignInAttempt {
            email,
            password,
            client,
        } = attempt;
        if let Err(wait) = self.failed_logins.check(&email, &client, Instant::now()) {
            return Err(ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        // A malformed email is just another unknown account: same answer, same time spent.
        let found = match Email::parse(&email) {
            Ok(email) => users::find_with_hash_by_email(&self.db, &email).await?,
            Err(_) => None,
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let user = match (password::verify(hash, password).await, user) {
            (true, Some(user)) => user,
            _ => {
                self.failed_logins
                    .record_failure(&email, &client, Instant::now());
                tracing::info!("sign-in failed");
                return Err(ApiError::InvalidCredentials);
            }
        };
        self.failed_logins.clear(&email, &client);

        let session = SessionId(Uuid::new_v4());
        let (token, expires_at) = self.keys.issue(user.id, session, Utc::now());
        sessions::create(&self.db, user.id, session, expires_at).await?;
        tracing::info!(user_id = %user.id.0, session_id = %session.0, "signed in");
        Ok(IssuedSession { token, expires_at })
    }

    async fn authenticate(&self, token: &str) -> Result<Authenticated, ApiError> {
        let claims = self.keys.verify(token).ok_or(ApiError::Unauthorized)?;
        let user = sessions::find_live(&self.db, claims.user, claims.session, Utc::now())
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Authenticated {
            user,
            session_id: claims.session,
        })
    }

    async fn sign_out(&self, who: &Authenticated) -> Result<(), ApiError> {
        sessions::revoke(&self.db, who.user.id, who.session_id).await?;
        tracing::info!(session_id = %who.session_id.0, "signed out");
        Ok(())
    }

    async fn update_profile(&self, owner: UserId, update: ProfileUpdate) -> Result<User, ApiError> {
        users::update_profile(&self.db, owner, &update)
            .await?
            .ok_or(ApiError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(user_id = %who.user.id.0))]
    async fn change_password(
        &self,
        who: &Authenticated,
        current: String,
        new: Password,
    ) -> Result<(), ApiError> {
        let stored = users::password_hash(&self.db, who.user.id).await?;
        if !password::verify(stored, current).await {
            return Err(ApiError::validation(
                "current_password",
                "The current password is not correct.",
            ));
        }
        let hash = password::hash(&new).await?;
        users::replace_password_hash(&self.db, who.user.id, hash, who.session_id).await?;
        tracing::info!("password changed; other sessions revoked");
        Ok(())
    }

    fn session_cookie(&self, session: Option<&IssuedSession>) -> String {
        let (value, max_age) = match session {
            Some(session) => (
                session.token.clone(),
                (session.expires_at - Utc::now()).num_seconds().max(0),
            ),
            None => (String::new(), 0),
        };
        Cookie::build((SESSION_COOKIE, value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure_cookies)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build()
            .to_string()
    }
}
