//! Each rule of the authenticity pass, as a function from the text as it stands to what the rule
//! would change in it. The pass ([`super::Voice::pass`]) makes the changes; the score
//! ([`super::Voice::score`]) counts them.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use app::types::VoiceRule;

use crate::studio::emoji::emoji_ranges;

use super::Voice;
use super::draft::Finding;
use super::sentences::sentences;
use super::words::{PhraseMatch, Word, words};

/// The text the rules read, cut once into words.
pub struct Reading<'a> {
    pub text: &'a str,
    pub words: Vec<Word>,
    /// Where the user's phrases to keep stand: no rule touches them.
    pub kept: Vec<Range<usize>>,
}

impl<'a> Reading<'a> {
    pub fn new(text: &'a str, voice: &Voice) -> Self {
        let words = words(text);
        let kept = voice
            .keep
            .find(text, &words)
            .into_iter()
            .map(|found| found.range)
            .collect();
        Self { text, words, kept }
    }

    fn touches_kept(&self, range: &Range<usize>) -> bool {
        self.kept
            .iter()
            .any(|kept| range.start <= kept.end && kept.start <= range.end)
    }

    /// Findings that leave the kept phrases alone.
    fn sparing_kept(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|finding| !self.touches_kept(&finding.range))
            .collect()
    }
}

/// The user's phrases to avoid, machine tells and buzzwords, in that order where two overlap.
pub fn phrases(reading: &Reading<'_>, voice: &Voice) -> Vec<Finding> {
    let lists = [
        (VoiceRule::Banned, &voice.avoid),
        (VoiceRule::MachineTell, &voice.tells),
        (VoiceRule::Buzzword, &voice.buzzwords),
    ];
    let mut claimed: Vec<(VoiceRule, PhraseMatch)> = Vec::new();
    for (rule, list) in lists {
        for found in list.find(reading.text, &reading.words) {
            let free = claimed.iter().all(|(_, taken)| {
                found.range.end <= taken.range.start || taken.range.end <= found.range.start
            });
            if free {
                claimed.push((rule, found));
            }
        }
    }
    let findings = claimed
        .into_iter()
        .map(|(rule, found)| {
            let mut finding = match found.replacement.as_deref() {
                None | Some("") => removal(reading.text, found.range.clone(), rule),
                Some(plain) => replacement(reading.text, found.range.clone(), plain, rule),
            };
            finding.seen = Some(found.range);
            finding
        })
        .collect();
    reading.sparing_kept(findings)
}

static NOT_JUST_BUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bnot (?:just|only|merely) ([^,.!?;\n]+?),?\s+but(?:\s+also)?\s+([^,.!?;\n]+)")
        .expect("the pattern is valid")
});

/// "Not just a mug, but a statement" says "a mug and a statement".
pub fn not_just_but(reading: &Reading<'_>) -> Vec<Finding> {
    let findings = NOT_JUST_BUT
        .captures_iter(reading.text)
        .map(|found| {
            let whole = found.get(0).expect("group 0 is the match");
            let said = format!("{} and {}", &found[1], found[2].trim_end());
            let after = if reading.text[whole.range()].starts_with('N') {
                capitalized(&said)
            } else {
                said
            };
            Finding {
                range: whole.start()..whole.start() + whole.as_str().trim_end().len(),
                after,
                rule: VoiceRule::NotJustButY,
                seen: None,
            }
        })
        .collect();
    reading.sparing_kept(findings)
}

/// "Bold, bright and beautiful" keeps its first two: "bold and bright".
pub fn triple_adjectives(reading: &Reading<'_>, voice: &Voice) -> Vec<Finding> {
    let words = &reading.words;
    let gap =
        |from: usize, to: usize| reading.text[words[from].range.end..words[to].range.start].trim();
    let mut findings = Vec::new();
    let mut at = 0;
    while at < words.len() {
        if !voice.adjectives.contains(&words[at]) {
            at += 1;
            continue;
        }
        let mut run = vec![at];
        let mut last = at;
        loop {
            let next = last + 1;
            if next < words.len()
                && gap(last, next) == ","
                && voice.adjectives.contains(&words[next])
            {
                run.push(next);
                last = next;
                continue;
            }
            let joined_by_and = next + 1 < words.len()
                && words[next].key == "and"
                && matches!(gap(last, next), "," | "")
                && gap(next, next + 1).is_empty()
                && voice.adjectives.contains(&words[next + 1]);
            let joined_by_ampersand = next < words.len()
                && matches!(gap(last, next), "&" | ", &")
                && voice.adjectives.contains(&words[next]);
            if joined_by_and {
                run.push(next + 1);
                last = next + 1;
            } else if joined_by_ampersand {
                run.push(next);
                last = next;
            }
            break;
        }
        if run.len() >= 3 {
            let first = &reading.text[words[run[0]].range.clone()];
            let second = &reading.text[words[run[1]].range.clone()];
            findings.push(Finding {
                range: words[run[0]].range.start..words[last].range.end,
                after: format!("{first} and {second}"),
                rule: VoiceRule::TripleAdjectives,
                seen: None,
            });
        }
        at = last + 1;
    }
    reading.sparing_kept(findings)
}

/// One em dash reads as a person's aside; more read as a machine's habit. The first stays,
/// the others become commas.
pub fn stacked_dashes(reading: &Reading<'_>) -> Vec<Finding> {
    let text = reading.text;
    let findings = text
        .match_indices('—')
        .skip(1)
        .map(|(at, dash)| {
            let start = text[..at].trim_end_matches([' ', '\t']).len();
            let rest = text[at + dash.len()..].trim_start_matches([' ', '\t']);
            let end = text.len() - rest.len();
            let after = if rest.is_empty() || rest.starts_with(['.', '!', '?', ',', ';', ':', '\n'])
            {
                ""
            } else if text[..start].ends_with([',', ';', ':']) {
                " "
            } else {
                ", "
            };
            Finding {
                range: start..end,
                after: after.to_owned(),
                rule: VoiceRule::StackedDashes,
                seen: None,
            }
        })
        .collect();
    reading.sparing_kept(findings)
}

/// Runs of `!` become one; past the voice's allowance, a `!` becomes a full stop.
pub fn exclamations(reading: &Reading<'_>, allowed: usize) -> Vec<Finding> {
    let text = reading.text;
    let mut findings = Vec::new();
    let mut seen = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '!' {
            continue;
        }
        let mut end = at + 1;
        while chars.peek().is_some_and(|(_, next)| *next == '!') {
            chars.next();
            end += 1;
        }
        let after = if seen < allowed { "!" } else { "." };
        seen += 1;
        if &text[at..end] != after {
            findings.push(Finding {
                range: at..end,
                after: after.to_owned(),
                rule: VoiceRule::Exclamations,
                seen: None,
            });
        }
    }
    reading.sparing_kept(findings)
}

/// Past the platform's number, the last hashtags go; the user's own kept ones stay and count.
pub fn hashtags(reading: &Reading<'_>, most: usize) -> Vec<Finding> {
    let text = reading.text;
    let tags: Vec<&Word> = reading.words.iter().filter(|word| word.hashtag).collect();
    let kept = tags
        .iter()
        .filter(|tag| reading.touches_kept(&tag.range))
        .count();
    let removable: Vec<&&Word> = tags
        .iter()
        .filter(|tag| !reading.touches_kept(&tag.range))
        .collect();
    let room = most.saturating_sub(kept);
    removable
        .iter()
        .skip(room)
        .map(|tag| {
            let before = text[..tag.range.start].trim_end_matches([' ', '\t']);
            let range = if before.is_empty() || before.ends_with('\n') {
                let rest = text[tag.range.end..].trim_start_matches([' ', '\t']);
                tag.range.start..text.len() - rest.len()
            } else {
                before.len()..tag.range.end
            };
            Finding {
                range,
                after: String::new(),
                rule: VoiceRule::Hashtags,
                seen: None,
            }
        })
        .collect()
}

/// Past the voice's number of emoji, the later ones go; those inside the user's kept phrases stay
/// and count.
pub fn emoji(reading: &Reading<'_>, most: usize) -> Vec<Finding> {
    let found = emoji_ranges(reading.text);
    let in_kept = |emoji: &Range<usize>| {
        reading
            .kept
            .iter()
            .any(|kept| emoji.start < kept.end && kept.start < emoji.end)
    };
    let kept = found.iter().filter(|emoji| in_kept(emoji)).count();
    let going: Vec<Range<usize>> = found
        .into_iter()
        .filter(|emoji| !in_kept(emoji))
        .skip(most.saturating_sub(kept))
        .collect();
    going
        .iter()
        .map(|emoji| emoji_removal(reading.text, emoji, &going))
        .collect()
}

/// Takes out one emoji of `going` (all those that go) with the spaces it would leave doubled: at
/// a line's start (where only spaces and other emoji that go come before it) the spaces after
/// it, elsewhere those before it. An emoji that stood between two words leaves a space.
fn emoji_removal(text: &str, emoji: &Range<usize>, going: &[Range<usize>]) -> Finding {
    let mut before = emoji.start;
    loop {
        before = text[..before].trim_end_matches([' ', '\t']).len();
        match going.iter().find(|other| other.end == before) {
            Some(other) => before = other.start,
            None => break,
        }
    }
    let opens_line = before == 0 || text[..before].ends_with('\n');
    let (range, after) = if opens_line {
        let rest = text[emoji.end..].trim_start_matches([' ', '\t']);
        (emoji.start..text.len() - rest.len(), "")
    } else {
        let start = text[..emoji.start].trim_end_matches([' ', '\t']).len();
        let word_follows = text[emoji.end..]
            .chars()
            .next()
            .is_some_and(|next| next.is_alphanumeric() || matches!(next, '#' | '@'));
        (start..emoji.end, if word_follows { " " } else { "" })
    };
    Finding {
        range,
        after: after.to_owned(),
        rule: VoiceRule::TooManyEmoji,
        seen: Some(emoji.clone()),
    }
}

/// Words that start a sentence and read as well inside one, so a merged sentence can take them
/// in lower case. Any other capital (a name) stays.
const LOWERED_OPENERS: [&str; 22] = [
    "the", "they", "it", "its", "it's", "we", "we're", "our", "this", "that", "these", "those",
    "there", "he", "she", "his", "her", "you", "your", "my", "each", "every",
];

/// Three sentences in a row of about the same length read like a template. The second and
/// third of such a run become one: "The glaze is blue. They ship on Monday." reads "The glaze
/// is blue, and they ship on Monday."
pub fn same_length_sentences(reading: &Reading<'_>) -> Vec<Finding> {
    let text = reading.text;
    let found = sentences(text);
    let mut findings = Vec::new();
    let mut at = 0;
    while at + 2 < found.len() {
        let run = &found[at..at + 3];
        let lengths: Vec<usize> = run.iter().map(|sentence| sentence.words).collect();
        let shortest = *lengths.iter().min().expect("three sentences");
        let longest = *lengths.iter().max().expect("three sentences");
        let alike = shortest >= 3 && longest - shortest <= (shortest / 5).max(1);
        let (second, third) = (&run[1], &run[2]);
        let between = &text[second.range.end..third.range.start];
        let opener = words(&text[third.range.clone()])
            .into_iter()
            .next()
            .map(|word| word.key);
        let joinable = second.end_mark == '.'
            && text[second.range.clone()].ends_with('.')
            && !text[second.range.clone()].ends_with("..")
            && between.chars().all(|c| c == ' ')
            && !matches!(opener.as_deref(), Some("and" | "but" | "so" | "or"));
        if !(alike && joinable) {
            at += 1;
            continue;
        }
        let first_char = text[third.range.start..]
            .chars()
            .next()
            .expect("a sentence has a character");
        let lowered = opener
            .as_deref()
            .is_some_and(|opener| LOWERED_OPENERS.contains(&opener));
        let shown: String = if lowered {
            first_char.to_lowercase().collect()
        } else {
            first_char.to_string()
        };
        findings.push(Finding {
            range: second.range.end - 1..third.range.start + first_char.len_utf8(),
            after: format!(", and {shown}"),
            rule: VoiceRule::SameLengthSentences,
            seen: None,
        });
        at += 3;
    }
    reading.sparing_kept(findings)
}

/// Takes `range` out of `text` with the separators it would leave dangling: the space before
/// it, a comma after it (both, when it sat between two commas), and at a sentence's start the
/// capital moves to the next word.
pub fn removal(text: &str, range: Range<usize>, rule: VoiceRule) -> Finding {
    let left = text[..range.start].trim_end_matches([' ', '\t']);
    let right = text[range.end..].trim_start_matches([' ', '\t']);
    let opens_sentence = left.is_empty() || left.ends_with(['.', '!', '?', '\n']);
    if opens_sentence {
        let rest = right
            .trim_start_matches([',', ';', ':', '!', '.', '—', '-'])
            .trim_start_matches([' ', '\t']);
        let mut end = text.len() - rest.len();
        let mut after = String::new();
        if !rest.is_empty() && !left.is_empty() && !left.ends_with('\n') {
            after.push(' ');
        }
        if let Some(first) = rest.chars().next().filter(|first| first.is_lowercase()) {
            after.extend(first.to_uppercase());
            end += first.len_utf8();
        }
        return Finding {
            range: left.len()..end,
            after,
            rule,
            seen: None,
        };
    }
    let mut start = left.len();
    let mut rest = right;
    if right.starts_with([',', ';']) && left.ends_with(',') {
        start -= 1;
        rest = right[1..].trim_start_matches([' ', '\t']);
    }
    let after = if rest.is_empty() || rest.starts_with(['.', '!', '?', ',', ';', ':', '\n', ')']) {
        ""
    } else {
        " "
    };
    Finding {
        range: start..text.len() - rest.len(),
        after: after.to_owned(),
        rule,
        seen: None,
    }
}

/// Puts `plain` where `range` stands, in the case the original was written in.
pub fn replacement(text: &str, range: Range<usize>, plain: &str, rule: VoiceRule) -> Finding {
    let original = &text[range.clone()];
    let letters: Vec<char> = original.chars().filter(|c| c.is_alphabetic()).collect();
    let after = if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) {
        plain.to_uppercase()
    } else if letters.first().is_some_and(|c| c.is_uppercase()) {
        capitalized(plain)
    } else {
        plain.to_owned()
    };
    Finding {
        range,
        after,
        rule,
        seen: None,
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(text: &str, phrase: &str) -> String {
        let start = text.find(phrase).unwrap();
        let finding = removal(text, start..start + phrase.len(), VoiceRule::MachineTell);
        format!(
            "{}{}{}",
            &text[..finding.range.start],
            finding.after,
            &text[finding.range.end..]
        )
    }

    #[test]
    fn a_removal_leaves_no_dangling_commas_or_small_capitals() {
        assert_eq!(
            removed(
                "In today's fast-paced world, mugs matter.",
                "In today's fast-paced world"
            ),
            "Mugs matter."
        );
        assert_eq!(
            removed("Hi. Look no further, our mugs are here.", "Look no further"),
            "Hi. Our mugs are here."
        );
        assert_eq!(removed("We elevate mugs.", "elevate"), "We mugs.");
        assert_eq!(
            removed("Mugs, needless to say, are back.", "needless to say"),
            "Mugs are back."
        );
        assert_eq!(
            removed("Shop now buckle up, then go.", "buckle up"),
            "Shop now, then go."
        );
        assert_eq!(removed("Mugs buckle up.", "buckle up"), "Mugs.");
        assert_eq!(removed("buckle up", "buckle up"), "");
    }

    #[test]
    fn a_replacement_keeps_the_originals_case() {
        let text = "Elevate it. ELEVATE it. elevate it.";
        let cases: Vec<String> = [0, 12, 24]
            .into_iter()
            .map(|at| replacement(text, at..at + 7, "lift", VoiceRule::Buzzword).after)
            .collect();
        assert_eq!(cases, ["Lift", "LIFT", "lift"]);
    }
}
