//! The images of a post being composed: picked with the file chooser, dropped onto the zone or
//! pasted, each uploaded at once to the media library, then shown as thumbnails that can be
//! reordered and removed. A failed upload says why and leaves the rest of the draft alone.

use leptos::prelude::*;

use crate::types::MediaItem;

/// X takes up to four images per post.
pub const MAX_IMAGES: usize = 4;
/// What the media library accepts (it checks the content, not this list).
pub const ACCEPTED_TYPES: &str = "image/jpeg,image/png,image/webp,image/gif";

/// A draft's images, in order, and the uploads still under way.
#[derive(Debug, Clone, Copy)]
pub struct DraftImages {
    pub items: RwSignal<Vec<MediaItem>>,
    uploading: RwSignal<usize>,
    /// Why the last upload (or the last batch) was refused.
    pub error: RwSignal<Option<String>>,
}

impl DraftImages {
    pub fn new(items: Vec<MediaItem>) -> Self {
        Self {
            items: RwSignal::new(items),
            uploading: RwSignal::new(0),
            error: RwSignal::new(None),
        }
    }

    pub fn uploading(self) -> bool {
        self.uploading.get() > 0
    }

    /// How many more images fit, counting the uploads under way.
    #[cfg(feature = "hydrate")]
    fn room(self) -> usize {
        MAX_IMAGES
            .saturating_sub(self.items.with_untracked(Vec::len) + self.uploading.get_untracked())
    }

    /// Moves image `index` one place towards the start (`earlier`) or the end.
    fn shift(self, index: usize, earlier: bool) {
        self.items.update(|items| {
            let other = if earlier {
                index.checked_sub(1)
            } else {
                Some(index + 1).filter(|next| *next < items.len())
            };
            if let Some(other) = other {
                items.swap(index, other);
            }
        });
    }

    fn remove(self, index: usize) {
        self.items.update(|items| {
            if index < items.len() {
                items.remove(index);
            }
        });
    }

    /// Takes the images out of a paste (a screenshot, say). A paste of text is left to the
    /// text field.
    pub fn take_pasted(self, ev: &leptos::ev::ClipboardEvent) {
        #[cfg(feature = "hydrate")]
        {
            let files = images_in(ev.clipboard_data().and_then(|data| data.files()));
            if !files.is_empty() {
                ev.prevent_default();
                self.upload(files);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }

    /// Uploads as many of `files` as fit, each on its own, and says so when some do not fit.
    #[cfg(feature = "hydrate")]
    fn upload(self, files: Vec<web_sys::File>) {
        let room = self.room();
        let left_out = files.len().saturating_sub(room);
        self.error.set((left_out > 0).then(|| {
            format!(
                "A post can have up to {MAX_IMAGES} images, so {left_out} of those {} left out.",
                if left_out == 1 { "was" } else { "were" }
            )
        }));
        for file in files.into_iter().take(room) {
            self.uploading.update(|count| *count += 1);
            leptos::task::spawn_local(async move {
                let result = crate::components::upload::upload_image(file).await;
                self.uploading.update(|count| *count -= 1);
                match result {
                    Ok(item) => self.items.update(|items| items.push(item)),
                    Err(message) => self.error.set(Some(message)),
                }
            });
        }
    }
}

/// The image files in a file list (a drop may carry other things).
#[cfg(feature = "hydrate")]
fn images_in(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|index| list.get(index))
        .filter(|file| file.type_().starts_with("image/"))
        .collect()
}

#[component]
pub fn ImagePicker(
    images: DraftImages,
    /// An error about the images from the last submission.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let dragging = RwSignal::new(false);
    let message = move || images.error.get().or_else(|| error.get());

    let on_change = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(input) = input.get_untracked() {
            images.upload(images_in(input.files()));
            // Lets the same file be chosen again after removing it.
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        images.upload(images_in(ev.data_transfer().and_then(|data| data.files())));
    };
    let full = move || images.items.with(Vec::len) >= MAX_IMAGES;

    view! {
        <div class="field">
            <div
                class="drop-zone"
                class:drop-zone-active=move || dragging.get()
                on:dragover=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <label for="compose-images" class="field-label">"Images"</label>
                <input
                    id="compose-images"
                    type="file"
                    accept=ACCEPTED_TYPES
                    multiple
                    node_ref=input
                    disabled=full
                    aria-describedby="compose-images-hint"
                    on:change=on_change
                />
                <p id="compose-images-hint" class="field-hint">
                    {format!("Choose, drop or paste up to {MAX_IMAGES} images: JPEG, PNG, WebP or GIF.")}
                </p>
            </div>
            <Show when=move || images.uploading()>
                <p class="field-hint" role="status">"Uploading\u{2026}"</p>
            </Show>
            <Show when=move || message().is_some()>
                <p class="field-error" role="alert">{message}</p>
            </Show>
            <ol class="thumbs" aria-label="Thumbnails">
                {move || {
                    let items = images.items.get();
                    let last = items.len().saturating_sub(1);
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(index, item)| {
                            view! { <Thumbnail images index last item /> }
                        })
                        .collect_view()
                }}
            </ol>
        </div>
    }
}

#[component]
fn Thumbnail(images: DraftImages, index: usize, last: usize, item: MediaItem) -> impl IntoView {
    let number = index + 1;
    view! {
        <li class="thumb">
            <img class="thumb-img" src=item.url alt=format!("Image {number}") />
            <div class="thumb-actions">
                <button
                    type="button"
                    class="button-icon"
                    aria-label=format!("Move image {number} left")
                    disabled=index == 0
                    on:click=move |_| images.shift(index, true)
                >
                    "\u{2190}"
                </button>
                <button
                    type="button"
                    class="button-icon"
                    aria-label=format!("Move image {number} right")
                    disabled=index == last
                    on:click=move |_| images.shift(index, false)
                >
                    "\u{2192}"
                </button>
                <button
                    type="button"
                    class="button-icon"
                    aria-label=format!("Remove image {number}")
                    on:click=move |_| images.remove(index)
                >
                    "Remove"
                </button>
            </div>
        </li>
    }
}
