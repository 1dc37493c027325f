//! The Studio's captions for a person: their photos and accounts checked, one brief per account
//! from its platform's rules and their brand voice, their writer asked for each (all at once),
//! a model's caption rewritten once more by the same rules, and every caption held to its
//! platform's limits and put through the authenticity pass before it is handed back. Also the
//! editor's live checks: length, score, proofreading and emoji.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use sea_orm::DatabaseConnection;

use app::types::{
    ApiError, AppEvent, CaptionCheck, CaptionEvent, CaptionRequest, CheckRequest, ConnectionId,
    EmojiPick, RefinePass, TargetOptions, UserId, VoiceAnswer, VoiceRequest, WriterChoice,
};

use super::brief::{
    BriefImage, CaptionBrief, CaptionRules, ProductContext, VoiceContext, platform_length,
};
use super::emoji;
use super::facts::prepare;
use super::fit::fit;
use super::proofread::Proofreader;
use super::settings::{StudioSettingsStore, UserStudio};
use super::voice::{CaptionLimits, Voice};
use super::writers::{BasicWriter, CaptionWriter, GeminiWriter, OpenAiCompatWriter, Pieces, whole};
use crate::analytics::events::ProductEvents;
use crate::config::WriterConfig;
use crate::db::connections as connection_rows;
use crate::db::media as media_rows;
use crate::error::Error;
use crate::media::library::MediaLibrary;
use crate::platforms::{LineBreaks, MediaCheck, PostCheck, Registry, SocialPlatform};

/// The most photos a caption request takes.
pub const MAX_PHOTOS: usize = 10;
/// How many emoji the editor suggests, and the picker shows.
const EMOJI_SUGGESTIONS: usize = 8;
const EMOJI_RESULTS: usize = 64;
/// How much of a product's description goes to the writer: enough to describe it, short
/// enough to leave the prompt to the photos.
const PRODUCT_DESCRIPTION_CHARS: usize = 1_000;

pub struct Studio {
    db: DatabaseConnection,
    registry: Registry,
    library: Arc<MediaLibrary>,
    settings: Arc<StudioSettingsStore>,
    /// The server's writer, for everyone who has not chosen their own.
    writer: Arc<dyn CaptionWriter>,
    events: Arc<ProductEvents>,
}

/// One account's caption to write.
struct Job {
    connection_id: ConnectionId,
    api: Arc<dyn SocialPlatform>,
    media: Vec<MediaCheck>,
    brief: CaptionBrief,
    voice: Arc<Voice>,
}

/// A caption's platform, when the request names an account: its limits and how it counts.
struct PlatformRules {
    api: Option<Arc<dyn SocialPlatform>>,
    rules: CaptionRules,
}

/// Where no account is named: Instagram's and TikTok's length, five hashtags.
const ANY_PLATFORM: CaptionRules = CaptionRules {
    max_length: 2_200,
    unit: "characters",
    max_hashtags: 5,
    fold_at: None,
    line_breaks: LineBreaks::Kept,
};

impl PlatformRules {
    fn length(&self, text: &str) -> usize {
        match &self.api {
            Some(api) => {
                let options = TargetOptions::new();
                let post = PostCheck {
                    text: "",
                    media: &[],
                    options: &options,
                };
                platform_length(api.as_ref(), &post, text)
            }
            None => text.chars().count(),
        }
    }
}

/// The writer a writer configuration describes: Gemini when it is there, else the
/// OpenAI-compatible server, else the basic writer.
pub fn writer_for(writers: &WriterConfig) -> Arc<dyn CaptionWriter> {
    match (&writers.gemini, &writers.openai) {
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
    }
}

/// A person's rules: the standard lists with their phrases and emoji density.
fn voice_of(user: &UserStudio) -> Voice {
    let mut voice = Voice::with_phrases(&user.voice.avoid, &user.voice.keep);
    voice.emoji = user.emoji_density;
    voice
}

impl Studio {
    pub fn new(
        db: DatabaseConnection,
        registry: Registry,
        library: Arc<MediaLibrary>,
        settings: Arc<StudioSettingsStore>,
        writers: &WriterConfig,
        events: Arc<ProductEvents>,
    ) -> Self {
        Self {
            db,
            registry,
            library,
            settings,
            writer: writer_for(writers),
            events,
        }
    }

    /// The writer `user` chose, or the server's.
    fn writer_of(&self, user: &UserStudio) -> Arc<dyn CaptionWriter> {
        match user.writer_choice {
            WriterChoice::Auto => self.writer.clone(),
            _ => writer_for(&user.writers),
        }
    }

    /// Checks the request, then streams each account's caption as it is written. A request the
    /// person must change is refused before anything is written.
    pub async fn captions(
        &self,
        owner: UserId,
        request: CaptionRequest,
    ) -> Result<BoxStream<'static, CaptionEvent>, Error> {
        let user = self.settings.load(owner).await?;
        let jobs = self.jobs(owner, &request, &user).await?;
        let writer = self.writer_of(&user);
        self.events
            .record_for(
                owner,
                AppEvent::CaptionGenerated {
                    provider: writer.provider(),
                    images: request.media_ids.len(),
                },
            )
            .await;
        let opening = stream::iter([CaptionEvent::Writer {
            name: writer.name().to_owned(),
        }]);
        let captions = stream::iter(jobs)
            .map(move |job| caption(writer.clone(), job))
            .flatten_unordered(None);
        Ok(opening.chain(captions).boxed())
    }

    /// The authenticity pass over a caption, by the person's rules and the named account's
    /// platform (else the limits the request gives, else Instagram's).
    pub async fn voice(&self, owner: UserId, request: VoiceRequest) -> Result<VoiceAnswer, Error> {
        let user = self.settings.load(owner).await?;
        let mut platform = self.platform_rules(owner, request.connection_id).await?;
        if platform.api.is_none() {
            platform.rules.max_hashtags = request.max_hashtags.unwrap_or(ANY_PLATFORM.max_hashtags);
            platform.rules.max_length = request.max_length.unwrap_or(ANY_PLATFORM.max_length);
        }
        // In a block: the limits borrow a closure that is not `Send`, so they must be gone
        // before the count below is awaited.
        let answer = {
            let voice = voice_of(&user);
            let length = |text: &str| platform.length(text);
            let limits = CaptionLimits {
                max_hashtags: platform.rules.max_hashtags,
                length: &length,
                max_length: platform.rules.max_length,
            };
            let pass = voice.pass(&request.text, &limits);
            VoiceAnswer {
                score: voice.score(&request.text, &limits),
                score_after: voice.score(&pass.text, &limits),
                pass,
            }
        };
        self.events
            .record_for(
                owner,
                AppEvent::CaptionRefined {
                    pass: RefinePass::Authenticity,
                },
            )
            .await;
        Ok(answer)
    }

    /// What the editor shows beside a caption as it is typed: its length the platform's way,
    /// its score, the proofreader's flags (never on the person's own words) and emoji for its
    /// words.
    pub async fn check(&self, owner: UserId, request: CheckRequest) -> Result<CaptionCheck, Error> {
        let user = self.settings.load(owner).await?;
        let platform = self.platform_rules(owner, request.connection_id).await?;
        let (score, text_length) = {
            let length = |text: &str| platform.length(text);
            let limits = CaptionLimits {
                max_hashtags: platform.rules.max_hashtags,
                length: &length,
                max_length: platform.rules.max_length,
            };
            (
                voice_of(&user).score(&request.text, &limits),
                length(&request.text),
            )
        };
        // The product's own names are the person's words too.
        let mut words = user.dictionary.clone();
        if let Some(product) = self.product_of(owner, request.product_id).await? {
            words.extend(
                [product.title.as_str(), product.store_name.as_str()]
                    .iter()
                    .flat_map(|name| name.split_whitespace())
                    .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
                    .filter(|word| !word.is_empty()),
            );
        }
        // Proofreading a long caption takes a few milliseconds of CPU: off the request's thread.
        let text = request.text.clone();
        let flags = tokio::task::spawn_blocking(move || Proofreader.check(&text, &words))
            .await
            .map_err(|error| Error::Storage(std::io::Error::other(error)))?;
        let most = user.emoji_density.most();
        Ok(CaptionCheck {
            length: text_length,
            max_length: platform.rules.max_length,
            unit: platform.rules.unit.to_owned(),
            score,
            flags,
            emoji: emoji::suggest(&request.text, EMOJI_SUGGESTIONS),
            emoji_count: emoji::count(&request.text),
            emoji_most: most,
        })
    }

    /// The picker's emoji for `query` (the smileys when it is empty).
    pub fn emoji(&self, query: &str) -> Vec<EmojiPick> {
        emoji::search(query, EMOJI_RESULTS)
    }

    /// Adds `word` to the person's own words, which the proofreader never flags.
    pub async fn add_word(&self, owner: UserId, word: &str) -> Result<(), Error> {
        self.settings.add_word(owner, word).await
    }

    async fn platform_rules(
        &self,
        owner: UserId,
        connection: Option<ConnectionId>,
    ) -> Result<PlatformRules, Error> {
        let Some(id) = connection else {
            return Ok(PlatformRules {
                api: None,
                rules: ANY_PLATFORM,
            });
        };
        let api = self.platform_of(owner, id, "connection_id").await?;
        let options = TargetOptions::new();
        let rules = CaptionRules::of(
            api.as_ref(),
            &PostCheck {
                text: "",
                media: &[],
                options: &options,
            },
        );
        Ok(PlatformRules {
            api: Some(api),
            rules,
        })
    }

    /// The platform of the owner's connection `id`; a missing one is the person's to fix, on
    /// `field`.
    async fn platform_of(
        &self,
        owner: UserId,
        id: ConnectionId,
        field: &str,
    ) -> Result<Arc<dyn SocialPlatform>, Error> {
        let connection = connection_rows::get(&self.db, owner, id)
            .await?
            .ok_or_else(|| {
                ApiError::validation(field, "One of the accounts is not connected any more.")
            })?;
        self.registry.get(connection.platform).ok_or_else(|| {
            ApiError::validation(
                field,
                format!(
                    "{} is not configured on this server.",
                    connection.platform.display_name()
                ),
            )
            .into()
        })
    }

    /// The person's product a request names; an unknown one is refused by name.
    async fn product_of(
        &self,
        owner: UserId,
        id: Option<app::types::ProductId>,
    ) -> Result<Option<app::types::Product>, Error> {
        let Some(id) = id else {
            return Ok(None);
        };
        crate::db::products::get(&self.db, owner, id)
            .await?
            .map(Some)
            .ok_or_else(|| {
                ApiError::validation(
                    "product_id",
                    "That product is not among your stores' products.",
                )
                .into()
            })
    }

    async fn jobs(
        &self,
        owner: UserId,
        request: &CaptionRequest,
        user: &UserStudio,
    ) -> Result<Vec<Job>, Error> {
        let voice = Arc::new(voice_of(user));
        let product = self
            .product_of(owner, request.product_id)
            .await?
            .map(|product| ProductContext {
                description: Some(
                    product
                        .description
                        .chars()
                        .take(PRODUCT_DESCRIPTION_CHARS)
                        .collect(),
                )
                .filter(|description: &String| !description.is_empty()),
                price: Some(product.price.clone()),
                url: product.url.clone(),
                tags: product.tags.clone(),
                title: product.title,
            });
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
            let api = self
                .platform_of(owner, connection_id, "connection_ids")
                .await?;
            let connection_platform = api.platform();
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
                    platform: connection_platform,
                    tone: request.tone,
                    images: images.clone(),
                    product: product.clone(),
                    voice: VoiceContext {
                        samples: user.voice.samples.clone(),
                        avoid: user.voice.avoid.clone(),
                        keep: user.voice.keep.clone(),
                    },
                    rules,
                    note: request.note.clone(),
                    variant: request.variant,
                    draft: None,
                },
                voice: voice.clone(),
            });
        }
        Ok(jobs)
    }
}

/// Where one account's caption stands.
enum Stage {
    Asking(Arc<dyn CaptionWriter>, Box<Job>),
    Writing(Arc<dyn CaptionWriter>, Pieces, String, Box<Job>),
    Over,
}

/// One account's caption: its pieces as they come, then the finished caption or the failure.
fn caption(writer: Arc<dyn CaptionWriter>, job: Job) -> BoxStream<'static, CaptionEvent> {
    stream::unfold(Stage::Asking(writer, Box::new(job)), |stage| async move {
        match stage {
            Stage::Asking(writer, job) => match writer.write(&job.brief).await {
                Ok(pieces) => Some((None, Stage::Writing(writer, pieces, String::new(), job))),
                Err(error) => Some((Some(failed(&job, &error.to_string())), Stage::Over)),
            },
            Stage::Writing(writer, mut pieces, mut written, job) => match pieces.next().await {
                Some(Ok(text)) => {
                    written.push_str(&text);
                    let piece = CaptionEvent::Piece {
                        connection_id: job.connection_id,
                        text,
                    };
                    Some((Some(piece), Stage::Writing(writer, pieces, written, job)))
                }
                Some(Err(error)) => Some((Some(failed(&job, &error.to_string())), Stage::Over)),
                None => Some((
                    Some(finished(writer.as_ref(), &job, &written).await),
                    Stage::Over,
                )),
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

/// The written caption held to the platform's limits; a model's rewritten once by the same
/// rules; then the authenticity pass over it, and its score.
async fn finished(writer: &dyn CaptionWriter, job: &Job, written: &str) -> CaptionEvent {
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
    let rewritten = match writer.rewrites() {
        true => rewrite(writer, job, &caption)
            .await
            .map(|text| fit(&text, &job.brief.rules, &length))
            .filter(|text| !text.trim().is_empty()),
        false => None,
    };
    let limits = CaptionLimits {
        max_hashtags: job.brief.rules.max_hashtags,
        length: &length,
        max_length: job.brief.rules.max_length,
    };
    let pass = job
        .voice
        .pass_after(&caption, rewritten.as_deref(), &limits);
    let score = job.voice.score(&pass.text, &limits);
    CaptionEvent::Done {
        connection_id: job.connection_id,
        caption: pass.text.clone(),
        pass,
        score,
    }
}

/// The model's caption, rewritten by the model by the same rules. The rewrite improves a
/// caption already there, so when it fails the caption stands as it was.
async fn rewrite(writer: &dyn CaptionWriter, job: &Job, caption: &str) -> Option<String> {
    let brief = CaptionBrief {
        images: Vec::new(),
        draft: Some(caption.to_owned()),
        ..job.brief.clone()
    };
    let pieces = writer.write(&brief).await.ok()?;
    whole(pieces).await.ok()
}
