//! The signed-in frame: the fixed sidebar and the page beside it. Visitors are sent to sign in.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};

use crate::components::error_notice::ErrorNotice;
use crate::components::sidebar::Sidebar;
use crate::session::use_session;

#[component]
pub fn AppLayout() -> impl IntoView {
    let session = use_session();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match session.user.await {
                    Ok(Some(user)) => {
                        view! {
                            <div class="app-frame">
                                <Sidebar user />
                                <main id="main" class="app-main">
                                    <Outlet />
                                </main>
                            </div>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
