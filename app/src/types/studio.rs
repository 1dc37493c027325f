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

use super::{ConnectionId, HumanScore, MediaId};

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
    /// An account's caption, finished and held to its platform's limits (it may differ from
    /// the pieces where they went past them), with how human it sounds.
    Done {
        connection_id: ConnectionId,
        caption: String,
        score: HumanScore,
    },
    /// Why an account's caption could not be written, in words to act on.
    Failed {
        connection_id: ConnectionId,
        message: String,
    },
}
