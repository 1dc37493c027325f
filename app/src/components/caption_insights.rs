//! What the Studio's editor shows beside a caption, drawn on the server from a
//! [`CaptionCheck`]: the proofreader's underlines (a layer set behind the text field) and the
//! panel under it (length, score and its reasons, each flag with its fixes, emoji that fit the
//! words). Drawn as HTML like the composer's previews, so the browser carries neither the
//! check's types nor their views; its buttons say what they do in `data-` attributes, which
//! the editor reads when one is clicked.

use leptos::prelude::*;

use crate::types::{CaptionCheck, CheckView, ProofFlag, ProofKind};

/// The underlines and the panel for `text`, as `check` found it.
pub fn insights_html(text: String, check: CaptionCheck) -> CheckView {
    CheckView {
        underlay: underlay_html(&text, &check.flags),
        panel: panel_html(&text, check),
        text,
    }
}

/// The text cut where the flags lie, each flagged stretch marked with its kind. A final line
/// break needs something after it, or the layer ends a line short of the field.
fn underlay_html(text: &str, flags: &[ProofFlag]) -> String {
    let mut html = String::new();
    let mut at = 0;
    for flag in flags {
        let (Some(before), Some(flagged)) =
            (text.get(at..flag.start), text.get(flag.start..flag.end))
        else {
            continue;
        };
        let class = format!("flag flag-{}", flag.kind.css());
        html.push_str(&before.to_owned().to_html());
        html.push_str(&view! { <mark class=class>{flagged.to_owned()}</mark> }.to_html());
        at = flag.end;
    }
    html + &format!("{} ", text.get(at..).unwrap_or_default()).to_html()
}

fn panel_html(text: &str, check: CaptionCheck) -> String {
    let CaptionCheck {
        length,
        max_length,
        unit,
        score,
        flags,
        emoji,
        emoji_count,
        emoji_most,
    } = check;
    let room = emoji_most.saturating_sub(emoji_count);
    let emoji_hint = if emoji_most == 0 {
        "Your brand voice uses no emoji (Settings \u{2192} Brand voice).".to_owned()
    } else {
        format!("Emoji: {emoji_count} of up to {emoji_most}.")
    };
    let over = length > max_length;
    view! {
        <p class="caption-meter" class:caption-meter-over=over>
            {format!("{length} / {max_length} {unit}")}
            " \u{b7} "
            <span class="caption-score">{format!("Sounds human: {}/100", score.score)}</span>
        </p>
        <ul class="caption-reasons">
            {score
                .reasons
                .into_iter()
                .map(|reason| view! { <li>{format!("\u{2212}{} {}", reason.points, reason.says)}</li> })
                .collect_view()}
        </ul>
        {(!flags.is_empty()).then(|| view! {
            <div class="caption-flags" role="group" aria-label="Proofreading">
                <h3 class="field-label">"Proofreading"</h3>
                <ul class="flag-list">{flags.into_iter().map(|flag| flag_item(text, flag)).collect_view()}</ul>
            </div>
        })}
        <p class="field-hint">{emoji_hint}</p>
        {(room > 0 && !emoji.is_empty()).then(|| view! {
            <ul class="emoji-list" aria-label="Suggested emoji">
                {emoji
                    .into_iter()
                    .map(|pick| {
                        let label = match &pick.word {
                            Some(word) => format!("Add {} (for \u{201c}{word}\u{201d})", pick.name),
                            None => format!("Add {}", pick.name),
                        };
                        let shown = pick.emoji.clone();
                        view! {
                            <li>
                                <button type="button" class="button-emoji" data-action="emoji"
                                    data-emoji=pick.emoji title=pick.name aria-label=label>
                                    {shown}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        })}
    }
    .to_html()
}

fn flag_item(text: &str, flag: ProofFlag) -> impl IntoView + use<> {
    let word = text
        .get(flag.start..flag.end)
        .unwrap_or_default()
        .to_owned();
    let (start, end) = (flag.start.to_string(), flag.end.to_string());
    let fixes = flag
        .fixes
        .into_iter()
        .map(|fix| {
            let shown = if fix.is_empty() {
                "remove".to_owned()
            } else {
                fix.clone()
            };
            let label = format!("Replace \u{201c}{word}\u{201d} with \u{201c}{shown}\u{201d}");
            view! {
                <button type="button" class="button-chip" data-action="fix" data-start=start.clone()
                    data-end=end.clone() data-fix=fix aria-label=label>
                    {shown}
                </button>
            }
        })
        .collect_view();
    let own_word = (flag.kind == ProofKind::Spelling).then(|| {
        view! {
            <button type="button" class="button-link" data-action="word" data-word=word.clone()>
                "Add to my words"
            </button>
        }
    });
    view! {
        <li class="flag-item">
            <span class="flag-word">{format!("\u{201c}{word}\u{201d}")}</span>
            " "
            <span class="field-hint">{flag.message}</span>
            {fixes}
            {own_word}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{EmojiPick, HumanScore};

    fn check(flags: Vec<ProofFlag>) -> CaptionCheck {
        CaptionCheck {
            length: 300,
            max_length: 280,
            unit: "characters".into(),
            score: HumanScore {
                score: 94,
                reasons: Vec::new(),
            },
            flags,
            emoji: vec![EmojiPick {
                emoji: "☕".into(),
                name: "hot beverage".into(),
                shortcode: Some("coffee".into()),
                group: "Food & Drink".into(),
                word: Some("coffee".into()),
            }],
            emoji_count: 0,
            emoji_most: 3,
        }
    }

    fn realy() -> ProofFlag {
        ProofFlag {
            start: 6,
            end: 11,
            kind: ProofKind::Spelling,
            message: "Did you mean \"really\"?".into(),
            fixes: vec!["really".into()],
        }
    }

    #[test]
    fn underlines_mark_the_flagged_bytes_and_escape_the_rest() {
        let drawn = insights_html("Café realy <b>\n".into(), check(vec![realy()]));
        assert_eq!(
            drawn.underlay,
            "Café <mark class=\"flag flag-spelling\">realy</mark> &lt;b&gt;\n "
        );
    }

    #[test]
    fn a_flag_that_no_longer_fits_the_text_is_not_drawn() {
        let mut off = realy();
        off.end = 99;
        let drawn = insights_html("Café".into(), check(vec![off]));
        assert!(!drawn.underlay.contains("<mark"), "{}", drawn.underlay);
    }

    #[test]
    fn the_panel_carries_each_fix_and_emoji_for_the_editor_to_apply() {
        let panel = insights_html("Café realy nice".into(), check(vec![realy()])).panel;
        for expected in [
            "300 / 280 characters",
            "caption-meter-over",
            "Sounds human: 94/100",
            r#"data-action="fix" data-start="6" data-end="11" data-fix="really""#,
            "Replace \u{201c}realy\u{201d} with \u{201c}really\u{201d}",
            r#"data-action="word" data-word="realy""#,
            r#"data-action="emoji" data-emoji="☕""#,
        ] {
            assert!(panel.contains(expected), "{expected} in {panel}");
        }
    }
}
