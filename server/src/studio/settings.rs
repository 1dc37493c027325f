//! A person's AI Studio settings: which caption writer writes for them, their own writer's
//! keys (sealed, bound to them and to the column, never sent back), and their brand voice.
//! [`StudioSettingsStore::load`] resolves their choice over the server's configuration into
//! the writer configuration their captions use.
//!
//! The server's own Gemini key is only ever sent to the server's own Gemini address: a person
//! who points Gemini elsewhere must bring their key. A person's own OpenAI-compatible server is
//! called from this server, at the address they give (that is how a local Ollama is reached).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use secrecy::SecretString;

use app::types::{
    ApiError, EmojiDensity, MAX_PHRASE_CHARS, MAX_PHRASES, StudioSettings, StudioSettingsUpdate,
    UserId, WriterChoice, WriterModels, WriterTest,
};

use app::services::StudioPreferences;

use super::brief::VoiceContext;
use super::service::writer_for;
use crate::clock::SharedClock;
use crate::config::{
    DEFAULT_GEMINI_MODEL, DEFAULT_GEMINI_URL, GeminiConfig, OpenAiConfig, WriterConfig,
};
use crate::crypto::{EncryptedToken, Keyring};
use crate::db::studio_settings::{
    self as rows, KeyChange, KeyKind, StoredStudioSettings, StudioChoices, key_context,
};
use crate::error::Error;

pub struct StudioSettingsStore {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    /// The writers the server is configured with: what `Auto` means, and the Gemini key and
    /// model a person's Gemini choice falls back to.
    server_writers: WriterConfig,
    clock: SharedClock,
}

/// What one person's captions are written and checked with.
#[derive(Debug, Clone)]
pub struct UserStudio {
    /// Their writer configuration, resolved from their choice over the server's: `Auto` is the
    /// server's; `Basic` is neither; `Gemini` their key and model and address, else the
    /// server's (their key alone goes to their address); `OpenAi` their server. A choice that
    /// cannot be honoured (no key anywhere) leaves neither, which is the basic writer.
    pub writers: WriterConfig,
    pub writer_choice: WriterChoice,
    pub voice: VoiceContext,
    /// Their own words, which the proofreader never flags.
    pub dictionary: Vec<String>,
    pub emoji_density: EmojiDensity,
}

/// A writer as a person describes it, their keys opened.
struct OwnWriter<'a> {
    choice: WriterChoice,
    gemini_model: Option<&'a str>,
    gemini_url: Option<&'a str>,
    gemini_key: Option<SecretString>,
    openai_url: Option<&'a str>,
    openai_model: Option<&'a str>,
    openai_key: Option<SecretString>,
}

impl StudioSettingsStore {
    pub fn new(
        db: DatabaseConnection,
        keyring: Arc<Keyring>,
        server_writers: WriterConfig,
        clock: SharedClock,
    ) -> Self {
        Self {
            db,
            keyring,
            server_writers,
            clock,
        }
    }

    /// The owner's settings as they read them; the defaults when they never saved any.
    pub async fn get(&self, owner: UserId) -> Result<StudioSettings, Error> {
        let stored = rows::get(&self.db, owner).await?;
        Ok(self.settings(stored))
    }

    /// Replaces the owner's settings with `update`: keys are sealed for the owner and their
    /// column, kept when none is given, removed when asked. Choosing Gemini needs a key, theirs
    /// or the server's, and a Gemini address of their own needs a key of their own.
    pub async fn save(
        &self,
        owner: UserId,
        update: StudioSettingsUpdate,
        now: DateTime<Utc>,
    ) -> Result<StudioSettings, Error> {
        let update = update.checked()?;
        let stored = rows::get(&self.db, owner).await?;
        let gemini_key = self.key_change(
            owner,
            KeyKind::Gemini,
            update.gemini_key,
            update.clear_gemini_key,
        );
        let openai_key = self.key_change(
            owner,
            KeyKind::OpenAi,
            update.openai_key,
            update.clear_openai_key,
        );
        let owns_gemini_key = match &gemini_key {
            KeyChange::Set(_) => true,
            KeyChange::Clear => false,
            KeyChange::Keep => stored
                .as_ref()
                .is_some_and(|stored| stored.gemini_key.is_some()),
        };
        if update.writer == WriterChoice::Gemini {
            self.check_gemini(owns_gemini_key, update.gemini_url.is_some())?;
        }
        let choices = StudioChoices {
            writer: update.writer,
            gemini_model: update.gemini_model,
            gemini_url: update.gemini_url,
            openai_url: update.openai_url,
            openai_model: update.openai_model,
            voice_samples: update.voice_samples,
            avoid: update.avoid,
            keep: update.keep,
            dictionary: update.dictionary,
            emoji_density: update.emoji_density,
        };
        rows::upsert(&self.db, owner, &choices, gemini_key, openai_key, now).await?;
        tracing::info!(writer = choices.writer.as_str(), "studio settings saved");
        self.get(owner).await
    }

    /// Adds `word` to the owner's own words (once; a word already there is left), for the
    /// proofreader's "add to my words".
    pub async fn add_word(&self, owner: UserId, word: &str) -> Result<(), Error> {
        let word = word.trim();
        if word.is_empty() {
            return Err(ApiError::validation("word", "Type the word to add.").into());
        }
        if word.chars().count() > MAX_PHRASE_CHARS {
            return Err(ApiError::validation(
                "word",
                format!("Keep a word of your own to {MAX_PHRASE_CHARS} characters or fewer."),
            )
            .into());
        }
        let mut choices = rows::get(&self.db, owner)
            .await?
            .map(|stored| stored.choices)
            .unwrap_or_default();
        if choices.dictionary.iter().any(|known| known == word) {
            return Ok(());
        }
        if choices.dictionary.len() >= MAX_PHRASES {
            return Err(ApiError::validation(
                "word",
                format!(
                    "Your words are full ({MAX_PHRASES}). Remove some in Settings, under Brand voice."
                ),
            )
            .into());
        }
        choices.dictionary.push(word.to_owned());
        rows::upsert(
            &self.db,
            owner,
            &choices,
            KeyChange::Keep,
            KeyChange::Keep,
            self.clock.now(),
        )
        .await?;
        Ok(())
    }

    /// What the owner's captions are written and checked with.
    pub async fn load(&self, owner: UserId) -> Result<UserStudio, Error> {
        let Some(stored) = rows::get(&self.db, owner).await? else {
            return Ok(UserStudio {
                writers: self.server_writers.clone(),
                writer_choice: WriterChoice::Auto,
                voice: VoiceContext::default(),
                dictionary: Vec::new(),
                emoji_density: EmojiDensity::default(),
            });
        };
        let gemini_key = self.open(owner, KeyKind::Gemini, stored.gemini_key.as_ref())?;
        let openai_key = self.open(owner, KeyKind::OpenAi, stored.openai_key.as_ref())?;
        let choices = stored.choices;
        let writers = self.writers_for(OwnWriter {
            choice: choices.writer,
            gemini_model: choices.gemini_model.as_deref(),
            gemini_url: choices.gemini_url.as_deref(),
            gemini_key,
            openai_url: choices.openai_url.as_deref(),
            openai_model: choices.openai_model.as_deref(),
            openai_key,
        });
        Ok(UserStudio {
            writers,
            writer_choice: choices.writer,
            voice: VoiceContext {
                samples: choices.voice_samples,
                avoid: choices.avoid,
                keep: choices.keep,
            },
            dictionary: choices.dictionary,
            emoji_density: choices.emoji_density,
        })
    }

    /// "Test connection": asks the writer `test` describes for its models (a stored key stands
    /// in for one not typed). What went wrong comes back as the writer's own message, on the
    /// field `writer`.
    pub async fn test_writer(
        &self,
        owner: UserId,
        test: WriterTest,
    ) -> Result<WriterModels, Error> {
        let test = test.checked()?;
        let stored = rows::get(&self.db, owner).await?;
        let stored_key = |kind: KeyKind| stored.as_ref().and_then(|stored| stored.key(kind));
        let gemini_key = match test.gemini_key {
            Some(typed) => Some(SecretString::from(typed)),
            None => self.open(owner, KeyKind::Gemini, stored_key(KeyKind::Gemini))?,
        };
        let openai_key = match test.openai_key {
            Some(typed) => Some(SecretString::from(typed)),
            None => self.open(owner, KeyKind::OpenAi, stored_key(KeyKind::OpenAi))?,
        };
        if test.writer == WriterChoice::Gemini {
            self.check_gemini(gemini_key.is_some(), test.gemini_url.is_some())?;
        }
        let writers = self.writers_for(OwnWriter {
            choice: test.writer,
            gemini_model: test.gemini_model.as_deref(),
            gemini_url: test.gemini_url.as_deref(),
            gemini_key,
            openai_url: test.openai_url.as_deref(),
            // Listing the models needs none: that is how a person finds one.
            openai_model: Some(test.openai_model.as_deref().unwrap_or_default()),
            openai_key,
        });
        let writer = writer_for(&writers);
        let models = writer
            .models()
            .await
            .map_err(|error| ApiError::validation("writer", error.to_string()))?;
        Ok(WriterModels {
            writer: writer.name().to_owned(),
            models,
        })
    }

    fn settings(&self, stored: Option<StoredStudioSettings>) -> StudioSettings {
        let (choices, has_gemini_key, has_openai_key) = match stored {
            Some(stored) => (
                stored.choices,
                stored.gemini_key.is_some(),
                stored.openai_key.is_some(),
            ),
            None => (StudioChoices::default(), false, false),
        };
        StudioSettings {
            writer: choices.writer,
            gemini_model: choices.gemini_model,
            gemini_url: choices.gemini_url,
            has_gemini_key,
            openai_url: choices.openai_url,
            openai_model: choices.openai_model,
            has_openai_key,
            voice_samples: choices.voice_samples,
            avoid: choices.avoid,
            keep: choices.keep,
            dictionary: choices.dictionary,
            emoji_density: choices.emoji_density,
            server_writer: describe(&self.server_writers),
        }
    }

    /// Gemini can write for a person who has a key of their own, or, at the server's own
    /// address, with the server's key.
    fn check_gemini(&self, owns_key: bool, own_address: bool) -> Result<(), ApiError> {
        if owns_key {
            return Ok(());
        }
        if self.server_writers.gemini.is_none() {
            return Err(ApiError::validation(
                "gemini_key",
                "Add a Gemini API key, or choose another writer.",
            ));
        }
        if own_address {
            return Err(ApiError::validation(
                "gemini_key",
                "A Gemini address of your own needs a key of your own: add your key, or clear the address to use this server's.",
            ));
        }
        Ok(())
    }

    /// What a save does to the owner's `kind` key: a typed key is sealed (and wins over a
    /// removal asked in the same save).
    fn key_change(
        &self,
        owner: UserId,
        kind: KeyKind,
        typed: Option<String>,
        clear: bool,
    ) -> KeyChange {
        match (typed, clear) {
            (Some(key), _) => KeyChange::Set(
                self.keyring
                    .encrypt(&SecretString::from(key), &key_context(owner, kind)),
            ),
            (None, true) => KeyChange::Clear,
            (None, false) => KeyChange::Keep,
        }
    }

    fn open(
        &self,
        owner: UserId,
        kind: KeyKind,
        sealed: Option<&EncryptedToken>,
    ) -> Result<Option<SecretString>, Error> {
        Ok(sealed
            .map(|token| self.keyring.decrypt(token, &key_context(owner, kind)))
            .transpose()?)
    }

    /// The writer configuration `own` comes to over the server's.
    fn writers_for(&self, own: OwnWriter<'_>) -> WriterConfig {
        match own.choice {
            WriterChoice::Auto => self.server_writers.clone(),
            WriterChoice::Basic => WriterConfig::default(),
            WriterChoice::Gemini => {
                let server = self.server_writers.gemini.as_ref();
                let gemini = match own.gemini_key {
                    Some(key) => Some(GeminiConfig {
                        key,
                        model: own
                            .gemini_model
                            .map(str::to_owned)
                            .or_else(|| server.map(|server| server.model.clone()))
                            .unwrap_or_else(|| DEFAULT_GEMINI_MODEL.to_owned()),
                        url: own
                            .gemini_url
                            .and_then(http_url)
                            .or_else(|| server.map(|server| server.url.clone()))
                            .unwrap_or_else(|| {
                                DEFAULT_GEMINI_URL.parse().expect("the default URL parses")
                            }),
                    }),
                    // The server's key, only ever at the server's address.
                    None => server.map(|server| GeminiConfig {
                        key: server.key.clone(),
                        model: own
                            .gemini_model
                            .map_or_else(|| server.model.clone(), str::to_owned),
                        url: server.url.clone(),
                    }),
                };
                WriterConfig {
                    gemini,
                    openai: None,
                }
            }
            WriterChoice::OpenAi => WriterConfig {
                gemini: None,
                openai: match (own.openai_url.and_then(http_url), own.openai_model) {
                    (Some(url), Some(model)) => Some(OpenAiConfig {
                        url,
                        model: model.to_owned(),
                        key: own.openai_key,
                    }),
                    _ => None,
                },
            },
        }
    }
}

/// An absolute `http://` or `https://` address, as the settings store them.
fn http_url(raw: &str) -> Option<http::Uri> {
    raw.parse::<http::Uri>()
        .ok()
        .filter(|uri| matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some())
}

/// What `Auto` means with the server's `writers`, for the Settings page.
fn describe(writers: &WriterConfig) -> String {
    match (&writers.gemini, &writers.openai) {
        (Some(gemini), _) => format!("Gemini ({})", gemini.model),
        (None, Some(server)) => format!(
            "the OpenAI-compatible server at {} ({})",
            server.url, server.model
        ),
        (None, None) => "the basic writer".to_owned(),
    }
}

#[async_trait::async_trait]
impl StudioPreferences for StudioSettingsStore {
    async fn get(&self, owner: UserId) -> Result<StudioSettings, ApiError> {
        Ok(StudioSettingsStore::get(self, owner).await?)
    }

    async fn save(
        &self,
        owner: UserId,
        update: StudioSettingsUpdate,
    ) -> Result<StudioSettings, ApiError> {
        let now = self.clock.now();
        Ok(StudioSettingsStore::save(self, owner, update, now).await?)
    }

    async fn test_writer(&self, owner: UserId, test: WriterTest) -> Result<WriterModels, ApiError> {
        Ok(StudioSettingsStore::test_writer(self, owner, test).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn store(server_writers: WriterConfig) -> StudioSettingsStore {
        let keyring = Keyring::new(&SecretString::from(crate::crypto::generate_key()), &[])
            .expect("a fresh key is valid");
        StudioSettingsStore::new(
            DatabaseConnection::Disconnected,
            Arc::new(keyring),
            server_writers,
            Arc::new(crate::clock::SystemClock),
        )
    }

    fn server_gemini() -> WriterConfig {
        WriterConfig {
            gemini: Some(GeminiConfig {
                key: SecretString::from("server-key".to_owned()),
                model: "gemini-server".into(),
                url: "https://gemini.example.com".parse().unwrap(),
            }),
            openai: None,
        }
    }

    fn own(choice: WriterChoice) -> OwnWriter<'static> {
        OwnWriter {
            choice,
            gemini_model: None,
            gemini_url: None,
            gemini_key: None,
            openai_url: None,
            openai_model: None,
            openai_key: None,
        }
    }

    #[test]
    fn the_servers_gemini_key_never_goes_to_a_persons_address() {
        let store = store(server_gemini());
        let writers = store.writers_for(OwnWriter {
            gemini_url: Some("https://elsewhere.example.com"),
            gemini_model: Some("gemini-own"),
            ..own(WriterChoice::Gemini)
        });
        let gemini = writers.gemini.unwrap();
        assert_eq!(gemini.url.host(), Some("gemini.example.com"));
        assert_eq!(gemini.model, "gemini-own");
        assert_eq!(gemini.key.expose_secret(), "server-key");
        assert!(
            store.check_gemini(false, true).is_err(),
            "a save with an address of one's own and no key is refused"
        );
    }

    #[test]
    fn a_persons_gemini_key_goes_with_their_model_and_address_or_the_defaults() {
        let store = store(WriterConfig::default());
        let writers = store.writers_for(OwnWriter {
            gemini_key: Some(SecretString::from("own-key".to_owned())),
            ..own(WriterChoice::Gemini)
        });
        let gemini = writers.gemini.unwrap();
        assert_eq!(gemini.model, DEFAULT_GEMINI_MODEL);
        assert_eq!(
            gemini.url.to_string().trim_end_matches('/'),
            DEFAULT_GEMINI_URL
        );
        assert_eq!(gemini.key.expose_secret(), "own-key");
        let error = store.check_gemini(false, false).unwrap_err();
        assert_eq!(error.field(), Some("gemini_key"));
        assert_eq!(
            error.to_string(),
            "Add a Gemini API key, or choose another writer."
        );
    }

    #[test]
    fn auto_is_the_servers_writer_and_basic_is_neither() {
        let store = store(server_gemini());
        let auto = store.writers_for(own(WriterChoice::Auto));
        assert_eq!(auto.gemini.unwrap().model, "gemini-server");
        let basic = store.writers_for(own(WriterChoice::Basic));
        assert!(basic.gemini.is_none() && basic.openai.is_none());
        assert_eq!(describe(&store.server_writers), "Gemini (gemini-server)");
        assert_eq!(describe(&WriterConfig::default()), "the basic writer");
    }

    #[test]
    fn an_openai_compatible_choice_is_the_persons_server_alone() {
        let store = store(server_gemini());
        let writers = store.writers_for(OwnWriter {
            openai_url: Some("http://localhost:11434/v1"),
            openai_model: Some("llava"),
            ..own(WriterChoice::OpenAi)
        });
        assert!(writers.gemini.is_none());
        let server = writers.openai.unwrap();
        assert_eq!(server.url.to_string(), "http://localhost:11434/v1");
        assert_eq!(server.model, "llava");
        assert!(server.key.is_none());
    }

    #[test]
    fn a_key_sealed_for_one_person_does_not_open_for_another() {
        let store = store(WriterConfig::default());
        let (ana, bo) = (UserId(uuid::Uuid::new_v4()), UserId(uuid::Uuid::new_v4()));
        let KeyChange::Set(sealed) =
            store.key_change(ana, KeyKind::Gemini, Some("AIza-own".into()), false)
        else {
            panic!("a typed key is set");
        };
        let opened = store.open(ana, KeyKind::Gemini, Some(&sealed)).unwrap();
        assert_eq!(opened.unwrap().expose_secret(), "AIza-own");
        assert!(store.open(bo, KeyKind::Gemini, Some(&sealed)).is_err());
        assert!(store.open(ana, KeyKind::OpenAi, Some(&sealed)).is_err());
        assert_eq!(
            store.key_change(ana, KeyKind::Gemini, None, true),
            KeyChange::Clear
        );
        assert_eq!(
            store.key_change(ana, KeyKind::Gemini, None, false),
            KeyChange::Keep
        );
    }
}
