//! `/settings`: display name and time zone (used for scheduling), the password, and the AI
//! Studio's settings: which caption writer writes (with the person's own Gemini key or
//! OpenAI-compatible server, tried with "Test connection") and their brand voice.
//!
//! The Studio's settings have no server function: their islands load and save them through the
//! REST API (`/api/studio/settings`) from the browser, so they show "Loading…" until then. A
//! save sends every setting (the API replaces them all), so each section first reads what is
//! stored and changes only its own part; keys are never sent back, only whether one is stored.

use leptos::prelude::*;

use crate::api::settings::{ChangePassword, UpdateProfile, time_zones};
use crate::components::error_notice::ErrorNotice;
use crate::components::form::{Field, FormError, field_message, last_error, posted_error};
use crate::components::rest::send_json;
use crate::session::use_session;
use crate::types::{
    ApiError, EmojiDensity, StudioSettings, StudioSettingsUpdate, WriterChoice, WriterModels,
    WriterTest,
};

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
        // Each form's view type is deep; erased, the page's stays within the compiler's limits.
        {view! { <CaptionWriterForm /> }.into_any()}
        {view! { <BrandVoiceForm /> }.into_any()}
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

const SETTINGS_PATH: &str = "/api/studio/settings";
/// The fields the writer section shows errors beside; errors about others go to its line.
const WRITER_FIELDS: &[&str] = &[
    "writer",
    "gemini_key",
    "gemini_model",
    "gemini_url",
    "openai_url",
    "openai_model",
    "openai_key",
];
const VOICE_FIELDS: &[&str] = &[
    "voice_samples",
    "avoid",
    "keep",
    "dictionary",
    "emoji_density",
];

async fn stored_settings() -> Result<StudioSettings, ApiError> {
    send_json("GET", SETTINGS_PATH, None::<&()>).await
}

/// Reads what is stored, lets `change` make its part of the update, and saves.
async fn save_settings(
    change: impl FnOnce(StudioSettingsUpdate) -> StudioSettingsUpdate,
) -> Result<StudioSettings, ApiError> {
    let update = change(unchanged(stored_settings().await?));
    send_json("PUT", SETTINGS_PATH, Some(&update)).await
}

/// An update that leaves `settings` as they are (keys kept): what a section changes its own
/// part of.
fn unchanged(settings: StudioSettings) -> StudioSettingsUpdate {
    StudioSettingsUpdate {
        writer: settings.writer,
        gemini_model: settings.gemini_model,
        gemini_url: settings.gemini_url,
        gemini_key: None,
        clear_gemini_key: false,
        openai_url: settings.openai_url,
        openai_model: settings.openai_model,
        openai_key: None,
        clear_openai_key: false,
        voice_samples: settings.voice_samples,
        avoid: settings.avoid,
        keep: settings.keep,
        dictionary: settings.dictionary,
        emoji_density: settings.emoji_density,
    }
}

/// What was typed, or none when nothing was.
fn typed(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

/// Sample posts as typed: one per block of lines, blocks separated by a blank line.
fn split_samples(text: &str) -> Vec<String> {
    let mut samples = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                samples.push(block.join("\n"));
                block.clear();
            }
        } else {
            block.push(line.trim_end());
        }
    }
    if !block.is_empty() {
        samples.push(block.join("\n"));
    }
    samples
}

/// One entry per line, blank lines dropped.
fn split_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where a section's settings stand before it can show them.
#[component]
fn SettingsLoading(error: RwSignal<Option<ApiError>>) -> impl IntoView {
    move || match error.get() {
        Some(problem) => {
            view! { <p class="form-error" role="alert">{problem.to_string()}</p> }.into_any()
        }
        None => view! { <p class="field-hint" role="status">"Loading\u{2026}"</p> }.into_any(),
    }
}

/// A text input bound to `value`, with its label, hint and error, tied together as
/// [`Field`] ties them for forms posted as they are.
#[component]
fn BoundField(
    label: &'static str,
    /// The setting it edits: its id, and the field its errors name.
    name: &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional, into)] placeholder: Signal<String>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("studio-{name}");
    let message_id = format!("{id}-message");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let (message_id, hint_id) = (message_id.clone(), hint_id.clone());
        move || match (error.get().is_some(), hint.is_empty()) {
            (true, _) => Some(message_id.clone()),
            (false, false) => Some(hint_id.clone()),
            (false, true) => None,
        }
    };
    view! {
        <div class="field">
            <label for=id.clone() class="field-label">{label}</label>
            <input
                id=id
                type=kind
                class="field-input"
                autocomplete=autocomplete
                spellcheck="false"
                placeholder=move || Some(placeholder.get()).filter(|text| !text.is_empty())
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
            />
            <Show when=move || !hint.is_empty() && error.get().is_none()>
                <p id=hint_id.clone() class="field-hint">{hint}</p>
            </Show>
            <Show when=move || error.get().is_some()>
                <p id=message_id.clone() class="field-error" role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// A textarea bound to `value`, as [`BoundField`].
#[component]
fn BoundText(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    rows: &'static str,
    hint: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("studio-{name}");
    let message_id = format!("{id}-message");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let (message_id, hint_id) = (message_id.clone(), hint_id.clone());
        move || {
            if error.get().is_some() {
                message_id.clone()
            } else {
                hint_id.clone()
            }
        }
    };
    view! {
        <div class="field">
            <label for=id.clone() class="field-label">{label}</label>
            <textarea
                id=id
                class="field-input"
                rows=rows
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
            ></textarea>
            <Show when=move || error.get().is_none()>
                <p id=hint_id.clone() class="field-hint">{hint}</p>
            </Show>
            <Show when=move || error.get().is_some()>
                <p id=message_id.clone() class="field-error" role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}

/// Which caption writer writes, with the person's own Gemini key or OpenAI-compatible server;
/// "Test connection" lists the models the writer offers, or says what is wrong.
#[island(lazy)]
fn CaptionWriterForm() -> impl IntoView {
    let ready = RwSignal::new(false);
    let load_error = RwSignal::new(None::<ApiError>);
    let server_writer = RwSignal::new(String::new());
    let has_gemini_key = RwSignal::new(false);
    let has_openai_key = RwSignal::new(false);
    let writer = RwSignal::new(WriterChoice::Auto);
    let gemini_key = RwSignal::new(String::new());
    let clear_gemini_key = RwSignal::new(false);
    let gemini_model = RwSignal::new(String::new());
    let gemini_url = RwSignal::new(String::new());
    let openai_url = RwSignal::new(String::new());
    let openai_model = RwSignal::new(String::new());
    let openai_key = RwSignal::new(String::new());
    let clear_openai_key = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let models = RwSignal::new(None::<WriterModels>);

    // Shows stored settings; typed keys are cleared, as they are stored now.
    let show = move |settings: StudioSettings| {
        server_writer.set(settings.server_writer);
        has_gemini_key.set(settings.has_gemini_key);
        has_openai_key.set(settings.has_openai_key);
        writer.set(settings.writer);
        gemini_model.set(settings.gemini_model.unwrap_or_default());
        gemini_url.set(settings.gemini_url.unwrap_or_default());
        openai_url.set(settings.openai_url.unwrap_or_default());
        openai_model.set(settings.openai_model.unwrap_or_default());
        for key in [gemini_key, openai_key] {
            key.set(String::new());
        }
        for clear in [clear_gemini_key, clear_openai_key] {
            clear.set(false);
        }
    };
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match stored_settings().await {
                Ok(settings) => {
                    show(settings);
                    ready.set(true);
                }
                Err(problem) => load_error.set(Some(problem)),
            }
        });
    });

    let save = move || {
        error.set(None);
        saved.set(false);
        busy.set(true);
        let change = move |stored: StudioSettingsUpdate| StudioSettingsUpdate {
            writer: writer.get_untracked(),
            gemini_model: typed(gemini_model.get_untracked()),
            gemini_url: typed(gemini_url.get_untracked()),
            gemini_key: typed(gemini_key.get_untracked()),
            clear_gemini_key: clear_gemini_key.get_untracked(),
            openai_url: typed(openai_url.get_untracked()),
            openai_model: typed(openai_model.get_untracked()),
            openai_key: typed(openai_key.get_untracked()),
            clear_openai_key: clear_openai_key.get_untracked(),
            ..stored
        };
        leptos::task::spawn_local(async move {
            let result = save_settings(change).await;
            busy.set(false);
            match result {
                Ok(settings) => {
                    show(settings);
                    saved.set(true);
                }
                Err(problem) => error.set(Some(problem)),
            }
        });
    };
    let test = move || {
        error.set(None);
        models.set(None);
        busy.set(true);
        let request = WriterTest {
            writer: writer.get_untracked(),
            gemini_model: typed(gemini_model.get_untracked()),
            gemini_url: typed(gemini_url.get_untracked()),
            gemini_key: typed(gemini_key.get_untracked()),
            openai_url: typed(openai_url.get_untracked()),
            openai_model: typed(openai_model.get_untracked()),
            openai_key: typed(openai_key.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            let result =
                send_json::<WriterModels>("POST", "/api/studio/writer/test", Some(&request)).await;
            busy.set(false);
            match result {
                Ok(found) => models.set(Some(found)),
                Err(problem) => error.set(Some(problem)),
            }
        });
    };

    let error_signal: Signal<Option<ApiError>> = error.into();
    let message = move |field: &'static str| field_message(error_signal, field);
    let writer_error = message("writer");
    let stored = |has: RwSignal<bool>| {
        Signal::derive(move || {
            if has.get() {
                "stored".to_owned()
            } else {
                String::new()
            }
        })
    };
    view! {
        <section class="panel" aria-labelledby="writer-title">
            <h2 id="writer-title" class="panel-title">"Caption writer"</h2>
            <Show when=move || ready.get() fallback=move || view! { <SettingsLoading error=load_error /> }>
                <form
                    class="form"
                    novalidate
                    aria-labelledby="writer-title"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        save();
                    }
                >
                    <fieldset class="fieldset">
                        <legend class="field-label">"Who writes your captions"</legend>
                        <div class="choice-list">
                            {WriterChoice::ALL
                                .into_iter()
                                .map(|choice| {
                                    view! {
                                        <label class="choice">
                                            <input
                                                type="radio"
                                                name="writer"
                                                value=choice.as_str()
                                                prop:checked=move || writer.get() == choice
                                                on:change=move |_| {
                                                    writer.set(choice);
                                                    models.set(None);
                                                }
                                            />
                                            {choice.label()}
                                            {(choice == WriterChoice::Auto)
                                                .then(|| {
                                                    view! {
                                                        <span class="field-hint">
                                                            {move || format!("\u{2014} now {}", server_writer.get())}
                                                        </span>
                                                    }
                                                })}
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </div>
                    </fieldset>
                    <Show when=move || writer.get() == WriterChoice::Gemini>
                        <BoundField label="Gemini API key" name="gemini_key" value=gemini_key kind="password"
                            autocomplete="new-password" placeholder=stored(has_gemini_key)
                            hint="From Google AI Studio. Stored encrypted; leave empty to keep the stored key, or to use this server's."
                            error=message("gemini_key") />
                        <Show when=move || has_gemini_key.get()>
                            <label class="choice">
                                <input
                                    type="checkbox"
                                    prop:checked=move || clear_gemini_key.get()
                                    on:change=move |ev| clear_gemini_key.set(event_target_checked(&ev))
                                />
                                "Remove stored key"
                            </label>
                        </Show>
                        <BoundField label="Model" name="gemini_model" value=gemini_model
                            hint="Empty: this server's Gemini model (gemini-2.5-flash unless it says otherwise)."
                            error=message("gemini_model") />
                        <BoundField label="Base URL" name="gemini_url" value=gemini_url kind="url"
                            hint="Empty: Google's (https://generativelanguage.googleapis.com)."
                            error=message("gemini_url") />
                    </Show>
                    <Show when=move || writer.get() == WriterChoice::OpenAi>
                        <BoundField label="Base URL" name="openai_url" value=openai_url kind="url"
                            hint="The address ending in /v1, e.g. http://localhost:11434/v1 for Ollama."
                            error=message("openai_url") />
                        <BoundField label="Model" name="openai_model" value=openai_model
                            hint="A model that can see photos, e.g. llava. Test connection lists them."
                            error=message("openai_model") />
                        <BoundField label="API key" name="openai_key" value=openai_key kind="password"
                            autocomplete="new-password" placeholder=stored(has_openai_key)
                            hint="Only if your server asks for one. Stored encrypted."
                            error=message("openai_key") />
                        <Show when=move || has_openai_key.get()>
                            <label class="choice">
                                <input
                                    type="checkbox"
                                    prop:checked=move || clear_openai_key.get()
                                    on:change=move |ev| clear_openai_key.set(event_target_checked(&ev))
                                />
                                "Remove stored key"
                            </label>
                        </Show>
                    </Show>
                    <Show when=move || writer_error.get().is_some()>
                        <p class="field-error" role="alert">{move || writer_error.get()}</p>
                    </Show>
                    {move || {
                        models
                            .get()
                            .map(|found| {
                                let said = if found.models.is_empty() {
                                    format!("{} answered, but offers no models.", found.writer)
                                } else {
                                    format!("{} answered. Its models: {}.", found.writer, found.models.join(", "))
                                };
                                view! { <p class="form-success" role="status">{said}</p> }
                            })
                    }}
                    <FormError error=error_signal beside=WRITER_FIELDS />
                    <div class="form-actions">
                        <button type="button" class="button-secondary" disabled=move || busy.get() on:click=move |_| test()>
                            "Test connection"
                        </button>
                        <button type="submit" class="button-primary" disabled=move || busy.get()>
                            "Save writer"
                        </button>
                        <Show when=move || saved.get()>
                            <p class="form-success" role="status">"Writer saved."</p>
                        </Show>
                    </div>
                </form>
            </Show>
        </section>
    }
}

/// The person's brand voice: sample posts the writers imitate, phrases to avoid and to keep,
/// their own words, and how many emoji they like.
#[island(lazy)]
fn BrandVoiceForm() -> impl IntoView {
    let ready = RwSignal::new(false);
    let load_error = RwSignal::new(None::<ApiError>);
    let samples = RwSignal::new(String::new());
    let avoid = RwSignal::new(String::new());
    let keep = RwSignal::new(String::new());
    let dictionary = RwSignal::new(String::new());
    let density = RwSignal::new(EmojiDensity::default());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let saved = RwSignal::new(false);

    let show = move |settings: StudioSettings| {
        samples.set(settings.voice_samples.join("\n\n"));
        avoid.set(settings.avoid.join("\n"));
        keep.set(settings.keep.join("\n"));
        dictionary.set(settings.dictionary.join("\n"));
        density.set(settings.emoji_density);
    };
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match stored_settings().await {
                Ok(settings) => {
                    show(settings);
                    ready.set(true);
                }
                Err(problem) => load_error.set(Some(problem)),
            }
        });
    });

    let save = move || {
        error.set(None);
        saved.set(false);
        busy.set(true);
        let change = move |stored: StudioSettingsUpdate| StudioSettingsUpdate {
            voice_samples: split_samples(&samples.get_untracked()),
            avoid: split_lines(&avoid.get_untracked()),
            keep: split_lines(&keep.get_untracked()),
            dictionary: split_lines(&dictionary.get_untracked()),
            emoji_density: density.get_untracked(),
            ..stored
        };
        leptos::task::spawn_local(async move {
            let result = save_settings(change).await;
            busy.set(false);
            match result {
                Ok(settings) => {
                    show(settings);
                    saved.set(true);
                }
                Err(problem) => error.set(Some(problem)),
            }
        });
    };

    let error_signal: Signal<Option<ApiError>> = error.into();
    let message = move |field: &'static str| field_message(error_signal, field);
    let density_error = message("emoji_density");
    view! {
        <section class="panel" aria-labelledby="voice-title">
            <h2 id="voice-title" class="panel-title">"Brand voice"</h2>
            <Show when=move || ready.get() fallback=move || view! { <SettingsLoading error=load_error /> }>
                <form
                    class="form"
                    novalidate
                    aria-labelledby="voice-title"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        save();
                    }
                >
                    <BoundText label="Sample posts" name="voice_samples" value=samples rows="10"
                        hint="Paste a few posts you wrote, each separated by a blank line (up to 20). Captions will sound like them."
                        error=message("voice_samples") />
                    <BoundText label="Words to avoid" name="avoid" value=avoid rows="5"
                        hint="One per line. Write \u{201c}phrase => replacement\u{201d} to swap a phrase instead of removing it."
                        error=message("avoid") />
                    <BoundText label="Words to keep" name="keep" value=keep rows="5"
                        hint="One per line: phrases never changed, and missed when a caption leaves them out."
                        error=message("keep") />
                    <BoundText label="My words" name="dictionary" value=dictionary rows="5"
                        hint="One per line. Brand and product words the proofreader never flags."
                        error=message("dictionary") />
                    <div class="field">
                        <label for="studio-emoji_density" class="field-label">"Emoji"</label>
                        <select
                            id="studio-emoji_density"
                            class="field-input field-input-narrow"
                            aria-describedby="studio-emoji_density-hint"
                            aria-invalid=move || density_error.get().is_some().then_some("true")
                            on:change=move |ev| {
                                density.set(EmojiDensity::parse(&event_target_value(&ev)).unwrap_or_default())
                            }
                        >
                            {EmojiDensity::ALL
                                .into_iter()
                                .map(|choice| {
                                    view! {
                                        <option value=choice.as_str() prop:selected=move || density.get() == choice>
                                            {choice.label()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <p id="studio-emoji_density-hint" class="field-hint">"How many emoji a caption may carry."</p>
                        <Show when=move || density_error.get().is_some()>
                            <p class="field-error" role="alert">{move || density_error.get()}</p>
                        </Show>
                    </div>
                    <FormError error=error_signal beside=VOICE_FIELDS />
                    <div class="form-actions">
                        <button type="submit" class="button-primary" disabled=move || busy.get()>
                            "Save brand voice"
                        </button>
                        <Show when=move || saved.get()>
                            <p class="form-success" role="status">"Brand voice saved."</p>
                        </Show>
                    </div>
                </form>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_posts_are_the_blocks_between_blank_lines() {
        let typed = "First post,\nsecond line.  \n\n \nSecond post.\n\n";
        assert_eq!(
            split_samples(typed),
            ["First post,\nsecond line.", "Second post."]
        );
        assert_eq!(
            split_samples(&split_samples(typed).join("\n\n")),
            split_samples(typed)
        );
        assert!(split_samples("\n \n").is_empty());
    }

    #[test]
    fn lists_are_one_entry_a_line_without_blank_lines() {
        assert_eq!(
            split_lines(" elevate => lift \n\n  synergy\n"),
            ["elevate => lift", "synergy"]
        );
    }

    #[test]
    fn an_unchanged_update_keeps_the_keys_and_everything_else() {
        let settings = StudioSettings {
            writer: WriterChoice::OpenAi,
            gemini_model: None,
            gemini_url: None,
            has_gemini_key: true,
            openai_url: Some("http://localhost:11434/v1".into()),
            openai_model: Some("llava".into()),
            has_openai_key: true,
            voice_samples: vec!["A post.".into()],
            avoid: Vec::new(),
            keep: vec!["handmade".into()],
            dictionary: Vec::new(),
            emoji_density: EmojiDensity::Lively,
            server_writer: "the basic writer".into(),
        };
        let update = unchanged(settings);
        assert_eq!(update.gemini_key, None);
        assert!(!update.clear_gemini_key && !update.clear_openai_key);
        assert_eq!(update.openai_model.as_deref(), Some("llava"));
        assert_eq!(update.keep, ["handmade"]);
        assert!(update.checked().is_ok());
    }
}
