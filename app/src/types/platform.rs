//! The social platforms Picscripterai publishes to. Adding one is a variant here, a file in
//! `server/src/platforms/`, a line in the registry and a fake in `server/src/sandbox/`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Instagram,
    Facebook,
    Tiktok,
    X,
    Linkedin,
    Pinterest,
    Youtube,
}

impl Platform {
    pub const ALL: [Platform; 7] = [
        Self::Instagram,
        Self::Facebook,
        Self::Tiktok,
        Self::X,
        Self::Linkedin,
        Self::Pinterest,
        Self::Youtube,
    ];

    /// The name in URLs, JSON and the database: `x`, `instagram`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instagram => "instagram",
            Self::Facebook => "facebook",
            Self::Tiktok => "tiktok",
            Self::X => "x",
            Self::Linkedin => "linkedin",
            Self::Pinterest => "pinterest",
            Self::Youtube => "youtube",
        }
    }

    /// The name people know it by.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Instagram => "Instagram",
            Self::Facebook => "Facebook",
            Self::Tiktok => "TikTok",
            Self::X => "X",
            Self::Linkedin => "LinkedIn",
            Self::Pinterest => "Pinterest",
            Self::Youtube => "YouTube",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|platform| platform.as_str() == raw)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.display_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_name_parses_back_and_is_the_serde_name() {
        for platform in Platform::ALL {
            assert_eq!(Platform::parse(platform.as_str()), Some(platform));
            assert_eq!(serde_json::to_value(platform).unwrap(), platform.as_str());
        }
        assert_eq!(Platform::parse("twitter"), None);
    }
}
