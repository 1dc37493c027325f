//! The backend's one error type. Every backend failure (database, password hashing, and later
//! the queue, platforms, crypto and AI) converts into [`Error`] with `?`, and exactly one
//! conversion, `From<Error> for ApiError`, decides what the client is told. That conversion is
//! also the only place a failure is logged: it runs inside the request's span, so the line
//! carries the request id the client is given.

use std::time::Duration;

use app::types::ApiError;

use crate::auth::password::PasswordError;
use crate::crypto::CryptoError;
use crate::db::DbError;
use crate::platforms::PlatformError;
use crate::queue::QueueError;

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
    /// A platform refused or failed during a request (connecting, disconnecting).
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// A stored token no longer decrypts: a key was retired too early, or the row was altered.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The media store could not read or write a file.
    #[error("media storage failed: {0}")]
    Storage(#[from] std::io::Error),
    #[error(transparent)]
    Queue(#[from] QueueError),
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
            Error::Platform(refusal) => {
                tracing::warn!(error = %refusal, "a platform call failed");
                let message = match refusal {
                    PlatformError::Retryable { detail, .. } => {
                        format!("{detail}. Please try again in a moment.")
                    }
                    PlatformError::Reauth { detail } => {
                        format!("{detail}. Please connect the account again.")
                    }
                    PlatformError::Permanent { reason } => reason,
                };
                ApiError::Upstream { message }
            }
            Error::Crypto(cause) => {
                tracing::error!(error = %cause, "a stored token does not decrypt");
                ApiError::Internal { request_id: None }
            }
            Error::Storage(cause) => {
                tracing::error!(error = %cause, "media storage failed");
                ApiError::Internal { request_id: None }
            }
            Error::Queue(cause) => {
                tracing::warn!(error = %cause, "the job queue failed");
                ApiError::Unavailable {
                    retry_after_secs: retry_after(DbError::RETRY_AFTER),
                }
            }
        }
    }
}
