//! `/`: sends a signed-in user to their home page and a visitor to sign in. When the session
//! cannot be checked (the database is down), it says so with the error's status instead of
//! sending a signed-in user to the sign-in page.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::account::HOME_PATH;
use crate::components::error_notice::ErrorNotice;
use crate::session::use_session;

#[component]
pub fn Home() -> impl IntoView {
    let session = use_session();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match session.user.await {
                    Ok(Some(_)) => view! { <Redirect path=HOME_PATH /> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
