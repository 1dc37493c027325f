//! [`AccountService`]: registration, sign-in, sessions, profile and password changes. It
//! implements the UI's `Accounts` port; the REST handlers call the same port. Its methods work
//! in the backend's [`Error`] and convert once, at the port's edge.

use async_trait::async_trait;
use cookie::{Cookie, SameSite};
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use uuid::Uuid;

use app::services::{Accounts, NewAccount, Registration, SignInAttempt};
use app::types::{
    ApiError, Authenticated, ClientAddr, Email, EnteredPassword, IssuedSession, Password,
    ProfileUpdate, SESSION_COOKIE, SessionId, User, UserId,
};

use super::password::PasswordHasher;
use super::throttle::FailedLogins;
use super::token::TokenKeys;
use crate::clock::SharedClock;
use crate::db::{DbError, sessions, users};
use crate::error::Error;

pub struct AccountService {
    db: DatabaseConnection,
    keys: TokenKeys,
    hasher: PasswordHasher,
    failed_logins: FailedLogins,
    clock: SharedClock,
    secure_cookies: bool,
}

/// What the service is built from besides the database.
pub struct AccountSettings<'a> {
    pub jwt_secret: &'a SecretString,
    /// Mark the session cookie `Secure`: whenever users reach the app over https.
    pub secure_cookies: bool,
    pub hasher: PasswordHasher,
    pub clock: SharedClock,
    /// The sign-in throttle: [`FailedLogins::shared`] when the web processes share a Redis.
    pub failed_logins: FailedLogins,
}

impl AccountService {
    pub fn new(db: DatabaseConnection, settings: AccountSettings<'_>) -> Self {
        Self {
            db,
            keys: TokenKeys::new(settings.jwt_secret),
            hasher: settings.hasher,
            failed_logins: settings.failed_logins,
            clock: settings.clock,
            secure_cookies: settings.secure_cookies,
        }
    }

    /// The hasher, for tests that count verifications.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Deletes expired and revoked sessions; run periodically by the session sweeper.
    pub async fn prune_sessions(&self) -> Result<u64, DbError> {
        sessions::delete_dead(&self.db, self.clock.now()).await
    }

    async fn start_session(&self, user: &User) -> Result<IssuedSession, Error> {
        let session = SessionId(Uuid::new_v4());
        let now = self.clock.now();
        let (token, expires_at) = self.keys.issue(user.id, session, now);
        sessions::create(&self.db, user.id, session, now, expires_at).await?;
        tracing::info!(user_id = %user.id.0, session_id = %session.0, "session started");
        Ok(IssuedSession { token, expires_at })
    }

    async fn register(&self, registration: Registration) -> Result<NewAccount, Error> {
        let password_hash = self.hasher.hash(&registration.password).await?;
        let new = users::NewUser {
            email: &registration.email,
            password_hash,
            time_zone: &registration.time_zone,
        };
        let user = match users::insert(&self.db, new, self.clock.now()).await {
            Ok(user) => user,
            Err(DbError::Conflict) => {
                return Err(Error::conflict(
                    "An account with this email already exists. Sign in instead.",
                ));
            }
            Err(error) => return Err(error.into()),
        };
        tracing::info!(user_id = %user.id.0, "account created");
        let session = self.start_session(&user).await?;
        Ok(NewAccount { user, session })
    }

    /// Checks `password` against the throttle and the stored hash; a failure is recorded
    /// against `email` and `client`.
    async fn check_password(
        &self,
        email: &str,
        stored: Option<String>,
        password: &EnteredPassword,
        client: ClientAddr,
    ) -> Result<bool, Error> {
        if let Err(wait) = self
            .failed_logins
            .check(email, client, self.clock.now())
            .await
        {
            return Err(ApiError::RateLimited {
                retry_after_secs: u64::try_from(wait.num_seconds()).unwrap_or(0) + 1,
            }
            .into());
        }
        let matches = self.hasher.verify(stored, password).await?;
        if matches {
            self.failed_logins.clear(email, client).await;
        } else {
            self.failed_logins
                .record_failure(email, client, self.clock.now())
                .await;
        }
        Ok(matches)
    }

    async fn sign_in(&self, attempt: SignInAttempt) -> Result<IssuedSession, Error> {
        let SignInAttempt {
            email,
            password,
            client,
        } = attempt;
        // A malformed email is just another unknown account: same answer, same time spent.
        let found = match Email::parse(&email) {
            Ok(email) => users::find_with_hash_by_email(&self.db, &email).await?,
            Err(_) => None,
        };
        let (user, hash) = found.unzip();
        match (
            self.check_password(&email, hash, &password, client).await?,
            user,
        ) {
            (true, Some(user)) => self.start_session(&user).await,
            _ => {
                tracing::info!("sign-in failed");
                Err(ApiError::InvalidCredentials.into())
            }
        }
    }

    async fn authenticate(&self, token: &str) -> Result<Authenticated, Error> {
        let claims = self
            .keys
            .verify(token, self.clock.now())
            .ok_or(ApiError::Unauthorized)?;
        let user = sessions::find_live(&self.db, claims.user, claims.session, self.clock.now())
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Authenticated {
            user,
            session_id: claims.session,
        })
    }

    async fn change_password(
        &self,
        who: &Authenticated,
        current: EnteredPassword,
        new: Password,
        client: ClientAddr,
    ) -> Result<(), Error> {
        let stored = users::password_hash(&self.db, who.user.id).await?;
        let email = who.user.email.as_str();
        if !self.check_password(email, stored, &current, client).await? {
            return Err(ApiError::validation(
                "current_password",
                "The current password is not correct.",
            )
            .into());
        }
        let hash = self.hasher.hash(&new).await?;
        let now = self.clock.now();
        users::replace_password_hash(&self.db, who.user.id, hash, who.session_id, now).await?;
        tracing::info!("password changed; other sessions revoked");
        Ok(())
    }
}

#[async_trait]
impl Accounts for AccountService {
    #[tracing::instrument(skip_all)]
    async fn register(&self, registration: Registration) -> Result<NewAccount, ApiError> {
        Ok(AccountService::register(self, registration).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn sign_in(&self, attempt: SignInAttempt) -> Result<IssuedSession, ApiError> {
        Ok(AccountService::sign_in(self, attempt).await?)
    }

    async fn authenticate(&self, token: &str) -> Result<Authenticated, ApiError> {
        Ok(AccountService::authenticate(self, token).await?)
    }

    async fn sign_out(&self, who: &Authenticated) -> Result<(), ApiError> {
        sessions::revoke(&self.db, who.user.id, who.session_id, self.clock.now())
            .await
            .map_err(Error::from)?;
        tracing::info!(session_id = %who.session_id.0, "signed out");
        Ok(())
    }

    async fn update_profile(&self, owner: UserId, update: ProfileUpdate) -> Result<User, ApiError> {
        users::update_profile(&self.db, owner, &update, self.clock.now())
            .await
            .map_err(Error::from)?
            .ok_or(ApiError::NotFound)
    }

    #[tracing::instrument(skip_all, fields(user_id = %who.user.id.0))]
    async fn change_password(
        &self,
        who: &Authenticated,
        current: EnteredPassword,
        new: Password,
        client: ClientAddr,
    ) -> Result<(), ApiError> {
        Ok(AccountService::change_password(self, who, current, new, client).await?)
    }

    fn session_cookie(&self, session: Option<&IssuedSession>) -> String {
        let (value, max_age) = match session {
            Some(session) => (
                session.token.clone(),
                (session.expires_at - self.clock.now()).num_seconds().max(0),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{Duration, Utc};

    use super::*;
    use crate::clock::ManualClock;
    use crate::db;

    async fn service(clock: Arc<ManualClock>) -> AccountService {
        let database = db::connect(&SecretString::from("sqlite::memory:".to_owned()), 1)
            .await
            .unwrap();
        db::migrate(&database).await.unwrap();
        AccountService::new(
            database,
            AccountSettings {
                jwt_secret: &SecretString::from("k".repeat(40)),
                secure_cookies: false,
                hasher: PasswordHasher::for_this_machine(),
                clock,
                failed_logins: FailedLogins::default(),
            },
        )
    }

    fn registration(email: &str) -> Registration {
        Registration {
            email: Email::parse(email).unwrap(),
            password: Password::parse("password", "correct horse battery".into()).unwrap(),
            time_zone: app::types::TimeZoneName::utc(),
        }
    }

    #[tokio::test]
    async fn a_session_stops_working_when_its_seven_days_are_up() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let accounts = service(clock.clone()).await;
        let account = Accounts::register(&accounts, registration("ana@example.com"))
            .await
            .unwrap();
        let token = account.session.token;
        clock.advance(Duration::days(7) - Duration::seconds(1));
        assert!(Accounts::authenticate(&accounts, &token).await.is_ok());
        clock.advance(Duration::seconds(1));
        assert_eq!(
            Accounts::authenticate(&accounts, &token).await.unwrap_err(),
            ApiError::Unauthorized
        );
    }

    #[tokio::test]
    async fn the_sweeper_deletes_expired_and_revoked_sessions_only() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let accounts = service(clock.clone()).await;
        let first = Accounts::register(&accounts, registration("old@example.com"))
            .await
            .unwrap();
        clock.advance(Duration::days(3));
        let second = Accounts::register(&accounts, registration("new@example.com"))
            .await
            .unwrap();
        let revoked = Accounts::register(&accounts, registration("gone@example.com"))
            .await
            .unwrap();
        let who = Accounts::authenticate(&accounts, &revoked.session.token)
            .await
            .unwrap();
        Accounts::sign_out(&accounts, &who).await.unwrap();
        assert_eq!(
            accounts.prune_sessions().await.unwrap(),
            1,
            "the revoked one"
        );

        clock.advance(Duration::days(5));
        assert_eq!(
            accounts.prune_sessions().await.unwrap(),
            1,
            "the expired one"
        );
        assert!(
            Accounts::authenticate(&accounts, &first.session.token)
                .await
                .is_err()
        );
        assert!(
            Accounts::authenticate(&accounts, &second.session.token)
                .await
                .is_ok()
        );
        assert_eq!(sessions::count(&accounts.db).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn the_throttle_window_follows_the_clock() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let accounts = service(clock.clone()).await;
        Accounts::register(&accounts, registration("ana@example.com"))
            .await
            .unwrap();
        let client = ClientAddr::from_ip("198.51.100.4".parse().unwrap());
        let attempt = |password: &str| SignInAttempt {
            email: "ana@example.com".into(),
            password: EnteredPassword::new(password.into()),
            client,
        };
        for _ in 0..super::super::throttle::MAX_FAILURES {
            let error = Accounts::sign_in(&accounts, attempt("wrong one"))
                .await
                .unwrap_err();
            assert_eq!(error, ApiError::InvalidCredentials);
        }
        let locked = Accounts::sign_in(&accounts, attempt("correct horse battery")).await;
        assert!(
            matches!(locked, Err(ApiError::RateLimited { .. })),
            "{locked:?}"
        );
        clock.advance(super::super::throttle::WINDOW);
        assert!(
            Accounts::sign_in(&accounts, attempt("correct horse battery"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn an_unknown_email_still_costs_one_password_verification() {
        let clock = Arc::new(ManualClock::starting_at(Utc::now()));
        let accounts = service(clock).await;
        let before = accounts.hasher().verifications();
        let attempt = SignInAttempt {
            email: "nobody@example.com".into(),
            password: EnteredPassword::new("whatever1".into()),
            client: ClientAddr::from_ip("198.51.100.5".parse().unwrap()),
        };
        assert_eq!(
            Accounts::sign_in(&accounts, attempt).await.unwrap_err(),
            ApiError::InvalidCredentials
        );
        assert_eq!(accounts.hasher().verifications(), before + 1);
    }

    #[test]
    fn a_sign_in_attempt_never_shows_its_password() {
        let attempt = SignInAttempt {
            email: "ana@example.com".into(),
            password: EnteredPassword::new("hunter2hunter2".into()),
            client: ClientAddr::from_ip("198.51.100.6".parse().unwrap()),
        };
        assert!(!format!("{attempt:?}").contains("hunter2"));
    }
}
