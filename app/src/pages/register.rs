//! `/register`: create an account. The time zone is taken from the browser.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::account::Register as RegisterAccount;
use crate::components::auth_card::{AuthCard, AuthForm, kept_email};
use crate::components::browser;
use crate::components::form::{Field, FormError, field_message, last_error, posted_error};
use crate::types::ApiError;

#[component]
pub fn Register() -> impl IntoView {
    view! {
        <AuthCard title="Create your account">
            <AuthForm register=true email=kept_email() posted={posted_error::<RegisterAccount, _>()} />
            <p class="auth-switch">"Already have an account? " <A href="/login">"Sign in"</A></p>
        </AuthCard>
    }
}

/// The form; it also works before the wasm arrives, as a plain post (the time zone is then UTC
/// until the user picks one in settings).
#[component]
pub(crate) fn RegisterForm(email: String, posted: Option<ApiError>) -> impl IntoView {
    let register = ServerAction::<RegisterAccount>::new();
    let error = last_error(register, posted);
    let time_zone = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(zone) = browser::time_zone() {
            time_zone.set(zone);
        }
    });
    view! {
        <ActionForm action=register attr:class="form" attr:aria-label="Create account">
            <Field label="Email" name="email" kind="email" autocomplete="email" required=true
                value=email error=field_message(error, "email") />
            <Field label="Password" name="password" kind="password" autocomplete="new-password"
                required=true hint="At least 8 characters." error=field_message(error, "password") />
            <input type="hidden" name="time_zone" prop:value=move || time_zone.get() />
            <FormError error />
            <button type="submit" class="button-primary" disabled=move || register.pending().get()>
                "Create account"
            </button>
        </ActionForm>
    }
}
