//! Server functions of the Settings page's AI Studio sections: the person's caption writer and
//! their brand voice. The sections are plain forms, posted as they are (they carry no wasm):
//! each saves its own part of the settings and leaves the other's as stored, and the page is
//! drawn again from what was saved. "Test connection" comes back to the page with the models
//! the writer offers in the URL.

// A form's fields are its server function's arguments, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::types::{ApiError, StudioSettings};

#[cfg(feature = "ssr")]
use {
    super::ssr::{require_session, respond, studio},
    crate::types::{EmojiDensity, StudioSettingsUpdate, WriterChoice, WriterTest},
};

/// Where the sections are, and where a test's models are shown.
pub const STUDIO_SETTINGS_PATH: &str = "/settings";
/// The query parameter that carries a test's models back to the page.
pub const MODELS_PARAM: &str = "models";

#[server(prefix = "/rpc", endpoint = "studio/settings")]
pub async fn studio_settings_of() -> Result<StudioSettings, ApiError> {
    let studio = studio();
    respond(
        async {
            let who = require_session().await?;
            studio.get(who.user.id).await
        }
        .await,
    )
}

/// Saves the writer section: which writer, and its model, address and key (a key left empty
/// is kept; `clear_*_key` present removes it).
#[server(prefix = "/rpc", endpoint = "studio/writer")]
pub async fn save_caption_writer(
    writer: String,
    gemini_key: String,
    clear_gemini_key: Option<String>,
    gemini_model: String,
    gemini_url: String,
    openai_url: String,
    openai_model: String,
    openai_key: String,
    clear_openai_key: Option<String>,
) -> Result<(), ApiError> {
    let studio = studio();
    respond(
        async {
            let who = require_session().await?;
            let stored = studio.get(who.user.id).await?;
            let update = StudioSettingsUpdate {
                writer: writer_choice(&writer)?,
                gemini_model: typed(gemini_model),
                gemini_url: typed(gemini_url),
                gemini_key: typed(gemini_key),
                clear_gemini_key: clear_gemini_key.is_some(),
                openai_url: typed(openai_url),
                openai_model: typed(openai_model),
                openai_key: typed(openai_key),
                clear_openai_key: clear_openai_key.is_some(),
                ..unchanged(stored)
            };
            studio.save(who.user.id, update).await.map(drop)
        }
        .await,
    )
}

/// Saves the brand voice section.
#[server(prefix = "/rpc", endpoint = "studio/voice")]
pub async fn save_brand_voice(
    voice_samples: String,
    avoid: String,
    keep: String,
    dictionary: String,
    emoji_density: String,
) -> Result<(), ApiError> {
    let studio = studio();
    respond(
        async {
            let who = require_session().await?;
            let stored = studio.get(who.user.id).await?;
            let emoji_density = EmojiDensity::parse(&emoji_density).ok_or_else(|| {
                ApiError::validation("emoji_density", "Choose none, a few or lively.")
            })?;
            let update = StudioSettingsUpdate {
                voice_samples: split_samples(&voice_samples),
                avoid: split_lines(&avoid),
                keep: split_lines(&keep),
                dictionary: split_lines(&dictionary),
                emoji_density,
                ..unchanged(stored)
            };
            studio.save(who.user.id, update).await.map(drop)
        }
        .await,
    )
}

/// "Test connection": the models of the writer as the form describes it (a stored key is used
/// when none is typed), carried back to the page in the URL.
#[server(prefix = "/rpc", endpoint = "studio/writer-test")]
pub async fn test_caption_writer(
    writer: String,
    gemini_key: String,
    gemini_model: String,
    gemini_url: String,
    openai_url: String,
    openai_model: String,
    openai_key: String,
) -> Result<Vec<String>, ApiError> {
    let studio = studio();
    respond(
        async {
            let who = require_session().await?;
            let test = WriterTest {
                writer: writer_choice(&writer)?,
                gemini_key: typed(gemini_key),
                gemini_model: typed(gemini_model),
                gemini_url: typed(gemini_url),
                openai_url: typed(openai_url),
                openai_model: typed(openai_model),
                openai_key: typed(openai_key),
            };
            let models = studio.test_writer(who.user.id, test).await?.models;
            let query: leptos_router::params::ParamsMap =
                [(MODELS_PARAM, models.join(", "))].into_iter().collect();
            leptos_axum::redirect(&format!(
                "{STUDIO_SETTINGS_PATH}{}#writer-title",
                query.to_query_string()
            ));
            Ok(models)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn writer_choice(value: &str) -> Result<WriterChoice, ApiError> {
    WriterChoice::parse(value)
        .ok_or_else(|| ApiError::validation("writer", "Choose one of the listed writers."))
}

/// An update that leaves `settings` as they are (keys kept): what a section changes its own
/// part of.
#[cfg(feature = "ssr")]
fn unchanged(settings: StudioSettings) -> StudioSettingsUpdate {
    StudioSettingsUpdate {
        writer: settings.writer,
        gemini_model: settings.gemini_model,
        gemini_url: settings.gemini_url,
        gemini_key: None,
        clear_gemini_key: false,
        openai_url: settings.openai_url,
        openai_model: settings.openai_model,
        openai_key: None,
        clear_openai_key: false,
        voice_samples: settings.voice_samples,
        avoid: settings.avoid,
        keep: settings.keep,
        dictionary: settings.dictionary,
        emoji_density: settings.emoji_density,
    }
}

/// What was typed, or none when nothing was.
#[cfg(feature = "ssr")]
fn typed(text: String) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Sample posts as typed: one per block of lines, blocks separated by a blank line.
#[cfg(feature = "ssr")]
fn split_samples(text: &str) -> Vec<String> {
    let mut samples = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                samples.push(block.join("\n"));
                block.clear();
            }
        } else {
            block.push(line.trim_end());
        }
    }
    if !block.is_empty() {
        samples.push(block.join("\n"));
    }
    samples
}

/// One entry per line, blank lines dropped.
#[cfg(feature = "ssr")]
fn split_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn samples_are_blocks_and_lists_are_lines() {
        assert_eq!(
            split_samples("Kiln's open.\nBring a friend.\n\n\nNew mugs.\n"),
            ["Kiln's open.\nBring a friend.", "New mugs."]
        );
        assert_eq!(
            split_lines(" cheap \n\nsynergy => teamwork\n"),
            ["cheap", "synergy => teamwork"]
        );
        assert_eq!(typed("  ".into()), None);
        assert_eq!(typed(" key ".into()).as_deref(), Some("key"));
    }
}
