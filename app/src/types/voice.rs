//! The Human Authenticity Engine's findings as the Studio shows them: each change it proposes,
//! with the rule that made it, and the "sounds human" score with its reasons.

use serde::{Deserialize, Serialize};

/// One rule of the authenticity pass. The same rules make the changes and the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum VoiceRule {
    /// A marketing buzzword ("elevate", "unleash"), replaced by a plain word or removed.
    Buzzword,
    /// A phrase that gives machine writing away ("in today's fast-paced world").
    MachineTell,
    /// A phrase the user asked never to use.
    Banned,
    /// More than one em dash in a caption.
    StackedDashes,
    /// Three or more adjectives in a row ("bold, bright and beautiful").
    TripleAdjectives,
    /// "Not just X, but Y".
    NotJustButY,
    /// More exclamation marks than the voice allows, or several in a row.
    Exclamations,
    /// More hashtags than the platform's caption should carry.
    Hashtags,
    /// More emoji than the chosen density allows ([`EmojiDensity::most`]): the later ones go.
    TooManyEmoji,
    /// Three sentences in a row of about the same length.
    SameLengthSentences,
    /// A phrase the user always wants in their captions is missing (scored only: the pass never
    /// writes it in).
    MissingRequired,
    /// The model's second pass over its own caption, by the same rules.
    AiRewrite,
}

impl VoiceRule {
    pub const ALL: [VoiceRule; 12] = [
        Self::Buzzword,
        Self::MachineTell,
        Self::Banned,
        Self::StackedDashes,
        Self::TripleAdjectives,
        Self::NotJustButY,
        Self::Exclamations,
        Self::Hashtags,
        Self::TooManyEmoji,
        Self::SameLengthSentences,
        Self::MissingRequired,
        Self::AiRewrite,
    ];

    /// Its name on the wire (`"buzzword"`): the browser finds the label by it without reading
    /// the enum.
    pub fn name(self) -> &'static str {
        match self {
            Self::Buzzword => "buzzword",
            Self::MachineTell => "machine_tell",
            Self::Banned => "banned",
            Self::StackedDashes => "stacked_dashes",
            Self::TripleAdjectives => "triple_adjectives",
            Self::NotJustButY => "not_just_but_y",
            Self::Exclamations => "exclamations",
            Self::Hashtags => "hashtags",
            Self::TooManyEmoji => "too_many_emoji",
            Self::SameLengthSentences => "same_length_sentences",
            Self::MissingRequired => "missing_required",
            Self::AiRewrite => "ai_rewrite",
        }
    }

    /// The label of the rule named `name` on the wire.
    pub fn label_of(name: &str) -> Option<&'static str> {
        Self::ALL
            .into_iter()
            .find(|rule| rule.name() == name)
            .map(Self::label)
    }

    /// What the rule is about, in a few words a person reads beside a change.
    pub fn label(self) -> &'static str {
        match self {
            Self::Buzzword => "Buzzword",
            Self::MachineTell => "Sounds machine-written",
            Self::Banned => "A phrase you avoid",
            Self::StackedDashes => "Too many dashes",
            Self::TripleAdjectives => "Three adjectives in a row",
            Self::NotJustButY => "\"Not just X, but Y\"",
            Self::Exclamations => "Too many exclamation marks",
            Self::Hashtags => "Too many hashtags",
            Self::TooManyEmoji => "Too many emoji",
            Self::SameLengthSentences => "Sentences all the same length",
            Self::MissingRequired => "A phrase you always use is missing",
            Self::AiRewrite => "AI rewrite",
        }
    }
}

/// One proposed change, on the original text: the bytes `start..end` become `after`. Changes
/// never overlap, so any of them can be accepted or reverted alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoiceChange {
    pub start: usize,
    pub end: usize,
    pub before: String,
    pub after: String,
    /// The rules that made it (two when one rule's change touched another's).
    pub rules: Vec<VoiceRule>,
}

/// The authenticity pass over one caption: the text with every change made, and the changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoicePass {
    pub original: String,
    pub text: String,
    pub changes: Vec<VoiceChange>,
}

impl VoicePass {
    /// The original text with only the changes `accepted` says yes to.
    pub fn with_only(&self, accepted: impl Fn(usize) -> bool) -> String {
        with_changes(
            &self.original,
            self.changes
                .iter()
                .enumerate()
                .filter(|(index, _)| accepted(*index))
                .map(|(_, change)| (change.start..change.end, change.after.as_str())),
        )
    }
}

/// `original` with each of `changes` (its bytes `range` become the text), in order and apart.
pub fn with_changes<'a>(
    original: &str,
    changes: impl IntoIterator<Item = (std::ops::Range<usize>, &'a str)>,
) -> String {
    let mut text = String::with_capacity(original.len());
    let mut at = 0;
    for (range, after) in changes {
        text.push_str(&original[at..range.start]);
        text.push_str(after);
        at = range.end;
    }
    text.push_str(&original[at..]);
    text
}

/// How human a caption sounds, from 0 to 100, and why it lost points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HumanScore {
    pub score: u8,
    pub reasons: Vec<ScoreReason>,
}

/// Points a caption lost to one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoreReason {
    pub rule: VoiceRule,
    /// How many times the rule found something.
    pub count: usize,
    pub points: u8,
    /// What was found, in words: "2 buzzwords: elevate, seamless".
    pub says: String,
}

/// How many emoji a caption may carry: the authenticity pass keeps to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum EmojiDensity {
    None,
    #[default]
    AFew,
    Lively,
}

impl EmojiDensity {
    pub const ALL: [EmojiDensity; 3] = [Self::None, Self::AFew, Self::Lively];

    /// Its name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::AFew => "a_few",
            Self::Lively => "lively",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|density| density.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::AFew => "A few",
            Self::Lively => "Lively",
        }
    }

    /// The most emoji a caption of this density carries.
    pub fn most(self) -> usize {
        match self {
            Self::None => 0,
            Self::AFew => 3,
            Self::Lively => 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_listed_under_its_wire_name() {
        for rule in VoiceRule::ALL {
            assert_eq!(
                serde_json::to_value(rule).unwrap(),
                serde_json::Value::from(rule.name())
            );
            assert_eq!(VoiceRule::label_of(rule.name()), Some(rule.label()));
        }
    }

    #[test]
    fn any_subset_of_changes_applies_to_the_original() {
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
        assert_eq!(pass.with_only(|_| true), pass.text);
        assert_eq!(pass.with_only(|_| false), pass.original);
        assert_eq!(pass.with_only(|index| index == 1), "We elevate mugs!");
    }
}
