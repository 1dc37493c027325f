//! `/compose`: write a post, add images, choose accounts and when it goes out.
//! `/compose?from=<post id>` starts from an existing post: a post none of whose targets has
//! started (drafts and scheduled ones) is edited in place; any other is reposted as a new post.
//!
//! The form needs the browser (uploads, the live previews), so it submits through an action
//! rather than an `ActionForm`. Its state lives in signals created once the data it starts
//! from has loaded; nothing refetches that data, so a failed submission never resets it.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use uuid::Uuid;

use crate::api::connections::load_connections;
use crate::api::posts::{create_post, get_post, preview_post, update_post};
use crate::api::stores::draft_from_product;
use crate::api::templates::start_template;
use crate::components::browser::{go_to, random_key};
use crate::components::form::{FormError, field_message};
use crate::components::latest_answer::LatestAnswer;
use crate::components::media_picker::{DraftMedia, MediaPicker};
use crate::components::notice::{Notice, Tone};
use crate::components::schedule_picker::{SchedulePicker, When};
use crate::components::target_picker::{TargetChoice, TargetPicker};
use crate::session::use_session;
use crate::types::{
    ApiError, Connection, ConnectionStatus, MediaItem, NewPost, NewTarget, Post, PostId,
    ProductDraft, ProductId, SavedPost, Schedule, ScheduleKeyword, TargetStatus, TemplateId,
    TemplateStart, TimeZoneName,
};

/// The fields the composer shows errors beside; errors about others go to the form's line.
const FIELDS: &[&str] = &["text", "targets", "schedule", "file", "media_ids"];
/// How long typing must pause before the previews are drawn again.
const PREVIEW_PAUSE: std::time::Duration = std::time::Duration::from_millis(300);

#[component]
pub fn Compose() -> impl IntoView {
    view! {
        <DraftSource
            title="Compose"
            editor=|time_zone, accounts, begun| view! { <Composer time_zone accounts begun /> }
        />
    }
}

/// What a post's editor (the composer, the Studio) starts from, loaded: the user's time zone,
/// the accounts that can be posted to and, with `?from=<post id>`, the post, or with
/// `?product=<product id>`, a draft made from the product (its images imported, its text
/// written), with `?template=<template id>` (and perhaps a product), the template's text and
/// accounts, and from those what the fields start with. `editor` draws the editor from them; a
/// failure shows under the page's `title`.
///
/// The editors are islands: what they are given is decoded by the page's code, so they get
/// only what they read (the active accounts, not the platforms; no product; of the post they
/// start from, its fields, not the post).
#[component]
pub(crate) fn DraftSource<V: IntoView + 'static>(
    title: &'static str,
    editor: fn(String, Vec<Connection>, Begun) -> V,
) -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let from = move || {
        query
            .read()
            .get("from")
            .and_then(|raw| Uuid::parse_str(&raw).ok())
            .map(PostId)
    };
    let product = move || {
        query
            .read()
            .get("product")
            .and_then(|raw| Uuid::parse_str(&raw).ok())
            .map(ProductId)
    };
    let at = move || query.read().get("at").filter(|raw| is_local_time(raw));
    let connections = Resource::new(|| (), |_| load_connections());
    let source = Resource::new(from, |from| async move {
        match from {
            Some(id) => get_post(id).await.map(Some),
            None => Ok(None),
        }
    });
    let start = Resource::new(product, |product| async move {
        match product {
            Some(id) => draft_from_product(id).await.map(Some),
            None => Ok(None),
        }
    });
    let template = move || {
        query
            .read()
            .get("template")
            .and_then(|raw| Uuid::parse_str(&raw).ok())
            .map(TemplateId)
    };
    let from_template = Resource::new(
        move || (template(), product()),
        |(template, product)| async move {
            match template {
                Some(id) => start_template(id, product).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="field-hint">"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                let loaded = async {
                    let user = session.user.await?.ok_or(ApiError::Unauthorized)?;
                    Ok::<_, ApiError>((
                        user,
                        connections.await?,
                        source.await?,
                        from_template.await?,
                        start.await?,
                    ))
                };
                match loaded.await {
                    Ok((user, overview, source, template, start)) => {
                        let accounts = overview
                            .connections
                            .into_iter()
                            .filter(|connection| connection.status == ConnectionStatus::Active)
                            .collect();
                        let mut begun = Begun::of(source.as_ref(), template, start);
                        // A scheduled post being edited keeps its time, on the user's clock.
                        begun.at = match &source {
                            Some(post) if begun.origin.editing().is_some() => {
                                scheduled_local(post, &user.time_zone)
                            }
                            Some(_) => None,
                            None => at(),
                        };
                        // Said here, drawn on the server: the editor island never needs them.
                        let notes = std::mem::take(&mut begun.notes)
                            .into_iter()
                            .map(|note| view! { <Notice tone=Tone::Warning message=note /> })
                            .collect_view();
                        Either::Left(view! {
                            {notes}
                            {editor(user.time_zone.as_str().to_owned(), accounts, begun)}
                        })
                    }
                    Err(error) => Either::Right(view! {
                        <header class="page-header">
                            <h1 class="page-title">{title}</h1>
                        </header>
                        <Notice tone=Tone::Error message=error.to_string() />
                    }),
                }
            })}
        </Suspense>
    }
}

/// `post`'s time on the user's clock, for its editor's time field. The tz database is the
/// server's, and pages (unlike islands) are only ever drawn there.
#[cfg(feature = "ssr")]
fn scheduled_local(post: &Post, zone: &TimeZoneName) -> Option<String> {
    post.scheduled_at.map(|at| zone.local_input(at))
}

#[cfg(not(feature = "ssr"))]
fn scheduled_local(_: &Post, _: &TimeZoneName) -> Option<String> {
    unreachable!("pages are drawn on the server; only islands run in the browser")
}

/// Whether `raw` reads like a `datetime-local` value: `YYYY-MM-DDTHH:MM`.
fn is_local_time(raw: &str) -> bool {
    raw.len() == 16
        && raw.char_indices().all(|(index, c)| match index {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 => c == ':',
            _ => c.is_ascii_digit(),
        })
}

/// Whether `post` can still be changed in place: none of its targets has started.
pub(crate) fn editable(post: &Post) -> bool {
    post.targets.iter().all(|target| {
        matches!(
            target.status,
            TargetStatus::Draft | TargetStatus::Scheduled | TargetStatus::Held
        )
    })
}

/// "Hold this post if…": for a post made from a product, whether the worker checks the
/// product before it goes out.
#[component]
pub(crate) fn ProductCheck(product: Option<ProductId>, check: RwSignal<bool>) -> impl IntoView {
    product.map(|_| {
        view! {
            <label class="choice">
                <input
                    type="checkbox"
                    prop:checked=move || check.get()
                    on:change=move |ev| check.set(event_target_checked(&ev))
                />
                <span>"Hold this post if its product sells out, is archived or changes price before it goes out"</span>
            </label>
        }
    })
}

/// What an editor's fields start with: a post's (edited, or reposted), a template's, a
/// product draft's, or nothing; the accounts chosen (each with its own text and options); and
/// the product the post is about, with whether it is checked before publishing.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Begun {
    pub origin: Origin,
    pub text: String,
    pub media: Vec<MediaItem>,
    pub targets: Vec<NewTarget>,
    pub product: Option<ProductId>,
    pub check_product: bool,
    /// The product a new post starts from, in words: "Speckled Mug, $24.00".
    pub about: Option<String>,
    /// The time on the user's clock the post is for: the edited post's, or a new post's from
    /// an empty calendar slot (`?at=2026-12-03T09:00`).
    pub at: Option<String>,
    /// What the person should know about where the post started: a template's accounts that
    /// are gone, its variables still to fill.
    pub notes: Vec<String>,
}

impl Begun {
    pub(crate) fn of(
        source: Option<&Post>,
        template: Option<TemplateStart>,
        start: Option<ProductDraft>,
    ) -> Self {
        let mut begun = match (source, start) {
            // A post made from a product stays about it, reposted or not.
            (Some(post), _) => Self {
                origin: if editable(post) {
                    Origin::Edit(post.id)
                } else {
                    Origin::Repost
                },
                text: post.text.clone(),
                media: post.media.clone(),
                targets: post
                    .targets
                    .iter()
                    .filter_map(|target| {
                        Some(NewTarget {
                            connection_id: target.connection_id?,
                            text: target.text.clone(),
                            options: target.options.clone(),
                        })
                    })
                    .collect(),
                product: post.product_id,
                check_product: post.check_product,
                ..Self::empty()
            },
            (None, Some(draft)) => Self {
                about: Some(format!("{}, {}", draft.product.title, draft.product.price)),
                text: draft.text,
                media: draft.media,
                product: Some(draft.product.id),
                ..Self::empty()
            },
            (None, None) => Self::empty(),
        };
        // A template gives the words and the accounts; a product given with it, the images.
        if let Some(template) = template.filter(|_| source.is_none()) {
            begun.text = template.text;
            begun.targets = template.options.targets;
            begun.check_product = template.options.check_product;
            begun.product = template.product_id.or(begun.product);
            begun.notes = template.notes;
        }
        begun
    }

    fn empty() -> Self {
        Self {
            origin: Origin::New,
            text: String::new(),
            media: Vec::new(),
            targets: Vec::new(),
            product: None,
            check_product: true,
            about: None,
            at: None,
            notes: Vec::new(),
        }
    }
}

/// Where an editor's post comes from: nothing, a post changed in place (none of its targets
/// has started), or a post sent again as a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Origin {
    New,
    Edit(PostId),
    Repost,
}

impl Origin {
    /// The post changed in place, if this is one.
    pub fn editing(self) -> Option<PostId> {
        match self {
            Self::Edit(id) => Some(id),
            Self::New | Self::Repost => None,
        }
    }
}

/// What the submit button sends.
#[derive(Debug, Clone)]
pub(crate) enum Submission {
    Create { post: NewPost, key: Option<String> },
    Update { id: PostId, post: NewPost },
}

impl Submission {
    pub(crate) async fn send(self) -> Result<SavedPost, ApiError> {
        match self {
            Self::Create { post, key } => create_post(post, key).await,
            Self::Update { id, post } => update_post(id, post).await,
        }
    }
}

/// Turns a post editor's draft into what is sent: the post being edited changed in place, or a
/// new post with its idempotency key. The same post sent again (its answer was lost) goes with
/// the same key, so the server answers with the first post instead of making a second; a
/// changed post gets a new key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Submitter {
    editing: Option<PostId>,
    last_sent: StoredValue<Option<(NewPost, String)>>,
}

impl Submitter {
    pub(crate) fn new(editing: Option<PostId>) -> Self {
        Self {
            editing,
            last_sent: StoredValue::new(None),
        }
    }

    pub(crate) fn submission(self, post: NewPost) -> Submission {
        if let Some(id) = self.editing {
            return Submission::Update { id, post };
        }
        let key = self
            .last_sent
            .with_value(|last| {
                last.as_ref()
                    .filter(|(sent, _)| *sent == post)
                    .map(|(_, key)| key.clone())
            })
            .or_else(random_key);
        if let Some(key) = &key {
            self.last_sent.set_value(Some((post.clone(), key.clone())));
        }
        Submission::Create { post, key }
    }
}

/// Where a saved post is shown, carrying its notice (a time that happens twice, say).
pub(crate) fn detail_path(post: &SavedPost) -> String {
    let query: ParamsMap = post
        .notice
        .iter()
        .map(|notice| ("notice", notice.clone()))
        .collect();
    format!("/posts/{}{}", post.id.0, query.to_query_string())
}

/// The form, the browser's part of the page. A saved post opens its page.
#[island(lazy)]
fn Composer(
    /// The user's time zone, in which the form's date and time are.
    time_zone: String,
    /// The accounts that can be posted to.
    accounts: Vec<Connection>,
    begun: Begun,
) -> impl IntoView {
    let editing = begun.origin.editing();
    let title = match begun.origin {
        Origin::Edit(_) => "Edit post",
        Origin::Repost => "Edit & repost",
        Origin::New => "Compose",
    };
    let text = RwSignal::new(begun.text);
    let media = DraftMedia::new(begun.media);
    let (product, check) = (begun.product, RwSignal::new(begun.check_product));
    let choices: Vec<TargetChoice> = accounts
        .into_iter()
        .map(|connection| {
            let earlier = begun
                .targets
                .iter()
                .find(|target| target.connection_id == connection.id);
            TargetChoice::new(connection, earlier)
        })
        .collect();
    let when = RwSignal::new(When::starting(editing.is_some(), begun.at.is_some()));
    let local = RwSignal::new(begun.at.unwrap_or_default());

    // Paste an image anywhere on the page to add it.
    let paste = window_event_listener(leptos::ev::paste, move |ev| media.take_pasted(&ev));
    on_cleanup(move || paste.remove());

    let submit = Action::new(|submission: &Submission| submission.clone().send());
    let error = Signal::derive(move || submit.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(post)) = submit.value().get() {
            go_to(&detail_path(&post));
        }
    });

    // The draft as it stands; read inside an effect, it tracks every part of it.
    let draft = {
        let choices = choices.clone();
        move |schedule: Schedule| NewPost {
            text: text.get(),
            media_ids: media
                .items
                .with(|items| items.iter().map(|item| item.id).collect()),
            targets: choices
                .iter()
                .filter_map(TargetChoice::to_new_target)
                .collect(),
            schedule,
            product_id: product,
            check_product: check.get(),
        }
    };

    let submitter = Submitter::new(editing);
    let send = {
        let draft = draft.clone();
        move || {
            let post = untrack(|| draft(when.get().schedule(&local.get())));
            let submission = submitter.submission(post);
            submit.dispatch(submission);
        }
    };

    // The previews are drawn by the server from each platform's rules, once typing pauses;
    // an answer overtaken by a later change is dropped.
    let previews = RwSignal::new(String::new());
    let latest = LatestAnswer::new();
    Effect::new(move |_| {
        let post = draft(Schedule::Keyword(ScheduleKeyword::Draft));
        latest.ask(PREVIEW_PAUSE, preview_post(post), move |answer| {
            if let Ok(html) = answer {
                previews.set(html);
            }
        });
    });

    let blocked = move || submit.pending().get() || media.uploading();
    let text_error = field_message(error, "text");
    let (file_error, media_error) = (
        field_message(error, "file"),
        field_message(error, "media_ids"),
    );
    let file_error = Signal::derive(move || file_error.get().or_else(|| media_error.get()));

    view! {
        <header class="page-header">
            <h1 class="page-title">{title}</h1>
        </header>
        <form
            class="compose"
            novalidate
            aria-label=title
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <section class="panel form" aria-labelledby="compose-post-title">
                <h2 id="compose-post-title" class="panel-title">"Post"</h2>
                <div class="field">
                    <label for="compose-text" class="field-label">"Text"</label>
                    <textarea
                        id="compose-text"
                        class="field-input"
                        rows="6"
                        aria-invalid=move || text_error.get().is_some().then_some("true")
                        aria-describedby=move || text_error.get().map(|_| "compose-text-message")
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    >
                        {text.get_untracked()}
                    </textarea>
                    <Show when=move || text_error.get().is_some()>
                        <p id="compose-text-message" class="field-error" role="alert">{move || text_error.get()}</p>
                    </Show>
                </div>
                <MediaPicker media error=file_error />
            </section>
            <section class="panel" aria-labelledby="compose-targets-title">
                <h2 id="compose-targets-title" class="panel-title">"Accounts"</h2>
                <TargetPicker choices=choices.clone() error=field_message(error, "targets") />
            </section>
            <section class="panel" aria-labelledby="compose-preview-title">
                <h2 id="compose-preview-title" class="panel-title">"Preview"</h2>
                <p class="field-hint">"As each platform shows it: where it folds the text, how it counts it, how it crops the media."</p>
                <div class="preview-list" inner_html=move || previews.get()></div>
            </section>
            <section class="panel form" aria-labelledby="compose-when-title">
                <h2 id="compose-when-title" class="panel-title">"Publishing"</h2>
                <SchedulePicker
                    when
                    local
                    zone=time_zone
                    error=field_message(error, "schedule")
                />
                <ProductCheck product check />
                <FormError error beside=FIELDS />
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=blocked>
                        {move || {
                            if submit.pending().get() { "Saving\u{2026}" } else { when.get().submit_label() }
                        }}
                    </button>
                </div>
            </section>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Platform, Target, TargetId};

    fn post_with(statuses: &[TargetStatus], notice: Option<&str>) -> Post {
        let now = chrono::Utc::now();
        Post {
            id: PostId(Uuid::nil()),
            text: "Hello".into(),
            media: Vec::new(),
            scheduled_at: None,
            product_id: None,
            check_product: true,
            targets: statuses
                .iter()
                .map(|status| Target {
                    id: TargetId(Uuid::nil()),
                    connection_id: None,
                    platform: Platform::X,
                    account_handle: "ana".into(),
                    text: None,
                    options: Default::default(),
                    status: *status,
                    external_id: None,
                    url: None,
                    error: None,
                    attempts: 0,
                    due_at: None,
                    next_attempt_at: None,
                    published_at: None,
                })
                .collect(),
            logs: Vec::new(),
            notice: notice.map(str::to_owned),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn only_a_post_that_has_not_started_is_edited_in_place() {
        assert!(editable(&post_with(&[], None)));
        assert!(editable(&post_with(
            &[TargetStatus::Draft, TargetStatus::Scheduled],
            None
        )));
        assert!(!editable(&post_with(
            &[TargetStatus::Scheduled, TargetStatus::Published],
            None
        )));
        assert!(!editable(&post_with(&[TargetStatus::Failed], None)));
    }

    #[test]
    fn the_detail_link_carries_the_notice_encoded() {
        let plain = SavedPost::from(post_with(&[], None));
        assert_eq!(detail_path(&plain), format!("/posts/{}", Uuid::nil()));
        let noticed = SavedPost::from(post_with(&[], Some("02:30 happens twice & more")));
        let path = detail_path(&noticed);
        assert!(
            path.starts_with(&format!("/posts/{}?notice=", Uuid::nil())),
            "{path}"
        );
        assert!(!path.contains(' ') && !path.contains("& "), "{path}");
    }
}
