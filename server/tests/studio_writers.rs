//! The caption writers against the fakes of Gemini and of an OpenAI-compatible server on
//! 127.0.0.1: the prompt each sends (photos attached, the platform's limits in the words), the
//! caption streamed back in pieces, every failure class sorted into a message a person can act
//! on, and a model that ignores the limit still giving a caption that keeps it.

use std::io::Cursor;
use std::time::Duration;

use secrecy::SecretString;

use app::types::{Platform, Tone};
use server::sandbox::gemini::{self, BlockReason, BlockedFinish, GeminiFailure, GeminiFake};
use server::sandbox::kit::script::Failure;
use server::sandbox::openai_compat::{self, OpenAiCompatFailure, OpenAiCompatFake};
use server::studio::brief::{BriefImage, CaptionBrief, CaptionRules, ImageFacts, VoiceContext};
use server::studio::fit::fit;
use server::studio::writers::{
    BasicWriter, CaptionWriter, GeminiWriter, OpenAiCompatWriter, WriterError, whole,
};

const GEMINI_KEY: &str = "AIza-sandbox";
const SERVER_KEY: &str = "sk-sandbox";
const MODEL: &str = "gemini-2.5-flash";

fn png(shade: u8) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(8, 8, image::Rgb([shade, 40, 120]));
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

fn brief(max_length: usize) -> CaptionBrief {
    CaptionBrief {
        platform: Platform::X,
        tone: Tone::Friendly,
        images: (0..3)
            .map(|shade| BriefImage {
                mime: "image/png".into(),
                bytes: png(shade * 60).into(),
                facts: ImageFacts::default(),
            })
            .collect(),
        product: None,
        voice: VoiceContext::default(),
        rules: CaptionRules {
            max_length,
            unit: "characters",
            max_hashtags: 2,
            fold_at: None,
            line_breaks: server::platforms::LineBreaks::Kept,
        },
        note: Some("new spring glazes".into()),
        variant: 0,
        draft: None,
    }
}

async fn gemini() -> (GeminiFake, GeminiWriter) {
    let fake = GeminiFake::new(GEMINI_KEY);
    let (addr, _server) = server::sandbox::serve(fake.router()).await.unwrap();
    let writer = GeminiWriter::new(
        &format!("http://{addr}"),
        MODEL,
        GEMINI_KEY.to_owned().into(),
    );
    (fake, writer)
}

async fn model_server(key: Option<&str>) -> (OpenAiCompatFake, String) {
    let fake = OpenAiCompatFake::new(key);
    let (addr, _server) = server::sandbox::serve(fake.router()).await.unwrap();
    (fake, format!("http://{addr}/v1"))
}

/// Whether a failure is of the kind a case expects.
type Expected = fn(&WriterError) -> bool;

/// The caption, or the first failure, in or before the stream.
async fn written(writer: &dyn CaptionWriter, brief: &CaptionBrief) -> Result<String, WriterError> {
    whole(writer.write(brief).await?).await
}

#[tokio::test]
async fn gemini_is_sent_the_photos_and_the_limits_and_streams_the_caption() {
    let (fake, writer) = gemini().await;
    fake.set_reply(Some(
        "Spring glazes are out of the kiln. Twelve mugs, all blue.".into(),
    ));
    let mut pieces = writer.write(&brief(280)).await.unwrap();
    let mut received = Vec::new();
    while let Some(piece) = futures_util::StreamExt::next(&mut pieces).await {
        received.push(piece.unwrap());
    }
    assert!(received.len() > 1, "streamed in pieces: {received:?}");
    assert_eq!(
        received.concat(),
        "Spring glazes are out of the kiln. Twelve mugs, all blue."
    );
    let asked = &fake.requests()[0];
    assert!(asked.streamed);
    assert_eq!(asked.model, MODEL);
    assert_eq!(asked.image_count(), 3);
    assert!(
        asked
            .images
            .iter()
            .all(|image| image.mime_type == "image/png")
    );
    let system = asked.system_text.as_deref().unwrap();
    assert!(system.contains("Write one caption for X."), "{system}");
    assert!(system.contains("at most 280 characters"), "{system}");
    assert!(system.contains("at most 2 hashtags"), "{system}");
    assert!(
        asked.user_texts[0].contains("the 3 attached photos"),
        "{asked:?}"
    );
    assert!(
        asked.user_texts[0].contains("new spring glazes"),
        "{asked:?}"
    );
}

#[tokio::test]
async fn each_gemini_failure_says_what_to_do() {
    let cases: Vec<(GeminiFailure, Expected, &str)> = vec![
        (
            Failure::RateLimited { reset_in_secs: 27 }.into(),
            |error| matches!(error, WriterError::RateLimited { wait: Some(wait), .. } if *wait == Duration::from_secs(27)),
            "it asks to wait 27 s",
        ),
        (
            GeminiFailure::DailyQuota,
            |error| matches!(error, WriterError::DailyQuota { .. }),
            "the basic writer still works",
        ),
        (
            Failure::ServerError(503).into(),
            |error| matches!(error, WriterError::Unavailable { .. }),
            "Try again in a minute.",
        ),
        (
            GeminiFailure::Internal,
            |error| matches!(error, WriterError::Unavailable { .. }),
            "Try again in a minute.",
        ),
        (
            GeminiFailure::PromptBlocked(BlockReason::Safety),
            |error| matches!(error, WriterError::Blocked { .. }),
            "would not write about these photos",
        ),
        (
            GeminiFailure::AnswerBlocked(BlockedFinish::Recitation),
            |error| matches!(error, WriterError::Blocked { .. }),
            "RECITATION",
        ),
        (
            GeminiFailure::Malformed,
            |error| matches!(error, WriterError::Unreadable { .. }),
            "could not be read",
        ),
        (
            Failure::CreatedThenDropped.into(),
            |error| {
                matches!(
                    error,
                    WriterError::Unavailable { .. } | WriterError::Unreadable { .. }
                )
            },
            "Try again",
        ),
    ];
    let (fake, writer) = gemini().await;
    for (failure, expected, says) in cases {
        let shown = format!("{failure:?}");
        fake.fail_next(gemini::Endpoint::Stream, [failure]);
        let error = written(&writer, &brief(280)).await.unwrap_err();
        assert!(expected(&error), "{shown}: {error:?}");
        assert!(error.to_string().contains(says), "{shown}: {error}");
    }
}

#[tokio::test]
async fn a_wrong_key_an_unknown_model_and_a_silent_server_are_told_apart() {
    let (fake, writer) = gemini().await;
    let base = writer_base(&fake).await;
    let wrong_key = GeminiWriter::new(&base, MODEL, "AIza-wrong".to_owned().into());
    let error = written(&wrong_key, &brief(280)).await.unwrap_err();
    assert!(matches!(error, WriterError::BadKey { .. }), "{error:?}");
    assert!(
        error.to_string().ends_with("Check the key in Settings."),
        "{error}"
    );

    let no_model = GeminiWriter::new(&base, "gemini-9", GEMINI_KEY.to_owned().into());
    let error = written(&no_model, &brief(280)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Gemini has no model called \"gemini-9\". Pick one of its models in Settings."
    );

    fake.fail_next(
        gemini::Endpoint::Stream,
        [Failure::Slow(Duration::from_secs(3))],
    );
    let impatient = GeminiWriter::new(&base, MODEL, GEMINI_KEY.to_owned().into())
        .silent_after(Duration::from_millis(500));
    let error = written(&impatient, &brief(280)).await.unwrap_err();
    assert!(matches!(error, WriterError::Timeout { .. }), "{error:?}");
    drop(writer);

    let nobody = GeminiWriter::new("http://127.0.0.1:9", MODEL, GEMINI_KEY.to_owned().into());
    let error = written(&nobody, &brief(280)).await.unwrap_err();
    assert!(
        matches!(error, WriterError::Unreachable { .. }),
        "{error:?}"
    );
}

/// Serves the same fake again, for writers built with other settings.
async fn writer_base(fake: &GeminiFake) -> String {
    let (addr, _server) = server::sandbox::serve(fake.router()).await.unwrap();
    format!("http://{addr}")
}

#[tokio::test]
async fn gemini_lists_its_models_for_the_connection_test() {
    let (fake, writer) = gemini().await;
    fake.add_model("gemini-2.5-pro");
    assert_eq!(
        writer.models().await.unwrap(),
        ["gemini-2.5-flash", "gemini-2.5-pro"]
    );
}

#[tokio::test]
async fn a_model_server_is_sent_the_photos_as_data_urls_and_streams_the_caption() {
    let (fake, base) = model_server(Some(SERVER_KEY)).await;
    fake.set_reply(Some("Spring glazes, out of the kiln today.".into()));
    let writer = OpenAiCompatWriter::new(&base, "llava", Some(SecretString::from(SERVER_KEY)));
    assert_eq!(
        written(&writer, &brief(280)).await.unwrap(),
        "Spring glazes, out of the kiln today."
    );
    let asked = &fake.requests()[0];
    assert!(asked.stream);
    assert_eq!(asked.model, "llava");
    assert_eq!(asked.image_count(), 3);
    assert!(
        asked
            .system_text
            .as_deref()
            .is_some_and(|system| system.contains("at most 280 characters"))
    );
    assert_eq!(writer.models().await.unwrap(), ["llava"]);
}

#[tokio::test]
async fn each_model_server_failure_says_what_to_do() {
    let (fake, base) = model_server(Some(SERVER_KEY)).await;
    let writer = OpenAiCompatWriter::new(&base, "llava", Some(SecretString::from(SERVER_KEY)));
    let cases: Vec<(OpenAiCompatFailure, Expected)> = vec![
        (
            Failure::RateLimited { reset_in_secs: 9 }.into(),
            |error| matches!(error, WriterError::RateLimited { wait: Some(wait), .. } if *wait == Duration::from_secs(9)),
        ),
        (Failure::ServerError(503).into(), |error| {
            matches!(error, WriterError::Unavailable { .. })
        }),
        (OpenAiCompatFailure::Malformed, |error| {
            matches!(error, WriterError::Unreadable { .. })
        }),
    ];
    for (failure, expected) in cases {
        let shown = format!("{failure:?}");
        fake.fail_next(openai_compat::Endpoint::ChatCompletions, [failure]);
        let error = written(&writer, &brief(280)).await.unwrap_err();
        assert!(expected(&error), "{shown}: {error:?}");
    }

    let keyless = OpenAiCompatWriter::new(&base, "llava", None);
    let error = written(&keyless, &brief(280)).await.unwrap_err();
    assert!(matches!(error, WriterError::BadKey { .. }), "{error:?}");
    let unknown = OpenAiCompatWriter::new(&base, "llama9", Some(SecretString::from(SERVER_KEY)));
    let error = written(&unknown, &brief(280)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "The model server has no model called \"llama9\". Pick one of its models in Settings."
    );
}

#[tokio::test]
async fn a_server_without_a_key_takes_requests_without_one() {
    let (fake, base) = model_server(None).await;
    fake.set_models(["llama3.2-vision"]);
    let writer = OpenAiCompatWriter::new(&base, "llama3.2-vision", None);
    assert!(
        written(&writer, &brief(280))
            .await
            .unwrap()
            .starts_with("Sandbox caption for 3 images")
    );
    assert_eq!(writer.models().await.unwrap(), ["llama3.2-vision"]);
}

#[tokio::test]
async fn a_model_that_ignores_the_limit_still_gives_a_caption_that_keeps_it() {
    let (fake, writer) = gemini().await;
    let rambling = "Spring glazes are here. ".repeat(30) + "\n\n#mugs #pottery #blue #spring";
    fake.set_reply(Some(format!("Caption: \"{rambling}\"")));
    let written = written(&writer, &brief(120)).await.unwrap();
    assert!(written.chars().count() > 120);
    let count = |text: &str| text.chars().count();
    let fitted = fit(&written, &brief(120).rules, &count);
    assert!(count(&fitted) <= 120, "{fitted}");
    assert!(fitted.starts_with("Spring glazes are here."), "{fitted}");
    assert!(fitted.ends_with("\n\n#mugs #pottery"), "{fitted}");
}

#[tokio::test]
async fn the_basic_writer_needs_no_key_and_no_network() {
    let written = written(&BasicWriter, &brief(280)).await.unwrap();
    assert!(!written.is_empty());
    assert!(
        written.contains("New spring glazes."),
        "the note is used: {written}"
    );
    assert_eq!(BasicWriter.models().await.unwrap(), ["basic"]);
}
