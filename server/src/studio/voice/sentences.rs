//! A caption's sentences, for the rules about rhythm: where each ends, how, and how many words
//! it has (hashtags, mentions and links are not words a reader reads as the sentence).

use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// From its first character to its end mark, included.
    pub range: Range<usize>,
    /// `.`, `!`, `?`, or `\n` for a line without an end mark.
    pub end_mark: char,
    pub words: usize,
}

/// The sentences of `text`, in order. A sentence ends at a run of `.`, `!` or `?` followed by
/// white space or the end, or at a line break.
pub fn sentences(text: &str) -> Vec<Sentence> {
    let mut found = Vec::new();
    let mut start = None;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\n' {
            if let Some(from) = start.take() {
                found.push(sentence(text, from..at, '\n'));
            }
            continue;
        }
        if start.is_none() && !c.is_whitespace() {
            start = Some(at);
        }
        if matches!(c, '.' | '!' | '?') {
            let mut end = at + 1;
            while let Some(&(next_at, next)) = chars.peek() {
                if !matches!(next, '.' | '!' | '?') {
                    break;
                }
                end = next_at + 1;
                chars.next();
            }
            let ends = chars.peek().is_none_or(|(_, next)| next.is_whitespace());
            if ends && let Some(from) = start.take() {
                found.push(sentence(text, from..end, c));
            }
        }
    }
    if let Some(from) = start {
        let trimmed = text[from..].trim_end();
        found.push(sentence(text, from..from + trimmed.len(), '\n'));
    }
    found
}

fn sentence(text: &str, range: Range<usize>, end_mark: char) -> Sentence {
    let words = text[range.clone()]
        .split_whitespace()
        .filter(|word| {
            !word.starts_with(['#', '@'])
                && !word.contains("://")
                && word.chars().any(char::is_alphanumeric)
        })
        .count();
    Sentence {
        range,
        end_mark,
        words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_end_at_marks_and_line_breaks() {
        let text = "New mugs! Blue ones... see https://shop.example/a.b now\n#mugs #blue";
        let found = sentences(text);
        let shown: Vec<(&str, char, usize)> = found
            .iter()
            .map(|sentence| {
                (
                    &text[sentence.range.clone()],
                    sentence.end_mark,
                    sentence.words,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("New mugs!", '!', 2),
                ("Blue ones...", '.', 2),
                ("see https://shop.example/a.b now", '\n', 2),
                ("#mugs #blue", '\n', 0),
            ]
        );
    }
}
