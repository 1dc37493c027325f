//! The REST API under `/api`: JSON in and out, errors as `{"error":{"code","message",…}}`.
//! Every route counts against the `Api` rate-limit tier (charged outside the router, with the
//! error shaping in `error::api_errors`); routes in a stricter tier say so here.

mod analytics;
mod auth;
mod connections;
mod me;
pub mod media;
pub mod posts;
mod stores;
mod studio;
mod templates;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::{Router, middleware};

use super::error::api_not_found;
use super::json::JSON_BODY_LIMIT;
use super::rate_limit::{Charge, RateLimiter, Tier, charge_tier};
use crate::state::AppState;

/// The OpenAPI document of everything under `/api`.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Picscripterai REST API",
        description = "Connect accounts, upload images, create and schedule posts, and follow their publishing; write captions in the AI Studio. Authenticate with `Authorization: Bearer <token>` from `POST /api/auth/login` (or the session cookie from the same site). Errors are `{\"error\": {\"code\", \"message\", …}}`."
    ),
    paths(
        auth::register, auth::login, auth::logout, me::me,
        connections::overview, connections::authorize, connections::disconnect,
        connections::post_options, connections::add_choice, connections::account_choice,
        connections::choose_accounts,
        media::upload, media::list, media::usage, media::begin_upload, media::confirm_upload,
        media::file, media::remove,
        posts::create, posts::list, posts::read, posts::update, posts::duplicate,
        posts::cancel, posts::retry, posts::remove, posts::reschedule, posts::calendar,
        studio::captions, studio::voice, studio::check, studio::check_view, studio::emoji, studio::add_word,
        studio::settings, studio::save_settings, studio::test_writer,
        stores::overview, stores::authorize, stores::sync_now, stores::disconnect,
        stores::products, stores::product, stores::draft,
        analytics::track, analytics::summary,
        templates::list, templates::create, templates::read, templates::update,
        templates::remove, templates::start,
    ),
    components(schemas(crate::http::openapi::ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "account", description = "Accounts and sessions"),
        (name = "connections", description = "Connected social accounts"),
        (name = "media", description = "The media library"),
        (name = "posts", description = "Posts and their publishing"),
        (name = "stores", description = "Connected online stores and the products synced from them"),
        (name = "analytics", description = "Product events the app reports, counted per person and day; nothing personal is stored beyond the user id"),
        (name = "templates", description = "Saved post texts with variables, and the accounts and options a post starts with"),
        (name = "studio", description = "The AI Studio: captions, the authenticity pass, and each person's writer and brand voice"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    <ApiDoc as utoipa::OpenApi>::openapi()
}

pub fn router(limiter: Arc<RateLimiter>) -> Router<AppState> {
    let charge = |tier| {
        middleware::from_fn_with_state(
            Charge {
                limiter: limiter.clone(),
                tier,
            },
            charge_tier,
        )
    };
    Router::new()
        .merge(auth::router().route_layer(charge(Tier::Auth)))
        .merge(connections::authorize_router().route_layer(charge(Tier::OAuth)))
        .merge(stores::authorize_router().route_layer(charge(Tier::OAuth)))
        .merge(posts::create_router().route_layer(charge(Tier::Post)))
        .merge(studio::writing_router().route_layer(charge(Tier::Ai)))
        .merge(analytics::track_router().route_layer(charge(Tier::Analytics)))
        .merge(me::router())
        .merge(connections::router())
        .merge(posts::router())
        .merge(media::router())
        .merge(studio::router())
        .merge(stores::router())
        .merge(analytics::router())
        .merge(templates::router())
        .route(
            "/openapi.json",
            axum::routing::get(super::openapi::document),
        )
        .route("/docs", axum::routing::get(super::openapi::reference))
        .fallback(api_not_found)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
}
