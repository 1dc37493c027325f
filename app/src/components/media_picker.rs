//! The photos and videos of a post being composed: picked with the file chooser, dropped onto
//! the zone or pasted, each uploaded at once to the media library with its progress shown, then
//! shown as thumbnails (a video by its poster frame) that can be reordered and removed. A failed
//! upload says why and leaves the rest of the draft alone. Which platform takes how many files
//! of which kind is for the previews to say, from each platform's rules.

use leptos::prelude::*;

use crate::types::MediaItem;

/// The most files a post can carry anywhere (an Instagram carousel); each platform's preview
/// says when it takes fewer.
pub const MAX_FILES: usize = 10;
/// What the media library accepts (it checks the content, not this list).
pub const ACCEPTED_TYPES: &str =
    "image/jpeg,image/png,image/webp,image/gif,video/mp4,video/quicktime,video/webm";

/// A file on its way to the library: its name and how much of it has been sent, in percent.
#[derive(Debug, Clone, PartialEq)]
struct Sending {
    ticket: u32,
    name: String,
    percent: u32,
}

/// A draft's files, in order, and the uploads still under way.
#[derive(Debug, Clone, Copy)]
pub struct DraftMedia {
    pub items: RwSignal<Vec<MediaItem>>,
    sending: RwSignal<Vec<Sending>>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    tickets: StoredValue<u32>,
    /// Why the last upload (or the last batch) was refused.
    pub error: RwSignal<Option<String>>,
}

impl DraftMedia {
    pub fn new(items: Vec<MediaItem>) -> Self {
        Self {
            items: RwSignal::new(items),
            sending: RwSignal::new(Vec::new()),
            tickets: StoredValue::new(0),
            error: RwSignal::new(None),
        }
    }

    pub fn uploading(self) -> bool {
        self.sending.with(|sending| !sending.is_empty())
    }

    /// How many more files fit, counting the uploads under way.
    #[cfg(feature = "hydrate")]
    fn room(self) -> usize {
        MAX_FILES.saturating_sub(
            self.items.with_untracked(Vec::len) + self.sending.with_untracked(Vec::len),
        )
    }

    /// Moves file `index` one place towards the start (`earlier`) or the end.
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

    /// Takes the files out of a paste (a screenshot, say). A paste of text is left to the
    /// text field.
    pub fn take_pasted(self, ev: &leptos::ev::ClipboardEvent) {
        #[cfg(feature = "hydrate")]
        {
            let files = media_in(ev.clipboard_data().and_then(|data| data.files()));
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
                "A post can have up to {MAX_FILES} photos and videos, so {left_out} of those {} left out.",
                if left_out == 1 { "was" } else { "were" }
            )
        }));
        for file in files.into_iter().take(room) {
            let ticket = self.tickets.get_value() + 1;
            self.tickets.set_value(ticket);
            self.sending.update(|sending| {
                sending.push(Sending {
                    ticket,
                    name: file.name(),
                    percent: 0,
                })
            });
            let progress = move |done: f64| {
                self.sending.update(|sending| {
                    if let Some(upload) = sending.iter_mut().find(|upload| upload.ticket == ticket)
                    {
                        upload.percent = (done * 100.0) as u32;
                    }
                })
            };
            leptos::task::spawn_local(async move {
                let result = crate::components::upload::upload_file(file, progress).await;
                self.sending
                    .update(|sending| sending.retain(|upload| upload.ticket != ticket));
                match result {
                    Ok(item) => self.items.update(|items| items.push(item)),
                    Err(message) => self.error.set(Some(message)),
                }
            });
        }
    }
}

/// The photos and videos in a file list (a drop may carry other things).
#[cfg(feature = "hydrate")]
fn media_in(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|index| list.get(index))
        .filter(|file| {
            let kind = file.type_();
            kind.starts_with("image/") || kind.starts_with("video/")
        })
        .collect()
}

#[component]
pub fn MediaPicker(
    media: DraftMedia,
    /// An error about the files from the last submission.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let dragging = RwSignal::new(false);
    let message = move || media.error.get().or_else(|| error.get());

    let on_change = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(input) = input.get_untracked() {
            media.upload(media_in(input.files()));
            // Lets the same file be chosen again after removing it.
            input.set_value("");
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        media.upload(media_in(ev.data_transfer().and_then(|data| data.files())));
    };
    let full = move || media.items.with(Vec::len) >= MAX_FILES;

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
                <label for="compose-images" class="field-label">"Images and videos"</label>
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
                    {format!(
                        "Choose, drop or paste up to {MAX_FILES}: JPEG, PNG, WebP or GIF images, MP4, MOV or WebM videos.",
                    )}
                </p>
            </div>
            <ul class="uploads" aria-label="Uploads">
                <For each=move || media.sending.get() key=|upload| (upload.ticket, upload.percent) let(upload)>
                    <li class="upload-row">
                        <label class="field-hint">
                            {format!("Uploading {}: {} %", upload.name, upload.percent)}
                            <progress class="upload-bar" max="100" value=upload.percent></progress>
                        </label>
                    </li>
                </For>
            </ul>
            <Show when=move || message().is_some()>
                <p class="field-error" role="alert">{message}</p>
            </Show>
            <ol class="thumbs" aria-label="Thumbnails">
                {move || {
                    let items = media.items.get();
                    let last = items.len().saturating_sub(1);
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(index, item)| {
                            view! { <Thumbnail media index last item /> }
                        })
                        .collect_view()
                }}
            </ol>
        </div>
    }
}

#[component]
fn Thumbnail(media: DraftMedia, index: usize, last: usize, item: MediaItem) -> impl IntoView {
    let number = index + 1;
    let (kind, src) = match item.poster_url {
        Some(poster) => ("video", poster),
        None => ("image", item.url),
    };
    view! {
        <li class="thumb">
            <img class="thumb-img" src=src alt=format!("{} {number}", if kind == "video" { "Video" } else { "Image" }) />
            <div class="thumb-actions">
                <button
                    type="button"
                    class="button-icon"
                    aria-label=format!("Move {kind} {number} left")
                    disabled=index == 0
                    on:click=move |_| media.shift(index, true)
                >
                    "\u{2190}"
                </button>
                <button
                    type="button"
                    class="button-icon"
                    aria-label=format!("Move {kind} {number} right")
                    disabled=index == last
                    on:click=move |_| media.shift(index, false)
                >
                    "\u{2192}"
                </button>
                <button
                    type="button"
                    class="button-icon"
                    aria-label=format!("Remove {kind} {number}")
                    on:click=move |_| media.remove(index)
                >
                    "Remove"
                </button>
            </div>
        </li>
    }
}
