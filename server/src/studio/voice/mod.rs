//! The Human Authenticity Engine: a deterministic pass, no model needed, that makes a caption
//! read like the shop owner wrote it. It takes out buzzwords and machine tells, unstacks em
//! dashes, adjectives and "not just X, but Y", caps exclamation marks, hashtags and emoji (to
//! the voice's [`EmojiDensity`]), breaks up runs of same-length sentences, and never touches the
//! user's phrases to keep. Each change is reported with its rule, so the person accepts or
//! reverts it; the same rules give the "sounds human" score.
//!
//! The word lists are data (`words/*.txt`); a user's brand voice adds phrases to avoid and to
//! keep.

mod draft;
mod rules;
mod sentences;
mod words;

use std::collections::BTreeMap;

use app::types::{EmojiDensity, HumanScore, ScoreReason, VoicePass, VoiceRule};

use draft::{Draft, Finding};
use rules::Reading;
use words::{PhraseList, WordSet};

/// How many rounds of the rules the pass runs at most: one rule's change can make work for an
/// earlier one (a removed buzzword leaves three adjectives side by side), and the pass must leave
/// nothing for a second pass to do.
const ROUNDS: usize = 4;

/// The rules one user's captions are held to: the standard lists and their own phrases.
#[derive(Debug, Clone)]
pub struct Voice {
    buzzwords: PhraseList,
    tells: PhraseList,
    adjectives: WordSet,
    avoid: PhraseList,
    keep: PhraseList,
    /// How many `!` a caption may carry.
    pub max_exclamations: usize,
    pub emoji: EmojiDensity,
}

/// What the platform a caption is for allows.
#[derive(Clone, Copy)]
pub struct CaptionLimits<'a> {
    pub max_hashtags: usize,
    /// The caption's length as the platform counts it, and the most it takes.
    pub length: &'a dyn Fn(&str) -> usize,
    pub max_length: usize,
}

impl Default for Voice {
    fn default() -> Self {
        Self {
            buzzwords: PhraseList::parse(include_str!("words/buzzwords.txt")),
            tells: PhraseList::parse(include_str!("words/tells.txt")),
            adjectives: WordSet::parse(include_str!("words/adjectives.txt")),
            avoid: PhraseList::default(),
            keep: PhraseList::default(),
            max_exclamations: 1,
            emoji: EmojiDensity::default(),
        }
    }
}

impl Voice {
    /// The standard rules plus a user's phrases: `avoid` (each removed, or replaced where written
    /// `phrase => replacement`) and `keep` (never changed, and missed when absent).
    pub fn with_phrases(avoid: &[String], keep: &[String]) -> Self {
        Self {
            avoid: PhraseList::avoiding(avoid),
            keep: PhraseList::marking(keep),
            ..Self::default()
        }
    }

    /// Runs the rules over `caption` until none has anything left to change, then undoes the
    /// changes that lengthen it, last first, for as long as it is over the platform's limit and
    /// longer than it came.
    pub fn pass(&self, caption: &str, limits: &CaptionLimits<'_>) -> VoicePass {
        self.pass_after(caption, None, limits)
    }

    /// The pass over a model's `caption` that the model then `rewrote` by the same rules: the
    /// rewrite's edits come first, each word-level edit a change of its own (rule
    /// [`VoiceRule::AiRewrite`]), then the rules over the rewritten text, all in terms of
    /// `caption`, so the person can take back any of them.
    pub fn pass_after(
        &self,
        caption: &str,
        rewritten: Option<&str>,
        limits: &CaptionLimits<'_>,
    ) -> VoicePass {
        let mut draft = Draft::new(caption);
        if let Some(rewritten) = rewritten {
            draft.apply(rewrite_findings(caption, rewritten));
        }
        for _ in 0..ROUNDS {
            let mut made = 0;
            for rule in 0..RULE_COUNT {
                let current = draft.current();
                let reading = Reading::new(&current, self);
                let findings = self.findings(&reading, rule, limits);
                made += draft.apply(findings);
            }
            if made == 0 {
                break;
            }
        }
        let allowed = limits.max_length.max((limits.length)(caption));
        while (limits.length)(&draft.current()) > allowed && draft.revert_last_lengthening() {}
        VoicePass {
            original: caption.to_owned(),
            text: draft.current(),
            changes: draft.changes(),
        }
    }

    fn findings(
        &self,
        reading: &Reading<'_>,
        rule: usize,
        limits: &CaptionLimits<'_>,
    ) -> Vec<Finding> {
        match rule {
            0 => rules::phrases(reading, self),
            1 => rules::not_just_but(reading),
            2 => rules::triple_adjectives(reading, self),
            3 => rules::stacked_dashes(reading),
            4 => rules::exclamations(reading, self.max_exclamations),
            5 => rules::hashtags(reading, limits.max_hashtags),
            6 => rules::emoji(reading, self.emoji.most()),
            _ => rules::same_length_sentences(reading),
        }
    }

    /// How human `caption` sounds: 100 less the points each rule's findings cost, with the
    /// reasons. It reads the caption as it is, so it moves as the person types.
    pub fn score(&self, caption: &str, limits: &CaptionLimits<'_>) -> HumanScore {
        let reading = Reading::new(caption, self);
        let mut found: BTreeMap<VoiceRule, Vec<String>> = BTreeMap::new();
        for rule in 0..RULE_COUNT {
            for finding in self.findings(&reading, rule, limits) {
                found.entry(finding.rule).or_default().push(
                    caption[finding.seen.unwrap_or(finding.range)]
                        .trim()
                        .to_owned(),
                );
            }
        }
        let text_words = words::words(caption);
        let missing: Vec<String> = self
            .keep
            .missing(caption, &text_words)
            .into_iter()
            .collect();
        if !missing.is_empty() {
            found.insert(VoiceRule::MissingRequired, missing);
        }
        let reasons: Vec<ScoreReason> = found
            .into_iter()
            .map(|(rule, examples)| reason(rule, &examples))
            .collect();
        let lost: u32 = reasons.iter().map(|reason| u32::from(reason.points)).sum();
        HumanScore {
            score: u8::try_from(100u32.saturating_sub(lost)).unwrap_or(0),
            reasons,
        }
    }
}

const RULE_COUNT: usize = 8;

/// The word-level edits that turn `caption` into `rewritten`, each a finding on `caption`.
fn rewrite_findings(caption: &str, rewritten: &str) -> Vec<Finding> {
    let diff = similar::TextDiff::from_words(caption, rewritten);
    let offsets = |slices: &[&str]| -> Vec<usize> {
        std::iter::once(0)
            .chain(slices.iter().scan(0, |at, slice| {
                *at += slice.len();
                Some(*at)
            }))
            .collect()
    };
    let (old_at, new_at) = (offsets(diff.old_slices()), offsets(diff.new_slices()));
    let mut findings: Vec<Finding> = Vec::new();
    for op in diff.ops() {
        let (tag, old, new) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            continue;
        }
        let range = old_at[old.start]..old_at[old.end];
        let after = &rewritten[new_at[new.start]..new_at[new.end]];
        // A deletion followed by an insertion is one edit.
        match findings.last_mut() {
            Some(last) if last.range.end == range.start => {
                last.range.end = range.end;
                last.after.push_str(after);
            }
            _ => findings.push(Finding {
                range,
                after: after.to_owned(),
                rule: VoiceRule::AiRewrite,
                seen: None,
            }),
        }
    }
    findings
}

/// Points a finding of `rule` costs, and the most the rule can cost a caption.
fn cost(rule: VoiceRule) -> (u32, u32) {
    match rule {
        VoiceRule::Buzzword => (6, 30),
        VoiceRule::MachineTell | VoiceRule::Banned => (10, 30),
        VoiceRule::StackedDashes => (5, 15),
        VoiceRule::TripleAdjectives => (6, 18),
        VoiceRule::NotJustButY => (8, 16),
        VoiceRule::Exclamations => (4, 16),
        VoiceRule::Hashtags => (2, 10),
        VoiceRule::TooManyEmoji => (4, 16),
        VoiceRule::SameLengthSentences => (8, 16),
        VoiceRule::MissingRequired => (5, 15),
        // A change, never a fault: the rewrite is the model keeping to the rules.
        VoiceRule::AiRewrite => (0, 0),
    }
}

fn reason(rule: VoiceRule, examples: &[String]) -> ScoreReason {
    let (each, most) = cost(rule);
    let count = examples.len();
    let points = (each * u32::try_from(count).unwrap_or(u32::MAX)).min(most);
    let mut shown: Vec<&str> = examples
        .iter()
        .map(String::as_str)
        .filter(|example| !example.is_empty())
        .collect();
    shown.dedup();
    shown.truncate(3);
    let (one, many) = match rule {
        VoiceRule::Buzzword => ("buzzword", "buzzwords"),
        VoiceRule::MachineTell => (
            "phrase that sounds machine-written",
            "phrases that sound machine-written",
        ),
        VoiceRule::Banned => ("phrase you avoid", "phrases you avoid"),
        VoiceRule::StackedDashes => ("em dash too many", "em dashes too many"),
        VoiceRule::TripleAdjectives => ("run of three adjectives", "runs of three adjectives"),
        VoiceRule::NotJustButY => ("\"not just X, but Y\"", "uses of \"not just X, but Y\""),
        VoiceRule::Exclamations => ("exclamation mark too many", "exclamation marks too many"),
        VoiceRule::Hashtags => (
            "hashtag over the platform's number",
            "hashtags over the platform's number",
        ),
        VoiceRule::TooManyEmoji => ("emoji too many", "emoji too many"),
        VoiceRule::SameLengthSentences => (
            "run of sentences all the same length",
            "runs of sentences all the same length",
        ),
        VoiceRule::MissingRequired => (
            "phrase you always use is missing",
            "phrases you always use are missing",
        ),
        VoiceRule::AiRewrite => ("change by the AI rewrite", "changes by the AI rewrite"),
    };
    let what = if count == 1 { one } else { many };
    let quoted = match rule {
        VoiceRule::Buzzword
        | VoiceRule::MachineTell
        | VoiceRule::Banned
        | VoiceRule::MissingRequired
            if !shown.is_empty() =>
        {
            format!(": {}", shown.join(", "))
        }
        _ => String::new(),
    };
    ScoreReason {
        rule,
        count,
        points: u8::try_from(points).unwrap_or(u8::MAX),
        says: format!("{count} {what}{quoted}"),
    }
}

#[cfg(test)]
mod tests;
