//! Types that cross the wire: used as they are by the UI, the server functions, the REST API
//! and the database mapping. There is no second copy of any of them.

mod client;
mod connection;
mod emoji;
mod error;
mod event_stream;
mod platform;
mod post;
mod post_options;
mod preview;
mod proofread;
mod sandbox;
mod session;
mod store;
mod studio;
mod studio_settings;
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
pub use emoji::EmojiPick;
pub use error::ApiError;
pub use event_stream::{EventStreamBuffer, StreamEvent};
pub use platform::Platform;
pub use post::{
    LogLevel, LogLine, MediaId, MediaItem, NewPost, NewTarget, Post, PostId, PostPage, PostQuery,
    Schedule, ScheduleKeyword, Target, TargetId, VideoInfo,
};
pub use post_options::{NewChoice, OptionChoice, OptionField, OptionKind, PostOptions};
pub use preview::{
    Fold, Frame, Gallery, PreviewMedia, PreviewRules, Ratio, TargetPreview, TextCounter,
};
pub use proofread::{ProofFlag, ProofKind, apply_fix};
pub use sandbox::SandboxMode;
pub use session::{
    Authenticated, IssuedSession, SESSION_COOKIE, SessionId, request_cookie,
    session_token_from_headers,
};
pub use store::{
    PRODUCT_TEXT, Product, ProductDraft, ProductId, ProductList, ProductQuery, ProductState,
    ProductVariant, StockFilter, Store, StoreAuthorize, StoreConnection, StoreId, StoreOption,
    StoresOverview, SyncProgress, fill_product_variables, format_price,
};
pub use studio::{
    CaptionCheck, CaptionEvent, CaptionRequest, CheckRequest, CheckView, NewWord, Tone,
    VoiceAnswer, VoiceRequest,
};
pub use studio_settings::{
    MAX_PHRASE_CHARS, MAX_PHRASES, MAX_SAMPLE_CHARS, MAX_SAMPLES, StudioSettings,
    StudioSettingsUpdate, WriterChoice, WriterModels, WriterTest,
};
pub use target_options::TargetOptions;
pub use target_status::TargetStatus;
pub use text_length::{X_MAX_WEIGHTED_LENGTH, X_URL_LENGTH, fits_x, x_weighted_length};
pub use user::{
    DisplayName, Email, EnteredPassword, Password, ProfileUpdate, TimeZoneName, User, UserId,
};
pub use voice::{
    EmojiDensity, HumanScore, ScoreReason, VoiceChange, VoicePass, VoiceRule, with_changes,
};
