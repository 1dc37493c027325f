//! Types that cross the wire: used as they are by the UI, the server functions, the REST API
//! and the database mapping. There is no second copy of any of them.

mod client;
mod error;
mod session;
mod user;

pub use client::ClientAddr;
pub use error::ApiError;
pub use session::{
    Authenticated, IssuedSession, SESSION_COOKIE, SessionId, request_cookie,
    session_token_from_headers,
};
pub use user::{
    DisplayName, Email, EnteredPassword, Password, ProfileUpdate, TimeZoneName, User, UserId,
};
