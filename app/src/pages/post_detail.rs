//! `/posts/:id`: one post, where it stands on each account, what happened while publishing it,
//! and what can still be done (retry, cancel, duplicate, edit & repost, send to the Studio, delete). While a
//! target is still on its way out, the page looks again every two seconds, so a scheduled post
//! turns into a published one before the user's eyes.

use std::time::Duration;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use crate::api::posts::{CancelPost, DeletePost, DuplicatePost, RetryTarget, get_post};
use crate::api::templates::SavePostAsTemplate;
use crate::components::browser::{go_to, hydrated};
use crate::components::confirm_button::ConfirmButton;
use crate::components::form::{last_error, posted_error};
use crate::components::notice::{Notice, Tone};
use crate::components::polling::refresh_while;
use crate::components::status_badge::{StatusBadge, moves_on_its_own};
use crate::components::timestamp::Timestamp;
use crate::types::{ApiError, LogLevel, LogLine, Post, PostId, Target, TargetId, TargetStatus};

/// The actions of the page, created outside the part that refreshes so that their state (a
/// pending delete question, say) survives a refresh.
#[derive(Clone, Copy)]
struct Actions {
    retry: ServerAction<RetryTarget>,
    cancel: ServerAction<CancelPost>,
    duplicate: ServerAction<DuplicatePost>,
    delete: ServerAction<DeletePost>,
    asking_delete: RwSignal<bool>,
    /// False until the island has hydrated (see [`hydrated`]).
    live: Signal<bool>,
}

#[component]
pub fn PostDetail() -> impl IntoView {
    let id = use_params_map()
        .read_untracked()
        .get("id")
        .and_then(|raw| Uuid::parse_str(&raw).ok())
        .map(PostId);
    let notice = use_query_map().read_untracked().get("notice");
    let posted = [
        posted_error::<RetryTarget, _>(),
        posted_error::<CancelPost, _>(),
        posted_error::<DuplicatePost, _>(),
        posted_error::<DeletePost, _>(),
    ];
    let template_error = posted_error::<SavePostAsTemplate, _>().map(|error| error.to_string());
    let typed_name = use_query_map().read_untracked().get("name");
    view! {
        <PostPage id notice posted />
        {id.map(|id| view! { <SaveAsTemplate id error=template_error typed_name /> })}
    }
}

const SAVE_TEMPLATE_PATH: &str = <SavePostAsTemplate as leptos::server_fn::ServerFn>::PATH;

/// "Save as template": the post's text and accounts under a name, in a plain form drawn on the
/// server (no script). A refused name comes back as typed, with the reason, and the form open.
#[component]
fn SaveAsTemplate(id: PostId, error: Option<String>, typed_name: Option<String>) -> impl IntoView {
    let open = error.is_some();
    view! {
        <details class="confirm save-template" open=open>
            <summary class="button-secondary">"Save as template"</summary>
            <form method="post" action=SAVE_TEMPLATE_PATH class="confirm-form" novalidate>
                <input type="hidden" name="post" value=id.0.to_string() />
                <label class="field-label" for="template-name">"Template name"</label>
                <input
                    id="template-name"
                    name="name"
                    class="field-input field-input-narrow"
                    maxlength="80"
                    value=typed_name.unwrap_or_default()
                    aria-invalid=open.then_some("true")
                    aria-describedby=open.then_some("template-name-error")
                />
                <button type="submit" class="button-primary">"Save template"</button>
                {error.map(|error| view! { <p id="template-name-error" class="field-error" role="alert">{error}</p> })}
            </form>
        </details>
    }
}

/// The page's content, live in the browser: it looks again while the post is on its way out,
/// and its buttons act on the post.
#[island(lazy)]
fn PostPage(
    id: Option<PostId>,
    notice: Option<String>,
    /// What a button pressed without JavaScript left in the URL.
    posted: [Option<ApiError>; 4],
) -> impl IntoView {
    let actions = Actions {
        retry: ServerAction::new(),
        cancel: ServerAction::new(),
        duplicate: ServerAction::new(),
        delete: ServerAction::new(),
        asking_delete: RwSignal::new(false),
        live: hydrated(),
    };
    let post = Resource::new(
        move || {
            (
                actions.retry.version().get(),
                actions.cancel.version().get(),
            )
        },
        move |_| async move {
            match id {
                Some(id) => get_post(id).await,
                None => Err(ApiError::NotFound),
            }
        },
    );
    refresh_while(
        move || {
            post.with(|post| {
                matches!(post, Some(Ok(post)) if post.targets.iter().any(|target| moves_on_its_own(target.status)))
            })
        },
        Duration::from_secs(2),
        move || post.refetch(),
    );
    Effect::new(move |_| {
        if let Some(Ok(copy)) = actions.duplicate.value().get() {
            go_to(&format!("/posts/{}", copy.id.0));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.delete.value().get() {
            go_to("/posts");
        }
    });
    let [retried, cancelled, duplicated, deleted] = posted;
    let errors = [
        last_error(actions.retry, retried),
        last_error(actions.cancel, cancelled),
        last_error(actions.duplicate, duplicated),
        last_error(actions.delete, deleted),
    ];

    view! {
        <header class="page-header">
            <h1 class="page-title">"Post"</h1>
            <p class="page-lead"><a href="/posts">"All posts"</a></p>
        </header>
        {notice.map(|message| view! { <Notice tone=Tone::Success message /> })}
        {errors
            .into_iter()
            .map(|error| {
                move || error.get().map(|error| view! { <Notice tone=Tone::Error message=error.to_string() /> })
            })
            .collect_view()}
        <Transition fallback=|| view! { <p class="field-hint">"Loading the post\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match post.await {
                    Ok(post) => Either::Left(view! { <PostView post actions /> }),
                    Err(error) => Either::Right(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn PostView(post: Post, actions: Actions) -> impl IntoView {
    let id = post.id;
    let cancellable = post.targets.iter().any(|target| {
        matches!(
            target.status,
            TargetStatus::Scheduled
                | TargetStatus::Retrying
                | TargetStatus::WaitingReconnect
                | TargetStatus::Held
        )
    });
    let text = if post.text.trim().is_empty() {
        "(No text)".to_owned()
    } else {
        post.text.clone()
    };
    let handles: Vec<(TargetId, String)> = post
        .targets
        .iter()
        .map(|target| (target.id, format!("@{}", target.account_handle)))
        .collect();
    view! {
        <div class="actions-bar" role="group" aria-label="Post actions">
            {cancellable
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="button-secondary"
                            disabled=move || !actions.live.get() || actions.cancel.pending().get()
                            on:click=move |_| {
                                actions.cancel.dispatch(CancelPost { id });
                            }
                        >
                            "Cancel"
                        </button>
                    }
                })}
            <button
                type="button"
                class="button-secondary"
                disabled=move || !actions.live.get() || actions.duplicate.pending().get()
                on:click=move |_| {
                    actions.duplicate.dispatch(DuplicatePost { id });
                }
            >
                "Duplicate"
            </button>
            <a href=format!("/compose?from={}", id.0) class="button-secondary">"Edit & repost"</a>
            <a href=format!("/studio?from={}", id.0) class="button-secondary">"Send to Studio"</a>
            <ConfirmButton
                label="Delete"
                question="Delete this post? Scheduled targets will not go out."
                confirm_label="Yes, delete"
                asking=actions.asking_delete
                pending=actions.delete.pending()
                on_confirm=Callback::new(move |()| {
                    actions.delete.dispatch(DeletePost { id });
                })
            />
        </div>
        <section class="panel" aria-labelledby="post-content-title">
            <h2 id="post-content-title" class="panel-title">"Content"</h2>
            <p class="post-text">{text}</p>
            {(!post.media.is_empty())
                .then(|| {
                    view! {
                        <ul class="post-images">
                            {post
                                .media
                                .iter()
                                .enumerate()
                                .map(|(index, image)| {
                                    view! {
                                        <li>
                                            <img class="post-image" src=image.url.clone() alt=format!("Image {}", index + 1) />
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
            <p class="post-meta">
                "Created " <Timestamp at=post.created_at />
                {post.scheduled_at.map(|at| view! { " \u{b7} scheduled for " <Timestamp at /> })}
            </p>
        </section>
        <section class="panel" aria-labelledby="post-targets-title">
            <h2 id="post-targets-title" class="panel-title">"Accounts"</h2>
            <TargetTable post_id=id targets=post.targets retry=actions.retry live=actions.live />
        </section>
        <section class="panel" aria-labelledby="post-log-title">
            <h2 id="post-log-title" class="panel-title">"Job log"</h2>
            <JobLog lines=post.logs handles />
        </section>
    }
}

#[component]
fn TargetTable(
    post_id: PostId,
    targets: Vec<Target>,
    retry: ServerAction<RetryTarget>,
    live: Signal<bool>,
) -> impl IntoView {
    if targets.is_empty() {
        return Either::Left(
            view! { <p class="field-hint">"No account chosen yet: edit the post to choose one."</p> },
        );
    }
    Either::Right(view! {
        <div class="table-scroll">
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Link"</th>
                        <th scope="col">"Error"</th>
                        <th scope="col">"Attempts"</th>
                        <th scope="col">"Next attempt"</th>
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {targets
                        .into_iter()
                        .map(|target| view! { <TargetRow post_id target retry live /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    })
}

#[component]
fn TargetRow(
    post_id: PostId,
    target: Target,
    retry: ServerAction<RetryTarget>,
    live: Signal<bool>,
) -> impl IntoView {
    let handle = format!("@{}", target.account_handle);
    let platform = target.platform.display_name();
    let target_id = target.id;
    let link = target
        .url
        .clone()
        .filter(|_| target.status == TargetStatus::Published)
        .map(|url| {
            view! { <a href=url>{format!("View on {platform}")}</a> }
        });
    // A failed target is tried again; a held one goes out as it is ("Publish anyway"): an edit
    // or a cancel are the post's own buttons.
    let again = match target.status {
        TargetStatus::Failed => Some(("Retry", format!("Retry {handle}"))),
        TargetStatus::Held => Some(("Publish anyway", format!("Publish anyway on {handle}"))),
        _ => None,
    };
    view! {
        <tr>
            <th scope="row">{format!("{handle} on {platform}")}</th>
            <td><StatusBadge target=target.clone() /></td>
            <td>{link}</td>
            <td class="target-error">{target.error.clone()}</td>
            <td>{target.attempts}</td>
            <td>{target.next_attempt_at.map(|at| view! { <Timestamp at /> })}</td>
            <td>
                {again
                    .map(|(label, aria_label)| {
                        view! {
                            <button
                                type="button"
                                class="button-secondary"
                                aria-label=aria_label
                                disabled=move || !live.get() || retry.pending().get()
                                on:click=move |_| {
                                    retry.dispatch(RetryTarget { id: post_id, target_id });
                                }
                            >
                                {label}
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}

fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Info => "Info",
        LogLevel::Warn => "Warning",
        LogLevel::Error => "Error",
    }
}

#[component]
fn JobLog(lines: Vec<LogLine>, handles: Vec<(TargetId, String)>) -> impl IntoView {
    if lines.is_empty() {
        return Either::Left(view! { <p class="field-hint">"Nothing has happened yet."</p> });
    }
    let account = move |line: &LogLine| {
        line.target_id
            .and_then(|id| handles.iter().find(|(target, _)| *target == id))
            .map(|(_, handle)| handle.clone())
    };
    Either::Right(view! {
        <div class="table-scroll">
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Level"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Message"</th>
                    </tr>
                </thead>
                <tbody>
                    {lines
                        .into_iter()
                        .map(|line| {
                            let who = account(&line);
                            view! {
                                <tr>
                                    <td><Timestamp at=line.at /></td>
                                    <td class=format!("log-level log-level-{}", line.level.as_str())>{level_name(line.level)}</td>
                                    <td>{who}</td>
                                    <td>{line.message}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    })
}
