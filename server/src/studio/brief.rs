//! What a caption writer is asked for: the photos (with the facts the app read from them), the
//! product they show if one was chosen, the tone and the user's voice, and the platform's rules
//! the caption must keep to.

use app::types::{Platform, Tone};

use crate::platforms::{LineBreaks, PostCheck, SocialPlatform};

/// One caption for one platform.
#[derive(Debug, Clone)]
pub struct CaptionBrief {
    pub platform: Platform,
    pub tone: Tone,
    pub images: Vec<BriefImage>,
    /// The product the photos show, when the user picked one (from a connected store).
    pub product: Option<ProductContext>,
    pub voice: VoiceContext,
    pub rules: CaptionRules,
    /// What the user typed as a starting point or a note ("new spring glazes, 20 % off"), if
    /// anything.
    pub note: Option<String>,
    /// 0 for the first caption, one more for each "Regenerate": the basic writer picks other
    /// sentences by it.
    pub variant: u32,
    /// A caption to rewrite by the same rules, instead of writing one: the AI rewrite that
    /// follows a model's first caption.
    pub draft: Option<String>,
}

/// An attached photo: its bytes for the models that look at pictures (shared, as every account's
/// brief carries the same photos), and what the app could read from it for the writer that
/// does not.
#[derive(Debug, Clone)]
pub struct BriefImage {
    pub mime: String,
    pub bytes: std::sync::Arc<[u8]>,
    pub facts: ImageFacts,
}

/// What the app reads from a photo without a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFacts {
    pub width: u32,
    pub height: u32,
    /// The most common colours, most common first, by name ("deep blue", "cream").
    pub colours: Vec<String>,
    /// When it was taken, from its EXIF data (`2026-04-03`), if it says.
    pub taken_on: Option<chrono::NaiveDate>,
}

/// A product from a store, as a caption may use it. Stores fill it in once they exist; the
/// Studio takes it already.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductContext {
    pub title: String,
    pub description: Option<String>,
    /// As the store shows it, currency included ("£24.00").
    pub price: Option<String>,
    pub url: Option<String>,
    pub tags: Vec<String>,
}

/// The user's brand voice: how they write (sample posts), and their phrases to avoid and to
/// keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VoiceContext {
    pub samples: Vec<String>,
    pub avoid: Vec<String>,
    pub keep: Vec<String>,
}

/// What the platform allows a caption, in its own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptionRules {
    /// The most the caption may be, counted the platform's way (`unit`).
    pub max_length: usize,
    /// "characters", or "bytes" (YouTube).
    pub unit: &'static str,
    pub max_hashtags: usize,
    /// Where the feed cuts the caption behind "more", so the opening must work alone.
    pub fold_at: Option<usize>,
    /// How the feed shows line breaks.
    pub line_breaks: LineBreaks,
}

impl CaptionRules {
    /// What `api`'s platform allows the post `post` describes (its media decide some limits,
    /// TikTok's for one), read from the platform's file.
    pub fn of(api: &dyn SocialPlatform, post: &PostCheck<'_>) -> Self {
        let looks = api.preview_rules(post);
        Self {
            max_length: looks.counter.max,
            unit: looks.counter.unit,
            max_hashtags: api.caption_hashtags(),
            fold_at: looks.fold.map(|fold| fold.chars),
            line_breaks: api.caption_line_breaks(),
        }
    }
}

/// A caption's length as `api`'s platform counts it for the post `post` describes.
pub fn platform_length(api: &dyn SocialPlatform, post: &PostCheck<'_>, caption: &str) -> usize {
    api.preview_rules(&PostCheck {
        text: caption,
        ..*post
    })
    .counter
    .used
}
