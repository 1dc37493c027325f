//! `/connections`: every platform this installation knows, whether it can be connected, and
//! the user's accounts on it. Connecting sends the browser to the platform's consent page; the
//! platform sends it back here with `?connected=@handle` or `?error=<message>`, or with
//! `?choose=<id>` when the consent gave access to several accounts (a person's Facebook Pages),
//! to choose which to connect.
//!
//! Below the platforms, the online stores (Shopify, Etsy, Squarespace) products are synced from:
//! their callback comes back with `?store_connected=<name>` or `?error=<message>`. While a
//! store's sync runs, its progress is read again every two seconds.

use std::collections::HashSet;
use std::time::Duration;

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::connections::{
    AuthorizeConnection, DisconnectConnection, load_account_choice, load_connections,
};
use crate::api::stores::{AuthorizeStore, DisconnectStore, SyncStore, load_stores};
use crate::components::browser::{go_to, hydrated, initial};
use crate::components::confirm_button::ConfirmButton;
use crate::components::form::{field_message, last_error};
use crate::components::notice::{Notice, Tone};
use crate::components::polling::refresh_while;
use crate::components::timestamp::Timestamp;
use crate::pages::products::count_of;
use crate::types::{
    AccountChoice, Availability, Connection, ConnectionStatus, ConnectionsOverview, Platform,
    PlatformOption, Store, StoreConnection, StoreId, StoreOption, StoresOverview,
};

/// How often the stores are read again while one of them syncs.
const SYNC_REFRESH: Duration = Duration::from_secs(2);
/// The field of the Shopify form that an authorize error can be about.
const SHOP_FIELD: &str = "shop";

#[component]
pub fn Connections() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let connected = query.get("connected");
    let store_connected = query.get("store_connected");
    let refused = query.get("error");
    let choose = query.get("choose");
    view! {
        {choose.map(|id| view! { <ChooseAccounts id /> })}
        <ConnectionsPage connected store_connected refused />
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

/// The page's content, live in the browser: connecting leaves for the platform's (or store's)
/// consent page, disconnecting asks first and then lists the accounts again. The stores are
/// part of this island rather than one of their own: every island adds weight to every page.
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

    let store_authorize = ServerAction::<AuthorizeStore>::new();
    let store_authorize_error = last_error(store_authorize, None);
    let store_actions = StoreActions {
        authorize: store_authorize,
        sync: ServerAction::new(),
        disconnect: ServerAction::new(),
        asking: StoredValue::new(HashSet::new()),
        shop: RwSignal::new(String::new()),
        shop_error: field_message(store_authorize_error, SHOP_FIELD),
        live: hydrated(),
    };
    let store_overview = Resource::new(
        move || {
            (
                store_actions.sync.version().get(),
                store_actions.disconnect.version().get(),
            )
        },
        |_| load_stores(),
    );
    refresh_while(
        move || {
            store_overview.with(|overview| {
                matches!(overview, Some(Ok(overview)) if overview.stores.iter().any(|store| store.sync.running))
            })
        },
        SYNC_REFRESH,
        move || store_overview.refetch(),
    );
    Effect::new(move |_| {
        if let Some(Ok(to)) = store_actions.authorize.value().get() {
            go_to(&to.url);
        }
    });
    // An error about the shop's address shows beside it; every other one here.
    let store_errors = [
        Signal::derive(move || {
            store_authorize_error
                .get()
                .filter(|error| error.field() != Some(SHOP_FIELD))
        }),
        last_error(store_actions.sync, None),
        last_error(store_actions.disconnect, None),
    ];

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
        <section class="stores-section" aria-labelledby="stores-title">
            <header class="page-header">
                <h2 id="stores-title" class="page-title">"Stores"</h2>
                <p class="page-lead">"Products synced from your shops, for posts made from them."</p>
            </header>
            {store_errors
                .into_iter()
                .map(|error| {
                    move || error.get().map(|error| view! { <Notice tone=Tone::Error message=error.to_string() /> })
                })
                .collect_view()}
            <Transition fallback=|| view! { <p class="field-hint">"Loading stores\u{2026}"</p> }>
                {move || Suspend::new(async move {
                    match store_overview.await {
                        Ok(overview) => Either::Left(view! { <StoreList overview actions=store_actions /> }),
                        Err(error) => Either::Right(view! { <Notice tone=Tone::Error message=error.to_string() /> }),
                    }
                })}
            </Transition>
        </section>
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

/// The stores' buttons, and what must outlive a refresh of the list: it is drawn again from the
/// new data every two seconds while a sync runs.
#[derive(Clone, Copy)]
struct StoreActions {
    authorize: ServerAction<AuthorizeStore>,
    sync: ServerAction<SyncStore>,
    disconnect: ServerAction<DisconnectStore>,
    /// The stores whose "Disconnect" is asking its question.
    asking: StoredValue<HashSet<StoreId>>,
    /// The Shopify shop's address as typed.
    shop: RwSignal<String>,
    /// Why that address was refused.
    shop_error: Signal<Option<String>>,
    /// False until the island has hydrated (see [`hydrated`]).
    live: Signal<bool>,
}

#[component]
fn StoreList(overview: StoresOverview, actions: StoreActions) -> impl IntoView {
    let StoresOverview { available, stores } = overview;
    available
        .into_iter()
        .map(|option| {
            let connected: Vec<StoreConnection> = stores
                .iter()
                .filter(|connection| connection.store == option.store)
                .cloned()
                .collect();
            view! { <StoreCard option connected actions /> }
        })
        .collect_view()
}

#[component]
fn StoreCard(
    option: StoreOption,
    connected: Vec<StoreConnection>,
    actions: StoreActions,
) -> impl IntoView {
    let store = option.store;
    let title_id = format!("store-{}", store.as_str());
    let labelled_by = title_id.clone();
    let connect = match (option.configured, store) {
        (false, _) => {
            EitherOf3::A(view! { <p class="platform-note">"Not configured by the operator"</p> })
        }
        (true, Store::Shopify) => EitherOf3::B(view! { <ShopifyConnect actions /> }),
        (true, Store::Etsy | Store::Squarespace) => EitherOf3::C(view! {
            <button
                type="button"
                class="button-primary"
                disabled=move || !actions.live.get() || actions.authorize.pending().get()
                on:click=move |_| {
                    actions.authorize.dispatch(AuthorizeStore { store, shop: None });
                }
            >
                {format!("Connect {store}")}
            </button>
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
                                .map(|connection| view! { <StoreRow connection actions /> })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
    }
}

/// Shopify asks which shop before its consent page: the shop's address, then the button. An
/// address it refuses is explained beside the field.
#[component]
fn ShopifyConnect(actions: StoreActions) -> impl IntoView {
    let error = actions.shop_error;
    view! {
        <form
            class="store-connect"
            aria-label="Connect a Shopify shop"
            novalidate
            on:submit=move |ev| {
                ev.prevent_default();
                let shop = actions.shop.get_untracked().trim().to_owned();
                actions
                    .authorize
                    .dispatch(AuthorizeStore {
                        store: Store::Shopify,
                        shop: (!shop.is_empty()).then_some(shop),
                    });
            }
        >
            <div class="field">
                <label for="store-shop" class="field-label">"Shop address"</label>
                <input
                    id="store-shop"
                    name="shop"
                    type="text"
                    class="field-input"
                    placeholder="your-shop.myshopify.com"
                    autocomplete="off"
                    value=actions.shop.get_untracked()
                    prop:value=move || actions.shop.get()
                    on:input=move |ev| actions.shop.set(event_target_value(&ev))
                    aria-invalid=move || error.get().is_some().then_some("true")
                    aria-describedby=move || error.get().map(|_| "store-shop-message")
                />
                <Show when=move || error.get().is_some()>
                    <p id="store-shop-message" class="field-error" role="alert">{move || error.get()}</p>
                </Show>
            </div>
            <button
                type="submit"
                class="button-primary"
                disabled=move || !actions.live.get() || actions.authorize.pending().get()
            >
                "Connect Shopify"
            </button>
        </form>
    }
}

#[component]
fn StoreRow(connection: StoreConnection, actions: StoreActions) -> impl IntoView {
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
    let asking = disconnect_question(id, actions.asking);
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
            <p class="store-sync" role="status" aria-live="polite">
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
    let shop = (store == Store::Shopify).then_some(account_id.clone());
    view! {
        <li class="account-row store-row">
            <div class="account-who">
                {title}
                <span class="account-handle">{account_id}</span>
                <a
                    class="store-products"
                    href=format!("/products?store={}", id.0)
                    aria-label=format!("{products_text} from {name}")
                >
                    {products_text.clone()}
                </a>
                {progress}
                {failure}
            </div>
            {status}
            <div class="account-actions">
                {needs_reconnect
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="button-primary"
                                aria-label=format!("Reconnect {name}")
                                disabled=move || !actions.live.get() || actions.authorize.pending().get()
                                on:click=move |_| {
                                    actions.authorize.dispatch(AuthorizeStore { store, shop: shop.clone() });
                                }
                            >
                                "Reconnect"
                            </button>
                        }
                    })}
                <button
                    type="button"
                    class=sync_class
                    aria-label=format!("Sync now, {name}")
                    disabled=move || !actions.live.get() || actions.sync.pending().get()
                    on:click=move |_| {
                        actions.sync.dispatch(SyncStore { id, full: false });
                    }
                >
                    "Sync now"
                </button>
                <button
                    type="button"
                    class="button-secondary"
                    aria-label=format!("Full resync, {name}")
                    disabled=move || !actions.live.get() || actions.sync.pending().get()
                    on:click=move |_| {
                        actions.sync.dispatch(SyncStore { id, full: true });
                    }
                >
                    "Full resync"
                </button>
                <ConfirmButton
                    label="Disconnect"
                    aria_label=format!("Disconnect {name}")
                    question=format!(
                        "Disconnect {name}? Its synced products are removed from Picscripterai; posts already made keep their text.",
                    )
                    confirm_label="Yes, disconnect"
                    asking
                    pending=actions.disconnect.pending()
                    on_confirm=Callback::new(move |()| {
                        actions.disconnect.dispatch(DisconnectStore { id });
                    })
                />
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

/// The row's "Disconnect" question, started from (and written back to) the island's record of
/// the stores asking: the row is drawn again on every refresh, and a question must not vanish
/// while the person reads it.
fn disconnect_question(id: StoreId, asking: StoredValue<HashSet<StoreId>>) -> RwSignal<bool> {
    let question = RwSignal::new(asking.with_value(|asking| asking.contains(&id)));
    Effect::new(move |_| {
        let now = question.get();
        asking.update_value(|asking| {
            if now {
                asking.insert(id);
            } else {
                asking.remove(&id);
            }
        });
    });
    question
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
