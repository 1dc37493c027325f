//! `/`: sends a signed-in user to their home page and a visitor to sign in.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::api::account::HOME_PATH;
use crate::session::use_session;

#[component]
pub fn Home() -> impl IntoView {
    let session = use_session();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let signed_in = matches!(session.user.await, Ok(Some(_)));
                view! { <Redirect path=if signed_in { HOME_PATH } else { "/login" } /> }
            })}
        </Suspense>
    }
}
