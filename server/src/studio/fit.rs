//! A written caption made to keep the platform's limits, whatever the writer did: a model may
//! wrap its answer in quotes, add hashtags past the number, or run past the length it was told.
//! A caption that comes out of here never does.

use std::sync::LazyLock;

use regex::Regex;

use super::brief::CaptionRules;
use crate::platforms::LineBreaks;

static HASHTAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"#[\p{L}\p{N}_]+").expect("the pattern is valid"));
static LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:\*\*)?(?:caption|here'?s? (?:is )?(?:the|your) caption)(?:\*\*)?\s*:\s*",
    )
    .expect("the pattern is valid")
});

/// `caption` within `rules`, its length counted by `length` (the platform's own counting).
pub fn fit(caption: &str, rules: &CaptionRules, length: &dyn Fn(&str) -> usize) -> String {
    let unwrapped = with_line_breaks(&unwrapped(caption), rules.line_breaks);
    let tagged = within_hashtags(&unwrapped, rules.max_hashtags);
    if length(&tagged) <= rules.max_length {
        return tagged;
    }
    // Too long: the text gives way before the hashtags at its end, which go too if they alone
    // leave no room.
    let (body, tags) = split_trailing_tags(&tagged);
    if let Some((separator, tags)) = tags {
        let room_for_tags = |body: &str| format!("{body}{separator}{tags}");
        if let Some(cut) = cut_to_fit(
            body,
            &|text: &str| length(&room_for_tags(text)),
            rules.max_length,
        ) {
            return room_for_tags(&cut);
        }
    }
    cut_to_fit(body, length, rules.max_length).unwrap_or_default()
}

/// `text` with its line breaks as the platform shows them: a run of blank lines as one, or
/// every break as a space.
fn with_line_breaks(text: &str, rule: LineBreaks) -> String {
    match rule {
        LineBreaks::Kept => text.to_owned(),
        LineBreaks::OneBlankLine => {
            let mut kept: Vec<&str> = Vec::new();
            for line in text.lines().map(str::trim_end) {
                let blank_again =
                    line.is_empty() && kept.last().is_some_and(|last| last.is_empty());
                if !blank_again {
                    kept.push(line);
                }
            }
            kept.join("\n")
        }
        LineBreaks::None => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Without the wrapping models put around an answer: surrounding quotes, a "Caption:" label,
/// blank lines.
fn unwrapped(caption: &str) -> String {
    let text = LABEL.replace(caption.trim(), "");
    let text = text.trim();
    let quoted = [('"', '"'), ('“', '”'), ('\'', '\'')]
        .into_iter()
        .find(|(open, close)| {
            text.starts_with(*open) && text.ends_with(*close) && text.chars().count() > 1
        });
    let inner = match quoted {
        Some((open, close)) => text
            .strip_prefix(open)
            .and_then(|text| text.strip_suffix(close))
            .unwrap_or(text),
        None => text,
    };
    inner.trim().to_owned()
}

/// The first `most` hashtags kept, the rest taken out with the space before each.
fn within_hashtags(text: &str, most: usize) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut at = 0;
    for (index, tag) in HASHTAG.find_iter(text).enumerate() {
        if index < most {
            continue;
        }
        let before = text[at..tag.start()].trim_end_matches([' ', '\t']);
        kept.push_str(before);
        at = tag.end();
    }
    kept.push_str(&text[at..]);
    let lines: Vec<&str> = kept.lines().map(str::trim_end).collect();
    lines.join("\n").trim().to_owned()
}

/// The text before the hashtags that end it, and those hashtags with what separated them
/// from the text (a blank line, or a space on the same line).
fn split_trailing_tags(text: &str) -> (&str, Option<(&'static str, &str)>) {
    let mut start = text.len();
    for word in text.split_whitespace().rev() {
        let is_tag = HASHTAG.find(word).is_some_and(|tag| tag.as_str() == word);
        if !is_tag {
            break;
        }
        start = text[..start].rfind(word).unwrap_or(start);
    }
    if start == text.len() || start == 0 {
        return (text, None);
    }
    let body = text[..start].trim_end();
    let separator = if text[body.len()..start].contains('\n') {
        "\n\n"
    } else {
        " "
    };
    (body, Some((separator, text[start..].trim())))
}

/// The longest start of `text` within `max`: up to a sentence's end or a line's if one fits,
/// else up to a word's end followed by "…". `None` when not even a word fits.
fn cut_to_fit(text: &str, length: &dyn Fn(&str) -> usize, max: usize) -> Option<String> {
    let sentence_ends = text.char_indices().filter_map(|(at, c)| {
        let end = at + c.len_utf8();
        let closes = matches!(c, '.' | '!' | '?' | '\n')
            && text[end..].chars().next().is_none_or(char::is_whitespace);
        closes.then_some(end)
    });
    let by_sentence = sentence_ends
        .map(|end| text[..end].trim_end())
        .filter(|start| !start.is_empty() && length(start) <= max)
        .last();
    if let Some(start) = by_sentence {
        return Some(start.to_owned());
    }
    text.char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .map(|(at, _)| format!("{}…", text[..at].trim_end()))
        .filter(|start| start.chars().count() > 1 && length(start) <= max)
        .last()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rules(max_length: usize, max_hashtags: usize) -> CaptionRules {
        CaptionRules {
            max_length,
            unit: "characters",
            max_hashtags,
            fold_at: None,
            line_breaks: LineBreaks::Kept,
        }
    }

    fn characters(text: &str) -> usize {
        text.chars().count()
    }

    #[test]
    fn a_models_wrapping_is_taken_off() {
        assert_eq!(
            fit(
                "Caption: \"Blue mugs are back.\"",
                &rules(280, 2),
                &characters
            ),
            "Blue mugs are back."
        );
        assert_eq!(
            fit("“Blue mugs.”\n\n", &rules(280, 2), &characters),
            "Blue mugs."
        );
    }

    #[test]
    fn hashtags_past_the_number_go() {
        assert_eq!(
            fit(
                "Blue mugs.\n\n#mugs #pottery #blue #handmade",
                &rules(280, 2),
                &characters
            ),
            "Blue mugs.\n\n#mugs #pottery"
        );
    }

    #[test]
    fn a_long_caption_is_cut_after_a_sentence_and_keeps_its_hashtags() {
        let caption = "Blue mugs are back. We fired them on Tuesday and they came out deep. \
                       Twelve left.\n\n#mugs #pottery";
        let fitted = fit(caption, &rules(50, 2), &characters);
        assert_eq!(fitted, "Blue mugs are back.\n\n#mugs #pottery");
    }

    #[test]
    fn hashtags_on_the_last_line_of_text_stay_with_a_cut_caption() {
        let caption = "Blue mugs are back. We fired them on Tuesday. #mugs #pottery";
        assert_eq!(
            fit(caption, &rules(45, 2), &characters),
            "Blue mugs are back. #mugs #pottery"
        );
    }

    #[test]
    fn a_first_sentence_too_long_is_cut_at_a_word() {
        let fitted = fit(
            "Blue mugs fired on Tuesday in the big kiln",
            &rules(20, 2),
            &characters,
        );
        assert_eq!(fitted, "Blue mugs fired on…");
    }

    proptest! {
        #[test]
        fn a_fitted_caption_keeps_the_limits(
            caption in "[a-z #.!?\n]{0,400}",
            max_length in 1usize..300,
            max_hashtags in 0usize..5,
        ) {
            let fitted = fit(&caption, &rules(max_length, max_hashtags), &characters);
            prop_assert!(characters(&fitted) <= max_length, "{caption:?} -> {fitted:?}");
            prop_assert!(HASHTAG.find_iter(&fitted).count() <= max_hashtags, "{fitted:?}");
        }
    }

    #[test]
    fn line_breaks_are_held_to_what_the_platform_shows() {
        let text = "New mugs.\n\n\n\nBlue and green.\nFrom Monday.";
        let mut kept = rules(2_200, 5);
        assert_eq!(fit(text, &kept, &characters), text);
        kept.line_breaks = LineBreaks::OneBlankLine;
        assert_eq!(
            fit(text, &kept, &characters),
            "New mugs.\n\nBlue and green.\nFrom Monday."
        );
        kept.line_breaks = LineBreaks::None;
        assert_eq!(
            fit(text, &kept, &characters),
            "New mugs. Blue and green. From Monday."
        );
    }
}
