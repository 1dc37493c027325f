//! Offline proofreading for the Studio's caption editor: spelling and grammar from Harper
//! (`harper-core`) with its own curated American English dictionary, no network and no model.
//!
//! A person's own words (their brand dictionary, their products' names) are never flagged, and
//! nothing is flagged in the parts of a caption that are not prose: hashtags, @mentions, links
//! and emoji. Flags point at bytes of the caption as it was sent, which is what the browser's
//! editor works on. Checking is CPU work (Harper's rules are built and run for each caption, and
//! the first check loads the dictionary): call it off the async runtime (`spawn_blocking`).

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use harper_core::linting::{Lint, LintGroup, LintKind, Linter, Suggestion};
use harper_core::spell::{FstDictionary, MergedDictionary, MutableDictionary};
use harper_core::{Dialect, Document, NounData, WordMetadata};
use regex::Regex;

use app::types::{ProofFlag, ProofKind};

use super::emoji::emoji_ranges;

/// The most fixes one flag offers.
const MOST_FIXES: usize = 3;

/// Links (with a scheme, `www.`, or a bare `name.tld/path`), hashtags and @mentions.
static NOT_PROSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"https?://\S+|www\.\S+|[#@][\p{L}\p{N}_.]*[\p{L}\p{N}_]|\b[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.[a-z]{2,24}\b(?:/\S*)?",
    )
    .expect("the pattern is valid")
});

/// Spelling and grammar checks, with Harper's curated dictionary loaded once, at the first
/// check, and shared (loading takes a moment of CPU that a server starting up, or a test that
/// never proofreads, should not pay).
///
/// Harper's `LintGroup` keeps its rules as `Box<dyn Linter>`, which is neither `Send` nor
/// `Sync` (harper-core's `concurrent` feature changes only its `Rc`s), so one cannot be shared
/// between requests: each check builds its own, around a dictionary that has the person's words
/// in it anyway. The dictionary, the costly part to load, is what is shared.
#[derive(Debug, Clone, Copy, Default)]
pub struct Proofreader;

impl Proofreader {
    /// What Harper would change in `text`, in order, none overlapping another. `own_words` are
    /// the person's: words (or names of several words) that are right however the dictionary
    /// sees them.
    pub fn check(&self, text: &str, own_words: &[String]) -> Vec<ProofFlag> {
        if text.trim().is_empty() {
            return Vec::new();
        }
        let own = OwnWords::new(own_words);
        let dictionary = Arc::new(self.with_words(&own));
        let document = Document::new_plain_english(text, &*dictionary);
        let mut rules = LintGroup::new_curated(dictionary, Dialect::American);
        let lints = rules.lint(&document);

        let bytes = CharBytes::new(text);
        let not_prose = not_prose(text);
        let mut found: Vec<(u8, ProofFlag)> = lints
            .into_iter()
            .filter_map(|lint| {
                let range = bytes.range(lint.span.start, lint.span.end)?;
                if not_prose.iter().any(|part| overlap(part, &range)) {
                    return None;
                }
                let kind = kind_of(lint.lint_kind);
                if kind == ProofKind::Spelling && own.contains(&text[range.clone()]) {
                    return None;
                }
                Some((lint.priority, flag(text, range, kind, &lint)))
            })
            .collect();
        // Where two start together, Harper's more important one (the lower priority) goes first.
        found.sort_by_key(|(priority, flag)| (flag.start, *priority));
        let mut flags: Vec<ProofFlag> = Vec::with_capacity(found.len());
        for (_, flag) in found {
            let overlaps = flags.last().is_some_and(|last| flag.start < last.end);
            if !overlaps {
                flags.push(flag);
            }
        }
        flags
    }

    /// The curated dictionary with the person's words after it: where both have a word, the
    /// curated one's grammar facts win.
    fn with_words(&self, own: &OwnWords) -> MergedDictionary {
        let mut merged = MergedDictionary::new();
        merged.add_dictionary(FstDictionary::curated());
        if !own.words.is_empty() {
            let mut theirs = MutableDictionary::new();
            theirs.extend_words(
                own.words
                    .iter()
                    .map(|word| (word.chars().collect::<Vec<char>>(), metadata_of(word))),
            );
            merged.add_dictionary(Arc::new(theirs));
        }
        merged
    }
}

/// A person's own words as given, and cut into the words Harper reads ("Glazeworks Studio" is
/// also "Glazeworks" and "Studio").
struct OwnWords {
    /// Each single word, as written.
    words: Vec<String>,
    /// Every entry and every word of it, lower case.
    lowered: Vec<String>,
}

impl OwnWords {
    fn new(entries: &[String]) -> Self {
        let mut words = Vec::new();
        let mut lowered = Vec::new();
        for entry in entries.iter().map(|entry| entry.trim()) {
            if entry.is_empty() {
                continue;
            }
            lowered.push(entry.to_lowercase());
            let parts = entry
                .split(|c: char| !(c.is_alphanumeric() || matches!(c, '\'' | '’')))
                .map(|part| part.trim_matches(['\'', '’']))
                .filter(|part| !part.is_empty());
            for part in parts {
                if !words.iter().any(|word| word == part) {
                    words.push(part.to_owned());
                    lowered.push(part.to_lowercase());
                }
            }
        }
        Self { words, lowered }
    }

    fn contains(&self, flagged: &str) -> bool {
        let flagged = flagged.to_lowercase();
        self.lowered.contains(&flagged)
    }
}

/// A person's word, to Harper: a noun, and a name where it is written with a capital.
fn metadata_of(word: &str) -> WordMetadata {
    let proper = word.chars().next().is_some_and(char::is_uppercase);
    WordMetadata {
        noun: Some(NounData {
            is_proper: Some(proper),
            ..NounData::default()
        }),
        ..WordMetadata::default()
    }
}

/// Where the characters of a text start, in bytes, and where it ends: Harper counts
/// characters, the editor bytes.
struct CharBytes(Vec<usize>);

impl CharBytes {
    fn new(text: &str) -> Self {
        Self(
            text.char_indices()
                .map(|(at, _)| at)
                .chain([text.len()])
                .collect(),
        )
    }

    /// The bytes of characters `start..end`.
    fn range(&self, start: usize, end: usize) -> Option<Range<usize>> {
        let range = *self.0.get(start)?..*self.0.get(end)?;
        (range.start <= range.end).then_some(range)
    }
}

/// The bytes of `text` that are not prose: links, hashtags, mentions and emoji.
fn not_prose(text: &str) -> Vec<Range<usize>> {
    NOT_PROSE
        .find_iter(text)
        .map(|found| found.range())
        .chain(emoji_ranges(text))
        .collect()
}

fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Harper's kinds, sorted by what a person makes of them: a misspelled word, something wrong,
/// or something that reads better another way.
fn kind_of(kind: LintKind) -> ProofKind {
    match kind {
        LintKind::Spelling | LintKind::Typo => ProofKind::Spelling,
        LintKind::Agreement
        | LintKind::BoundaryError
        | LintKind::Capitalization
        | LintKind::Eggcorn
        | LintKind::Grammar
        | LintKind::Malapropism
        | LintKind::Miscellaneous
        | LintKind::Nonstandard
        | LintKind::Punctuation
        | LintKind::Repetition
        | LintKind::Usage
        | LintKind::WordChoice => ProofKind::Grammar,
        LintKind::Enhancement
        | LintKind::Formatting
        | LintKind::Readability
        | LintKind::Redundancy
        | LintKind::Regionalism
        | LintKind::Style => ProofKind::Style,
    }
}

/// One lint as a flag on bytes `range` of `text`, each suggestion written out as the whole text
/// that would stand there.
fn flag(text: &str, range: Range<usize>, kind: ProofKind, lint: &Lint) -> ProofFlag {
    let flagged = &text[range.clone()];
    let mut fixes: Vec<String> = Vec::new();
    for suggestion in &lint.suggestions {
        let fix: String = match suggestion {
            Suggestion::ReplaceWith(chars) => chars.iter().collect(),
            Suggestion::Remove => String::new(),
            Suggestion::InsertAfter(chars) => {
                let mut fix = flagged.to_owned();
                fix.extend(chars);
                fix
            }
        };
        if fix != flagged && !fixes.contains(&fix) {
            fixes.push(fix);
        }
        if fixes.len() == MOST_FIXES {
            break;
        }
    }
    ProofFlag {
        start: range.start,
        end: range.end,
        kind,
        // Harper writes its messages in Markdown: `really` is code there, a quotation here.
        message: lint.message.replace('`', "\""),
        fixes,
    }
}

#[cfg(test)]
mod tests {
    use app::types::apply_fix;

    use super::*;

    fn flagged<'a>(text: &'a str, flags: &[ProofFlag]) -> Vec<&'a str> {
        flags
            .iter()
            .map(|flag| &text[flag.start..flag.end])
            .collect()
    }

    #[test]
    fn the_proofreader_can_be_shared_between_requests() {
        fn shared<T: Send + Sync>() {}
        shared::<Proofreader>();
    }

    #[test]
    fn a_misspelling_is_flagged_in_bytes_with_its_fix() {
        let text = "Café mugs are realy nice.";
        let flags = Proofreader.check(text, &[]);
        let flag = flags
            .iter()
            .find(|flag| &text[flag.start..flag.end] == "realy")
            .unwrap_or_else(|| panic!("{flags:?}"));
        // Bytes, not characters: "é" takes two.
        assert_eq!(flag.start, text.find("realy").unwrap());
        assert_eq!(flag.kind, ProofKind::Spelling);
        assert!(flag.fixes.iter().any(|fix| fix == "really"), "{flag:?}");
        assert!(flag.fixes.len() <= MOST_FIXES);
        assert_eq!(
            apply_fix(text, flag.start..flag.end, "really").as_deref(),
            Some("Café mugs are really nice.")
        );
    }

    #[test]
    fn a_repeated_word_is_flagged() {
        let text = "We fired mugs and and bowls this week.";
        let flags = Proofreader.check(text, &[]);
        let flag = flags
            .iter()
            .find(|flag| text[flag.start..flag.end].starts_with("and and"))
            .unwrap_or_else(|| panic!("{flags:?}"));
        assert_eq!(flag.kind, ProofKind::Grammar);
        assert!(flag.fixes.iter().any(|fix| fix == "and"), "{flag:?}");
    }

    #[test]
    fn the_persons_own_words_are_never_misspelled() {
        let proofreader = Proofreader;
        let text = "Glazeworks mugs are back, and glazeworks bowls too.";
        let strangers = proofreader.check(text, &[]);
        assert!(
            flagged(text, &strangers).contains(&"Glazeworks"),
            "the dictionary should not know the brand: {strangers:?}"
        );
        let theirs = proofreader.check(text, &["Glazeworks Studio".to_owned()]);
        let words = flagged(text, &theirs);
        assert!(
            !words
                .iter()
                .any(|word| word.eq_ignore_ascii_case("glazeworks")),
            "{theirs:?}"
        );
    }

    #[test]
    fn hashtags_mentions_links_and_emoji_are_not_prose() {
        let text = "New mugs 🔥 at https://glazeworks.shop/mugs and glazewrks.com, \
                    ask @glazewrks #potterylife #handmadeceramix";
        let flags = Proofreader.check(text, &[]);
        let words = flagged(text, &flags);
        for part in [
            "🔥",
            "https://glazeworks.shop/mugs",
            "glazewrks.com",
            "@glazewrks",
            "#potterylife",
            "#handmadeceramix",
        ] {
            let start = text.find(part).unwrap();
            let range = start..start + part.len();
            assert!(
                !flags
                    .iter()
                    .any(|flag| overlap(&(flag.start..flag.end), &range)),
                "{part} was flagged: {words:?}"
            );
        }
    }

    #[test]
    fn flags_come_in_order_and_never_overlap() {
        let text = "Ths mugs is realy realy nice nice and and cheap.";
        let flags = Proofreader.check(text, &[]);
        assert!(!flags.is_empty());
        for pair in flags.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{flags:?}");
        }
    }

    #[test]
    fn an_empty_caption_has_nothing_to_flag() {
        assert!(Proofreader.check("  \n", &[]).is_empty());
    }
}
