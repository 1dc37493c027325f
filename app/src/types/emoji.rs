//! An emoji as the Studio offers it: suggested for a caption's words, or found in the picker.

use serde::{Deserialize, Serialize};

/// One emoji to offer, with what the picker shows and searches beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EmojiPick {
    /// The emoji itself, as it goes into the caption.
    pub emoji: String,
    /// Its Unicode (CLDR) name: "hot beverage".
    pub name: String,
    /// Its GitHub shortcode, without colons: "coffee".
    pub shortcode: Option<String>,
    /// The group the picker files it under: "Food & Drink".
    pub group: String,
    /// For a suggestion, the caption's word it was matched to ("coffee"); `None` in a search.
    pub word: Option<String>,
}
