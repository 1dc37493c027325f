//! `/connections`: every platform this installation knows, whether it can be connected, and
//! the user's accounts on it. Connecting sends the browser to the platform's consent page; the
//! platform sends it back here with `?connected=@handle` or `?error=<message>`, or with
//! `?choose=<id>` when the consent gave access to several accounts (a person's Facebook Pages),
//! to choose which to connect.
//!
//! Below the platforms, the online stores (Shopify, Etsy, Squarespace) products are synced from:
//! their callback comes back with `?store_connected=<name>` or `?error=<message>`. That section
//! is drawn on the server with plain forms, so it adds no code to the page; while a store's
//! sync runs, the page reads itself again every few seconds to show the progress.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::connections::{
    AuthorizeConnection, DisconnectConnection, load_account_choice, load_connections,
};
use crate::api::stores::{
    AuthorizeStore, DISCONNECTED_PARAM, DisconnectStore, SHOP_FIELD, SyncStore, load_stores,
};
use crate::components::browser::{go_to, hydrated, initial};
use crate::components::confirm_button::ConfirmButton;
use crate::components::form::{last_error, posted_error};
use crate::components::notice::{Notice, Tone};
use crate::components::timestamp::Timestamp;
use crate::pages::products::count_of;
use crate::types::{
    AccountChoice, Availability, Connection, ConnectionStatus, ConnectionsOverview, Platform,
    PlatformOption, Store, StoreConnection, StoreOption, StoresOverview,
};

/// How often, in seconds, the page reads itself again while a store syncs.
const SYNC_REFRESH_SECS: u32 = 3;
/// The query parameter counting those reads: each goes to a new address (see [`StoreList`]).
const REFRESH_PARAM: &str = "refresh";

#[component]
pub fn Connections() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let connected = query.get("connected");
    let store_connected = query.get("store_connected");
    let refused = query.get("error");
    let choose = query.get("choose");
    let disconnected = query.get(DISCONNECTED_PARAM);
    let shop = query.get(SHOP_FIELD).unwrap_or_default();
    let refreshes = query
        .get(REFRESH_PARAM)
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    view! {
        {choose.map(|id| view! { <ChooseAccounts id /> })}
        <ConnectionsPage connected store_connected refused />
        <StoresSection disconnected shop refreshes />
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
fn ConnectionsPage(
    connected: Option<String>,
    store_connected: Option<String>,
    refused: Option<String>,
) -> impl IntoView {
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
        {store_connected
            .map(|name| {
                view! { <Notice tone=Tone::Success message=format!("Connected {name}. Its products are syncing.") /> }
            })}
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

/// The stores, drawn on the server: each button is a plain form posting to a server function,
/// which sends the browser back here (or on to the store's consent page). `shop` is the Shopify
/// address a refused connect was typed with, `disconnected` the store a disconnect removed,
/// `refreshes` how many times the page has read itself again for a sync's progress.
#[component]
fn StoresSection(disconnected: Option<String>, shop: String, refreshes: u32) -> impl IntoView {
    let authorize_error = posted_error::<AuthorizeStore, _>();
    // An error about the shop's address shows beside it; every other one at the top.
    let shop_error = authorize_error
        .clone()
        .filter(|error| error.field() == Some(SHOP_FIELD))
        .map(|error| error.to_string());
    let errors = [
        authorize_error.filter(|error| error.field() != Some(SHOP_FIELD)),
        posted_error::<SyncStore, _>(),
        posted_error::<DisconnectStore, _>(),
    ];
    let typed = StoredValue::new((shop, shop_error));
    view! {
        <section class="stores-section" aria-labelledby="stores-title">
            <header class="page-header">
                <h2 id="stores-title" class="page-title">"Stores"</h2>
                <p class="page-lead">"Products synced from your shops, for posts made from them."</p>
            </header>
            {disconnected.map(|name| view! { <Notice tone=Tone::Success message=format!("Disconnected {name}.") /> })}
            {errors
                .into_iter()
                .flatten()
                .map(|error| view! { <Notice tone=Tone::Error message=error.to_string() /> })
                .collect_view()}
            <Await future=load_stores() let:overview>
                {match overview.clone() {
                    Ok(overview) => Either::Left(view! { <StoreList overview typed=typed.get_value() refreshes /> }),
                    Err(error) => Either::Right(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                }}
            </Await>
        </section>
    }
}

/// Each store that can be connected, with the person's shops on it. `typed` is the Shopify form's
/// address and why it was refused, when it was.
#[component]
fn StoreList(
    overview: StoresOverview,
    typed: (String, Option<String>),
    refreshes: u32,
) -> impl IntoView {
    let StoresOverview { available, stores } = overview;
    // A `meta` refresh works wherever it stands in the page, and needs no script. It goes to a
    // new address each time: one differing from the page's only by its `#stores-title` would
    // merely scroll, not load. Browsers replace the history entry, so Back still leaves the page.
    let syncing = stores.iter().any(|store| store.sync.running);
    let refresh = syncing.then(|| {
        let next = refreshes.saturating_add(1);
        let content =
            format!("{SYNC_REFRESH_SECS}; url=/connections?{REFRESH_PARAM}={next}#stores-title");
        view! { <meta http-equiv="refresh" content=content /> }
    });
    let cards = available
        .into_iter()
        .map(|option| {
            let connected: Vec<StoreConnection> = stores
                .iter()
                .filter(|connection| connection.store == option.store)
                .cloned()
                .collect();
            view! { <StoreCard option connected typed=typed.clone() /> }
        })
        .collect_view();
    view! {
        {refresh}
        {cards}
    }
}

#[component]
fn StoreCard(
    option: StoreOption,
    connected: Vec<StoreConnection>,
    typed: (String, Option<String>),
) -> impl IntoView {
    let store = option.store;
    let title_id = format!("store-{}", store.as_str());
    let labelled_by = title_id.clone();
    let connect = match (option.configured, store) {
        (false, _) => {
            EitherOf3::A(view! { <p class="platform-note">"Not configured by the operator"</p> })
        }
        (true, Store::Shopify) => {
            let (shop, error) = typed;
            EitherOf3::B(view! { <ShopifyConnect shop error /> })
        }
        (true, Store::Etsy | Store::Squarespace) => EitherOf3::C(view! {
            <form method="post" action=AUTHORIZE_PATH>
                <input type="hidden" name="store" value=store.as_str() />
                <button type="submit" class="button-primary">{format!("Connect {store}")}</button>
            </form>
        }),
    };
    let has_stores = !connected.is_empty();
    view! {
        <section class="platform-card" aria-labelledby=labelled_by>
            <header class="platform-card-header">
                <h3 id=title_id class="platform-name">{store.display_name()}</h3>
                {connect}
            </header>
            {has_stores
                .then(|| {
                    view! {
                        <ul class="account-list">
                            {connected
                                .into_iter()
                                .map(|connection| view! { <StoreRow connection /> })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
    }
}

const AUTHORIZE_PATH: &str = <AuthorizeStore as leptos::server_fn::ServerFn>::PATH;
const SYNC_PATH: &str = <SyncStore as leptos::server_fn::ServerFn>::PATH;
const DISCONNECT_PATH: &str = <DisconnectStore as leptos::server_fn::ServerFn>::PATH;

/// Shopify asks which shop before its consent page: the shop's address, then the button. An
/// address it refused comes back as typed, with the reason beside it.
#[component]
fn ShopifyConnect(shop: String, error: Option<String>) -> impl IntoView {
    let invalid = error.is_some();
    view! {
        <form method="post" action=AUTHORIZE_PATH class="store-connect" aria-label="Connect a Shopify shop" novalidate>
            <input type="hidden" name="store" value=Store::Shopify.as_str() />
            <div class="field">
                <label for="store-shop" class="field-label">"Shop address"</label>
                <input
                    id="store-shop"
                    name=SHOP_FIELD
                    type="text"
                    class="field-input"
                    placeholder="your-shop.myshopify.com"
                    autocomplete="off"
                    value=shop
                    aria-invalid=invalid.then_some("true")
                    aria-describedby=invalid.then_some("store-shop-message")
                />
                {error.map(|message| view! {
                    <p id="store-shop-message" class="field-error" role="alert">{message}</p>
                })}
            </div>
            <button type="submit" class="button-primary">"Connect Shopify"</button>
        </form>
    }
}

#[component]
fn StoreRow(connection: StoreConnection) -> impl IntoView {
    let StoreConnection {
        id,
        store,
        account_id,
        name,
        url,
        status,
        products,
        sync,
        ..
    } = connection;
    let needs_reconnect = status == ConnectionStatus::NeedsReconnect;
    let id_value = id.0.to_string();
    let title = match url {
        Some(url) => Either::Left(view! {
            <a class="account-name" href=url target="_blank" rel="noopener">
                {name.clone()}
                <span class="sr-only">" (opens in a new tab)"</span>
            </a>
        }),
        None => Either::Right(view! { <span class="account-name">{name.clone()}</span> }),
    };
    let status = if needs_reconnect {
        Either::Left(view! { <span class="badge badge-failed">"Needs reconnect"</span> })
    } else {
        Either::Right(view! { <span class="badge badge-published">"Active"</span> })
    };
    let progress = match (sync.running, sync.last_synced_at) {
        (true, _) => EitherOf3::A(view! {
            <p class="store-sync" role="status">
                {syncing_text(sync.pages_done, sync.products_done)}
            </p>
        }),
        (false, Some(at)) => {
            EitherOf3::B(view! { <p class="store-sync">"Last synced " <Timestamp at /></p> })
        }
        (false, None) => EitherOf3::C(view! { <p class="store-sync">"Not synced yet"</p> }),
    };
    let failure = sync
        .last_error
        .map(|message| view! { <p class="store-sync-error">{message}</p> });
    // Reconnecting comes first when it is needed: a store that refuses us cannot be synced.
    let sync_class = if needs_reconnect {
        "button-secondary"
    } else {
        "button-primary"
    };
    let products_text = count_of(u64::from(products), "product");
    // Shopify asks again which shop: this one.
    let reconnect = needs_reconnect.then(|| {
        let shop = (store == Store::Shopify).then(|| {
            view! { <input type="hidden" name=SHOP_FIELD value=account_id.clone() /> }
        });
        view! {
            <form method="post" action=AUTHORIZE_PATH>
                <input type="hidden" name="store" value=store.as_str() />
                {shop}
                <button type="submit" class="button-primary" aria-label=format!("Reconnect {name}")>
                    "Reconnect"
                </button>
            </form>
        }
    });
    view! {
        <li class="account-row store-row">
            <div class="account-who">
                {title}
                <span class="account-handle">{account_id.clone()}</span>
                <a
                    class="store-products"
                    href=format!("/products?store={id_value}")
                    aria-label=format!("{products_text} from {name}")
                >
                    {products_text.clone()}
                </a>
                {progress}
                {failure}
            </div>
            {status}
            <div class="account-actions">
                {reconnect}
                <form method="post" action=SYNC_PATH>
                    <input type="hidden" name="id" value=id_value.clone() />
                    <button type="submit" class=sync_class aria-label=format!("Sync now, {name}")>
                        "Sync now"
                    </button>
                </form>
                <form method="post" action=SYNC_PATH>
                    <input type="hidden" name="id" value=id_value.clone() />
                    <input type="hidden" name="full" value="true" />
                    <button type="submit" class="button-secondary" aria-label=format!("Full resync, {name}")>
                        "Full resync"
                    </button>
                </form>
                // The question opens in place, without a script: the disclosure is the browser's.
                <details class="confirm">
                    <summary class="button-danger" aria-label=format!("Disconnect {name}")>"Disconnect"</summary>
                    <form method="post" action=DISCONNECT_PATH class="confirm-form">
                        <input type="hidden" name="id" value=id_value />
                        <span class="confirm-question">
                            {format!(
                                "Disconnect {name}? Its synced products are removed from Picscripterai; posts already made keep their text.",
                            )}
                        </span>
                        <button type="submit" class="button-danger">"Yes, disconnect"</button>
                    </form>
                </details>
            </div>
        </li>
    }
}

/// `Syncing… 3 pages, 150 products so far`.
fn syncing_text(pages: u32, products: u32) -> String {
    format!(
        "Syncing\u{2026} {}, {} so far",
        count_of(u64::from(pages), "page"),
        count_of(u64::from(products), "product")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_progress_counts_in_words() {
        assert_eq!(
            syncing_text(1, 0),
            "Syncing\u{2026} 1 page, 0 products so far"
        );
        assert_eq!(
            syncing_text(3, 150),
            "Syncing\u{2026} 3 pages, 150 products so far"
        );
    }
}
