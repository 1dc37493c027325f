//! One account's caption in the Studio: the editor the caption streams into, then the
//! authenticity pass's changes (each accepted or reverted, or all), the live length and
//! "sounds human" score, the proofreader's underlines with one-click fixes, and emoji
//! (suggested from the caption's words, or picked with a search).

use leptos::prelude::*;

use crate::components::studio_calls::{add_word, check_caption, search_emoji, voice_pass};
use crate::components::target_options::{OptionFields, options_form};
use crate::types::{
    CaptionCheck, Connection, EmojiPick, NewTarget, ProofFlag, ProofKind, Target, TargetOptions,
    VoicePass, apply_fix,
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
    pub pass: VoicePass,
    pub accepted: Vec<bool>,
}

impl Proposal {
    pub fn new(pass: VoicePass) -> Self {
        let accepted = vec![true; pass.changes.len()];
        Self { pass, accepted }
    }

    /// The caption with the kept changes.
    pub fn text(&self) -> String {
        self.pass.with_only(|index| self.accepted[index])
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
    /// The last check and the text it was made on (its ranges hold only for that text).
    pub check: RwSignal<Option<(String, CaptionCheck)>>,
    /// The text before the writer started, given back when it fails.
    before: StoredValue<String>,
    variant: StoredValue<u32>,
}

impl CaptionCard {
    /// The card for `connection`, with the caption `earlier` gave it (a post sent to the
    /// Studio: the target's own text, else the post's).
    pub fn new(connection: Connection, earlier: Option<(&Target, &str)>) -> Self {
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
            before: StoredValue::new(String::new()),
            variant: StoredValue::new(0),
        }
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
    pub fn finish(&self, pass: VoicePass) {
        let made = Proposal::new(pass);
        self.text.set(made.text());
        self.proposal.set(Some(made));
        self.writing.set(Writing::Idle);
    }

    /// The authenticity pass over the caption as it stands (after edits by hand).
    pub fn suggest_changes(&self) {
        let (text, proposal, id) = (self.text, self.proposal, self.connection.id);
        let caption = text.get_untracked();
        leptos::task::spawn_local(async move {
            if let Ok(answer) = voice_pass(caption.clone(), id).await
                && text.get_untracked() == caption
            {
                let made = Proposal::new(answer.pass);
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

/// The text cut where the proofreader's flags lie, each piece with its flag's kind.
fn underlined(text: &str, flags: &[ProofFlag]) -> Vec<(String, Option<&'static str>)> {
    let mut pieces = Vec::new();
    let mut at = 0;
    for flag in flags {
        let (Some(before), Some(flagged)) =
            (text.get(at..flag.start), text.get(flag.start..flag.end))
        else {
            continue;
        };
        pieces.push((before.to_owned(), None));
        pieces.push((flagged.to_owned(), Some(flag.kind.css())));
        at = flag.end;
    }
    pieces.push((text.get(at..).unwrap_or_default().to_owned(), None));
    // A final line break needs something after it, or the underlay ends a line short.
    pieces.push((" ".into(), None));
    pieces
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
    let picker_results = RwSignal::new(Vec::<EmojiPick>::new());

    Effect::new({
        let handle = handle.clone();
        move |_| fields.load(id, handle.clone(), options.get_untracked())
    });

    // Checked again once typing pauses; an answer overtaken by a later change is dropped.
    let asked = StoredValue::new(0u32);
    Effect::new(move |_| {
        let current = text.get();
        if writing.get() == Writing::Writing || current.trim().is_empty() {
            return;
        }
        let ticket = asked.get_value() + 1;
        asked.set_value(ticket);
        set_timeout(
            move || {
                if asked.get_value() != ticket {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(answer) = check_caption(current.clone(), id).await
                        && asked.get_value() == ticket
                    {
                        check.set(Some((current, answer)));
                    }
                });
            },
            CHECK_PAUSE,
        );
    });

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
    // Flags are drawn only on the text they were found in.
    let current_check = move || {
        check.with(|check| {
            check
                .as_ref()
                .filter(|(checked, _)| text.with(|now| now == checked))
                .map(|(_, answer)| answer.clone())
        })
    };
    let put_emoji = move |emoji: String| {
        let at = textarea
            .get_untracked()
            .and_then(|field| field.selection_start().ok().flatten())
            .map(|utf16| text.with_untracked(|now| byte_offset(now, utf16)))
            .unwrap_or_else(|| text.with_untracked(String::len));
        text.update(|now| *now = insert_emoji(now, at, &emoji));
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
                    <div class="caption-underlay" aria-hidden="true" node_ref=underlay>
                        {move || {
                            let flags = current_check().map(|check| check.flags).unwrap_or_default();
                            text.with(|now| underlined(now, &flags))
                                .into_iter()
                                .map(|(piece, kind)| match kind {
                                    Some(kind) => view! { <mark class=format!("flag flag-{kind}")>{piece}</mark> }.into_any(),
                                    None => piece.into_any(),
                                })
                                .collect_view()
                        }}
                    </div>
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
                {move || current_check().map(|check| {
                    let over = check.length > check.max_length;
                    view! {
                        <p class="caption-meter" class:caption-meter-over=over>
                            {format!("{} / {} {}", check.length, check.max_length, check.unit)}
                            " \u{b7} "
                            <span class="caption-score">{format!("Sounds human: {}/100", check.score.score)}</span>
                        </p>
                        <ul class="caption-reasons">
                            {check.score.reasons.into_iter().map(|reason| view! {
                                <li>{format!("\u{2212}{} {}", reason.points, reason.says)}</li>
                            }).collect_view()}
                        </ul>
                    }
                })}
            </div>
            <Show when=move || {
                proposal.with(Option::is_none) && writing.get() != Writing::Writing
                    && !text.with(|now| now.trim().is_empty())
            }>
                {
                    let card = card.clone();
                    view! {
                        <button type="button" class="button-link" on:click=move |_| card.suggest_changes()>
                            "Suggest authenticity changes"
                        </button>
                    }
                }
            </Show>
            {move || proposal.get().filter(|made| !made.pass.changes.is_empty()).map(|made| {
                let changes = made.pass.changes.clone();
                view! {
                    <div class="caption-changes" role="group" aria-label="Authenticity changes">
                        <div class="caption-changes-head">
                            <h3 class="field-label">"Authenticity changes"</h3>
                            <button type="button" class="button-link" on:click=move |_| set_all(true)>"Accept all"</button>
                            <button type="button" class="button-link" on:click=move |_| set_all(false)>"Revert all"</button>
                        </div>
                        <ul class="change-list">
                            {changes.into_iter().enumerate().map(|(index, change)| {
                                let kept = made.accepted[index];
                                let rules = change.rules.iter().map(|rule| rule.label()).collect::<Vec<_>>().join(", ");
                                let shown_after = if change.after.trim().is_empty() { "(removed)".to_owned() } else { change.after.clone() };
                                view! {
                                    <li class="change" class:change-reverted=!kept>
                                        <span class="change-rule">{rules}</span>
                                        <del class="change-before">{change.before.clone()}</del>
                                        " \u{2192} "
                                        <ins class="change-after">{shown_after}</ins>
                                        <button type="button" class="button-link" on:click=move |_| toggle(index)>
                                            {if kept { "Revert" } else { "Accept" }}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                }
            })}
            {move || current_check().filter(|check| !check.flags.is_empty()).map(|check| {
                let checked = text.get_untracked();
                view! {
                    <div class="caption-flags" role="group" aria-label="Proofreading">
                        <h3 class="field-label">"Proofreading"</h3>
                        <ul class="flag-list">
                            {check.flags.into_iter().map(|flag| {
                                let word = checked.get(flag.start..flag.end).unwrap_or_default().to_owned();
                                let spelling = flag.kind == ProofKind::Spelling;
                                let fixes = flag.fixes.clone();
                                view! {
                                    <li class="flag-item">
                                        <span class="flag-word">{format!("\u{201c}{word}\u{201d}")}</span>
                                        " "
                                        <span class="field-hint">{flag.message.clone()}</span>
                                        {fixes.into_iter().map(|fix| {
                                            let flag = flag.clone();
                                            let shown = if fix.is_empty() { "remove".to_owned() } else { fix.clone() };
                                            view! {
                                                <button
                                                    type="button"
                                                    class="button-chip"
                                                    aria-label=format!("Replace \u{201c}{word}\u{201d} with \u{201c}{shown}\u{201d}", word = checked.get(flag.start..flag.end).unwrap_or_default())
                                                    on:click=move |_| {
                                                        if let Some(fixed) = text.with_untracked(|now| apply_fix(now, &flag, &fix)) {
                                                            text.set(fixed);
                                                        }
                                                    }
                                                >
                                                    {shown.clone()}
                                                </button>
                                            }
                                        }).collect_view()}
                                        {spelling.then(|| {
                                            let word = word.clone();
                                            view! {
                                                <button
                                                    type="button"
                                                    class="button-link"
                                                    on:click=move |_| {
                                                        let word = word.clone();
                                                        let again = text.get_untracked();
                                                        leptos::task::spawn_local(async move {
                                                            if add_word(word).await.is_ok() {
                                                                // Checked again, now that the word is known.
                                                                text.set(String::new());
                                                                text.set(again);
                                                            }
                                                        });
                                                    }
                                                >
                                                    "Add to my words"
                                                </button>
                                            }
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                }
            })}
            <div class="caption-emoji" role="group" aria-label="Emoji">
                {move || current_check().map(|check| {
                    let room = check.emoji_most.saturating_sub(check.emoji_count);
                    view! {
                        <p class="field-hint">
                            {if check.emoji_most == 0 {
                                "Your brand voice uses no emoji (Settings \u{2192} Brand voice).".to_owned()
                            } else {
                                format!("Emoji: {} of up to {}.", check.emoji_count, check.emoji_most)
                            }}
                        </p>
                        {(room > 0).then(|| view! {
                            <ul class="emoji-list" aria-label="Suggested emoji">
                                {check.emoji.into_iter().map(|pick| {
                                    let emoji = pick.emoji.clone();
                                    view! {
                                        <li>
                                            <button
                                                type="button"
                                                class="button-emoji"
                                                title=pick.name.clone()
                                                aria-label=format!("Add {} ({})", pick.name, pick.word.clone().unwrap_or_default())
                                                on:click=move |_| put_emoji(emoji.clone())
                                            >
                                                {pick.emoji.clone()}
                                            </button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        })}
                    }
                })}
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
                                            {pick.emoji.clone()}
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
    use crate::types::{VoiceChange, VoiceRule};

    #[test]
    fn underlines_cut_the_text_at_each_flag() {
        let flag = ProofFlag {
            start: 6,
            end: 11,
            kind: ProofKind::Spelling,
            message: "Spelling".into(),
            fixes: vec!["really".into()],
        };
        let pieces = underlined("Café realy nice\n", &[flag]);
        let joined: String = pieces.iter().map(|(piece, _)| piece.as_str()).collect();
        assert_eq!(joined, "Café realy nice\n ");
        assert_eq!(
            pieces[1],
            ("realy".to_owned(), Some(ProofKind::Spelling.css()))
        );
    }

    #[test]
    fn a_flag_off_the_texts_boundaries_is_not_drawn() {
        let flag = ProofFlag {
            start: 4,
            end: 40,
            kind: ProofKind::Grammar,
            message: String::new(),
            fixes: Vec::new(),
        };
        let pieces = underlined("Café", &[flag]);
        assert!(pieces.iter().all(|(_, kind)| kind.is_none()));
    }

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
    fn reverting_a_change_gives_its_words_back() {
        let pass = VoicePass {
            original: "We elevate mugs!!".into(),
            text: "We make mugs!".into(),
            changes: vec![
                VoiceChange {
                    start: 3,
                    end: 10,
                    before: "elevate".into(),
                    after: "make".into(),
                    rules: vec![VoiceRule::Buzzword],
                },
                VoiceChange {
                    start: 15,
                    end: 17,
                    before: "!!".into(),
                    after: "!".into(),
                    rules: vec![VoiceRule::Exclamations],
                },
            ],
        };
        let mut made = Proposal::new(pass);
        assert_eq!(made.text(), "We make mugs!");
        made.accepted[0] = false;
        assert_eq!(made.text(), "We elevate mugs!");
    }
}
