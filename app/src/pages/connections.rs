//! `/connections`: every platform this installation knows, whether it can be connected, and
//! the user's accounts on it. Connecting sends the browser to the platform's consent page; the
//! platform sends it back here with `?connected=@handle` or `?error=<message>`, or with
//! `?choose=<id>` when the consent gave access to several accounts (a person's Facebook Pages),
//! to choose which to connect.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::connections::{
    AuthorizeConnection, DisconnectConnection, load_account_choice, load_connections,
};
use crate::components::browser::{go_to, hydrated, initial};
use crate::components::confirm_button::ConfirmButton;
use crate::components::form::last_error;
use crate::components::notice::{Notice, Tone};
use crate::types::{
    AccountChoice, Availability, Connection, ConnectionStatus, ConnectionsOverview, Platform,
    PlatformOption,
};

#[component]
pub fn Connections() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let connected = query.get("connected");
    let refused = query.get("error");
    let choose = query.get("choose");
    view! {
        {choose.map(|id| view! { <ChooseAccounts id /> })}
        <ConnectionsPage connected refused />
    }
}

/// The accounts one consent gave access to, to choose from: drawn on the server as a plain form
/// that posts to `/rpc/connections/choose`, so it needs no script (and adds none to the page).
#[component]
fn ChooseAccounts(id: String) -> impl IntoView {
    view! {
        <Await future=load_account_choice(id) let:choice>
            {match choice.clone() {
                Ok(choice) => Either::Left(view! { <ChoiceForm choice /> }),
                Err(error) => Either::Right(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
            }}
        </Await>
    }
}

#[component]
fn ChoiceForm(choice: AccountChoice) -> impl IntoView {
    let platform = choice.platform.display_name();
    view! {
        <section class="platform-card" aria-labelledby="choose-title">
            <h2 id="choose-title" class="platform-name">
                {format!("Choose the {platform} accounts to connect")}
            </h2>
            <form method="post" action="/rpc/connections/choose" class="form">
                <input type="hidden" name="id" value=choice.id.to_string() />
                <fieldset class="choice-list">
                    <legend class="field-hint">
                        "Picscripterai posts only to the accounts you choose here."
                    </legend>
                    {choice
                        .accounts
                        .into_iter()
                        .enumerate()
                        .map(|(index, account)| {
                            let name = account
                                .display_name
                                .clone()
                                .unwrap_or_else(|| account.handle.clone());
                            view! {
                                <label class="choice">
                                    <input
                                        type="checkbox"
                                        name=format!("account_ids[{index}]")
                                        value=account.account_id
                                        checked=account.connected
                                    />
                                    <span class="account-name">{name}</span>
                                    <span class="account-handle">{format!("@{}", account.handle)}</span>
                                    {account.connected.then(|| view! { <span class="badge badge-published">"Connected"</span> })}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                <button type="submit" class="button-primary">"Connect the chosen accounts"</button>
            </form>
        </section>
    }
}

/// The page's content, live in the browser: connecting leaves for the platform's consent page,
/// disconnecting asks first and then lists the accounts again.
#[island(lazy)]
fn ConnectionsPage(connected: Option<String>, refused: Option<String>) -> impl IntoView {
    let authorize = ServerAction::<AuthorizeConnection>::new();
    let disconnect = ServerAction::<DisconnectConnection>::new();
    let overview = Resource::new(move || disconnect.version().get(), |_| load_connections());
    // The consent page is another site: the browser leaves the app to get there.
    Effect::new(move |_| {
        if let Some(Ok(to)) = authorize.value().get() {
            go_to(&to.url);
        }
    });
    // Both buttons act through the browser: nothing comes back in the URL.
    let authorize_error = last_error(authorize, None);
    let disconnect_error = last_error(disconnect, None);

    view! {
        <header class="page-header">
            <h1 class="page-title">"Connections"</h1>
            <p class="page-lead">"The accounts Picscripterai posts to."</p>
        </header>
        {connected.map(|handle| view! { <Notice tone=Tone::Success message=format!("Connected {handle}.") /> })}
        {refused.map(|message| view! { <Notice tone=Tone::Error message /> })}
        {move || authorize_error.get().map(|error| view! { <Notice tone=Tone::Error message=error.to_string() /> })}
        {move || disconnect_error.get().map(|error| view! { <Notice tone=Tone::Error message=error.to_string() /> })}
        <Transition fallback=|| view! { <p class="field-hint">"Loading accounts\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => Either::Left(view! { <PlatformList overview authorize disconnect /> }),
                    Err(error) => Either::Right(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn PlatformList(
    overview: ConnectionsOverview,
    authorize: ServerAction<AuthorizeConnection>,
    disconnect: ServerAction<DisconnectConnection>,
) -> impl IntoView {
    let ConnectionsOverview {
        platforms,
        connections,
    } = overview;
    platforms
        .into_iter()
        .map(|option| {
            let accounts: Vec<Connection> = connections
                .iter()
                .filter(|connection| connection.platform == option.platform)
                .cloned()
                .collect();
            view! { <PlatformCard option accounts authorize disconnect /> }
        })
        .collect_view()
}

#[component]
fn PlatformCard(
    option: PlatformOption,
    accounts: Vec<Connection>,
    authorize: ServerAction<AuthorizeConnection>,
    disconnect: ServerAction<DisconnectConnection>,
) -> impl IntoView {
    let hydrated = hydrated();
    let title_id = format!("platform-{}", option.platform.as_str());
    let labelled_by = title_id.clone();
    let platform = option.platform;
    let action = match option.availability {
        Availability::Available => Either::Left(view! {
            <button
                type="button"
                class="button-primary"
                disabled=move || !hydrated.get() || authorize.pending().get()
                on:click=move |_| {
                    authorize.dispatch(AuthorizeConnection { platform });
                }
            >
                {format!("Connect {}", option.name)}
            </button>
        }),
        Availability::NotConfigured => {
            Either::Right(view! { <p class="platform-note">"Not configured by the operator"</p> })
        }
        Availability::ComingSoon => {
            Either::Right(view! { <p class="platform-note">"Coming soon"</p> })
        }
    };
    let has_accounts = !accounts.is_empty();
    view! {
        <section class="platform-card" aria-labelledby=labelled_by>
            <header class="platform-card-header">
                <h2 id=title_id class="platform-name">{option.name.clone()}</h2>
                {action}
            </header>
            {has_accounts
                .then(|| {
                    view! {
                        <ul class="account-list">
                            {accounts
                                .into_iter()
                                .map(|account| view! { <AccountRow account authorize disconnect /> })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
    }
}

#[component]
fn AccountRow(
    account: Connection,
    authorize: ServerAction<AuthorizeConnection>,
    disconnect: ServerAction<DisconnectConnection>,
) -> impl IntoView {
    let hydrated = hydrated();
    let handle = format!("@{}", account.handle);
    let name = account
        .display_name
        .clone()
        .unwrap_or_else(|| handle.clone());
    let platform: Platform = account.platform;
    let id = account.id;
    let needs_reconnect = account.status == ConnectionStatus::NeedsReconnect;
    let initial = initial(&name);
    let avatar =
        view! { <Avatar url=account.avatar_url alt=format!("Avatar of {handle}") initial /> };
    let status = if needs_reconnect {
        Either::Left(view! { <span class="badge badge-failed">"Needs reconnect"</span> })
    } else {
        Either::Right(view! { <span class="badge badge-published">"Active"</span> })
    };
    view! {
        <li class="account-row">
            {avatar}
            <div class="account-who">
                <span class="account-name">{name.clone()}</span>
                <span class="account-handle">{handle.clone()}</span>
            </div>
            {status}
            <div class="account-actions">
                {needs_reconnect
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="button-primary"
                                aria-label=format!("Reconnect {handle}")
                                disabled=move || !hydrated.get() || authorize.pending().get()
                                on:click=move |_| {
                                    authorize.dispatch(AuthorizeConnection { platform });
                                }
                            >
                                "Reconnect"
                            </button>
                        }
                    })}
                <ConfirmButton
                    label="Disconnect"
                    aria_label=format!("Disconnect {handle}")
                    question=format!("Disconnect {handle}? Its scheduled posts will be cancelled.")
                    confirm_label="Yes, disconnect"
                    pending=disconnect.pending()
                    on_confirm=Callback::new(move |()| {
                        disconnect.dispatch(DisconnectConnection { id });
                    })
                />
            </div>
        </li>
    }
}

/// The account's picture over its initial. The picture stays invisible until it has loaded, so
/// one that cannot load (a platform's image host down, say) leaves the initial, not a broken
/// image icon.
#[component]
fn Avatar(url: Option<String>, alt: String, initial: String) -> impl IntoView {
    let loaded = RwSignal::new(false);
    let image = NodeRef::<leptos::html::Img>::new();
    // A picture that loaded before the page became interactive fired `load` unheard.
    Effect::new(move |_| {
        if let Some(image) = image.get()
            && image.complete()
            && image.natural_width() > 0
        {
            loaded.set(true);
        }
    });
    view! {
        <span class="account-avatar">
            <span aria-hidden="true">{initial}</span>
            {url
                .map(|url| {
                    view! {
                        <img
                            class="account-avatar-img"
                            class:account-avatar-img-loaded=move || loaded.get()
                            node_ref=image
                            src=url
                            alt=alt
                            on:load=move |_| loaded.set(true)
                        />
                    }
                })}
        </span>
    }
}
