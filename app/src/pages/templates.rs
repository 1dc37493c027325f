//! `/templates`: saved post texts with variables (`{title}`, `{price}`, `{url}`, `{store}`,
//! `{date}`) and the accounts a post from one starts with. A post or a Studio session starts
//! from one; so does a post about a product, from the Products page. Drawn on the server
//! alone: every button is a plain form or link (no island).

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::connections::load_connections;
use crate::api::templates::{
    CHECK_PARAM, CHOSEN_PARAM, CreateTemplate, DELETED_PARAM, DeleteTemplate, SAVED_PARAM,
    UpdateTemplate, load_templates,
};
use crate::components::form::posted_error;
use crate::components::notice::{Notice, Tone};
use crate::types::{Connection, ConnectionId, DATE_VARIABLE, PRODUCT_VARIABLES, Template};

const CREATE_PATH: &str = <CreateTemplate as leptos::server_fn::ServerFn>::PATH;
const UPDATE_PATH: &str = <UpdateTemplate as leptos::server_fn::ServerFn>::PATH;
const DELETE_PATH: &str = <DeleteTemplate as leptos::server_fn::ServerFn>::PATH;

#[component]
pub fn Templates() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let saved = query.get(SAVED_PARAM);
    let deleted = query.get(DELETED_PARAM);
    // A refused "New template" comes back with what was typed and chosen.
    let typed = Typed {
        name: query.get("name").unwrap_or_default(),
        text: query.get("text").unwrap_or_default(),
        chosen: query
            .get(CHOSEN_PARAM)
            .unwrap_or_default()
            .split(',')
            .filter_map(|id| id.parse().ok().map(ConnectionId))
            .collect(),
        check_product: query.get(CHECK_PARAM).is_none_or(|check| check == "true"),
    };
    let create_error = posted_error::<CreateTemplate, _>();
    let errors = [
        posted_error::<UpdateTemplate, _>(),
        posted_error::<DeleteTemplate, _>(),
    ];
    let templates = OnceResource::new(load_templates());
    let connections = OnceResource::new(load_connections());
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
            {move || {
                let (typed, create_error) = (typed.clone(), create_error.clone());
                Suspend::new(async move {
                    let accounts = match connections.await {
                        Ok(overview) => overview.connections,
                        Err(error) => return EitherOf3::C(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                    };
                    let list = match templates.await {
                        Ok(list) => list,
                        Err(error) => return EitherOf3::C(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                    };
                    let new = view! {
                        <NewTemplate typed accounts=accounts.clone() error=create_error.map(|error| error.to_string()) />
                    };
                    if list.is_empty() {
                        return EitherOf3::A(view! {
                            <p class="empty">
                                "No templates yet. Write one below, or open a post and choose "
                                "\u{201c}Save as template\u{201d}."
                            </p>
                            {new}
                        });
                    }
                    EitherOf3::B(view! {
                        <ul class="template-list">
                            {list
                                .into_iter()
                                .map(|template| view! { <TemplateCard template accounts=accounts.clone() /> })
                                .collect_view()}
                        </ul>
                        {new}
                    })
                })
            }}
        </Suspense>
    }
}

/// What a refused "New template" sent, to show again.
#[derive(Debug, Clone, Default)]
struct Typed {
    name: String,
    text: String,
    chosen: Vec<ConnectionId>,
    check_product: bool,
}

/// A form's accounts: a box for each connected one, ticked when `chosen`; none connected says
/// where to connect one.
#[component]
fn AccountChoices(accounts: Vec<Connection>, chosen: Vec<ConnectionId>) -> impl IntoView {
    if accounts.is_empty() {
        return Either::Left(view! {
            <p class="field-hint">
                "No accounts connected yet. " <a href="/connections">"Connect one"</a>
                " to choose it here."
            </p>
        });
    }
    Either::Right(view! {
        <fieldset class="fieldset">
            <legend class="field-label">"Accounts a post from it starts with"</legend>
            <div class="choice-list">
                {accounts
                    .into_iter()
                    .enumerate()
                    .map(|(index, account)| {
                        let label = format!("@{} on {}", account.handle, account.platform.display_name());
                        view! {
                            <label class="choice">
                                <input
                                    type="checkbox"
                                    name=format!("account_ids[{index}]")
                                    value=account.id.0.to_string()
                                    checked=chosen.contains(&account.id)
                                />
                                {label}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </fieldset>
    })
}

/// The product check's box, as the composer words it.
#[component]
fn ProductCheck(checked: bool) -> impl IntoView {
    view! {
        <label class="choice">
            <input type="checkbox" name="check_product" value="true" checked=checked />
            "Hold a post about a product if it sells out, is archived or changes price before it goes out"
        </label>
    }
}

/// Who a template's post goes to, in words: its accounts by handle, and how many are gone.
fn accounts_line(template: &Template, accounts: &[Connection]) -> String {
    let targets = &template.options.targets;
    if targets.is_empty() {
        return "No accounts chosen".to_owned();
    }
    let named: Vec<String> = targets
        .iter()
        .filter_map(|target| {
            accounts
                .iter()
                .find(|account| account.id == target.connection_id)
        })
        .map(|account| format!("@{} on {}", account.handle, account.platform.display_name()))
        .collect();
    let gone = targets.len() - named.len();
    let mut line = if named.is_empty() {
        String::new()
    } else {
        format!("Posts to {}", named.join(", "))
    };
    if gone > 0 {
        if !line.is_empty() {
            line.push_str("; ");
        }
        line.push_str(&match gone {
            1 => "1 account no longer connected".to_owned(),
            _ => format!("{gone} accounts no longer connected"),
        });
    }
    line
}

#[component]
fn TemplateCard(template: Template, accounts: Vec<Connection>) -> impl IntoView {
    let id = template.id.0.to_string();
    let anchor = format!("template-{id}");
    let title_id = format!("template-title-{id}");
    let labelled_by = title_id.clone();
    let chosen: Vec<ConnectionId> = template
        .options
        .targets
        .iter()
        .map(|target| target.connection_id)
        .collect();
    let check_product = template.options.check_product;
    let accounts_said = accounts_line(&template, &accounts);
    let name = template.name.to_string();
    view! {
        <li class="template-card" id=anchor aria-labelledby=labelled_by>
            <h2 id=title_id class="template-name">{name.clone()}</h2>
            <p class="template-text">{template.text.clone()}</p>
            <p class="template-meta">{accounts_said}</p>
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
                        <AccountChoices accounts chosen />
                        <ProductCheck checked=check_product />
                        <p class="field-hint">"An account kept keeps its own text and options from the post it was saved from."</p>
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

/// A template from scratch: a name, a text, its accounts and the product check. A refusal
/// comes back with all of it as typed and the reason beside the form.
#[component]
fn NewTemplate(typed: Typed, accounts: Vec<Connection>, error: Option<String>) -> impl IntoView {
    let Typed {
        name,
        text,
        chosen,
        check_product,
    } = typed;
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
                <AccountChoices accounts chosen />
                <ProductCheck checked=check_product />
                {error.map(|error| view! { <p id="new-template-error" class="field-error" role="alert">{error}</p> })}
                <button type="submit" class="button-primary">"Save template"</button>
            </form>
        </section>
    }
}
