//! `/posts`: the user's posts, newest first, with where each stands on each account. The
//! filters live in the URL (`?status=failed&platform=x&from=2026-01-01&to=2026-01-31`), so a
//! reload or a shared link shows the same list. While a shown post is still on its way out,
//! the list looks again every few seconds.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use serde::{Deserialize, Serialize};

use crate::api::posts::{list_posts, publishing_delay};
use crate::components::browser::hydrated;
use crate::components::filters::{PlatformSelect, StatusSelect};
use crate::components::notice::{Notice, Tone};
use crate::components::polling::refresh_while;
use crate::components::status_badge::{TargetBadge, moves_on_its_own};
use crate::components::timestamp::Timestamp;
use crate::types::{ApiError, Platform, Post, PostPage, PostQuery, TargetStatus};

/// How long a post's text may be in the list before it is cut.
const EXCERPT_CHARS: usize = 140;
/// A due post that has waited this long for a worker means publishing is behind (on time, a
/// worker starts it within a second).
const BEHIND_AFTER_SECS: u64 = 60;

/// The filters as the URL has them. Dates stay as typed, so the form shows them back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Filters {
    status: Option<TargetStatus>,
    platform: Option<Platform>,
    from: String,
    to: String,
}

impl Filters {
    fn from_query(query: &ParamsMap) -> Self {
        Self {
            status: query.get_str("status").and_then(TargetStatus::parse),
            platform: query.get_str("platform").and_then(Platform::parse),
            from: query.get("from").unwrap_or_default(),
            to: query.get("to").unwrap_or_default(),
        }
    }

    /// The list query for one page. Dates are whole UTC days, like the times the list shows;
    /// `to` includes its day (the server's bound is exclusive).
    fn query(&self, cursor: Option<String>) -> PostQuery {
        PostQuery {
            status: self.status,
            platform: self.platform,
            from: parse_date(&self.from).and_then(start_of),
            to: parse_date(&self.to)
                .and_then(|day| day.succ_opt())
                .and_then(start_of),
            cursor,
            limit: None,
        }
    }
}

/// A `date` input's value, `YYYY-MM-DD`.
fn parse_date(raw: &str) -> Option<NaiveDate> {
    let mut parts = raw.trim().splitn(3, '-').map(str::parse::<u32>);
    let (year, month, day) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

fn start_of(day: NaiveDate) -> Option<DateTime<FixedOffset>> {
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset())
}

/// The first `pages` pages, as one. Reloading them all keeps every shown post current when
/// the list refreshes.
async fn load_pages(filters: Filters, pages: usize) -> Result<PostPage, ApiError> {
    let mut items = Vec::new();
    let mut cursor = None;
    for _ in 0..pages {
        let page = list_posts(filters.query(cursor.take())).await?;
        items.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(PostPage {
        items,
        next_cursor: cursor,
    })
}

#[component]
pub fn Posts() -> impl IntoView {
    let filters = Filters::from_query(&use_query_map().read_untracked());
    view! {
        <header class="page-header">
            <h1 class="page-title">"Posts"</h1>
        </header>
        <PublishingBehind />
        <FilterForm filters=filters.clone() />
        <PostFeed filters />
    }
}

/// Says so when the user's due posts wait for a worker: the workers are overloaded, stopped,
/// or cut off from the queue. Nothing is lost meanwhile; the posts go out when they catch up.
#[component]
fn PublishingBehind() -> impl IntoView {
    let delay = OnceResource::new(publishing_delay());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let waited = delay.await.ok().flatten().filter(|secs| *secs >= BEHIND_AFTER_SECS)?;
                let message = format!(
                    "Publishing is running behind: a post due {} ago has not started yet. \
                     Nothing is lost; due posts go out in order as soon as publishing catches up.",
                    waited_for(waited)
                );
                Some(view! { <Notice tone=Tone::Warning message /> })
            })}
        </Suspense>
    }
}

/// `90` -> "1 minute", `7200` -> "2 hours".
fn waited_for(secs: u64) -> String {
    let (count, unit) = match secs {
        0..3_600 => (secs / 60, "minute"),
        3_600..86_400 => (secs / 3_600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    let count = count.max(1);
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// The list, the browser's part of the page: "Load more", and looking again while a post is
/// on its way out.
#[island(lazy)]
fn PostFeed(filters: Filters) -> impl IntoView {
    let hydrated = hydrated();
    let pages = RwSignal::new(1_usize);
    let posts = Resource::new(move || pages.get(), {
        let filters = filters.clone();
        move |pages| load_pages(filters.clone(), pages)
    });
    let loading = RwSignal::new(false);
    refresh_while(
        move || {
            posts.with(|page| {
                matches!(page, Some(Ok(page)) if page.items.iter().any(|post| {
                    post.targets.iter().any(|target| moves_on_its_own(target.status))
                }))
            })
        },
        Duration::from_secs(3),
        move || posts.refetch(),
    );
    let filtered = filters != Filters::default();

    view! {
        <Transition
            fallback=|| view! { <p class="field-hint">"Loading posts\u{2026}"</p> }
            set_pending=loading.write_only()
        >
            {move || Suspend::new(async move {
                match posts.await {
                    Ok(page) => {
                        let more = page.next_cursor.is_some();
                        Either::Left(view! {
                            <PostList posts=page.items filtered />
                            {more
                                .then(|| {
                                    view! {
                                        <button
                                            type="button"
                                            class="button-secondary load-more"
                                            aria-busy=move || loading.get().then_some("true")
                                            disabled=move || !hydrated.get() || loading.get()
                                            on:click=move |_| pages.update(|pages| *pages += 1)
                                        >
                                            "Load more"
                                        </button>
                                    }
                                })}
                        })
                    }
                    Err(error) => Either::Right(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                }
            })}
        </Transition>
    }
}

/// A plain GET form: applying filters loads the page for the new URL, so a reload, the back
/// button and a shared link all show what the list shows.
#[component]
fn FilterForm(filters: Filters) -> impl IntoView {
    let Filters {
        status,
        platform,
        from,
        to,
    } = filters;
    view! {
        <form method="get" action="/posts" class="filters" aria-label="Filter posts">
            <StatusSelect id="filter-status" chosen=status />
            <PlatformSelect id="filter-platform" chosen=platform />
            <div class="field">
                <label for="filter-from" class="field-label">"From (UTC)"</label>
                <input id="filter-from" name="from" type="date" class="field-input" value=from />
            </div>
            <div class="field">
                <label for="filter-to" class="field-label">"To (UTC)"</label>
                <input id="filter-to" name="to" type="date" class="field-input" value=to />
            </div>
            <div class="filters-actions">
                <button type="submit" class="button-secondary">"Apply filters"</button>
                <A href="/posts">"Clear filters"</A>
            </div>
        </form>
    }
}

#[component]
fn PostList(posts: Vec<Post>, filtered: bool) -> impl IntoView {
    if posts.is_empty() {
        return Either::Left(if filtered {
            Either::Left(view! { <p class="empty">"No posts match these filters."</p> })
        } else {
            Either::Right(view! {
                <p class="empty">"No posts yet. " <a href="/compose">"Write your first post"</a></p>
            })
        });
    }
    Either::Right(view! {
        <ul class="post-list">
            {posts.into_iter().map(|post| view! { <PostRow post /> }).collect_view()}
        </ul>
    })
}

/// The start of a post's text, cut at a character boundary.
fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(Images only)".to_owned();
    }
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}\u{2026}", text[..cut].trim_end()),
        None => text.to_owned(),
    }
}

#[component]
fn PostRow(post: Post) -> impl IntoView {
    let href = format!("/posts/{}", post.id.0);
    let studio = format!("/studio?from={}", post.id.0);
    let thumbnail = post.media.first().map(|image| {
        view! { <img class="post-thumb" src=image.url.clone() alt="First image of the post" /> }
    });
    view! {
        <li class="post-row">
            {thumbnail}
            <div class="post-body">
                <a href=href class="post-excerpt">{excerpt(&post.text)}</a>
                <ul class="badge-list" aria-label="Accounts">
                    {post
                        .targets
                        .into_iter()
                        .map(|target| view! { <li><TargetBadge target /></li> })
                        .collect_view()}
                </ul>
                <p class="post-meta">
                    "Created " <Timestamp at=post.created_at />
                    {post.scheduled_at.map(|at| view! { " \u{b7} scheduled for " <Timestamp at /> })}
                </p>
                <a href=studio class="post-action">"Send to Studio"</a>
            </div>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_to_date_includes_its_whole_day() {
        let filters = Filters {
            from: "2026-01-31".into(),
            to: "2026-01-31".into(),
            ..Filters::default()
        };
        let query = filters.query(None);
        assert_eq!(
            query.from.unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        assert_eq!(query.to.unwrap().to_rfc3339(), "2026-02-01T00:00:00+00:00");
    }

    #[test]
    fn unknown_filter_values_mean_no_filter() {
        let query: ParamsMap = [
            ("status", "nonsense"),
            ("platform", ""),
            ("from", "31/01/2026"),
        ]
        .into_iter()
        .collect();
        let filters = Filters::from_query(&query);
        assert_eq!(filters.status, None);
        assert_eq!(filters.platform, None);
        assert_eq!(filters.query(None).from, None);
    }

    #[test]
    fn waits_are_said_in_the_largest_whole_unit() {
        assert_eq!(waited_for(60), "1 minute");
        assert_eq!(waited_for(150), "2 minutes");
        assert_eq!(waited_for(3_600), "1 hour");
        assert_eq!(waited_for(86_400 * 3 + 5), "3 days");
    }

    #[test]
    fn a_long_text_is_cut_at_a_character() {
        let text = "é".repeat(EXCERPT_CHARS + 10);
        let cut = excerpt(&text);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('\u{2026}'));
        assert_eq!(excerpt("  "), "(Images only)");
    }
}
