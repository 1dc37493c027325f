//! The live length of a post's text as X counts it (`x_weighted_length`: URLs 23, CJK and
//! emoji 2), computed in the browser with the very function the server checks with.

use leptos::prelude::*;

use crate::types::{X_MAX_WEIGHTED_LENGTH, x_weighted_length};

/// Whether `text` is too long for X.
pub fn too_long_for_x(text: &str) -> bool {
    x_weighted_length(text) > X_MAX_WEIGHTED_LENGTH
}

/// `123/280`, turning into an error with the excess spelled out once the text is too long.
/// `id` lets the text field point at it with `aria-describedby`.
#[component]
pub fn CharCounter(#[prop(into)] id: String, #[prop(into)] text: Signal<String>) -> impl IntoView {
    let length = Memo::new(move |_| text.with(|text| x_weighted_length(text)));
    let over = move || length.get().saturating_sub(X_MAX_WEIGHTED_LENGTH);
    let is_over = move || over() > 0;
    view! {
        <p class="char-count-row">
            <span id=id class="char-count" class:char-count-over=is_over>
                {move || format!("{}/{X_MAX_WEIGHTED_LENGTH}", length.get())}
            </span>
            <Show when=is_over>
                <span class="field-error" role="alert">
                    {move || {
                        let over = over();
                        format!(
                            "{over} character{} too long for X.",
                            if over == 1 { "" } else { "s" },
                        )
                    }}
                </span>
            </Show>
        </p>
    }
}
