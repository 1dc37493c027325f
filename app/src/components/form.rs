//! Form pieces: a labelled field that shows its own error, and the form-level error line.
//! Every input gets a `<label for>`; an error is tied to its input by `aria-describedby`.

use leptos::prelude::*;

use crate::types::ApiError;

/// The error of the last submission of `action`, if it failed; before any, `posted`.
///
/// A form posted without JavaScript comes back with its error in the URL. On the server an
/// action picks that error up by itself, but an island's action in the browser cannot see the
/// URL, so the page hands the error to the island (see [`posted_error`]) and both render it.
pub fn last_error<I, O>(
    action: ServerAction<I>,
    posted: Option<ApiError>,
) -> Signal<Option<ApiError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = ApiError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || match action.value().get() {
        Some(result) => result.err(),
        None => posted.clone(),
    })
}

/// The error that a post of `I`'s form without JavaScript left in the URL, read on the server
/// for an island to start with.
pub fn posted_error<I, O>() -> Option<ApiError>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = ApiError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    ServerAction::<I>::new()
        .value()
        .get_untracked()
        .and_then(Result::err)
}

/// The message for `field` out of `error`, if the error is about that field.
pub fn field_message(
    error: Signal<Option<ApiError>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        error
            .get()
            .filter(|error| error.field() == Some(field))
            .map(|error| error.to_string())
    })
}

#[component]
pub fn Field(
    /// The visible label.
    label: &'static str,
    /// The form field name; it must match the server function's argument.
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional, into)] value: Signal<String>,
    #[prop(optional)] required: bool,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
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
                name=name
                type=kind
                class="field-input"
                autocomplete=(!autocomplete.is_empty()).then_some(autocomplete)
                required=required
                value=move || value.get()
                prop:value=move || value.get()
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

/// The message of an error that is not about one field (wrong password, rate limit, outage).
#[component]
pub fn FormError(
    #[prop(into)] error: Signal<Option<ApiError>>,
    /// The fields the form shows errors beside. When given, an error about any other field
    /// shows here, so that no message is lost; by default only errors about no field do.
    #[prop(optional)]
    beside: Option<&'static [&'static str]>,
) -> impl IntoView {
    let message = move || {
        error
            .get()
            .filter(|error| match (error.field(), beside) {
                (None, _) => true,
                (Some(field), Some(beside)) => !beside.contains(&field),
                (Some(_), None) => false,
            })
            .map(|error| error.to_string())
    };
    view! {
        <Show when=move || message().is_some()>
            <p class="form-error" role="alert">{message}</p>
        </Show>
    }
}
