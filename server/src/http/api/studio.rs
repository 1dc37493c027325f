//! `/api/studio`: the AI Studio's captions, streamed as Server-Sent Events while they are
//! written, and the Human Authenticity Engine's pass and score over a caption.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use app::types::{CaptionEvent, CaptionRequest, HumanScore, VoicePass};

use crate::http::error::HttpError;
use crate::http::extract::AuthUser;
use crate::http::json::ApiJson;
use crate::state::AppState;
use crate::studio::voice::{CaptionLimits, Voice};

/// The routes of the `Ai` tier.
pub fn writing_router() -> Router<AppState> {
    Router::new().route("/studio/captions", post(captions))
}

pub fn router() -> Router<AppState> {
    Router::new().route("/studio/voice", post(voice))
}

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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct VoiceRequest {
    text: String,
    /// The platform's hashtag number and length limit (default: 5 hashtags, 2,200 characters).
    #[serde(default)]
    max_hashtags: Option<usize>,
    #[serde(default)]
    max_length: Option<usize>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct VoiceAnswer {
    pass: VoicePass,
    /// The score of the text as sent.
    score: HumanScore,
    /// The score once every change is accepted.
    score_after: HumanScore,
}

/// The authenticity pass over `text`: each change with its rule, to accept or revert, and the
/// "sounds human" score before and after.
#[utoipa::path(post, path = "/api/studio/voice", tag = "studio", security(("bearer" = [])),
    request_body = VoiceRequest,
    responses((status = 200, body = VoiceAnswer), (status = 400, body = crate::http::openapi::ErrorBody)))]
pub(super) async fn voice(
    AuthUser(_who): AuthUser,
    ApiJson(request): ApiJson<VoiceRequest>,
) -> Json<VoiceAnswer> {
    let count = |text: &str| text.chars().count();
    let limits = CaptionLimits {
        max_hashtags: request.max_hashtags.unwrap_or(5),
        length: &count,
        max_length: request.max_length.unwrap_or(2_200),
    };
    let voice = Voice::default();
    let pass = voice.pass(&request.text, &limits);
    let score = voice.score(&request.text, &limits);
    let score_after = voice.score(&pass.text, &limits);
    Json(VoiceAnswer {
        pass,
        score,
        score_after,
    })
}
