//! The centred card that the sign-in and register pages sit in. A signed-in visitor is sent
//! straight home. The form is rendered outside the session's `Suspense` on purpose: the
//! session refetches after every sign-in attempt, and a form inside it would be rebuilt empty
//! after a failed one, losing what the user typed.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::account::HOME_PATH;
use crate::pages::login::SignInForm;
use crate::pages::register::RegisterForm;
use crate::session::use_session;
use crate::types::ApiError;

#[component]
pub fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    let session = use_session();
    view! {
        <main class="auth-page">
            <Suspense>
                {move || Suspend::new(async move {
                    matches!(session.user.await, Ok(Some(_)))
                        .then(|| view! { <Redirect path=HOME_PATH /> })
                })}
            </Suspense>
            <section class="auth-card" aria-labelledby="auth-title">
                <p class="auth-brand">"Picscripterai"</p>
                <h1 id="auth-title" class="auth-title">{title}</h1>
                {children()}
            </section>
        </main>
    }
}

/// The email a failed form post without JavaScript sent back in the URL, to fill in again.
pub fn kept_email() -> String {
    use_query_map()
        .read_untracked()
        .get("email")
        .unwrap_or_default()
}

/// The sign-in and the registration form, one island: the two share nearly all their code, and
/// each island is a chunk of its own, with every page paying for the shared code cut finer
/// between more chunks.
#[island(lazy)]
pub fn AuthForm(register: bool, email: String, posted: Option<ApiError>) -> impl IntoView {
    if register {
        view! { <RegisterForm email posted /> }.into_any()
    } else {
        view! { <SignInForm email posted /> }.into_any()
    }
}
