//! The fixed left sidebar: the product name, the pages that exist, and the account at the
//! bottom (who is signed in, the theme toggle, sign out).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::form::{FormError, last_error};
use crate::components::theme::ThemeToggle;
use crate::session::use_session;
use crate::types::User;

/// Pages a signed-in user can open. A page is listed here only once it works.
const NAV: &[(&str, &str)] = &[
    ("/studio", "AI Studio"),
    ("/compose", "Compose"),
    ("/calendar", "Calendar"),
    ("/posts", "Posts"),
    ("/products", "Products"),
    ("/media", "Media"),
    ("/templates", "Templates"),
    ("/analytics", "Analytics"),
    ("/connections", "Connections"),
    ("/settings", "Settings"),
];

#[component]
pub fn Sidebar(user: User) -> impl IntoView {
    let session = use_session();
    let sign_out_error = last_error(session.sign_out, None);
    let name = user
        .display_name
        .as_ref()
        .map(|name| name.as_str().to_owned());
    view! {
        <aside class="sidebar" aria-label="Sidebar">
            <div class="sidebar-brand">"Picscripterai"</div>
            <nav class="sidebar-nav" aria-label="Main">
                {NAV
                    .iter()
                    .map(|(href, label)| {
                        view! { <A href=*href attr:class="sidebar-link">{*label}</A> }
                    })
                    .collect_view()}
            </nav>
            <div class="sidebar-account">
                <div class="sidebar-user">
                    {name.map(|name| view! { <span class="sidebar-user-name">{name}</span> })}
                    <span class="sidebar-user-email" data-testid="user-email">{user.email.to_string()}</span>
                </div>
                <ThemeToggle />
                <ActionForm action=session.sign_out>
                    <button type="submit" class="sidebar-button">"Sign out"</button>
                    <FormError error=sign_out_error />
                </ActionForm>
            </div>
        </aside>
    }
}
