//! The ports: what the UI's server functions may ask of the backend. Only traits live here;
//! the `server` crate implements them and hands them to Leptos as context, so a change in the
//! backend never recompiles the UI.

use std::sync::Arc;

use async_trait::async_trait;

use uuid::Uuid;

use crate::types::{
    AccountChoice, ApiError, Authenticated, AuthorizeUrl, ClientAddr, Connection, ConnectionId,
    ConnectionsOverview, Email, EnteredPassword, IssuedSession, MediaId, MediaItem, NewPost,
    OptionChoice, Password, Platform, Post, PostId, PostOptions, PostPage, PostQuery,
    ProfileUpdate, StudioSettings, StudioSettingsUpdate, TargetId, TargetPreview, TimeZoneName,
    User, UserId, WriterModels, WriterTest,
};
use crate::types::{
    AnalyticsOverview, Calendar, CalendarQuery, DirectUpload, MediaEntry, MediaUsage,
    NewDirectUpload, NewTemplate, Template, TemplateId, TemplateStart, UploadId,
};
use crate::types::{
    Product, ProductDraft, ProductId, ProductList, ProductQuery, Store, StoreConnection, StoreId,
    StoresOverview,
};

/// A new account, already checked.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub time_zone: TimeZoneName,
}

/// An account just created, and the session it starts signed in with.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub user: User,
    pub session: IssuedSession,
}

/// Who is trying to sign in. `client` is the address failed attempts are counted against.
#[derive(Debug)]
pub struct SignInAttempt {
    pub email: String,
    pub password: EnteredPassword,
    pub client: ClientAddr,
}

/// Accounts and sessions.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Creates the account and its first session in one call (one hash, no sign-in throttle).
    async fn register(&self, registration: Registration) -> Result<NewAccount, ApiError>;

    /// Starts a session. Wrong email and wrong password fail alike (`InvalidCredentials`);
    /// repeated failures fail with `RateLimited` before the password is even checked.
    async fn sign_in(&self, attempt: SignInAttempt) -> Result<IssuedSession, ApiError>;

    /// The live session behind a token, or `Unauthorized` (bad, expired or revoked token).
    async fn authenticate(&self, token: &str) -> Result<Authenticated, ApiError>;

    /// Revokes this session: its token stops working everywhere at once.
    async fn sign_out(&self, who: &Authenticated) -> Result<(), ApiError>;

    async fn update_profile(&self, owner: UserId, update: ProfileUpdate) -> Result<User, ApiError>;

    /// Changes the password after checking the current one, and revokes every other session.
    /// A wrong current password counts as a failed sign-in from `client`.
    async fn change_password(
        &self,
        who: &Authenticated,
        current: EnteredPassword,
        new: Password,
        client: ClientAddr,
    ) -> Result<(), ApiError>;

    /// The `Set-Cookie` value that stores `session` in the browser (or clears it on `None`).
    fn session_cookie(&self, session: Option<&IssuedSession>) -> String;
}

pub type AccountsPort = Arc<dyn Accounts>;

/// Connected platform accounts.
#[async_trait]
pub trait Connections: Send + Sync + 'static {
    /// Every platform with whether it can be connected here, and the user's accounts.
    async fn overview(&self, owner: UserId) -> Result<ConnectionsOverview, ApiError>;

    /// Starts connecting an account: the platform's consent URL, with a single-use `state`
    /// bound to `owner` for ten minutes.
    async fn authorize(&self, owner: UserId, platform: Platform) -> Result<AuthorizeUrl, ApiError>;

    /// Revokes the account's tokens at the platform, cancels its scheduled posts (saying why)
    /// and forgets it.
    async fn disconnect(&self, owner: UserId, id: ConnectionId) -> Result<(), ApiError>;

    /// The fields a post to this account takes beyond text and media, with the account's
    /// current choices (a Pinterest account's boards).
    async fn post_options(&self, owner: UserId, id: ConnectionId) -> Result<PostOptions, ApiError>;

    /// Makes a new choice for one of those fields (a new Pinterest board).
    async fn add_choice(
        &self,
        owner: UserId,
        id: ConnectionId,
        field: &str,
        label: &str,
    ) -> Result<OptionChoice, ApiError>;

    /// The accounts a consent gave access to, when it gave several (a person's Facebook
    /// Pages): the owner chooses which to connect, within fifteen minutes.
    async fn account_choice(&self, owner: UserId, id: Uuid) -> Result<AccountChoice, ApiError>;

    /// Connects the chosen accounts of a choice (at least one), once.
    async fn choose_accounts(
        &self,
        owner: UserId,
        id: Uuid,
        account_ids: &[String],
    ) -> Result<Vec<Connection>, ApiError>;
}

pub type ConnectionsPort = Arc<dyn Connections>;

/// A client's promise that a request is the same as an earlier one with this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

/// Posts and their publishing.
#[async_trait]
pub trait Posts: Send + Sync + 'static {
    /// Stores the post, a target per account and a job per target in one transaction, then
    /// queues the jobs. With a key seen in the last 24 hours for the same request, returns the
    /// post that request made instead.
    async fn create(
        &self,
        author: &User,
        post: NewPost,
        key: Option<IdempotencyKey>,
    ) -> Result<Post, ApiError>;

    /// One post with its targets and job log.
    async fn get(&self, owner: UserId, id: PostId) -> Result<Post, ApiError>;

    async fn list(&self, owner: UserId, query: PostQuery) -> Result<PostPage, ApiError>;

    /// Changes a post whose targets have not started; the targets are replaced.
    async fn update(&self, author: &User, id: PostId, post: NewPost) -> Result<Post, ApiError>;

    /// A copy of the post as a new draft.
    async fn duplicate(&self, owner: UserId, id: PostId) -> Result<Post, ApiError>;

    /// Tries a failed target again, now.
    async fn retry(&self, owner: UserId, id: PostId, target: TargetId) -> Result<Post, ApiError>;

    /// Cancels every target that has not gone out.
    async fn cancel(&self, owner: UserId, id: PostId) -> Result<Post, ApiError>;

    /// Moves a post none of whose targets has started to another time; its jobs move with it.
    async fn reschedule(
        &self,
        author: &User,
        id: PostId,
        schedule: crate::types::Schedule,
    ) -> Result<Post, ApiError>;

    /// Today on the owner's clock.
    fn today(&self, owner: &User) -> chrono::NaiveDate;

    /// The posts of a span of days, for the calendar.
    async fn calendar(&self, owner: &User, query: CalendarQuery) -> Result<Calendar, ApiError>;

    /// Deletes the post (scheduled targets never go out).
    async fn delete(&self, owner: UserId, id: PostId) -> Result<(), ApiError>;

    /// How the draft would look on each chosen account, and what each platform would refuse,
    /// before anything is stored. Accounts that are gone are left out.
    async fn preview(&self, author: &User, post: NewPost) -> Result<Vec<TargetPreview>, ApiError>;

    /// How many seconds the owner's longest-waiting due post has waited for a worker; `None`
    /// when none is waiting.
    async fn waiting_secs(&self, owner: UserId) -> Result<Option<u64>, ApiError>;
}

pub type PostsPort = Arc<dyn Posts>;

/// The media library.
#[async_trait]
pub trait Media: Send + Sync + 'static {
    async fn list(&self, owner: UserId) -> Result<Vec<MediaItem>, ApiError>;

    /// The Media page: every file, newest first, with the posts that use it.
    async fn library(&self, owner: UserId) -> Result<Vec<MediaEntry>, ApiError>;

    /// What the owner's files take in the media store.
    async fn usage(&self, owner: UserId) -> Result<MediaUsage, ApiError>;

    /// Refused while a post that has not gone out uses the file (a draft, or one scheduled,
    /// publishing, retrying, held, failed or waiting for its account), naming it and when it
    /// is due. A file only finished posts use (published or cancelled everywhere) is deleted;
    /// those posts keep their records, without it.
    async fn delete(&self, owner: UserId, id: MediaId) -> Result<(), ApiError>;

    /// Records a file the browser is about to send straight to the media store, and says where
    /// to send it (a URL good for 15 minutes).
    async fn begin_upload(
        &self,
        owner: UserId,
        upload: NewDirectUpload,
    ) -> Result<DirectUpload, ApiError>;

    /// Checks what arrived for an upload (its size, its type by content, its dimensions) and
    /// makes it media; refused with the reason, and deleted, when it is not what was announced
    /// or came too late.
    async fn confirm_upload(&self, owner: UserId, id: UploadId) -> Result<MediaItem, ApiError>;
}

pub type MediaPort = Arc<dyn Media>;

/// Each person's AI Studio settings: their caption writer and its keys (never read back), and
/// their brand voice.
#[async_trait]
pub trait StudioPreferences: Send + Sync + 'static {
    async fn get(&self, owner: UserId) -> Result<StudioSettings, ApiError>;

    /// Replaces them; a key not given is kept unless the update says to remove it.
    async fn save(
        &self,
        owner: UserId,
        update: StudioSettingsUpdate,
    ) -> Result<StudioSettings, ApiError>;

    /// The models the writer `test` describes offers (a stored key is used when none is typed).
    async fn test_writer(&self, owner: UserId, test: WriterTest) -> Result<WriterModels, ApiError>;
}

pub type StudioPreferencesPort = Arc<dyn StudioPreferences>;

/// Online stores and the products synced from them.
#[async_trait]
pub trait Stores: Send + Sync + 'static {
    /// Every store with whether it can be connected here, and the person's stores with their
    /// sync's progress.
    async fn overview(&self, owner: UserId) -> Result<StoresOverview, ApiError>;

    /// Where to send the browser to allow access; `shop` is the Shopify shop typed.
    async fn authorize(
        &self,
        owner: UserId,
        store: Store,
        shop: Option<String>,
    ) -> Result<AuthorizeUrl, ApiError>;

    /// Queues a sync: the changes, or everything when `full`.
    async fn sync_now(
        &self,
        owner: UserId,
        id: StoreId,
        full: bool,
    ) -> Result<StoreConnection, ApiError>;

    /// Forgets the store and its products.
    async fn disconnect(&self, owner: UserId, id: StoreId) -> Result<(), ApiError>;

    async fn products(&self, owner: UserId, query: ProductQuery) -> Result<ProductList, ApiError>;

    async fn product(&self, owner: UserId, id: ProductId) -> Result<Product, ApiError>;

    /// A post started from the product: its images imported into the media library, and a
    /// first text with its variables filled.
    async fn draft(&self, owner: UserId, id: ProductId) -> Result<ProductDraft, ApiError>;
}

pub type StoresPort = Arc<dyn Stores>;

/// Post templates: saved texts with variables, and the accounts and options a post from one
/// starts with.
#[async_trait]
pub trait Templates: Send + Sync + 'static {
    /// The owner's templates, by name whatever its case.
    async fn list(&self, owner: UserId) -> Result<Vec<Template>, ApiError>;

    async fn get(&self, owner: UserId, id: TemplateId) -> Result<Template, ApiError>;

    /// Saves a new template. A name the owner already uses, whatever its case, is `Conflict`;
    /// a name or text that breaks the rules, or an account that is not theirs, `Validation`.
    async fn create(&self, owner: UserId, template: NewTemplate) -> Result<Template, ApiError>;

    /// Replaces the template's name, text and options, checked as on `create`.
    async fn update(
        &self,
        owner: UserId,
        id: TemplateId,
        template: NewTemplate,
    ) -> Result<Template, ApiError>;

    async fn delete(&self, owner: UserId, id: TemplateId) -> Result<(), ApiError>;

    /// The template ready for a new post or an AI Studio session: `{date}` filled with today
    /// in the owner's time zone, and `{title}`, `{price}`, `{url}` and `{store}` from
    /// `product` (one of theirs, else `NotFound`); accounts gone or needing a reconnect left
    /// out, with `notes` saying so. Stores nothing.
    async fn start(
        &self,
        owner: &User,
        id: TemplateId,
        product: Option<ProductId>,
    ) -> Result<TemplateStart, ApiError>;
}

pub type TemplatesPort = Arc<dyn Templates>;

/// Product events the app records about itself, where the actions they name land.
#[async_trait]
pub trait ProductEventLog: Send + Sync + 'static {
    /// Counts `event` for `owner`, now. A failure is logged, never returned: a count going
    /// missing must not fail the action it counts.
    async fn record(&self, owner: &User, event: crate::types::AppEvent);
}

pub type ProductEventsPort = Arc<dyn ProductEventLog>;

/// What published posts did, from the numbers the platforms report.
#[async_trait]
pub trait PostAnalytics: Send + Sync + 'static {
    /// The owner's totals, daily series, best posts and best times over the last
    /// `range_days` days (1 to 365) on their clock.
    async fn overview(&self, owner: &User, range_days: u32) -> Result<AnalyticsOverview, ApiError>;
}

pub type PostAnalyticsPort = Arc<dyn PostAnalytics>;

/// Every port, built once at start-up and handed both to Leptos (as context, for the server
/// functions) and to the REST handlers (in their state). A test can build one from other
/// implementations. Later ports (posts, connections, AI) are fields here.
#[derive(Clone)]
pub struct Services {
    pub events: ProductEventsPort,
    pub accounts: AccountsPort,
    pub connections: ConnectionsPort,
    pub posts: PostsPort,
    pub media: MediaPort,
    pub studio: StudioPreferencesPort,
    pub stores: StoresPort,
    pub templates: TemplatesPort,
    pub analytics: PostAnalyticsPort,
}
