//! `/api/studio`: the AI Studio's captions, streamed as Server-Sent Events while they are
//! written, the Human Authenticity Engine's pass and score over a caption, and each person's
//! Studio settings (their writer and its keys, their brand voice) with the writer's test.

use std::convert::Infallible;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use http::StatusCode;
use serde::Deserialize;

use app::types::{
    CaptionCheck, CaptionEvent, CaptionRequest, CheckRequest, CheckView, EmojiPick, NewWord,
    StudioSettings, StudioSettingsUpdate, VoiceAnswer, VoiceRequest, WriterModels, WriterTest,
};

use app::components::caption_insights::insights_html;

use crate::http::error::HttpError;
use crate::http::extract::AuthUser;
use crate::http::json::ApiJson;
use crate::state::AppState;

/// The routes of the `Ai` tier (a writer test calls the model server too).
pub fn writing_router() -> Router<AppState> {
    Router::new()
        .route("/studio/captions", post(captions))
        .route("/studio/writer/test", post(test_writer))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/studio/voice", post(voice))
        .route("/studio/check", post(check))
        .route("/studio/check/view", post(check_view))
        .route("/studio/emoji", get(emoji))
        .route("/studio/dictionary", post(add_word))
        .route(
            "/studio/settings",
            get(settings)
                .put(save_settings)
                .layer(DefaultBodyLimit::max(SETTINGS_BODY_LIMIT)),
        )
}

/// The largest settings body read: a brand voice of twenty sample posts and three lists of two
/// hundred phrases outgrows the API's usual limit.
const SETTINGS_BODY_LIMIT: usize = 512 * 1024;

/// Writes a caption for each chosen account from the same photos, streamed as events:
/// `writer` (who writes), then per account `piece`s as they are written and `done` (the
/// caption held to the platform's limits, with its score) or `failed` (why, in words to act
/// on). A request to change (no accounts, more than ten photos, a video, something not yours)
/// is refused with a 422 before anything is written.
#[utoipa::path(post, path = "/api/studio/captions", tag = "studio", security(("bearer" = [])),
    request_body = CaptionRequest,
    responses((status = 200, description = "A `text/event-stream` of caption events", body = CaptionEvent),
        (status = 422, body = crate::http::openapi::ErrorBody), (status = 429, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn captions(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<CaptionRequest>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, HttpError> {
    let events = state.studio.captions(who.user.id, request).await?;
    let events = events.map(|event| {
        let name = match &event {
            CaptionEvent::Writer { .. } => "writer",
            CaptionEvent::Piece { .. } => "piece",
            CaptionEvent::Done { .. } => "done",
            CaptionEvent::Failed { .. } => "failed",
        };
        Ok(Event::default()
            .event(name)
            .json_data(&event)
            .unwrap_or_else(|_| Event::default().event("failed")))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The authenticity pass over `text` by the person's rules (their phrases to avoid and keep,
/// their emoji density) and the platform of `connection_id` (else `max_hashtags` and
/// `max_length`, default 5 and 2,200): each change with its rule, to accept or revert, and the
/// "sounds human" score before and after.
#[utoipa::path(post, path = "/api/studio/voice", tag = "studio", security(("bearer" = [])),
    request_body = VoiceRequest,
    responses((status = 200, body = VoiceAnswer), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn voice(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<VoiceRequest>,
) -> Result<Json<VoiceAnswer>, HttpError> {
    Ok(Json(state.studio.voice(who.user.id, request).await?))
}

/// What the editor shows beside a caption while it is typed: its length counted the way the
/// platform of `connection_id` counts it, its score, the proofreader's flags (spelling, grammar,
/// style; never the person's own words, hashtags, mentions or links) with their fixes, and emoji
/// that fit its words.
#[utoipa::path(post, path = "/api/studio/check", tag = "studio", security(("bearer" = [])),
    request_body = CheckRequest,
    responses((status = 200, body = CaptionCheck), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn check(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<CheckRequest>,
) -> Result<Json<CaptionCheck>, HttpError> {
    Ok(Json(state.studio.check(who.user.id, request).await?))
}

/// The same check drawn for the Studio's editor: the underlines of `text` and the panel under
/// the field, as HTML, with each fix and emoji in its button's `data-` attributes.
#[utoipa::path(post, path = "/api/studio/check/view", tag = "studio", security(("bearer" = [])),
    request_body = CheckRequest,
    responses((status = 200, body = CheckView), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn check_view(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<CheckRequest>,
) -> Result<Json<CheckView>, HttpError> {
    let text = request.text.clone();
    let check = state.studio.check(who.user.id, request).await?;
    Ok(Json(insights_html(text, check)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(super) struct EmojiQuery {
    /// Words of an emoji's name, shortcode or group ("red heart", "coffee"); empty: smileys.
    #[serde(default)]
    q: String,
}

/// The emoji picker's search.
#[utoipa::path(get, path = "/api/studio/emoji", tag = "studio", security(("bearer" = [])),
    params(EmojiQuery),
    responses((status = 200, body = [EmojiPick]), (status = 401, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn emoji(
    State(state): State<AppState>,
    AuthUser(_who): AuthUser,
    Query(query): Query<EmojiQuery>,
) -> Json<Vec<EmojiPick>> {
    Json(state.studio.emoji(&query.q))
}

/// Adds a word to the person's own words (Settings, Brand voice), which the proofreader never
/// flags: "Add to my words" beside a flagged brand name.
#[utoipa::path(post, path = "/api/studio/dictionary", tag = "studio", security(("bearer" = [])),
    request_body = NewWord,
    responses((status = 204, description = "Added (or already there)"),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn add_word(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(word): ApiJson<NewWord>,
) -> Result<StatusCode, HttpError> {
    state.studio.add_word(who.user.id, &word.word).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in person's AI Studio settings: their writer (keys are never sent back, only
/// whether one is stored), their brand voice, and what "this server's writer" is.
#[utoipa::path(get, path = "/api/studio/settings", tag = "studio", security(("bearer" = [])),
    responses((status = 200, body = StudioSettings), (status = 401, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn settings(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<StudioSettings>, HttpError> {
    Ok(Json(state.studio_settings.get(who.user.id).await?))
}

/// Replaces the AI Studio settings. A key given is stored encrypted; a key not given is kept
/// unless `clear_gemini_key` or `clear_openai_key` says to remove it. A setting to fix (an
/// address that is not http(s), a server without a model, Gemini without any key) is refused
/// with a 422 naming the field.
#[utoipa::path(put, path = "/api/studio/settings", tag = "studio", security(("bearer" = [])),
    request_body = StudioSettingsUpdate,
    responses((status = 200, body = StudioSettings), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn save_settings(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(update): ApiJson<StudioSettingsUpdate>,
) -> Result<Json<StudioSettings>, HttpError> {
    let now = state.clock.now();
    Ok(Json(
        state.studio_settings.save(who.user.id, update, now).await?,
    ))
}

/// "Test connection": the models the described writer offers (a stored key is used when none
/// is typed). A writer that cannot be reached or refuses is a 422 on the field `writer`, its
/// message saying what to check.
#[utoipa::path(post, path = "/api/studio/writer/test", tag = "studio", security(("bearer" = [])),
    request_body = WriterTest,
    responses((status = 200, body = WriterModels), (status = 422, body = crate::http::openapi::ErrorBody),
        (status = 429, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn test_writer(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(test): ApiJson<WriterTest>,
) -> Result<Json<WriterModels>, HttpError> {
    Ok(Json(
        state.studio_settings.test_writer(who.user.id, test).await?,
    ))
}
