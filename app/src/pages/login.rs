//! `/login`: sign in with email and password.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::account::SignIn;
use crate::components::auth_card::{AuthCard, AuthForm, kept_email};
use crate::components::form::{Field, FormError, field_message, last_error, posted_error};
use crate::types::ApiError;

#[component]
pub fn Login() -> impl IntoView {
    view! {
        <AuthCard title="Sign in">
            <AuthForm register=false email=kept_email() posted={posted_error::<SignIn, _>()} />
            <p class="auth-switch">"New here? " <A href="/register">"Create an account"</A></p>
        </AuthCard>
    }
}

/// The form; it also works before the wasm arrives, as a plain post.
#[component]
pub(crate) fn SignInForm(email: String, posted: Option<ApiError>) -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = last_error(sign_in, posted);
    view! {
        <ActionForm action=sign_in attr:class="form" attr:aria-label="Sign in">
            <Field label="Email" name="email" kind="email" autocomplete="email" required=true
                value=email error=field_message(error, "email") />
            <Field label="Password" name="password" kind="password" autocomplete="current-password"
                required=true error=field_message(error, "password") />
            <FormError error />
            <button type="submit" class="button-primary" disabled=move || sign_in.pending().get()>
                "Sign in"
            </button>
        </ActionForm>
    }
}
