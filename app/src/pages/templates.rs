//! `/templates`: saved post texts with variables (`{title}`, `{price}`, `{url}`, `{store}`,
//! `{date}`) and the accounts a post from one starts with. A post or a Studio session starts
//! from one; so does a post about a product, from the Products page. Drawn on the server
//! alone: every button is a plain form or link (no island).

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::templates::{
    CreateTemplate, DELETED_PARAM, DeleteTemplate, SAVED_PARAM, UpdateTemplate, load_templates,
};
use crate::components::form::posted_error;
use crate::components::notice::{Notice, Tone};
use crate::pages::products::count_of;
use crate::types::{DATE_VARIABLE, PRODUCT_VARIABLES, Template};

const CREATE_PATH: &str = <CreateTemplate as leptos::server_fn::ServerFn>::PATH;
const UPDATE_PATH: &str = <UpdateTemplate as leptos::server_fn::ServerFn>::PATH;
const DELETE_PATH: &str = <DeleteTemplate as leptos::server_fn::ServerFn>::PATH;

#[component]
pub fn Templates() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let saved = query.get(SAVED_PARAM);
    let deleted = query.get(DELETED_PARAM);
    // A refused "New template" comes back with what was typed.
    let typed = (
        query.get("name").unwrap_or_default(),
        query.get("text").unwrap_or_default(),
    );
    let create_error = posted_error::<CreateTemplate, _>();
    let errors = [
        posted_error::<UpdateTemplate, _>(),
        posted_error::<DeleteTemplate, _>(),
    ];
    let templates = OnceResource::new(load_templates());
    let variables = PRODUCT_VARIABLES
        .iter()
        .chain(std::iter::once(&DATE_VARIABLE))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <header class="page-header">
            <h1 class="page-title">"Templates"</h1>
            <p class="page-lead">
                "Texts you post again and again. "
                {format!("Variables: {variables}. ")}
                "A product fills the first four; "
                <code>{DATE_VARIABLE}</code>
                " is the day the post is made."
            </p>
        </header>
        {saved.map(|name| view! { <Notice tone=Tone::Success message=format!("Saved \u{201c}{name}\u{201d}.") /> })}
        {deleted.map(|name| view! { <Notice tone=Tone::Success message=format!("Deleted \u{201c}{name}\u{201d}.") /> })}
        {errors
            .into_iter()
            .flatten()
            .map(|error| view! { <Notice tone=Tone::Error message=error.to_string() /> })
            .collect_view()}
        <Suspense fallback=|| view! { <p class="field-hint">"Loading templates\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok(list) if list.is_empty() => EitherOf3::A(view! {
                        <p class="empty">
                            "No templates yet. Write one below, or open a post and choose "
                            "\u{201c}Save as template\u{201d}."
                        </p>
                    }),
                    Ok(list) => EitherOf3::B(view! {
                        <ul class="template-list">
                            {list.into_iter().map(|template| view! { <TemplateCard template /> }).collect_view()}
                        </ul>
                    }),
                    Err(error) => EitherOf3::C(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                }
            })}
        </Suspense>
        <NewTemplate typed error=create_error.map(|error| error.to_string()) />
    }
}

#[component]
fn TemplateCard(template: Template) -> impl IntoView {
    let id = template.id.0.to_string();
    let anchor = format!("template-{id}");
    let title_id = format!("template-title-{id}");
    let labelled_by = title_id.clone();
    let accounts = template.options.targets.len();
    let accounts = if accounts == 0 {
        "No accounts chosen".to_owned()
    } else {
        count_of(accounts as u64, "account")
    };
    let name = template.name.to_string();
    view! {
        <li class="template-card" id=anchor aria-labelledby=labelled_by>
            <h2 id=title_id class="template-name">{name.clone()}</h2>
            <p class="template-text">{template.text.clone()}</p>
            <p class="template-meta">{accounts}</p>
            <div class="template-actions">
                <a class="button-primary" href=format!("/compose?template={id}")>"New post"</a>
                <a class="button-secondary" href=format!("/studio?template={id}")>"Open in Studio"</a>
                <a class="button-secondary" href=format!("/products?template={id}")>"Use with a product"</a>
                <details class="confirm">
                    <summary class="button-secondary" aria-label=format!("Edit {name}")>"Edit"</summary>
                    <form method="post" action=UPDATE_PATH class="form">
                        <input type="hidden" name="id" value=id.clone() />
                        <div class="field">
                            <label class="field-label" for=format!("name-{id}")>"Name"</label>
                            <input id=format!("name-{id}") name="name" class="field-input" value=name.clone() maxlength="80" required />
                        </div>
                        <div class="field">
                            <label class="field-label" for=format!("text-{id}")>"Text"</label>
                            <textarea id=format!("text-{id}") name="text" class="field-input" rows="5">{template.text}</textarea>
                        </div>
                        <button type="submit" class="button-primary">"Save changes"</button>
                    </form>
                </details>
                <details class="confirm">
                    <summary class="button-danger" aria-label=format!("Delete {name}")>"Delete"</summary>
                    <form method="post" action=DELETE_PATH class="confirm-form">
                        <input type="hidden" name="id" value=id />
                        <span class="confirm-question">
                            {format!("Delete \u{201c}{name}\u{201d}? Posts made from it stay as they are.")}
                        </span>
                        <button type="submit" class="button-danger">"Yes, delete"</button>
                    </form>
                </details>
            </div>
        </li>
    }
}

/// A template from scratch: a name and a text. A refusal comes back with both as typed and the
/// reason beside the field it is about.
#[component]
fn NewTemplate(typed: (String, String), error: Option<String>) -> impl IntoView {
    let (name, text) = typed;
    view! {
        <section class="panel form" aria-labelledby="new-template-title">
            <h2 id="new-template-title" class="panel-title">"New template"</h2>
            <form method="post" action=CREATE_PATH class="form" novalidate>
                <div class="field">
                    <label class="field-label" for="new-template-name">"Name"</label>
                    <input
                        id="new-template-name"
                        name="name"
                        class="field-input"
                        value=name
                        maxlength="80"
                        aria-invalid=error.is_some().then_some("true")
                        aria-describedby=error.is_some().then_some("new-template-error")
                    />
                </div>
                <div class="field">
                    <label class="field-label" for="new-template-text">"Text"</label>
                    <textarea id="new-template-text" name="text" class="field-input" rows="5">{text}</textarea>
                    <p class="field-hint">"New in our shop: {title}, {price}. {url}"</p>
                </div>
                {error.map(|error| view! { <p id="new-template-error" class="field-error" role="alert">{error}</p> })}
                <button type="submit" class="button-primary">"Save template"</button>
            </form>
        </section>
    }
}
