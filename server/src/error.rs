//! The backend's one error type. Every backend failure (database, password hashing, and later
//! the queue, platforms, crypto and AI) converts into [`Error`] with `?`, and exactly one
//! conversion, `From<Error> for ApiError`, decides what the client is told. That conversion is
//! also the only place a failure is logged: it runs inside the request's span, so the line
//! carries the request id the client is given.

use std::time::Duration;

use app::types::ApiError;

use crate::auth::password::PasswordError;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A refusal the client can act on (wrong input, wrong password, not found, throttled),
    /// already in the form it is sent in. Not a fault of ours, so not logged as one.
    #[error("refused: {0}")]
    Refused(#[from] ApiError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl Error {
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Refused(ApiError::Conflict {
            message: message.into(),
        })
    }
}

/// How long a client should wait after a dependency failed, in whole seconds (at least one).
fn retry_after(wait: Duration) -> u64 {
    wait.as_secs().max(1)
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Refused(refusal) => refusal,
            Error::Database(DbError::Conflict) => ApiError::Conflict {
                message: "That already exists.".into(),
            },
            Error::Database(DbError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::Unavailable {
                    retry_after_secs: retry_after(DbError::RETRY_AFTER),
                }
            }
            Error::Database(DbError::Db(cause)) => {
                tracing::error!(error = %cause, "database error");
                ApiError::Internal { request_id: None }
            }
            Error::Password(PasswordError::Busy { retry_after: wait }) => {
                tracing::warn!("password hashing is saturated; asking the client to retry");
                ApiError::Unavailable {
                    retry_after_secs: retry_after(wait),
                }
            }
            Error::Password(PasswordError::Failed(cause)) => {
                tracing::error!(error = %cause, "password hashing failed");
                ApiError::Internal { request_id: None }
            }
        }
    }
}
