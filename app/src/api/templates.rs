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
/// The query parameters a refused "New template" comes back with, beside its name and text:
/// the accounts chosen (ids, comma-separated) and the product check.
pub const CHOSEN_PARAM: &str = "accounts";
pub const CHECK_PARAM: &str = "check_product";

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

/// The Templates page's "New template" form (a plain form): a name, a text, the accounts a post
/// from it starts with and whether its product is checked before it goes out (a per-account
/// text or option comes with "Save as template" on a post). A refusal comes back with all of
/// it as typed.
#[server(prefix = "/rpc", endpoint = "templates/create")]
pub async fn create_template(
    name: String,
    text: String,
    #[server(default)] account_ids: Vec<String>,
    #[server(default)] check_product: bool,
) -> Result<(), ApiError> {
    let templates = templates();
    let chosen = account_ids.join(",");
    respond_keeping(
        async {
            let who = require_session().await?;
            let saved = templates
                .create(
                    who.user.id,
                    NewTemplate {
                        name: name.clone(),
                        text: text.clone(),
                        options: TemplateOptions {
                            targets: chosen_targets(&account_ids, &[])?,
                            check_product,
                        },
                    },
                )
                .await?;
            redirect_saved(&saved);
            Ok(())
        }
        .await,
        &[
            ("name", &name),
            ("text", &text),
            (CHOSEN_PARAM, &chosen),
            (CHECK_PARAM, if check_product { "true" } else { "false" }),
        ],
    )
}

/// A template's "Edit" form: its name, text, accounts and product check. An account it keeps
/// keeps its own text and options.
#[server(prefix = "/rpc", endpoint = "templates/update")]
pub async fn update_template(
    id: TemplateId,
    name: String,
    text: String,
    #[server(default)] account_ids: Vec<String>,
    #[server(default)] check_product: bool,
) -> Result<(), ApiError> {
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
                        options: TemplateOptions {
                            targets: chosen_targets(&account_ids, &current.options.targets)?,
                            check_product,
                        },
                    },
                )
                .await?;
            redirect_saved(&saved);
            Ok(())
        }
        .await,
    )
}

/// The accounts a form chose, in its order, as a template's targets: one the template had keeps
/// its own text and options, a new one starts with the template's text and no options.
#[cfg(feature = "ssr")]
fn chosen_targets(
    account_ids: &[String],
    current: &[NewTarget],
) -> Result<Vec<NewTarget>, ApiError> {
    account_ids
        .iter()
        .map(|raw| {
            let id = raw.parse().map(crate::types::ConnectionId).map_err(|_| {
                ApiError::validation("account_ids", "Choose accounts from the list.")
            })?;
            Ok(current
                .iter()
                .find(|target| target.connection_id == id)
                .cloned()
                .unwrap_or(NewTarget {
                    connection_id: id,
                    text: None,
                    options: Default::default(),
                }))
        })
        .collect()
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
