//! Types that cross the wire: used as they are by the UI, the server functions, the REST API
//! and the database mapping. There is no second copy of any of them.

mod client;
mod connection;
mod error;
mod platform;
mod post;
mod post_options;
mod preview;
mod sandbox;
mod session;
mod studio;
mod target_options;
mod target_status;
mod text_length;
mod user;
mod voice;

pub use client::ClientAddr;
pub use connection::{
    AccountChoice, AuthorizeUrl, Availability, ChoosableAccount, ChosenAccounts, ChosenConnections,
    Connection, ConnectionId, ConnectionStatus, ConnectionsOverview, PlatformOption,
};
pub use error::ApiError;
pub use platform::Platform;
pub use post::{
    LogLevel, LogLine, MediaId, MediaItem, NewPost, NewTarget, Post, PostId, PostPage, PostQuery,
    Schedule, ScheduleKeyword, Target, TargetId, VideoInfo,
};
pub use post_options::{NewChoice, OptionChoice, OptionField, OptionKind, PostOptions};
pub use preview::{
    Fold, Frame, Gallery, PreviewMedia, PreviewRules, Ratio, TargetPreview, TextCounter,
};
pub use sandbox::SandboxMode;
pub use session::{
    Authenticated, IssuedSession, SESSION_COOKIE, SessionId, request_cookie,
    session_token_from_headers,
};
pub use studio::{CaptionEvent, CaptionRequest, Tone};
pub use target_options::TargetOptions;
pub use target_status::TargetStatus;
pub use text_length::{X_MAX_WEIGHTED_LENGTH, X_URL_LENGTH, fits_x, x_weighted_length};
pub use user::{
    DisplayName, Email, EnteredPassword, Password, ProfileUpdate, TimeZoneName, User, UserId,
};
pub use voice::{EmojiDensity, HumanScore, ScoreReason, VoiceChange, VoicePass, VoiceRule};
