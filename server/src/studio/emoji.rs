//! Emoji for the Studio, from the Unicode data the `emojis` crate carries (CLDR names, GitHub
//! shortcodes, groups): suggestions matched to a caption's words, the picker's search, and where
//! a caption's emoji stand, which the authenticity pass's emoji rule counts.
//!
//! Only base emoji are offered: a skin tone is the person's choice, made in the picker. An emoji
//! is one grapheme cluster however many code points make it (a flag, a keycap, a skin-toned
//! hand, a family). Symbols that read as text unless asked to look like emoji (©, ®, ™, ‼,
//! arrows) count only with the emoji variation selector U+FE0F after them, so "Glazeworks™" has
//! no emoji in it.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use emojis::{Emoji, Group, SkinTone};
use unicode_segmentation::UnicodeSegmentation;

use app::types::EmojiPick;

/// How many emoji one caption word may bring into the suggestions: "face" alone names a hundred.
const PER_WORD: usize = 2;

/// Caption words too common to mean anything an emoji could show.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "this", "that", "these", "those", "your", "yours", "our",
    "ours", "you", "are", "was", "were", "been", "being", "has", "have", "had", "but", "not",
    "all", "any", "can", "will", "just", "its", "into", "onto", "over", "than", "then", "them",
    "they", "their", "there", "here", "what", "when", "where", "which", "who", "why", "how", "too",
    "very", "out", "off", "some", "more", "most", "each", "every", "about", "get", "got", "one",
];

/// Text presentation: the symbol before it is to look like text, not like an emoji.
const AS_TEXT: char = '\u{FE0E}';
/// Emoji presentation: the symbol before it is to look like an emoji.
const AS_EMOJI: char = '\u{FE0F}';

/// One base emoji and the words it is found by, lower case.
struct Known {
    emoji: &'static Emoji,
    /// "hot", "beverage".
    name_words: Vec<String>,
    /// Whole: "coffee", "cat2", "+1".
    shortcodes: Vec<String>,
    /// The parts of shortcodes written with underscores: "slightly", "smiling", "face".
    shortcode_parts: Vec<String>,
    /// "food", "drink".
    group_words: Vec<String>,
}

impl Known {
    fn new(emoji: &'static Emoji) -> Self {
        let shortcodes: Vec<String> = emoji.shortcodes().map(str::to_lowercase).collect();
        let shortcode_parts = shortcodes
            .iter()
            .filter(|code| code.contains('_'))
            .flat_map(|code| code.split('_'))
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect();
        Self {
            emoji,
            name_words: words_of(emoji.name()),
            shortcodes,
            shortcode_parts,
            group_words: words_of(group_name(emoji.group())),
        }
    }

    fn words(&self) -> impl Iterator<Item = &str> {
        self.name_words
            .iter()
            .chain(&self.shortcodes)
            .chain(&self.shortcode_parts)
            .chain(&self.group_words)
            .map(String::as_str)
    }

    /// How many of `terms` only begin one of this emoji's words rather than being one, when
    /// every term does at least that; `None` when a term begins none of them.
    fn inexact_matches(&self, terms: &[String]) -> Option<usize> {
        let mut inexact = 0;
        for term in terms {
            if self.words().any(|word| word == term) {
                continue;
            }
            if !self.words().any(|word| word.starts_with(term.as_str())) {
                return None;
            }
            inexact += 1;
        }
        Some(inexact)
    }
}

/// How a caption word found an emoji, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Found {
    /// The word is one of its shortcodes: "coffee" for ☕.
    Shortcode,
    /// The word is a word of its name: "beverage" for ☕.
    NameWord,
    /// The word is a part of one of its shortcodes: "smiling" for 🙂.
    ShortcodePart,
}

struct Entry {
    /// Where the emoji is in [`KNOWN`].
    known: usize,
    found: Found,
}

/// Every base emoji, in Unicode's (CLDR) order.
static KNOWN: LazyLock<Vec<Known>> = LazyLock::new(|| emojis::iter().map(Known::new).collect());

/// The emoji each word finds, best first: by how it finds them, then the shorter names (a
/// closer match), then Unicode's order. Built once, so a suggestion is a few lookups.
static BY_WORD: LazyLock<HashMap<String, Vec<Entry>>> = LazyLock::new(|| {
    let mut index: HashMap<String, Vec<Entry>> = HashMap::new();
    for (at, known) in KNOWN.iter().enumerate() {
        let ways = known
            .shortcodes
            .iter()
            .map(|word| (word, Found::Shortcode))
            .chain(known.name_words.iter().map(|word| (word, Found::NameWord)))
            .chain(
                known
                    .shortcode_parts
                    .iter()
                    .map(|word| (word, Found::ShortcodePart)),
            );
        for (word, found) in ways {
            let entries = index.entry(word.clone()).or_default();
            // One entry per emoji and word, with the best way the word finds it.
            match entries.last_mut() {
                Some(last) if last.known == at => last.found = last.found.min(found),
                _ => entries.push(Entry { known: at, found }),
            }
        }
    }
    for entries in index.values_mut() {
        entries.sort_by_key(rank);
    }
    index
});

fn rank(entry: &Entry) -> (Found, usize, usize) {
    (
        entry.found,
        KNOWN[entry.known].name_words.len(),
        entry.known,
    )
}

/// Up to `limit` emoji for what `text` talks about, each with the word it was matched to:
/// those matched by a shortcode first, then by a word of their name, then by the word that comes
/// earlier in the caption. None is one the caption already has (in any skin tone).
pub fn suggest(text: &str, limit: usize) -> Vec<EmojiPick> {
    let present: HashSet<&'static str> = emoji_ranges(text)
        .into_iter()
        .filter_map(|range| emojis::get(&text[range]))
        .map(|emoji| base(emoji).as_str())
        .collect();
    // (how it was found, where the word stands, its place among the word's emoji, emoji, word)
    let mut candidates: Vec<(Found, usize, usize, usize, String)> = Vec::new();
    let mut seen_words: HashSet<String> = HashSet::new();
    for (position, word) in caption_words(text).into_iter().enumerate() {
        if !seen_words.insert(word.clone()) {
            continue;
        }
        let mut entries: Vec<&Entry> = Vec::new();
        for form in forms(&word) {
            for entry in BY_WORD.get(&form).into_iter().flatten() {
                if !entries.iter().any(|taken| taken.known == entry.known) {
                    entries.push(entry);
                }
            }
        }
        entries.sort_by_key(|entry| rank(entry));
        let offered = entries
            .into_iter()
            .filter(|entry| !present.contains(KNOWN[entry.known].emoji.as_str()))
            .take(PER_WORD);
        for (place, entry) in offered.enumerate() {
            candidates.push((entry.found, position, place, entry.known, word.clone()));
        }
    }
    candidates.sort_by_key(|candidate| (candidate.0, candidate.1, candidate.2));
    let mut chosen: HashSet<usize> = HashSet::new();
    candidates
        .into_iter()
        .filter(|candidate| chosen.insert(candidate.3))
        .take(limit)
        .map(|(_, _, _, known, word)| pick(KNOWN[known].emoji, Some(word)))
        .collect()
}

/// Up to `limit` emoji for the picker's search box: every word of `query` begins a word of the
/// emoji's name, one of its shortcodes or its group's name. Whole-word matches come first, then
/// shorter names, then Unicode's order. An empty query gives the first of "Smileys & Emotion".
pub fn search(query: &str, limit: usize) -> Vec<EmojiPick> {
    let terms = words_of(query);
    if terms.is_empty() {
        return Group::SmileysAndEmotion
            .emojis()
            .take(limit)
            .map(|emoji| pick(emoji, None))
            .collect();
    }
    let mut found: Vec<(usize, usize, usize)> = KNOWN
        .iter()
        .enumerate()
        .filter_map(|(at, known)| {
            let inexact = known.inexact_matches(&terms)?;
            Some((inexact, known.name_words.len(), at))
        })
        .collect();
    found.sort_unstable();
    found
        .into_iter()
        .take(limit)
        .map(|(_, _, at)| pick(KNOWN[at].emoji, None))
        .collect()
}

/// How many emoji `text` has.
pub fn count(text: &str) -> usize {
    emoji_ranges(text).len()
}

/// Where each emoji of `text` stands, in bytes, in order.
pub(crate) fn emoji_ranges(text: &str) -> Vec<Range<usize>> {
    text.grapheme_indices(true)
        .filter(|(_, cluster)| is_emoji(cluster))
        .map(|(at, cluster)| at..at + cluster.len())
        .collect()
}

/// Whether one grapheme cluster is an emoji: one the data knows, or a sequence it does not (newer
/// than the data, or an unusual combination) that starts with one.
fn is_emoji(cluster: &str) -> bool {
    if cluster.contains(AS_TEXT) {
        return false;
    }
    let mut chars = cluster.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let alone = chars.next().is_none();
    if emojis::get(cluster).is_some() {
        return !alone || shows_as_emoji(first);
    }
    let mut buffer = [0; 4];
    emojis::get(first.encode_utf8(&mut buffer)).is_some()
        && (shows_as_emoji(first) || cluster.contains(AS_EMOJI))
}

/// Whether `c` alone looks like an emoji: the pictographs past U+1F000, the miscellaneous
/// symbols and dingbats, and the few others Unicode shows as emoji by default
/// (Emoji_Presentation: ⌚, ⏩, ◽, ⭐, ⭕…). The other symbols the data knows read as text alone.
fn shows_as_emoji(c: char) -> bool {
    matches!(
        c,
        '\u{1F000}'..='\u{1FAFF}'
            | '\u{2600}'..='\u{27BF}'
            | '\u{231A}'
            | '\u{231B}'
            | '\u{23E9}'..='\u{23EC}'
            | '\u{23F0}'
            | '\u{23F3}'
            | '\u{25FD}'
            | '\u{25FE}'
            | '\u{2B1B}'
            | '\u{2B1C}'
            | '\u{2B50}'
            | '\u{2B55}'
    )
}

/// The emoji without its skin tone.
fn base(emoji: &'static Emoji) -> &'static Emoji {
    emoji.with_skin_tone(SkinTone::Default).unwrap_or(emoji)
}

/// The words of a caption that could mean an emoji, lower case, in order: not those of links and
/// @mentions, nor the short and common ones. A hashtag's word counts ("#coffee").
fn caption_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|token| {
            !(token.starts_with('@') || token.contains("://") || token.starts_with("www."))
        })
        .flat_map(|token| token.split(|c: char| !c.is_alphanumeric()))
        .filter(|word| word.chars().count() >= 3 && !word.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .filter(|word| !STOPWORDS.contains(&word.as_str()))
        .collect()
}

/// `word`, then its simple singulars ("boxes": "box", "boxe"; "mugs": "mug").
fn forms(word: &str) -> Vec<String> {
    let mut forms = vec![word.to_owned()];
    if let Some(stem) = word.strip_suffix("es") {
        forms.push(stem.to_owned());
    }
    if !word.ends_with("ss")
        && let Some(stem) = word.strip_suffix('s')
    {
        forms.push(stem.to_owned());
    }
    forms.retain(|form| form.chars().count() >= 3);
    forms
}

/// The words of `text`, lower case, cut at anything not a letter or a digit.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The group's name as Unicode (CLDR) writes it.
fn group_name(group: Group) -> &'static str {
    match group {
        Group::SmileysAndEmotion => "Smileys & Emotion",
        Group::PeopleAndBody => "People & Body",
        Group::AnimalsAndNature => "Animals & Nature",
        Group::FoodAndDrink => "Food & Drink",
        Group::TravelAndPlaces => "Travel & Places",
        Group::Activities => "Activities",
        Group::Objects => "Objects",
        Group::Symbols => "Symbols",
        Group::Flags => "Flags",
    }
}

fn pick(emoji: &'static Emoji, word: Option<String>) -> EmojiPick {
    EmojiPick {
        emoji: emoji.as_str().to_owned(),
        name: emoji.name().to_owned(),
        shortcode: emoji.shortcode().map(str::to_owned),
        group: group_name(emoji.group()).to_owned(),
        word,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(picks: &[EmojiPick]) -> Vec<&str> {
        picks.iter().map(|pick| pick.emoji.as_str()).collect()
    }

    #[test]
    fn a_caption_about_coffee_is_offered_a_hot_beverage() {
        let picks = suggest("New coffee mugs, fresh from the kiln", 5);
        let coffee = picks
            .iter()
            .find(|pick| pick.emoji == "☕")
            .unwrap_or_else(|| panic!("{picks:?}"));
        assert_eq!(coffee.word.as_deref(), Some("coffee"));
        assert_eq!(coffee.shortcode.as_deref(), Some("coffee"));
        assert_eq!(coffee.group, "Food & Drink");
    }

    #[test]
    fn an_emoji_the_caption_has_is_not_offered_again_in_any_skin_tone() {
        let picks = suggest("Coffee time ☕ and a wave 👋🏽 from the studio", 20);
        let offered = shown(&picks);
        assert!(!offered.contains(&"☕"), "{offered:?}");
        assert!(!offered.contains(&"👋"), "{offered:?}");
        let unique: HashSet<&str> = offered.iter().copied().collect();
        assert_eq!(unique.len(), offered.len(), "{offered:?}");
    }

    #[test]
    fn links_and_mentions_suggest_nothing() {
        assert!(suggest("@coffee https://coffee.example/coffee", 5).is_empty());
    }

    #[test]
    fn the_picker_finds_a_cat() {
        let offered = search("cat", 5);
        let offered = shown(&offered);
        assert!(
            offered.contains(&"🐈") || offered.contains(&"🐱"),
            "{offered:?}"
        );
    }

    #[test]
    fn every_word_of_a_search_must_match() {
        let picks = search("hot bev", 10);
        assert_eq!(shown(&picks).first(), Some(&"☕"), "{picks:?}");
        assert!(search("coffee zzzz", 10).is_empty());
    }

    #[test]
    fn an_empty_search_gives_the_smileys_in_order() {
        let picks = search("  ", 10);
        assert_eq!(picks.len(), 10);
        assert_eq!(picks[0].emoji, "😀");
        assert!(picks.iter().all(|pick| pick.group == "Smileys & Emotion"));
    }

    #[test]
    fn a_skin_tone_a_flag_and_a_keycap_are_one_emoji_each() {
        assert_eq!(count("hi 👋🏽 and 🇫🇷 and 1\u{FE0F}\u{20E3}"), 3);
        let text = "a☕b";
        assert_eq!(emoji_ranges(text), vec![1..4]);
    }

    #[test]
    fn symbols_that_read_as_text_are_not_emoji_unless_asked_to_be() {
        assert_eq!(count("© 2025 Glazeworks™ ‼ 1 # ★"), 0);
        assert_eq!(count("❤\u{FE0F} and ©\u{FE0F}"), 2);
        assert_eq!(count("☺\u{FE0E}"), 0);
    }
}
