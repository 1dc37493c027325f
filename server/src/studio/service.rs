//! The Studio's captions for a person: their photos and accounts checked, one brief per account
//! from its platform's rules, the configured writer asked for each (all at once), and every
//! caption held to its platform's limits and scored before it is handed back.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use sea_orm::DatabaseConnection;

use app::types::{ApiError, CaptionEvent, CaptionRequest, ConnectionId, TargetOptions, UserId};

use super::brief::{BriefImage, CaptionBrief, CaptionRules, VoiceContext, platform_length};
use super::facts::prepare;
use super::fit::fit;
use super::voice::{CaptionLimits, Voice};
use super::writers::{BasicWriter, CaptionWriter, GeminiWriter, OpenAiCompatWriter, Pieces};
use crate::config::WriterConfig;
use crate::db::connections as connection_rows;
use crate::db::media as media_rows;
use crate::error::Error;
use crate::media::library::MediaLibrary;
use crate::platforms::{MediaCheck, PostCheck, Registry, SocialPlatform};

/// The most photos a caption request takes.
pub const MAX_PHOTOS: usize = 10;

pub struct Studio {
    db: DatabaseConnection,
    registry: Registry,
    library: Arc<MediaLibrary>,
    writer: Arc<dyn CaptionWriter>,
}

/// One account's caption to write.
struct Job {
    connection_id: ConnectionId,
    api: Arc<dyn SocialPlatform>,
    media: Vec<MediaCheck>,
    brief: CaptionBrief,
}

impl Studio {
    /// Writes with Gemini when it is configured, else with the OpenAI-compatible server, else
    /// with the basic writer.
    pub fn new(
        db: DatabaseConnection,
        registry: Registry,
        library: Arc<MediaLibrary>,
        writers: &WriterConfig,
    ) -> Self {
        let writer: Arc<dyn CaptionWriter> = match (&writers.gemini, &writers.openai) {
            (Some(gemini), _) => Arc::new(GeminiWriter::new(
                &gemini.url.to_string(),
                &gemini.model,
                gemini.key.clone(),
            )),
            (None, Some(server)) => Arc::new(OpenAiCompatWriter::new(
                &server.url.to_string(),
                &server.model,
                server.key.clone(),
            )),
            (None, None) => Arc::new(BasicWriter),
        };
        Self {
            db,
            registry,
            library,
            writer,
        }
    }

    /// Checks the request, then streams each account's caption as it is written. A request the
    /// person must change is refused before anything is written.
    pub async fn captions(
        &self,
        owner: UserId,
        request: CaptionRequest,
    ) -> Result<BoxStream<'static, CaptionEvent>, Error> {
        let jobs = self.jobs(owner, &request).await?;
        let writer = self.writer.clone();
        let opening = stream::iter([CaptionEvent::Writer {
            name: writer.name().to_owned(),
        }]);
        let captions = stream::iter(jobs)
            .map(move |job| caption(writer.clone(), job))
            .flatten_unordered(None);
        Ok(opening.chain(captions).boxed())
    }

    async fn jobs(&self, owner: UserId, request: &CaptionRequest) -> Result<Vec<Job>, Error> {
        if request.connection_ids.is_empty() {
            return Err(ApiError::validation(
                "connection_ids",
                "Choose at least one account to write for.",
            )
            .into());
        }
        if request.media_ids.len() > MAX_PHOTOS {
            return Err(ApiError::validation(
                "media_ids",
                format!("The Studio writes from up to {MAX_PHOTOS} photos; remove some."),
            )
            .into());
        }
        let rows = media_rows::owned(&self.db, owner, &request.media_ids).await?;
        let mut images = Vec::with_capacity(request.media_ids.len());
        let mut media = Vec::with_capacity(request.media_ids.len());
        for id in &request.media_ids {
            let Some(row) = rows.iter().find(|row| row.id == id.0) else {
                return Err(ApiError::validation(
                    "media_ids",
                    "One of the photos is not in your media library any more.",
                )
                .into());
            };
            if !row.mime.starts_with("image/") {
                return Err(ApiError::validation(
                    "media_ids",
                    "The Studio writes from photos; leave videos to the composer.",
                )
                .into());
            }
            let stored = self.library.store().get(&row.storage_key).await?;
            let mime = row.mime.clone();
            // Decoding and shrinking a photo is CPU work: off the request's thread.
            let (facts, photo) = tokio::task::spawn_blocking(move || prepare(&stored, &mime))
                .await
                .map_err(|error| Error::Storage(std::io::Error::other(error)))?;
            images.push(BriefImage {
                mime: photo.mime,
                bytes: photo.bytes.into(),
                facts,
            });
            media.push(MediaCheck::of(row));
        }
        let mut jobs = Vec::with_capacity(request.connection_ids.len());
        for &connection_id in &request.connection_ids {
            let connection = connection_rows::get(&self.db, owner, connection_id)
                .await?
                .ok_or_else(|| {
                    ApiError::validation(
                        "connection_ids",
                        "One of the accounts is not connected any more.",
                    )
                })?;
            let api = self.registry.get(connection.platform).ok_or_else(|| {
                ApiError::validation(
                    "connection_ids",
                    format!(
                        "{} is not configured on this server.",
                        connection.platform.display_name()
                    ),
                )
            })?;
            let options = TargetOptions::new();
            let rules = CaptionRules::of(
                api.as_ref(),
                &PostCheck {
                    text: "",
                    media: &media,
                    options: &options,
                },
            );
            jobs.push(Job {
                connection_id,
                api,
                media: media.clone(),
                brief: CaptionBrief {
                    platform: connection.platform,
                    tone: request.tone,
                    images: images.clone(),
                    product: None,
                    voice: VoiceContext::default(),
                    rules,
                    note: request.note.clone(),
                    variant: request.variant,
                },
            });
        }
        Ok(jobs)
    }
}

/// Where one account's caption stands.
enum Stage {
    Asking(Arc<dyn CaptionWriter>, Box<Job>),
    Writing(Pieces, String, Box<Job>),
    Over,
}

/// One account's caption: its pieces as they come, then the finished caption or the failure.
fn caption(writer: Arc<dyn CaptionWriter>, job: Job) -> BoxStream<'static, CaptionEvent> {
    stream::unfold(Stage::Asking(writer, Box::new(job)), |stage| async move {
        match stage {
            Stage::Asking(writer, job) => match writer.write(&job.brief).await {
                Ok(pieces) => Some((None, Stage::Writing(pieces, String::new(), job))),
                Err(error) => Some((Some(failed(&job, &error.to_string())), Stage::Over)),
            },
            Stage::Writing(mut pieces, mut written, job) => match pieces.next().await {
                Some(Ok(text)) => {
                    written.push_str(&text);
                    let piece = CaptionEvent::Piece {
                        connection_id: job.connection_id,
                        text,
                    };
                    Some((Some(piece), Stage::Writing(pieces, written, job)))
                }
                Some(Err(error)) => Some((Some(failed(&job, &error.to_string())), Stage::Over)),
                None => Some((Some(finished(&job, &written)), Stage::Over)),
            },
            Stage::Over => None,
        }
    })
    .filter_map(std::future::ready)
    .boxed()
}

fn failed(job: &Job, message: &str) -> CaptionEvent {
    CaptionEvent::Failed {
        connection_id: job.connection_id,
        message: message.to_owned(),
    }
}

/// The written caption held to the platform's limits, and scored.
fn finished(job: &Job, written: &str) -> CaptionEvent {
    let options = TargetOptions::new();
    let post = PostCheck {
        text: "",
        media: &job.media,
        options: &options,
    };
    let length = |text: &str| platform_length(job.api.as_ref(), &post, text);
    let caption = fit(written, &job.brief.rules, &length);
    if caption.trim().is_empty() {
        return failed(job, "The writer gave back no caption. Try again.");
    }
    let limits = CaptionLimits {
        max_hashtags: job.brief.rules.max_hashtags,
        length: &length,
        max_length: job.brief.rules.max_length,
    };
    let score = Voice::default().score(&caption, &limits);
    CaptionEvent::Done {
        connection_id: job.connection_id,
        caption,
        score,
    }
}
