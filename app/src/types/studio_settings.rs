//! A person's AI Studio settings as they cross the wire: which caption writer writes for them
//! (with their own Gemini key or OpenAI-compatible server), and their brand voice. Keys go to
//! the server and are never sent back: the settings only say whether one is stored.
//!
//! [`StudioSettingsUpdate::checked`] and [`WriterTest::checked`] are the one place the limits
//! live; the server runs them on every save, the Settings page shows their messages beside the
//! fields.

use serde::{Deserialize, Serialize};

use super::{ApiError, EmojiDensity};

/// The most sample posts a brand voice keeps, and the longest each may be (Instagram's caption
/// limit: a sample is a post).
pub const MAX_SAMPLES: usize = 20;
pub const MAX_SAMPLE_CHARS: usize = 2_200;
/// The most entries each phrase list (avoid, keep, my words) holds, and the longest an entry
/// may be.
pub const MAX_PHRASES: usize = 200;
pub const MAX_PHRASE_CHARS: usize = 80;
const MAX_URL_CHARS: usize = 2_000;
const MAX_MODEL_CHARS: usize = 200;
const MAX_KEY_CHARS: usize = 1_000;

/// Which caption writer writes a person's captions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum WriterChoice {
    /// The server's configured writer (Gemini when it has a key, else its OpenAI-compatible
    /// server); the basic writer when none is configured.
    #[default]
    Auto,
    /// The built-in basic writer: no key, no network.
    Basic,
    /// Google Gemini, with the person's own key or else the server's.
    Gemini,
    /// The person's own OpenAI-compatible server (Ollama, llama.cpp, vLLM).
    #[serde(rename = "openai")]
    OpenAi,
}

impl WriterChoice {
    pub const ALL: [WriterChoice; 4] = [Self::Auto, Self::Basic, Self::Gemini, Self::OpenAi];

    /// Its name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Basic => "basic",
            Self::Gemini => "gemini",
            Self::OpenAi => "openai",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Auto => "This server's writer",
            Self::Basic => "The basic writer",
            Self::Gemini => "Google Gemini",
            Self::OpenAi => "An OpenAI-compatible server",
        }
    }
}

/// A person's AI Studio settings, as they read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StudioSettings {
    pub writer: WriterChoice,
    /// Their Gemini model; none means the server's (by default `gemini-2.5-flash`).
    pub gemini_model: Option<String>,
    /// Their Gemini API address; none means the server's (Google's by default).
    pub gemini_url: Option<String>,
    /// Whether a Gemini key of theirs is stored (the key itself is never sent back).
    pub has_gemini_key: bool,
    /// Their OpenAI-compatible server, e.g. `http://localhost:11434/v1`.
    pub openai_url: Option<String>,
    pub openai_model: Option<String>,
    pub has_openai_key: bool,
    /// Posts of theirs the writers imitate.
    pub voice_samples: Vec<String>,
    /// Phrases the authenticity pass takes out: `phrase` or `phrase => replacement`.
    pub avoid: Vec<String>,
    /// Phrases never changed, and missed when a caption lacks them.
    pub keep: Vec<String>,
    /// Their own words (brands, products, names) the proofreader never flags.
    pub dictionary: Vec<String>,
    pub emoji_density: EmojiDensity,
    /// What [`WriterChoice::Auto`] means on this server: "Gemini (gemini-2.5-flash)", "the
    /// OpenAI-compatible server at …", or "the basic writer".
    pub server_writer: String,
}

/// New AI Studio settings: all of them at once, replacing what was stored, except the keys,
/// which are kept unless a new one is given or removal is asked for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StudioSettingsUpdate {
    pub writer: WriterChoice,
    #[serde(default)]
    pub gemini_model: Option<String>,
    #[serde(default)]
    pub gemini_url: Option<String>,
    /// A new Gemini key; none (or empty) keeps the stored one.
    #[serde(default)]
    pub gemini_key: Option<String>,
    /// Removes the stored Gemini key (a new `gemini_key` in the same update wins).
    #[serde(default)]
    pub clear_gemini_key: bool,
    #[serde(default)]
    pub openai_url: Option<String>,
    #[serde(default)]
    pub openai_model: Option<String>,
    /// A new key for the OpenAI-compatible server; none (or empty) keeps the stored one.
    #[serde(default)]
    pub openai_key: Option<String>,
    #[serde(default)]
    pub clear_openai_key: bool,
    #[serde(default)]
    pub voice_samples: Vec<String>,
    #[serde(default)]
    pub avoid: Vec<String>,
    #[serde(default)]
    pub keep: Vec<String>,
    #[serde(default)]
    pub dictionary: Vec<String>,
    #[serde(default)]
    pub emoji_density: EmojiDensity,
}

/// Keys stay out of logs: only whether one was given shows.
impl std::fmt::Debug for StudioSettingsUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudioSettingsUpdate")
            .field("writer", &self.writer)
            .field("gemini_model", &self.gemini_model)
            .field("gemini_url", &self.gemini_url)
            .field("gemini_key_given", &self.gemini_key.is_some())
            .field("clear_gemini_key", &self.clear_gemini_key)
            .field("openai_url", &self.openai_url)
            .field("openai_model", &self.openai_model)
            .field("openai_key_given", &self.openai_key.is_some())
            .field("clear_openai_key", &self.clear_openai_key)
            .field("voice_samples", &self.voice_samples.len())
            .field("avoid", &self.avoid.len())
            .field("keep", &self.keep.len())
            .field("dictionary", &self.dictionary.len())
            .field("emoji_density", &self.emoji_density)
            .finish()
    }
}

impl StudioSettingsUpdate {
    /// The update as it is stored: every text trimmed, empty fields and entries dropped, URLs
    /// without their trailing slash. Or the first thing to fix, named by its field.
    pub fn checked(self) -> Result<Self, ApiError> {
        let gemini_url = base_url("gemini_url", self.gemini_url, GEMINI_EXAMPLE)?;
        let gemini_model = text("gemini_model", self.gemini_model, MAX_MODEL_CHARS, "model")?;
        let gemini_key = text("gemini_key", self.gemini_key, MAX_KEY_CHARS, "key")?;
        let openai_url = base_url("openai_url", self.openai_url, OPENAI_EXAMPLE)?;
        let openai_model = text("openai_model", self.openai_model, MAX_MODEL_CHARS, "model")?;
        let openai_key = text("openai_key", self.openai_key, MAX_KEY_CHARS, "key")?;
        if self.writer == WriterChoice::OpenAi {
            if openai_url.is_none() {
                return Err(ApiError::validation(
                    "openai_url",
                    format!("Enter your server's address, such as {OPENAI_EXAMPLE} for Ollama."),
                ));
            }
            if openai_model.is_none() {
                return Err(ApiError::validation(
                    "openai_model",
                    "Enter the model to write with, such as llava (it must be able to see photos).",
                ));
            }
        }
        let voice_samples = entries(
            "voice_samples",
            self.voice_samples,
            MAX_SAMPLES,
            MAX_SAMPLE_CHARS,
            "sample posts",
        )?;
        let avoid = entries(
            "avoid",
            self.avoid,
            MAX_PHRASES,
            MAX_PHRASE_CHARS,
            "words to avoid",
        )?;
        let keep = entries(
            "keep",
            self.keep,
            MAX_PHRASES,
            MAX_PHRASE_CHARS,
            "words to keep",
        )?;
        let dictionary = entries(
            "dictionary",
            self.dictionary,
            MAX_PHRASES,
            MAX_PHRASE_CHARS,
            "words of your own",
        )?;
        Ok(Self {
            writer: self.writer,
            gemini_model,
            gemini_url,
            gemini_key,
            clear_gemini_key: self.clear_gemini_key,
            openai_url,
            openai_model,
            openai_key,
            clear_openai_key: self.clear_openai_key,
            voice_samples,
            avoid,
            keep,
            dictionary,
            emoji_density: self.emoji_density,
        })
    }
}

/// "Test connection": the writer a person is about to choose, as typed (a stored key is used
/// where none is typed).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WriterTest {
    pub writer: WriterChoice,
    #[serde(default)]
    pub gemini_model: Option<String>,
    #[serde(default)]
    pub gemini_url: Option<String>,
    #[serde(default)]
    pub gemini_key: Option<String>,
    #[serde(default)]
    pub openai_url: Option<String>,
    #[serde(default)]
    pub openai_model: Option<String>,
    #[serde(default)]
    pub openai_key: Option<String>,
}

impl std::fmt::Debug for WriterTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterTest")
            .field("writer", &self.writer)
            .field("gemini_model", &self.gemini_model)
            .field("gemini_url", &self.gemini_url)
            .field("gemini_key_given", &self.gemini_key.is_some())
            .field("openai_url", &self.openai_url)
            .field("openai_model", &self.openai_model)
            .field("openai_key_given", &self.openai_key.is_some())
            .finish()
    }
}

impl WriterTest {
    /// The test with its texts trimmed and its addresses checked, as for a save; the model
    /// may be missing (listing the models is how a person finds one).
    pub fn checked(self) -> Result<Self, ApiError> {
        let openai_url = base_url("openai_url", self.openai_url, OPENAI_EXAMPLE)?;
        if self.writer == WriterChoice::OpenAi && openai_url.is_none() {
            return Err(ApiError::validation(
                "openai_url",
                format!("Enter your server's address, such as {OPENAI_EXAMPLE} for Ollama."),
            ));
        }
        Ok(Self {
            writer: self.writer,
            gemini_model: text("gemini_model", self.gemini_model, MAX_MODEL_CHARS, "model")?,
            gemini_url: base_url("gemini_url", self.gemini_url, GEMINI_EXAMPLE)?,
            gemini_key: text("gemini_key", self.gemini_key, MAX_KEY_CHARS, "key")?,
            openai_url,
            openai_model: text("openai_model", self.openai_model, MAX_MODEL_CHARS, "model")?,
            openai_key: text("openai_key", self.openai_key, MAX_KEY_CHARS, "key")?,
        })
    }
}

/// What "Test connection" found: the writer's name and the models it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WriterModels {
    pub writer: String,
    pub models: Vec<String>,
}

const GEMINI_EXAMPLE: &str = "https://generativelanguage.googleapis.com";
const OPENAI_EXAMPLE: &str = "http://localhost:11434/v1";

/// A trimmed text, none when empty, at most `max` characters.
fn text(
    field: &str,
    value: Option<String>,
    max: usize,
    what: &str,
) -> Result<Option<String>, ApiError> {
    let Some(value) = value.map(|value| value.trim().to_owned()) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Ok(None);
    }
    let length = value.chars().count();
    if length > max {
        return Err(ApiError::validation(
            field,
            format!("This {what} is {length} characters long; the most is {max}."),
        ));
    }
    Ok(Some(value))
}

/// An absolute `http://` or `https://` address with a host, without its trailing slash; none
/// when empty.
fn base_url(field: &str, value: Option<String>, example: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = text(field, value, MAX_URL_CHARS, "address")? else {
        return Ok(None);
    };
    let trimmed = value.trim_end_matches('/');
    let absolute = trimmed.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|host| !host.is_empty())
    });
    if !absolute {
        return Err(ApiError::validation(
            field,
            format!(
                "Enter the whole address, starting with http:// or https://, such as {example}."
            ),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

/// A list's entries trimmed, the empty ones dropped, within `max` entries of `max_chars`
/// characters each.
fn entries(
    field: &str,
    list: Vec<String>,
    max: usize,
    max_chars: usize,
    what: &str,
) -> Result<Vec<String>, ApiError> {
    let list: Vec<String> = list
        .into_iter()
        .map(|entry| entry.trim().to_owned())
        .filter(|entry| !entry.is_empty())
        .collect();
    if list.len() > max {
        return Err(ApiError::validation(
            field,
            format!(
                "Keep up to {max} {what}; there are {}. Remove {} of them.",
                list.len(),
                list.len() - max
            ),
        ));
    }
    if let Some((index, entry)) = list
        .iter()
        .enumerate()
        .find(|(_, entry)| entry.chars().count() > max_chars)
    {
        let opening: String = entry.chars().take(30).collect();
        return Err(ApiError::validation(
            field,
            format!(
                "Entry {} (\u{201c}{opening}\u{2026}\u{201d}) is {} characters long; keep each of the {what} to {max_chars} or fewer.",
                index + 1,
                entry.chars().count()
            ),
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(writer: WriterChoice) -> StudioSettingsUpdate {
        StudioSettingsUpdate {
            writer,
            gemini_model: None,
            gemini_url: None,
            gemini_key: None,
            clear_gemini_key: false,
            openai_url: None,
            openai_model: None,
            openai_key: None,
            clear_openai_key: false,
            voice_samples: Vec::new(),
            avoid: Vec::new(),
            keep: Vec::new(),
            dictionary: Vec::new(),
            emoji_density: EmojiDensity::default(),
        }
    }

    fn field_of(result: Result<StudioSettingsUpdate, ApiError>) -> String {
        result
            .unwrap_err()
            .field()
            .expect("a field error")
            .to_owned()
    }

    #[test]
    fn names_on_the_wire_are_the_stored_names() {
        for choice in WriterChoice::ALL {
            let json = serde_json::to_value(choice).unwrap();
            assert_eq!(json, choice.as_str());
            assert_eq!(WriterChoice::parse(choice.as_str()), Some(choice));
        }
        for density in EmojiDensity::ALL {
            assert_eq!(serde_json::to_value(density).unwrap(), density.as_str());
            assert_eq!(EmojiDensity::parse(density.as_str()), Some(density));
        }
    }

    #[test]
    fn texts_are_trimmed_and_empty_entries_dropped() {
        let checked = StudioSettingsUpdate {
            gemini_model: Some("  ".into()),
            gemini_url: Some(" https://gemini.example.com/ ".into()),
            gemini_key: Some(" AIza-key \n".into()),
            voice_samples: vec!["  First post. ".into(), "\n\n".into()],
            avoid: vec!["elevate => lift".into(), "".into(), " synergy ".into()],
            ..update(WriterChoice::Gemini)
        }
        .checked()
        .unwrap();
        assert_eq!(checked.gemini_model, None);
        assert_eq!(
            checked.gemini_url.as_deref(),
            Some("https://gemini.example.com")
        );
        assert_eq!(checked.gemini_key.as_deref(), Some("AIza-key"));
        assert_eq!(checked.voice_samples, ["First post."]);
        assert_eq!(checked.avoid, ["elevate => lift", "synergy"]);
    }

    #[test]
    fn addresses_must_be_absolute_http_or_https() {
        for bad in ["localhost:11434/v1", "ftp://example.com", "/v1", "http://"] {
            let error = StudioSettingsUpdate {
                openai_url: Some(bad.into()),
                ..update(WriterChoice::Auto)
            }
            .checked()
            .unwrap_err();
            assert_eq!(error.field(), Some("openai_url"), "{bad}");
            assert!(error.to_string().contains("http://"), "{error}");
        }
        let checked = StudioSettingsUpdate {
            openai_url: Some("http://127.0.0.1:8080/v1/".into()),
            ..update(WriterChoice::Auto)
        }
        .checked()
        .unwrap();
        assert_eq!(
            checked.openai_url.as_deref(),
            Some("http://127.0.0.1:8080/v1")
        );
    }

    #[test]
    fn an_openai_compatible_server_needs_an_address_and_a_model() {
        assert_eq!(
            field_of(update(WriterChoice::OpenAi).checked()),
            "openai_url"
        );
        let without_model = StudioSettingsUpdate {
            openai_url: Some("http://localhost:11434/v1".into()),
            openai_model: Some(" ".into()),
            ..update(WriterChoice::OpenAi)
        };
        assert_eq!(field_of(without_model.checked()), "openai_model");
        let complete = StudioSettingsUpdate {
            openai_url: Some("http://localhost:11434/v1".into()),
            openai_model: Some("llava".into()),
            ..update(WriterChoice::OpenAi)
        };
        assert!(complete.checked().is_ok());
        // Another choice leaves the server's fields optional.
        assert!(update(WriterChoice::Basic).checked().is_ok());
    }

    #[test]
    fn samples_and_phrases_are_held_to_their_limits() {
        let many = StudioSettingsUpdate {
            voice_samples: vec!["A post.".into(); MAX_SAMPLES + 1],
            ..update(WriterChoice::Auto)
        };
        let error = many.checked().unwrap_err();
        assert_eq!(error.field(), Some("voice_samples"));
        assert!(error.to_string().contains("Remove 1"), "{error}");

        let long = StudioSettingsUpdate {
            voice_samples: vec!["x".repeat(MAX_SAMPLE_CHARS + 1)],
            ..update(WriterChoice::Auto)
        };
        assert_eq!(field_of(long.checked()), "voice_samples");
        let longest = StudioSettingsUpdate {
            voice_samples: vec!["é".repeat(MAX_SAMPLE_CHARS)],
            ..update(WriterChoice::Auto)
        };
        assert!(
            longest.checked().is_ok(),
            "counted in characters, not bytes"
        );

        type ListOf = fn(&mut StudioSettingsUpdate) -> &mut Vec<String>;
        let lists: [(&str, ListOf); 3] = [
            ("avoid", avoid_of),
            ("keep", keep_of),
            ("dictionary", dictionary_of),
        ];
        for (field, list) in lists {
            let mut too_many = update(WriterChoice::Auto);
            *list(&mut too_many) = vec!["word".into(); MAX_PHRASES + 1];
            assert_eq!(field_of(too_many.checked()), field);
            let mut too_long = update(WriterChoice::Auto);
            *list(&mut too_long) = vec!["ok".into(), "w".repeat(MAX_PHRASE_CHARS + 1)];
            let error = too_long.checked().unwrap_err();
            assert_eq!(error.field(), Some(field));
            assert!(error.to_string().starts_with("Entry 2 "), "{error}");
            let mut blank_lines = update(WriterChoice::Auto);
            *list(&mut blank_lines) = vec![" ".into(); MAX_PHRASES + 10];
            let mut checked = blank_lines.checked().unwrap();
            assert!(list(&mut checked).is_empty(), "{field}");
        }
    }

    fn avoid_of(update: &mut StudioSettingsUpdate) -> &mut Vec<String> {
        &mut update.avoid
    }

    fn keep_of(update: &mut StudioSettingsUpdate) -> &mut Vec<String> {
        &mut update.keep
    }

    fn dictionary_of(update: &mut StudioSettingsUpdate) -> &mut Vec<String> {
        &mut update.dictionary
    }

    #[test]
    fn a_writer_test_needs_an_address_only_for_a_server_of_ones_own() {
        let test = WriterTest {
            writer: WriterChoice::OpenAi,
            gemini_model: None,
            gemini_url: None,
            gemini_key: None,
            openai_url: None,
            openai_model: None,
            openai_key: None,
        };
        assert_eq!(
            test.clone().checked().unwrap_err().field(),
            Some("openai_url")
        );
        let with_address = WriterTest {
            openai_url: Some("http://localhost:11434/v1/".into()),
            ..test.clone()
        }
        .checked()
        .unwrap();
        assert_eq!(
            with_address.openai_url.as_deref(),
            Some("http://localhost:11434/v1")
        );
        assert!(
            WriterTest {
                writer: WriterChoice::Gemini,
                ..test
            }
            .checked()
            .is_ok()
        );
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let update = StudioSettingsUpdate {
            gemini_key: Some("AIza-secret".into()),
            openai_key: Some("sk-secret".into()),
            ..update(WriterChoice::Gemini)
        };
        let shown = format!("{update:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
