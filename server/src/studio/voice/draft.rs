//! A caption being reworked, rule after rule: each rule reads the text as the rules before it
//! left it, and every change is kept in terms of the original, so that the person can accept or
//! revert each one alone. A change that touches an earlier one becomes one change with both
//! rules, which is what accepting it then means.

use std::ops::Range;

use app::types::{VoiceChange, VoiceRule};

/// What one rule wants done to the text as it stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Bytes of the current text.
    pub range: Range<usize>,
    pub after: String,
    pub rule: VoiceRule,
    /// What the rule found, where it is narrower than what it changes (a removed phrase, not
    /// the comma and capital that go with it): what the score quotes.
    pub seen: Option<Range<usize>>,
}

/// A stretch of the current text: the original's `source` bytes, as they were or as changed.
#[derive(Debug, Clone)]
struct Piece {
    source: Range<usize>,
    text: String,
    /// The rules that changed it; empty for an unchanged stretch.
    rules: Vec<VoiceRule>,
}

#[derive(Debug, Clone)]
pub struct Draft<'a> {
    original: &'a str,
    pieces: Vec<Piece>,
}

impl<'a> Draft<'a> {
    pub fn new(original: &'a str) -> Self {
        Self {
            original,
            pieces: vec![Piece {
                source: 0..original.len(),
                text: original.to_owned(),
                rules: Vec::new(),
            }],
        }
    }

    pub fn current(&self) -> String {
        self.pieces
            .iter()
            .map(|piece| piece.text.as_str())
            .collect()
    }

    /// Makes `findings` (on the current text; overlapping ones after the first are dropped) and
    /// answers how many were made.
    pub fn apply(&mut self, mut findings: Vec<Finding>) -> usize {
        findings.sort_by_key(|finding| (finding.range.start, finding.range.end));
        let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
        for finding in findings {
            let overlaps = kept
                .last()
                .is_some_and(|last| finding.range.start < last.range.end);
            if !overlaps {
                kept.push(finding);
            }
        }
        let current = self.current();
        let mut made = 0;
        // From the end, so that the positions of those still to come stay true.
        for finding in kept.into_iter().rev() {
            if current[finding.range.clone()] != finding.after {
                self.replace(finding);
                made += 1;
            }
        }
        made
    }

    fn replace(&mut self, finding: Finding) {
        let Range { start, end } = finding.range;
        self.split_at(start);
        self.split_at(end);
        let mut at = 0;
        let mut first = None;
        let mut last = None;
        for (index, piece) in self.pieces.iter().enumerate() {
            let piece_end = at + piece.text.len();
            let inside = if start == end {
                // An insertion touches only a changed piece it falls strictly inside.
                at < start && start < piece_end
            } else {
                at < end && start < piece_end
            };
            let empty_inside = piece.text.is_empty() && start < at && at < end;
            if inside || empty_inside {
                first.get_or_insert(index);
                last = Some(index);
            }
            at = piece_end;
        }
        let (first, last) = match (first, last) {
            (Some(first), Some(last)) => (first, last),
            // An insertion between two pieces: a new, empty stretch of the original.
            _ => {
                let index = self.index_starting_at(start);
                let source_at = self
                    .pieces
                    .get(index)
                    .map_or(self.original.len(), |piece| piece.source.start);
                self.pieces.insert(
                    index,
                    Piece {
                        source: source_at..source_at,
                        text: String::new(),
                        rules: Vec::new(),
                    },
                );
                (index, index)
            }
        };
        let covered_start: usize = self.pieces[..first]
            .iter()
            .map(|piece| piece.text.len())
            .sum();
        let covered: String = self.pieces[first..=last]
            .iter()
            .map(|piece| piece.text.as_str())
            .collect();
        let local = (start - covered_start)..(end - covered_start);
        let text = format!(
            "{}{}{}",
            &covered[..local.start],
            finding.after,
            &covered[local.end..]
        );
        let mut rules: Vec<VoiceRule> = self.pieces[first..=last]
            .iter()
            .flat_map(|piece| piece.rules.iter().copied())
            .chain([finding.rule])
            .collect();
        rules.sort();
        rules.dedup();
        let source = self.pieces[first].source.start..self.pieces[last].source.end;
        self.pieces.splice(
            first..=last,
            [Piece {
                source,
                text,
                rules,
            }],
        );
    }

    /// Cuts the unchanged piece that `at` falls strictly inside in two, so that a change never
    /// takes more of the original than it touches.
    fn split_at(&mut self, at: usize) {
        let mut start = 0;
        for index in 0..self.pieces.len() {
            let piece = &self.pieces[index];
            let end = start + piece.text.len();
            if start < at && at < end {
                if !piece.rules.is_empty() {
                    return;
                }
                let cut = at - start;
                let head = Piece {
                    source: piece.source.start..piece.source.start + cut,
                    text: piece.text[..cut].to_owned(),
                    rules: Vec::new(),
                };
                let tail = Piece {
                    source: piece.source.start + cut..piece.source.end,
                    text: piece.text[cut..].to_owned(),
                    rules: Vec::new(),
                };
                self.pieces.splice(index..=index, [head, tail]);
                return;
            }
            start = end;
        }
    }

    fn index_starting_at(&self, at: usize) -> usize {
        let mut start = 0;
        for (index, piece) in self.pieces.iter().enumerate() {
            if start >= at {
                return index;
            }
            start += piece.text.len();
        }
        self.pieces.len()
    }

    /// Undoes the last change, from the end, that makes the text longer, if any: for keeping a
    /// caption within its platform's limit.
    pub fn revert_last_lengthening(&mut self) -> bool {
        let Some(index) = self
            .pieces
            .iter()
            .rposition(|piece| !piece.rules.is_empty() && piece.text.len() > piece.source.len())
        else {
            return false;
        };
        let piece = &mut self.pieces[index];
        piece.text = self.original[piece.source.clone()].to_owned();
        piece.rules.clear();
        true
    }

    /// The changes, in the original's terms, in order.
    pub fn changes(&self) -> Vec<VoiceChange> {
        self.pieces
            .iter()
            .filter(|piece| !piece.rules.is_empty())
            .filter(|piece| self.original[piece.source.clone()] != piece.text)
            .map(|piece| VoiceChange {
                start: piece.source.start,
                end: piece.source.end,
                before: self.original[piece.source.clone()].to_owned(),
                after: piece.text.clone(),
                rules: piece.rules.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(range: Range<usize>, after: &str, rule: VoiceRule) -> Finding {
        Finding {
            range,
            after: after.into(),
            rule,
            seen: None,
        }
    }

    #[test]
    fn changes_stay_in_the_originals_terms_across_rules() {
        let original = "We elevate mugs!! Truly!";
        let mut draft = Draft::new(original);
        draft.apply(vec![finding(3..10, "lift", VoiceRule::Buzzword)]);
        assert_eq!(draft.current(), "We lift mugs!! Truly!");
        draft.apply(vec![
            finding(12..14, "!", VoiceRule::Exclamations),
            finding(20..21, ".", VoiceRule::Exclamations),
        ]);
        assert_eq!(draft.current(), "We lift mugs! Truly.");
        let changes = draft.changes();
        assert_eq!(changes.len(), 3);
        assert_eq!(
            (changes[0].start, changes[0].end, changes[0].after.as_str()),
            (3, 10, "lift")
        );
        assert_eq!(&original[changes[1].start..changes[1].end], "!!");
        assert_eq!(&original[changes[2].start..changes[2].end], "!");
    }

    #[test]
    fn a_change_touching_an_earlier_one_becomes_one_change_with_both_rules() {
        let original = "So bold, vibrant, and bright.";
        let mut draft = Draft::new(original);
        draft.apply(vec![finding(9..16, "new", VoiceRule::Buzzword)]);
        assert_eq!(draft.current(), "So bold, new, and bright.");
        draft.apply(vec![finding(
            3..24,
            "bold and new",
            VoiceRule::TripleAdjectives,
        )]);
        assert_eq!(draft.current(), "So bold and new.");
        let changes = draft.changes();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].before, "bold, vibrant, and bright");
        assert_eq!(
            changes[0].rules,
            [VoiceRule::Buzzword, VoiceRule::TripleAdjectives]
        );
    }

    #[test]
    fn an_overlapping_finding_of_the_same_round_is_dropped() {
        let mut draft = Draft::new("abcdef");
        let made = draft.apply(vec![
            finding(0..3, "X", VoiceRule::Buzzword),
            finding(2..5, "Y", VoiceRule::Banned),
        ]);
        assert_eq!(made, 1);
        assert_eq!(draft.current(), "Xdef");
    }

    #[test]
    fn a_lengthening_change_can_be_reverted_alone() {
        let mut draft = Draft::new("One. Two.");
        draft.apply(vec![
            finding(3..5, ", and ", VoiceRule::SameLengthSentences),
            finding(5..8, "2", VoiceRule::Buzzword),
        ]);
        assert_eq!(draft.current(), "One, and 2.");
        assert!(draft.revert_last_lengthening());
        assert_eq!(draft.current(), "One. 2.");
        assert!(!draft.revert_last_lengthening());
    }
}
