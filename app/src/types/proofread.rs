//! The Studio's proofreading as it crosses the wire: what the server's proofreader flags in a
//! caption, with the fixes it offers. Offsets are bytes of the caption as sent, so the browser
//! (Rust too, on the same `String`) marks and fixes the text without counting characters again.

use serde::{Deserialize, Serialize};

/// One thing the proofreader would change: the bytes `start..end` of the caption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProofFlag {
    pub start: usize,
    pub end: usize,
    pub kind: ProofKind,
    /// What is wrong, in a sentence a person reads beside the mark.
    pub message: String,
    /// Up to three texts that can stand where the flagged bytes are, best first; empty when
    /// the proofreader has none to offer.
    pub fixes: Vec<String>,
}

/// What sort of thing a flag is about, for its colour and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ProofKind {
    /// A word the dictionary does not know, or a slip of the fingers.
    Spelling,
    /// Something a careful reader would call wrong: agreement, a repeated word, a missing
    /// capital, the wrong word.
    Grammar,
    /// Correct, but it reads better another way.
    Style,
}

impl ProofKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Spelling => "Spelling",
            Self::Grammar => "Grammar",
            Self::Style => "Style",
        }
    }

    /// Its name in class names (`flag-spelling`).
    pub fn css(self) -> &'static str {
        match self {
            Self::Spelling => "spelling",
            Self::Grammar => "grammar",
            Self::Style => "style",
        }
    }
}

/// `text` with `fix` standing where a flag pointed (`range`); `None` when the flag no longer
/// fits the text (it was edited since: the range is out of bounds or cuts a character).
pub fn apply_fix(text: &str, range: std::ops::Range<usize>, fix: &str) -> Option<String> {
    text.get(range.clone())?;
    Some(super::with_changes(text, [(range, fix)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_replaces_the_flagged_bytes_after_a_wide_character() {
        let text = "Café mugs are realy nice";
        let start = text.find("realy").unwrap();
        assert_eq!(
            apply_fix(text, start..start + 5, "really").as_deref(),
            Some("Café mugs are really nice")
        );
    }

    #[test]
    fn a_flag_that_no_longer_fits_the_text_applies_nowhere() {
        let text = "Café";
        // Inside the two bytes of "é".
        assert_eq!(apply_fix(text, 4..5, "e"), None);
        assert_eq!(apply_fix(text, 3..9, "e"), None);
        assert_eq!(apply_fix(text, 3..5, "e").as_deref(), Some("Cafe"));
    }
}
