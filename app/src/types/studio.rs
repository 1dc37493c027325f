//! The AI Studio's choices as they cross the wire: the tone a caption is written in.

use serde::{Deserialize, Serialize};

/// How a caption should sound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
