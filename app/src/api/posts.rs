//! Server functions of the composer, the post list and the post detail page. They take JSON,
//! since their arguments are structured (a whole post, filters, ids).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::types::{
    ApiError, CalendarQuery, CalendarShown, CalendarSpan, NewPost, Post, PostId, PostPage,
    PostQuery, SavedPost, TargetId,
};

#[cfg(feature = "ssr")]
use {
    super::ssr::{events, posts, require_session, respond},
    crate::services::IdempotencyKey,
    crate::types::AppEvent,
};

/// Creates the post. The composer sends the same `key` again only for the same post, so a
/// submission whose answer was lost (a dropped connection) cannot publish twice.
#[server(prefix = "/rpc", endpoint = "posts/create", input = Json)]
pub async fn create_post(post: NewPost, key: Option<String>) -> Result<SavedPost, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts
                .create(&who.user, post, key.map(IdempotencyKey))
                .await
                .map(SavedPost::from)
        }
        .await,
    )
}

/// The composer's previews of a draft, one per chosen account, as HTML drawn from each
/// platform's rules (see `draft_preview`). Nothing is stored.
#[server(prefix = "/rpc", endpoint = "posts/preview", input = Json)]
pub async fn preview_post(post: NewPost) -> Result<String, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            let previews = posts.preview(&who.user, post).await?;
            Ok(crate::components::draft_preview::previews_html(previews))
        }
        .await,
    )
}

/// Replaces a post none of whose targets has started.
#[server(prefix = "/rpc", endpoint = "posts/update", input = Json)]
pub async fn update_post(id: PostId, post: NewPost) -> Result<SavedPost, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.update(&who.user, id, post).await.map(SavedPost::from)
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "posts/list", input = Json)]
pub async fn list_posts(query: PostQuery) -> Result<PostPage, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.list(who.user.id, query).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "posts/get", input = Json)]
pub async fn get_post(id: PostId) -> Result<Post, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.get(who.user.id, id).await
        }
        .await,
    )
}

/// A copy of the post as a new draft.
#[server(prefix = "/rpc", endpoint = "posts/duplicate", input = Json)]
pub async fn duplicate_post(id: PostId) -> Result<Post, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.duplicate(who.user.id, id).await
        }
        .await,
    )
}

/// Tries one failed target again, now.
#[server(prefix = "/rpc", endpoint = "posts/retry", input = Json)]
pub async fn retry_target(id: PostId, target_id: TargetId) -> Result<Post, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.retry(who.user.id, id, target_id).await
        }
        .await,
    )
}

/// Cancels every target that has not gone out.
#[server(prefix = "/rpc", endpoint = "posts/cancel", input = Json)]
pub async fn cancel_post(id: PostId) -> Result<Post, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.cancel(who.user.id, id).await
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "posts/delete", input = Json)]
pub async fn delete_post(id: PostId) -> Result<(), ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.delete(who.user.id, id).await
        }
        .await,
    )
}

/// How many seconds the user's longest-waiting due post has waited for a worker, if any.
#[server(prefix = "/rpc", endpoint = "posts/waiting")]
pub async fn publishing_delay() -> Result<Option<u64>, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            posts.waiting_secs(who.user.id).await
        }
        .await,
    )
}

/// The calendar page's posts: the days `span` shows around `date` (today on the user's clock
/// when absent), narrowed by the filters in `query` (whose days are ignored).
#[server(prefix = "/rpc", endpoint = "posts/calendar", input = Json)]
pub async fn load_calendar(
    span: CalendarSpan,
    date: Option<chrono::NaiveDate>,
    query: CalendarQuery,
) -> Result<CalendarShown, ApiError> {
    let posts = posts();
    respond(
        async {
            let who = require_session().await?;
            let date = date.unwrap_or_else(|| posts.today(&who.user));
            let (from, to) = span.days(date);
            let calendar = posts
                .calendar(&who.user, CalendarQuery { from, to, ..query })
                .await?;
            Ok(CalendarShown {
                date,
                from,
                to,
                calendar,
            })
        }
        .await,
    )
}

/// Moves a post to `local` (`YYYY-MM-DDTHH:MM` on the user's clock): the calendar's drag and
/// its keyboard move, in the `view` shown. The answer is the note a time the clocks pass twice
/// needs, if any.
#[server(prefix = "/rpc", endpoint = "posts/move", input = Json)]
pub async fn move_post(
    id: PostId,
    local: String,
    view: CalendarSpan,
    keyboard: bool,
) -> Result<Option<String>, ApiError> {
    let (posts, events) = (posts(), events());
    respond(
        async {
            let who = require_session().await?;
            let moved = posts
                .reschedule(&who.user, id, crate::types::Schedule::Local { local })
                .await?;
            events
                .record(&who.user, AppEvent::CalendarRescheduled { view, keyboard })
                .await;
            Ok(moved.notice)
        }
        .await,
    )
}
