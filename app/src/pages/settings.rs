//! `/settings`: display name and time zone (used for scheduling), the password, and the AI
//! Studio's settings: which caption writer writes (with the person's own Gemini key or
//! OpenAI-compatible server, tried with "Test connection") and their brand voice.
//!
//! The Studio's sections are plain forms drawn on the server from what is stored and posted as
//! they are (see `api::studio`): the page carries no wasm for them. Keys are never shown, only
//! whether one is stored.

use leptos::prelude::*;

use leptos_router::hooks::use_query_map;

use crate::api::settings::{ChangePassword, UpdateProfile, time_zones};
use crate::api::studio::{
    MODELS_PARAM, SaveBrandVoice, SaveCaptionWriter, TestCaptionWriter, studio_settings_of,
};
use crate::components::error_notice::ErrorNotice;
use crate::components::form::{Field, FormError, field_message, last_error, posted_error};
use crate::session::use_session;
use crate::types::{ApiError, EmojiDensity, StudioSettings, WriterChoice};

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
                let (zones, problem) = match zones {
                    Ok(zones) => (zones, None),
                    Err(error) => (Vec::new(), Some(view! { <ErrorNotice error /> })),
                };
                Some(view! {
                    {problem}
                    <SettingsForms
                        display_name=user.display_name.map(|name| name.as_str().to_owned()).unwrap_or_default()
                        current_zone=user.time_zone.as_str().to_owned()
                        zones
                        posted_profile={posted_error::<UpdateProfile, _>()}
                        posted_password={posted_error::<ChangePassword, _>()}
                    />
                })
            })}
        </Transition>
        <StudioSections />
    }
}

/// The profile and password forms, one island: each island is a chunk of its own, and every
/// page pays for the shared code cut finer between more chunks. Without the time zones (they
/// failed to load) the profile form is left out.
#[island(lazy)]
fn SettingsForms(
    display_name: String,
    current_zone: String,
    zones: Vec<String>,
    posted_profile: Option<ApiError>,
    posted_password: Option<ApiError>,
) -> impl IntoView {
    let profile = (!zones.is_empty()).then(|| {
        view! { <ProfileForm display_name current_zone zones posted=posted_profile /> }
    });
    view! {
        {profile}
        <PasswordForm posted=posted_password />
    }
}

/// The sidebar shows the name the page was rendered with; it changes on the next page.
#[component]
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

#[component]
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

/// The AI Studio's sections, drawn on the server from what is stored: plain forms, posted as
/// they are, so the page carries no wasm for them.
#[component]
fn StudioSections() -> impl IntoView {
    let settings = Resource::new(|| (), |_| studio_settings_of());
    let query = use_query_map();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let models = query.read_untracked().get(MODELS_PARAM);
                match settings.await {
                    Ok(settings) => view! {
                        <WriterSection settings=settings.clone() models />
                        <VoiceSection settings />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The message of `error` when it is about `field`.
fn about(error: &Option<ApiError>, field: &str) -> Option<String> {
    error
        .as_ref()
        .filter(|error| error.field() == Some(field))
        .map(ApiError::to_string)
}

/// What is said under a field: its error in place of its hint when there is one.
fn field_note(id: &str, hint: &'static str, error: Option<String>) -> AnyView {
    match error {
        Some(message) => {
            view! { <p id=id.to_owned() class="field-error" role="alert">{message}</p> }.into_any()
        }
        None => view! { <p id=id.to_owned() class="field-hint">{hint}</p> }.into_any(),
    }
}

/// A labelled input of a plain form, with its hint, or its error in place of the hint.
#[component]
fn PlainField(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] value: Option<String>,
    #[prop(optional)] placeholder: &'static str,
    hint: &'static str,
    error: Option<String>,
) -> impl IntoView {
    let id = format!("studio-{name}");
    let note_id = format!("{id}-note");
    let invalid = error.is_some().then_some("true");
    let note = field_note(&note_id, hint, error);
    view! {
        <div class="field">
            <label for=id.clone() class="field-label">{label}</label>
            <input id=id name=name type=kind class="field-input" value=value
                placeholder=(!placeholder.is_empty()).then_some(placeholder)
                autocomplete=(kind == "password").then_some("new-password")
                aria-invalid=invalid aria-describedby=note_id />
            {note}
        </div>
    }
}

/// A labelled text area of a plain form, one entry per line (or per block).
#[component]
fn PlainText(
    label: &'static str,
    name: &'static str,
    value: String,
    hint: &'static str,
    error: Option<String>,
) -> impl IntoView {
    let id = format!("studio-{name}");
    let note_id = format!("{id}-note");
    let invalid = error.is_some().then_some("true");
    let note = field_note(&note_id, hint, error);
    view! {
        <div class="field">
            <label for=id.clone() class="field-label">{label}</label>
            <textarea id=id name=name class="field-input" rows="5" aria-invalid=invalid
                aria-describedby=note_id>{value}</textarea>
            {note}
        </div>
    }
}

/// Who writes the captions, with the key, model and address of the writer chosen. "Test
/// connection" posts the same fields to the test, which comes back with the models.
#[component]
fn WriterSection(settings: StudioSettings, models: Option<String>) -> impl IntoView {
    let save = ServerAction::<SaveCaptionWriter>::new();
    let error =
        posted_error::<SaveCaptionWriter, _>().or_else(posted_error::<TestCaptionWriter, _>);
    let stored = |has: bool| if has { "A key is stored" } else { "" };
    let test_path = <TestCaptionWriter as leptos::server_fn::ServerFn>::PATH;
    let other = error.clone().filter(|error| {
        !WRITER_FIELDS.contains(&error.field().unwrap_or_default())
            || error.field() == Some("writer")
    });
    view! {
        <section class="panel" aria-labelledby="writer-title">
            <h2 id="writer-title" class="panel-title">"Caption writer"</h2>
            <ActionForm action=save attr:class="form" attr:aria-labelledby="writer-title">
                <fieldset class="fieldset">
                    <legend class="field-label">"Who writes your captions"</legend>
                    <div class="choice-list">
                        {WriterChoice::ALL.into_iter().map(|choice| view! {
                            <label class="choice">
                                <input type="radio" name="writer" value=choice.as_str() checked=settings.writer == choice />
                                {choice.label()}
                                {(choice == WriterChoice::Auto).then(|| view! {
                                    <span class="field-hint">{format!("\u{2014} on this server: {}", settings.server_writer)}</span>
                                })}
                            </label>
                        }).collect_view()}
                    </div>
                </fieldset>
                <h3 class="field-label">"Google Gemini"</h3>
                <PlainField label="Gemini API key" name="gemini_key" kind="password" placeholder=stored(settings.has_gemini_key)
                    hint="From Google AI Studio. Stored encrypted; leave empty to keep the stored key, or to use this server's."
                    error=about(&error, "gemini_key") />
                {settings.has_gemini_key.then(|| view! {
                    <label class="choice"><input type="checkbox" name="clear_gemini_key" value="on" />"Remove the stored Gemini key"</label>
                })}
                <PlainField label="Gemini model" name="gemini_model" value=settings.gemini_model.clone().unwrap_or_default()
                    hint="Empty: this server's Gemini model (gemini-2.5-flash unless it says otherwise)."
                    error=about(&error, "gemini_model") />
                <PlainField label="Gemini base URL" name="gemini_url" kind="url" value=settings.gemini_url.clone().unwrap_or_default()
                    hint="Empty: Google's (https://generativelanguage.googleapis.com)."
                    error=about(&error, "gemini_url") />
                <h3 class="field-label">"OpenAI-compatible server (Ollama, llama.cpp, vLLM)"</h3>
                <PlainField label="Server base URL" name="openai_url" kind="url" value=settings.openai_url.clone().unwrap_or_default()
                    hint="The address ending in /v1, e.g. http://localhost:11434/v1 for Ollama."
                    error=about(&error, "openai_url") />
                <PlainField label="Server model" name="openai_model" value=settings.openai_model.clone().unwrap_or_default()
                    hint="A model that can see photos, e.g. llava. Test connection lists them."
                    error=about(&error, "openai_model") />
                <PlainField label="Server API key" name="openai_key" kind="password" placeholder=stored(settings.has_openai_key)
                    hint="Only if your server asks for one. Stored encrypted."
                    error=about(&error, "openai_key") />
                {settings.has_openai_key.then(|| view! {
                    <label class="choice"><input type="checkbox" name="clear_openai_key" value="on" />"Remove the stored server key"</label>
                })}
                {other.map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
                {models.map(|models| view! {
                    <p class="form-success" role="status">{format!("Connected. Models: {models}")}</p>
                })}
                <div class="form-actions">
                    <button type="submit" class="button-primary">"Save writer"</button>
                    <button type="submit" class="button-secondary" formaction=test_path>"Test connection"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// How the person writes: sample posts, phrases to avoid and keep, their own words, emoji.
#[component]
fn VoiceSection(settings: StudioSettings) -> impl IntoView {
    let save = ServerAction::<SaveBrandVoice>::new();
    let error = posted_error::<SaveBrandVoice, _>();
    let other = error
        .clone()
        .filter(|error| !VOICE_FIELDS.contains(&error.field().unwrap_or_default()));
    view! {
        <section class="panel" aria-labelledby="voice-title">
            <h2 id="voice-title" class="panel-title">"Brand voice"</h2>
            <ActionForm action=save attr:class="form" attr:aria-labelledby="voice-title">
                <PlainText label="Sample posts" name="voice_samples" value=settings.voice_samples.join("\n\n")
                    hint="Paste a few posts you wrote, each separated by a blank line (up to 20). Captions will sound like them."
                    error=about(&error, "voice_samples") />
                <PlainText label="Words to avoid" name="avoid" value=settings.avoid.join("\n")
                    hint="One per line. Write \u{201c}phrase => replacement\u{201d} to swap a phrase instead of removing it."
                    error=about(&error, "avoid") />
                <PlainText label="Words to keep" name="keep" value=settings.keep.join("\n")
                    hint="One per line: phrases never changed, and missed when a caption leaves them out."
                    error=about(&error, "keep") />
                <PlainText label="My words" name="dictionary" value=settings.dictionary.join("\n")
                    hint="One per line. Brand and product words the proofreader never flags."
                    error=about(&error, "dictionary") />
                <div class="field">
                    <label for="studio-emoji_density" class="field-label">"Emoji"</label>
                    <select id="studio-emoji_density" name="emoji_density" class="field-input field-input-narrow">
                        {EmojiDensity::ALL.into_iter().map(|density| view! {
                            <option value=density.as_str() selected=settings.emoji_density == density>{density.label()}</option>
                        }).collect_view()}
                    </select>
                    <p class="field-hint">"How many emoji a caption may carry; the authenticity pass keeps to it."</p>
                </div>
                {other.map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
                <div class="form-actions">
                    <button type="submit" class="button-primary">"Save brand voice"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The fields the writer section shows errors beside.
const WRITER_FIELDS: &[&str] = &[
    "gemini_key",
    "gemini_model",
    "gemini_url",
    "openai_url",
    "openai_model",
    "openai_key",
];
const VOICE_FIELDS: &[&str] = &["voice_samples", "avoid", "keep", "dictionary"];
