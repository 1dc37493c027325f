//! One account's caption in the Studio: the editor the caption streams into, then the
//! authenticity pass's changes (each accepted or reverted, or all), the live length and
//! "sounds human" score, the proofreader's underlines with one-click fixes, and emoji
//! (suggested from the caption's words, or picked with a search).

use leptos::prelude::*;

use crate::components::latest_answer::LatestAnswer;
use crate::components::studio_calls::{
    Edits, PickerEmoji, add_word, check_caption, report_refined, search_emoji, voice_pass,
};
use crate::components::target_options::{OptionFields, options_form};
use crate::types::{
    CheckView, Connection, NewTarget, ProductId, RefinePass, TargetOptions, VoiceRule, apply_fix,
};

/// How long typing must pause before the caption is checked again.
const CHECK_PAUSE: std::time::Duration = std::time::Duration::from_millis(400);

/// Where an account's caption stands with its writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writing {
    Idle,
    Writing,
    Failed(String),
}

/// The pass's proposed changes over a caption, and which of them the person keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub edits: Edits,
    pub accepted: Vec<bool>,
}

impl Proposal {
    pub fn new(edits: Edits) -> Self {
        let accepted = vec![true; edits.changes.len()];
        Self { edits, accepted }
    }

    /// The caption with the kept changes.
    pub fn text(&self) -> String {
        self.edits.with_only(&self.accepted)
    }
}

/// One account's caption and everything about it. The signals live as long as the page, so
/// typing in one caption never rebuilds another.
#[derive(Debug, Clone)]
pub struct CaptionCard {
    pub connection: Connection,
    pub chosen: RwSignal<bool>,
    pub text: RwSignal<String>,
    pub options: RwSignal<TargetOptions>,
    pub fields: OptionFields,
    pub writing: RwSignal<Writing>,
    pub proposal: RwSignal<Option<Proposal>>,
    /// The last check, drawn, with the text it was made on (it holds only for that text).
    pub check: RwSignal<Option<CheckView>>,
    /// The product the post is about, whose names the proofreader leaves alone.
    pub product: Option<ProductId>,
    /// The text before the writer started, given back when it fails.
    before: StoredValue<String>,
    variant: StoredValue<u32>,
}

impl CaptionCard {
    /// The card for `connection`, with the caption `earlier` gave it (a post sent to the
    /// Studio, or a template: the account's own text, else the post's).
    pub fn new(connection: Connection, earlier: Option<(&NewTarget, &str)>) -> Self {
        let text = earlier
            .map(|(target, post_text)| target.text.clone().unwrap_or_else(|| post_text.to_owned()))
            .unwrap_or_default();
        Self {
            connection,
            chosen: RwSignal::new(earlier.is_some()),
            text: RwSignal::new(text),
            options: RwSignal::new(
                earlier
                    .map(|(target, _)| target.options.clone())
                    .unwrap_or_default(),
            ),
            fields: OptionFields::new(),
            writing: RwSignal::new(Writing::Idle),
            proposal: RwSignal::new(None),
            check: RwSignal::new(None),
            product: None,
            before: StoredValue::new(String::new()),
            variant: StoredValue::new(0),
        }
    }

    /// The same card, for a post about `product`.
    pub fn about(self, product: Option<ProductId>) -> Self {
        Self { product, ..self }
    }

    pub fn label(&self) -> String {
        format!(
            "@{} on {}",
            self.connection.handle,
            self.connection.platform.display_name()
        )
    }

    /// The variant for this card's next "Regenerate".
    pub fn next_variant(&self) -> u32 {
        let next = self.variant.get_value() + 1;
        self.variant.set_value(next);
        next
    }

    pub fn start_writing(&self) {
        self.before.set_value(self.text.get_untracked());
        self.proposal.set(None);
        self.text.set(String::new());
        self.writing.set(Writing::Writing);
    }

    pub fn add_piece(&self, piece: &str) {
        self.text.update(|text| text.push_str(piece));
    }

    /// The finished caption, with the authenticity pass's changes made and listed to revert.
    pub fn finish(&self, edits: Edits) {
        let made = Proposal::new(edits);
        self.text.set(made.text());
        self.proposal.set(Some(made));
        self.writing.set(Writing::Idle);
    }

    /// The authenticity pass over the caption as it stands (after edits by hand).
    pub fn suggest_changes(&self) {
        let (text, proposal, id) = (self.text, self.proposal, self.connection.id);
        let caption = text.get_untracked();
        leptos::task::spawn_local(async move {
            if let Ok(edits) = voice_pass(caption.clone(), id).await
                && text.get_untracked() == caption
            {
                let made = Proposal::new(edits);
                text.set(made.text());
                proposal.set(Some(made));
            }
        });
    }

    /// The writer failed: the caption from before comes back, with why.
    pub fn fail(&self, message: String) {
        self.text.set(self.before.get_value());
        self.writing.set(Writing::Failed(message));
    }

    /// The stream ended: a caption still "writing" got no answer.
    pub fn stop_writing(&self) {
        if self.writing.get_untracked() == Writing::Writing {
            self.fail("The writer stopped before the caption was finished. Try again.".into());
        }
    }

    /// The target to post, when the account is chosen.
    pub fn to_new_target(&self) -> Option<NewTarget> {
        self.chosen.get_untracked().then(|| NewTarget {
            connection_id: self.connection.id,
            text: Some(self.text.get_untracked()),
            options: self.options.get_untracked(),
        })
    }
}

/// Where the `utf16` offset a text field reports falls in `text`, in bytes.
fn byte_offset(text: &str, utf16: u32) -> usize {
    let mut units = 0;
    for (at, char) in text.char_indices() {
        if units >= utf16 as usize {
            return at;
        }
        units += char.len_utf16();
    }
    text.len()
}

/// `emoji` put into `text` at byte `at`, with a space before it when it would touch a word.
fn insert_emoji(text: &str, at: usize, emoji: &str) -> String {
    let at = if text.is_char_boundary(at) {
        at
    } else {
        text.len()
    };
    let (head, tail) = text.split_at(at);
    let space = if head
        .chars()
        .last()
        .is_some_and(|last| !last.is_whitespace())
    {
        " "
    } else {
        ""
    };
    format!("{head}{space}{emoji}{tail}")
}

/// What a click in the drawn panel asks for, read from its button's `data-` attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum PanelAction {
    /// Put `fix` where the bytes `start..end` are.
    Fix {
        start: usize,
        end: usize,
        fix: String,
    },
    /// Never flag this word again.
    OwnWord(String),
    Emoji(String),
}

impl PanelAction {
    /// The action of the button the click `ev` landed in, if any.
    fn of(ev: &leptos::ev::MouseEvent) -> Option<Self> {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let button = ev
                .target()?
                .dyn_into::<web_sys::Element>()
                .ok()?
                .closest("[data-action]")
                .ok()??;
            let data = |name: &str| button.get_attribute(&format!("data-{name}"));
            Self::read(&data("action")?, data)
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = ev;
            None
        }
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn read(action: &str, data: impl Fn(&str) -> Option<String>) -> Option<Self> {
        Some(match action {
            "fix" => Self::Fix {
                start: data("start")?.parse().ok()?,
                end: data("end")?.parse().ok()?,
                fix: data("fix")?,
            },
            "word" => Self::OwnWord(data("word")?),
            "emoji" => Self::Emoji(data("emoji")?),
            _ => return None,
        })
    }
}

#[component]
pub fn CaptionEditor(
    card: CaptionCard,
    /// Writes this account's caption again.
    regenerate: Callback<()>,
    /// Whether a caption is being written (the buttons wait).
    #[prop(into)]
    busy: Signal<bool>,
) -> impl IntoView {
    let CaptionCard {
        connection,
        text,
        options,
        fields,
        writing,
        proposal,
        check,
        product,
        ..
    } = card.clone();
    let key = connection.id.0.to_string();
    let label = card.label();
    let handle = format!("@{}", connection.handle);
    let id = connection.id;
    let editor_id = format!("caption-{key}");
    let title_id = format!("caption-title-{key}");
    let labelled_by = title_id.clone();
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let underlay = NodeRef::<leptos::html::Div>::new();
    let picker_open = RwSignal::new(false);
    let picker_query = RwSignal::new(String::new());
    let picker_results = RwSignal::new(Vec::<PickerEmoji>::new());

    Effect::new({
        let handle = handle.clone();
        move |_| fields.load(id, handle.clone(), options.get_untracked())
    });

    // Checked again once typing pauses; an answer overtaken by a later change is dropped.
    let latest = LatestAnswer::new();
    Effect::new(move |_| {
        let current = text.get();
        if writing.get() == Writing::Writing || current.trim().is_empty() {
            return;
        }
        latest.ask(
            CHECK_PAUSE,
            check_caption(current, id, product),
            move |answer| {
                if let Ok(view) = answer {
                    check.set(Some(view));
                }
            },
        );
    });
    // The drawn check, while it is of the text in the field.
    let current = move |part: fn(&CheckView) -> &String| {
        check.with(|check| {
            check
                .as_ref()
                .filter(|view| text.with(|now| *now == view.text))
                .map(|view| part(view).clone())
                .unwrap_or_default()
        })
    };

    // A hand edit settles the pass's changes: what is in the editor is the caption now.
    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        if proposal.with_untracked(|made| {
            made.as_ref()
                .is_some_and(|made| made.text() != text.get_untracked())
        }) {
            proposal.set(None);
        }
    };
    let on_scroll = move |_| {
        if let (Some(field), Some(layer)) = (textarea.get_untracked(), underlay.get_untracked()) {
            layer.set_scroll_top(field.scroll_top());
        }
    };
    let toggle = move |index: usize| {
        proposal.update(|made| {
            if let Some(made) = made {
                made.accepted[index] = !made.accepted[index];
                text.set(made.text());
            }
        });
    };
    let set_all = move |keep: bool| {
        proposal.update(|made| {
            if let Some(made) = made {
                made.accepted
                    .iter_mut()
                    .for_each(|accepted| *accepted = keep);
                text.set(made.text());
            }
        });
    };
    let put_emoji = move |emoji: String| {
        let at = textarea
            .get_untracked()
            .and_then(|field| field.selection_start().ok().flatten())
            .map(|utf16| text.with_untracked(|now| byte_offset(now, utf16)))
            .unwrap_or_else(|| text.with_untracked(String::len));
        text.update(|now| *now = insert_emoji(now, at, &emoji));
        leptos::task::spawn_local(report_refined(RefinePass::Emoji));
    };
    let on_panel_click = move |ev: leptos::ev::MouseEvent| match PanelAction::of(&ev) {
        Some(PanelAction::Fix { start, end, fix }) => {
            if let Some(new) = text.with_untracked(|now| apply_fix(now, start..end, &fix)) {
                text.set(new);
                leptos::task::spawn_local(report_refined(RefinePass::Proofread));
            }
        }
        Some(PanelAction::OwnWord(word)) => {
            let again = text.get_untracked();
            leptos::task::spawn_local(async move {
                if add_word(word).await.is_ok() {
                    // Checked again, now that the word is known.
                    text.set(String::new());
                    text.set(again);
                }
            });
        }
        Some(PanelAction::Emoji(emoji)) => put_emoji(emoji),
        None => {}
    };
    let search = move |query: String| {
        picker_query.set(query.clone());
        leptos::task::spawn_local(async move {
            if let Ok(found) = search_emoji(query.clone()).await
                && picker_query.get_untracked() == query
            {
                picker_results.set(found);
            }
        });
    };
    let suggest = card.clone();

    view! {
        <section class="panel caption-card" aria-labelledby=labelled_by>
            <div class="caption-card-head">
                <h2 id=title_id class="panel-title">{label.clone()}</h2>
                <button
                    type="button"
                    class="button-secondary"
                    disabled=move || busy.get()
                    aria-label=format!("Regenerate the caption for {label}")
                    on:click=move |_| regenerate.run(())
                >
                    "Regenerate"
                </button>
            </div>
            {move || match writing.get() {
                Writing::Writing => Some(view! { <p class="field-hint" role="status">"Writing\u{2026}"</p> }.into_any()),
                Writing::Failed(message) => Some(view! { <p class="field-error" role="alert">{message}</p> }.into_any()),
                Writing::Idle => None,
            }}
            <div class="field">
                <label for=editor_id.clone() class="field-label">{format!("Caption for {handle}")}</label>
                <div class="caption-editor">
                    <div class="caption-underlay" aria-hidden="true" node_ref=underlay
                        inner_html=move || current(|view| &view.underlay)></div>
                    <textarea
                        id=editor_id
                        class="field-input caption-input"
                        rows="7"
                        node_ref=textarea
                        prop:value=move || text.get()
                        on:input=on_input
                        on:scroll=on_scroll
                    >
                        {text.get_untracked()}
                    </textarea>
                </div>
            </div>
            <Show when=move || {
                proposal.with(Option::is_none) && writing.get() != Writing::Writing
                    && !text.with(|now| now.trim().is_empty())
            }>
                {
                    let card = suggest.clone();
                    view! {
                        <button type="button" class="button-link" on:click=move |_| card.suggest_changes()>
                            "Suggest authenticity changes"
                        </button>
                    }
                }
            </Show>
            {move || proposal.get().filter(|made| !made.edits.changes.is_empty()).map(|made| view! {
                <div class="caption-changes" role="group" aria-label="Authenticity changes">
                    <div class="caption-changes-head">
                        <h3 class="field-label">"Authenticity changes"</h3>
                        <button type="button" class="button-link" on:click=move |_| set_all(true)>"Accept all"</button>
                        <button type="button" class="button-link" on:click=move |_| set_all(false)>"Revert all"</button>
                    </div>
                    <ul class="change-list">
                        {made.edits.changes.into_iter().zip(made.accepted).enumerate().map(|(index, (change, kept))| {
                            let rules = change.rules.iter().filter_map(|rule| VoiceRule::label_of(rule)).collect::<Vec<_>>().join(", ");
                            let after = if change.after.trim().is_empty() { "(removed)".to_owned() } else { change.after };
                            view! {
                                <li class="change" class:change-reverted=!kept>
                                    <span class="change-rule">{rules}</span>
                                    <del class="change-before">{change.before}</del>
                                    " \u{2192} "
                                    <ins class="change-after">{after}</ins>
                                    <button type="button" class="button-link" on:click=move |_| toggle(index)>
                                        {if kept { "Revert" } else { "Accept" }}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <div class="caption-insights" on:click=on_panel_click inner_html=move || current(|view| &view.panel)></div>
            <div class="caption-emoji" role="group" aria-label="Emoji">
                <button
                    type="button"
                    class="button-link"
                    aria-expanded=move || picker_open.get().to_string()
                    on:click=move |_| {
                        let open = !picker_open.get_untracked();
                        picker_open.set(open);
                        if open && picker_results.with_untracked(Vec::is_empty) {
                            search(String::new());
                        }
                    }
                >
                    "More emoji"
                </button>
                <Show when=move || picker_open.get()>
                    <div class="emoji-picker">
                        <input
                            type="search"
                            class="field-input"
                            placeholder="Search emoji: heart, coffee, party"
                            aria-label="Search emoji"
                            prop:value=move || picker_query.get()
                            on:input=move |ev| search(event_target_value(&ev))
                        />
                        <ul class="emoji-grid" aria-label="Emoji">
                            {move || picker_results.get().into_iter().map(|pick| {
                                let emoji = pick.emoji.clone();
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="button-emoji"
                                            title=pick.name.clone()
                                            aria-label=format!("Add {}", pick.name)
                                            on:click=move |_| put_emoji(emoji.clone())
                                        >
                                            {pick.emoji}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                </Show>
            </div>
            {options_form(fields, options)}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::studio_calls::Edit;

    #[test]
    fn a_text_fields_offset_counts_utf16_units() {
        // "é" is one unit, "👋" two.
        assert_eq!(byte_offset("é👋a", 1), 2);
        assert_eq!(byte_offset("é👋a", 3), 6);
        assert_eq!(byte_offset("é👋a", 99), 7);
    }

    #[test]
    fn an_emoji_after_a_word_gets_a_space() {
        assert_eq!(insert_emoji("New mugs", 8, "☕"), "New mugs ☕");
        assert_eq!(insert_emoji("New mugs ", 9, "☕"), "New mugs ☕");
        assert_eq!(insert_emoji("mugs", 2, "☕"), "mu ☕gs");
    }

    #[test]
    fn a_panel_button_says_what_it_does() {
        let attributes = |name: &str| match name {
            "start" => Some("6".to_owned()),
            "end" => Some("11".to_owned()),
            "fix" => Some("really".to_owned()),
            "word" => Some("Glazeworks".to_owned()),
            "emoji" => Some("☕".to_owned()),
            _ => None,
        };
        assert_eq!(
            PanelAction::read("fix", attributes),
            Some(PanelAction::Fix {
                start: 6,
                end: 11,
                fix: "really".into()
            })
        );
        assert_eq!(
            PanelAction::read("word", attributes),
            Some(PanelAction::OwnWord("Glazeworks".into()))
        );
        assert_eq!(
            PanelAction::read("emoji", attributes),
            Some(PanelAction::Emoji("☕".into()))
        );
        assert_eq!(PanelAction::read("fix", |_| None), None);
        assert_eq!(PanelAction::read("launch", attributes), None);
    }

    #[test]
    fn reverting_a_change_gives_its_words_back() {
        let edit = |start, end, before: &str, after: &str, rule: &str| Edit {
            start,
            end,
            before: before.into(),
            after: after.into(),
            rules: vec![rule.into()],
        };
        let mut made = Proposal::new(Edits {
            original: "We elevate mugs!!".into(),
            changes: vec![
                edit(3, 10, "elevate", "make", "buzzword"),
                edit(15, 17, "!!", "!", "exclamations"),
            ],
        });
        assert_eq!(made.text(), "We make mugs!");
        made.accepted[0] = false;
        assert_eq!(made.text(), "We elevate mugs!");
    }
}
