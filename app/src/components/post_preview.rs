//! How the post will look on X: the account's name and handle, the text with its line breaks,
//! and the images in X's grid (one, two side by side, three with one tall, four in a square).

use leptos::prelude::*;

use crate::components::browser::initial;
use crate::types::MediaItem;

#[component]
pub fn PostPreview(
    /// The account's display name.
    name: String,
    /// `@handle`, when an account is chosen.
    handle: Option<String>,
    #[prop(into)] text: Signal<String>,
    #[prop(into)] images: Signal<Vec<MediaItem>>,
) -> impl IntoView {
    let initial = initial(&name);
    let label = format!("Preview for {}", handle.as_deref().unwrap_or(&name));
    view! {
        <article class="preview-card" aria-label=label>
            <header class="preview-header">
                <span class="preview-avatar" aria-hidden="true">{initial}</span>
                <span class="preview-name">{name}</span>
                {handle.map(|handle| view! { <span class="preview-handle">{handle}</span> })}
            </header>
            <p class="preview-text">{move || text.get()}</p>
            <Show when=move || images.with(|images| !images.is_empty())>
                <div class=move || format!("preview-grid preview-grid-{}", images.with(Vec::len))>
                    // The thumbnails above already name the images; these repeat them.
                    {move || {
                        images
                            .get()
                            .into_iter()
                            .map(|image| view! { <img class="preview-img" src=image.url alt="" /> })
                            .collect_view()
                    }}
                </div>
            </Show>
        </article>
    }
}
