//! Caption writers behind one trait: Google Gemini, any OpenAI-compatible server (Ollama,
//! llama.cpp, vLLM), and the built-in basic writer that needs no key and no network. Each
//! streams the caption's text as it is written; the Studio shows the pieces as they come.

mod basic;
mod error;
mod gemini;
mod openai;
mod sse;

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{Stream, StreamExt};

pub use basic::BasicWriter;
pub use error::WriterError;
pub use gemini::GeminiWriter;
pub use openai::OpenAiCompatWriter;

use app::types::CaptionProvider;

use super::brief::CaptionBrief;

/// The caption as it is written: pieces of text, in order, or the failure that stopped it.
pub type Pieces = Pin<Box<dyn Stream<Item = Result<String, WriterError>> + Send>>;

/// How long a model may stay silent, before its first word or between two, before the Studio
/// gives up on it (a writer can be given another time).
pub const SILENCE: Duration = Duration::from_secs(60);

#[async_trait]
pub trait CaptionWriter: Send + Sync {
    /// Its name, as messages and the Studio show it ("Gemini", "the basic writer").
    fn name(&self) -> &'static str;

    /// Which kind of writer it is, as product analytics counts captions.
    fn provider(&self) -> CaptionProvider;

    /// Starts writing the caption `brief` asks for. A failure before the first word comes here;
    /// one after it comes in the stream.
    async fn write(&self, brief: &CaptionBrief) -> Result<Pieces, WriterError>;

    /// Whether its captions get a second pass by the same rules (the AI rewrite): a model's do;
    /// the basic writer writes by the rules already.
    fn rewrites(&self) -> bool {
        true
    }

    /// The models the server offers, for Settings' "Test connection".
    async fn models(&self) -> Result<Vec<String>, WriterError>;
}

/// The whole caption, once every piece has come.
pub async fn whole(mut pieces: Pieces) -> Result<String, WriterError> {
    let mut text = String::new();
    while let Some(piece) = pieces.next().await {
        text.push_str(&piece?);
    }
    Ok(text)
}

/// What a failed request's transport error means to the person.
fn transport_error(
    writer: &'static str,
    url: &str,
    silence: Duration,
    error: &reqwest::Error,
) -> WriterError {
    if error.is_timeout() {
        WriterError::Timeout {
            writer,
            after: silence,
        }
    } else if error.is_connect() {
        WriterError::Unreachable {
            writer,
            url: url.to_owned(),
        }
    } else {
        WriterError::Unavailable {
            writer,
            detail: "the connection broke off".to_owned(),
        }
    }
}

/// A successful streamed answer as caption pieces: each event's data read by `piece_of`, until
/// the stream ends or an event is `end` (the API's own end mark, if it has one). An answer that
/// is not a stream of events (a proxy's page, a server that ignored `stream`) cannot be read as
/// one; a stream that breaks off is a transport failure.
fn streamed_pieces(
    writer: &'static str,
    response: reqwest::Response,
    silence: Duration,
    end: Option<&'static str>,
    piece_of: fn(&str) -> Result<String, WriterError>,
) -> Result<Pieces, WriterError> {
    let streamed = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    if !streamed {
        return Err(WriterError::Unreadable {
            writer,
            detail: "it was not the stream that was asked for".to_owned(),
        });
    }
    let pieces = sse::data_events(response)
        .take_while(move |event| {
            let ended = matches!((event, end), (Ok(data), Some(end)) if data.trim() == end);
            std::future::ready(!ended)
        })
        .map(move |event| match event {
            Ok(data) => piece_of(&data),
            Err(error) => Err(transport_error(writer, "", silence, &error)),
        });
    Ok(Box::pin(pieces))
}

/// An HTTP client for model servers: it gives up on a server silent for `silence`.
fn client(silence: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(silence)
        .build()
        .expect("a client with timeouts builds")
}

/// Standard base64, as both APIs take photos inline.
fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
