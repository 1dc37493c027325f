//! The choices a post takes on one account beyond its text and media: a Pinterest board, a
//! TikTok privacy level, a YouTube title. Each platform's file describes its fields (reading
//! the account's own choices from the platform, such as its boards); the composer draws them
//! without knowing any platform, and the answers travel as a target's `options`.

use serde::{Deserialize, Serialize};

/// `GET /api/connections/{id}/options`: the fields a post to this account takes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostOptions {
    pub fields: Vec<OptionField>,
    /// What the person should know before posting here, such as "Instagram cannot download
    /// media from this app's address".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// One field of a target's options, keyed by `name` in `options`. Flat, with a plain `kind`,
/// because every page that composes reads it and tagged enums cost the browser's wasm dearly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OptionField {
    /// The key in the target's `options` (`board_id`).
    pub name: String,
    /// What the composer calls it ("Board").
    pub label: String,
    pub kind: OptionKind,
    /// A post cannot be created without it.
    pub required: bool,
    /// A sentence under the field, when the label is not enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// `text`: the most characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chars: Option<u32>,
    /// `choice`: the values it may take.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<OptionChoice>,
    /// `choice`: the user may make a new one
    /// (`POST /api/connections/{id}/options/{name}/choices`).
    #[serde(default)]
    pub can_add: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    /// Free text up to `max_chars` characters.
    Text,
    /// One of `choices` (a switch is a choice of `true` or `false`).
    Choice,
}

impl OptionField {
    /// A free-text field of up to `max_chars` characters.
    pub fn text(name: &str, label: &str, max_chars: u32) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            kind: OptionKind::Text,
            required: false,
            help: None,
            max_chars: Some(max_chars),
            choices: Vec::new(),
            can_add: false,
        }
    }

    /// One of `choices`.
    pub fn choice(name: &str, label: &str, choices: Vec<OptionChoice>) -> Self {
        Self {
            kind: OptionKind::Choice,
            max_chars: None,
            choices,
            ..Self::text(name, label, 0)
        }
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn with_help(mut self, help: &str) -> Self {
        self.help = Some(help.to_owned());
        self
    }

    pub fn addable(mut self) -> Self {
        self.can_add = true;
        self
    }
}

/// One value a choice field may take, with what a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OptionChoice {
    pub value: String,
    pub label: String,
}

/// `POST /api/connections/{id}/options/{name}/choices`: a new choice, named by the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewChoice {
    pub label: String,
}
