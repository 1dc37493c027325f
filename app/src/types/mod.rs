//! Types that cross the wire: used as they are by the UI, the server functions, the REST API
//! and the database mapping. There is no second copy of any of them.

mod analytics;
mod calendar;
mod client;
mod connection;
mod dates;
mod emoji;
mod error;
mod event_stream;
mod platform;
mod post;
mod post_metrics;
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
mod template;
mod text_length;
mod user;
mod voice;

pub use analytics::{
    AnalyticsSummary, AppEvent, CaptionProvider, DEFAULT_SUMMARY_DAYS, DayCount, EventSummary,
    MAX_SUMMARY_DAYS, MAX_TRACKED_EVENTS, RefinePass, SummaryQuery, TrackAccepted, TrackBatch,
    TrackedEvent,
};
pub use calendar::{
    Calendar, CalendarEntry, CalendarQuery, CalendarShown, CalendarSpan, CalendarTarget,
    ClockChange,
};
pub use client::ClientAddr;
pub use connection::{
    AccountChoice, AuthorizeUrl, Availability, ChoosableAccount, ChosenAccounts, ChosenConnections,
    Connection, ConnectionId, ConnectionStatus, ConnectionsOverview, PlatformOption,
};
pub use dates::{
    MONTH_NAMES, WEEKDAY_NAMES, day_label, long_date, month_name, short_day, weekday_name,
};
pub use emoji::EmojiPick;
pub use error::ApiError;
pub use event_stream::{EventStreamBuffer, StreamEvent};
pub use platform::Platform;
pub use post::{
    DirectUpload, LogLevel, LogLine, MediaEntry, MediaId, MediaItem, MediaUsage, MediaUse,
    NewDirectUpload, NewPost, NewTarget, Post, PostId, PostPage, PostQuery, SavedPost, Schedule,
    ScheduleKeyword, Target, TargetId, UploadId, VideoInfo,
};
pub use post_metrics::{
    AnalyticsOverview, BestPost, DailyPoint, HeatCell, MetricSnapshot, MetricTotals,
    PlatformSeries, PlatformTotals,
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
pub use template::{
    DATE_VARIABLE, NewTemplate, PRODUCT_VARIABLES, StartTemplate, Template, TemplateId,
    TemplateName, TemplateOptions, TemplateStart, fill_date_variable, written_date,
};
pub use text_length::{X_MAX_WEIGHTED_LENGTH, X_URL_LENGTH, fits_x, x_weighted_length};
pub use user::{
    DisplayName, Email, EnteredPassword, Password, ProfileUpdate, TimeZoneName, User, UserId,
};
pub use voice::{
    EmojiDensity, HumanScore, ScoreReason, VoiceChange, VoicePass, VoiceRule, with_changes,
};
