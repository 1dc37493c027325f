//! The accounts a post goes to: a checkbox per connected account, and for each chosen one an
//! optional text of its own (when one account needs different words, say a mention) and the
//! choices its platform asks for (a Pinterest board).

use leptos::prelude::*;

use crate::components::target_options::{OptionFields, options_form};
use crate::types::{Connection, NewTarget, TargetOptions};

/// One account the draft may go to, and what the user chose for it. The signals live as long
/// as the composer, so typing in one account's text never rebuilds the list.
#[derive(Debug, Clone)]
pub struct TargetChoice {
    pub connection: Connection,
    pub chosen: RwSignal<bool>,
    /// Whether this account gets `text` instead of the post's text.
    pub own: RwSignal<bool>,
    pub text: RwSignal<String>,
    /// The platform's own choices for this account (see `target_options`).
    pub options: RwSignal<TargetOptions>,
    pub fields: OptionFields,
}

impl TargetChoice {
    /// The choice for `connection`, as `earlier` (the same account's target in the post being
    /// edited or reposted, or in the template started from) had it.
    pub fn new(connection: Connection, earlier: Option<&NewTarget>) -> Self {
        let own_text = earlier.and_then(|target| target.text.clone());
        Self {
            connection,
            chosen: RwSignal::new(earlier.is_some()),
            own: RwSignal::new(own_text.is_some()),
            text: RwSignal::new(own_text.unwrap_or_default()),
            options: RwSignal::new(
                earlier
                    .map(|target| target.options.clone())
                    .unwrap_or_default(),
            ),
            fields: OptionFields::new(),
        }
    }

    pub fn handle(&self) -> String {
        format!("@{}", self.connection.handle)
    }

    /// The target to send, if the account is chosen.
    pub fn to_new_target(&self) -> Option<NewTarget> {
        self.chosen.get().then(|| NewTarget {
            connection_id: self.connection.id,
            text: self.own.get().then(|| self.text.get()),
            options: self.options.get(),
        })
    }
}

#[component]
pub fn TargetPicker(
    choices: Vec<TargetChoice>,
    /// An error about the accounts from the last submission.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let none = choices.is_empty();
    view! {
        <fieldset
            class="fieldset"
            aria-describedby=move || error.get().map(|_| "compose-targets-message")
        >
            <legend class="field-label">"Post to"</legend>
            {none
                .then(|| {
                    view! {
                        <p class="field-hint">
                            "No account is connected yet. " <a href="/connections">"Connect an account"</a>
                        </p>
                    }
                })}
            <ul class="choice-list">
                {choices.into_iter().map(|choice| view! { <TargetRow choice /> }).collect_view()}
            </ul>
            <Show when=move || error.get().is_some()>
                <p id="compose-targets-message" class="field-error" role="alert">{move || error.get()}</p>
            </Show>
        </fieldset>
    }
}

#[component]
fn TargetRow(choice: TargetChoice) -> impl IntoView {
    let TargetChoice {
        connection,
        chosen,
        own,
        text,
        options,
        fields,
    } = choice;
    let handle = format!("@{}", connection.handle);
    let label = format!("{handle} on {}", connection.platform.display_name());
    let key = connection.id.0.to_string();
    let id = connection.id;
    // Editing a post whose account is already chosen asks at once.
    Effect::new({
        let handle = handle.clone();
        move |_| {
            if chosen.get() {
                fields.load(id, handle.clone(), options.get_untracked());
            }
        }
    });
    view! {
        <li class="choice-item">
            <label class="choice">
                <input
                    type="checkbox"
                    checked=move || chosen.get()
                    prop:checked=move || chosen.get()
                    on:change=move |ev| chosen.set(event_target_checked(&ev))
                />
                {label}
            </label>
            <Show when=move || chosen.get()>
                <OwnText handle=handle.clone() key=key.clone() own text />
                {options_form(fields, options)}
            </Show>
        </li>
    }
}

/// The switch to an account's own text, and the text.
#[component]
fn OwnText(
    handle: String,
    key: String,
    own: RwSignal<bool>,
    text: RwSignal<String>,
) -> impl IntoView {
    let text_id = format!("compose-own-text-{key}");
    let text_label = format!("Own text for {handle}");
    let initial_text = text.get_untracked();
    view! {
        <div class="choice-detail">
            <label class="choice">
                <input
                    type="checkbox"
                    checked=move || own.get()
                    prop:checked=move || own.get()
                    on:change=move |ev| own.set(event_target_checked(&ev))
                />
                {format!("Different text for {handle}")}
            </label>
            <Show when=move || own.get()>
                <div class="field">
                    <label for=text_id.clone() class="field-label">{text_label.clone()}</label>
                    <textarea
                        id=text_id.clone()
                        class="field-input"
                        rows="4"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                    >
                        {initial_text.clone()}
                    </textarea>
                </div>
            </Show>
        </div>
    }
}
