//! Why a caption writer could not write, each case with the sentence the Studio shows and
//! whether trying again can help.

use std::time::Duration;

/// A writer's failure. Every message says what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriterError {
    /// The model refused the photos or the request (Gemini's safety blocks): the same input
    /// will be refused again.
    #[error(
        "{writer} would not write about these photos ({reason}). Try other photos, or write this one yourself."
    )]
    Blocked {
        writer: &'static str,
        reason: String,
    },
    /// Too many requests for now; `wait` is what the server asked for.
    #[error("{writer} is busy with too many requests{}. Try again then, or switch writers in Settings.", match wait {
        Some(wait) => format!(": it asks to wait {} s", wait.as_secs().max(1)),
        None => String::new(),
    })]
    RateLimited {
        writer: &'static str,
        wait: Option<Duration>,
    },
    /// The key's daily allowance is spent.
    #[error(
        "{writer}'s daily allowance for this key is used up. It renews tomorrow; meanwhile the basic writer still works."
    )]
    DailyQuota { writer: &'static str },
    /// The key is wrong, missing or not allowed this model.
    #[error("{writer} did not accept the key{detail}. Check the key in Settings.")]
    BadKey {
        writer: &'static str,
        detail: String,
    },
    /// The configured model does not exist there.
    #[error("{writer} has no model called {model:?}. Pick one of its models in Settings.")]
    UnknownModel { writer: &'static str, model: String },
    /// The server refused the request as made; `message` is its own words.
    #[error("{writer} refused the request: {message}")]
    Refused {
        writer: &'static str,
        message: String,
    },
    /// Overloaded, down, or answering 5xx: worth another try shortly.
    #[error("{writer} is not available right now ({detail}). Try again in a minute.")]
    Unavailable {
        writer: &'static str,
        detail: String,
    },
    /// No answer within the writer's time.
    #[error("{writer} did not answer within {} s. Try again, or pick a smaller model in Settings.", after.as_secs())]
    Timeout {
        writer: &'static str,
        after: Duration,
    },
    /// Nothing listens at the configured address.
    #[error(
        "{writer} could not be reached at {url}. Check that the server runs and the address in Settings."
    )]
    Unreachable { writer: &'static str, url: String },
    /// The answer could not be read.
    #[error("{writer}'s answer could not be read ({detail}). Try again.")]
    Unreadable {
        writer: &'static str,
        detail: String,
    },
}

impl WriterError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Unavailable { .. }
                | Self::Timeout { .. }
                | Self::Unreachable { .. }
                | Self::Unreadable { .. }
        )
    }
}
