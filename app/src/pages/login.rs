//! `/login`: sign in with email and password.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::auth_card::{AuthCard, kept_email};
use crate::components::form::{Field, FormError, field_message, last_error};
use crate::session::use_session;

#[component]
pub fn Login() -> impl IntoView {
    let sign_in = use_session().sign_in;
    let error = last_error(sign_in);
    view! {
        <AuthCard title="Sign in">
            <ActionForm action=sign_in attr:class="form" attr:aria-label="Sign in">
                <Field label="Email" name="email" kind="email" autocomplete="email" required=true
                    value=kept_email() error=field_message(error, "email") />
                <Field label="Password" name="password" kind="password" autocomplete="current-password"
                    required=true error=field_message(error, "password") />
                <FormError error />
                <button type="submit" class="button-primary" disabled=move || sign_in.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p class="auth-switch">"New here? " <A href="/register">"Create an account"</A></p>
        </AuthCard>
    }
}
