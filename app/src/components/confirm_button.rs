//! A button for something that cannot be undone (delete, disconnect): the first press asks,
//! the second does it. A question on the page rather than `window.confirm`, so it reads like
//! the rest of the app, and focus moves to the answer buttons for keyboard users.

use leptos::html;
use leptos::prelude::*;

#[component]
pub fn ConfirmButton(
    /// The visible text of the first button.
    #[prop(into)]
    label: String,
    /// The first button's accessible name, when the text alone is ambiguous on the page
    /// ("Disconnect @ana").
    #[prop(optional, into)]
    aria_label: Option<String>,
    /// What pressing again will do.
    #[prop(into)]
    question: String,
    /// The text of the button that does it.
    #[prop(into)]
    confirm_label: String,
    on_confirm: Callback<()>,
    /// While the thing is being done, the first button is disabled (as it is until the island
    /// holding it has hydrated).
    #[prop(optional, into)]
    pending: Signal<bool>,
    /// Whether the question is showing. Pass a signal owned outside a part of the page that
    /// refreshes, so that a refresh does not withdraw the question.
    #[prop(optional)]
    asking: Option<RwSignal<bool>>,
) -> impl IntoView {
    let asking = asking.unwrap_or_else(|| RwSignal::new(false));
    let hydrated = crate::components::browser::hydrated();
    let first = NodeRef::<html::Button>::new();
    let yes = NodeRef::<html::Button>::new();
    // Focus follows the swap of buttons, or a keyboard user would be left on the page body.
    // After the next frame, when the new button is in the page.
    let ask = move |now: bool| {
        asking.set(now);
        request_animation_frame(move || {
            let target = if now {
                yes.get_untracked()
            } else {
                first.get_untracked()
            };
            if let Some(button) = target {
                let _ = button.focus();
            }
        });
    };
    view! {
        <span class="confirm">
            <Show
                when=move || asking.get()
                fallback=move || {
                    view! {
                        <button
                            type="button"
                            class="button-danger"
                            node_ref=first
                            aria-label=aria_label.clone()
                            disabled=move || !hydrated.get() || pending.get()
                            on:click=move |_| ask(true)
                        >
                            {label.clone()}
                        </button>
                    }
                }
            >
                <span class="confirm-question">{question.clone()}</span>
                <button
                    type="button"
                    class="button-danger"
                    node_ref=yes
                    on:click=move |_| {
                        asking.set(false);
                        on_confirm.run(());
                    }
                >
                    {confirm_label.clone()}
                </button>
                <button type="button" class="button-secondary" on:click=move |_| ask(false)>
                    "Keep"
                </button>
            </Show>
        </span>
    }
}
