//! `/media`: every image and video the person uploaded, newest first, with its size, its
//! dimensions and the posts that use it, and the storage they take together. A file goes with a
//! plain form (no island); while a post still to go out uses it, it stays and the page says
//! which post and when it is due.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::media::{DELETED_PARAM, DeleteMedia, load_library};
use crate::components::form::posted_error;
use crate::components::notice::{Notice, Tone};
use crate::components::status_badge::status_name;
use crate::components::timestamp::Timestamp;
use crate::pages::products::count_of;
use crate::types::{MediaEntry, MediaUsage, TargetStatus};

const DELETE_PATH: &str = <DeleteMedia as leptos::server_fn::ServerFn>::PATH;

/// `2048` -> `2.0 KB`, in units of 1,000 (as file managers and the platforms' limits say).
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1_000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1_000.0;
    let mut unit = 0;
    while value >= 1_000.0 && unit < UNITS.len() - 1 {
        value /= 1_000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[component]
pub fn Media() -> impl IntoView {
    let deleted = use_query_map()
        .read_untracked()
        .get(DELETED_PARAM)
        .is_some();
    let error = posted_error::<DeleteMedia, _>();
    let library = OnceResource::new(load_library());
    view! {
        <header class="page-header">
            <h1 class="page-title">"Media"</h1>
            <p class="page-lead">"Every photo and video you uploaded, and the posts that use them."</p>
        </header>
        {deleted.then(|| view! { <Notice tone=Tone::Success message="The file was deleted.".to_owned() /> })}
        {error.map(|error| view! { <Notice tone=Tone::Error message=error.to_string() /> })}
        <Suspense fallback=|| view! { <p class="field-hint">"Loading your media\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match library.await {
                    Ok((entries, _)) if entries.is_empty() => EitherOf3::A(view! {
                        <p class="empty">
                            "Nothing uploaded yet. Photos and videos added in "
                            <a href="/compose">"Compose"</a>
                            " or the "
                            <a href="/studio">"AI Studio"</a>
                            " appear here."
                        </p>
                    }),
                    Ok((entries, usage)) => EitherOf3::B(view! { <Library entries usage /> }),
                    Err(error) => EitherOf3::C(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Library(entries: Vec<MediaEntry>, usage: MediaUsage) -> impl IntoView {
    view! {
        <p class="media-usage" id="media-usage">
            {format!(
                "{} in {}",
                size_text(usage.bytes_used),
                count_of(usage.files, "file"),
            )}
        </p>
        <ul class="media-grid">
            {entries.into_iter().map(|entry| view! { <MediaCard entry /> }).collect_view()}
        </ul>
    }
}

#[component]
fn MediaCard(entry: MediaEntry) -> impl IntoView {
    let MediaEntry { item, used_by } = entry;
    let id = item.id.0.to_string();
    let is_video = item.video.is_some();
    let kind = if is_video { "Video" } else { "Image" };
    let picture = item
        .poster_url
        .clone()
        .or_else(|| (!is_video).then(|| item.url.clone()));
    let thumbnail = match picture {
        Some(src) => EitherOf3::A(view! {
            <img
                class="media-thumb"
                src=src
                alt=format!("{kind} uploaded")
                loading="lazy"
                width=item.width.to_string()
                height=item.height.to_string()
            />
        }),
        None if is_video => EitherOf3::B(
            view! { <span class="media-thumb media-video" aria-hidden="true">"\u{25b6}"</span> },
        ),
        None => EitherOf3::C(view! { <span class="media-thumb" aria-hidden="true"></span> }),
    };
    let dimensions = format!("{} \u{d7} {}", item.width, item.height);
    let waiting = used_by.iter().any(|usage| {
        !matches!(
            usage.status,
            TargetStatus::Published | TargetStatus::Cancelled
        )
    });
    let uses = if used_by.is_empty() {
        Either::Left(view! { <p class="media-meta">"Not used by any post"</p> })
    } else {
        Either::Right(view! {
            <ul class="media-uses" aria-label="Posts using it">
                {used_by
                    .into_iter()
                    .map(|usage| {
                        view! {
                            <li>
                                <a href=format!("/posts/{}", usage.post_id.0)>"Post"</a>
                                " \u{b7} "
                                <span class=format!("badge badge-{}", usage.status.as_str())>{status_name(usage.status)}</span>
                                {usage.scheduled_at.map(|at| view! { " \u{b7} " <Timestamp at /> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        })
    };
    let noun = if is_video { "video" } else { "image" };
    let delete = view! {
        {waiting.then(|| view! { <p class="field-hint">"A post still to go out uses it, so it cannot be deleted yet."</p> })}
        <details class="confirm">
            <summary class="button-danger" aria-label=format!("Delete this {noun}")>"Delete"</summary>
            <form method="post" action=DELETE_PATH class="confirm-form">
                <input type="hidden" name="id" value=id />
                <span class="confirm-question">"Delete this file? Posts already published keep their record, without it."</span>
                <button type="submit" class="button-danger">"Yes, delete"</button>
            </form>
        </details>
    };
    view! {
        <li class="media-card">
            {thumbnail}
            <p class="media-meta">
                {format!("{kind} \u{b7} {} \u{b7} {dimensions}", size_text(item.bytes))}
                {item.video.map(|video| format!(" \u{b7} {} s", video.duration_ms.div_ceil(1_000)))}
            </p>
            <p class="media-meta">"Uploaded " <Timestamp at=item.created_at /></p>
            {uses}
            {delete}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_said_in_the_largest_unit() {
        assert_eq!(size_text(999), "999 B");
        assert_eq!(size_text(2_048), "2.0 KB");
        assert_eq!(size_text(5_300_000), "5.3 MB");
        assert_eq!(size_text(1_200_000_000), "1.2 GB");
    }
}
