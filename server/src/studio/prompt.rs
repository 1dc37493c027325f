//! The one place prompts are written: what every model is told about the platform, the tone,
//! the user's voice and the photos. Gemini and OpenAI-compatible servers get the same words; only
//! the envelope differs.

use std::fmt::Write as _;

use app::types::Tone;

use super::brief::CaptionBrief;
use crate::platforms::LineBreaks;

/// How many of the user's sample posts go into a prompt: enough to catch a voice, few enough to
/// leave the model room.
const SAMPLES_IN_PROMPT: usize = 3;
/// How long a sample may be in a prompt, in characters.
const SAMPLE_CHARS: usize = 600;

/// A prompt: the standing instructions, and the request with the photos attached after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

pub fn caption_prompt(brief: &CaptionBrief) -> Prompt {
    Prompt {
        system: system_text(brief),
        user: user_text(brief),
    }
}

fn system_text(brief: &CaptionBrief) -> String {
    let rules = &brief.rules;
    let platform = brief.platform.display_name();
    let mut text = format!(
        "You write social media captions for a small shop, in the shop owner's own words. \
         Write one caption for {platform}. Answer with the caption only: no title, no quotes, \
         no notes, no choices."
    );
    let _ = write!(
        text,
        "\nLimits on {platform}: at most {} {} in all, counted as {platform} counts them; at \
         most {} hashtags, at the end.",
        rules.max_length, rules.unit, rules.max_hashtags
    );
    if let Some(fold) = rules.fold_at {
        let _ = write!(
            text,
            " {platform} shows about the first {fold} characters before \"more\": the opening \
             must say what the post is about."
        );
    }
    match rules.line_breaks {
        LineBreaks::Kept => {}
        LineBreaks::OneBlankLine => {
            let _ = write!(
                text,
                " {platform} shows at most one empty line between paragraphs."
            );
        }
        LineBreaks::None => {
            let _ = write!(
                text,
                " {platform} shows no line breaks: write one paragraph."
            );
        }
    }
    text.push_str(
        "\nWrite plainly, as a person talks: short and long sentences mixed, one exclamation \
         mark at most, no em dashes, no lists of three adjectives, no \"not just X, but Y\". \
         Never use these words: elevate, unleash, game-changer, delve, seamless, cutting-edge, \
         revolutionize, in today's fast-paced world, look no further.",
    );
    let _ = write!(text, "\nTone: {}", tone_guidance(brief.tone));
    let voice = &brief.voice;
    if !voice.avoid.is_empty() {
        let _ = write!(
            text,
            "\nThe owner never writes: {}.",
            voice.avoid.join("; ")
        );
    }
    if !voice.keep.is_empty() {
        let _ = write!(
            text,
            "\nThe owner always includes, written exactly so: {}.",
            voice.keep.join("; ")
        );
    }
    text
}

fn tone_guidance(tone: Tone) -> &'static str {
    match tone {
        Tone::Friendly => "friendly and warm, like telling a regular customer about something new.",
        Tone::Witty => {
            "light and a little funny, one small joke at most, never at anyone's expense."
        }
        Tone::Plain => "plain and factual: what it is, what it is made of, what it costs.",
        Tone::Premium => "calm and assured, few words, no hype; let the details carry it.",
        Tone::BrandVoice => "the owner's own, as in the sample posts below.",
    }
}

fn user_text(brief: &CaptionBrief) -> String {
    if let Some(draft) = &brief.draft {
        return format!(
            "Rewrite this caption by the rules above, in the same tone. Keep its facts, names, \
             prices and links, and the phrases the owner always includes; change only what \
             breaks the rules or sounds like an advert. Answer with the caption only.\n\
             <caption>\n{}\n</caption>",
            draft.trim()
        );
    }
    let mut text = match brief.images.len() {
        0 => "Write the caption.".to_owned(),
        1 => "Write the caption for the attached photo.".to_owned(),
        count => format!("Write the caption for the {count} attached photos, in their order."),
    };
    if let Some(product) = &brief.product {
        let _ = write!(text, "\nThe photos show this product: {}", product.title);
        if let Some(price) = &product.price {
            let _ = write!(text, ", {price}");
        }
        text.push('.');
        if let Some(description) = &product.description {
            let _ = write!(text, "\nThe shop describes it so: {}", description.trim());
        }
        if !product.tags.is_empty() {
            let _ = write!(text, "\nIts tags: {}.", product.tags.join(", "));
        }
        if let Some(url) = &product.url {
            let _ = write!(text, "\nIt is sold at {url}.");
        }
    }
    if let Some(note) = brief
        .note
        .as_deref()
        .map(str::trim)
        .filter(|note| !note.is_empty())
    {
        let _ = write!(text, "\nThe owner's note for this post: {note}");
    }
    if brief.tone == Tone::BrandVoice || !brief.voice.samples.is_empty() {
        let samples: Vec<String> = brief
            .voice
            .samples
            .iter()
            .take(SAMPLES_IN_PROMPT)
            .map(|sample| sample.chars().take(SAMPLE_CHARS).collect())
            .collect();
        if !samples.is_empty() {
            text.push_str("\nPosts the owner wrote before, for their voice (do not copy them):");
            for sample in samples {
                let _ = write!(text, "\n---\n{}", sample.trim());
            }
            text.push_str("\n---");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use app::types::Platform;

    use super::*;
    use crate::studio::brief::{
        BriefImage, CaptionRules, ImageFacts, ProductContext, VoiceContext,
    };

    fn brief() -> CaptionBrief {
        CaptionBrief {
            platform: Platform::X,
            tone: Tone::Witty,
            images: vec![
                BriefImage {
                    mime: "image/jpeg".into(),
                    bytes: vec![1, 2, 3].into(),
                    facts: ImageFacts::default(),
                };
                3
            ],
            product: Some(ProductContext {
                title: "Blue stoneware mug".into(),
                description: Some("Thrown by hand, 350 ml.".into()),
                price: Some("£24.00".into()),
                url: Some("https://kiln.example/mug".into()),
                tags: vec!["mugs".into(), "stoneware".into()],
            }),
            voice: VoiceContext {
                samples: vec![
                    "Kiln's open Saturday. Bring a friend, we'll put the kettle on.".into(),
                ],
                avoid: vec!["cheap".into()],
                keep: vec!["#kilnworks".into()],
            },
            rules: CaptionRules {
                max_length: 280,
                unit: "characters",
                max_hashtags: 2,
                fold_at: None,
                line_breaks: crate::platforms::LineBreaks::Kept,
            },
            note: Some("  back in stock  ".into()),
            variant: 0,
            draft: None,
        }
    }

    #[test]
    fn the_platforms_limits_tone_and_voice_are_in_the_instructions() {
        let prompt = caption_prompt(&brief());
        for expected in [
            "Write one caption for X.",
            "at most 280 characters in all, counted as X counts them",
            "at most 2 hashtags",
            "Tone: light and a little funny",
            "The owner never writes: cheap.",
            "The owner always includes, written exactly so: #kilnworks.",
        ] {
            assert!(
                prompt.system.contains(expected),
                "{expected:?} in {}",
                prompt.system
            );
        }
    }

    #[test]
    fn the_request_names_the_photos_product_note_and_samples() {
        let prompt = caption_prompt(&brief());
        for expected in [
            "the 3 attached photos, in their order",
            "this product: Blue stoneware mug, £24.00.",
            "The shop describes it so: Thrown by hand, 350 ml.",
            "Its tags: mugs, stoneware.",
            "It is sold at https://kiln.example/mug.",
            "The owner's note for this post: back in stock",
            "---\nKiln's open Saturday.",
        ] {
            assert!(
                prompt.user.contains(expected),
                "{expected:?} in {}",
                prompt.user
            );
        }
    }

    #[test]
    fn a_fold_is_mentioned_only_where_the_platform_has_one() {
        let mut folded = brief();
        folded.rules.fold_at = Some(125);
        assert!(
            caption_prompt(&folded)
                .system
                .contains("about the first 125 characters")
        );
        assert!(!caption_prompt(&brief()).system.contains("before \"more\""));
    }

    #[test]
    fn a_platform_without_line_breaks_asks_for_one_paragraph() {
        let mut flat = brief();
        flat.rules.line_breaks = LineBreaks::None;
        assert!(
            caption_prompt(&flat)
                .system
                .contains("X shows no line breaks: write one paragraph.")
        );
        assert!(!caption_prompt(&brief()).system.contains("line breaks"));
    }

    #[test]
    fn a_rewrite_asks_for_the_draft_by_the_same_rules() {
        let mut rewrite = brief();
        rewrite.draft = Some("  We elevate mugs!!  ".into());
        let prompt = caption_prompt(&rewrite);
        assert!(
            prompt
                .user
                .starts_with("Rewrite this caption by the rules above")
        );
        assert!(
            prompt
                .user
                .contains("\n<caption>\nWe elevate mugs!!\n</caption>"),
            "{}",
            prompt.user
        );
        assert_eq!(prompt.system, caption_prompt(&brief()).system);
    }
}
