//! How a draft would look on each chosen account, as the composer previews it. The facts
//! (how a platform counts text, where its feed folds a caption behind "more", which shapes it
//! crops media to) come from each platform's file on the server; the server draws the
//! previews from them, so none of it is in the browser's wasm.

use super::{ConnectionId, Platform};

/// The draft as one chosen account would show it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetPreview {
    pub connection_id: ConnectionId,
    pub platform: Platform,
    pub handle: String,
    pub display_name: Option<String>,
    /// The line shown above the text (a video's or a pin's title), if the platform has one.
    pub headline: Option<String>,
    /// The text this account gets (its own, or the post's).
    pub text: String,
    pub looks: PreviewRules,
    pub media: Vec<PreviewMedia>,
    /// Why the platform would refuse the post as it stands, in words a person acts on.
    pub problem: Option<String>,
}

/// One attached file as a preview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewMedia {
    /// An image's URL, or a video's poster frame.
    pub url: Option<String>,
    pub video: bool,
    pub width: u32,
    pub height: u32,
}

/// How a platform shows one post: declared by its file, for this post (a TikTok video and a
/// TikTok photo post count differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewRules {
    pub counter: TextCounter,
    /// Where the feed hides the rest of the text behind "more"; `None` shows it all.
    pub fold: Option<Fold>,
    pub frame: Frame,
    /// Several files side by side (X, Facebook, LinkedIn) or one at a time (a carousel).
    pub gallery: Gallery,
}

/// The text's length as the platform counts it, against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextCounter {
    pub used: usize,
    pub max: usize,
    /// What is counted: "characters", or "bytes" (YouTube).
    pub unit: &'static str,
}

impl TextCounter {
    pub fn characters(used: usize, max: usize) -> Self {
        Self {
            used,
            max,
            unit: "characters",
        }
    }

    pub fn is_over(&self) -> bool {
        self.used > self.max
    }
}

/// A caption folded after `chars` characters or `lines` lines, whichever comes first, with
/// `more` in its place ("… more", "…see more").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    pub chars: usize,
    pub lines: usize,
    pub more: &'static str,
}

impl Fold {
    /// The part of `text` the feed shows before `more`, or `None` when all of it shows.
    pub fn visible<'a>(&self, text: &'a str) -> Option<&'a str> {
        let by_lines = text
            .match_indices('\n')
            .nth(self.lines.saturating_sub(1))
            .map(|(at, _)| at);
        let by_chars = text.char_indices().nth(self.chars).map(|(at, _)| at);
        let cut = match (by_lines, by_chars) {
            (Some(lines), Some(chars)) => lines.min(chars),
            (one, other) => one.or(other)?,
        };
        Some(text[..cut].trim_end())
    }
}

/// An aspect ratio, `width:height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio(pub u32, pub u32);

impl Ratio {
    fn value(self) -> f64 {
        f64::from(self.0) / f64::from(self.1.max(1))
    }
}

/// The shapes a feed shows media in: anything taller than `tallest` or wider than `widest` is
/// cropped to it (`crops`) or shown inside it with bars (YouTube's player).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub tallest: Ratio,
    pub widest: Ratio,
    pub crops: bool,
}

impl Frame {
    /// The same shape for everything: a vertical video feed, a player.
    pub const fn fixed(ratio: Ratio, crops: bool) -> Self {
        Self {
            tallest: ratio,
            widest: ratio,
            crops,
        }
    }

    /// The shape a `width` by `height` file is shown in, and whether that shape cuts part of
    /// it off.
    pub fn shape(&self, width: u32, height: u32) -> (Ratio, bool) {
        if width == 0 || height == 0 {
            return (self.widest, false);
        }
        let own = Ratio(width, height);
        let shown = if own.value() < self.tallest.value() {
            self.tallest
        } else if own.value() > self.widest.value() {
            self.widest
        } else {
            return (own, false);
        };
        (shown, self.crops)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gallery {
    /// Up to four side by side, the rest counted.
    Grid,
    /// The first, with a count of the others.
    Carousel,
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTAGRAM: Fold = Fold {
        chars: 10,
        lines: 2,
        more: "… more",
    };

    #[test]
    fn a_short_caption_is_not_folded() {
        assert_eq!(INSTAGRAM.visible("Blue mugs"), None);
        assert_eq!(INSTAGRAM.visible("0123456789"), None);
        assert_eq!(INSTAGRAM.visible("one\ntwo"), None);
    }

    #[test]
    fn a_caption_folds_at_its_characters_or_its_lines() {
        assert_eq!(INSTAGRAM.visible("0123456789A"), Some("0123456789"));
        assert_eq!(INSTAGRAM.visible("one\ntwo\nthree"), Some("one\ntwo"));
        // Counted in characters, not bytes: no cut inside an accented letter.
        assert_eq!(INSTAGRAM.visible("ééééééééééé"), Some("éééééééééé"));
        assert_eq!(
            INSTAGRAM.visible("tasse bleue du matin"),
            Some("tasse bleu")
        );
    }

    #[test]
    fn media_outside_the_frame_is_cropped_to_its_edge() {
        let feed = Frame {
            tallest: Ratio(4, 5),
            widest: Ratio(191, 100),
            crops: true,
        };
        assert_eq!(feed.shape(1080, 1080), (Ratio(1080, 1080), false));
        assert_eq!(feed.shape(1080, 1920), (Ratio(4, 5), true));
        assert_eq!(feed.shape(3000, 1000), (Ratio(191, 100), true));
        let player = Frame::fixed(Ratio(16, 9), false);
        assert_eq!(player.shape(1080, 1920), (Ratio(16, 9), false));
        assert_eq!(player.shape(1920, 1080), (Ratio(1920, 1080), false));
    }
}
