//! `/settings`: display name and time zone (used for scheduling), and the password.

use leptos::prelude::*;

use crate::api::settings::{ChangePassword, UpdateProfile, time_zones};
use crate::components::error_notice::ErrorNotice;
use crate::components::form::{Field, FormError, field_message, last_error, posted_error};
use crate::session::use_session;
use crate::types::ApiError;

#[component]
pub fn Settings() -> impl IntoView {
    let session = use_session();
    let zones = OnceResource::new(time_zones());
    view! {
        <header class="page-header">
            <h1 class="page-title">"Settings"</h1>
        </header>
        <Transition>
            {move || Suspend::new(async move {
                let zones = zones.await;
                let user = session.user.await.ok().flatten()?;
                let posted = posted_error::<UpdateProfile, _>();
                Some(match zones {
                    Ok(zones) => view! {
                        <ProfileForm
                            display_name=user.display_name.map(|name| name.as_str().to_owned()).unwrap_or_default()
                            current_zone=user.time_zone.as_str().to_owned()
                            zones
                            posted
                        />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                })
            })}
        </Transition>
        <PasswordForm posted={posted_error::<ChangePassword, _>()} />
    }
}

/// The sidebar shows the name the page was rendered with; it changes on the next page.
#[island(lazy)]
fn ProfileForm(
    display_name: String,
    /// The zone the user has now, chosen in the list.
    current_zone: String,
    zones: Vec<String>,
    posted: Option<ApiError>,
) -> impl IntoView {
    let update = ServerAction::<UpdateProfile>::new();
    let error = last_error(update, posted);
    let saved = move || matches!(update.value().get(), Some(Ok(_)));
    let zone_error = field_message(error, "time_zone");
    view! {
        <section class="panel" aria-labelledby="profile-title">
            <h2 id="profile-title" class="panel-title">"Profile"</h2>
            <ActionForm action=update attr:class="form" attr:aria-labelledby="profile-title">
                <Field label="Display name" name="display_name" autocomplete="name"
                    hint="Shown in the app instead of your email." value=display_name
                    error=field_message(error, "display_name") />
                <div class="field">
                    <label for="field-time_zone" class="field-label">"Time zone"</label>
                    <select
                        id="field-time_zone"
                        name="time_zone"
                        class="field-input"
                        aria-describedby="field-time_zone-hint"
                        aria-invalid=move || zone_error.get().is_some().then_some("true")
                    >
                        {zones
                            .into_iter()
                            .map(|zone| {
                                let selected = zone == current_zone;
                                let label = zone.clone();
                                view! { <option value=zone selected=selected>{label}</option> }
                            })
                            .collect_view()}
                    </select>
                    <p id="field-time_zone-hint" class="field-hint">"Posts are scheduled in this time zone."</p>
                    <Show when=move || zone_error.get().is_some()>
                        <p class="field-error" role="alert">{move || zone_error.get()}</p>
                    </Show>
                </div>
                <FormError error />
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=move || update.pending().get()>
                        "Save profile"
                    </button>
                    <Show when=saved>
                        <p class="form-success" role="status">"Profile saved."</p>
                    </Show>
                </div>
            </ActionForm>
        </section>
    }
}

#[island(lazy)]
fn PasswordForm(posted: Option<ApiError>) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = last_error(change, posted);
    let saved = move || matches!(change.value().get(), Some(Ok(_)));
    view! {
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title" class="panel-title">"Password"</h2>
            <ActionForm action=change attr:class="form" attr:aria-labelledby="password-title">
                <Field label="Current password" name="current_password" kind="password"
                    autocomplete="current-password" required=true error=field_message(error, "current_password") />
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                    required=true hint="At least 8 characters. Other devices will be signed out."
                    error=field_message(error, "new_password") />
                <FormError error />
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=move || change.pending().get()>
                        "Change password"
                    </button>
                    <Show when=saved>
                        <p class="form-success" role="status">"Password changed. Other devices are signed out."</p>
                    </Show>
                </div>
            </ActionForm>
        </section>
    }
}
