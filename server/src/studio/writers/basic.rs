//! The basic writer: no model, no key, no network. It writes from what the app knows for sure
//! (the product's data, the photos' colours and dates, the user's phrases to keep), with a few
//! sentence shapes per tone, picked by the brief so that "Regenerate" gives another caption.
//! The Studio labels its captions as the basic writer's.

use std::hash::{DefaultHasher, Hash, Hasher};

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng};

use app::types::{CaptionProvider, Tone};

use super::{CaptionWriter, Pieces, WriterError};
use crate::studio::brief::{CaptionBrief, ProductContext};

#[derive(Debug, Clone, Copy, Default)]
pub struct BasicWriter;

#[async_trait]
impl CaptionWriter for BasicWriter {
    fn name(&self) -> &'static str {
        "The basic writer"
    }

    fn provider(&self) -> CaptionProvider {
        CaptionProvider::Builtin
    }

    fn rewrites(&self) -> bool {
        false
    }

    async fn write(&self, brief: &CaptionBrief) -> Result<Pieces, WriterError> {
        let caption = compose(brief);
        let sentences: Vec<Result<String, WriterError>> = caption
            .split_inclusive(['.', '\n'])
            .map(|piece| Ok(piece.to_owned()))
            .collect();
        Ok(Box::pin(futures_util::stream::iter(sentences)))
    }

    async fn models(&self) -> Result<Vec<String>, WriterError> {
        Ok(vec!["basic".to_owned()])
    }
}

/// The caption: an opening about the product or the photos, a line of detail, a closing in the
/// tone, then the hashtags.
pub fn compose(brief: &CaptionBrief) -> String {
    let mut rng = StdRng::seed_from_u64(seed(brief));
    let mut sentences = vec![opening(brief, &mut rng)];
    if let Some(detail) = detail(brief, &mut rng) {
        sentences.push(detail);
    }
    sentences.push(closing(brief.tone, &mut rng).to_owned());
    let mut caption = sentences.join(" ");
    let keep_in_text: Vec<&String> = brief
        .voice
        .keep
        .iter()
        .filter(|phrase| !phrase.starts_with('#'))
        .filter(|phrase| !caption.to_lowercase().contains(&phrase.to_lowercase()))
        .collect();
    for phrase in keep_in_text {
        caption.push(' ');
        caption.push_str(phrase);
        if !phrase.ends_with(['.', '!', '?']) {
            caption.push('.');
        }
    }
    let tags = hashtags(brief);
    if !tags.is_empty() {
        caption.push_str("\n\n");
        caption.push_str(&tags.join(" "));
    }
    caption
}

/// The same brief gives the same caption; another variant, another one.
fn seed(brief: &CaptionBrief) -> u64 {
    let mut hasher = DefaultHasher::new();
    brief.platform.as_str().hash(&mut hasher);
    brief.tone.hash(&mut hasher);
    brief.variant.hash(&mut hasher);
    brief.images.len().hash(&mut hasher);
    if let Some(product) = &brief.product {
        product.title.hash(&mut hasher);
    }
    hasher.finish()
}

fn opening(brief: &CaptionBrief, rng: &mut StdRng) -> String {
    if let Some(product) = &brief.product {
        return product_opening(product, brief.tone, rng);
    }
    let colours: Vec<&String> = brief
        .images
        .iter()
        .flat_map(|image| image.facts.colours.first())
        .collect();
    let colour = colours.first().map(|colour| colour.as_str());
    let count = brief.images.len();
    let shapes: Vec<String> = match (brief.tone, colour) {
        (Tone::Premium, Some(colour)) => {
            vec![format!("In {colour}."), format!("A study in {colour}.")]
        }
        (Tone::Witty, Some(colour)) => vec![
            format!("We may have a {colour} problem. We are not looking for a solution."),
            format!("Today's colour is {colour}. Tomorrow's is probably {colour} too."),
        ],
        (Tone::Plain, Some(colour)) => vec![format!(
            "{} in {colour}.",
            photos(count, "New photo", "New photos")
        )],
        (_, Some(colour)) => vec![
            format!("Fresh from the workbench, in {colour}."),
            format!("Something new in {colour} for you today."),
            format!(
                "{colour}, and we love how it came out.",
                colour = capitalized(colour)
            ),
        ],
        (Tone::Witty, None) => vec!["We made a thing. Again.".to_owned()],
        (Tone::Premium, None) => vec!["New, and made slowly.".to_owned()],
        (Tone::Plain, None) => vec![format!("{}.", photos(count, "A new photo", "New photos"))],
        (_, None) => vec![
            "Something new from the studio today.".to_owned(),
            "Fresh from the workbench.".to_owned(),
        ],
    };
    shapes.choose(rng).cloned().unwrap_or_default()
}

fn product_opening(product: &ProductContext, tone: Tone, rng: &mut StdRng) -> String {
    let title = product.title.trim();
    let priced = match &product.price {
        Some(price) => format!("{title}, {price}"),
        None => title.to_owned(),
    };
    let shapes = match tone {
        Tone::Premium => vec![format!("The {title}."), format!("{priced}.")],
        Tone::Witty => vec![
            format!("Meet the {title}. It has been waiting for you."),
            format!("{priced}. Your shelf called; it asked for this."),
        ],
        Tone::Plain => vec![format!("{priced}.")],
        Tone::Friendly | Tone::BrandVoice => vec![
            format!("New in the shop: {priced}."),
            format!("Say hello to the {title}."),
            format!("The {title} is here, and we think you'll like it."),
        ],
    };
    shapes.choose(rng).cloned().unwrap_or_default()
}

/// A line the facts support: the product's own first sentence, or when the photos were taken.
fn detail(brief: &CaptionBrief, rng: &mut StdRng) -> Option<String> {
    let described = brief
        .product
        .as_ref()
        .and_then(|product| product.description.as_deref())
        .and_then(first_sentence);
    if let Some(sentence) = described {
        return Some(sentence);
    }
    let note = brief
        .note
        .as_deref()
        .map(str::trim)
        .filter(|note| !note.is_empty());
    if let Some(note) = note {
        let mut note = capitalized(note);
        if !note.ends_with(['.', '!', '?']) {
            note.push('.');
        }
        return Some(note);
    }
    let taken = brief.images.iter().find_map(|image| image.facts.taken_on)?;
    let day = taken.format("%A").to_string();
    let shapes = [
        format!("Photographed on {day}."),
        format!("Shot on {day}, in our own light."),
    ];
    Some(shapes[rng.random_range(0..shapes.len())].clone())
}

fn closing(tone: Tone, rng: &mut StdRng) -> &'static str {
    let shapes: &[&str] = match tone {
        Tone::Friendly | Tone::BrandVoice => &[
            "Tell us what you think in the comments.",
            "Questions? Ask away, we answer every one.",
            "Come and have a look.",
        ],
        Tone::Witty => &["You know where to find us.", "No pressure. Some pressure."],
        Tone::Plain => &["Available now.", "In the shop now."],
        Tone::Premium => &["Available now, in small numbers.", "Made to last."],
    };
    shapes.choose(rng).copied().unwrap_or_default()
}

/// The user's kept hashtags first, then the product's tags, to the platform's number.
fn hashtags(brief: &CaptionBrief) -> Vec<String> {
    let kept = brief
        .voice
        .keep
        .iter()
        .filter(|phrase| phrase.starts_with('#'))
        .cloned();
    let from_tags = brief
        .product
        .iter()
        .flat_map(|product| &product.tags)
        .map(|tag| {
            let word: String = tag.chars().filter(|c| c.is_alphanumeric()).collect();
            format!("#{}", word.to_lowercase())
        })
        .filter(|tag| tag.len() > 1);
    let mut tags: Vec<String> = Vec::new();
    for tag in kept.chain(from_tags) {
        if !tags.iter().any(|known| known.eq_ignore_ascii_case(&tag)) {
            tags.push(tag);
        }
    }
    tags.truncate(brief.rules.max_hashtags);
    tags
}

fn first_sentence(text: &str) -> Option<String> {
    let text = text.trim();
    let end = text.find(['.', '!', '?']).map_or(text.len(), |at| at + 1);
    let sentence = text[..end].trim();
    (!sentence.is_empty() && sentence.chars().count() <= 200).then(|| {
        let mut sentence = capitalized(sentence);
        if !sentence.ends_with(['.', '!', '?']) {
            sentence.push('.');
        }
        sentence
    })
}

fn photos(count: usize, one: &str, many: &str) -> String {
    if count == 1 { one } else { many }.to_owned()
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
    use app::types::Platform;

    use super::*;
    use crate::studio::brief::{BriefImage, CaptionRules, ImageFacts, VoiceContext};

    fn brief(product: Option<ProductContext>, tone: Tone, variant: u32) -> CaptionBrief {
        CaptionBrief {
            platform: Platform::Instagram,
            tone,
            images: vec![BriefImage {
                mime: "image/jpeg".into(),
                bytes: Vec::new().into(),
                facts: ImageFacts {
                    width: 1080,
                    height: 1350,
                    colours: vec!["deep blue".into(), "cream".into()],
                    taken_on: chrono::NaiveDate::from_ymd_opt(2026, 4, 3),
                },
            }],
            product,
            voice: VoiceContext {
                samples: Vec::new(),
                avoid: Vec::new(),
                keep: vec!["#kilnworks".into(), "Made in Leeds".into()],
            },
            rules: CaptionRules {
                max_length: 2_200,
                unit: "characters",
                max_hashtags: 3,
                fold_at: Some(125),
                line_breaks: crate::platforms::LineBreaks::Kept,
            },
            note: None,
            variant,
            draft: None,
        }
    }

    fn mug() -> ProductContext {
        ProductContext {
            title: "Blue stoneware mug".into(),
            description: Some("thrown by hand and glazed twice. Dishwasher safe.".into()),
            price: Some("£24.00".into()),
            url: None,
            tags: vec!["mugs".into(), "stone ware".into(), "gifts".into()],
        }
    }

    #[test]
    fn a_product_caption_says_what_the_shop_knows_and_keeps_the_owners_phrases() {
        let caption = compose(&brief(Some(mug()), Tone::Plain, 0));
        assert!(
            caption.starts_with("Blue stoneware mug, £24.00."),
            "{caption}"
        );
        assert!(
            caption.contains("Thrown by hand and glazed twice."),
            "{caption}"
        );
        assert!(caption.contains("Made in Leeds."), "{caption}");
        assert!(
            caption.ends_with("\n\n#kilnworks #mugs #stoneware"),
            "{caption}"
        );
    }

    #[test]
    fn photos_alone_are_described_by_their_colour_and_day() {
        let caption = compose(&brief(None, Tone::Plain, 0));
        assert!(caption.starts_with("New photo in deep blue."), "{caption}");
        assert!(
            caption.contains("Friday"),
            "3 April 2026 is a Friday: {caption}"
        );
    }

    #[test]
    fn the_same_brief_writes_the_same_and_regenerating_varies() {
        let first = compose(&brief(Some(mug()), Tone::Friendly, 0));
        assert_eq!(first, compose(&brief(Some(mug()), Tone::Friendly, 0)));
        let others: Vec<String> = (1..8)
            .map(|variant| compose(&brief(Some(mug()), Tone::Friendly, variant)))
            .collect();
        assert!(others.iter().any(|other| *other != first), "{first}");
    }
}
