//! `/studio`: the AI Studio. Photos in (picked, dropped or pasted), accounts and a tone chosen,
//! then one caption per account written and streamed into its editor, held to that platform's
//! limits. Each caption is then the person's: the authenticity pass's changes to accept or
//! revert, the live "sounds human" score, spelling and grammar with one-click fixes, emoji.
//! It leaves through the same pipeline as the composer: post now, schedule, or save a draft.
//! `/studio?from=<post id>` opens an existing post (the Posts page's "Send to Studio"): a post
//! none of whose targets has started is changed in place, any other is posted anew.

use leptos::prelude::*;

use crate::components::browser::go_to;
use crate::components::caption_editor::{CaptionCard, CaptionEditor};
use crate::components::form::{FormError, field_message};
use crate::components::media_picker::{DraftMedia, MediaPicker};
use crate::components::schedule_picker::{SchedulePicker, When};
use crate::components::studio_calls::{Streamed, stream_captions};
use crate::pages::compose::{Begun, DraftSource, ProductCheck, Submission, Submitter, detail_path};
use crate::types::{ApiError, CaptionRequest, Connection, ConnectionId, NewPost, Tone};

/// The fields the Studio shows errors beside; errors about others go to the form's line.
const FIELDS: &[&str] = &[
    "text",
    "targets",
    "schedule",
    "file",
    "media_ids",
    "connection_ids",
];

#[component]
pub fn Studio() -> impl IntoView {
    view! {
        <DraftSource
            title="AI Studio"
            editor=|time_zone, accounts, begun| view! { <StudioDesk time_zone accounts begun /> }
        />
    }
}

/// The desk, the browser's part of the page. A saved post opens its page.
#[island(lazy)]
fn StudioDesk(
    time_zone: String,
    /// The accounts that can be posted to.
    accounts: Vec<Connection>,
    begun: Begun,
) -> impl IntoView {
    let editing = begun.origin.editing();
    let about = begun.about;
    let media = DraftMedia::new(begun.media);
    let (product, check) = (begun.product, RwSignal::new(begun.check_product));
    let cards: Vec<CaptionCard> = accounts
        .into_iter()
        .map(|connection| {
            let earlier = begun
                .targets
                .iter()
                .find(|target| target.connection_id == connection.id)
                .map(|target| (target, begun.text.as_str()));
            CaptionCard::new(connection, earlier).about(product)
        })
        .collect();
    let tone = RwSignal::new(Tone::default());
    let note = RwSignal::new(String::new());
    let writer = RwSignal::new(None::<String>);
    let generate_error = RwSignal::new(None::<ApiError>);
    let writing = RwSignal::new(false);

    let paste = window_event_listener(leptos::ev::paste, move |ev| media.take_pasted(&ev));
    on_cleanup(move || paste.remove());

    // Writes the captions of `chosen` (every chosen account, or one for "Regenerate"), each
    // streamed into its editor.
    let write = {
        let cards = cards.clone();
        move |only: Option<usize>| {
            let targets: Vec<CaptionCard> = cards
                .iter()
                .enumerate()
                .filter(|(index, card)| {
                    only.map_or(card.chosen.get_untracked(), |one| one == *index)
                })
                .map(|(_, card)| card.clone())
                .collect();
            if targets.is_empty() {
                generate_error.set(Some(ApiError::validation(
                    "connection_ids",
                    "Choose at least one account to write for.",
                )));
                return;
            }
            let variant = only.map_or(0, |_| targets[0].next_variant());
            let request = CaptionRequest {
                media_ids: media
                    .items
                    .with_untracked(|items| items.iter().map(|item| item.id).collect()),
                connection_ids: targets.iter().map(|card| card.connection.id).collect(),
                tone: tone.get_untracked(),
                note: Some(note.get_untracked()).filter(|note| !note.trim().is_empty()),
                variant,
                product_id: product,
            };
            generate_error.set(None);
            writing.set(true);
            for card in &targets {
                card.start_writing();
            }
            leptos::task::spawn_local(async move {
                let on_event = {
                    let targets = targets.clone();
                    move |event: Streamed| {
                        let card_of =
                            |id: ConnectionId| targets.iter().find(|card| card.connection.id == id);
                        match event {
                            Streamed::Writer(name) => writer.set(Some(name)),
                            Streamed::Piece(id, text) => card_of(id)
                                .into_iter()
                                .for_each(|card| card.add_piece(&text)),
                            Streamed::Done(id, edits) => card_of(id)
                                .into_iter()
                                .for_each(|card| card.finish(edits.clone())),
                            Streamed::Failed(id, message) => card_of(id)
                                .into_iter()
                                .for_each(|card| card.fail(message.clone())),
                        }
                    }
                };
                let outcome = write_captions(request, Box::new(on_event)).await;
                for card in &targets {
                    card.stop_writing();
                }
                if let Err(error) = outcome {
                    generate_error.set(Some(error));
                }
                writing.set(false);
            });
        }
    };

    // The post goes through the composer's pipeline: each account with its own caption.
    let when = RwSignal::new(When::starting(editing.is_some(), begun.at.is_some()));
    let local = RwSignal::new(begun.at.clone().unwrap_or_default());
    let submit = Action::new(|submission: &Submission| submission.clone().send());
    let submit_error = Signal::derive(move || submit.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(post)) = submit.value().get() {
            go_to(&detail_path(&post));
        }
    });
    let submitter = Submitter::new(editing);
    let send = {
        let cards = cards.clone();
        move || {
            let targets: Vec<_> = cards
                .iter()
                .filter_map(CaptionCard::to_new_target)
                .collect();
            let text = targets
                .iter()
                .find_map(|target| target.text.clone())
                .unwrap_or_default();
            let post = NewPost {
                text,
                media_ids: media
                    .items
                    .with_untracked(|items| items.iter().map(|item| item.id).collect()),
                targets,
                schedule: when.get_untracked().schedule(&local.get_untracked()),
                product_id: product,
                check_product: check.get_untracked(),
            };
            submit.dispatch(submitter.submission(post));
        }
    };

    let none_connected = cards.is_empty();
    let file_error = {
        let (file, media_ids) = (
            field_message(submit_error, "file"),
            field_message(submit_error, "media_ids"),
        );
        let generate = Signal::derive(move || {
            generate_error
                .get()
                .filter(|error| error.field() == Some("media_ids"))
                .map(|error| error.to_string())
        });
        Signal::derive(move || {
            file.get()
                .or_else(|| media_ids.get())
                .or_else(|| generate.get())
        })
    };
    let generate_message = move || {
        generate_error
            .get()
            .filter(|error| error.field() != Some("media_ids"))
            .map(|error| error.to_string())
    };
    let blocked = move || submit.pending().get() || media.uploading() || writing.get();
    let write_all = write.clone();
    let title = if editing.is_some() {
        "AI Studio: edit post"
    } else {
        "AI Studio"
    };

    view! {
        <header class="page-header">
            <h1 class="page-title">{title}</h1>
            <p class="page-lead">"Photos in, a caption per account out, in your words. Every change is yours to keep or undo."</p>
        </header>
        <form
            class="compose studio"
            novalidate
            aria-label="AI Studio"
            on:submit=move |ev| {
                ev.prevent_default();
                send();
            }
        >
            <section class="panel form" aria-labelledby="studio-photos-title">
                <h2 id="studio-photos-title" class="panel-title">"Photos"</h2>
                <MediaPicker media error=file_error />
            </section>
            <section class="panel form" aria-labelledby="studio-brief-title">
                <h2 id="studio-brief-title" class="panel-title">"What to write"</h2>
                {about.map(|about| view! {
                    <p class="field-hint">
                        {format!("About {about}: its description, price, link and tags go to the writer, and the post is checked before it goes out.")}
                    </p>
                })}
                <fieldset class="fieldset">
                    <legend class="field-label">"Write for"</legend>
                    {none_connected.then(|| view! {
                        <p class="field-hint">"No account is connected yet. " <a href="/connections">"Connect an account"</a></p>
                    })}
                    <ul class="choice-list">
                        {cards.iter().map(|card| {
                            let chosen = card.chosen;
                            let label = card.label();
                            view! {
                                <li class="choice-item">
                                    <label class="choice">
                                        <input
                                            type="checkbox"
                                            prop:checked=move || chosen.get()
                                            on:change=move |ev| chosen.set(event_target_checked(&ev))
                                        />
                                        {label}
                                    </label>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </fieldset>
                <div class="field">
                    <label for="studio-tone" class="field-label">"Tone"</label>
                    <select
                        id="studio-tone"
                        class="field-input field-input-narrow"
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            if let Some(chosen) = Tone::ALL.into_iter().find(|tone| tone.value() == value) {
                                tone.set(chosen);
                            }
                        }
                    >
                        {Tone::ALL.into_iter().map(|option| view! {
                            <option value=option.value() selected=move || tone.get() == option>{option.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="studio-note" class="field-label">"Anything to mention (optional)"</label>
                    <input
                        id="studio-note"
                        class="field-input"
                        placeholder="Back in stock, 20 % off this weekend"
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))
                    />
                </div>
                <div class="form-actions">
                    <button
                        type="button"
                        class="button-primary"
                        disabled=blocked
                        on:click=move |_| write_all(None)
                    >
                        {move || if writing.get() { "Writing\u{2026}" } else { "Generate" }}
                    </button>
                    {move || writer.get().map(|name| view! { <p class="field-hint" role="status">{format!("Written by {name}")}</p> })}
                </div>
                <Show when=move || generate_message().is_some()>
                    <p class="field-error" role="alert">{generate_message}</p>
                </Show>
            </section>
            {cards.iter().enumerate().map(|(index, card)| {
                let chosen = card.chosen;
                let card = card.clone();
                let regenerate = {
                    let write = write.clone();
                    Callback::new(move |()| write(Some(index)))
                };
                view! {
                    <Show when=move || chosen.get()>
                        <LazyCaptionEditor card=card.clone() regenerate busy=Signal::derive(move || writing.get()) />
                    </Show>
                }
            }).collect_view()}
            <section class="panel form" aria-labelledby="studio-when-title">
                <h2 id="studio-when-title" class="panel-title">"Publishing"</h2>
                <SchedulePicker when local zone=time_zone error=field_message(submit_error, "schedule") />
                <ProductCheck product check />
                <Show when=move || field_message(submit_error, "targets").get().is_some()>
                    <p class="field-error" role="alert">{move || field_message(submit_error, "targets").get()}</p>
                </Show>
                <Show when=move || field_message(submit_error, "text").get().is_some()>
                    <p class="field-error" role="alert">{move || field_message(submit_error, "text").get()}</p>
                </Show>
                <FormError error=submit_error beside=FIELDS />
                <div class="form-actions">
                    <button type="submit" class="button-primary" disabled=blocked>
                        {move || if submit.pending().get() { "Saving\u{2026}" } else { when.get().submit_label() }}
                    </button>
                </div>
            </section>
        </form>
    }
}

/// An account's caption editor (the authenticity pass, the checks, proofreading, emoji). Its
/// code is the Studio's largest part and is needed only once an account is chosen, so it loads
/// then (a chunk of its own), not with the page.
#[component]
fn LazyCaptionEditor(
    card: CaptionCard,
    regenerate: Callback<()>,
    #[prop(into)] busy: Signal<bool>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="field-hint">"Opening the editor\u{2026}"</p> }>
            {move || {
                let card = card.clone();
                Suspend::new(async move { caption_editor(card, regenerate, busy).await })
            }}
        </Suspense>
    }
}

/// Asks for the captions and reads them as they stream in. The reader and the captions'
/// decoding load when captions are first asked for, not with the page.
#[lazy]
async fn write_captions(
    request: CaptionRequest,
    on_event: Box<dyn Fn(Streamed)>,
) -> Result<(), ApiError> {
    stream_captions(&request, on_event).await
}

#[lazy]
fn caption_editor(card: CaptionCard, regenerate: Callback<()>, busy: Signal<bool>) -> AnyView {
    view! { <CaptionEditor card regenerate busy /> }.into_any()
}

#[cfg(test)]
mod tests {
    use crate::types::Tone;

    #[test]
    fn every_tone_has_its_own_form_value() {
        let values: std::collections::HashSet<_> =
            Tone::ALL.iter().map(|tone| tone.value()).collect();
        assert_eq!(values.len(), Tone::ALL.len());
    }
}
