//! Server functions of templates: the Templates page's list and its plain forms (new, edit,
//! delete), the post page's "Save as template", and starting the composer or the Studio from
//! one. Each calls the `Templates` port once (saving a post as a template reads the post first).

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::types::{ApiError, PostId, ProductId, Template, TemplateId, TemplateStart};

#[cfg(feature = "ssr")]
use {
    super::ssr::{posts, require_session, respond, respond_keeping, templates},
    crate::types::{NewTarget, NewTemplate, TemplateOptions},
};

/// The query parameter naming the template a form just saved or deleted.
pub const SAVED_PARAM: &str = "saved";
pub const DELETED_PARAM: &str = "deleted";

#[server(prefix = "/rpc", endpoint = "templates/list")]
pub async fn load_templates() -> Result<Vec<Template>, ApiError> {
    let templates = templates();
    respond(
        async {
            let who = require_session().await?;
            templates.list(who.user.id).await
        }
        .await,
    )
}

/// The template made ready for the composer or the Studio: variables filled (from `product`
/// when given), accounts that are gone left out and said so.
#[server(prefix = "/rpc", endpoint = "templates/start", input = Json)]
pub async fn start_template(
    id: TemplateId,
    product: Option<ProductId>,
) -> Result<TemplateStart, ApiError> {
    let templates = templates();
    respond(
        async {
            let who = require_session().await?;
            templates.start(&who.user, id, product).await
        }
        .await,
    )
}

/// The Templates page's "New template" form (a plain form): a name and a text; accounts come
/// with "Save as template" on a post. A refusal comes back with both as typed.
#[server(prefix = "/rpc", endpoint = "templates/create")]
pub async fn create_template(name: String, text: String) -> Result<(), ApiError> {
    let templates = templates();
    respond_keeping(
        async {
            let who = require_session().await?;
            let saved = templates
                .create(
                    who.user.id,
                    NewTemplate {
                        name: name.clone(),
                        text: text.clone(),
                        options: TemplateOptions::default(),
                    },
                )
                .await?;
            redirect_saved(&saved);
            Ok(())
        }
        .await,
        &[("name", &name), ("text", &text)],
    )
}

/// A template's "Edit" form: its name and text; its accounts and options stay.
#[server(prefix = "/rpc", endpoint = "templates/update")]
pub async fn update_template(id: TemplateId, name: String, text: String) -> Result<(), ApiError> {
    let templates = templates();
    respond(
        async {
            let who = require_session().await?;
            let current = templates.get(who.user.id, id).await?;
            let saved = templates
                .update(
                    who.user.id,
                    id,
                    NewTemplate {
                        name,
                        text,
                        options: current.options,
                    },
                )
                .await?;
            redirect_saved(&saved);
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/rpc", endpoint = "templates/delete")]
pub async fn delete_template(id: TemplateId) -> Result<(), ApiError> {
    let templates = templates();
    respond(
        async {
            let who = require_session().await?;
            let name = templates.get(who.user.id, id).await?.name;
            templates.delete(who.user.id, id).await?;
            let query: leptos_router::params::ParamsMap =
                [(DELETED_PARAM, name.to_string())].into_iter().collect();
            leptos_axum::redirect(&format!("/templates{}", query.to_query_string()));
            Ok(())
        }
        .await,
    )
}

/// The post page's "Save as template": the post's text, accounts (each with its own text and
/// options) and product check, under `name`.
#[server(prefix = "/rpc", endpoint = "templates/from-post")]
pub async fn save_post_as_template(post: PostId, name: String) -> Result<(), ApiError> {
    let (posts, templates) = (posts(), templates());
    respond_keeping(
        async {
            let who = require_session().await?;
            let post = posts.get(who.user.id, post).await?;
            let targets = post
                .targets
                .iter()
                .filter_map(|target| {
                    Some(NewTarget {
                        connection_id: target.connection_id?,
                        text: target.text.clone(),
                        options: target.options.clone(),
                    })
                })
                .collect();
            let saved = templates
                .create(
                    who.user.id,
                    NewTemplate {
                        name: name.clone(),
                        text: post.text,
                        options: TemplateOptions {
                            targets,
                            check_product: post.check_product,
                        },
                    },
                )
                .await?;
            redirect_saved(&saved);
            Ok(())
        }
        .await,
        &[("name", &name)],
    )
}

#[cfg(feature = "ssr")]
fn redirect_saved(saved: &Template) {
    let query: leptos_router::params::ParamsMap = [(SAVED_PARAM, saved.name.to_string())]
        .into_iter()
        .collect();
    leptos_axum::redirect(&format!(
        "/templates{}#template-{}",
        query.to_query_string(),
        saved.id.0
    ));
}
