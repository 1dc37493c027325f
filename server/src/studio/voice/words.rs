//! Words as the rules see them: a caption cut into words (with where each stands), and lists of
//! phrases read from the word files, found in a caption whatever their case or apostrophes.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// One word of a caption: letters and digits, with the apostrophes and hyphens inside it
/// ("today's", "fast-paced"), or a hashtag with its `#`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub range: Range<usize>,
    /// Lower case, with curly apostrophes made straight, for comparing.
    pub key: String,
    pub hashtag: bool,
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word> {
    let mut found = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let hashtag = c == '#' && chars.peek().is_some_and(|(_, next)| next.is_alphanumeric());
        if !(hashtag || c.is_alphanumeric()) {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(at, next)) = chars.peek() {
            if next.is_alphanumeric() || next == '_' && hashtag {
                end = at + next.len_utf8();
                chars.next();
                continue;
            }
            // A joiner belongs to the word only between two letters or digits.
            let joins = matches!(next, '\'' | '’' | '-')
                && text[at + next.len_utf8()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric);
            if !joins {
                break;
            }
            chars.next();
            end = at + next.len_utf8();
        }
        found.push(Word {
            range: start..end,
            key: key_of(&text[start..end]),
            hashtag,
        });
    }
    found
}

/// How a word is compared: lower case, straight apostrophes.
pub fn key_of(word: &str) -> String {
    word.to_lowercase().replace('’', "'")
}

/// A list of phrases, each with what replaces it: `Some("")` removes it, `None` only marks it
/// (a phrase to keep).
#[derive(Debug, Clone, Default)]
pub struct PhraseList {
    phrases: Vec<Phrase>,
    /// Phrase indexes by their first word.
    by_first_word: HashMap<String, Vec<usize>>,
}

#[derive(Debug, Clone)]
struct Phrase {
    /// As the list writes it.
    shown: String,
    keys: Vec<String>,
    replacement: Option<String>,
}

/// Where a phrase of a list stands in a caption, and what replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhraseMatch {
    pub range: Range<usize>,
    pub replacement: Option<String>,
}

impl PhraseList {
    /// Reads a word file: a phrase a line, `phrase => replacement` to replace it, `phrase =>` to
    /// remove it; a bare phrase is removed too. `#` starts a comment line.
    pub fn parse(lines: &str) -> Self {
        let mut list = Self::default();
        for line in lines.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (phrase, replacement) = match line.split_once("=>") {
                Some((phrase, replacement)) => (phrase.trim(), replacement.trim()),
                None => (line, ""),
            };
            list.add(phrase, Some(replacement.to_owned()));
        }
        list
    }

    /// Phrases that are only found, never replaced: what a user always keeps.
    pub fn marking(phrases: &[String]) -> Self {
        let mut list = Self::default();
        for phrase in phrases {
            list.add(phrase, None);
        }
        list
    }

    /// Phrases a user avoids, each removed, or replaced where written `phrase => replacement`.
    pub fn avoiding(phrases: &[String]) -> Self {
        Self::parse(&phrases.join("\n"))
    }

    fn add(&mut self, phrase: &str, replacement: Option<String>) {
        let keys: Vec<String> = words(phrase).into_iter().map(|word| word.key).collect();
        let Some(first) = keys.first().cloned() else {
            return;
        };
        self.by_first_word
            .entry(first)
            .or_default()
            .push(self.phrases.len());
        self.phrases.push(Phrase {
            shown: phrase.trim().to_owned(),
            keys,
            replacement,
        });
    }

    /// The list's phrases in `text` (cut into `words`), left to right, the longest where two
    /// start at the same word, never overlapping.
    pub fn find(&self, text: &str, words: &[Word]) -> Vec<PhraseMatch> {
        let mut found = Vec::new();
        let mut at = 0;
        while at < words.len() {
            let longest = self
                .by_first_word
                .get(&words[at].key)
                .and_then(|candidates| {
                    candidates
                        .iter()
                        .map(|&index| &self.phrases[index])
                        .filter(|phrase| starts_at(text, words, at, &phrase.keys))
                        .max_by_key(|phrase| phrase.keys.len())
                });
            match longest {
                Some(phrase) => {
                    let last = at + phrase.keys.len() - 1;
                    found.push(PhraseMatch {
                        range: words[at].range.start..words[last].range.end,
                        replacement: phrase.replacement.clone(),
                    });
                    at = last + 1;
                }
                None => at += 1,
            }
        }
        found
    }

    /// The list's phrases that `text` (cut into `words`) does not contain, as the list writes them.
    pub fn missing(&self, text: &str, words: &[Word]) -> Vec<String> {
        self.phrases
            .iter()
            .filter(|phrase| (0..words.len()).all(|at| !starts_at(text, words, at, &phrase.keys)))
            .map(|phrase| phrase.shown.clone())
            .collect()
    }

    /// The words the list puts in place of its phrases.
    #[cfg(test)]
    pub fn replacements(&self) -> Vec<String> {
        self.phrases
            .iter()
            .filter_map(|phrase| phrase.replacement.clone())
            .filter(|replacement| !replacement.is_empty())
            .collect()
    }

    /// Replacements that are themselves phrases of the list: a pass would change its own work
    /// on the next run. The word files are tested to have none.
    #[cfg(test)]
    pub fn self_feeding(&self) -> Vec<String> {
        self.phrases
            .iter()
            .filter_map(|phrase| phrase.replacement.as_deref())
            .filter(|replacement| {
                let replaced = words(replacement);
                !self.find(replacement, &replaced).is_empty()
            })
            .map(str::to_owned)
            .collect()
    }
}

/// Whether the phrase `keys` stands at word `at`, its words separated by spaces only (a phrase
/// is not found across a full stop or a line break).
fn starts_at(text: &str, words: &[Word], at: usize, keys: &[String]) -> bool {
    if at + keys.len() > words.len() {
        return false;
    }
    keys.iter().enumerate().all(|(offset, key)| {
        let word = &words[at + offset];
        let joined = offset == 0
            || text[words[at + offset - 1].range.end..word.range.start]
                .chars()
                .all(|c| c == ' ');
        joined && word.key == *key
    })
}

/// A set of single words (the adjectives a caption stacks).
#[derive(Debug, Clone, Default)]
pub struct WordSet(HashSet<String>);

impl WordSet {
    pub fn parse(lines: &str) -> Self {
        Self(
            lines
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(key_of)
                .collect(),
        )
    }

    pub fn contains(&self, word: &Word) -> bool {
        self.0.contains(&word.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(text: &'a str, found: &[PhraseMatch]) -> Vec<&'a str> {
        found
            .iter()
            .map(|found| &text[found.range.clone()])
            .collect()
    }

    #[test]
    fn words_keep_their_joiners_and_hashtags_their_sign() {
        let text = "In today’s fast-paced world - #shop_local, 3 mugs!";
        let found: Vec<&str> = words(text)
            .iter()
            .map(|word| &text[word.range.clone()])
            .collect();
        assert_eq!(
            found,
            [
                "In",
                "today’s",
                "fast-paced",
                "world",
                "#shop_local",
                "3",
                "mugs"
            ]
        );
        assert_eq!(words(text)[1].key, "today's");
        assert!(words(text)[4].hashtag);
    }

    #[test]
    fn the_longest_phrase_wins_and_case_does_not_matter() {
        let list = PhraseList::parse("delve => dig\ndelve into => look at\n# a comment\nsynergy");
        let text = "Delve into our range. Pure SYNERGY, delve deeper.";
        let found = list.find(text, &words(text));
        assert_eq!(texts(text, &found), ["Delve into", "SYNERGY", "delve"]);
        assert_eq!(found[0].replacement.as_deref(), Some("look at"));
        assert_eq!(found[1].replacement.as_deref(), Some(""));
    }

    #[test]
    fn a_phrase_is_not_found_across_a_full_stop() {
        let list = PhraseList::parse("look no further =>");
        let text = "Look no. Further, friends.";
        assert!(list.find(text, &words(text)).is_empty());
    }
}
