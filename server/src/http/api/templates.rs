//! Post templates: `GET /api/templates`, `POST /api/templates`,
//! `GET|PUT|DELETE /api/templates/{id}`, and `POST /api/templates/{id}/start`, which fills a
//! template for a new post or an AI Studio session.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use app::types::{ApiError, NewTemplate, StartTemplate, Template, TemplateId, TemplateStart};

use crate::http::error::HttpError;
use crate::http::extract::{ApiPath, AuthUser};
use crate::http::json::ApiJson;
use crate::state::AppState;

/// The routes of the `Api` tier.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templates", get(list).post(create))
        .route("/templates/{id}", get(read).put(update).delete(remove))
        .route("/templates/{id}/start", post(start))
}

/// The person's templates, by name.
#[utoipa::path(get, path = "/api/templates", tag = "templates", security(("bearer" = [])),
    responses((status = 200, body = Vec<Template>), (status = 401, body = crate::http::openapi::ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
) -> Result<Json<Vec<Template>>, HttpError> {
    Ok(Json(state.services.templates.list(who.user.id).await?))
}

/// Saves a template: a name (1 to 80 characters, not one of yours already, whatever the
/// case), a text of up to 10,000 characters in which `{title}`, `{price}`, `{url}`,
/// `{store}` and `{date}` are filled when a post is started from it, and the accounts and
/// options the post starts with.
#[utoipa::path(post, path = "/api/templates", tag = "templates", security(("bearer" = [])),
    request_body = NewTemplate,
    responses((status = 201, body = Template), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 409, description = "You have a template by that name", body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiJson(body): ApiJson<NewTemplate>,
) -> Result<(StatusCode, Json<Template>), HttpError> {
    let template = state.services.templates.create(who.user.id, body).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// One template, its variables unfilled.
#[utoipa::path(get, path = "/api/templates/{id}", tag = "templates", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Template), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<TemplateId>,
) -> Result<Json<Template>, HttpError> {
    Ok(Json(state.services.templates.get(who.user.id, id).await?))
}

/// Replaces a template's name, text and options.
#[utoipa::path(put, path = "/api/templates/{id}", tag = "templates", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = NewTemplate,
    responses((status = 200, body = Template), (status = 404, body = crate::http::openapi::ErrorBody),
        (status = 409, description = "You have another template by that name", body = crate::http::openapi::ErrorBody),
        (status = 422, body = crate::http::openapi::ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<TemplateId>,
    ApiJson(body): ApiJson<NewTemplate>,
) -> Result<Json<Template>, HttpError> {
    Ok(Json(
        state
            .services
            .templates
            .update(who.user.id, id, body)
            .await?,
    ))
}

/// Deletes a template; posts started from it are not touched.
#[utoipa::path(delete, path = "/api/templates/{id}", tag = "templates", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::http::openapi::ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<TemplateId>,
) -> Result<StatusCode, HttpError> {
    state.services.templates.delete(who.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts from a template: `{date}` becomes today in your time zone and, with `product` (one
/// of your products), `{title}`, `{price}`, `{url}` and `{store}` its own. Accounts that are
/// gone or must be connected again are left out; `notes` says so, and names the product's
/// variables left in the text when no product was given. Nothing is stored: create the post
/// (with `product_id`) or ask for captions with what comes back. The body may be empty.
#[utoipa::path(post, path = "/api/templates/{id}/start", tag = "templates", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), request_body = StartTemplate,
    responses((status = 200, body = TemplateStart), (status = 400, body = crate::http::openapi::ErrorBody),
        (status = 404, description = "No such template, or the product is not yours", body = crate::http::openapi::ErrorBody)))]
async fn start(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<TemplateId>,
    body: axum::body::Bytes,
) -> Result<Json<TemplateStart>, HttpError> {
    // A start without a product needs no body at all.
    let asked: StartTemplate = if body.iter().all(u8::is_ascii_whitespace) {
        StartTemplate::default()
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError::bad_request(format!(
                "The body must be empty or JSON like {{\"product\": \"<product id>\"}}: {error}"
            ))
        })?
    };
    Ok(Json(
        state
            .services
            .templates
            .start(&who.user, id, asked.product)
            .await?,
    ))
}
