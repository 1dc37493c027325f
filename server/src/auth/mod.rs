//! Accounts and sessions: password hashing, session tokens, sign-in throttling, and the
//! [`AccountService`] that implements the UI's `Accounts` port and backs the REST API.

pub mod password;
pub mod service;
pub mod throttle;
pub mod token;

pub use service::{AccountService, AccountSettings};
