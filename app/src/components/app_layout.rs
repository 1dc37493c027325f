//! The signed-in frame: the fixed sidebar and the page beside it. Visitors are sent to sign in.
//!
//! The page (`<Outlet/>`) sits outside the `Suspense` that waits for the session: a `Suspense`
//! walks its children once to find their resources and then renders them, so a page inside it
//! was built twice on the server, creating its resources (and calling its server functions)
//! twice. Each page waits for its own data in its own `Suspense`.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};

use crate::components::error_notice::ErrorNotice;
use crate::components::sidebar::Sidebar;
use crate::session::use_session;

#[component]
pub fn AppLayout() -> impl IntoView {
    let session = use_session();
    view! {
        <div class="app-frame">
            <Suspense>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(user)) => view! { <Sidebar user /> }.into_any(),
                        Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error /> }.into_any(),
                    }
                })}
            </Suspense>
            <main id="main" class="app-main">
                <Outlet />
            </main>
        </div>
    }
}
