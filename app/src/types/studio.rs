//! The AI Studio's choices as they cross the wire: the tone a caption is written in.

use serde::{Deserialize, Serialize};

/// How a caption should sound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Tone {
    #[default]
    Friendly,
    Witty,
    Plain,
    Premium,
    /// The user's own voice, from their sample posts.
    BrandVoice,
}

impl Tone {
    pub const ALL: [Tone; 5] = [
        Self::Friendly,
        Self::Witty,
        Self::Plain,
        Self::Premium,
        Self::BrandVoice,
    ];

    /// The name it goes by on the wire and in forms.
    pub fn value(self) -> &'static str {
        match self {
            Self::Friendly => "friendly",
            Self::Witty => "witty",
            Self::Plain => "plain",
            Self::Premium => "premium",
            Self::BrandVoice => "brand_voice",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Friendly => "Friendly",
            Self::Witty => "Witty",
            Self::Plain => "Plain",
            Self::Premium => "Premium",
            Self::BrandVoice => "My brand voice",
        }
    }
}

use super::{ConnectionId, EmojiPick, HumanScore, MediaId, ProofFlag, VoicePass};

/// A request for captions: one per chosen account, from the same photos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CaptionRequest {
    /// Up to ten photos from the media library, in the order the captions should follow.
    pub media_ids: Vec<MediaId>,
    /// The accounts to write for: each gets a caption in its platform's limits.
    pub connection_ids: Vec<ConnectionId>,
    #[serde(default)]
    pub tone: Tone,
    /// A starting point or note from the user ("back in stock, 20 % off").
    #[serde(default)]
    pub note: Option<String>,
    /// 0 for the first captions, one more for each "Regenerate".
    #[serde(default)]
    pub variant: u32,
    /// The product the post is about: its title, description, price, link and tags go to the
    /// writer, and its name is never flagged by the proofreader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<super::ProductId>,
}

/// What the caption stream says, one event at a time, for each account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum CaptionEvent {
    /// Which writer writes, before anything else.
    Writer { name: String },
    /// The next words of an account's caption, as the writer produced them.
    Piece {
        connection_id: ConnectionId,
        text: String,
    },
    /// An account's caption, finished: held to its platform's limits (it may differ from the
    /// pieces where they went past them), a model's rewritten once by the same rules, and put
    /// through the authenticity pass. `pass` lists each change over the writer's caption
    /// (`pass.original`), to accept or revert; `caption` has them all, and `score` is its score.
    Done {
        connection_id: ConnectionId,
        caption: String,
        pass: VoicePass,
        score: HumanScore,
    },
    /// Why an account's caption could not be written, in words to act on.
    Failed {
        connection_id: ConnectionId,
        message: String,
    },
}

/// `POST /api/studio/voice`: the authenticity pass over a caption, by the rules of the account's
/// platform when one is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoiceRequest {
    pub text: String,
    /// Whose platform's limits apply (its hashtag number and length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<ConnectionId>,
    /// Without an account: the hashtag number and length limit (default: 5 and 2,200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hashtags: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

/// The pass's changes, each to accept or revert, and the score before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VoiceAnswer {
    pub pass: VoicePass,
    /// The score of the text as sent.
    pub score: HumanScore,
    /// The score once every change is accepted.
    pub score_after: HumanScore,
}

/// `POST /api/studio/check`: what the editor shows beside a caption while it is typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CheckRequest {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<ConnectionId>,
    /// The product the caption is about: its name and its store's are never flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<super::ProductId>,
}

/// A caption as it stands: its length the platform's way, how human it sounds, what the
/// proofreader flags and which emoji fit its words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CaptionCheck {
    pub length: usize,
    pub max_length: usize,
    /// "characters", or "bytes" (YouTube).
    pub unit: String,
    pub score: HumanScore,
    pub flags: Vec<ProofFlag>,
    pub emoji: Vec<EmojiPick>,
    /// How many emoji the caption carries, and the most the person's density allows.
    pub emoji_count: usize,
    pub emoji_most: usize,
}

/// `POST /api/studio/dictionary`: a word the proofreader should never flag again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewWord {
    pub word: String,
}

/// `POST /api/studio/check/view`: the check drawn for the Studio's editor, as HTML: the
/// underlines of `text` and the panel under the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CheckView {
    /// The text checked: the underlines fit it, and only it.
    pub text: String,
    pub underlay: String,
    pub panel: String,
}
